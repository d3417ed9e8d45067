import { stat } from 'node:fs/promises';
import { MmaerecError } from '../errors.js';
import type { EngineMetadata } from './metadata.js';
import { sha256File } from '../util/sha256.js';

/** What the loading side knows: the bundle in hand, the GPU in the machine, the TensorRT library loaded. */
export interface EngineEnvironment {
  bundle: { dir: string; sha256: string; width: number; height: number };
  gpu: { name: string; computeCapability: string };
  tensorrtVersion: string;
}

/** The command that makes a fresh engine for this bundle (quoted in every refusal). */
export function rebuildHint(bundleDir: string, planPath: string): string {
  return `rebuild it on this device with \`npx mmaerec-edge build-engine --model ${bundleDir} --out ${planPath}\``;
}

/**
 * Refuses an engine whose metadata does not match the bundle, the GPU or the TensorRT version. The first mismatch
 * wins; every message names both sides and says to rebuild. Pure: the caller supplies both sides.
 */
export function checkEngineMetadata(meta: EngineMetadata, env: EngineEnvironment, planPath: string): void {
  const fix = rebuildHint(env.bundle.dir, planPath);
  const refuse = (what: string) => {
    throw new MmaerecError('E_ENGINE', `engine ${planPath} ${what}: ${fix}`);
  };
  if (meta.bundle.sha256 !== env.bundle.sha256) {
    refuse(`was built from bundle ${meta.bundle.sha256.slice(0, 12)} ("${meta.bundle.name}"), not from the bundle in ${env.bundle.dir} (${env.bundle.sha256.slice(0, 12)})`);
  }
  const [, , h, w] = meta.inputs.image;
  if (w !== env.bundle.width || h !== env.bundle.height) {
    refuse(`takes ${w}x${h} images but the bundle's input is ${env.bundle.width}x${env.bundle.height}`);
  }
  if (meta.tensorrt.version !== env.tensorrtVersion) {
    refuse(`was built with TensorRT ${meta.tensorrt.version} but this machine has TensorRT ${env.tensorrtVersion} (plans are not portable between versions)`);
  }
  if (meta.gpu.computeCapability !== env.gpu.computeCapability) {
    refuse(`was built for compute capability ${meta.gpu.computeCapability} (${meta.gpu.name}) but this GPU is ${env.gpu.name} with compute capability ${env.gpu.computeCapability}`);
  }
  if (meta.gpu.name !== env.gpu.name) {
    // Same compute capability, different model (e.g. Orin NX vs AGX Orin): TensorRT picked tactics for the other one.
    refuse(`was built on a ${meta.gpu.name} but this GPU is a ${env.gpu.name} (tactics are tuned per GPU model)`);
  }
}

/** Checks the plan file against the size and sha256 recorded at build time (catches truncated copies and swaps). */
export async function checkPlanFile(meta: EngineMetadata, env: EngineEnvironment, planPath: string): Promise<void> {
  const fix = rebuildHint(env.bundle.dir, planPath);
  let bytes: number;
  try {
    bytes = (await stat(planPath)).size;
  } catch {
    throw new MmaerecError('E_ENGINE', `engine ${planPath} is missing (its metadata is there): ${fix}`);
  }
  if (bytes !== meta.plan.bytes) {
    throw new MmaerecError('E_ENGINE', `engine ${planPath} has ${bytes} bytes but its metadata says ${meta.plan.bytes} (partial copy or replaced): ${fix}`);
  }
  if ((await sha256File(planPath)) !== meta.plan.sha256) {
    throw new MmaerecError('E_ENGINE', `engine ${planPath} does not match the sha256 in its metadata (replaced or corrupted): ${fix}`);
  }
}

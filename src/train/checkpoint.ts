/**
 * Checkpoints: everything a resumed run needs to continue exactly as the uninterrupted run would have.
 * Layout (a folder, replaced atomically by renaming a fully written temporary folder):
 *   checkpoint/state.json            step, total steps, data order, RNG state, options, loss history, elapsed
 *   checkpoint/weights.safetensors   every network tensor (parameters and BatchNorm running statistics)
 *   checkpoint/optimizer.safetensors Adam's first and second moments per trainable tensor ("m:<name>", "v:<name>")
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MmaerecError } from '../errors.js';
import type { WeightMap } from '../model/init.js';
import { parseSafetensors, serializeSafetensors, toFloat32, type FloatTensor } from '../model/safetensors.js';
import type { RngState } from './rng.js';

export const CHECKPOINT_DIR = 'checkpoint';
export const CHECKPOINT_FORMAT = 'mmaerec-train-checkpoint/1';

export interface DataOrderState {
  epoch: number;
  /** Position within the current epoch's permutation. */
  position: number;
  permutation: number[];
}

export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  /** Steps completed. */
  step: number;
  totalSteps: number;
  rng: RngState;
  order: DataOrderState;
  /** Adam's step counter (bias correction). */
  optimizerIterations: number;
  /** The options of the run that wrote it, compared on resume (a different run must not silently continue). */
  fingerprint: Record<string, unknown>;
  /** Data folder digest, compared on resume. */
  dataDigest: string;
  elapsedMs: number;
  /** Mean loss terms per logged window, for the learning curve. */
  history: { step: number; total: number; l2: number; ssim: number; entropy: number; elapsedMs: number }[];
}

export interface Checkpoint {
  state: CheckpointState;
  weights: WeightMap;
  /** Keyed "m:<name>" and "v:<name>". */
  moments: Map<string, FloatTensor>;
}

function readTensors(bytes: Uint8Array, source: string): Map<string, FloatTensor> {
  // a plain Uint8Array, not a Buffer: Buffer#slice is a view, and toFloat32 relies on slice() copying
  const file = parseSafetensors(new Uint8Array(bytes), source);
  const out = new Map<string, FloatTensor>();
  for (const [name, t] of file.tensors) out.set(name, { shape: t.shape, data: toFloat32(t, name) });
  return out;
}

/** Writes the checkpoint into `<outDir>/checkpoint` atomically (a crash mid-write keeps the previous one). */
export async function saveCheckpoint(outDir: string, ckpt: Checkpoint): Promise<void> {
  const final = join(outDir, CHECKPOINT_DIR);
  const tmp = join(outDir, `${CHECKPOINT_DIR}.tmp`);
  const old = join(outDir, `${CHECKPOINT_DIR}.old`);
  try {
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, 'weights.safetensors'), serializeSafetensors(ckpt.weights, { format: 'pt' }));
    await writeFile(join(tmp, 'optimizer.safetensors'), serializeSafetensors(ckpt.moments));
    await writeFile(join(tmp, 'state.json'), JSON.stringify(ckpt.state) + '\n');
    await rm(old, { recursive: true, force: true });
    await rename(final, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(tmp, final);
    await rm(old, { recursive: true, force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const fix = code === 'ENOSPC' ? 'free disk space and resume with --resume' : 'check that the output folder is writable, then resume with --resume';
    throw new MmaerecError('E_IO', `cannot write checkpoint in ${outDir} (${code ?? (err as Error).message}): ${fix}`, { cause: err });
  }
}

/** Reads `<outDir>/checkpoint`; undefined when there is none. */
export async function loadCheckpoint(outDir: string): Promise<Checkpoint | undefined> {
  const dir = join(outDir, CHECKPOINT_DIR);
  let stateText: string;
  try {
    stateText = await readFile(join(dir, 'state.json'), 'utf8');
  } catch {
    return undefined;
  }
  let state: CheckpointState;
  try {
    state = JSON.parse(stateText) as CheckpointState;
  } catch {
    throw new MmaerecError('E_IO', `checkpoint ${dir}/state.json is not valid JSON: delete ${dir} and train without --resume`);
  }
  if (state.format !== CHECKPOINT_FORMAT) {
    throw new MmaerecError('E_IO', `checkpoint ${dir} has format ${JSON.stringify(state.format)}, expected ${CHECKPOINT_FORMAT}: delete it and train without --resume`);
  }
  const weights = readTensors(await readFile(join(dir, 'weights.safetensors')), `${dir}/weights.safetensors`);
  const moments = readTensors(await readFile(join(dir, 'optimizer.safetensors')), `${dir}/optimizer.safetensors`);
  return { state, weights, moments };
}

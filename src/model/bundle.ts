import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TilingSpec } from '../preprocess/tiles.js';
import { MmaerecError } from '../errors.js';
import { jsonParseReason } from '../util/printable.js';
import { sha256File } from '../util/sha256.js';
import { parseModelConfig, type ModelConfig } from './config.js';
import { checkWeights, initWeights, type WeightMap } from './init.js';
import { BUNDLE_FORMAT, manifestSchema, scoringSchema, type FeatureFusion, type Manifest, type PositionNorm, type ScoringOptions, type Thresholds } from './manifest.js';
import { backboneNormalization } from './backbone.js';
import { buildNetwork } from './network.js';
import { writeOnnx } from './onnx-writer.js';
import { readSafetensors, serializeSafetensors, toFloat32 } from './safetensors.js';

export const MANIFEST_FILE = 'manifest.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const ONNX_FILE = 'model.onnx';
/** The INT8 variant written by `mmaerec-edge quantize`. */
export const INT8_ONNX_FILE = 'model.int8.onnx';

/** A bundle whose manifest validated and whose files matched their recorded sha256. */
export interface LoadedBundle {
  dir: string;
  manifest: Manifest;
  /** sha256 of the manifest.json bytes: identifies the bundle in results and events. */
  sha256: string;
  /** `int8Onnx`: the INT8 variant (manifest variants.int8), when the bundle has one. */
  paths: { manifest: string; weights: string; onnx: string; int8Onnx?: string };
  /** The validated network config (manifest.config). */
  config: ModelConfig;
}

/** A bundle in memory, before writing. */
export interface BundleContents {
  manifest: Omit<Manifest, 'files'>;
  weights: WeightMap;
  onnx: Uint8Array;
  /** Things the user should know (e.g. a random backbone). */
  warnings: string[];
}

export interface CreateBundleOptions {
  config: ModelConfig;
  /** Weights to use (e.g. from training); tensors not given are initialised. */
  weights?: WeightMap;
  /** Whether `weights` holds a pretrained backbone; set by import-backbone / training. */
  backboneSource?: string;
  /** Licence and attribution of pretrained backbone weights (import-backbone's record): provenance.backboneWeights. */
  backboneAttribution?: Record<string, unknown>;
  seed?: number;
  name?: string;
  scoring?: Partial<ScoringOptions>;
  thresholds?: Thresholds;
  /** Tiled inspection (manifest input.tiling; preprocess/tiles.ts): absent = the ROI is stretched to the input. */
  tiling?: TilingSpec;
  /** A feature bank's fusion into the map (manifest featureFusion); only with config.featureBank. */
  featureFusion?: FeatureFusion;
  /** Per-position normalisation of the map (manifest positionNorm; score/position-norm.ts). */
  positionNorm?: PositionNorm;
  provenance?: Record<string, unknown>;
}

/** Default thresholds before calibration: they flag nothing useful, and their `source` says so. */
export const UNCALIBRATED: Thresholds = { image: 0.5, pixel: 0.5, source: 'default (uncalibrated): run calibrate' };

/** Builds weights (given or initialised), the ONNX model and the manifest for `config`. */
export async function createBundle(options: CreateBundleOptions): Promise<BundleContents> {
  const config = parseModelConfig(options.config);
  const graph = buildNetwork(config);
  const seed = options.seed ?? 0;
  const given = options.weights ?? new Map();
  const wrongShape = checkWeights(graph, given).filter((p) => !p.startsWith('missing'));
  if (wrongShape.length) {
    throw new MmaerecError('E_MODEL', `weights do not fit the config: ${wrongShape[0]} (${wrongShape.length} problem(s)): use weights made for this config`);
  }
  const weights = initWeights(graph, seed, given);
  if (options.featureFusion && !config.featureBank) {
    throw new MmaerecError('E_MODEL', 'a featureFusion was given for a network without a feature bank: add model.featureBank to the config or drop the fusion');
  }
  const warnings: string[] = [];
  const backboneGiven = graph.params.filter((p) => p.name.startsWith('backbone.')).every((p) => given.has(p.name));
  if (!backboneGiven) {
    warnings.push(
      `the ${config.backbone.arch} backbone is randomly initialised (no ImageNet weights): pass --backbone <torchvision .safetensors> (see import-backbone) for the paper's frozen pretrained features`,
    );
  }
  const version = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
  const onnx = writeOnnx(graph, weights, { inputSize: config.inputSize, producerVersion: version });
  const manifest: Omit<Manifest, 'files'> = {
    format: BUNDLE_FORMAT,
    name: options.name ?? `mmaerec-${config.backbone.arch}-${config.inputSize}`,
    createdAt: new Date().toISOString(),
    config: config as unknown as Record<string, unknown>,
    input: {
      width: config.inputSize, height: config.inputSize, colorOrder: 'rgb', ...backboneNormalization(config.backbone.arch),
      ...(options.tiling ? { tiling: options.tiling } : {}),
    },
    scoring: scoringSchema.parse(options.scoring ?? {}),
    ...(options.featureFusion ? { featureFusion: options.featureFusion } : {}),
    ...(options.positionNorm ? { positionNorm: options.positionNorm } : {}),
    thresholds: options.thresholds ?? UNCALIBRATED,
    provenance: {
      producer: `mmaerec-edge ${version}`,
      seed,
      backbone: backboneGiven ? (options.backboneSource ?? 'given') : 'random',
      ...(backboneGiven && options.backboneAttribution ? { backboneWeights: options.backboneAttribution } : {}),
      ...options.provenance,
    },
  };
  return { manifest, weights, onnx, warnings };
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes the bundle files (manifest last, so that a partial write is never a valid bundle) and loads it back. */
export async function writeBundle(dir: string, contents: BundleContents): Promise<LoadedBundle> {
  const root = resolve(dir);
  try {
    await mkdir(root, { recursive: true });
    const weightBytes = serializeSafetensors(contents.weights, { format: 'pt', producer: 'mmaerec-edge' });
    await writeFile(join(root, WEIGHTS_FILE), weightBytes);
    await writeFile(join(root, ONNX_FILE), contents.onnx);
    const manifest: Manifest = {
      ...contents.manifest,
      files: {
        [WEIGHTS_FILE]: { sha256: sha256Of(weightBytes), bytes: weightBytes.byteLength },
        [ONNX_FILE]: { sha256: sha256Of(contents.onnx), bytes: contents.onnx.byteLength },
      },
    };
    await writeManifestFile(root, manifest);
  } catch (err) {
    if (err instanceof MmaerecError) throw err;
    throw new MmaerecError('E_IO', `cannot write bundle ${root} (${(err as Error).message}): check the path and free space`, { cause: err });
  }
  return loadBundle(root);
}

/**
 * Writes `<dir>/manifest.json` atomically (a temporary file renamed over it), so that a reader never sees a
 * half-written manifest. Throws the file system's error; callers wrap it with their own fix.
 */
export async function writeManifestFile(dir: string, manifest: Manifest): Promise<void> {
  const path = join(dir, MANIFEST_FILE);
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
  await rename(tmp, path);
}

/** Loads a bundle: validates the manifest (zod) and the network config, and checks every file's size and sha256. */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  const root = resolve(dir);
  const manifestPath = join(root, MANIFEST_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(manifestPath);
  } catch {
    throw new MmaerecError('E_BUNDLE', `${manifestPath} is missing: pass a bundle directory made by "mmaerec-edge create" or "train"`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new MmaerecError('E_BUNDLE', `${manifestPath} is not valid JSON (${jsonParseReason(err)}): restore the file from the original bundle`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.join('.') || '(root)';
    if (issue.path[0] === 'scoring') {
      // The scoring schema's messages name the value and the valid range; the fix is in the manifest, and the
      // thresholds were calibrated for the scoring the bundle was made with.
      throw new MmaerecError('E_BUNDLE', `${manifestPath}: ${where}: ${oneLine(issue.message)}: set ${where} in manifest.json and recalibrate (mmaerec-edge calibrate), or recreate the bundle`);
    }
    throw new MmaerecError('E_BUNDLE', `${manifestPath}: ${where}: ${oneLine(issue.message)}: restore the manifest or recreate the bundle`);
  }
  const manifest = parsed.data;
  const config = parseModelConfig(manifest.config, `${manifestPath} config`);
  if (manifest.featureFusion && !config.featureBank) {
    throw new MmaerecError('E_BUNDLE', `${manifestPath}: featureFusion is set but config.featureBank is absent (the network has no feature distance output): remove featureFusion, or recreate the bundle`);
  }
  for (const required of [WEIGHTS_FILE, ONNX_FILE]) {
    if (!manifest.files[required]) throw new MmaerecError('E_BUNDLE', `${manifestPath} lists no ${required}: recreate the bundle`);
  }
  for (const [name, entry] of Object.entries(manifest.files)) {
    const path = join(root, name);
    if (resolve(path) !== path || !path.startsWith(root + '/')) {
      throw new MmaerecError('E_BUNDLE', `${manifestPath} lists a file outside the bundle ("${name}"): recreate the bundle`);
    }
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new MmaerecError('E_BUNDLE', `${path} is missing (partial bundle): copy the whole bundle directory`);
    }
    if (size !== entry.bytes) {
      throw new MmaerecError('E_BUNDLE', `${path} has ${size} bytes, the manifest says ${entry.bytes} (partial or tampered): copy the bundle again`);
    }
    if ((await sha256File(path)) !== entry.sha256) {
      throw new MmaerecError('E_BUNDLE', `${path} does not match its sha256 in the manifest (tampered or corrupted): copy the bundle again`);
    }
  }
  return {
    dir: root,
    manifest,
    sha256: sha256Of(bytes),
    paths: {
      manifest: manifestPath, weights: join(root, WEIGHTS_FILE), onnx: join(root, ONNX_FILE),
      ...(manifest.variants?.int8 ? { int8Onnx: join(root, manifest.variants.int8.file) } : {}),
    },
    config,
  };
}

/** The bundle's weights as float32 tensors, checked against its config's network. */
export async function loadBundleWeights(bundle: LoadedBundle): Promise<WeightMap> {
  const file = await readSafetensors(bundle.paths.weights);
  const weights: WeightMap = new Map();
  for (const [name, t] of file.tensors) weights.set(name, { shape: t.shape, data: toFloat32(t, name) });
  const problems = checkWeights(buildNetwork(bundle.config), weights);
  if (problems.length) {
    throw new MmaerecError('E_BUNDLE', `${bundle.paths.weights}: ${problems[0]} (${problems.length} problem(s)): recreate the bundle for its config`);
  }
  return weights;
}

/** A message on one line, without control characters (zod messages can quote manifest strings). */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { MmaerecError } from '../errors.js';
import { MAX_BATCH_LIMIT, PRECISIONS } from './options.js';

/**
 * Engine metadata, written beside the plan (engine.plan.json). A TensorRT plan runs only with the TensorRT version
 * and GPU it was built with, and only means something for the bundle it was built from; loading compares all three
 * (check.ts) and refuses a stale engine with a message that says to rebuild.
 */
export const ENGINE_FORMAT = 'mmaerec-engine/1';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const frames = z.number().int().min(1).max(MAX_BATCH_LIMIT);

/** The engine's optimisation profile over the batch; min is 1 so that a lone frame always runs. */
export const batchRangeSchema = z
  .object({ min: z.literal(1), opt: frames, max: frames })
  .refine((b) => b.opt <= b.max, 'opt must be at most max');

/** Engines built before batch ranges existed were built for one frame per inference. */
export const FIXED_BATCH = { min: 1, opt: 1, max: 1 } as const;

type Range = { min: number; opt: number; max: number };

export function sameBatchRange(a: Range, b: Range): boolean {
  return a.min === b.min && a.opt === b.opt && a.max === b.max;
}

/** "min 1 / opt 4 / max 4", as messages name a range. */
export function batchRangeText(b: Range): string {
  return `min ${b.min} / opt ${b.opt} / max ${b.max}`;
}
const nchw = (channels: number) => z.tuple([z.literal(1), z.literal(channels), z.number().int().positive(), z.number().int().positive()]);

export const engineMetadataSchema = z.object({
  format: z.literal(ENGINE_FORMAT),
  tensorrt: z.object({
    /** libnvinfer that built the plan (must equal the one loading it). */
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'a version like 10.3.0'),
    /** Headers the addon was compiled against (informative). */
    headers: z.string(),
  }),
  gpu: z.object({
    name: z.string().min(1),
    computeCapability: z.string().regex(/^\d+\.\d+$/, 'like 8.7'),
    totalMemoryBytes: z.number().nonnegative(),
  }),
  precision: z.enum(PRECISIONS),
  /** Shapes of ONE frame; `batch` says how many one inference may stack along N. */
  inputs: z.object({ image: nchw(3), edge: nchw(1) }),
  outputs: z.object({ recon: nchw(3) }),
  /** Frames per inference (build-engine --max-batch); absent in metadata written before it existed: 1/1/1. */
  batch: batchRangeSchema.default({ ...FIXED_BATCH }),
  bundle: z.object({ name: z.string(), sha256, onnxSha256: sha256 }),
  plan: z.object({ bytes: z.number().int().positive(), sha256 }),
  workspaceMiB: z.number().int().positive(),
  calibration: z
    .object({
      images: z.number().int().nonnegative(),
      source: z.string(),
      cacheFile: z.string(),
      cacheHit: z.boolean(),
    })
    .nullable(),
  builtAt: z.string().datetime(),
  buildSeconds: z.number().nonnegative(),
  builtBy: z.string(),
});

export type EngineMetadata = z.infer<typeof engineMetadataSchema>;

function engineError(message: string): MmaerecError {
  return new MmaerecError('E_ENGINE', message);
}

/** Reads and validates the metadata file; any problem → E_ENGINE saying to rebuild. */
export async function readEngineMetadata(metadataPath: string, rebuildHint: string): Promise<EngineMetadata> {
  let text: string;
  try {
    text = await readFile(metadataPath, 'utf8');
  } catch {
    throw engineError(`engine metadata ${metadataPath} is missing (the engine cannot be checked against this bundle and GPU): ${rebuildHint}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw engineError(`engine metadata ${metadataPath} is not valid JSON (${(err as Error).message}): ${rebuildHint}`);
  }
  const parsed = engineMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw engineError(`engine metadata ${metadataPath}: ${issue.path.join('.') || '(root)'}: ${issue.message}: ${rebuildHint}`);
  }
  return parsed.data;
}

/** Writes the metadata atomically (temporary file + rename): a reader sees the old or the new file, never half. */
export async function writeEngineMetadata(metadataPath: string, metadata: EngineMetadata): Promise<void> {
  const checked = engineMetadataSchema.parse(metadata);
  const tmp = `${metadataPath}.partial`;
  try {
    await writeFile(tmp, JSON.stringify(checked, null, 2) + '\n');
    await rename(tmp, metadataPath);
  } catch (err) {
    throw new MmaerecError('E_IO', `cannot write ${metadataPath} (${(err as Error).message}): check the directory's permissions and free space`, { cause: err });
  }
}

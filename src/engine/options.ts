import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { MmaerecError } from '../errors.js';

/**
 * Options of `build-engine` / `buildEngine()`, validated once here (CLI flags arrive as strings) and handed
 * to the native builder as a flat, already-checked object.
 */

/** Engine precision as recorded in the metadata: 'int8+fp16' lets TensorRT fall back to FP16 kernels under INT8. */
export const PRECISIONS = ['fp32', 'fp16', 'int8', 'int8+fp16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Default engine file: beside the bundle's files, where the TensorRT back end looks first. */
export const DEFAULT_PLAN_FILE = 'engine.plan';
export const DEFAULT_WORKSPACE_MIB = 1024;
/** Calibration images used at most (TensorRT's guidance: ~500 representative images are enough). */
export const DEFAULT_CALIB_LIMIT = 500;
/** The most frames one engine inference may take (native/tensorrt/batch_range.h kMaxBatchLimit, backend.maxBatch). */
export const MAX_BATCH_LIMIT = 64;

const KNOWN = ['model', 'fp16', 'int8', 'calib', 'calibLimit', 'workspace', 'out', 'device', 'maxBatch'] as const;

/** Accepts numbers, or decimal strings as CLI flags give them. */
const intLike = (name: string, min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: `${name} must be a whole number` })
      .int(`${name} must be a whole number`)
      .min(min, `${name} must be at least ${min}`)
      .max(max, `${name} must be at most ${max}`),
  );

export const buildEngineOptionsSchema = z
  .object({
    model: z.string({ error: '--model <bundle dir> is required' }).min(1, '--model <bundle dir> is required'),
    fp16: z.boolean().default(false),
    int8: z.boolean().default(false),
    calib: z.string().min(1).optional(),
    calibLimit: intLike('--calib-limit', 1, 100_000).default(DEFAULT_CALIB_LIMIT),
    /** TensorRT's builder workspace (scratch memory for tactics), MiB. Jetson Orin Nano has 8 GiB shared. */
    workspace: intLike('--workspace', 16, 1 << 20).default(DEFAULT_WORKSPACE_MIB),
    out: z.string().min(1).optional(),
    device: intLike('--device', 0, 63).default(0),
    /** Frames of several cameras per inference: > 1 builds an optimisation profile min 1 / opt N / max N. */
    maxBatch: intLike('--max-batch', 1, MAX_BATCH_LIMIT).default(1),
  })
  .strict();

export type BuildEngineOptionsInput = z.input<typeof buildEngineOptionsSchema>;

/** Validated and resolved: absolute paths, bytes, the precision label. */
export interface BuildEngineOptions {
  modelDir: string;
  planPath: string;
  metadataPath: string;
  precision: Precision;
  fp16: boolean;
  int8: boolean;
  calibDir?: string;
  calibLimit: number;
  workspaceMiB: number;
  workspaceBytes: number;
  device: number;
  maxBatch: number;
}

/** Metadata lives beside the plan: engine.plan → engine.plan.json. */
export function metadataPathFor(planPath: string): string {
  return `${planPath}.json`;
}

/** Where the TensorRT back end looks for a bundle's engine when none is given. */
export function defaultPlanPath(bundleDir: string): string {
  return join(resolve(bundleDir), DEFAULT_PLAN_FILE);
}

function configError(message: string): MmaerecError {
  return new MmaerecError('E_CONFIG', message);
}

/**
 * Checks and resolves build options. Unknown keys are named (with the likely intended one), and the flag
 * combinations TensorRT cannot honour are refused here, before any bundle is read.
 */
export function parseBuildEngineOptions(raw: Record<string, unknown>): BuildEngineOptions {
  for (const key of Object.keys(raw)) {
    if (raw[key] === undefined) continue;
    if (!(KNOWN as readonly string[]).includes(key)) {
      const near = KNOWN.find((k) => k.toLowerCase() === key.toLowerCase().replace(/[-_]/g, ''));
      throw configError(`unknown build-engine option "${key}"${near ? `: did you mean "${near}"?` : `: use one of ${KNOWN.join(', ')}`}`);
    }
  }
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const parsed = buildEngineOptionsSchema.safeParse(defined);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${String(issue.path[0])}: ` : '';
    throw configError(`build-engine option ${where}${issue.message}: see \`mmaerec-edge build-engine --help\``);
  }
  const o = parsed.data;
  if (o.int8 && !o.calib) {
    throw configError('--int8 needs calibration images: add --calib <dir of good images> (the same kind of images the model was trained on)');
  }
  if (o.calib && !o.int8) {
    throw configError('--calib is only used for INT8 calibration: add --int8, or drop --calib');
  }
  const modelDir = resolve(o.model);
  const planPath = o.out ? resolve(o.out) : defaultPlanPath(modelDir);
  if (planPath.endsWith('.json')) {
    throw configError(`--out ${o.out} ends in .json, which is the metadata file's name: pass the plan path, e.g. ${join(dirname(planPath), DEFAULT_PLAN_FILE)}`);
  }
  const precision: Precision = o.int8 ? (o.fp16 ? 'int8+fp16' : 'int8') : o.fp16 ? 'fp16' : 'fp32';
  return {
    modelDir,
    planPath,
    metadataPath: metadataPathFor(planPath),
    precision,
    fp16: o.fp16,
    int8: o.int8,
    ...(o.calib ? { calibDir: resolve(o.calib) } : {}),
    calibLimit: o.calibLimit,
    workspaceMiB: o.workspace,
    workspaceBytes: o.workspace * 1024 * 1024,
    device: o.device,
    maxBatch: o.maxBatch,
  };
}

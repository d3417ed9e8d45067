import { z } from 'zod';
import { MmaerecError } from '../errors.js';
import { DEFAULT_REPORT_PANEL_BYTES } from './report-panels.js';

/**
 * The eval and calibrate commands' flags, validated once here (zod) so that the commands only wire. Errors
 * name the flag and the fix (E_CONFIG).
 */
const count = (flag: string) =>
  z.coerce.number({ error: `${flag} must be a number` }).int(`${flag} must be a whole number`).positive(`${flag} must be at least 1`);
const num = (flag: string) => z.coerce.number({ error: `${flag} must be a number` }).refine(Number.isFinite, `${flag} must be a finite number`);
const backend = z.enum(['auto', 'onnxruntime', 'tensorrt'], { error: '--backend must be auto, onnxruntime or tensorrt' });
const maskResize = z.enum(['nearest', 'area'], { error: '--mask-resize must be nearest or area' });
const precision = z.enum(['fp32', 'int8'], { error: '--precision must be fp32 or int8 (int8 needs "mmaerec-edge quantize" first)' });

export const evalFlagsSchema = z
  .object({
    model: z.string().min(1).optional(),
    reference: z.enum(['blur'], { error: '--reference must be blur' }).optional(),
    data: z.string({ error: '--data <dir> is required' }).min(1),
    out: z.string({ error: '--out <dir> is required' }).min(1),
    saveMaps: z.boolean().default(false),
    limit: count('--limit').optional(),
    maskResize: maskResize.default('nearest'),
    gallery: z.coerce.number().int().min(0, '--gallery must be 0 or more').default(4),
    fprLimit: num('--fpr-limit').refine((v) => v > 0 && v <= 1, '--fpr-limit must be in (0, 1]').default(0.3),
    backend: backend.default('auto'),
    threads: count('--threads').optional(),
    precision: precision.default('fp32'),
    size: count('--size').refine((v) => v % 16 === 0, '--size must be a multiple of 16').default(256),
    sigma: num('--sigma').refine((v) => v > 0, '--sigma must be positive').default(2),
    concurrency: count('--concurrency').default(2),
    reportMib: num('--report-mib').refine((v) => v >= 0, '--report-mib must be 0 or more (MiB of images report.html embeds)').default(DEFAULT_REPORT_PANEL_BYTES / 2 ** 20),
    scoring: z.string().min(1, '--scoring needs a mapping or a file').optional(),
    json: z.boolean().default(false),
  })
  .refine((f) => (f.model === undefined) !== (f.reference === undefined), { message: 'give exactly one of --model <bundle> and --reference blur' });

export const calibrateFlagsSchema = z.object({
  model: z.string({ error: '--model <bundle> is required' }).min(1),
  data: z.string({ error: '--data <dir> is required' }).min(1),
  rule: z.enum(['false-alarm', 'f1', 'good-percentile'], { error: '--rule must be false-alarm, f1 or good-percentile' }).default('false-alarm'),
  rate: num('--rate').refine((v) => v > 0 && v < 0.5, '--rate must be a fraction in (0, 0.5), e.g. 0.01').default(0.01),
  target: num('--target').default(99.5),
  pixelTarget: num('--pixel-target').default(99.9),
  margin: num('--margin').default(0.1),
  split: z.enum(['test', 'train'], { error: '--split must be test or train' }).default('test'),
  limit: count('--limit').optional(),
  maskResize: maskResize.default('nearest'),
  backend: backend.default('auto'),
  threads: count('--threads').optional(),
  dryRun: z.boolean().default(false),
  json: z.boolean().default(false),
});

export type EvalFlags = z.infer<typeof evalFlagsSchema>;
export type CalibrateFlags = z.infer<typeof calibrateFlagsSchema>;

export function parseFlags<T>(schema: z.ZodType<T>, flags: Record<string, unknown>, command: string): T {
  const parsed = schema.safeParse(flags);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new MmaerecError('E_CONFIG', `${command}: ${issue.message}: see mmaerec-edge ${command} --help`);
}

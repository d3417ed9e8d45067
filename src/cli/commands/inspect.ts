import type { Command } from 'commander';
import { MmaerecError } from '../../errors.js';
import { bundleFrom, modelOption } from '../grammar.js';

function parseRoi(value: string): { x: number; y: number; width: number; height: number } {
  const parts = value.split(',').map(Number);
  if (parts.length !== 4 || parts.some((v) => !Number.isInteger(v) || v < 0) || parts[2] === 0 || parts[3] === 0) {
    throw new MmaerecError('E_CONFIG', `--roi "${value}" is not x,y,width,height: give four integers, e.g. --roi 100,50,512,512`);
  }
  const [x, y, width, height] = parts as [number, number, number, number];
  return { x, y, width, height };
}

function parseNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  // Number('') is 0: an empty value must not become a threshold of 0
  if (value.trim() === '' || !Number.isFinite(n)) throw new MmaerecError('E_CONFIG', `${flag} "${value}" is not a number: give e.g. ${flag} 0.35`);
  return n;
}

/** `mmaerec-edge inspect --model <bundle> <image…>`: wiring only; the work is in src/pipeline/inspect-files.ts. */
export function register(program: Command): void {
  program
    .command('inspect')
    .description('inspect image files once; exit status 0 = all ok, 2 = a defect, 1 = an image could not be inspected')
    .argument('<images...>', 'image files (PNG, JPEG, TIFF, WebP, …); without --model the first is the bundle (the older form)')
    .addOption(modelOption('model bundle directory (required, or as the first argument)', false))
    .option('--heatmaps <dir>', 'write a heatmap overlay per image into this folder')
    .option('--heatmap-format <format>', 'png | jpeg (files <image>.heatmap.png or .jpg)', 'png')
    .option('--heatmap-max-edge <px>', 'longest edge of a heatmap in pixels (larger frames are drawn scaled down)', '1024')
    .option('--json', 'one JSON record per line instead of text')
    .option('--roi <x,y,w,h>', 'region of interest in image pixels')
    .option('--image-threshold <score>', "override the bundle's image threshold")
    .option('--pixel-threshold <value>', "override the bundle's pixel threshold")
    .option('--backend <name>', 'auto | onnxruntime | tensorrt', 'auto')
    .option('--threads <n>', 'inference threads (per session)')
    .option('--precision <p>', "fp32 | int8 (the bundle's INT8 model from mmaerec-edge quantize, ONNX Runtime CPU)", 'fp32')
    .option('--sessions <n>', 'model sessions inferring side by side (ONNX Runtime; 2 with --threads 1 for throughput on 2 cores)')
    .action(async (paths: string[], flags: Record<string, string | boolean | undefined>) => {
      const bundle = bundleFrom('inspect', flags.model as string | undefined, flags.model === undefined ? paths[0] : undefined);
      const images = flags.model === undefined ? paths.slice(1) : paths;
      if (images.length === 0) throw new MmaerecError('E_CONFIG', 'inspect needs image files: pass --model <bundle> <image…>');
      const backend = String(flags.backend);
      if (!['auto', 'onnxruntime', 'tensorrt'].includes(backend)) {
        throw new MmaerecError('E_CONFIG', `--backend "${backend}" is unknown: use auto, onnxruntime or tensorrt`);
      }
      const precision = String(flags.precision);
      if (precision !== 'fp32' && precision !== 'int8') throw new MmaerecError('E_CONFIG', `--precision "${precision}" is unknown: use fp32 or int8 (int8 needs "mmaerec-edge quantize" first)`);
      const format = String(flags.heatmapFormat);
      if (format !== 'png' && format !== 'jpeg') throw new MmaerecError('E_CONFIG', `--heatmap-format "${format}" is unknown: use png or jpeg`);
      const maxEdge = parseNumber('--heatmap-max-edge', flags.heatmapMaxEdge as string | undefined);
      if (maxEdge !== undefined && (!Number.isInteger(maxEdge) || maxEdge < 1 || maxEdge > 16384)) {
        throw new MmaerecError('E_CONFIG', `--heatmap-max-edge ${maxEdge} is not an integer in 1..16384: give e.g. --heatmap-max-edge 1024`);
      }
      const threads = parseNumber('--threads', flags.threads as string | undefined);
      if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new MmaerecError('E_CONFIG', `--threads ${threads} is not a positive integer: give e.g. --threads 2`);
      const sessions = parseNumber('--sessions', flags.sessions as string | undefined);
      if (sessions !== undefined && (!Number.isInteger(sessions) || sessions < 1 || sessions > 16)) throw new MmaerecError('E_CONFIG', `--sessions ${sessions} is not an integer in 1..16: give e.g. --sessions 2`);
      const { inspectFiles } = await import('../../pipeline/inspect-files.js');
      const stats = await inspectFiles({
        bundle,
        images,
        json: !!flags.json,
        heatmapDir: flags.heatmaps as string | undefined,
        heatmapFormat: format,
        heatmapMaxEdge: maxEdge,
        roi: flags.roi ? parseRoi(String(flags.roi)) : undefined,
        thresholds: { image: parseNumber('--image-threshold', flags.imageThreshold as string | undefined), pixel: parseNumber('--pixel-threshold', flags.pixelThreshold as string | undefined) },
        backend: backend as 'auto' | 'onnxruntime' | 'tensorrt',
        threads,
        sessions,
        precision: precision as 'fp32' | 'int8',
      });
      const { scoringEngine, NATIVE_BUILD_FIX } = await import('../../native.js');
      process.stderr.write(`scoring engine: ${scoringEngine()}${scoringEngine() === 'typescript' ? ` (TypeScript fallback, ≈ 5–50× slower: ${NATIVE_BUILD_FIX})` : ''}\n`);
      process.exitCode = stats.errors > 0 ? 1 : stats.defects > 0 ? 2 : 0;
    });
}

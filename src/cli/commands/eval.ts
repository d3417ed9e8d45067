import type { Command } from 'commander';
import { parseFlags, evalFlagsSchema } from '../../eval/cli-options.js';
import { evaluate } from '../../eval/evaluate.js';
import { DEFAULT_REPORT_PANEL_BYTES } from '../../eval/report-panels.js';
import { formatMetrics } from '../../eval/format.js';
import { modelOption } from '../grammar.js';

/** `mmaerec-edge eval`: wiring only; the work is in src/eval/. */
export function register(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model bundle (or the blur reference) on a dataset in MVTec AD layout: metrics, scores, maps, report.html')
    .addOption(modelOption('model bundle directory (or --reference)', false))
    .option('--reference <kind>', 'score without a model: "blur" (reconstruction = input blurred with σ = --sigma)')
    .requiredOption('--data <dir>', 'dataset root (train/good, test/good, test/<defect>, ground_truth/<defect>)')
    .requiredOption('--out <dir>', 'output folder for metrics.json, scores.json, labels.json, report.html')
    .option('--save-maps', 'also write maps/<defect>/<stem>.npy (float32, model resolution)')
    .option('--limit <n>', 'at most n images per test folder (evenly spaced)')
    .option('--mask-resize <rule>', 'mask → map size: nearest | area (area fraction ≥ 0.5)', 'nearest')
    .option('--gallery <n>', 'images per gallery section of the report', '4')
    .option('--fpr-limit <x>', 'AUPRO integration limit', '0.3')
    .option('--backend <name>', 'auto | onnxruntime | tensorrt', 'auto')
    .option('--threads <n>', 'inference threads')
    .option('--precision <p>', "fp32 | int8 (the bundle's INT8 model from mmaerec-edge quantize, ONNX Runtime CPU)", 'fp32')
    .option('--size <px>', 'working size of --reference', '256')
    .option('--sigma <px>', 'blur σ of --reference', '2')
    .option('--concurrency <n>', 'frames in flight', '2')
    .option('--report-mib <n>', `MiB of image panels report.html embeds at most, misses and false alarms first, then the images nearest the threshold (default: ${DEFAULT_REPORT_PANEL_BYTES / 2 ** 20})`)
    .option('--scoring <yaml>', "scoring keys instead of the bundle's, inline ('{shadingWindow: 17, mu: 0.002}') or a YAML/JSON file; thresholds then best-F1")
    .option('--json', 'print metrics.json to stdout instead of the summary')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(evalFlagsSchema, raw, 'eval');
      const scoring = flags.scoring !== undefined ? await (await import('../../eval/scoring-override.js')).readScoringOverride(flags.scoring) : undefined;
      const analyzer = flags.model
        ? await (await import('../../eval/bundle-analyzer.js')).openBundleAnalyzer(flags.model, { backend: flags.backend, precision: flags.precision, ...(flags.threads ? { threads: flags.threads } : {}), ...(scoring ? { scoring } : {}) })
        : (await import('../../eval/reference.js')).blurReference({ size: flags.size, sigma: flags.sigma, ...(scoring ? { scoring } : {}) });
      try {
        const { metrics, files } = await evaluate({
          analyzer, data: flags.data, out: flags.out, saveMaps: flags.saveMaps, maskResize: flags.maskResize, gallery: flags.gallery,
          fprLimit: flags.fprLimit, concurrency: flags.concurrency, reportPanelBytes: flags.reportMib * 2 ** 20, ...(flags.limit ? { limit: flags.limit } : {}),
        });
        const written = files.filter((f) => !f.endsWith('.npy'));
        const maps = files.length - written.length;
        process.stdout.write(flags.json ? JSON.stringify(metrics, null, 2) + '\n' : `${formatMetrics(metrics)}\nwrote ${written.join(', ')}${maps ? ` and ${maps} maps` : ''}\n`);
      } finally {
        await analyzer.close();
      }
    });
}

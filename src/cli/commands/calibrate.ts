import type { Command } from 'commander';
import { calibrate } from '../../eval/calibrate.js';
import { calibrateFlagsSchema, parseFlags } from '../../eval/cli-options.js';
import { formatCalibration } from '../../eval/format.js';
import { modelOption } from '../grammar.js';

/** `mmaerec-edge calibrate`: wiring only; the work is in src/eval/calibrate.ts. */
export function register(program: Command): void {
  program
    .command('calibrate')
    .description("set a bundle's image and pixel thresholds: for a false-alarm rate on good images (default), from labelled data (best F1), or a percentile of good images")
    .addOption(modelOption('model bundle directory (its manifest.json is rewritten)'))
    .requiredOption('--data <dir>', 'dataset root in MVTec AD layout')
    .option('--rule <rule>', 'false-alarm | f1 | good-percentile (f1 chooses on test labels)', 'false-alarm')
    .option('--rate <fraction>', 'false-alarm: the false-alarm rate the image threshold targets', '0.01')
    .option('--target <percentile>', 'good-percentile: percentile of good image scores', '99.5')
    .option('--pixel-target <percentile>', 'false-alarm, good-percentile: percentile of good pixel values', '99.9')
    .option('--margin <fraction>', 'good-percentile: add fraction × (percentile − median)', '0.1')
    .option('--split <split>', 'false-alarm, good-percentile: good images from test/good or train/good', 'test')
    .option('--limit <n>', 'at most n images per folder (evenly spaced)')
    .option('--mask-resize <rule>', 'mask → map size: nearest | area', 'nearest')
    .option('--backend <name>', 'auto | onnxruntime | tensorrt', 'auto')
    .option('--threads <n>', 'inference threads')
    .option('--dry-run', 'report the thresholds without writing the manifest')
    .option('--json', 'print the result as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(calibrateFlagsSchema, raw, 'calibrate');
      const { openBundleAnalyzer } = await import('../../eval/bundle-analyzer.js');
      const analyzer = await openBundleAnalyzer(flags.model, { backend: flags.backend, ...(flags.threads ? { threads: flags.threads } : {}) });
      try {
        const result = await calibrate({
          analyzer, bundle: flags.model, data: flags.data, rule: flags.rule, rate: flags.rate, target: flags.target, pixelTarget: flags.pixelTarget,
          margin: flags.margin, split: flags.split, maskResize: flags.maskResize, dryRun: flags.dryRun,
          ...(flags.limit ? { limit: flags.limit } : {}),
        });
        process.stdout.write(flags.json ? JSON.stringify(result, null, 2) + '\n' : formatCalibration(result) + '\n');
      } finally {
        await analyzer.close();
      }
    });
}

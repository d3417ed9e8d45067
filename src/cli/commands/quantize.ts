import type { Command } from 'commander';
import { MmaerecError } from '../../errors.js';

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new MmaerecError('E_CONFIG', `${flag} "${value}" is not a positive integer: give e.g. ${flag} 100`);
  return n;
}

/** `mmaerec-edge quantize`: wiring only; the work is in src/model/quantize/. */
export function register(program: Command): void {
  program
    .command('quantize')
    .description("write the bundle's INT8 model (static QDQ, calibrated on good images) for ONNX Runtime CPU; run it with --precision int8")
    .requiredOption('--model <bundle>', 'model bundle directory')
    .requiredOption('--calib <dir>', 'folder of good images to calibrate the activation ranges on (e.g. <dataset>/train/good)')
    .option('--calib-limit <n>', 'use at most n calibration images, evenly spread', '100')
    .option('--rule <rule>', 'activation range rule: percentile | mse', 'percentile')
    .option('--percentile <p>', 'with --rule percentile: share of each activation kept inside its range, in %', '99.99')
    .option('--keep-float <names>', "comma-separated conv names (or prefixes ending in '.') to keep float, e.g. decoder.head.conv1")
    .option('--no-adds', 'keep the additions float (quantise convs only)')
    .option('--no-decoder-fallback', 'keep the decoder int8 even where it moves the reconstruction by more than 15 % of its spread on the calibration samples')
    .option('--threads <n>', 'ONNX Runtime threads for calibration', '1')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const rule = String(flags.rule);
      if (rule !== 'percentile' && rule !== 'mse') throw new MmaerecError('E_CONFIG', `--rule "${rule}" is unknown: use percentile or mse`);
      const percentile = Number(flags.percentile);
      if (!Number.isFinite(percentile)) throw new MmaerecError('E_CONFIG', `--percentile "${String(flags.percentile)}" is not a number: give e.g. --percentile 99.99`);
      const { quantizeBundle } = await import('../../model/quantize/quantize-bundle.js');
      const tty = process.stderr.isTTY === true;
      const result = await quantizeBundle({
        model: String(flags.model),
        calib: String(flags.calib),
        limit: positiveInteger('--calib-limit', String(flags.calibLimit)),
        rule,
        percentile,
        threads: positiveInteger('--threads', String(flags.threads)),
        adds: flags.adds !== false,
        decoderFallback: flags.decoderFallback !== false,
        ...(flags.keepFloat ? { floatConvs: String(flags.keepFloat).split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        onSample: (done, total) => {
          if (tty) process.stderr.write(`\r\x1b[2Kcalibrating ${done}/${total}`);
        },
      });
      if (tty) process.stderr.write('\n');
      const v = result.variant;
      process.stdout.write(
        `int8 model ${result.file} (${(result.bytes / 1048576).toFixed(1)} MiB; ${v.int8Convs} convs int8, ${v.floatConvs.length} float)\n` +
          `calibration ${v.calibration.rule}${v.calibration.percentile !== undefined ? ` ${v.calibration.percentile}` : ''} on ${v.calibration.samples} samples from ${v.calibration.images} images (sha256 ${v.calibration.sha256.slice(0, 12)}…)\n` +
          `check    |recon int8 − fp32| mean ${v.check.meanAbsDiff.toExponential(2)}${v.check.relative !== undefined ? ` (${(100 * v.check.relative).toFixed(1)} % of its spread)` : ''}, max ${v.check.maxAbsDiff.toExponential(2)} on ${v.check.samples} samples\n` +
          (v.check.featureDistance
            ? `check    |featureDistance int8 − fp32| mean ${v.check.featureDistance.meanAbsDiff.toExponential(2)} (${((100 * v.check.featureDistance.meanAbsDiff) / v.check.featureDistance.mean).toPrecision(2)} % of its mean ${v.check.featureDistance.mean.toPrecision(3)})\n`
            : '') +
          `use it   --precision int8 (inspect, eval) or backend.precision: int8 (run)\n`,
      );
    });
}

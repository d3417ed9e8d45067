import type { Command } from 'commander';
import { MmaerecError } from '../../errors.js';
import type { TrainOptionsInput } from '../../train/options.js';

/** Parses a numeric flag; commander hands strings. */
function num(name: string, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new MmaerecError('E_CONFIG', `--${name} ${JSON.stringify(value)} is not ${integer ? 'an integer' : 'a number'}: pass e.g. --${name} ${integer ? '4' : '0.0001'}`);
    }
    return n;
  };
}

function aggregation(value: string): { kind: 'max'; margin?: number } | { kind: 'topk'; fraction: number; margin?: number } {
  const m = /^(max|topk:([0-9.]+))(?:,margin:([0-9.]+))?$/.exec(value);
  const margin = m?.[3] !== undefined ? Number(m[3]) : undefined;
  if (m && (margin === undefined || (margin >= 0 && margin < 0.5))) {
    const rule = m[2] !== undefined ? { kind: 'topk' as const, fraction: Number(m[2]) } : { kind: 'max' as const };
    return margin === undefined ? rule : { ...rule, margin };
  }
  throw new MmaerecError('E_CONFIG', `--aggregation ${JSON.stringify(value)} is unknown: use max or topk:<fraction>, optionally with ,margin:<fraction below 0.5> (e.g. topk:0.01 or max,margin:0.08)`);
}

/** `mmaerec-edge train`: wiring only; the work is in src/train/. */
export function register(program: Command): void {
  program
    .command('train')
    .description('train a model on a folder of good images and write a ready bundle (tfjs: node-gpu → node → wasm → cpu)')
    .requiredOption('--data <dir>', 'folder tree of good images (png, jpg, bmp, tiff)')
    .requiredOption('--out <dir>', 'bundle folder to write (checkpoints in <out>/checkpoint)')
    .option('--preset <name>', 'network preset: edge (the measured recipe: lite at half width) | lite | paper (default: edge)')
    .option('--config <file>', 'YAML/JSON file of train options (flags override it); network overrides under "model"')
    .option('--epochs <n>', 'epochs over the training images', num('epochs', true))
    .option('--steps <n>', 'optimiser steps, instead of --epochs; about half an hour on 2 CPU cores, the export after it included in the hour (default: 750)', num('steps', true))
    .option('--batch <n>', 'batch size (default: 4)', num('batch', true))
    .option('--lr <x>', 'initial learning rate, ×0.2 at 50 % and 80 % of the steps (default: 1e-3)', num('lr', false))
    .option('--seed <n>', 'seed for weights, data order and synthetic anomalies (default: 0)', num('seed', true))
    .option('--backbone <file>', 'pretrained backbone weights (.safetensors from import-backbone: torchvision ResNet, or MobileNetV2 from a TensorFlow.js model, whose arch and taps it sets); frozen, memory on, as in the paper (default: the MobileNetV2 inside the nsfwjs package, when installed)')
    .option('--random-backbone <strategy>', 'a random backbone instead of the default pretrained one: skip-memory | bn-reestimate | train-backbone | frozen')
    .option('--resume', 'continue from <out>/checkpoint (same flags and data)')
    .option('--checkpoint-every <n>', 'steps between checkpoints (default: 200)', num('checkpoint-every', true))
    .option('--snapshot-every <n>', 'also write a calibrated bundle every n steps to <out>/snapshots/ (learning curves)', num('snapshot-every', true))
    .option('--keep-checkpoint', 'keep <out>/checkpoint after the bundle is written')
    .option('--backend <name>', 'tfjs back end: auto | tensorflow-gpu | tensorflow | wasm | cpu')
    .option('--limit <n>', 'use only the first n images (quick experiments)', num('limit', true))
    .option('--aggregation <rule>', 'image score from the map: max (paper) | topk:<fraction>, with optional ,margin:<fraction> of each side left out', aggregation)
    .option('--false-alarm-rate <fraction>', 'image threshold for this false-alarm rate on the held-out good images (default: 0.01)', num('false-alarm-rate', false))
    .option('--tile-short-edge <px>', 'tiled training and inspection: images keep their aspect ratio at this short edge, cut into model-size tiles', num('tile-short-edge', true))
    .option('--no-auto-tiling', 'stretch every image to the model input even when far from square (default: images with a median aspect ratio ≥ 1.5 are tiled at twice the model input)')
    .option('--no-feature-bank', 'with --backbone: leave out the feature bank (a coreset of the backbone\'s patch features fused into the map; on by default with --backbone)')
    .option('--name <name>', 'bundle name in the manifest')
    .action(async (flags: Record<string, unknown>) => {
      const { train } = await import('../../train/trainer.js');
      const { readTrainConfigFile } = await import('../../train/config-file.js');
      const fromFile = flags.config ? await readTrainConfigFile(flags.config as string) : {};
      const keys = ['data', 'out', 'preset', 'epochs', 'steps', 'batch', 'lr', 'seed', 'backbone', 'resume', 'checkpointEvery', 'snapshotEvery', 'keepCheckpoint', 'backend', 'limit', 'aggregation', 'falseAlarmRate', 'name'];
      const options: Record<string, unknown> = { ...fromFile };
      for (const k of keys) if (flags[k] !== undefined) options[k] = flags[k];
      if (flags.randomBackbone !== undefined) options.noPretrained = flags.randomBackbone;
      if (flags.featureBank === false) options.featureBank = false;
      if (flags.autoTiling === false) options.autoTiling = false;
      if (flags.tileShortEdge !== undefined) options.tiling = { ...(options.tiling as object | undefined), shortEdge: flags.tileShortEdge };
      options.command = ['mmaerec-edge', ...process.argv.slice(process.argv.findIndex((a) => a === 'train'))].join(' ');
      const controller = new AbortController();
      const onSigint = (): void => {
        process.stderr.write('\nstopping after this step and saving a checkpoint (Ctrl-C again to quit at once)…\n');
        controller.abort();
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onSigint);
      try {
        const result = await train(options as unknown as TrainOptionsInput, { signal: controller.signal });
        for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
        if (result.interrupted) {
          process.exitCode = 130;
          return;
        }
        const f = result.finalLoss;
        process.stdout.write(
          `bundle ${result.bundle!.dir} (${result.step} steps on ${result.backend.name}, ${(result.durationMs / 60000).toFixed(1)} min` +
            (f ? `, final loss ${f.total.toFixed(4)}: l2 ${f.l2.toFixed(4)} ssim ${f.ssim.toFixed(4)} entropy ${f.entropy.toFixed(3)}` : '') +
            `)\n`,
        );
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}

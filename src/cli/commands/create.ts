import type { Command } from 'commander';
import { MmaerecError } from '../../errors.js';
import { createBundleFromFiles } from '../../model/create.js';
import { formatInfo, bundleInfo } from '../../model/info.js';

/** `mmaerec-edge create`: a model bundle with initialised weights. */
export function register(program: Command): void {
  program
    .command('create')
    .description('write a model bundle (manifest.json, weights.safetensors, model.onnx) with initialised weights')
    .option('--preset <name>', 'network preset: edge | lite | paper')
    .option('--config <file>', 'network config (JSON/YAML); with --preset it overrides the preset')
    .option('--backbone <file>', 'ImageNet backbone weights (.safetensors, torchvision names) for the config\'s arch')
    .option('--seed <n>', 'seed of the random initialisation', '0')
    .option('--name <name>', 'bundle name')
    .requiredOption('--out <dir>', 'bundle directory to write')
    .action(async (flags: { preset?: string; config?: string; backbone?: string; seed: string; name?: string; out: string }) => {
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new MmaerecError('E_CONFIG', `--seed ${flags.seed} is not a non-negative integer: pass e.g. --seed 0`);
      const { bundle, warnings } = await createBundleFromFiles({
        out: flags.out,
        seed,
        ...(flags.preset ? { preset: flags.preset } : {}),
        ...(flags.config ? { configFile: flags.config } : {}),
        ...(flags.backbone ? { backboneFile: flags.backbone } : {}),
        ...(flags.name ? { name: flags.name } : {}),
      });
      for (const w of warnings) process.stderr.write(`mmaerec-edge: warning: ${w}\n`);
      process.stdout.write(formatInfo(bundleInfo(bundle)));
    });
}

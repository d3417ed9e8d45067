import type { Command } from 'commander';
import { loadBundle } from '../../model/bundle.js';
import { bundleInfo, formatInfo } from '../../model/info.js';
import { bundleFrom, modelOption } from '../grammar.js';

/** `mmaerec-edge info`: what a bundle holds (validated: hashes checked on load). */
export function register(program: Command): void {
  program
    .command('info')
    .description('show a bundle: parameters (total, trainable), GMACs at its input size, file hashes')
    .argument('[bundle]', 'same as --model (the older form)')
    .addOption(modelOption('model bundle directory (required, or as the argument)', false))
    .option('--json', 'print JSON')
    .action(async (positional: string | undefined, flags: { model?: string; json?: boolean }) => {
      const info = bundleInfo(await loadBundle(bundleFrom('info', flags.model, positional)));
      process.stdout.write(flags.json ? JSON.stringify(info, null, 2) + '\n' : formatInfo(info));
    });
}

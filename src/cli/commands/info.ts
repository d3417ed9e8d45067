import type { Command } from 'commander';
import { loadBundle } from '../../model/bundle.js';
import { bundleInfo, formatInfo } from '../../model/info.js';

/** `mmaerec-edge info`: what a bundle holds (validated: hashes checked on load). */
export function register(program: Command): void {
  program
    .command('info')
    .description('show a bundle: parameters (total, trainable), GMACs at its input size, file hashes')
    .argument('<bundle>', 'bundle directory')
    .option('--json', 'print JSON')
    .action(async (dir: string, flags: { json?: boolean }) => {
      const info = bundleInfo(await loadBundle(dir));
      process.stdout.write(flags.json ? JSON.stringify(info, null, 2) + '\n' : formatInfo(info));
    });
}

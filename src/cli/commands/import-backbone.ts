import type { Command } from 'commander';
import { MmaerecError } from '../../errors.js';
import { BACKBONE_ARCHS, type BackboneArch } from '../../model/config.js';
import { importBackbone } from '../../model/import-backbone.js';
import { writeSafetensors } from '../../model/safetensors.js';

/** `mmaerec-edge import-backbone`: check an ImageNet checkpoint and write it under the bundle's tensor names. */
export function register(program: Command): void {
  program
    .command('import-backbone')
    .description('check ImageNet backbone weights (torchvision/timm names) and write them for "create --backbone"')
    .argument('<file>', '.safetensors state dict of torchvision wide_resnet50_2 or resnet18')
    .requiredOption('--arch <arch>', `backbone architecture: ${BACKBONE_ARCHS.join(' | ')}`)
    .option('--out <file>', 'write the backbone tensors (named backbone.*) to this .safetensors')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, flags: { arch: string; out?: string; json?: boolean }) => {
      if (!(BACKBONE_ARCHS as readonly string[]).includes(flags.arch)) {
        throw new MmaerecError('E_CONFIG', `--arch ${flags.arch} is not supported: use one of ${BACKBONE_ARCHS.join(', ')}`);
      }
      const imported = await importBackbone(file, flags.arch as BackboneArch);
      const values = [...imported.weights.values()].reduce((a, t) => a + t.data.length, 0);
      if (flags.out) await writeSafetensors(flags.out, imported.weights, { arch: imported.arch, source: file });
      const report = { arch: imported.arch, tensors: imported.weights.size, values, unused: imported.unused, out: flags.out ?? null };
      if (flags.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      process.stdout.write(`${file}: ${report.tensors} ${report.arch} tensors (${(values / 1e6).toFixed(2)} M values) match\n`);
      if (imported.unused.length) {
        process.stdout.write(`not used (${imported.unused.length}): ${imported.unused.slice(0, 8).join(', ')}${imported.unused.length > 8 ? ', …' : ''}\n`);
      }
      if (flags.out) process.stdout.write(`wrote ${flags.out}\n`);
    });
}

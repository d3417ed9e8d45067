import { basename } from 'node:path';
import type { Command } from 'commander';
import { MmaerecError } from '../../errors.js';
import { BACKBONE_ARCHS, RESNET_ARCHS, type BackboneArch } from '../../model/config.js';
import { backboneFileMetadata, importBackbone, importTfjsBackbone } from '../../model/import-backbone.js';
import { writeSafetensors } from '../../model/safetensors.js';

const FORMATS = ['torchvision', 'tfjs-layers'] as const;

/** `mmaerec-edge import-backbone`: check pretrained backbone weights and write them under the bundle's tensor names. */
export function register(program: Command): void {
  program
    .command('import-backbone')
    .description('check pretrained backbone weights (a torchvision state dict, or a TensorFlow.js Keras model) and write them for "train/create --backbone"')
    .argument('[file]', 'the weights (same as --input)')
    .option('--input <path>', 'torchvision: .safetensors state dict; tfjs-layers: a model folder (model.json or nsfwjs-style model.min.js) or its model file')
    .option('--format <format>', `${FORMATS.join(' | ')} (default: tfjs-layers for a folder, .json or .js, else torchvision)`)
    .requiredOption('--arch <arch>', `backbone architecture: ${BACKBONE_ARCHS.join(' | ')} (mobilenet_v2 with tfjs-layers)`)
    .option('--taps <layers>', 'mobilenet_v2: four comma-separated Keras layer names for strides 2,4,8,16 (default: Conv1_relu,block_2_add,block_5_add,block_12_add)')
    .option('--attribution <text>', 'licence/attribution of the weights, recorded in every bundle trained with them (default: read from the npm package they ship in)')
    .option('--out <file>', 'write the backbone tensors (named backbone.*) to this .safetensors')
    .option('--json', 'print the report as JSON')
    .action(async (positional: string | undefined, flags: { input?: string; format?: string; arch: string; taps?: string; attribution?: string; out?: string; json?: boolean }) => {
      const file = flags.input ?? positional;
      if (!file) throw new MmaerecError('E_CONFIG', 'import-backbone needs the weights: pass --input <file or folder>');
      if (!(BACKBONE_ARCHS as readonly string[]).includes(flags.arch)) {
        throw new MmaerecError('E_CONFIG', `--arch ${flags.arch} is not supported: use one of ${BACKBONE_ARCHS.join(', ')}`);
      }
      const arch = flags.arch as BackboneArch;
      const format = flags.format ?? (/\.safetensors$/i.test(file) ? 'torchvision' : /\.(json|js)$/i.test(file) || !/\.\w+$/.test(file) ? 'tfjs-layers' : 'torchvision');
      if (!(FORMATS as readonly string[]).includes(format)) throw new MmaerecError('E_CONFIG', `--format ${format} is not supported: use one of ${FORMATS.join(', ')}`);
      let taps: [string, string, string, string] | undefined;
      if (flags.taps !== undefined) {
        const t = flags.taps.split(',').map((s) => s.trim());
        if (t.length !== 4 || t.some((s) => !s)) throw new MmaerecError('E_CONFIG', `--taps ${JSON.stringify(flags.taps)}: give four comma-separated layer names, e.g. Conv1_relu,block_2_add,block_5_add,block_12_add`);
        taps = t as [string, string, string, string];
      }
      if (format === 'torchvision' && !(RESNET_ARCHS as readonly string[]).includes(arch)) {
        throw new MmaerecError('E_CONFIG', `--arch ${arch} comes from a TensorFlow.js model: pass --format tfjs-layers --input <model folder>`);
      }
      if (format === 'torchvision' && taps) throw new MmaerecError('E_CONFIG', `--taps applies to mobilenet_v2 only: the ${arch} levels are fixed`);
      const imported = format === 'tfjs-layers' ? await importTfjsBackbone(file, arch, taps) : await importBackbone(file, arch);
      const attribution = flags.attribution
        ? { license: flags.attribution, source: imported.attribution?.source ?? basename(file) }
        : imported.attribution;
      const values = [...imported.weights.values()].reduce((a, t) => a + t.data.length, 0);
      if (flags.out) await writeSafetensors(flags.out, imported.weights, backboneFileMetadata({ arch, format, source: basename(file), ...(imported.taps ? { taps: imported.taps } : {}), ...(attribution ? { attribution } : {}) }));
      const report = {
        arch: imported.arch,
        format,
        ...(imported.taps ? { taps: imported.taps } : {}),
        tensors: imported.weights.size,
        values,
        unused: imported.unused,
        ...(attribution ? { attribution } : {}),
        out: flags.out ?? null,
      };
      if (flags.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      process.stdout.write(`${file}: ${report.tensors} ${report.arch} tensors (${(values / 1e6).toFixed(2)} M values) match${imported.taps ? `; taps ${imported.taps.join(', ')}` : ''}\n`);
      if (imported.unused.length) {
        process.stdout.write(`not used (${imported.unused.length}): ${imported.unused.slice(0, 8).join(', ')}${imported.unused.length > 8 ? ', …' : ''}\n`);
      }
      if (attribution) process.stdout.write(`weights: ${[attribution.package, attribution.license, attribution.copyright].filter(Boolean).join(', ')}\n`);
      if (flags.out) process.stdout.write(`wrote ${flags.out}\n`);
    });
}

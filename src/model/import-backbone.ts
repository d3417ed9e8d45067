import { MmaerecError } from '../errors.js';
import { BACKBONE_PREFIX, buildBackbone } from './backbone.js';
import type { BackboneArch } from './config.js';
import { GraphBuilder, type ParamSpec } from './graph.js';
import type { WeightMap } from './init.js';
import { readSafetensors, toFloat32 } from './safetensors.js';

/** The backbone's tensors (names with the `backbone.` prefix, PyTorch shapes) for an arch and width divisor. */
export function backboneParams(arch: BackboneArch, widthDivisor = 1): ParamSpec[] {
  const g = new GraphBuilder();
  buildBackbone(g, g.input('x', [3, 224, 224]), { arch, widthDivisor, trainable: false, bnEpsilon: 1e-5 });
  return g.params;
}

export interface ImportedBackbone {
  arch: BackboneArch;
  /** Tensors under their bundle names (`backbone.conv1.weight`, …). */
  weights: WeightMap;
  /** File tensors not used (layer4, fc, num_batches_tracked …). */
  unused: string[];
}

/**
 * Maps a torchvision/timm state dict (`conv1.weight`, `layer1.0.bn1.running_mean`, …; also accepted with a
 * `module.` or `backbone.` prefix) onto the backbone's tensors. Every needed tensor must be present with its
 * exact shape; anything else in the file (layer4, fc, num_batches_tracked) is reported as unused.
 */
export async function importBackbone(path: string, arch: BackboneArch, widthDivisor = 1): Promise<ImportedBackbone> {
  const file = await readSafetensors(path);
  const byName = new Map<string, string>(); // torchvision name → file name
  for (const name of file.tensors.keys()) {
    const bare = name.replace(/^module\./, '').replace(/^backbone\./, '');
    byName.set(bare, name);
  }
  const weights: WeightMap = new Map();
  const missing: string[] = [];
  const used = new Set<string>();
  for (const p of backboneParams(arch, widthDivisor)) {
    const tv = p.name.slice(BACKBONE_PREFIX.length);
    const fileName = byName.get(tv);
    if (!fileName) {
      missing.push(tv);
      continue;
    }
    const t = file.tensors.get(fileName)!;
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new MmaerecError(
        'E_MODEL',
        `${path}: tensor "${fileName}" has shape ${JSON.stringify(t.shape)}, ${arch} needs ${JSON.stringify(p.shape)}: is this a ${arch} checkpoint? pass the matching --arch`,
      );
    }
    weights.set(p.name, { shape: [...p.shape], data: toFloat32(t, fileName) });
    used.add(fileName);
  }
  if (missing.length) {
    throw new MmaerecError(
      'E_MODEL',
      `${path}: ${missing.length} ${arch} tensor(s) missing, e.g. "${missing.slice(0, 3).join('", "')}": export the full torchvision state_dict (model.state_dict()) to safetensors`,
    );
  }
  const unused = [...file.tensors.keys()].filter((n) => !used.has(n)).sort();
  return { arch, weights, unused };
}

import { basename, dirname, relative, sep } from 'node:path';
import { MmaerecError } from '../errors.js';
import { BACKBONE_PREFIX, backboneTaps, buildBackbone } from './backbone.js';
import { BACKBONE_ARCHS, DEFAULT_TAPS, type BackboneArch } from './config.js';
import { GraphBuilder, type ParamSpec } from './graph.js';
import type { WeightMap } from './init.js';
import { kerasLayerFromJson, kerasToTorch, kerasWeightNames, mobilenetV2Layers, type KerasLayer } from './keras-layers.js';
import { readSafetensors, toFloat32 } from './safetensors.js';
import { packageAttribution, readTfjsModel } from './tfjs-model.js';

type Taps = [string, string, string, string];

/** The backbone's tensors (names with the `backbone.` prefix, PyTorch shapes) for an arch, width divisor and taps. */
export function backboneParams(arch: BackboneArch, widthDivisor = 1, taps?: Taps): ParamSpec[] {
  const g = new GraphBuilder();
  buildBackbone(g, g.input('x', [3, 224, 224]), { arch, widthDivisor, trainable: false, bnEpsilon: 1e-5, taps });
  return g.params;
}

export interface ImportedBackbone {
  arch: BackboneArch;
  /** The levels' layers (mobilenet_v2); absent for the ResNets. */
  taps?: Taps;
  /** Tensors under their bundle names (`backbone.conv1.weight`, …). */
  weights: WeightMap;
  /** File tensors not used (layer4, fc, num_batches_tracked …; the Keras layers past the deepest tap). */
  unused: string[];
  /** Where the weights come from and under which licence (tfjs imports from an npm package). */
  attribution?: { package?: string; license: string; copyright?: string; source: string };
}

/**
 * Maps a torchvision/timm state dict (`conv1.weight`, `layer1.0.bn1.running_mean`, …; also accepted with a
 * `module.` or `backbone.` prefix) onto the backbone's tensors. Every needed tensor must be present with its
 * exact shape; anything else in the file (layer4, fc, num_batches_tracked) is reported as unused. Also reads
 * back a file that import-backbone wrote for a tapped backbone (names `backbone.<keras layer>.<tensor>`).
 */
export async function importBackbone(path: string, arch: BackboneArch, widthDivisor = 1, taps?: Taps): Promise<ImportedBackbone> {
  const file = await readSafetensors(path);
  const byName = new Map<string, string>(); // torchvision name → file name
  for (const name of file.tensors.keys()) {
    const bare = name.replace(/^module\./, '').replace(/^backbone\./, '');
    byName.set(bare, name);
  }
  const weights: WeightMap = new Map();
  const missing: string[] = [];
  const used = new Set<string>();
  for (const p of backboneParams(arch, widthDivisor, taps)) {
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
    const fix = arch === 'mobilenet_v2'
      ? `re-run import-backbone --format tfjs-layers with taps reaching ${(backboneTaps({ arch, taps }) ?? []).join(', ')}`
      : 'export the full torchvision state_dict (model.state_dict()) to safetensors';
    throw new MmaerecError('E_MODEL', `${path}: ${missing.length} ${arch} tensor(s) missing, e.g. "${missing.slice(0, 3).join('", "')}": ${fix}`);
  }
  const unused = [...file.tensors.keys()].filter((n) => !used.has(n)).sort();
  const recorded = parseBackboneFileMetadata(file.metadata).attribution;
  return { arch, ...(taps ? { taps } : {}), weights, unused, ...(recorded ? { attribution: recorded } : {}) };
}

/** The fields in which a file's layer differs from the expected one ("" when none). */
function layerDiff(got: KerasLayer, want: KerasLayer): string {
  const g = got as unknown as Record<string, unknown>;
  const w = want as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(g), ...Object.keys(w)])];
  return keys
    .filter((k) => JSON.stringify(g[k]) !== JSON.stringify(w[k]))
    .map((k) => `${k} ${JSON.stringify(g[k])} (MobileNetV2: ${JSON.stringify(w[k])})`)
    .join(', ');
}

/**
 * Imports a Keras MobileNetV2 from a TensorFlow.js layers model (a folder with model.json, or nsfwjs's
 * `dist/models/mobilenet_v2` with its `.min.js` files): checks that every layer up to the deepest tap is the
 * one keras-layers.ts builds (class, filters, kernel, stride, padding, BatchNorm ε, ReLU6, wiring), then maps
 * the (dequantised) weights onto the backbone's tensors in PyTorch layouts. Taps default to DEFAULT_TAPS.
 */
export async function importTfjsBackbone(path: string, arch: BackboneArch, taps?: Taps): Promise<ImportedBackbone> {
  if (arch !== 'mobilenet_v2') {
    throw new MmaerecError('E_CONFIG', `--format tfjs-layers supports --arch mobilenet_v2, not ${arch}: import ResNets with --format torchvision`);
  }
  const resolvedTaps = taps ?? DEFAULT_TAPS[arch];
  const params = backboneParams(arch, 1, resolvedTaps); // also rejects unknown taps
  const model = await readTfjsModel(path);
  const src = model.path;
  if (model.format !== 'layers-model') {
    throw new MmaerecError('E_MODEL', `${src} is a TensorFlow.js graph model: --format tfjs-layers needs a Keras layers model (model.json with modelTopology.model_config)`);
  }
  const config = (model.topology.model_config as { class_name?: string; config?: { layers?: unknown[] } } | undefined)?.config;
  const layers = config?.layers;
  if (!Array.isArray(layers)) throw new MmaerecError('E_MODEL', `${src}: no Keras layer list (modelTopology.model_config.config.layers): pass a Keras functional model`);
  const records = layers as Record<string, unknown>[];
  const inputs = new Set(records.filter((l) => l.class_name === 'InputLayer').map((l) => String(l.name)));
  const byName = new Map(records.map((l) => [String(l.name), l]));
  const expected = mobilenetV2Layers();
  const deepest = Math.max(...resolvedTaps.map((t) => expected.findIndex((l) => l.name === t)));
  for (const want of expected.slice(0, deepest + 1)) {
    const raw = byName.get(want.name);
    if (!raw) {
      throw new MmaerecError('E_MODEL', `${src}: no layer "${want.name}": not a Keras MobileNetV2 (α 1.0); pass nsfwjs's dist/models/mobilenet_v2 or a keras.applications.MobileNetV2 converted with tensorflowjs_converter`);
    }
    const got = kerasLayerFromJson(raw, inputs);
    const diff = 'unsupported' in got ? '' : layerDiff(got, want);
    if ('unsupported' in got || diff) {
      const what = 'unsupported' in got ? got.unsupported : `layer ${want.name} has ${diff}`;
      throw new MmaerecError('E_MODEL', `${src}: ${what}: not the Keras MobileNetV2 (α 1.0) this SDK builds; pass a keras.applications.MobileNetV2 model`);
    }
  }
  const weights: WeightMap = new Map();
  const used = new Set<string>();
  const byParam = new Map<string, { keras: string; layout: 'conv' | 'depthwise' | 'vector' }>();
  for (const l of expected.slice(0, deepest + 1)) {
    for (const w of kerasWeightNames(l)) byParam.set(`${BACKBONE_PREFIX}${l.name}.${w.suffix}`, w);
  }
  for (const p of params) {
    const w = byParam.get(p.name);
    const t = w && model.weights.get(w.keras);
    if (!w || !t) throw new MmaerecError('E_MODEL', `${src}: weight "${w?.keras ?? p.name}" is missing from the shards: copy the whole model folder`);
    const torch = kerasToTorch(t.data, t.shape, w.layout);
    if (torch.shape.length !== p.shape.length || torch.shape.some((d, i) => d !== p.shape[i])) {
      throw new MmaerecError('E_MODEL', `${src}: weight "${w.keras}" has shape ${JSON.stringify(t.shape)}, which does not give ${JSON.stringify(p.shape)}: pass a MobileNetV2 with α 1.0`);
    }
    weights.set(p.name, torch);
    used.add(w.keras);
  }
  const unused = [...model.weights.keys()].filter((n) => !used.has(n)).sort();
  // No path of this machine in the record: the file relative to its npm package, or its folder and name.
  const pkg = await packageAttribution(src);
  const attribution = pkg
    ? { package: pkg.package, license: pkg.license, ...(pkg.copyright ? { copyright: pkg.copyright } : {}), source: relative(pkg.root, src).split(sep).join('/') }
    : { license: 'unknown: record the weights\' licence with import-backbone --attribution', source: `${basename(dirname(src))}/${basename(src)}` };
  return { arch, taps: resolvedTaps, weights, unused, attribution };
}

/** What an import-backbone output file says about itself (its safetensors metadata). */
export interface BackboneFileInfo {
  arch?: BackboneArch;
  taps?: Taps;
  format?: string;
  source?: string;
  attribution?: { package?: string; license: string; copyright?: string; source: string };
}

/** The safetensors metadata import-backbone writes (strings only, as the format requires). */
export function backboneFileMetadata(info: BackboneFileInfo): Record<string, string> {
  const out: Record<string, string> = {};
  if (info.arch) out.arch = info.arch;
  if (info.format) out.format = info.format;
  if (info.source) out.source = info.source;
  if (info.taps) out.taps = JSON.stringify(info.taps);
  if (info.attribution) out.attribution = JSON.stringify(info.attribution);
  return out;
}

/** Reads backboneFileMetadata's fields back (a torchvision file has none of them; unknown values are ignored). */
export function parseBackboneFileMetadata(metadata: Record<string, string>): BackboneFileInfo {
  const info: BackboneFileInfo = {};
  if ((BACKBONE_ARCHS as readonly string[]).includes(metadata.arch ?? '')) info.arch = metadata.arch as BackboneArch;
  if (metadata.format) info.format = metadata.format;
  if (metadata.source) info.source = metadata.source;
  const json = (s: string | undefined): unknown => {
    try {
      return s ? JSON.parse(s) : undefined;
    } catch {
      return undefined;
    }
  };
  const taps = json(metadata.taps);
  if (Array.isArray(taps) && taps.length === 4 && taps.every((t) => typeof t === 'string')) info.taps = taps as Taps;
  const attribution = json(metadata.attribution) as BackboneFileInfo['attribution'];
  if (attribution && typeof attribution === 'object' && typeof attribution.license === 'string') info.attribution = attribution;
  return info;
}

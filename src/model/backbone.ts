import { MmaerecError } from '../errors.js';
import { DEFAULT_TAPS, type BackboneArch, type ResnetArch } from './config.js';
import type { GraphBuilder } from './graph.js';
import { buildKerasLayers, mobilenetV2Layers } from './keras-layers.js';

/**
 * torchvision ResNets truncated after layer3 (method.md §2 step 4: "stem (block0), layer1, layer2, layer3").
 * Tensor names are torchvision's under a `backbone.` prefix, so an ImageNet state dict maps 1:1
 * (`conv1.weight` → `backbone.conv1.weight`, `layer1.0.downsample.1.running_var` → …).
 * Stride placement follows torchvision (ResNet v1.5: the stride sits on the 3×3 conv of a bottleneck).
 */
interface ArchSpec {
  block: 'basic' | 'bottleneck';
  layers: [number, number, number];
  /** Bottleneck inner width = planes × widthFactor (wide_resnet50_2: width_per_group 128 / 64 = 2). */
  widthFactor: number;
  expansion: number;
}

const ARCHS: Record<ResnetArch, ArchSpec> = {
  wide_resnet50_2: { block: 'bottleneck', layers: [3, 4, 6], widthFactor: 2, expansion: 4 },
  resnet18: { block: 'basic', layers: [2, 2, 2], widthFactor: 1, expansion: 1 },
};

export const BACKBONE_PREFIX = 'backbone.';

/** ImageNet normalisation (torchvision's constants), for the ResNets. */
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/**
 * The normalisation the backbone was trained with, on RGB in [0, 1]: ImageNet mean/std for torchvision's
 * ResNets; none for the Keras MobileNetV2 of nsfwjs (fed img / 255, i.e. the [0, 1] image itself).
 */
export function backboneNormalization(arch: BackboneArch): { mean: [number, number, number]; std: [number, number, number] } {
  if (arch === 'mobilenet_v2') return { mean: [0, 0, 0], std: [1, 1, 1] };
  return { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
}

/** The taps of a backbone config: given, or the arch's defaults (ResNets: none, their levels are fixed). */
export function backboneTaps(b: { arch: BackboneArch; taps?: [string, string, string, string] | undefined }): [string, string, string, string] | undefined {
  if (b.arch !== 'mobilenet_v2') return undefined;
  return b.taps ?? DEFAULT_TAPS[b.arch];
}

/** Channels of the four ResNet levels (stem, layer1, layer2, layer3). */
export function backboneChannels(arch: ResnetArch, widthDivisor = 1): [number, number, number, number] {
  const spec = ARCHS[arch];
  const planes = [64, 128, 256].map((p) => p / widthDivisor);
  return [64 / widthDivisor, planes[0]! * spec.expansion, planes[1]! * spec.expansion, planes[2]! * spec.expansion];
}

/**
 * Appends the backbone to `g`, reading the ImageNet-normalised image `x`; returns the four level values.
 * `trainable` marks the parameters (BatchNorm running statistics are never trainable).
 */
export function buildBackbone(
  g: GraphBuilder,
  x: string,
  o: { arch: BackboneArch; widthDivisor: number; trainable: boolean; bnEpsilon: number; taps?: [string, string, string, string] | undefined },
): [string, string, string, string] {
  if (o.arch === 'mobilenet_v2') return buildTapped(g, x, o.arch, backboneTaps(o)!, o.trainable);
  const spec = ARCHS[o.arch];
  const d = o.widthDivisor;
  const p = (name: string): string => BACKBONE_PREFIX + name;
  const conv = (v: string, name: string, out: number, kernel: number, stride = 1): string =>
    g.conv(v, p(name), { out, kernel, stride, init: 'kaimingFanOut', trainable: o.trainable });
  const bn = (v: string, name: string): string =>
    g.batchNorm(v, p(name), { epsilon: o.bnEpsilon, trainable: o.trainable, backbone: true, weightInit: 'ones' });

  let v = g.unary(bn(conv(x, 'conv1', 64 / d, 7, 2), 'bn1'), 'relu', p('relu'));
  const stem = v;
  v = g.maxPool(v);
  let inplanes = 64 / d;
  const levels: string[] = [stem];
  for (let li = 0; li < 3; li++) {
    const planes = [64, 128, 256][li]! / d;
    const outC = planes * spec.expansion;
    for (let bi = 0; bi < spec.layers[li]!; bi++) {
      const stride = bi === 0 && li > 0 ? 2 : 1;
      const name = `layer${li + 1}.${bi}`;
      let y: string;
      if (spec.block === 'basic') {
        y = g.unary(bn(conv(v, `${name}.conv1`, planes, 3, stride), `${name}.bn1`), 'relu');
        y = bn(conv(y, `${name}.conv2`, planes, 3), `${name}.bn2`);
      } else {
        const width = planes * spec.widthFactor;
        y = g.unary(bn(conv(v, `${name}.conv1`, width, 1), `${name}.bn1`), 'relu');
        y = g.unary(bn(conv(y, `${name}.conv2`, width, 3, stride), `${name}.bn2`), 'relu');
        y = bn(conv(y, `${name}.conv3`, outC, 1), `${name}.bn3`);
      }
      const identity = stride !== 1 || inplanes !== outC ? bn(conv(v, `${name}.downsample.0`, outC, 1, stride), `${name}.downsample.1`) : v;
      v = g.unary(g.binary(y, identity, 'add', `${name}.add`), 'relu', `${name}.relu`);
      inplanes = outC;
    }
    levels.push(v);
  }
  return levels as [string, string, string, string];
}

/**
 * A Keras backbone (keras-layers.ts) built up to its deepest tap; returns the taps' values in level order.
 * Its BatchNorm ε is the one in its layer list (Keras: 1e-3), not the head's. Each tap must exist and sit at
 * stride 2, 4, 8, 16 for levels 0…3 (the edge encoder's strides, network.ts).
 */
function buildTapped(g: GraphBuilder, x: string, arch: 'mobilenet_v2', taps: [string, string, string, string], trainable: boolean): [string, string, string, string] {
  const layers = mobilenetV2Layers();
  const index = new Map(layers.map((l, i) => [l.name, i]));
  const unknown = taps.filter((t) => !index.has(t));
  if (unknown.length) {
    const examples = layers.filter((l) => l.class === 'Add' || /_relu$/.test(l.name)).map((l) => l.name);
    throw new MmaerecError(
      'E_CONFIG',
      `backbone.taps: "${unknown[0]}" is not a ${arch} layer: use layer names such as ${examples.slice(0, 3).join(', ')} … ${examples.slice(-2).join(', ')} (defaults ${DEFAULT_TAPS[arch].join(', ')})`,
    );
  }
  const last = Math.max(...taps.map((t) => index.get(t)!));
  const values = buildKerasLayers(g, x, layers.slice(0, last + 1), { prefix: BACKBONE_PREFIX, trainable });
  const [, h] = g.shape(x);
  return taps.map((t, l) => {
    const v = values.get(t)!;
    const [, th] = g.shape(v);
    const stride = 2 ** (l + 1);
    if (th * stride !== h) {
      throw new MmaerecError('E_CONFIG', `backbone.taps[${l}]: ${t} is at stride ${h / th}, level ${l} needs stride ${stride}: tap a layer of that resolution`);
    }
    return v;
  }) as [string, string, string, string];
}

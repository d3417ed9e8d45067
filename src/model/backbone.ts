import type { BackboneArch } from './config.js';
import type { GraphBuilder } from './graph.js';

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

const ARCHS: Record<BackboneArch, ArchSpec> = {
  wide_resnet50_2: { block: 'bottleneck', layers: [3, 4, 6], widthFactor: 2, expansion: 4 },
  resnet18: { block: 'basic', layers: [2, 2, 2], widthFactor: 1, expansion: 1 },
};

export const BACKBONE_PREFIX = 'backbone.';

/** Channels of the four backbone levels (stem, layer1, layer2, layer3). */
export function backboneChannels(arch: BackboneArch, widthDivisor = 1): [number, number, number, number] {
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
  o: { arch: BackboneArch; widthDivisor: number; trainable: boolean; bnEpsilon: number },
): [string, string, string, string] {
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

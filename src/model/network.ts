import { MmaerecError } from '../errors.js';
import { backboneNormalization, buildBackbone } from './backbone.js';
import type { AttentionKind, ModelConfig } from './config.js';
import { GraphBuilder, type NetworkGraph } from './graph.js';

/** ImageNet normalisation (torchvision's constants), applied inside the graph before a ResNet backbone. */
export { IMAGENET_MEAN, IMAGENET_STD } from './backbone.js';

/**
 * THE network definition (method.md §2–4; choices in docs/architecture.md, "Model"). Every back end walks
 * the graph built here; nothing else describes the architecture.
 */
export function buildNetwork(config: ModelConfig): NetworkGraph {
  const g = new GraphBuilder();
  const s = config.inputSize;
  const image = g.input('image', [3, s, s]);
  const edge = g.input('edge', [1, s, s]);
  const eps = config.bnEpsilon;
  const head = { init: 'normal0.02' as const, trainable: true };
  const convBnRelu = (x: string, prefix: string, bnName: string, out: number, stride = 1): string =>
    g.unary(
      g.batchNorm(g.conv(x, prefix, { out, kernel: 3, stride, ...head }), bnName, { epsilon: eps, trainable: true, backbone: false }),
      'relu',
    );

  // Backbone on the image normalised as the backbone was trained (§2 step 4): ImageNet mean/std for the
  // ResNets; nothing for MobileNetV2 (x / 255 on 0–255 input is the [0, 1] image itself).
  const b = config.backbone;
  const norm = backboneNormalization(b.arch);
  const identity = norm.mean.every((m) => m === 0) && norm.std.every((d) => d === 1);
  const normalised = identity ? image : g.normalize(image, norm.mean, norm.std);
  const features = buildBackbone(g, normalised, { arch: b.arch, widthDivisor: b.widthDivisor, trainable: b.trainable, bnEpsilon: eps, taps: b.taps });
  // The levels' channels as the backbone delivers them (a tapped backbone's need not match levelChannels:
  // the 1×1 projections below adapt them).
  const featureChannels = features.map((f) => g.shape(f)[0]);

  // Edge encoder (§2 step 3): per level a stride-2 conv3×3-BN-ReLU then a conv3×3-BN-ReLU.
  const encoded: string[] = [];
  let e = edge;
  for (let l = 0; l < 4; l++) {
    const c = config.levelChannels[l]!;
    e = convBnRelu(e, `edge.${l}.conv1`, `edge.${l}.bn1`, c, 2);
    e = convBnRelu(e, `edge.${l}.conv2`, `edge.${l}.bn2`, c);
    encoded.push(e);
  }

  // Memory (§3), optional 1×1 projection to the level width, fusion by addition, attention (§2 step 6, §4).
  const fused: string[] = [];
  const addressing: { level: number; value: string }[] = [];
  for (let l = 0; l < 4; l++) {
    let z = features[l]!;
    const [, eh, ew] = g.shape(encoded[l]!);
    const [, fh, fw] = g.shape(z);
    if (eh !== fh || ew !== fw) {
      throw new MmaerecError('E_CONFIG', `backbone level ${l} is ${fh}×${fw}, the edge encoder's is ${eh}×${ew}: tap a layer at stride ${2 ** (l + 1)} for level ${l}`);
    }
    if (config.memory.levels.includes(l)) {
      const [read, addr] = g.memory(z, `memory.${l}`, config.memory);
      z = read;
      addressing.push({ level: l, value: addr });
    }
    if (featureChannels[l] !== config.levelChannels[l]) {
      z = g.conv(z, `proj.${l}`, { out: config.levelChannels[l]!, kernel: 1, bias: true, ...head });
    }
    const f = g.binary(encoded[l]!, z, 'add', `fuse.${l}`);
    fused.push(attention(g, f, `attention.${l}`, config.attention, eps));
  }

  // Decoder (EdgRec): bilinear ×2, conv3×3-BN-ReLU, additive skip, conv3×3-BN-ReLU; final conv3×3 → 3.
  let v = fused[3]!;
  for (let l = 3; l >= 1; l--) {
    const c = config.levelChannels[l - 1]!;
    v = g.upsample2x(v, `decoder.${l}.up`);
    v = convBnRelu(v, `decoder.${l}.conv1`, `decoder.${l}.bn1`, c);
    v = g.binary(v, fused[l - 1]!, 'add', `decoder.${l}.skip`);
    v = convBnRelu(v, `decoder.${l}.conv2`, `decoder.${l}.bn2`, c);
  }
  v = g.upsample2x(v, 'decoder.head.up');
  v = convBnRelu(v, 'decoder.head.conv1', 'decoder.head.bn1', config.headChannels);
  const recon = g.conv(v, 'decoder.out', { out: 3, kernel: 3, bias: true, ...head });

  const outputs: NetworkGraph['outputs'] = { recon, addressing, features: [...features] };
  if (config.featureBank) outputs.featureBank = featureBankHead(g, features, config.featureBank);
  return { inputs: { image, edge }, nodes: g.nodes, params: g.params, shapes: g.shapes, outputs };
}

/**
 * PatchCore's locally aware patch features on the bank's levels (default 2 and 3, strides 8 and 16): 3×3 mean,
 * coarser levels upsampled to the finest one's grid, concatenated; then the distance to the nearest normal bank
 * item (filled at export).
 */
function featureBankHead(g: GraphBuilder, features: string[], bank: { items: number; levels: number[] }): { patches: string; distance: string; bank: string } {
  const finest = bank.levels[0]!;
  const parts = bank.levels.map((l) => {
    let v = g.avgPool3(features[l]!, `featureBank.pool${l}`);
    // one bilinear ×2 per level of difference; the first keeps the name it had when the bank was levels 2 and 3 only
    for (let k = finest; k < l; k++) v = g.upsample2x(v, k === finest ? `featureBank.up${l}` : `featureBank.up${l}.${k}`);
    return v;
  });
  const patches = parts.length === 1 ? parts[0]! : g.concatChannels(parts, 'featureBank.patches');
  const distance = g.nearestNormal(patches, 'featureBank', bank.items);
  return { patches, distance, bank: 'featureBank.bank' };
}

/** Attention per fused level: Coordinate Attention (paper), SE, CBAM or none (paper Table 6). */
function attention(g: GraphBuilder, x: string, prefix: string, kind: AttentionKind, eps: number): string {
  const [c, h, w] = g.shape(x);
  const head = { init: 'normal0.02' as const, trainable: true };
  if (kind === 'none') return x;
  if (kind === 'ca') {
    // houqb/CoordAttention: mip = max(8, C / 32); conv1 (bias) → BN → h_swish; conv_h / conv_w (bias) → sigmoid.
    const mip = Math.max(8, Math.floor(c / 32));
    let y = g.coordPool(x, `${prefix}.pool`);
    y = g.conv(y, `${prefix}.conv1`, { out: mip, kernel: 1, bias: true, ...head });
    y = g.batchNorm(y, `${prefix}.bn1`, { epsilon: eps, trainable: true, backbone: false });
    y = g.unary(y, 'hardSwish', `${prefix}.act`);
    const [yh, yw] = g.coordSplit(y, h, w, `${prefix}.split`);
    const ah = g.unary(g.conv(yh, `${prefix}.conv_h`, { out: c, kernel: 1, bias: true, ...head }), 'sigmoid');
    const aw = g.unary(g.conv(yw, `${prefix}.conv_w`, { out: c, kernel: 1, bias: true, ...head }), 'sigmoid');
    return g.binary(g.binary(x, aw, 'mul', `${prefix}.mul_w`), ah, 'mul', `${prefix}.mul_h`);
  }
  const hidden = Math.max(1, Math.floor(c / 16));
  if (kind === 'se') {
    let y = g.reduce(x, 'globalAvgPool', `${prefix}.pool`);
    y = g.unary(g.conv(y, `${prefix}.fc1`, { out: hidden, kernel: 1, bias: true, ...head }), 'relu');
    y = g.unary(g.conv(y, `${prefix}.fc2`, { out: c, kernel: 1, bias: true, ...head }), 'sigmoid');
    return g.binary(x, y, 'mul', `${prefix}.mul`);
  }
  // CBAM: shared MLP over avg- and max-pooled channels, then a 7×7 spatial gate on [mean, max] over channels.
  const mlp = (v: string, tag: string): string => {
    // The two branches share weights: the second call reuses the first call's parameters.
    const reuse = tag === 'max';
    const conv1 = reuse ? sharedConv(g, v, `${prefix}.mlp1`, hidden) : g.conv(v, `${prefix}.mlp1`, { out: hidden, kernel: 1, ...head });
    const r = g.unary(conv1, 'relu');
    return reuse ? sharedConv(g, r, `${prefix}.mlp2`, c) : g.conv(r, `${prefix}.mlp2`, { out: c, kernel: 1, ...head });
  };
  const avg = mlp(g.reduce(x, 'globalAvgPool', `${prefix}.avg`), 'avg');
  const max = mlp(g.reduce(x, 'globalMaxPool', `${prefix}.max`), 'max');
  const channelGate = g.unary(g.binary(avg, max, 'add', `${prefix}.mlp_add`), 'sigmoid');
  const xc = g.binary(x, channelGate, 'mul', `${prefix}.channel`);
  const pooled = g.concatChannels([g.reduce(xc, 'channelMean', `${prefix}.cmean`), g.reduce(xc, 'channelMax', `${prefix}.cmax`)], `${prefix}.cat`);
  const spatialGate = g.unary(g.conv(pooled, `${prefix}.spatial`, { out: 1, kernel: 7, ...head }), 'sigmoid');
  return g.binary(xc, spatialGate, 'mul', `${prefix}.spatial_mul`);
}

/** A 1×1 conv node that reuses an already declared weight (CBAM's shared MLP). */
function sharedConv(g: GraphBuilder, x: string, prefix: string, out: number): string {
  return g.convShared(x, `${prefix}.weight`, out);
}

/**
 * Keras layer lists → graph ops. A backbone that comes from a Keras model (TensorFlow.js layers format, e.g.
 * nsfwjs's MobileNetV2) is described here as a list of its layers in Keras's own terms — names, classes, the
 * config fields that change the numbers — so that (1) the graph builder builds it with Keras's exact padding
 * and BatchNorm ε, and (2) the importer can check a model file's topology against it layer by layer
 * (`kerasLayerFromJson` puts a file's layer in the same normalised form). Parameter names are the Keras layer
 * names under the `backbone.` prefix (`backbone.block_1_depthwise.weight`, `backbone.bn_Conv1.running_var`);
 * layouts are PyTorch's (conv OIHW; depthwise [C·m, 1, k, k]).
 */
import { MmaerecError } from '../errors.js';
import type { GraphBuilder } from './graph.js';

export type KerasLayer =
  | { class: 'ZeroPadding2D'; name: string; inbound: string[]; padding: [[number, number], [number, number]] }
  | { class: 'Conv2D'; name: string; inbound: string[]; filters: number; kernel: number; stride: number; padding: 'same' | 'valid'; useBias: boolean }
  | { class: 'DepthwiseConv2D'; name: string; inbound: string[]; depthMultiplier: number; kernel: number; stride: number; padding: 'same' | 'valid'; useBias: boolean }
  | { class: 'BatchNormalization'; name: string; inbound: string[]; epsilon: number }
  /** Keras ReLU layer: max_value null = plain ReLU, 6 = ReLU6. */
  | { class: 'ReLU'; name: string; inbound: string[]; maxValue: number | null }
  | { class: 'Add'; name: string; inbound: string[] };

/** Keras's `_make_divisible` (keras.applications.mobilenet_v2). */
function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/**
 * keras.applications.MobileNetV2 (α = 1.0, Keras 2.2.4 layer names), as in nsfwjs's `mobilenet_v2` model:
 * Conv1 (stride 2, ZeroPadding2D ((0,1),(0,1)) then 'valid'), 17 inverted-residual blocks (expand 1×1 → ReLU6
 * → [ZeroPadding2D + 'valid' when stride 2] depthwise 3×3 → ReLU6 → project 1×1, Add when shapes agree), BN ε
 * 1e-3. The classifier head (Conv_1 onward) is not part of it: taps stop at block_16_project_BN.
 */
export function mobilenetV2Layers(): KerasLayer[] {
  const out: KerasLayer[] = [];
  let prev = 'input';
  const add = (l: KerasLayer): string => {
    out.push(l);
    prev = l.name;
    return l.name;
  };
  const eps = 1e-3;
  add({ class: 'ZeroPadding2D', name: 'Conv1_pad', inbound: [prev], padding: [[0, 1], [0, 1]] });
  add({ class: 'Conv2D', name: 'Conv1', inbound: [prev], filters: makeDivisible(32), kernel: 3, stride: 2, padding: 'valid', useBias: false });
  add({ class: 'BatchNormalization', name: 'bn_Conv1', inbound: [prev], epsilon: eps });
  add({ class: 'ReLU', name: 'Conv1_relu', inbound: [prev], maxValue: 6 });
  let channels = 32;
  // [filters, stride, expansion] per block (block_id 0 … 16)
  const blocks: [number, number, number][] = [
    [16, 1, 1], [24, 2, 6], [24, 1, 6], [32, 2, 6], [32, 1, 6], [32, 1, 6], [64, 2, 6], [64, 1, 6], [64, 1, 6],
    [64, 1, 6], [96, 1, 6], [96, 1, 6], [96, 1, 6], [160, 2, 6], [160, 1, 6], [160, 1, 6], [320, 1, 6],
  ];
  blocks.forEach(([filters, stride, expansion], id) => {
    const input = prev;
    const pointwise = makeDivisible(filters);
    const p = id === 0 ? 'expanded_conv_' : `block_${id}_`;
    if (id > 0) {
      add({ class: 'Conv2D', name: `${p}expand`, inbound: [prev], filters: expansion * channels, kernel: 1, stride: 1, padding: 'same', useBias: false });
      add({ class: 'BatchNormalization', name: `${p}expand_BN`, inbound: [prev], epsilon: eps });
      add({ class: 'ReLU', name: `${p}expand_relu`, inbound: [prev], maxValue: 6 });
    }
    if (stride === 2) add({ class: 'ZeroPadding2D', name: `${p}pad`, inbound: [prev], padding: [[0, 1], [0, 1]] });
    add({ class: 'DepthwiseConv2D', name: `${p}depthwise`, inbound: [prev], depthMultiplier: 1, kernel: 3, stride, padding: stride === 1 ? 'same' : 'valid', useBias: false });
    add({ class: 'BatchNormalization', name: `${p}depthwise_BN`, inbound: [prev], epsilon: eps });
    add({ class: 'ReLU', name: `${p}depthwise_relu`, inbound: [prev], maxValue: 6 });
    add({ class: 'Conv2D', name: `${p}project`, inbound: [prev], filters: pointwise, kernel: 1, stride: 1, padding: 'same', useBias: false });
    add({ class: 'BatchNormalization', name: `${p}project_BN`, inbound: [prev], epsilon: eps });
    if (channels === pointwise && stride === 1) add({ class: 'Add', name: `${p}add`, inbound: [input, prev] });
    channels = pointwise;
  });
  return out;
}

/** TF/Keras 'same' padding along one axis: [before, after] (the extra pixel goes after). */
function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const outSize = Math.ceil(size / stride);
  const total = Math.max((outSize - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * Appends `layers` to `g`; the first layer's input named `input` (or any name not produced by the list) is
 * `x`. A ZeroPadding2D is folded into the convolution that reads it (zero padding either way, so exact).
 * Returns every layer's output value by layer name.
 */
export function buildKerasLayers(g: GraphBuilder, x: string, layers: KerasLayer[], o: { prefix: string; trainable: boolean }): Map<string, string> {
  const values = new Map<string, string>();
  const padded = new Map<string, { value: string; pads: [number, number, number, number] }>();
  const input = (name: string, layer: KerasLayer): string => {
    if (padded.has(name)) throw new Error(`keras layers: ${layer.name} reads the ZeroPadding2D ${name}; only a convolution may`);
    return values.get(name) ?? x;
  };
  for (const l of layers) {
    const p = o.prefix + l.name;
    switch (l.class) {
      case 'ZeroPadding2D': {
        const src = padded.get(l.inbound[0]!);
        const base = src?.pads ?? [0, 0, 0, 0];
        const [[t, b], [left, r]] = l.padding;
        padded.set(l.name, { value: src?.value ?? input(l.inbound[0]!, l), pads: [base[0] + t, base[1] + left, base[2] + b, base[3] + r] });
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const src = padded.get(l.inbound[0]!) ?? { value: input(l.inbound[0]!, l), pads: [0, 0, 0, 0] as [number, number, number, number] };
        const [c, h, w] = g.shape(src.value);
        const pads = [...src.pads] as [number, number, number, number];
        if (l.padding === 'same') {
          const ph = samePadding(h + pads[0] + pads[2], l.kernel, l.stride);
          const pw = samePadding(w + pads[1] + pads[3], l.kernel, l.stride);
          pads[0] += ph[0];
          pads[2] += ph[1];
          pads[1] += pw[0];
          pads[3] += pw[1];
        }
        const depthwise = l.class === 'DepthwiseConv2D';
        values.set(
          l.name,
          g.conv(src.value, p, {
            out: depthwise ? c * l.depthMultiplier : l.filters,
            kernel: l.kernel,
            stride: l.stride,
            bias: l.useBias,
            pads,
            groups: depthwise ? c : 1,
            init: 'kaimingFanOut',
            trainable: o.trainable,
          }),
        );
        break;
      }
      case 'BatchNormalization':
        values.set(l.name, g.batchNorm(input(l.inbound[0]!, l), p, { epsilon: l.epsilon, trainable: o.trainable, backbone: true, weightInit: 'ones' }));
        break;
      case 'ReLU': {
        const v = input(l.inbound[0]!, l);
        values.set(l.name, l.maxValue === null ? g.unary(v, 'relu', p) : g.clip(v, 0, l.maxValue, p));
        break;
      }
      case 'Add':
        values.set(l.name, g.binary(input(l.inbound[0]!, l), input(l.inbound[1]!, l), 'add', p));
        break;
    }
  }
  return values;
}

type Json = Record<string, unknown>;

const pair = (v: unknown): [number, number] | undefined =>
  Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number') ? [v[0] as number, v[1] as number] : typeof v === 'number' ? [v, v] : undefined;

/**
 * One layer of a Keras `model_config` (TensorFlow.js layers model.json) in KerasLayer form, or a reason it has
 * no such form (a class or setting the graph builder does not implement). `inbound` lists the producing
 * layers' names (an InputLayer's output is called `input`).
 */
export function kerasLayerFromJson(layer: Json, inputs: Set<string>): KerasLayer | { unsupported: string } {
  const name = String(layer.name ?? (layer.config as Json | undefined)?.name ?? '?');
  const cls = String(layer.class_name);
  const c = (layer.config ?? {}) as Json;
  const nodes = (layer.inbound_nodes ?? []) as unknown[][];
  if (nodes.length > 1) return { unsupported: `${name} is shared (called ${nodes.length} times)` };
  const inbound = ((nodes[0] ?? []) as unknown[]).map((n) => {
    const from = Array.isArray(n) ? String(n[0]) : String((n as Json).name ?? n);
    return inputs.has(from) ? 'input' : from;
  });
  const channelsLast = c.data_format === undefined || c.data_format === 'channels_last';
  const linear = c.activation === undefined || c.activation === 'linear';
  const dilation = pair(c.dilation_rate ?? 1);
  const kernel = pair(c.kernel_size);
  const strides = pair(c.strides ?? 1);
  const conv = (): string | undefined => {
    if (!channelsLast) return `data_format ${String(c.data_format)}`;
    if (!linear) return `fused activation ${String(c.activation)}`;
    if (!dilation || dilation[0] !== 1 || dilation[1] !== 1) return `dilation ${JSON.stringify(c.dilation_rate)}`;
    if (!kernel || kernel[0] !== kernel[1]) return `kernel ${JSON.stringify(c.kernel_size)} (square kernels only)`;
    if (!strides || strides[0] !== strides[1]) return `strides ${JSON.stringify(c.strides)}`;
    if (c.padding !== 'same' && c.padding !== 'valid') return `padding ${JSON.stringify(c.padding)}`;
    return undefined;
  };
  switch (cls) {
    case 'ZeroPadding2D': {
      const pd = c.padding;
      let padding: [[number, number], [number, number]] | undefined;
      if (typeof pd === 'number') padding = [[pd, pd], [pd, pd]];
      else if (Array.isArray(pd) && pd.length === 2) {
        const a = pair(pd[0]);
        const b = pair(pd[1]);
        if (a && b) padding = [a, b];
      }
      if (!padding || !channelsLast) return { unsupported: `${name}: ZeroPadding2D padding ${JSON.stringify(pd)}` };
      return { class: cls, name, inbound, padding };
    }
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const why = conv();
      if (why) return { unsupported: `${name}: ${cls} with ${why}` };
      const common = { name, inbound, kernel: kernel![0], stride: strides![0], padding: c.padding as 'same' | 'valid', useBias: c.use_bias !== false };
      if (cls === 'Conv2D') {
        if ((c.groups ?? 1) !== 1) return { unsupported: `${name}: Conv2D groups ${String(c.groups)}` };
        return { class: cls, ...common, filters: Number(c.filters) };
      }
      return { class: cls, ...common, depthMultiplier: Number(c.depth_multiplier ?? 1) };
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(c.axis) ? c.axis[0] : c.axis;
      if (axis !== -1 && axis !== 3) return { unsupported: `${name}: BatchNormalization over axis ${JSON.stringify(c.axis)}` };
      if (c.center === false || c.scale === false) return { unsupported: `${name}: BatchNormalization without center/scale` };
      return { class: cls, name, inbound, epsilon: Number(c.epsilon ?? 1e-3) };
    }
    case 'ReLU': {
      if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) return { unsupported: `${name}: ReLU with negative_slope/threshold` };
      return { class: cls, name, inbound, maxValue: c.max_value === null || c.max_value === undefined ? null : Number(c.max_value) };
    }
    case 'Activation':
      if (c.activation === 'relu') return { class: 'ReLU', name, inbound, maxValue: null };
      if (c.activation === 'relu6') return { class: 'ReLU', name, inbound, maxValue: 6 };
      return { unsupported: `${name}: Activation ${String(c.activation)}` };
    case 'Add':
      return { class: cls, name, inbound };
    default:
      return { unsupported: `${name}: layer class ${cls}` };
  }
}

/** The Keras weight names of one layer's parameters, with our parameter suffix and how to transpose. */
export function kerasWeightNames(l: KerasLayer): { keras: string; suffix: string; layout: 'conv' | 'depthwise' | 'vector' }[] {
  switch (l.class) {
    case 'Conv2D':
      return [{ keras: `${l.name}/kernel`, suffix: 'weight', layout: 'conv' as const }, ...(l.useBias ? [{ keras: `${l.name}/bias`, suffix: 'bias', layout: 'vector' as const }] : [])];
    case 'DepthwiseConv2D':
      return [{ keras: `${l.name}/depthwise_kernel`, suffix: 'weight', layout: 'depthwise' as const }, ...(l.useBias ? [{ keras: `${l.name}/bias`, suffix: 'bias', layout: 'vector' as const }] : [])];
    case 'BatchNormalization':
      return [
        { keras: `${l.name}/gamma`, suffix: 'weight', layout: 'vector' },
        { keras: `${l.name}/beta`, suffix: 'bias', layout: 'vector' },
        { keras: `${l.name}/moving_mean`, suffix: 'running_mean', layout: 'vector' },
        { keras: `${l.name}/moving_variance`, suffix: 'running_var', layout: 'vector' },
      ];
    default:
      return [];
  }
}

/** Keras kernel → PyTorch layout: conv [kh,kw,in,out] → [out,in,kh,kw]; depthwise [kh,kw,C,m] → [C·m,1,kh,kw]. */
export function kerasToTorch(data: Float32Array, shape: number[], layout: 'conv' | 'depthwise' | 'vector'): { shape: number[]; data: Float32Array } {
  if (layout === 'vector') return { shape: [...shape], data };
  const [kh, kw, a, b] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  // conv: o = b-index, i = a-index; depthwise: output channel c·m + j with c = a-index, j = b-index
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < b; j++) {
          const v = data[((y * kw + x) * a + i) * b + j]!;
          if (layout === 'conv') out[((j * a + i) * kh + y) * kw + x] = v;
          else out[((i * b + j) * kh + y) * kw + x] = v;
        }
      }
    }
  }
  return { shape: layout === 'conv' ? [b, a, kh, kw] : [a * b, 1, kh, kw], data: out };
}

/** A one-line error for a model file whose topology is not the expected one. */
export function topologyError(path: string, what: string, fix: string): MmaerecError {
  return new MmaerecError('E_MODEL', `${path}: ${what}: ${fix}`);
}

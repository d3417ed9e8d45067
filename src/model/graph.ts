/**
 * The network as a small typed graph of operations. Both back ends walk the same list of nodes: the tfjs
 * executor (training, `tfjs-executor.ts`) and the ONNX writer (deployment, `onnx-writer.ts`). Ops are
 * defined by their NCHW semantics; each back end maps them onto its own layout.
 */

/** Shape of one value without its batch dimension: [channels, height, width]. */
export type ValueShape = [number, number, number];

/** How a parameter is initialised when no weights are given (docs/architecture.md, "Initialisation"). */
export type InitKind =
  | 'normal0.02' // EdgRec: conv weights N(0, 0.02)
  | 'bnWeight' // EdgRec: BatchNorm weight N(1, 0.02)
  | 'kaimingFanOut' // torchvision ResNet conv init (random backbone only)
  | 'uniformMemory' // MemAE: U(−1/√C, 1/√C)
  | 'zeros'
  | 'ones';

export interface ParamSpec {
  /** Stable tensor name in weights.safetensors and in the ONNX initializers (e.g. `backbone.layer1.0.conv1.weight`). */
  name: string;
  /** PyTorch layout: conv OIHW, BatchNorm [C], memory [N, C]. */
  shape: number[];
  init: InitKind;
  /** Receives gradients (false: frozen backbone parameters and every BatchNorm running statistic). */
  trainable: boolean;
  /** A BatchNorm running statistic (a buffer, not counted as a parameter). */
  buffer: boolean;
}

export type Op =
  | { op: 'normalize'; mean: [number, number, number]; std: [number, number, number] }
  /**
   * `pad`: symmetric zero padding; `pads` (when present, it wins): [top, left, bottom, right] — ONNX's order —
   * for the asymmetric padding of Keras (ZeroPadding2D ((0,1),(0,1)) before a stride-2 'valid' conv, and TF's
   * 'same'). `groups` (absent = 1): grouped convolution, weight [out, in/groups, k, k]; the executors support
   * 1 and depthwise (groups = inChannels).
   */
  | { op: 'conv'; weight: string; bias?: string; inChannels: number; outChannels: number; kernel: number; stride: number; pad: number; pads?: [number, number, number, number]; groups?: number }
  | { op: 'batchNorm'; prefix: string; channels: number; epsilon: number; backbone: boolean }
  | { op: 'relu' }
  /** min(max(x, min), max): ReLU6 of MobileNets is clip(0, 6). */
  | { op: 'clip'; min: number; max: number }
  | { op: 'sigmoid' }
  | { op: 'hardSwish' }
  | { op: 'maxPool3s2' }
  | { op: 'add' }
  | { op: 'mul' }
  | { op: 'upsample2x' }
  /** Outputs [read-out ẑ (B,C,H,W), addressing ŵ (B,N,H,W)] (method.md §3). */
  | { op: 'memory'; weight: string; items: number; channels: number; lambda: number; epsilon: number }
  /** Coordinate Attention pooling: (B,C,H,W) → (B,C,H+W,1) = concat(mean over W, mean over H transposed). */
  | { op: 'coordPool' }
  /** Inverse of coordPool's layout: (B,C,H+W,1) → [(B,C,H,1), (B,C,1,W)]. */
  | { op: 'coordSplit'; height: number; width: number }
  | { op: 'globalAvgPool' }
  | { op: 'globalMaxPool' }
  | { op: 'channelMean' }
  | { op: 'channelMax' }
  | { op: 'concatChannels' }
  /** 3×3 mean over each position's neighbourhood, stride 1, padding left out of the count (PatchCore's local aggregation). */
  | { op: 'avgPool3' }
  /**
   * Distance of each position's feature vector to its nearest item of a bank of normal features [K, C]
   * (docs/architecture.md, "Feature distance"): (B,C,h,w) → (B,1,h,w), ‖f − b*‖₂ with b* the nearest row.
   */
  | { op: 'nearestNormal'; bank: string; items: number; channels: number };

export type OpKind = Op['op'];

export interface GraphNode {
  name: string;
  spec: Op;
  inputs: string[];
  outputs: string[];
}

export interface NetworkGraph {
  /** Graph inputs: `image` (B,3,H,W) RGB in [0,1] and `edge` (B,1,H,W). */
  inputs: { image: string; edge: string };
  nodes: GraphNode[];
  params: ParamSpec[];
  shapes: Map<string, ValueShape>;
  outputs: {
    recon: string;
    /** Memory addressing weights per level that has a memory (for the entropy loss, eq. 5). */
    addressing: { level: number; value: string }[];
    /** The four backbone levels (strides 2/4/8/16) as the backbone delivers them, before memory and projection. */
    features: string[];
    /** With a feature bank (config.featureBank): the patch features it compares (B,C,h,w) and their distance map (B,1,h,w). */
    featureBank?: { patches: string; distance: string; bank: string };
  };
}

/** Builds a graph node by node, tracking value shapes; every method returns the output value name. */
export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly params: ParamSpec[] = [];
  readonly shapes = new Map<string, ValueShape>();
  private counter = 0;

  input(name: string, shape: ValueShape): string {
    this.shapes.set(name, shape);
    return name;
  }

  shape(value: string): ValueShape {
    const s = this.shapes.get(value);
    if (!s) throw new Error(`graph builder: unknown value ${value}`);
    return s;
  }

  param(spec: ParamSpec): string {
    if (this.params.some((p) => p.name === spec.name)) throw new Error(`graph builder: duplicate parameter ${spec.name}`);
    this.params.push(spec);
    return spec.name;
  }

  private node(name: string, spec: Op, inputs: string[], outShapes: ValueShape[]): string[] {
    const outputs = outShapes.map((s, i) => {
      const id = `${name}:${i}#${this.counter++}`;
      this.shapes.set(id, s);
      return id;
    });
    this.nodes.push({ name, spec, inputs, outputs });
    return outputs;
  }

  normalize(x: string, mean: [number, number, number], std: [number, number, number]): string {
    return this.node('normalize', { op: 'normalize', mean, std }, [x], [this.shape(x)])[0]!;
  }

  conv(
    x: string,
    prefix: string,
    o: {
      out: number;
      kernel: number;
      stride?: number;
      bias?: boolean;
      init: InitKind;
      trainable: boolean;
      /** Explicit zero padding [top, left, bottom, right]; default: symmetric (kernel − 1) / 2. */
      pads?: [number, number, number, number];
      /** Grouped convolution (1 = dense; inChannels = depthwise). */
      groups?: number;
    },
  ): string {
    const [c, h, w] = this.shape(x);
    const stride = o.stride ?? 1;
    const groups = o.groups ?? 1;
    if (c % groups !== 0 || o.out % groups !== 0) throw new Error(`graph builder: ${prefix}: ${c} → ${o.out} channels do not split into ${groups} groups`);
    const sym = (o.kernel - 1) >> 1;
    const pads = o.pads ?? [sym, sym, sym, sym];
    const symmetric = pads.every((p) => p === pads[0]);
    const weight = this.param({ name: `${prefix}.weight`, shape: [o.out, c / groups, o.kernel, o.kernel], init: o.init, trainable: o.trainable, buffer: false });
    const bias = o.bias
      ? this.param({ name: `${prefix}.bias`, shape: [o.out], init: 'zeros', trainable: o.trainable, buffer: false })
      : undefined;
    const oh = Math.floor((h + pads[0] + pads[2] - o.kernel) / stride) + 1;
    const ow = Math.floor((w + pads[1] + pads[3] - o.kernel) / stride) + 1;
    if (oh < 1 || ow < 1) throw new Error(`graph builder: ${prefix}: a ${o.kernel}×${o.kernel} kernel does not fit a ${h}×${w} input`);
    const spec: Op = { op: 'conv', weight, inChannels: c, outChannels: o.out, kernel: o.kernel, stride, pad: symmetric ? pads[0] : 0 };
    if (bias) spec.bias = bias;
    if (!symmetric) spec.pads = [...pads];
    if (groups !== 1) spec.groups = groups;
    return this.node(prefix, spec, [x], [[o.out, oh, ow]])[0]!;
  }

  /** A conv node reading an existing weight (shared weights, e.g. CBAM's MLP); 1×1, stride 1, no bias. */
  convShared(x: string, weight: string, out: number): string {
    const [c, h, w] = this.shape(x);
    const p = this.params.find((q) => q.name === weight);
    if (!p || p.shape[0] !== out || p.shape[1] !== c) throw new Error(`graph builder: shared weight ${weight} does not fit`);
    return this.node(weight, { op: 'conv', weight, inChannels: c, outChannels: out, kernel: 1, stride: 1, pad: 0 }, [x], [[out, h, w]])[0]!;
  }

  batchNorm(x: string, prefix: string, o: { epsilon: number; trainable: boolean; backbone: boolean; weightInit?: InitKind }): string {
    const [c] = this.shape(x);
    this.param({ name: `${prefix}.weight`, shape: [c], init: o.weightInit ?? 'bnWeight', trainable: o.trainable, buffer: false });
    this.param({ name: `${prefix}.bias`, shape: [c], init: 'zeros', trainable: o.trainable, buffer: false });
    this.param({ name: `${prefix}.running_mean`, shape: [c], init: 'zeros', trainable: false, buffer: true });
    this.param({ name: `${prefix}.running_var`, shape: [c], init: 'ones', trainable: false, buffer: true });
    return this.node(prefix, { op: 'batchNorm', prefix, channels: c, epsilon: o.epsilon, backbone: o.backbone }, [x], [this.shape(x)])[0]!;
  }

  unary(x: string, op: 'relu' | 'sigmoid' | 'hardSwish', name: string = op): string {
    return this.node(name, { op }, [x], [this.shape(x)])[0]!;
  }

  clip(x: string, min: number, max: number, name = 'clip'): string {
    return this.node(name, { op: 'clip', min, max }, [x], [this.shape(x)])[0]!;
  }

  maxPool(x: string): string {
    const [c, h, w] = this.shape(x);
    return this.node('maxpool', { op: 'maxPool3s2' }, [x], [[c, Math.floor((h - 1) / 2) + 1, Math.floor((w - 1) / 2) + 1]])[0]!;
  }

  /** Elementwise with broadcasting over size-1 dimensions (NumPy rules); output takes the larger shape. */
  binary(a: string, b: string, op: 'add' | 'mul', name: string = op): string {
    const sa = this.shape(a);
    const sb = this.shape(b);
    const out = sa.map((d, i) => Math.max(d, sb[i]!)) as ValueShape;
    for (let i = 0; i < 3; i++) {
      if (sa[i] !== sb[i] && sa[i] !== 1 && sb[i] !== 1) throw new Error(`graph builder: cannot broadcast ${sa} with ${sb} at ${name}`);
    }
    return this.node(name, { op }, [a, b], [out])[0]!;
  }

  upsample2x(x: string, name = 'upsample'): string {
    const [c, h, w] = this.shape(x);
    return this.node(name, { op: 'upsample2x' }, [x], [[c, 2 * h, 2 * w]])[0]!;
  }

  memory(x: string, prefix: string, o: { items: number; shrink: number; epsilon: number }): [string, string] {
    const [c, h, w] = this.shape(x);
    const weight = this.param({ name: `${prefix}.weight`, shape: [o.items, c], init: 'uniformMemory', trainable: true, buffer: false });
    const spec: Op = { op: 'memory', weight, items: o.items, channels: c, lambda: o.shrink / o.items, epsilon: o.epsilon };
    const [z, addr] = this.node(prefix, spec, [x], [[c, h, w], [o.items, h, w]]);
    return [z!, addr!];
  }

  coordPool(x: string, name: string): string {
    const [c, h, w] = this.shape(x);
    return this.node(name, { op: 'coordPool' }, [x], [[c, h + w, 1]])[0]!;
  }

  coordSplit(x: string, height: number, width: number, name: string): [string, string] {
    const [c] = this.shape(x);
    const [a, b] = this.node(name, { op: 'coordSplit', height, width }, [x], [[c, height, 1], [c, 1, width]]);
    return [a!, b!];
  }

  reduce(x: string, op: 'globalAvgPool' | 'globalMaxPool' | 'channelMean' | 'channelMax', name: string): string {
    const [c, h, w] = this.shape(x);
    const out: ValueShape = op === 'globalAvgPool' || op === 'globalMaxPool' ? [c, 1, 1] : [1, h, w];
    return this.node(name, { op }, [x], [out])[0]!;
  }

  avgPool3(x: string, name: string): string {
    return this.node(name, { op: 'avgPool3' }, [x], [this.shape(x)])[0]!;
  }

  /** The nearest-normal distance map of `x` against a bank parameter [items, C] (filled at export, never trained). */
  nearestNormal(x: string, prefix: string, items: number): string {
    const [c, h, w] = this.shape(x);
    const bank = this.param({ name: `${prefix}.bank`, shape: [items, c], init: 'zeros', trainable: false, buffer: true });
    return this.node(prefix, { op: 'nearestNormal', bank, items, channels: c }, [x], [[1, h, w]])[0]!;
  }

  concatChannels(xs: string[], name: string): string {
    const shapes = xs.map((x) => this.shape(x));
    const [, h, w] = shapes[0]!;
    return this.node(name, { op: 'concatChannels' }, xs, [[shapes.reduce((s, v) => s + v[0], 0), h, w]])[0]!;
  }
}

import type { GraphNode, NetworkGraph } from './graph.js';
import type { WeightMap } from './init.js';
import { ATTR, onnxType, TENSOR_FLOAT, TENSOR_INT32, TENSOR_INT64, TENSOR_INT8, TENSOR_UINT8 } from './onnx-proto.js';
import { quantizeConv, type QdqSpec } from './qdq.js';

/** ONNX opset of the exported model (Resize half_pixel, HardSwish, Split with an input need ≥ 14; 17 is widely supported by ORT and TensorRT 8.6+). */
export const ONNX_OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (onnx/helper.py VERSION_TABLE). */
export const ONNX_IR_VERSION = 8;

type Attr = { name: string; type: number; i?: number; f?: number; s?: Uint8Array; ints?: number[]; floats?: number[] };
interface NodeMsg { input: string[]; output: string[]; name: string; op_type: string; attribute: Attr[] }
interface TensorMsg { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

const ints = (name: string, v: number[]): Attr => ({ name, type: ATTR.INTS, ints: v });
const int = (name: string, v: number): Attr => ({ name, type: ATTR.INT, i: v });
const float = (name: string, v: number): Attr => ({ name, type: ATTR.FLOAT, f: v });
const str = (name: string, v: string): Attr => ({ name, type: ATTR.STRING, s: new TextEncoder().encode(v) });

function floatTensor(name: string, dims: number[], data: Float32Array): TensorMsg {
  return { name, dims, data_type: TENSOR_FLOAT, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
function int64Tensor(name: string, values: number[]): TensorMsg {
  return { name, dims: [values.length], data_type: TENSOR_INT64, raw_data: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) };
}
/** An int8 / uint8 / int32 tensor (quantised weights, biases, zero points) as raw little-endian data. */
function intTensor(name: string, dims: number[], data: Int8Array | Uint8Array | Int32Array): TensorMsg {
  const data_type = data instanceof Int8Array ? TENSOR_INT8 : data instanceof Uint8Array ? TENSOR_UINT8 : TENSOR_INT32;
  return { name, dims, data_type, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Row-normalised memory (x / max(‖x‖₂, ε), as the tfjs executor computes it) and its transpose. */
export function memoryConstants(m: Float32Array, items: number, channels: number, epsilon: number): { cosine: Float32Array; readout: Float32Array } {
  const cosine = new Float32Array(items * channels);
  const readout = new Float32Array(items * channels);
  for (let i = 0; i < items; i++) {
    let sq = 0;
    for (let c = 0; c < channels; c++) sq += m[i * channels + c]! ** 2;
    const norm = Math.max(Math.fround(Math.sqrt(sq)), epsilon);
    for (let c = 0; c < channels; c++) {
      cosine[i * channels + c] = m[i * channels + c]! / norm;
      readout[c * items + i] = m[i * channels + c]!;
    }
  }
  return { cosine, readout };
}

/** The bank as a 1×1 conv: weights −2b [K,C] and bias ‖b‖² [K] (nearestNormal's ‖f‖² − 2f·b + ‖b‖²). */
export function bankConstants(bank: Float32Array, items: number, channels: number): { weight: Float32Array; bias: Float32Array } {
  const weight = new Float32Array(items * channels);
  const bias = new Float32Array(items);
  for (let i = 0; i < items; i++) {
    let sq = 0;
    for (let c = 0; c < channels; c++) {
      const b = bank[i * channels + c]!;
      weight[i * channels + c] = -2 * b;
      sq += b * b;
    }
    bias[i] = sq;
  }
  return { weight, bias };
}

/**
 * Serialises the network with its weights as an ONNX model (NCHW): inputs `image` [1,3,S,S] (RGB in [0,1])
 * and `edge` [1,1,S,S]; output `recon` [1,3,S,S]. BatchNorm is emitted as BatchNormalization with the running
 * statistics (ONNX Runtime and TensorRT fold it into the convolution themselves). Initializers carry the
 * weights.safetensors names, except each memory, which appears as `<name>:cosine` and `<name>:readout`.
 */
export function writeOnnx(
  graph: NetworkGraph,
  weights: WeightMap,
  o: {
    inputSize: number;
    producerVersion?: string;
    name?: string;
    /** Also output the backbone levels as `feature0` … `feature3` (NCHW), e.g. to check an imported backbone. */
    featureOutputs?: boolean;
    /** Also output these graph values, in order, as `probe0`, `probe1`, … (float, NCHW): calibration reads them. */
    probes?: readonly string[];
    /**
     * Static QDQ quantisation (qdq.ts): the listed values pass through QuantizeLinear → DequantizeLinear, and
     * the listed convs read int8 weights and int32 biases through DequantizeLinear. ONNX Runtime fuses the
     * patterns into integer kernels; what is not listed stays float.
     */
    qdq?: QdqSpec;
  },
): Uint8Array {
  const nodes: NodeMsg[] = [];
  const initializers: TensorMsg[] = [];
  const constants = new Map<string, string>();
  const rename = new Map<string, string>([[graph.outputs.recon, 'recon']]);
  const bankOut = graph.outputs.featureBank;
  if (bankOut) rename.set(bankOut.distance, 'featureDistance');
  const features = o.featureOutputs ? graph.outputs.features : [];
  // A level that is the graph input itself cannot be renamed; the backbone always has ops before its taps.
  features.forEach((f, l) => rename.set(f, `feature${l}`));
  const derived = new Set<string>(); // parameters exported only through derived constants
  const v = (name: string): string => rename.get(name) ?? name;
  const dequantized = new Map<string, string>(); // quantised value → the name its consumers read
  const r = (name: string): string => dequantized.get(name) ?? v(name);
  const perChannel = new Set<string>(); // per-channel DequantizeLinear outputs already emitted (floatConvInput)
  const consumers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  let counter = 0;
  const tmp = (hint: string): string => `${hint}/t${counter++}`;
  const emit = (op_type: string, input: string[], output: string[], attribute: Attr[] = []): void => {
    nodes.push({ op_type, input, output, name: `${op_type}_${nodes.length}`, attribute });
  };
  const constF = (values: number[], dims: number[]): string => {
    const key = `f:${dims}:${values}`;
    let name = constants.get(key);
    if (!name) {
      name = `const/${constants.size}`;
      constants.set(key, name);
      initializers.push(floatTensor(name, dims, Float32Array.from(values)));
    }
    return name;
  };
  const constU8 = (value: number): string => {
    const key = `u8:${value}`;
    let name = constants.get(key);
    if (!name) {
      name = `const/${constants.size}`;
      constants.set(key, name);
      initializers.push(intTensor(name, [], Uint8Array.of(value)));
    }
    return name;
  };
  const constI = (values: number[]): string => {
    const key = `i:${values}`;
    let name = constants.get(key);
    if (!name) {
      name = `const/${constants.size}`;
      constants.set(key, name);
      initializers.push(int64Tensor(name, values));
    }
    return name;
  };

  for (const input of [graph.inputs.image, graph.inputs.edge]) quantizeValue(input);
  for (const node of graph.nodes) {
    emitNode(node);
    node.outputs.forEach(quantizeValue);
  }

  /** QuantizeLinear → DequantizeLinear after `value`'s producer, when the qdq spec lists it. */
  function quantizeValue(value: string): void {
    const q = o.qdq?.activations.get(value);
    if (!q) return;
    if (value === graph.outputs.recon) throw new Error('onnx writer: the recon output cannot be quantised');
    // Shared scale and zero-point initializers for equal parameters: ONNX Runtime drops a DQ → Resize → Q pair
    // into a uint8 Resize only when both ends name the same ones.
    const scale = constF([q.scale], []);
    const zero = constU8(q.zeroPoint);
    const quantized = `${v(value)}/quantized`;
    emit('QuantizeLinear', [v(value), scale, zero], [quantized]);
    emit('DequantizeLinear', [quantized, scale, zero], [`${v(value)}/dequantized`]);
    dequantized.set(value, `${v(value)}/dequantized`);
  }

  /**
   * A float conv that reads a quantised map and whose output is quantised (directly or after its one ReLU / clip)
   * reads the map through its own DequantizeLinear with the scale repeated per channel (axis 1). ONNX Runtime
   * (≥ 1.20, WeightBiasQuantization, at every optimisation level above 'disabled') quantises the float weights of
   * exactly such a Conv when its input comes from a per-tensor DequantizeLinear — per tensor, which cost
   * MobileNetV2's depthwise convs 40 % of the feature-bank distance (docs/architecture.md, "INT8 on the CPU"). The
   * per-channel form is the same numbers and leaves the conv float. Undefined: not such a conv.
   */
  function floatConvInput(node: GraphNode & { spec: { op: 'conv' } }): string | undefined {
    const input = node.inputs[0]!;
    const q = o.qdq?.activations.get(input);
    if (!q || o.qdq!.convs.has(node.spec.weight) || !leadsToQuantize(node.outputs[0]!)) return undefined;
    const name = `${v(input)}/dequantized-per-channel`;
    if (!perChannel.has(name)) {
      const c = node.spec.inChannels;
      initializers.push(floatTensor(`${name}/scale`, [c], new Float32Array(c).fill(q.scale)));
      initializers.push(intTensor(`${name}/zero_point`, [c], new Uint8Array(c).fill(q.zeroPoint)));
      emit('DequantizeLinear', [`${v(input)}/quantized`, `${name}/scale`, `${name}/zero_point`], [name], [int('axis', 1)]);
      perChannel.add(name);
    }
    return name;
  }

  /** Whether `value` is quantised, or is read only by one ReLU / clip whose output is (ORT's path to a QuantizeLinear). */
  function leadsToQuantize(value: string): boolean {
    for (;;) {
      if (o.qdq?.activations.has(value)) return true;
      const next = consumers.get(value) ?? [];
      if (next.length !== 1 || (next[0]!.spec.op !== 'relu' && next[0]!.spec.op !== 'clip')) return false;
      value = next[0]!.outputs[0]!;
    }
  }

  /** The conv's weight (and bias) inputs: float initializers, or int8/int32 through DequantizeLinear (axis 0). */
  function convParams(node: GraphNode & { spec: { op: 'conv' } }): string[] {
    const s = node.spec;
    if (!o.qdq?.convs.has(s.weight)) return s.bias ? [s.weight, s.bias] : [s.weight];
    const inputQuant = o.qdq.activations.get(node.inputs[0]!);
    if (!inputQuant) throw new Error(`onnx writer: conv ${node.name} is quantised but its input is not`);
    const bias = s.bias ? weights.get(s.bias)!.data : undefined;
    const qc = quantizeConv(weights.get(s.weight)!.data, s.outChannels, inputQuant.scale, bias);
    const dq = (param: string, dims: number[], data: Int8Array | Int32Array, scales: Float32Array): string => {
      const base = `${param}/${nodes.length}`;
      initializers.push(intTensor(`${base}/quantized`, dims, data));
      initializers.push(floatTensor(`${base}/scale`, [s.outChannels], scales));
      initializers.push(intTensor(`${base}/zero_point`, [s.outChannels], data instanceof Int8Array ? new Int8Array(s.outChannels) : new Int32Array(s.outChannels)));
      emit('DequantizeLinear', [`${base}/quantized`, `${base}/scale`, `${base}/zero_point`], [`${base}/dequantized`], [int('axis', 0)]);
      derived.add(param);
      return `${base}/dequantized`;
    };
    const shape = graph.params.find((p) => p.name === s.weight)!.shape;
    const inputs = [dq(s.weight, shape, qc.weight, qc.weightScale)];
    if (s.bias) inputs.push(dq(s.bias, [s.outChannels], qc.bias!, qc.biasScale!));
    return inputs;
  }

  function emitNode(node: GraphNode): void {
    const s = node.spec;
    const x = r(node.inputs[0]!);
    const out = node.outputs.map(v);
    const y = out[0]!;
    switch (s.op) {
      case 'normalize': {
        const centred = tmp(node.name);
        emit('Sub', [x, constF(s.mean, [1, 3, 1, 1])], [centred]);
        emit('Div', [centred, constF(s.std, [1, 3, 1, 1])], [y]);
        return;
      }
      case 'conv':
        emit('Conv', [floatConvInput(node as GraphNode & { spec: typeof s }) ?? x, ...convParams(node as GraphNode & { spec: typeof s })], [y], [
          ints('kernel_shape', [s.kernel, s.kernel]),
          ints('strides', [s.stride, s.stride]),
          ints('pads', s.pads ?? [s.pad, s.pad, s.pad, s.pad]),
          ints('dilations', [1, 1]),
          int('group', s.groups ?? 1),
        ]);
        return;
      case 'batchNorm': {
        const p = s.prefix;
        emit('BatchNormalization', [x, `${p}.weight`, `${p}.bias`, `${p}.running_mean`, `${p}.running_var`], [y], [float('epsilon', s.epsilon)]);
        return;
      }
      case 'relu':
        return emit('Relu', [x], [y]);
      case 'clip':
        // Opset ≥ 11: min and max are inputs (scalars).
        return emit('Clip', [x, constF([s.min], []), constF([s.max], [])], [y]);
      case 'sigmoid':
        return emit('Sigmoid', [x], [y]);
      case 'hardSwish':
        return emit('HardSwish', [x], [y]);
      case 'maxPool3s2':
        return emit('MaxPool', [x], [y], [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1])]);
      case 'add':
        return emit('Add', [x, r(node.inputs[1]!)], [y]);
      case 'mul':
        return emit('Mul', [x, r(node.inputs[1]!)], [y]);
      case 'upsample2x':
        // Matches tf.image.resizeBilinear(alignCorners=false, halfPixelCenters=true) and PyTorch align_corners=False.
        return emit('Resize', [x, '', constF([1, 1, 2, 2], [4])], [y], [
          str('mode', 'linear'),
          str('coordinate_transformation_mode', 'half_pixel'),
        ]);
      case 'memory': {
        // The memory enters as two constant conv weights derived at export (TensorRT's parser wants constant
        // conv weights): the L2-normalised rows [N,C,1,1] for the cosine, and Mᵀ [C,N,1,1] for the read-out.
        const m = weights.get(s.weight)!.data;
        const { cosine, readout } = memoryConstants(m, s.items, s.channels, s.epsilon);
        const wCos = `${s.weight}:cosine`;
        const wRead = `${s.weight}:readout`;
        initializers.push(floatTensor(wCos, [s.items, s.channels, 1, 1], cosine));
        initializers.push(floatTensor(wRead, [s.channels, s.items, 1, 1], readout));
        derived.add(s.weight);
        const eps = constF([s.epsilon], []);
        const t = (k: string): string => tmp(`${node.name}.${k}`);
        const [qnorm, qnormc, qn, logits, w, wl, wla, den, num, numw, shr, l1, l1c] = [
          'qnorm', 'qnormc', 'qn', 'logits', 'w', 'wl', 'wla', 'den', 'num', 'numw', 'shr', 'l1', 'l1c',
        ].map(t) as string[];
        // Cosine similarity (eq. 1) = 1×1 conv of the L2-normalised query with the normalised memory rows.
        emit('ReduceL2', [x], [qnorm!], [ints('axes', [1]), int('keepdims', 1)]);
        emit('Max', [qnorm!, eps], [qnormc!]);
        emit('Div', [x, qnormc!], [qn!]);
        emit('Conv', [qn!, wCos], [logits!], [ints('kernel_shape', [1, 1])]);
        emit('Softmax', [logits!], [w!], [int('axis', 1)]);
        // Hard shrinkage (eq. 2): relu(w − λ)·w / (|w − λ| + ε), then L1 renormalisation.
        emit('Sub', [w!, constF([s.lambda], [])], [wl!]);
        emit('Abs', [wl!], [wla!]);
        emit('Add', [wla!, eps], [den!]);
        emit('Relu', [wl!], [num!]);
        emit('Mul', [num!, w!], [numw!]);
        emit('Div', [numw!, den!], [shr!]);
        emit('ReduceSum', [shr!, constI([1])], [l1!], [int('keepdims', 1)]);
        emit('Max', [l1!, eps], [l1c!]);
        emit('Div', [shr!, l1c!], [out[1]!]);
        // Read-out ẑ = ŵM (eq. 3): a 1×1 conv with Mᵀ as weights.
        emit('Conv', [out[1]!, wRead], [y], [ints('kernel_shape', [1, 1])]);
        return;
      }
      case 'coordPool': {
        const xh = tmp(node.name);
        const xw = tmp(node.name);
        const xwt = tmp(node.name);
        emit('ReduceMean', [x], [xh], [ints('axes', [3]), int('keepdims', 1)]);
        emit('ReduceMean', [x], [xw], [ints('axes', [2]), int('keepdims', 1)]);
        emit('Transpose', [xw], [xwt], [ints('perm', [0, 1, 3, 2])]);
        emit('Concat', [xh, xwt], [y], [int('axis', 2)]);
        return;
      }
      case 'coordSplit': {
        const bw = tmp(node.name);
        emit('Split', [x, constI([s.height, s.width])], [out[0]!, bw], [int('axis', 2)]);
        emit('Transpose', [bw], [out[1]!], [ints('perm', [0, 1, 3, 2])]);
        return;
      }
      case 'globalAvgPool':
        return emit('GlobalAveragePool', [x], [y]);
      case 'globalMaxPool':
        return emit('GlobalMaxPool', [x], [y]);
      case 'channelMean':
        return emit('ReduceMean', [x], [y], [ints('axes', [1]), int('keepdims', 1)]);
      case 'channelMax':
        return emit('ReduceMax', [x], [y], [ints('axes', [1]), int('keepdims', 1)]);
      case 'concatChannels':
        return emit('Concat', node.inputs.map(r), [y], [int('axis', 1)]);
      case 'avgPool3':
        return emit('AveragePool', [x], [y], [ints('kernel_shape', [3, 3]), ints('strides', [1, 1]), ints('pads', [1, 1, 1, 1]), int('count_include_pad', 0)]);
      case 'nearestNormal': {
        // ‖f‖² − 2f·b + ‖b‖² with the bank as constant 1×1 conv weights (−2b) and bias (‖b‖²), as the memory's
        // cosine: TensorRT's parser wants constant conv weights. Min over the bank, clamp at 0, square root.
        const { weight, bias } = bankConstants(weights.get(s.bank)!.data, s.items, s.channels);
        const wName = `${s.bank}:conv`;
        const bName = `${s.bank}:norm2`;
        initializers.push(floatTensor(wName, [s.items, s.channels, 1, 1], weight));
        initializers.push(floatTensor(bName, [s.items], bias));
        derived.add(s.bank);
        const t = (k: string): string => tmp(`${node.name}.${k}`);
        const [cross, nearest, f2, d2, d2c] = ['cross', 'nearest', 'f2', 'd2', 'd2c'].map(t) as string[];
        emit('Conv', [x, wName, bName], [cross!], [ints('kernel_shape', [1, 1])]);
        emit('ReduceMin', [cross!], [nearest!], [ints('axes', [1]), int('keepdims', 1)]);
        emit('ReduceSumSquare', [x], [f2!], [ints('axes', [1]), int('keepdims', 1)]);
        emit('Add', [nearest!, f2!], [d2!]);
        emit('Relu', [d2!], [d2c!]);
        return emit('Sqrt', [d2c!], [y]);
      }
    }
  }

  for (const p of graph.params) {
    const w = weights.get(p.name);
    if (!w) throw new Error(`onnx writer: no weights for ${p.name}`);
    if (!derived.has(p.name)) initializers.push(floatTensor(p.name, p.shape, w.data));
  }
  const S = o.inputSize;
  const valueInfo = (name: string, c: number, h = S, w = S) => ({
    name,
    type: { tensor_type: { elem_type: TENSOR_FLOAT, shape: { dim: [1, c, h, w].map((d) => ({ dim_value: d })) } } },
  });
  const featureInfo = features.map((f, l) => {
    const [c, h, w] = graph.shapes.get(f)!;
    return valueInfo(`feature${l}`, c, h, w);
  });
  if (bankOut) {
    const [, h, w] = graph.shapes.get(bankOut.distance)!;
    featureInfo.unshift(valueInfo('featureDistance', 1, h, w));
  }
  const probeInfo = (o.probes ?? []).map((p, i) => {
    const shape = graph.shapes.get(p);
    if (!shape) throw new Error(`onnx writer: probe ${p} is not a graph value`);
    emit('Identity', [v(p)], [`probe${i}`]);
    return valueInfo(`probe${i}`, ...shape);
  });
  const Model = onnxType('ModelProto');
  const model = Model.fromObject({
    ir_version: ONNX_IR_VERSION,
    producer_name: 'mmaerec-edge',
    producer_version: o.producerVersion ?? '0',
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: o.name ?? 'mmaerec',
      node: nodes,
      initializer: initializers,
      input: [valueInfo('image', 3), valueInfo('edge', 1)],
      output: [valueInfo('recon', 3), ...featureInfo, ...probeInfo],
    },
  });
  return Model.encode(model).finish();
}

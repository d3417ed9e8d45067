/**
 * The numbers of static QDQ quantisation (the ONNX QuantizeLinear/DequantizeLinear pairs that ONNX Runtime fuses
 * into QLinearConv and friends): uint8 asymmetric activations per tensor, int8 symmetric weights per output
 * channel, int32 biases at scale (input scale × weight scale). The ONNX writer emits them (onnx-writer.ts); the
 * quantize command chooses the ranges (quantize/).
 *
 * Why u8 activations × s8 weights: it is the pairing ONNX Runtime's x86 kernels are built for (MLAS u8s8 GEMM,
 * AVX-512 VNNI / AVX-VNNI `vpdpbusd` multiplies unsigned by signed bytes) and that Arm's dot-product kernels also
 * take; symmetric weights keep the zero point out of the inner loop.
 */

/** uint8 activation parameters: real = scale · (q − zeroPoint), q ∈ [0, 255]. */
export interface ActivationQuant {
  scale: number;
  zeroPoint: number;
}

/** What the ONNX writer quantises (see writeOnnx's `qdq` option). */
export interface QdqSpec {
  /**
   * Graph values (graph.ts names, or the inputs `image` / `edge`) that pass through QuantizeLinear →
   * DequantizeLinear with these parameters; every consumer reads the dequantised value.
   */
  activations: ReadonlyMap<string, ActivationQuant>;
  /** Conv nodes, by weight name, whose weights and bias enter through DequantizeLinear (their input must be quantised). */
  convs: ReadonlySet<string>;
}

const INT8_MAX = 127;
const INT32_MAX = 2 ** 31 - 1;

/**
 * uint8 parameters for the real range [lo, hi]. The range is widened to contain 0 so that 0 (ReLU's floor, zero
 * padding) is exact; a value range of width 0 gets scale 1 (everything maps to the zero point).
 */
export function activationQuant(lo: number, hi: number): ActivationQuant {
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  if (!(max > min)) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((max - min) / 255);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-min / scale)));
  return { scale, zeroPoint };
}

/** Conv weights and bias quantised for one input scale. */
export interface QuantizedConv {
  /** int8 weights, same layout as the float weights (OIHW). */
  weight: Int8Array;
  /** One scale per output channel (axis 0). */
  weightScale: Float32Array;
  /** int32 bias at scale inputScale × weightScale[o]; absent when the conv has no bias. */
  bias?: Int32Array;
  biasScale?: Float32Array;
}

/**
 * Per-output-channel symmetric int8 weights (scale = max|w_o| / 127), and the bias as int32 at
 * inputScale·weightScale[o] — what QLinearConv consumes. Where a bias would overflow int32 at that scale (a
 * channel of tiny weights with a large bias), the channel's weight scale is raised until it fits, as ONNX
 * Runtime's own quantiser does.
 */
export function quantizeConv(weight: Float32Array, outChannels: number, inputScale: number, bias?: Float32Array): QuantizedConv {
  const perChannel = weight.length / outChannels;
  const weightScale = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let max = 0;
    for (let i = o * perChannel; i < (o + 1) * perChannel; i++) max = Math.max(max, Math.abs(weight[i]!));
    let scale = max > 0 ? max / INT8_MAX : 1;
    if (bias) scale = Math.max(scale, Math.abs(bias[o]!) / (inputScale * INT32_MAX));
    weightScale[o] = scale;
  }
  const q = new Int8Array(weight.length);
  for (let o = 0; o < outChannels; o++) {
    const s = weightScale[o]!;
    for (let i = o * perChannel; i < (o + 1) * perChannel; i++) q[i] = clamp(Math.round(weight[i]! / s), -INT8_MAX, INT8_MAX);
  }
  if (!bias) return { weight: q, weightScale };
  const biasScale = new Float32Array(outChannels);
  const qb = new Int32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    biasScale[o] = inputScale * weightScale[o]!;
    qb[o] = clamp(Math.round(bias[o]! / biasScale[o]!), -INT32_MAX, INT32_MAX);
  }
  return { weight: q, weightScale, bias: qb, biasScale };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

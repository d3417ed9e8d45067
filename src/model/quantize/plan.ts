import type { GraphNode, NetworkGraph } from '../graph.js';

/**
 * Which parts of the (BatchNorm-folded) network run in int8, and which activations need calibrated ranges.
 *
 * - Convs over a spatial map run in int8: their input and their output are quantised, so that ONNX Runtime fuses
 *   DequantizeLinear → Conv → QuantizeLinear into QLinearConv. A ReLU / clip that is a conv's only consumer is
 *   quantised after it instead (its output range starts at 0, and ONNX Runtime then drops the ReLU into the
 *   integer kernel).
 * - Convs stay float where int8 does not pay or costs accuracy: those over a 1-pixel-wide map (the attention
 *   gates: (H+W)×1 pools and 1×1 squeeze-excitation — a few thousand MACs, where quantise/dequantise would cost
 *   more than they save), any conv whose output is the network's output (the reconstruction must not be rounded
 *   to 256 levels: the score compares its gradients with the input's), and those named in `floatConvs`.
 * - With `adds`, additions with a quantised operand (ResNet shortcuts, the decoder's skips, the fusion of edge and
 *   backbone levels) run as QLinearAdd: both operands and the sum are quantised.
 * - Bilinear ×2 and max pooling between quantised maps keep their input's parameters, so ONNX Runtime runs them on
 *   uint8 directly instead of dequantising around them.
 * - Every conv upstream of a feature bank (the backbone up to the bank's deepest level) stays float, with
 *   `bankFloat` (default true): the bank's output is the distance to the nearest normal feature — a small
 *   difference of two large vectors — so errors that a reconstruction shrugs off move it a lot. On the default
 *   recipe's network (pretrained MobileNetV2; docs/architecture.md, "INT8 on the CPU") mean |ΔfeatureDistance| ÷
 *   mean featureDistance was 5.4 % (bank on levels 2, 3) and 6.7 % (levels 1, 2) with those convs int8, 0.002 % and
 *   0.08 % with them float, at the same speed (the backbone is a small share of the work; its int8 convs did not
 *   pay). The depthwise convs alone cost most of it (5.7 → 1.3 % with only them float, in exact float arithmetic),
 *   but float depthwise convs between int8 1×1 convs ran slower than the FP32 model (0.98×): every one needs its
 *   own dequantise / quantise and layout reorders.
 * - A conv that reads a memory module's read-out (the 1×1 projection to the level width, `proj.l`) stays float: the
 *   read-out is a mix of a few memory items, and on the default recipe's network (trained, 750 steps) these three
 *   convs caused half of the reconstruction's int8 error (mean |Δrecon| 0.0067 → 0.0030 with them float) for
 *   well under 1 % of the MACs (no measurable speed difference).
 * The memory modules' 1×1 convs are emitted inside the memory op and stay float (cosine addressing and hard
 * shrinkage are thresholds on values in [−1, 1]). A conv kept float that reads a quantised map really runs in
 * float: the ONNX writer gives it a per-channel DequantizeLinear, which ONNX Runtime's WeightBiasQuantization
 * leaves alone (onnx-writer.ts, floatConvInput).
 */
export interface QuantizationPlan {
  /** Int8 convs, by weight name. */
  convs: Set<string>;
  /** Convs kept float, by node name, and why. */
  floatConvs: { name: string; reason: string }[];
  /** Values whose range is calibrated (in graph order). */
  calibrated: string[];
  /** Values that take another value's parameters (output → input of a bilinear ×2 / max pool). */
  tied: Map<string, string>;
}

export interface PlanOptions {
  /** Conv node names (or name prefixes ending in '.') to keep float, optionally with the reason to record. */
  floatConvs?: readonly (string | { name: string; reason: string })[];
  /** Quantise additions of quantised maps too (default true). */
  adds?: boolean;
  /** Keep the convs that feed a feature bank float (default true; see above). */
  bankFloat?: boolean;
}

/** The reason recorded for a conv that reads a memory read-out. */
export const MEMORY_REASON = 'reads a memory read-out (a mix of a few memory items): int8 here cost the most reconstruction accuracy for < 1 % of the MACs (docs/architecture.md, "INT8 on the CPU")';

/** The reason recorded for a conv that feeds the feature bank. */
export const BANK_REASON = 'feeds the feature bank: its nearest-normal distance is a small difference of large vectors, which int8 moves (docs/architecture.md, "INT8 on the CPU")';

/**
 * Convs with fewer input channels stay float: the first convs on the 1-channel edge map and the 3-channel image
 * took 0.99 and 0.36 ms as QLinearConv against 0.05 and 0.25 ms as ONNX Runtime's float NCHWc conv (demo-lite,
 * 128², one thread) — the integer kernel's im2col has nothing to vectorise over with 1–3 channels.
 */
export const MIN_INT8_CHANNELS = 8;
const PASS_THROUGH = new Set(['upsample2x']);
const ACTIVATIONS = new Set(['relu', 'clip']);

export function planQuantization(graph: NetworkGraph, options: PlanOptions = {}): QuantizationPlan {
  const consumers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  // The network's outputs stay float: the reconstruction, and a feature bank's distance map.
  const outputs = new Set([graph.outputs.recon, ...(graph.outputs.featureBank ? [graph.outputs.featureBank.distance] : [])]);
  const marked = new Set<string>();
  /** Where an op's output is quantised: after its ReLU / clip when that is its only consumer. */
  const site = (value: string): string => {
    const next = consumers.get(value) ?? [];
    return next.length === 1 && ACTIVATIONS.has(next[0]!.spec.op) ? next[0]!.outputs[0]! : value;
  };
  const producer = new Map<string, GraphNode>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const readsMemory = (n: GraphNode): boolean => producer.get(n.inputs[0]!)?.spec.op === 'memory' && producer.get(n.inputs[0]!)!.outputs[0] === n.inputs[0];
  const upstream = options.bankFloat === false || !graph.outputs.featureBank ? new Set<GraphNode>() : ancestors(graph, graph.outputs.featureBank.patches);
  const keepFloat = (name: string): string | undefined => {
    for (const f of options.floatConvs ?? []) {
      const [pattern, reason] = typeof f === 'string' ? [f, 'kept float by request'] : [f.name, f.reason];
      if (pattern.endsWith('.') ? name.startsWith(pattern) : name === pattern) return reason;
    }
    return undefined;
  };

  const convs = new Set<string>();
  const floatConvs: { name: string; reason: string }[] = [];
  for (const n of graph.nodes) {
    if (n.spec.op !== 'conv') continue;
    const [, h, w] = graph.shapes.get(n.inputs[0]!)!;
    const out = site(n.outputs[0]!);
    const reason = keepFloat(n.name)
      ?? (h === 1 || w === 1 ? 'a 1-pixel-wide map (attention gate): too little work for int8 to pay'
        : n.spec.inChannels < MIN_INT8_CHANNELS ? `${n.spec.inChannels} input channel(s): ONNX Runtime's integer conv is slower than its float one here`
          : outputs.has(out) ? "the network's output: the reconstruction stays float"
            : upstream.has(n) ? BANK_REASON
              : readsMemory(n) ? MEMORY_REASON
                : undefined);
    if (reason) {
      floatConvs.push({ name: n.name, reason });
      continue;
    }
    convs.add(n.spec.weight);
    marked.add(n.inputs[0]!);
    marked.add(out);
  }
  if (options.adds ?? true) {
    for (const n of graph.nodes) {
      if (n.spec.op !== 'add' || !n.inputs.some((i) => marked.has(i))) continue;
      const out = site(n.outputs[0]!);
      if (outputs.has(out)) continue;
      n.inputs.forEach((i) => marked.add(i));
      marked.add(out);
    }
  }
  const tied = new Map<string, string>();
  for (const n of graph.nodes) {
    if (!PASS_THROUGH.has(n.spec.op)) continue;
    const [x, y] = [n.inputs[0]!, n.outputs[0]!];
    if (!marked.has(x) && !marked.has(y)) continue;
    marked.add(x);
    marked.add(y);
    tied.set(y, tied.get(x) ?? x);
  }
  const order = [graph.inputs.image, graph.inputs.edge, ...graph.nodes.flatMap((n) => n.outputs)];
  const calibrated = order.filter((v) => marked.has(v) && !tied.has(v));
  return { convs, floatConvs, calibrated, tied };
}

/** The nodes that `value` depends on (its producer and everything upstream of it). */
function ancestors(graph: NetworkGraph, value: string): Set<GraphNode> {
  const producer = new Map<string, GraphNode>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const seen = new Set<GraphNode>();
  const stack = [value];
  while (stack.length) {
    const n = producer.get(stack.pop()!);
    if (!n || seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return seen;
}

import type { GraphNode, NetworkGraph, ParamSpec } from './graph.js';
import type { WeightMap } from './init.js';

/**
 * Folds every inference-mode BatchNorm that directly follows a conv (and is that conv's only consumer) into the
 * conv's weights and bias: w'ₒ = wₒ·γₒ/√(σ²ₒ+ε), b'ₒ = (bₒ − μₒ)·γₒ/√(σ²ₒ+ε) + βₒ.
 *
 * ONNX Runtime folds BatchNormalization into a float Conv by itself, but not into one whose weights arrive
 * through DequantizeLinear — so the quantiser folds first and quantises the folded weights (their per-channel
 * ranges are the ones the integer kernel sees). Returns a new graph and weight map; the inputs are not changed.
 */
export function foldBatchNorms(graph: NetworkGraph, weights: WeightMap): { graph: NetworkGraph; weights: WeightMap } {
  const consumers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const outWeights: WeightMap = new Map(weights);
  const removed = new Set<GraphNode>();
  const replaced = new Map<GraphNode, GraphNode>();
  const newParams: ParamSpec[] = [];
  const dropped = new Set<string>();
  for (const conv of graph.nodes) {
    if (conv.spec.op !== 'conv') continue;
    const next = consumers.get(conv.outputs[0]!) ?? [];
    const bn = next[0];
    if (next.length !== 1 || bn?.spec.op !== 'batchNorm') continue;
    const s = conv.spec;
    const p = bn.spec.prefix;
    const [gamma, beta, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => weights.get(`${p}.${k}`)!.data);
    const w = weights.get(s.weight)!;
    const perChannel = w.data.length / s.outChannels;
    const folded = new Float32Array(w.data.length);
    const bias = new Float32Array(s.outChannels);
    const oldBias = s.bias ? weights.get(s.bias)!.data : undefined;
    for (let o = 0; o < s.outChannels; o++) {
      const k = gamma![o]! / Math.sqrt(variance![o]! + bn.spec.epsilon);
      for (let i = o * perChannel; i < (o + 1) * perChannel; i++) folded[i] = w.data[i]! * k;
      bias[o] = ((oldBias?.[o] ?? 0) - mean![o]!) * k + beta![o]!;
    }
    const weightName = `${s.weight}+${p}`;
    const biasName = `${p}.folded_bias`;
    outWeights.set(weightName, { shape: w.shape, data: folded });
    outWeights.set(biasName, { shape: [s.outChannels], data: bias });
    newParams.push(
      { name: weightName, shape: w.shape, init: 'zeros', trainable: false, buffer: false },
      { name: biasName, shape: [s.outChannels], init: 'zeros', trainable: false, buffer: false },
    );
    for (const k of ['weight', 'bias', 'running_mean', 'running_var']) dropped.add(`${p}.${k}`);
    replaced.set(conv, { ...conv, spec: { ...s, weight: weightName, bias: biasName }, outputs: bn.outputs });
    removed.add(bn);
  }
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  // Conv weights replaced by their folded copies leave the parameter list; everything else stays.
  const convParams = (ns: GraphNode[]) => new Set(ns.flatMap((n) => (n.spec.op === 'conv' ? [n.spec.weight, n.spec.bias ?? ''] : [])));
  const before = convParams(graph.nodes);
  const after = convParams(nodes);
  const params = [...graph.params.filter((q) => !dropped.has(q.name) && (!before.has(q.name) || after.has(q.name))), ...newParams];
  return { graph: { ...graph, nodes, params }, weights: outWeights };
}

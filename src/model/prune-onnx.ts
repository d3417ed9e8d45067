/**
 * An ONNX model cut down to the part some of its outputs need. ONNX Runtime runs every node of a graph whether
 * or not its output is fetched (a recipe bundle fetching only `featureDistance` took as long as fetching both
 * outputs: BENCHMARKS.md, "INT8 of the recipe network"), so a graph that must compute less has to *be* less.
 * Used to measure the feature bank alone (the map of a bundle whose fusion chose α = 1 does not read the
 * reconstruction). Works on the models the project's ONNX writer makes: the fields of onnx-proto.ts's subset.
 */
import { onnxType } from './onnx-proto.js';

interface NodeMsg { input: string[]; output: string[] }
interface NamedMsg { name: string }
interface GraphMsg { node: NodeMsg[]; initializer: NamedMsg[]; input: NamedMsg[]; output: NamedMsg[] }

/** The model with only the nodes, initializers and inputs that `outputs` depend on; the outputs in the order given. */
export function pruneOnnx(model: Uint8Array, outputs: readonly string[]): Uint8Array {
  const Model = onnxType('ModelProto');
  const decoded = Model.toObject(Model.decode(model), { defaults: false, arrays: true, longs: Number }) as { graph: GraphMsg };
  const graph = decoded.graph;
  const known = graph.output.map((o) => o.name);
  const missing = outputs.filter((o) => !known.includes(o));
  if (outputs.length === 0 || missing.length > 0) {
    throw new RangeError(`cannot prune the model to outputs [${outputs.join(', ')}]: it has [${known.join(', ')}]`);
  }
  const needed = new Set<string>(outputs);
  const kept: NodeMsg[] = [];
  // The writer emits nodes in topological order, so one backward pass finds every value an output reads.
  for (let i = graph.node.length - 1; i >= 0; i--) {
    const node = graph.node[i]!;
    if (!node.output.some((o) => needed.has(o))) continue;
    kept.push(node);
    for (const input of node.input) needed.add(input);
  }
  graph.node = kept.reverse();
  graph.output = outputs.map((name) => graph.output.find((o) => o.name === name)!);
  graph.initializer = graph.initializer.filter((t) => needed.has(t.name));
  graph.input = graph.input.filter((t) => needed.has(t.name));
  return Model.encode(Model.fromObject(decoded)).finish();
}

import type { NetworkGraph } from './graph.js';

export interface Complexity {
  /** All parameters (BatchNorm running statistics are buffers, not parameters, as in PyTorch). */
  params: number;
  /** Parameters that receive gradients (the paper's 9.61 M is this figure). */
  trainableParams: number;
  /** Multiply-accumulates of one forward pass at the config's input size (batch 1), in units of 10⁹. */
  gmacs: number;
  /** The same, per part of the network. */
  gmacsByPart: Record<string, number>;
}

/**
 * Counts parameters and MACs by walking the graph. MACs count convolutions (Cout·Hout·Wout·(Cin/groups)·k²) and the
 * memory modules (two N×C products per pixel: addressing and read-out), the operations ptflops — the tool
 * behind "GMac" figures like the paper's — counts for conv layers; elementwise ops, BatchNorm, pooling and
 * resizing are left out (together < 1 % here). docs/architecture.md compares the paper preset with 52.21 GMac.
 */
export function countComplexity(graph: NetworkGraph): Complexity {
  let params = 0;
  let trainableParams = 0;
  for (const p of graph.params) {
    if (p.buffer) continue;
    const n = p.shape.reduce((a, d) => a * d, 1);
    params += n;
    if (p.trainable) trainableParams += n;
  }
  const byPart: Record<string, number> = {};
  let macs = 0;
  for (const node of graph.nodes) {
    const s = node.spec;
    let m = 0;
    if (s.op === 'conv') {
      const [, h, w] = graph.shapes.get(node.outputs[0]!)!;
      m = s.outChannels * h * w * (s.inChannels / (s.groups ?? 1)) * s.kernel * s.kernel;
    } else if (s.op === 'memory') {
      const [, h, w] = graph.shapes.get(node.outputs[0]!)!;
      m = 2 * s.items * s.channels * h * w;
    }
    if (!m) continue;
    macs += m;
    const part = node.name.split('.')[0]!;
    byPart[part] = (byPart[part] ?? 0) + m / 1e9;
  }
  return { params, trainableParams, gmacs: macs / 1e9, gmacsByPart: byPart };
}

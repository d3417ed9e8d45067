import type { NetworkGraph, ParamSpec } from './graph.js';
import type { FloatTensor } from './safetensors.js';
import { seededRandom } from '../util/random.js';

/** Weights keyed by their stable names (PyTorch layouts; see graph.ts `ParamSpec`). */
export type WeightMap = Map<string, FloatTensor>;

function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * rand();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

function initTensor(p: ParamSpec, rand: () => number, normal: () => number): Float32Array {
  const count = p.shape.reduce((a, d) => a * d, 1);
  const out = new Float32Array(count);
  switch (p.init) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'normal0.02':
      for (let i = 0; i < count; i++) out[i] = 0.02 * normal();
      break;
    case 'bnWeight':
      for (let i = 0; i < count; i++) out[i] = 1 + 0.02 * normal();
      break;
    case 'kaimingFanOut': {
      const std = Math.sqrt(2 / (p.shape[0]! * (p.shape[2] ?? 1) * (p.shape[3] ?? 1)));
      for (let i = 0; i < count; i++) out[i] = std * normal();
      break;
    }
    case 'uniformMemory': {
      const bound = 1 / Math.sqrt(p.shape[1]!);
      for (let i = 0; i < count; i++) out[i] = (2 * rand() - 1) * bound;
      break;
    }
  }
  return out;
}

/**
 * Initial weights for every parameter of `graph` (EdgRec init for the trainable head, MemAE init for the
 * memories, torchvision init for a random backbone). Tensors present in `given` are taken as they are
 * (shapes must already have been checked).
 */
export function initWeights(graph: NetworkGraph, seed: number, given: WeightMap = new Map()): WeightMap {
  const rand = seededRandom(seed);
  const normal = gaussian(rand);
  const out: WeightMap = new Map();
  for (const p of graph.params) {
    const g = given.get(p.name);
    out.set(p.name, g ?? { shape: [...p.shape], data: initTensor(p, rand, normal) });
  }
  return out;
}

/** Checks that `weights` holds exactly the graph's tensors with the right shapes; returns the problems. */
export function checkWeights(graph: NetworkGraph, weights: WeightMap): string[] {
  const problems: string[] = [];
  for (const p of graph.params) {
    const w = weights.get(p.name);
    if (!w) problems.push(`missing tensor "${p.name}" ${JSON.stringify(p.shape)}`);
    else if (w.shape.length !== p.shape.length || w.shape.some((d, i) => d !== p.shape[i])) {
      problems.push(`tensor "${p.name}" has shape ${JSON.stringify(w.shape)}, expected ${JSON.stringify(p.shape)}`);
    }
  }
  const known = new Set(graph.params.map((p) => p.name));
  for (const name of weights.keys()) if (!known.has(name)) problems.push(`unexpected tensor "${name}"`);
  return problems;
}

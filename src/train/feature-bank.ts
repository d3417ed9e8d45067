/**
 * Fills a network's feature bank (model config `featureBank`; docs/architecture.md, "Feature distance") at
 * export: the frozen backbone's patch features of training images, reduced to K items by PatchCore's greedy
 * coreset (k-centre: each next item is the patch farthest from those chosen), so that the bank covers every kind
 * of normal patch, rare ones included, rather than the common ones many times.
 *
 * Written here rather than taken from a library: the one step needed (k-centre over a few ten thousand vectors)
 * is twenty lines, and no maintained JS package does it on Float32Arrays.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TfjsNetwork } from '../model/tfjs-executor.js';
import { imageTensors } from './batch.js';
import { Rng } from './rng.js';

/** Patch vectors kept before the coreset (a seeded random subset beyond this): bounds time and memory. */
const MAX_PATCHES = 40_000;

export interface BankFill {
  items: number;
  channels: number;
  /** Patch vectors the coreset was chosen from, and the images (or tiles) they came from. */
  patches: number;
  images: number;
}

/** The patch features [N, C] of model-size HWC float images, `batch` at a time. */
async function patchFeatures(net: TfjsNetwork, images: Float32Array[], size: number, batch: number): Promise<{ rows: Float32Array[]; channels: number }> {
  const rows: Float32Array[] = [];
  let channels = 0;
  for (let i = 0; i < images.length; i += batch) {
    const { image, edge } = await imageTensors(images.slice(i, i + batch), size);
    const r = net.forward(image, edge, { training: false, featureBank: 'patches' });
    const patches = r.featureBank!.patches!;
    channels = patches.shape[3];
    const data = (await patches.data()) as Float32Array;
    for (let k = 0; k < data.length; k += channels) rows.push(data.slice(k, k + channels));
    tf.dispose([image, edge, r.recon, patches, ...r.addressing.map((a) => a.weights)]);
  }
  return { rows, channels };
}

/**
 * Greedy k-centre coreset: `k` rows of `rows`, the first chosen by `rng`, each next the farthest from the chosen.
 * The rows are packed into one buffer first: the n × k distance updates are the whole cost of filling a bank
 * (40 000 × 4096 × 128 multiply-adds), and a flat loop runs them several times faster than one call per pair.
 */
export function greedyCoreset(rows: Float32Array[], k: number, rng: Rng): Float32Array[] {
  const n = rows.length;
  if (n <= k) return rows;
  const c = rows[0]!.length;
  const flat = new Float32Array(n * c);
  rows.forEach((r, i) => flat.set(r, i * c));
  const nearest = new Float64Array(n).fill(Infinity);
  const chosen: Float32Array[] = [];
  let next = Math.floor(rng.next() * n);
  for (let j = 0; j < k; j++) {
    chosen.push(rows[next]!);
    const base = next * c;
    let far = 0;
    let farDist = -1;
    for (let i = 0, off = 0; i < n; i++, off += c) {
      let d = 0;
      for (let q = 0; q < c; q++) {
        const e = flat[off + q]! - flat[base + q]!;
        d += e * e;
      }
      if (d < nearest[i]!) nearest[i] = d;
      if (nearest[i]! > farDist) {
        farDist = nearest[i]!;
        far = i;
      }
    }
    next = far;
  }
  return chosen;
}

/**
 * Fills `featureBank.bank` of `net` from model-size training images (HWC float; the caller spreads them over the
 * training set, see export.ts): patches collected, subsampled
 * to MAX_PATCHES, coreset to the bank size. A bank smaller than K (few images) repeats its items: the nearest
 * distance is the same.
 */
export async function fillFeatureBank(net: TfjsNetwork, images: Float32Array[], size: number, o: { batch: number; seed: number }): Promise<BankFill> {
  const spec = net.config.featureBank;
  const bankName = net.graph.outputs.featureBank?.bank;
  if (!spec || !bankName) throw new Error('fillFeatureBank: the network has no feature bank');
  const { rows, channels } = await patchFeatures(net, images, size, o.batch);
  const rng = new Rng((o.seed ^ 0xba4c) >>> 0);
  const pool = rows.length > MAX_PATCHES ? Array.from({ length: MAX_PATCHES }, () => rows[Math.floor(rng.next() * rows.length)]!) : rows;
  const chosen = greedyCoreset(pool, spec.items, rng);
  const bank = new Float32Array(spec.items * channels);
  for (let i = 0; i < spec.items; i++) bank.set(chosen[i % chosen.length]!, i * channels);
  net.variables.get(bankName)!.assign(tf.tensor2d(bank, [spec.items, channels]));
  return { items: spec.items, channels, patches: pool.length, images: images.length };
}

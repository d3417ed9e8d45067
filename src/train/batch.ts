/**
 * Batches of training pairs: the data order (a seeded permutation per epoch), the synthetic anomalies and
 * the edge map of the corrupted image, stacked as NHWC float tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { edgeMap } from '../preprocess/edge-map.js';
import { synthesize, type AugmentOptions } from './augment.js';
import type { DataOrderState } from './checkpoint.js';
import type { ImageSet } from './data.js';
import { toFloat } from './data.js';
import { cropTile } from '../preprocess/tiles.js';
import type { Rng } from './rng.js';

export interface Batch {
  /** Corrupted images [B,H,W,3]. */
  input: tf.Tensor4D;
  /** Edge maps of the corrupted images [B,H,W,1]. */
  edge: tf.Tensor4D;
  /** Clean images [B,H,W,3]. */
  target: tf.Tensor4D;
}

/** The first epoch's order. */
export function initialOrder(n: number, rng: Rng): DataOrderState {
  return { epoch: 0, position: 0, permutation: rng.permutation(n) };
}

/** Next image index; a new permutation at each epoch boundary (state mutated in place). */
export function nextIndex(order: DataOrderState, rng: Rng): number {
  if (order.position >= order.permutation.length) {
    order.epoch++;
    order.position = 0;
    order.permutation = rng.permutation(order.permutation.length);
  }
  return order.permutation[order.position++]!;
}

/** Edge map of an HWC float image, as the inspection path computes it (preprocess/edge-map.ts). */
export async function edgeOf(hwc: Float32Array, size: number): Promise<Float32Array> {
  return (await edgeMap(hwc, size, size, 3)) as Float32Array;
}

/**
 * Image `i` of the set as float HWC at tile size: the image itself, or (tiled training) the tile at (x, y) of
 * its working image — `origin` 'random' draws the origin uniformly from `rng`, 'center' takes the middle tile.
 */
export function tileOf(set: ImageSet, i: number, origin: 'random' | 'center', rng?: Rng): Float32Array {
  const whole = toFloat(set.pixels[i]!);
  const dims = set.dims?.[i];
  if (!dims) return whole;
  const t = set.size;
  const pick = (length: number): number => (origin === 'center' ? Math.floor((length - t) / 2) : rng!.int(length - t + 1));
  return cropTile(whole, dims.width, 3, pick(dims.width), pick(dims.height), t);
}

export async function makeBatch(set: ImageSet, batch: number, order: DataOrderState, rng: Rng, augment: AugmentOptions): Promise<Batch> {
  const s = set.size;
  const n = s * s;
  const input = new Float32Array(batch * n * 3);
  const target = new Float32Array(batch * n * 3);
  const edge = new Float32Array(batch * n);
  for (let b = 0; b < batch; b++) {
    const idx = nextIndex(order, rng);
    // the texture comes from another training image (EdgRec's noDTD variant)
    let other = rng.int(set.pixels.length);
    if (other === idx && set.pixels.length > 1) other = (other + 1) % set.pixels.length;
    const pair = synthesize(tileOf(set, idx, 'random', rng), tileOf(set, other, 'random', rng), s, s, rng, augment);
    input.set(pair.input, b * n * 3);
    target.set(pair.target, b * n * 3);
    edge.set(await edgeOf(pair.input, s), b * n);
  }
  return {
    input: tf.tensor4d(input, [batch, s, s, 3]),
    edge: tf.tensor4d(edge, [batch, s, s, 1]),
    target: tf.tensor4d(target, [batch, s, s, 3]),
  };
}

/** Clean images (no anomalies) with their edge maps, e.g. for BatchNorm re-estimation and validation. */
export async function cleanBatch(set: ImageSet, indices: number[]): Promise<{ image: tf.Tensor4D; edge: tf.Tensor4D; hwc: Float32Array[] }> {
  const hwc = indices.map((i) => tileOf(set, i, 'center'));
  return { ...(await imageTensors(hwc, set.size)), hwc };
}

/** Float HWC images of size×size stacked as the network's inputs: [B,H,W,3] images and their [B,H,W,1] edge maps. */
export async function imageTensors(images: Float32Array[], size: number): Promise<{ image: tf.Tensor4D; edge: tf.Tensor4D }> {
  const n = size * size;
  const image = new Float32Array(images.length * n * 3);
  const edge = new Float32Array(images.length * n);
  for (const [b, img] of images.entries()) {
    image.set(img, b * n * 3);
    edge.set(await edgeOf(img, size), b * n);
  }
  return { image: tf.tensor4d(image, [images.length, size, size, 3]), edge: tf.tensor4d(edge, [images.length, size, size, 1]) };
}

/**
 * The default recipe's tiling choice (issue 16 item 5; docs/training.md, "Tiling"): images far from square are
 * not stretched to the square model input — a 1130×460 ball-screw frame stretched to 128² leaves pitting a few
 * pixels wide — but kept at their aspect ratio and covered by model-size tiles. Decided from the training
 * images' shapes alone (no labels): a median long/short ratio of at least ASPECT_LIMIT tiles at a short edge of
 * twice the model input.
 */
import sharp from 'sharp';
import type { TilingSpec } from '../preprocess/tiles.js';
import { spread } from '../util/spread.js';

/** Long/short side ratio from which images are tiled rather than stretched. */
export const ASPECT_LIMIT = 1.5;
/** The working short edge, in model inputs: 2 keeps details twice as large as stretching a square would. */
export const SHORT_EDGE_FACTOR = 2;
/** Images whose headers are read to decide (spread over the sorted list). */
const SAMPLE = 32;

/** The tiling for images of these files, or undefined (stretch): from their headers, no pixel decoded. */
export async function autoTiling(files: string[], inputSize: number): Promise<{ tiling?: TilingSpec; aspect: number; sampled: number }> {
  const ratios: number[] = [];
  const shorts: number[] = [];
  for (const f of spread(files, SAMPLE)) {
    try {
      const m = await sharp(f).metadata();
      const [w, h] = (m.orientation ?? 1) >= 5 ? [m.height, m.width] : [m.width, m.height];
      if (w && h) {
        ratios.push(Math.max(w, h) / Math.min(w, h));
        shorts.push(Math.min(w, h));
      }
    } catch {
      // an unreadable file is reported by the loader with its reason; it does not decide the tiling
    }
  }
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const aspect = ratios.length ? median(ratios) : 1;
  if (aspect < ASPECT_LIMIT) return { aspect, sampled: ratios.length };
  // never above the images' own short edge (no upsampling), never below the model input (tiles must fit)
  const shortEdge = Math.max(inputSize, Math.min(SHORT_EDGE_FACTOR * inputSize, median(shorts)));
  return { tiling: { shortEdge, overlap: 0.25 }, aspect, sampled: ratios.length };
}

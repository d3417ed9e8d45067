/**
 * Per-position normalisation of the anomaly map by its statistics on good images (issue 16 item 6; docs/
 * architecture.md, "Position normalisation"). Where a product is imaged the same way every time (a ball screw
 * under a fixed camera), some places score high on every good part — thread flanks, the spindle's ends, glare —
 * and the image score, a maximum, is decided there instead of at a defect. Dividing out each position's usual
 * level and spread leaves what is unusual *for that position*:
 *
 *   A''(x, y) = (A'(x, y) − μ(x, y)) / max(σ(x, y), σ_floor)
 *
 * μ and σ are the mean and standard deviation over good training images (never the held-out slice the choice is
 * measured on), on a coarse grid resized to the map; σ_floor (a quarter of the mean σ) keeps flat regions from
 * amplifying noise. Whether a bundle uses it is chosen at export on held-out good images against synthetic
 * anomalies; products imaged in any pose get no benefit and the choice leaves it out.
 */
import type { PositionNorm } from '../model/manifest.js';
import { resizeBilinear } from './feature-fusion.js';

export type { PositionNorm };

/** Grid cells at most (the statistics are smooth; the manifest stays small). */
export const MAX_GRID_CELLS = 2048;
/** σ_floor as a fraction of the mean σ. */
export const SIGMA_FLOOR = 0.25;

/** The statistics grid for maps of this size: the map's aspect ratio, at most MAX_GRID_CELLS cells. */
export function normGrid(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, Math.sqrt(MAX_GRID_CELLS / (width * height)));
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

/** Area mean of a map over a coarser grid (each cell the mean of the map pixels whose centre falls in it). */
export function areaResize(map: Float32Array, width: number, height: number, gw: number, gh: number): Float32Array {
  const sum = new Float64Array(gw * gh);
  const count = new Uint32Array(gw * gh);
  for (let y = 0; y < height; y++) {
    const gy = Math.min(gh - 1, Math.floor(((y + 0.5) * gh) / height));
    for (let x = 0; x < width; x++) {
      const gx = Math.min(gw - 1, Math.floor(((x + 0.5) * gw) / width));
      sum[gy * gw + gx] += map[y * width + x]!;
      count[gy * gw + gx]!++;
    }
  }
  return Float32Array.from(sum, (s, i) => (count[i] ? s / count[i]! : 0));
}

/** μ and σ per grid cell over good images' maps (any sizes: each is area-resized to the grid first). */
export function positionStats(maps: { map: Float32Array; width: number; height: number }[], grid: { width: number; height: number }): PositionNorm {
  const n = grid.width * grid.height;
  const sum = new Float64Array(n);
  const sq = new Float64Array(n);
  for (const m of maps) {
    const g = areaResize(m.map, m.width, m.height, grid.width, grid.height);
    for (let i = 0; i < n; i++) {
      sum[i] += g[i]!;
      sq[i] += g[i]! * g[i]!;
    }
  }
  const k = Math.max(1, maps.length);
  const mean = Array.from(sum, (s) => s / k);
  const std = Array.from(sq, (s, i) => Math.sqrt(Math.max(0, s / k - mean[i]! ** 2)));
  const floor = SIGMA_FLOOR * (std.reduce((a, v) => a + v, 0) / n);
  return { grid, mean, std: std.map((s) => Math.max(s, floor, 1e-12)), images: maps.length };
}

/** μ and σ resized to one map size (bilinear, as normalizeMap applies them). */
interface ResizedStats {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * The statistics resized per map size, for each PositionNorm object (a bundle's manifest keeps one for its life):
 * resizing them is two bilinear passes over the map plus two copies of the grid — more than the normalisation
 * itself — and the result is the same for every frame of that size. Weak keys: a bundle no longer referenced
 * drops its entries. A PositionNorm is therefore never changed once used (positionStats makes a new one).
 */
const resizedStatsCache = new WeakMap<PositionNorm, Map<string, ResizedStats>>();

/** μ and σ of `norm` at width × height, computed at the first map of that size and kept (read-only). */
export function resizedStats(norm: PositionNorm, width: number, height: number): ResizedStats {
  let bySize = resizedStatsCache.get(norm);
  if (!bySize) resizedStatsCache.set(norm, (bySize = new Map()));
  const key = `${width}x${height}`;
  let stats = bySize.get(key);
  if (!stats) {
    const { grid } = norm;
    stats = {
      mean: resizeBilinear(Float32Array.from(norm.mean), grid.width, grid.height, width, height),
      std: resizeBilinear(Float32Array.from(norm.std), grid.width, grid.height, width, height),
    };
    bySize.set(key, stats);
  }
  return stats;
}

/**
 * A'' for a map of any size: the statistics resized to it bilinearly (once per size: resizedStats). Written to
 * `into` when given (it may be `map` itself: each value is read before it is overwritten), else to a new array.
 */
export function normalizeMap(map: Float32Array, width: number, height: number, norm: PositionNorm, into?: Float32Array): Float32Array {
  const { mean, std } = resizedStats(norm, width, height);
  const out = into ?? new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = (map[i]! - mean[i]!) / std[i]!;
  return out;
}

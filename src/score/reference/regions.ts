import { labelComponents } from './components.js';

/** A connected group of map pixels at or above a threshold (8-connectivity), in map pixels. */
export interface MapRegion {
  /** Bounding box. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Number of pixels in the component. */
  area: number;
  maxScore: number;
  meanScore: number;
}

/** Components in raster order of their first pixel; NaN pixels belong to none. */
export function regionsRef(map: Float32Array, width: number, height: number, threshold: number): MapRegion[] {
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = map[i]! >= threshold ? 1 : 0; // NaN compares false
  const { labels, count, sizes } = labelComponents(mask, width, height);
  const out: MapRegion[] = Array.from({ length: count }, (_, k) => ({ x: width, y: height, width: -1, height: -1, area: sizes[k]!, maxScore: -Infinity, meanScore: 0 }));
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 0) continue;
    const r = out[labels[i]! - 1]!;
    const x = i % width;
    const y = (i - x) / width;
    // width/height hold the right/bottom edge until the end
    r.x = Math.min(r.x, x);
    r.y = Math.min(r.y, y);
    r.width = Math.max(r.width, x);
    r.height = Math.max(r.height, y);
    r.maxScore = Math.max(r.maxScore, map[i]!);
    r.meanScore += map[i]!;
  }
  for (const r of out) {
    r.width = r.width - r.x + 1;
    r.height = r.height - r.y + 1;
    r.meanScore /= r.area;
  }
  return out;
}

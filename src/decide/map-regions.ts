import { mapAreaToFrame, mapBoxToFrame, type Roi } from '../preprocess/roi.js';
import type { Region } from './result.js';

/** A connected region in map pixels, as `regions()` of src/decide/regions.ts returns it. */
export interface MapBox {
  x: number;
  y: number;
  width: number;
  height: number;
  area: number;
  maxScore: number;
  meanScore: number;
}

/**
 * Regions found on the score map (model input grid) → boxes and areas in original-frame pixels, undoing the
 * resize and the ROI offset. Sorted by maxScore, strongest first, so consumers that keep a few keep the worst.
 */
export function regionsToFrame(regions: readonly MapBox[], mapWidth: number, mapHeight: number, roi: Roi): Region[] {
  return regions
    .map((r) => ({
      ...mapBoxToFrame(r, mapWidth, mapHeight, roi),
      area: mapAreaToFrame(r.area, mapWidth, mapHeight, roi),
      maxScore: r.maxScore,
      meanScore: r.meanScore,
    }))
    .sort((a, b) => b.maxScore - a.maxScore);
}

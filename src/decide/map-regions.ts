import { mapAreaToFrame, mapBoxToFrame, type Roi } from '../preprocess/roi.js';
import type { MapRegion } from './regions.js';
import type { Region } from './result.js';


/**
 * Regions found on the score map (model input grid) → boxes and areas in original-frame pixels, undoing the
 * resize and the ROI offset. Sorted by maxScore, strongest first, so consumers that keep a few keep the worst.
 */
export function regionsToFrame(regions: readonly MapRegion[], mapWidth: number, mapHeight: number, roi: Roi): Region[] {
  return regions
    .map((r) => ({
      ...mapBoxToFrame(r, mapWidth, mapHeight, roi),
      area: mapAreaToFrame(r.area, mapWidth, mapHeight, roi),
      maxScore: r.maxScore,
      meanScore: r.meanScore,
    }))
    .sort((a, b) => b.maxScore - a.maxScore);
}

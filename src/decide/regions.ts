import { nativeAddon } from '../native.js';
import { regionsRef, type MapRegion } from '../score/reference/regions.js';
import { assertFloat32Length, assertPositiveInt, invalidParameterError } from '../util/is.js';

export type { MapRegion };

/**
 * Defect regions of an anomaly map: connected components (8-connectivity) of the pixels whose value is
 * at or above `threshold`, in raster order of their first pixel, with bounding box, area (pixels), max and
 * mean score — all in map pixels.
 */
export async function regions(map: Float32Array, width: number, height: number, threshold: number): Promise<MapRegion[]> {
  assertPositiveInt('width', width);
  assertPositiveInt('height', height);
  assertFloat32Length('map', map, width * height);
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw invalidParameterError('threshold', 'a number', threshold);
  const addon = nativeAddon();
  return addon ? addon.regions(map, width, height, threshold) : regionsRef(map, width, height, threshold);
}

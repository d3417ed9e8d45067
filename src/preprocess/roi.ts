import { MmaerecError } from '../errors.js';
import { formatBox } from '../util/format.js';

/** A region of interest in original-frame pixels (the part of the frame that is inspected). */
export interface Roi {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The ROI in force for a frame: the configured one (checked against the frame) or the whole frame.
 * Throws E_INPUT when the ROI does not fit the frame: the camera resolution and the config disagree.
 */
export function resolveRoi(roi: Roi | undefined, frameWidth: number, frameHeight: number): Roi {
  if (!roi) return { x: 0, y: 0, width: frameWidth, height: frameHeight };
  if (roi.x + roi.width > frameWidth || roi.y + roi.height > frameHeight) {
    throw new MmaerecError(
      'E_INPUT',
      `roi ${formatBox(roi)} does not fit the ${frameWidth}×${frameHeight} frame: fix roi in the config or the camera resolution`,
    );
  }
  return roi;
}

/** Checks an ROI given through the API (integers, non-negative offset, positive size). */
export function assertRoi(name: string, roi: unknown): asserts roi is Roi {
  const r = roi as Partial<Roi> | null;
  const ok =
    typeof r === 'object' && r !== null &&
    [r.x, r.y].every((v) => Number.isInteger(v) && (v as number) >= 0) &&
    [r.width, r.height].every((v) => Number.isInteger(v) && (v as number) > 0);
  if (!ok) throw new TypeError(`Expected { x, y, width, height } with integer x, y >= 0 and width, height > 0 for ${name}`);
}

/**
 * Maps a box given in map pixels (the model's input grid, after ROI crop and resize) back to
 * original-frame pixels. The box covers map pixels [x, x+width); its frame box is the smallest integer box
 * covering the same continuous area, so a one-pixel region never vanishes.
 */
export function mapBoxToFrame(
  box: { x: number; y: number; width: number; height: number },
  mapWidth: number,
  mapHeight: number,
  roi: Roi,
): { x: number; y: number; width: number; height: number } {
  const sx = roi.width / mapWidth;
  const sy = roi.height / mapHeight;
  const x0 = Math.floor(box.x * sx);
  const y0 = Math.floor(box.y * sy);
  const x1 = Math.min(roi.width, Math.ceil((box.x + box.width) * sx));
  const y1 = Math.min(roi.height, Math.ceil((box.y + box.height) * sy));
  return { x: roi.x + x0, y: roi.y + y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
}

/** A pixel count in map pixels as original-frame pixels (each map pixel covers sx·sy frame pixels). */
export function mapAreaToFrame(area: number, mapWidth: number, mapHeight: number, roi: Roi): number {
  return Math.round(area * (roi.width / mapWidth) * (roi.height / mapHeight));
}

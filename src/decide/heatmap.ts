import sharp from 'sharp';
import { isRawImage, type Frame } from '../capture/frame.js';
import type { Roi } from '../preprocess/roi.js';
import { COLOUR_LUT as LUT } from './colour-scale.js';
import type { Heatmap } from './result.js';

export interface HeatmapOptions {
  format?: 'png' | 'jpeg';
  /** JPEG quality 1–100 (default 85). */
  quality?: number;
  /** Map values mapped to the ends of the colour scale; default [0, 2·pixelThreshold] (threshold = mid-scale). */
  range?: [number, number];
  /** Overlay opacity at the top of the scale (default 0.6); lower values fade towards transparent. */
  opacity?: number;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** The score map as RGBA at map size: colour from the SDK's colour scale, opacity growing with the score. */
export function colourMap(map: Float32Array, range: [number, number], opacity: number): Uint8Array {
  const [lo, hi] = range;
  const span = hi > lo ? hi - lo : 1;
  const out = new Uint8Array(map.length * 4);
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    const t = Number.isFinite(v) ? clamp01((v - lo) / span) : 1;
    const k = Math.round(t * 255) * 3;
    out[i * 4] = LUT[k]!;
    out[i * 4 + 1] = LUT[k + 1]!;
    out[i * 4 + 2] = LUT[k + 2]!;
    out[i * 4 + 3] = Math.round(255 * opacity * (0.25 + 0.75 * t));
  }
  return out;
}

/**
 * The score map as a colour overlay on the original frame (the map is resized to the ROI and placed at its
 * offset), encoded as PNG or JPEG by sharp off the JS thread.
 */
export async function renderHeatmap(
  frame: Frame,
  map: Float32Array,
  mapWidth: number,
  mapHeight: number,
  roi: Roi,
  pixelThreshold: number,
  options: HeatmapOptions = {},
): Promise<Heatmap> {
  const format = options.format ?? 'png';
  const range = options.range ?? [0, pixelThreshold > 0 ? 2 * pixelThreshold : 1];
  const overlay = await sharp(colourMap(map, range, options.opacity ?? 0.6), { raw: { width: mapWidth, height: mapHeight, channels: 4 } })
    .resize(roi.width, roi.height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  const base = isRawImage(frame.image)
    ? sharp(frame.image.data, { raw: { width: frame.image.width, height: frame.image.height, channels: frame.image.channels } })
    : sharp(frame.image).autoOrient();
  const composed = base
    .removeAlpha()
    .toColourspace('srgb')
    .composite([{ input: overlay, raw: { width: roi.width, height: roi.height, channels: 4 }, left: roi.x, top: roi.y }]);
  const { data, info } = await (format === 'jpeg' ? composed.jpeg({ quality: options.quality ?? 85 }) : composed.png())
    .toBuffer({ resolveWithObject: true });
  return { format, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

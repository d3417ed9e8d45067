import sharp from 'sharp';
import { isRawImage, type Frame } from '../capture/frame.js';
import { openEncoded } from '../preprocess/decode.js';
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
  /**
   * Longest edge of the heatmap in pixels (default 1024): a larger frame is drawn scaled down, aspect kept, so
   * that a heatmap's time and memory do not grow with the camera's resolution. Smaller frames keep their size.
   */
  maxEdge?: number;
}

/** The default longest edge of a heatmap (HeatmapOptions.maxEdge). */
export const DEFAULT_HEATMAP_MAX_EDGE = 1024;

/** Checks HeatmapOptions.maxEdge at a call site (RangeError naming it). */
export function assertMaxEdge(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 16384) {
    throw new RangeError(`Expected an integer in 1..16384 for ${name} but received ${String(value)}`);
  }
}

/** The map values at the ends of the colour scale when none are given: [0, 2·pixelThreshold] (threshold = mid-scale). */
export function defaultHeatmapRange(pixelThreshold: number): [number, number] {
  return [0, pixelThreshold > 0 ? 2 * pixelThreshold : 1];
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
 * offset), encoded as PNG or JPEG by sharp off the JS thread. The frame is decoded with the same policy as
 * inspection (src/preprocess/decode.ts), and drawn at most `maxEdge` pixels on its longest side: a JPEG is
 * shrunk while it is decoded and other formats are reduced as they stream, so a 16383² frame costs about
 * what a 1024² one does in memory, instead of a full-size RGBA overlay.
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
  const range = options.range ?? defaultHeatmapRange(pixelThreshold);
  const maxEdge = options.maxEdge ?? DEFAULT_HEATMAP_MAX_EDGE;
  assertMaxEdge('options.maxEdge', maxEdge);
  let base: ReturnType<typeof sharp>;
  let frameWidth: number;
  let frameHeight: number;
  if (isRawImage(frame.image)) {
    ({ width: frameWidth, height: frameHeight } = frame.image);
    base = sharp(frame.image.data, { raw: { width: frameWidth, height: frameHeight, channels: frame.image.channels } });
  } else {
    ({ pipeline: base, width: frameWidth, height: frameHeight } = await openEncoded(frame.id, frame.image));
  }
  const scale = Math.min(1, maxEdge / Math.max(frameWidth, frameHeight));
  const width = Math.max(1, Math.round(frameWidth * scale));
  const height = Math.max(1, Math.round(frameHeight * scale));
  // The ROI in heatmap pixels: both edges scaled and rounded (at least one pixel, inside the image).
  const x0 = Math.min(width - 1, Math.round(roi.x * scale));
  const y0 = Math.min(height - 1, Math.round(roi.y * scale));
  const x1 = Math.min(width, Math.max(x0 + 1, Math.round((roi.x + roi.width) * scale)));
  const y1 = Math.min(height, Math.max(y0 + 1, Math.round((roi.y + roi.height) * scale)));
  const overlay = await sharp(colourMap(map, range, options.opacity ?? 0.6), { raw: { width: mapWidth, height: mapHeight, channels: 4 } })
    .resize(x1 - x0, y1 - y0, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  // Two libvips pipelines: decode and reduce the frame to heatmap size first, then composite and encode the
  // small image. In one pipeline, compositing after the reduction of a 16383² PNG took 4× as long.
  const small = await base
    .resize(width, height, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const composed = sharp(small.data, { raw: { width: small.info.width, height: small.info.height, channels: small.info.channels } })
    .composite([{ input: overlay, raw: { width: x1 - x0, height: y1 - y0, channels: 4 }, left: x0, top: y0 }])
    .removeAlpha(); // the frame is opaque: RGB out, whatever composite adds
  const { data, info } = await (format === 'jpeg' ? composed.jpeg({ quality: options.quality ?? 85 }) : composed.png())
    .toBuffer({ resolveWithObject: true });
  return { format, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

import sharp from 'sharp';
import { colourMap } from '../decide/heatmap.js';
import { unitToBytes } from '../util/png.js';
import type { EvalAnalysis } from './analyzer.js';

/**
 * The per-image panels of the interactive report (every test image, so each is small): input, reconstruction
 * and the heatmap (transparent where low, laid over the input in the page) as lossy WebP, the ground truth as
 * an SVG contour path and the regions as boxes — both in map pixels, drawn by the page over any panel size.
 * Panels are at most PANEL_EDGE pixels on their longest side. WebP, not JPEG and PNG: on the magnetic-tile test
 * set (583 images, 128² maps) a heatmap is 2.9 KB instead of 8.5 KB as PNG and an input 1.1 KB instead of
 * 2.6 KB as JPEG, so report.html is a third of the size (BENCHMARKS.md, "Evaluation report size"); every
 * browser that runs the report's script shows WebP. The heatmap's alpha stays lossless (sharp's default), so
 * the boundary of what shows over the input is exact.
 */
export const PANEL_EDGE = 160;

export interface ImagePanels {
  /** data: URIs. */
  input: string;
  recon: string;
}

function panelSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, PANEL_EDGE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

async function dataUri(raw: Uint8Array, width: number, height: number, channels: 3 | 4): Promise<string> {
  const size = panelSize(width, height);
  const img = sharp(raw, { raw: { width, height, channels } }).resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' });
  const bytes = await img.webp({ quality: 80 }).toBuffer();
  return `data:image/webp;base64,${bytes.toString('base64')}`;
}

/** Input and reconstruction of one analysed image (at map size when they are; else a black panel). */
export async function imagePanels(a: EvalAnalysis): Promise<ImagePanels> {
  const { mapWidth: w, mapHeight: h } = a;
  const atMapSize = (hwc: Float32Array) => (hwc.length === w * h * 3 ? unitToBytes(hwc) : new Uint8Array(w * h * 3));
  return { input: await dataUri(atMapSize(a.input), w, h, 3), recon: await dataUri(atMapSize(a.recon), w, h, 3) };
}

/** The map coloured on the report's shared range (the line's colour scale), transparent where low. */
export function heatmapPanel(map: Float32Array, width: number, height: number, range: [number, number]): Promise<string> {
  return dataUri(colourMap(map, range, 0.85), width, height, 4);
}

/**
 * The outline of a 0/1 mask as an SVG path in mask pixels: every edge between a mask pixel and a non-mask pixel
 * (or the border), merged into horizontal and vertical runs. Empty for an empty mask.
 */
export function maskContour(mask: Uint8Array, width: number, height: number): string {
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < width && y < height ? mask[y * width + x]! !== 0 : false);
  const parts: string[] = [];
  // horizontal edges on the line between rows y − 1 and y
  for (let y = 0; y <= height; y++) {
    let start = -1;
    for (let x = 0; x <= width; x++) {
      const edge = x < width && at(x, y) !== at(x, y - 1);
      if (edge && start < 0) start = x;
      if (!edge && start >= 0) { parts.push(`M${start} ${y}h${x - start}`); start = -1; }
    }
  }
  // vertical edges on the line between columns x − 1 and x
  for (let x = 0; x <= width; x++) {
    let start = -1;
    for (let y = 0; y <= height; y++) {
      const edge = y < height && at(x, y) !== at(x - 1, y);
      if (edge && start < 0) start = y;
      if (!edge && start >= 0) { parts.push(`M${x} ${start}v${y - start}`); start = -1; }
    }
  }
  return parts.join('');
}

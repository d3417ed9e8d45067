import { colourAt } from '../decide/colour-scale.js';
import { encodePng, unitToBytes } from '../util/png.js';

/**
 * Report images: model input, reconstruction, heatmap overlay and ground truth as PNG data: URIs (encoded by
 * sharp on its worker threads), so that report.html is one self-contained file.
 */

export async function pngDataUri(raw: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Promise<string> {
  return `data:image/png;base64,${(await encodePng(raw, width, height, channels)).toString('base64')}`;
}

/** HWC RGB float in [0, 1] → PNG data URI. */
export function rgbDataUri(hwc: Float32Array, width: number, height: number): Promise<string> {
  return pngDataUri(unitToBytes(hwc), width, height, 3);
}

/** 0/1 mask → white-on-black PNG data URI. */
export function maskDataUri(mask: Uint8Array, width: number, height: number): Promise<string> {
  return pngDataUri(Uint8Array.from(mask, (m) => (m ? 255 : 0)), width, height, 1);
}

/**
 * Heatmap over the input: map values normalised to [lo, hi] (the same range for every image in a report, so
 * colours compare across images), coloured, and blended 50/50 with the input. `hwc` must be at map size.
 */
export function overlayDataUri(hwc: Float32Array, map: Float32Array, width: number, height: number, lo: number, hi: number): Promise<string> {
  const out = new Uint8Array(width * height * 3);
  const span = hi > lo ? hi - lo : 1;
  for (let p = 0; p < width * height; p++) {
    const c = colourAt((map[p]! - lo) / span);
    for (let ch = 0; ch < 3; ch++) {
      const base = Math.min(1, Math.max(0, hwc[p * 3 + ch]!)) * 255;
      out[p * 3 + ch] = Math.round(0.5 * base + 0.5 * c[ch]!);
    }
  }
  return pngDataUri(out, width, height, 3);
}

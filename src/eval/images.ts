import sharp from 'sharp';

/**
 * Report images: model input, reconstruction, heatmap overlay and ground truth as PNG data: URIs (encoded by
 * sharp on its worker threads), so that report.html is one self-contained file.
 */

/** Turbo-like colour map (piecewise linear through 6 stops): blue → cyan → green → yellow → red. */
const STOPS: [number, number, number, number][] = [
  [0, 48, 18, 59], [0.2, 40, 120, 240], [0.4, 30, 210, 190], [0.6, 160, 250, 60], [0.8, 250, 160, 30], [1, 122, 4, 3],
];

export function colormap(v: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, v));
  for (let k = 1; k < STOPS.length; k++) {
    const [t1, r1, g1, b1] = STOPS[k]!;
    if (t <= t1) {
      const [t0, r0, g0, b0] = STOPS[k - 1]!;
      const f = (t - t0) / (t1 - t0);
      return [r0 + (r1 - r0) * f, g0 + (g1 - g0) * f, b0 + (b1 - b0) * f];
    }
  }
  return [122, 4, 3];
}

async function pngDataUri(rgb: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<string> {
  const png = await sharp(rgb, { raw: { width, height, channels } }).png({ compressionLevel: 6 }).toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

function toBytes(hwc: Float32Array): Uint8Array {
  const out = new Uint8Array(hwc.length);
  for (let i = 0; i < hwc.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, hwc[i]!)) * 255);
  return out;
}

/** HWC RGB float in [0, 1] → PNG data URI. */
export function rgbDataUri(hwc: Float32Array, width: number, height: number): Promise<string> {
  return pngDataUri(toBytes(hwc), width, height, 3);
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
    const c = colormap((map[p]! - lo) / span);
    for (let ch = 0; ch < 3; ch++) {
      const base = Math.min(1, Math.max(0, hwc[p * 3 + ch]!)) * 255;
      out[p * 3 + ch] = Math.round(0.5 * base + 0.5 * c[ch]!);
    }
  }
  return pngDataUri(out, width, height, 3);
}

import sharp from 'sharp';

/**
 * PNG encoding of raw pixels, shared by the evaluation report (data: URIs) and the live station page (images
 * served on demand): sharp encodes on its own worker threads, off the event loop.
 */

/** Raw 8-bit pixels (1: grey, 3: RGB, 4: RGBA, interleaved) → PNG bytes. */
export async function encodePng(raw: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Promise<Buffer> {
  return sharp(raw, { raw: { width, height, channels } }).png({ compressionLevel: 6 }).toBuffer();
}

/** Floats in [0, 1] (clamped) → bytes 0–255, e.g. a model input or reconstruction in HWC order. */
export function unitToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, values[i]!)) * 255);
  return out;
}

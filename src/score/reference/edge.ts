import { grayF32, grayU8 } from './gray.js';

/**
 * Edge map (method.md §2): grayscale, then dilate − erode with a flat 3×3 kernel, where pixels outside the
 * image are ignored (max/min over the window's in-image pixels). Same element type as the input.
 */
export function edgeMapRef<T extends Uint8Array | Float32Array>(image: T, width: number, height: number, channels: 1 | 3): T {
  const isU8 = image instanceof Uint8Array;
  const gray = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    gray[i] = channels === 1 ? image[p] : isU8 ? grayU8(image[p], image[p + 1], image[p + 2]) : grayF32(image[p], image[p + 1], image[p + 2]);
  }
  const out = (isU8 ? new Uint8Array(width * height) : new Float32Array(width * height)) as T;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let hi = -Infinity;
      let lo = Infinity;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(height - 1, y + 1); yy++) {
        for (let xx = Math.max(0, x - 1); xx <= Math.min(width - 1, x + 1); xx++) {
          const v = gray[yy * width + xx];
          if (v > hi) hi = v;
          if (v < lo) lo = v;
        }
      }
      out[y * width + x] = hi - lo;
    }
  }
  return out;
}

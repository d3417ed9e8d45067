/**
 * Connected components of a binary mask with 8-connectivity (scipy.ndimage.label with a 3×3 structure of ones,
 * as MVTec AD's AUPRO code uses). Labels are 1..count in raster order of each component's first pixel; 0 is
 * background. The one flood fill of the TypeScript side: evaluation labels ground-truth masks with it, and
 * `regionsRef` (the reference of the native regions kernel) labels thresholded maps.
 */
export interface Components {
  labels: Int32Array;
  count: number;
  /** sizes[k] = pixels in component k + 1. */
  sizes: Int32Array;
}

export function labelComponents(mask: Uint8Array, width: number, height: number): Components {
  if (mask.length !== width * height) {
    throw new RangeError(`Expected a ${width}×${height} mask (${width * height} values) but it has ${mask.length}`);
  }
  const labels = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  const sizes: number[] = [];
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    count++;
    labels[start] = count;
    let top = 0;
    stack[top++] = start;
    let size = 0;
    while (top > 0) {
      const p = stack[--top]!;
      size++;
      const x = p % width;
      const y = (p - x) / width;
      const y0 = y > 0 ? y - 1 : y;
      const y1 = y < height - 1 ? y + 1 : y;
      const x0 = x > 0 ? x - 1 : x;
      const x1 = x < width - 1 ? x + 1 : x;
      for (let yy = y0; yy <= y1; yy++) {
        for (let xx = x0; xx <= x1; xx++) {
          const q = yy * width + xx;
          if (mask[q] !== 0 && labels[q] === 0) {
            labels[q] = count;
            stack[top++] = q;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, count, sizes: Int32Array.from(sizes) };
}

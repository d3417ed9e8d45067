/** Grayscale as OpenCV's COLOR_RGB2GRAY computes it (method.md §2). */

/** 8 bits, exactly OpenCV's fixed-point rule: (9798 R + 19235 G + 3735 B + 16384) >> 15. */
export function grayU8(r: number, g: number, b: number): number {
  return (9798 * r + 19235 * g + 3735 * b + 16384) >> 15;
}

/** Float: 0.299 R + 0.587 G + 0.114 B, rounded to float32 like the native kernel's output. */
export function grayF32(r: number, g: number, b: number): number {
  return Math.fround(0.299 * r + 0.587 * g + 0.114 * b);
}

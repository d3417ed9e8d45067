/**
 * The two float layouts of one RGB image in [0, 1]: planar NCHW (N = 1) for the inference back end and
 * interleaved HWC for scoring (fusedScore reads HWC). One pass over the bytes fills both.
 */
export interface ImageTensors {
  /** 1×3×H×W, RGB in [0, 1]. */
  planar: Float32Array;
  /** H×W×3, RGB in [0, 1]. */
  hwc: Float32Array;
}

export function rgbToTensors(rgb: Uint8Array, width: number, height: number): ImageTensors {
  const n = width * height;
  if (rgb.length !== n * 3) throw new RangeError(`Expected rgb to have ${n * 3} elements but it has ${rgb.length}`);
  const planar = new Float32Array(n * 3);
  const hwc = new Float32Array(n * 3);
  const inv = 1 / 255;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = rgb[j]! * inv;
    const g = rgb[j + 1]! * inv;
    const b = rgb[j + 2]! * inv;
    hwc[j] = r;
    hwc[j + 1] = g;
    hwc[j + 2] = b;
    planar[i] = r;
    planar[n + i] = g;
    planar[2 * n + i] = b;
  }
  return { planar, hwc };
}

/** Planar 1×3×H×W → interleaved H×W×3 (the reconstruction comes back planar). */
export function planarToHwc(planar: Float32Array, width: number, height: number): Float32Array {
  const n = width * height;
  if (planar.length !== n * 3) throw new RangeError(`Expected planar to have ${n * 3} elements but it has ${planar.length}`);
  const out = new Float32Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[j] = planar[i]!;
    out[j + 1] = planar[n + i]!;
    out[j + 2] = planar[2 * n + i]!;
  }
  return out;
}

/** Index of the first NaN or ±Inf value, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

/** Interleaved H×W×3 → planar 1×3×H×W (a tile cut from the working image, for the back end). */
export function hwcToPlanar(hwc: Float32Array, width: number, height: number): Float32Array {
  const n = width * height;
  const planar = new Float32Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    planar[i] = hwc[j]!;
    planar[n + i] = hwc[j + 1]!;
    planar[2 * n + i] = hwc[j + 2]!;
  }
  return planar;
}

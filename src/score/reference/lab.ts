/**
 * RGB in [0, 1] → CIE L*a*b* (D65) in closed form (method.md §6; paper eqs. 8–12): sRGB gamma expansion,
 * the eq. 8 matrix, white (0.950456, 1, 1.088754), f(t) = t^(1/3) above (6/29)^3 and 841/108·t + 4/29
 * below. Inputs are clamped to [0, 1] first (reconstructions may overshoot; the sRGB curve ends there).
 */
const XN = 0.950456;
const ZN = 1.088754;
const EPS = (6 / 29) ** 3;

function linearize(v: number): number {
  const c = Math.min(1, Math.max(0, v));
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

function f(t: number): number {
  return t > EPS ? Math.cbrt(t) : (841 / 108) * t + 4 / 29;
}

/** One pixel, in double precision: [L (0..100), a, b]. */
export function labPixel(r: number, g: number, b: number): [number, number, number] {
  const R = linearize(r);
  const G = linearize(g);
  const B = linearize(b);
  const X = (0.412453 * R + 0.35758 * G + 0.180423 * B) / XN;
  const Y = 0.212671 * R + 0.71516 * G + 0.072169 * B;
  const Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / ZN;
  const fy = f(Y);
  return [116 * fy - 16, 500 * (f(X) - fy), 200 * (fy - f(Z))];
}

/** Interleaved RGB (n×3) → interleaved L, a, b (n×3), float32 like the native kernel. */
export function rgbToLabRef(rgb: Float32Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const [L, a, b] = labPixel(rgb[i], rgb[i + 1], rgb[i + 2]);
    out[i] = L;
    out[i + 1] = a;
    out[i + 2] = b;
  }
  return out;
}

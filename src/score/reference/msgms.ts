/**
 * Multi-scale gradient magnitude similarity (method.md §6, RIAD's MSGMS), readable and in double precision.
 * Per channel of RGB and per scale s = 0..S−1:
 *   - the image at scale s is the 2×2 average pool (stride 2, floor size) of scale s−1;
 *   - Prewitt/3 gradients with zero padding (conv2d padding=1), g = sqrt(gx² + gy² + 1e-12),
 *     GMS = (2·g1·g2 + c) / (g1² + g2² + c);
 *   - GMS is upsampled to the full size bilinearly with half-pixel centres (torch align_corners=False:
 *     src = (dst + 0.5)·in/out − 0.5, clamped at 0; the upper neighbour clamps at the last pixel).
 * The result is the mean over scales, then over the three channels.
 */

type Plane = { data: Float64Array; width: number; height: number };

function at(p: Plane, x: number, y: number): number {
  return x < 0 || y < 0 || x >= p.width || y >= p.height ? 0 : p.data[y * p.width + x];
}

function gms(a: Plane, b: Plane, c: number): Plane {
  const out = new Float64Array(a.width * a.height);
  const mag = (p: Plane, x: number, y: number): number => {
    let gx = 0;
    let gy = 0;
    for (let d = -1; d <= 1; d++) {
      gx += (at(p, x - 1, y + d) - at(p, x + 1, y + d)) / 3;
      gy += (at(p, x + d, y - 1) - at(p, x + d, y + 1)) / 3;
    }
    return Math.sqrt(gx * gx + gy * gy + 1e-12);
  };
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const g1 = mag(a, x, y);
      const g2 = mag(b, x, y);
      out[y * a.width + x] = (2 * g1 * g2 + c) / (g1 * g1 + g2 * g2 + c);
    }
  }
  return { data: out, width: a.width, height: a.height };
}

function pool2(p: Plane): Plane {
  const width = Math.floor(p.width / 2);
  const height = Math.floor(p.height / 2);
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      out[y * width + x] = (at(p, 2 * x, 2 * y) + at(p, 2 * x + 1, 2 * y) + at(p, 2 * x, 2 * y + 1) + at(p, 2 * x + 1, 2 * y + 1)) / 4;
    }
  }
  return { data: out, width, height };
}

/** Source index pair and weight of the upper one, for output index d on an axis of in → out samples. */
function source(d: number, inSize: number, outSize: number): [number, number, number] {
  const s = Math.max(0, (d + 0.5) * (inSize / outSize) - 0.5);
  const i0 = Math.floor(s);
  return [i0, Math.min(i0 + 1, inSize - 1), s - i0];
}

function upsample(p: Plane, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const [y0, y1, ly] = source(y, p.height, height);
    for (let x = 0; x < width; x++) {
      const [x0, x1, lx] = source(x, p.width, width);
      out[y * width + x] =
        (1 - ly) * ((1 - lx) * at(p, x0, y0) + lx * at(p, x1, y0)) + ly * ((1 - lx) * at(p, x0, y1) + lx * at(p, x1, y1));
    }
  }
  return out;
}

/** a, b: interleaved RGB (H×W×3). Returns the H×W MSGMS map. Needs min(width, height) ≥ 2^(scales−1). */
export function msgmsRef(a: Float32Array, b: Float32Array, width: number, height: number, scales: number, c: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let ch = 0; ch < 3; ch++) {
    let pa: Plane = { data: new Float64Array(width * height), width, height };
    let pb: Plane = { data: new Float64Array(width * height), width, height };
    for (let i = 0; i < width * height; i++) {
      pa.data[i] = a[3 * i + ch];
      pb.data[i] = b[3 * i + ch];
    }
    for (let s = 0; s < scales; s++) {
      if (s > 0) {
        pa = pool2(pa);
        pb = pool2(pb);
      }
      const up = upsample(gms(pa, pb, c), width, height);
      for (let i = 0; i < out.length; i++) out[i] += up[i] / scales / 3;
    }
  }
  return out;
}

import { boxMeanRef } from './box.js';

/**
 * The scoring option `shadingWindow` (manifest schema), in double precision: the reconstruction takes the
 * input's low band, `recon + box_k(box_k(box_k(input − recon)))` per channel, 'valid' box borders. Three box
 * means approximate a Gaussian of σ = √((k² − 1)/4) ≈ k/2. Interleaved RGB in and out.
 */
export function transferShadingRef(input: Float32Array, recon: Float32Array, width: number, height: number, k: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    let low: ArrayLike<number> = Float64Array.from({ length: n }, (_, i) => input[3 * i + c]! - recon[3 * i + c]!);
    for (let pass = 0; pass < 3; pass++) low = boxMeanRef(low, width, height, k, 'valid');
    for (let i = 0; i < n; i++) out[3 * i + c] = recon[3 * i + c]! + low[i]!;
  }
  return out;
}

// The scoring option `shadingWindow`: before the fused score, the reconstruction takes the input's low band,
//   out = recon + lowpass(input - recon),   lowpass = three k x k box means with 'valid' borders
// (three boxes approximate a Gaussian of sigma = sqrt((k^2 - 1) / 4) ~ k / 2, at O(1) per pixel for any k).
// The network reconstructs mainly from an edge map, which has no absolute brightness, so broad lighting and
// shading differences are what it gets wrong on good images; this removes them from both terms of the score.
#pragma once

namespace mmaerec {
class WorkerPool;

/** input, recon, out: width*height*3 interleaved RGB (out may not alias either); k odd >= 1. */
void transfer_shading(const float* input, const float* recon, int width, int height, int k, float* out,
                      WorkerPool* pool);

}  // namespace mmaerec

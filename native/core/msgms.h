// Multi-scale gradient magnitude similarity (method.md §6, RIAD's MSGMS):
//  - per scale, Prewitt/3 gradients with zero padding (RIAD: conv2d(padding=1)), g = sqrt(gx^2+gy^2+1e-12),
//    GMS = (2 g1 g2 + c) / (g1^2 + g2^2 + c);
//  - the next scale is the 2x2 average pool of the previous one (stride 2, floor: an odd last row/column is
//    dropped, as torch avg_pool2d does);
//  - each scale's map is upsampled bilinearly to the full size with half-pixel centres (torch interpolate,
//    align_corners=False, explicit output size: src = (dst+0.5)*in/out - 0.5, clamped at 0, the upper
//    neighbour clamped to the last pixel), so odd sizes are handled by the exact in/out ratio;
//  - the result is the mean over scales and over channels.
#pragma once
#include <vector>

namespace mmaerec {
class WorkerPool;

/** Smallest side that supports `scales` scales: 2^(scales-1). */
inline int msgms_min_side(int scales) { return 1 << (scales - 1); }

/**
 * a, b: `channels` planes each of width*height; out: width*height. Requires min(width, height) >=
 * msgms_min_side(scales). c: the GMS stability constant.
 */
void msgms_planes(const float* const* a, const float* const* b, int channels, int width, int height,
                  int scales, float c, float* out, WorkerPool* pool);

/**
 * The pieces of msgms_planes, for callers that produce the scale-0 planes row by row (the fused score keeps
 * them in a three-row ring instead of full planes):
 *  - GmsRow::compute: one row of scale 0's channel-mean GMS. rows[3 * ch + k] is row y - 1 + k of a's channel
 *    ch, rows[3 * (channels + ch) + k] the same of b (nullptr: outside the image, zeros);
 *  - pool_row: one row of the next scale (2x2 average of rows r0, r1; wo = width / 2 outputs) into
 *    msgms_level1(), whose planes are a_0, b_0, a_1, b_1, ... of (width/2) x (height/2);
 *  - msgms_finish: out holds scale 0; adds scales 1..scales-1 from level 1 (upsampled) and divides by scales.
 */
class GmsRow {
 public:
  explicit GmsRow(int width);
  void compute(const float* const* rows, int channels, float c, float* out);

 private:
  int w_;
  std::vector<float> v_, d_, qa_, zeros_;
};
void pool_row(const float* r0, const float* r1, int wo, float* out);
float* msgms_level1(int channels, int width, int height);
void msgms_finish(const float* level1, int channels, int width, int height, int scales, float c, float* out,
                  WorkerPool* pool);

/** Same for interleaved RGB images (width*height*3). */
void msgms_rgb(const float* a, const float* b, int width, int height, int scales, float c, float* out,
               WorkerPool* pool);

}  // namespace mmaerec

// Box mean of any odd size k, O(1) per pixel whatever k: a running column sum slides down the rows and a
// running row sum slides along each row, both in double so that the sliding does not drift.
#pragma once

namespace mmaerec {
class WorkerPool;

enum class Border {
  /** Mean over the window's pixels that lie inside the image (no darkening at the borders). Default. */
  Valid,
  /** The reference code's zero padding: window sum / k^2. */
  Zero,
};

/** in, out: width*height (may not alias). k odd >= 1. */
void box_mean(const float* in, int width, int height, int k, Border border, float* out, WorkerPool* pool);

}  // namespace mmaerec

// The fused anomaly map of method.md §6 and its image score:
//   A = (1 - box_structure(MSGMS(I, I_r))) + mu * box_color(dL^2 + da^2 + db^2),   score = max(A)
// or, with a top-k fraction f > 0, the mean of the ceil(f * H * W) largest values of A.
#pragma once
#include <cstddef>

#include "box_filter.h"

namespace mmaerec {
class WorkerPool;

/**
 * The colour term is computed in single precision when mu / color_window <= this, the paper's 1e-3 / 11.
 * Its error on the map grows with mu (a few float ulps of Lab, amplified by the 500x of a*) and shrinks with
 * the box window that averages it: at this ratio, random colours (the worst case) move the map by at most
 * 5e-6 (measured). Above it the double-precision Lab is used (about 2x slower for the whole score), so the map
 * stays within 1e-5 of the exact formula for any constants.
 */
constexpr double kFloatColorMaxMuPerWindow = 1e-3 / 11.0;

struct FusedParams {
  int scales = 4;
  double c = 0.0026;
  double mu = 1e-3;
  int structure_window = 21;
  int color_window = 11;
  Border border = Border::Valid;
  /** 0: off; odd k: the reconstruction takes the input's band below three k x k box means first (shading.h). */
  int shading_window = 0;
  /** 0: score = max(A); in (0, 1]: mean of the top fraction of A. */
  double topk_fraction = 0.0;
};

struct FusedResult {
  double score = 0.0;
  /** Index (into input or recon, as float elements) of the first non-finite value; -1 when all finite. */
  long long nonfinite_index = -1;
  /** 0: input, 1: recon (meaningful when nonfinite_index >= 0). */
  int nonfinite_in = 0;
};

/**
 * input, recon: width*height*3 interleaved RGB in [0, 1]; map: width*height output.
 * The caller has validated sizes and params (odd windows, min side for the scales). When an input value is
 * not finite the map is left unspecified and nonfinite_index says where.
 */
FusedResult fused_score(const float* input, const float* recon, int width, int height, const FusedParams& p,
                        float* map, WorkerPool* pool);

/**
 * fused_score's preparation, for callers that score elsewhere (the CUDA kernels): finds the first non-finite value
 * of input or recon (then fills result's nonfinite fields and returns nullptr), else returns the reconstruction to
 * score — recon itself, or with p.shading_window > 0 its shading-transferred copy (shading.h) in a per-thread
 * scratch buffer, valid until the next call on this thread.
 */
const float* checked_recon(const float* input, const float* recon, int width, int height, const FusedParams& p,
                           WorkerPool* pool, FusedResult* result);

/** The image score from a map: max (topk_fraction == 0) or mean of the top ceil(fraction*n) values. */
double aggregate_score(const float* map, std::size_t n, double topk_fraction);

/** Index of the first non-finite value of data[0..n), or -1. */
long long first_nonfinite(const float* data, std::size_t n);

}  // namespace mmaerec

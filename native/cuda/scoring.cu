// CUDA scoring kernels: same formulas and order of operations as native/core (see its headers); Lab in
// double with pow/cbrt (exact closed form), the rest in float with double box sums.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "scoring.h"

namespace mmaerec::cuda {

namespace {

constexpr int kThreads = 256;
inline int blocks_for(long long n) { return static_cast<int>((n + kThreads - 1) / kThreads); }

#define MM_CUDA_CHECK(expr)                                                                   \
  do {                                                                                        \
    const cudaError_t e_ = (expr);                                                            \
    if (e_ != cudaSuccess) {                                                                  \
      if (error) *error = std::string(#expr) + ": " + cudaGetErrorName(e_) + " (" +           \
                          cudaGetErrorString(e_) + ")";                                       \
      return false;                                                                           \
    }                                                                                         \
  } while (0)

// Device memory freed on scope exit.
template <typename T>
struct DeviceArray {
  T* p = nullptr;
  ~DeviceArray() {
    if (p) cudaFree(p);
  }
  cudaError_t alloc(size_t n) { return cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)); }
};

__device__ double linearize(double v) {
  v = fmin(1.0, fmax(0.0, v));
  return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

__device__ double lab_f(double t) {
  return t > 216.0 / 24389.0 ? cbrt(t) : (841.0 / 108.0) * t + 4.0 / 29.0;
}

__device__ void lab(float r, float g, float b, double* L, double* A, double* B) {
  const double R = linearize(r), G = linearize(g), Bl = linearize(b);
  const double fx = lab_f((0.412453 * R + 0.357580 * G + 0.180423 * Bl) / 0.950456);
  const double fy = lab_f(0.212671 * R + 0.715160 * G + 0.072169 * Bl);
  const double fz = lab_f((0.019334 * R + 0.119193 * G + 0.950227 * Bl) / 1.088754);
  *L = 116.0 * fy - 16.0;
  *A = 500.0 * (fx - fy);
  *B = 200.0 * (fy - fz);
}

__global__ void lab_kernel(const float* rgb, int n, float* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  double L, A, B;
  lab(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], &L, &A, &B);
  out[3 * i] = static_cast<float>(L);
  out[3 * i + 1] = static_cast<float>(A);
  out[3 * i + 2] = static_cast<float>(B);
}

// Planes of both images (a: 0..2, b: 3..5, each n long) from interleaved RGB.
__global__ void split_kernel(const float* in, const float* rc, int n, float* planes) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  for (int c = 0; c < 3; ++c) {
    planes[c * static_cast<size_t>(n) + i] = in[3 * i + c];
    planes[(3 + c) * static_cast<size_t>(n) + i] = rc[3 * i + c];
  }
}

// dE2 = dL^2 + da^2 + db^2 from the 6 planes.
__global__ void color_kernel(const float* planes, int n, float* de2) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const size_t ps = static_cast<size_t>(n);
  double L0, a0, b0, L1, a1, b1;
  lab(planes[i], planes[ps + i], planes[2 * ps + i], &L0, &a0, &b0);
  lab(planes[3 * ps + i], planes[4 * ps + i], planes[5 * ps + i], &L1, &a1, &b1);
  const double dL = L0 - L1, da = a0 - a1, db = b0 - b1;
  de2[i] = static_cast<float>(dL * dL + da * da + db * db);
}

// *bad = the smallest planar index of a non-finite value of data[0..n) (unchanged when all are finite).
__global__ void nonfinite_kernel(const float* data, size_t n, unsigned long long* bad) {
  const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n && !isfinite(data[i])) atomicMin(bad, static_cast<unsigned long long>(i));
}

// The shading transfer's two ends (shading.h): diff = input - recon of one channel; recon += lowpass(diff).
__global__ void diff_kernel(const float* a, const float* b, int n, float* diff) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) diff[i] = a[i] - b[i];
}
__global__ void add_kernel(float* b, const float* low, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) b[i] += low[i];
}

__device__ float at0(const float* p, int w, int h, int x, int y) {
  return (x < 0 || y < 0 || x >= w || y >= h) ? 0.0f : p[static_cast<size_t>(y) * w + x];
}

// q = gx^2 + gy^2 + 1e-12, Prewitt/3 with zero padding (same grouping as the CPU's grad_sq).
__device__ float grad_sq(const float* p, int w, int h, int x, int y) {
  const float third = 1.0f / 3.0f;
  const float l = at0(p, w, h, x - 1, y - 1) + at0(p, w, h, x - 1, y) + at0(p, w, h, x - 1, y + 1);
  const float r = at0(p, w, h, x + 1, y - 1) + at0(p, w, h, x + 1, y) + at0(p, w, h, x + 1, y + 1);
  const float u = at0(p, w, h, x - 1, y - 1) + at0(p, w, h, x, y - 1) + at0(p, w, h, x + 1, y - 1);
  const float d = at0(p, w, h, x - 1, y + 1) + at0(p, w, h, x, y + 1) + at0(p, w, h, x + 1, y + 1);
  const float gx = (l - r) * third, gy = (u - d) * third;
  return gx * gx + gy * gy + 1e-12f;
}

// Channel-mean GMS of one scale; planes: 6 planes of w*h (a: 0..2, b: 3..5).
__global__ void gms_kernel(const float* planes, int w, int h, float c, float* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= w * h) return;
  const int x = i % w, y = i / w;
  const size_t ps = static_cast<size_t>(w) * h;
  float acc = 0.0f;
  for (int ch = 0; ch < 3; ++ch) {
    const float qa = grad_sq(planes + ch * ps, w, h, x, y);
    const float qb = grad_sq(planes + (3 + ch) * ps, w, h, x, y);
    acc += (2.0f * sqrtf(qa * qb) + c) / (qa + qb + c);
  }
  out[i] = acc * (1.0f / 3.0f);
}

// 2x2 average pool (floor size) of 6 planes of w*h into 6 planes of (w/2)*(h/2).
__global__ void pool_kernel(const float* in, int w, int h, float* out) {
  const int wo = w / 2, ho = h / 2;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= 6 * wo * ho) return;
  const int plane = i / (wo * ho), j = i % (wo * ho), x = j % wo, y = j / wo;
  const float* p = in + plane * static_cast<size_t>(w) * h;
  const float* r0 = p + static_cast<size_t>(2 * y) * w;
  const float* r1 = r0 + w;
  out[i] = (r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]) * 0.25f;
}

__device__ void source(int d, int in, int out, int* i0, int* i1, float* l1) {
  double s = (d + 0.5) * (static_cast<double>(in) / out) - 0.5;
  if (s < 0) s = 0;
  *i0 = static_cast<int>(s);
  *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
  *l1 = static_cast<float>(s - *i0);
}

// out (+)= bilinear upsampling (half-pixel centres) of small (ws x hs) to w x h.
__global__ void upsample_kernel(const float* small, int ws, int hs, float* out, int w, int h, bool first) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= w * h) return;
  const int x = i % w, y = i / w;
  int x0, x1, y0, y1;
  float lx, ly;
  source(x, ws, w, &x0, &x1, &lx);
  source(y, hs, h, &y0, &y1, &ly);
  const float v0 = (1.0f - ly) * small[y0 * ws + x0] + ly * small[y1 * ws + x0];
  const float v1 = (1.0f - ly) * small[y0 * ws + x1] + ly * small[y1 * ws + x1];
  const float v = (1.0f - lx) * v0 + lx * v1;
  out[i] = first ? v : out[i] + v;
}

__global__ void scale_kernel(float* data, int n, float s) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) data[i] *= s;
}

// Box mean, pass 1: horizontal window sums in double.
__global__ void box_rows_kernel(const float* in, int w, int h, int r, double* rows) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= w * h) return;
  const int x = i % w, y = i / w;
  double s = 0.0;
  for (int xx = max(0, x - r); xx <= min(w - 1, x + r); ++xx) s += in[static_cast<size_t>(y) * w + xx];
  rows[i] = s;
}

// Pass 2: vertical sums of the row sums, divided by the in-image count (valid) or k^2 (zero).
__global__ void box_cols_kernel(const double* rows, int w, int h, int r, bool valid, float* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= w * h) return;
  const int x = i % w, y = i / w;
  double s = 0.0;
  for (int yy = max(0, y - r); yy <= min(h - 1, y + r); ++yy) s += rows[static_cast<size_t>(yy) * w + x];
  const int k = 2 * r + 1;
  const double count = valid ? static_cast<double>(min(w - 1, x + r) - max(0, x - r) + 1) *
                                   (min(h - 1, y + r) - max(0, y - r) + 1)
                             : static_cast<double>(k) * k;
  out[i] = static_cast<float>(s / count);
}

__global__ void combine_kernel(const float* bs, const float* bc, int n, float mu, float* map) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) map[i] = (1.0f - bs[i]) + mu * bc[i];
}

bool box_device(const float* in, int w, int h, int k, Border border, float* out, double* rows, std::string* error,
                cudaStream_t st = nullptr) {
  const int n = w * h, r = k / 2;
  box_rows_kernel<<<blocks_for(n), kThreads, 0, st>>>(in, w, h, r, rows);
  box_cols_kernel<<<blocks_for(n), kThreads, 0, st>>>(rows, w, h, r, border == Border::Valid, out);
  MM_CUDA_CHECK(cudaGetLastError());
  return true;
}

// MSGMS of the 6 planes in `planes` (overwritten by the pyramid) into ms; scratch: 6n floats + n floats.
bool msgms_device(float* planes, int w, int h, int scales, float c, float* ms, float* scratch, float* gms,
                  std::string* error, cudaStream_t st = nullptr) {
  const int n = w * h;
  float* cur = planes;
  float* next = scratch;
  int ws = w, hs = h;
  for (int s = 0; s < scales; ++s) {
    gms_kernel<<<blocks_for(ws * hs), kThreads, 0, st>>>(cur, ws, hs, c, gms);
    upsample_kernel<<<blocks_for(n), kThreads, 0, st>>>(gms, ws, hs, ms, w, h, s == 0);
    if (s + 1 < scales) {
      pool_kernel<<<blocks_for(6LL * (ws / 2) * (hs / 2)), kThreads, 0, st>>>(cur, ws, hs, next);
      std::swap(cur, next);
      ws /= 2;
      hs /= 2;
    }
  }
  scale_kernel<<<blocks_for(n), kThreads, 0, st>>>(ms, n, 1.0f / scales);
  MM_CUDA_CHECK(cudaGetLastError());
  return true;
}


template <typename T>
cudaError_t grow(T** p, size_t n, size_t* bytes) {
  *bytes += n * sizeof(T);
  return cudaMalloc(reinterpret_cast<void**>(p), n * sizeof(T));
}

}  // namespace

DeviceScorer::~DeviceScorer() { release(); }

void DeviceScorer::release() {
  for (float* p : {upload_, planes_, scratch_, gms_, ms_, de2_, bs_, bc_, map_}) cudaFree(p);
  cudaFree(rows_);
  cudaFree(bad_);
  cudaFreeHost(pinned_);
  cudaFreeHost(pinned_bad_);
  upload_ = planes_ = scratch_ = gms_ = ms_ = de2_ = bs_ = bc_ = map_ = pinned_ = nullptr;
  rows_ = nullptr;
  bad_ = pinned_bad_ = nullptr;
  capacity_ = bytes_ = 0;
}

bool DeviceScorer::reserve(size_t n, std::string* error) {
  if (n <= capacity_) return true;
  release();
  for (float** p : {&upload_, &planes_, &scratch_}) MM_CUDA_CHECK(grow(p, 6 * n, &bytes_));
  for (float** p : {&gms_, &ms_, &de2_, &bs_, &bc_, &map_}) MM_CUDA_CHECK(grow(p, n, &bytes_));
  MM_CUDA_CHECK(grow(&rows_, n, &bytes_));
  MM_CUDA_CHECK(grow(&bad_, 1, &bytes_));
  MM_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&pinned_), 6 * n * sizeof(float)));
  MM_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&pinned_bad_), sizeof(unsigned long long)));
  capacity_ = n;
  return true;
}

// planes_ holds the 6 planes (and bad_ its check, queued): shading, colour, MSGMS, boxes, map; map and bad back.
bool DeviceScorer::run(int w, int h, const FusedParams& p, Stream stream, float* map, double* score,
                       std::string* error) {
  const int n = w * h;
  const size_t ps = static_cast<size_t>(n);
  if (p.shading_window > 0) {
    for (int c = 0; c < 3; ++c) {
      diff_kernel<<<blocks_for(n), kThreads, 0, stream>>>(planes_ + c * ps, planes_ + (3 + c) * ps, n, bs_);
      if (!box_device(bs_, w, h, p.shading_window, Border::Valid, bc_, rows_, error, stream) ||
          !box_device(bc_, w, h, p.shading_window, Border::Valid, bs_, rows_, error, stream) ||
          !box_device(bs_, w, h, p.shading_window, Border::Valid, bc_, rows_, error, stream)) {
        return false;
      }
      add_kernel<<<blocks_for(n), kThreads, 0, stream>>>(planes_ + (3 + c) * ps, bc_, n);
    }
  }
  color_kernel<<<blocks_for(n), kThreads, 0, stream>>>(planes_, n, de2_);
  MM_CUDA_CHECK(cudaGetLastError());
  if (!msgms_device(planes_, w, h, p.scales, static_cast<float>(p.c), ms_, scratch_, gms_, error, stream)) return false;
  if (!box_device(ms_, w, h, p.structure_window, p.border, bs_, rows_, error, stream)) return false;
  if (!box_device(de2_, w, h, p.color_window, p.border, bc_, rows_, error, stream)) return false;
  combine_kernel<<<blocks_for(n), kThreads, 0, stream>>>(bs_, bc_, n, static_cast<float>(p.mu), map_);
  MM_CUDA_CHECK(cudaGetLastError());
  MM_CUDA_CHECK(cudaMemcpyAsync(pinned_, map_, ps * sizeof(float), cudaMemcpyDeviceToHost, stream));
  MM_CUDA_CHECK(cudaMemcpyAsync(pinned_bad_, bad_, sizeof(unsigned long long), cudaMemcpyDeviceToHost, stream));
  MM_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::copy(pinned_, pinned_ + ps, map);
  *score = aggregate_score(map, ps, p.topk_fraction);
  return true;
}

bool DeviceScorer::score_planar(const float* image, const float* recon, int w, int h, const FusedParams& p,
                                Stream stream, float* map, double* score, long long* nonfinite, std::string* error) {
  const size_t n = static_cast<size_t>(w) * h;
  if (!reserve(n, error)) return false;
  // The engine's buffers stay untouched (the caller may still download the reconstruction): scored from a copy.
  MM_CUDA_CHECK(cudaMemcpyAsync(planes_, image, 3 * n * sizeof(float), cudaMemcpyDeviceToDevice, stream));
  MM_CUDA_CHECK(cudaMemcpyAsync(planes_ + 3 * n, recon, 3 * n * sizeof(float), cudaMemcpyDeviceToDevice, stream));
  MM_CUDA_CHECK(cudaMemsetAsync(bad_, 0xFF, sizeof(unsigned long long), stream));
  nonfinite_kernel<<<blocks_for(static_cast<long long>(6 * n)), kThreads, 0, stream>>>(planes_, 6 * n, bad_);
  if (!run(w, h, p, stream, map, score, error)) return false;
  const unsigned long long bad = *pinned_bad_;
  *nonfinite = -1;
  if (bad != ~0ULL) {
    // Planar index (plane, pixel) -> interleaved element 3 * pixel + channel, as the CPU path reports it.
    const long long plane = static_cast<long long>(bad / n), pixel = static_cast<long long>(bad % n);
    const long long element = 3 * pixel + plane % 3;
    *nonfinite = plane < 3 ? element : -2 - element;
  }
  return true;
}

bool DeviceScorer::score_host(const float* input, const float* recon, int w, int h, const FusedParams& p, float* map,
                              double* score, std::string* error) {
  const size_t n = static_cast<size_t>(w) * h;
  if (!reserve(n, error)) return false;
  std::copy(input, input + 3 * n, pinned_);
  std::copy(recon, recon + 3 * n, pinned_ + 3 * n);
  MM_CUDA_CHECK(cudaMemcpyAsync(upload_, pinned_, 6 * n * sizeof(float), cudaMemcpyHostToDevice, nullptr));
  MM_CUDA_CHECK(cudaMemsetAsync(bad_, 0xFF, sizeof(unsigned long long), nullptr));
  split_kernel<<<blocks_for(n), kThreads>>>(upload_, upload_ + 3 * n, static_cast<int>(n), planes_);
  return run(w, h, p, nullptr, map, score, error);
}

bool fused_score(const float* input, const float* recon, int w, int h, const FusedParams& p, float* map,
                 double* score, long long* nonfinite, std::string* error) {
  const size_t n = static_cast<size_t>(w) * h;
  // Non-finite values are located on the host (cheap next to the transfers), as the CPU path does.
  const long long bad_in = first_nonfinite(input, 3 * n);
  const long long bad_rc = bad_in >= 0 ? -1 : first_nonfinite(recon, 3 * n);
  if (bad_in >= 0 || bad_rc >= 0) {
    *nonfinite = bad_in >= 0 ? bad_in : -2 - bad_rc;
    return true;
  }
  *nonfinite = -1;
  // One scorer per calling thread (libuv workers, test threads): its buffers are allocated on the first call of a
  // size and reused after, instead of eleven cudaMalloc/cudaFree pairs per frame.
  thread_local DeviceScorer scorer;
  return scorer.score_host(input, recon, w, h, p, map, score, error);
}


bool rgb_to_lab(const float* rgb, int n, float* out, std::string* error) {
  DeviceArray<float> d_rgb, d_out;
  MM_CUDA_CHECK(d_rgb.alloc(3 * static_cast<size_t>(n)));
  MM_CUDA_CHECK(d_out.alloc(3 * static_cast<size_t>(n)));
  MM_CUDA_CHECK(cudaMemcpy(d_rgb.p, rgb, 3 * sizeof(float) * n, cudaMemcpyHostToDevice));
  lab_kernel<<<blocks_for(n), kThreads>>>(d_rgb.p, n, d_out.p);
  MM_CUDA_CHECK(cudaGetLastError());
  MM_CUDA_CHECK(cudaMemcpy(out, d_out.p, 3 * sizeof(float) * n, cudaMemcpyDeviceToHost));
  return true;
}

bool msgms(const float* a, const float* b, int w, int h, int scales, float c, float* out, std::string* error) {
  const size_t n = static_cast<size_t>(w) * h;
  DeviceArray<float> d_a, d_b, planes, scratch, gms, ms;
  MM_CUDA_CHECK(d_a.alloc(3 * n));
  MM_CUDA_CHECK(d_b.alloc(3 * n));
  MM_CUDA_CHECK(planes.alloc(6 * n));
  MM_CUDA_CHECK(scratch.alloc(6 * n));
  MM_CUDA_CHECK(gms.alloc(n));
  MM_CUDA_CHECK(ms.alloc(n));
  MM_CUDA_CHECK(cudaMemcpy(d_a.p, a, 3 * n * sizeof(float), cudaMemcpyHostToDevice));
  MM_CUDA_CHECK(cudaMemcpy(d_b.p, b, 3 * n * sizeof(float), cudaMemcpyHostToDevice));
  split_kernel<<<blocks_for(n), kThreads>>>(d_a.p, d_b.p, static_cast<int>(n), planes.p);
  if (!msgms_device(planes.p, w, h, scales, c, ms.p, scratch.p, gms.p, error)) return false;
  MM_CUDA_CHECK(cudaMemcpy(out, ms.p, n * sizeof(float), cudaMemcpyDeviceToHost));
  return true;
}

bool box_mean(const float* in, int w, int h, int k, Border border, float* out, std::string* error) {
  const size_t n = static_cast<size_t>(w) * h;
  DeviceArray<float> d_in, d_out;
  DeviceArray<double> rows;
  MM_CUDA_CHECK(d_in.alloc(n));
  MM_CUDA_CHECK(d_out.alloc(n));
  MM_CUDA_CHECK(rows.alloc(n));
  MM_CUDA_CHECK(cudaMemcpy(d_in.p, in, n * sizeof(float), cudaMemcpyHostToDevice));
  if (!box_device(d_in.p, w, h, k, border, d_out.p, rows.p, error)) return false;
  MM_CUDA_CHECK(cudaMemcpy(out, d_out.p, n * sizeof(float), cudaMemcpyDeviceToHost));
  return true;
}

}  // namespace mmaerec::cuda

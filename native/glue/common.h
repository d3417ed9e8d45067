// Shared pieces of the N-API glue: argument readers (they throw TypeError/RangeError like the TS layer),
// the shared worker pool, the device setting, and a promise-returning AsyncWorker base.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "../core/fused.h"
#include "../core/parallel.h"
#include "../core/score_device.h"

namespace mmaerec::glue {

/** The pool every job uses; replaced by setThreads (jobs in flight keep the one they started with). */
std::shared_ptr<WorkerPool> shared_pool();

/**
 * Below this many pixels a frame is scored (and its edge map computed) on one thread: a 128x128 fused score
 * is a dozen phases of ~20 us each, too short to pay for the handoffs. Measured on a 2-vCPU EPYC: 128^2 took
 * 0.29 ms on 1 thread and 0.22 ms on 2 for 36 % more CPU; 256^2 took 0.91 vs 0.48-0.57 ms. In a pipeline,
 * where neighbouring frames already keep the cores busy, that CPU is what counts.
 */
constexpr long long kMinParallelPixels = 256LL * 256;

/** shared_pool() for a frame of `pixels` pixels, or null (run inline) below kMinParallelPixels. */
std::shared_ptr<WorkerPool> pool_for(long long pixels);
void set_threads(int threads);
int default_threads();

/** The device setting (setDevice); the choice it drives is the core's (score_device.h). */
using DeviceMode = ScoreDevice;
DeviceMode device_mode();
void set_device_mode(DeviceMode mode);

[[noreturn]] void throw_type(Napi::Env env, const std::string& msg);
[[noreturn]] void throw_range(Napi::Env env, const std::string& msg);

/** A positive int32 argument (width, height, window). */
int positive_int(const Napi::CallbackInfo& info, size_t index, const char* name);
/** A typed array argument of the given type with exactly `length` elements (length < 0: any). */
Napi::TypedArray typed_array(const Napi::CallbackInfo& info, size_t index, const char* name,
                             napi_typedarray_type type, long long length);
/** number property of an options object, or the fallback when absent. */
double number_option(Napi::Object options, const char* name, double fallback);

/**
 * The fused score's parameters from the options object TypeScript validated (FusedScorer): read as they are;
 * only what would make the core read out of bounds throws (scales for the image side, windows below 1).
 */
FusedParams fused_params(Napi::Env env, Napi::Value options, int width, int height);

/**
 * Resolves a promise with the value built by Result() on the JS thread, or rejects with the error set in
 * Execute(). Keeps the JS arrays it reads or writes alive until it is done.
 */
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env);
  Napi::Promise Queue();
  /** Keep a JS value (an input or output array) referenced while the job runs. */
  void Keep(Napi::Value value);

 protected:
  /** Called on the JS thread after a successful Execute(). */
  virtual Napi::Value Result(Napi::Env env) = 0;
  /** Set from Execute() to reject with a RangeError instead of an Error. */
  void SetRangeError(const std::string& msg) {
    range_error_ = true;
    SetError(msg);
  }

 private:
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

  Napi::Promise::Deferred deferred_;
  std::vector<Napi::Reference<Napi::Value>> kept_;
  bool range_error_ = false;
};

}  // namespace mmaerec::glue

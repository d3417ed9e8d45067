#include "common.h"

#include <mutex>
#include <thread>

namespace mmaerec::glue {

namespace {
std::mutex settings_mutex;
std::shared_ptr<WorkerPool> pool;
DeviceMode mode = DeviceMode::Auto;
}  // namespace

int default_threads() {
  // The scoring targets are 2-core line-side controllers; more threads only help large frames.
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : (hw < 2 ? static_cast<int>(hw) : 2);
}

std::shared_ptr<WorkerPool> shared_pool() {
  std::lock_guard<std::mutex> lock(settings_mutex);
  if (!pool) pool = std::make_shared<WorkerPool>(default_threads());
  return pool;
}

std::shared_ptr<WorkerPool> pool_for(long long pixels) {
  return pixels < kMinParallelPixels ? nullptr : shared_pool();
}

void set_threads(int threads) {
  auto next = std::make_shared<WorkerPool>(threads);
  std::lock_guard<std::mutex> lock(settings_mutex);
  pool = std::move(next);
}

DeviceMode device_mode() {
  std::lock_guard<std::mutex> lock(settings_mutex);
  return mode;
}

void set_device_mode(DeviceMode m) {
  std::lock_guard<std::mutex> lock(settings_mutex);
  mode = m;
}

void throw_type(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
void throw_range(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

int positive_int(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value v = info[index];
  if (!v.IsNumber()) throw_type(info.Env(), std::string("Expected a positive integer for ") + name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 2147483647.0) || d != static_cast<double>(static_cast<long long>(d))) {
    throw_type(info.Env(), std::string("Expected a positive integer for ") + name + " but received " +
                               std::to_string(d));
  }
  return static_cast<int>(d);
}

Napi::TypedArray typed_array(const Napi::CallbackInfo& info, size_t index, const char* name,
                             napi_typedarray_type type, long long length) {
  const Napi::Value v = info[index];
  const char* want = type == napi_float32_array ? "a Float32Array" : "a Uint8Array";
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw_type(info.Env(), std::string("Expected ") + want + " for " + name);
  }
  Napi::TypedArray arr = v.As<Napi::TypedArray>();
  if (length >= 0 && static_cast<long long>(arr.ElementLength()) != length) {
    throw_range(info.Env(), std::string("Expected ") + name + " to have " + std::to_string(length) +
                                " elements but it has " + std::to_string(arr.ElementLength()));
  }
  return arr;
}

double number_option(Napi::Object options, const char* name, double fallback) {
  if (!options.Has(name)) return fallback;
  const Napi::Value v = options.Get(name);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw_type(options.Env(), std::string("Expected a number for option ") + name);
  return v.As<Napi::Number>().DoubleValue();
}

PromiseWorker::PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}

Napi::Promise PromiseWorker::Queue() {
  Napi::Promise promise = deferred_.Promise();
  Napi::AsyncWorker::Queue();
  return promise;
}

void PromiseWorker::Keep(Napi::Value value) { kept_.push_back(Napi::Persistent(value)); }

void PromiseWorker::OnOK() {
  Napi::HandleScope scope(Env());
  deferred_.Resolve(Result(Env()));
}

void PromiseWorker::OnError(const Napi::Error& error) {
  Napi::HandleScope scope(Env());
  if (range_error_) {
    deferred_.Reject(Napi::RangeError::New(Env(), error.Message()).Value());
  } else {
    deferred_.Reject(error.Value());
  }
}

}  // namespace mmaerec::glue

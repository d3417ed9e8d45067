// exports.tensorrt.Engine: one deserialised engine with its buffers and stream (EngineRunner), used from JS through
// AsyncWorkers so that loading (hundreds of ms) and inference never block the event loop.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../core/build_switches.h"
#include "../tensorrt/engine_runner.h"
#include "common.h"
#include "tensorrt.h"

namespace mmaerec::trt::glue {

namespace {

class Engine final : public Napi::ObjectWrap<Engine> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {InstanceMethod<&Engine::Load>("load"), InstanceMethod<&Engine::Infer>("infer"),
#if MMAEREC_WITH_CUDA
                        InstanceMethod<&Engine::InferScore>("inferScore"),
#endif
                        InstanceMethod<&Engine::Dispose>("dispose")});
  }
  explicit Engine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Engine>(info) {}

  // Workers hold a reference to the JS object, so the runner outlives every queued call; `busy_` turns a second
  // concurrent call into a clear error instead of a race on the shared buffers (the TS side queues calls).
  std::unique_ptr<EngineRunner> runner;
  bool busy = false;

 private:
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Infer(const Napi::CallbackInfo& info);
#if MMAEREC_WITH_CUDA
  Napi::Value InferScore(const Napi::CallbackInfo& info);
#endif
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  std::string inputProblem(const Napi::CallbackInfo& info, size_t args, const std::string& call, const std::string& signature,
                           const BatchRange& range, int32_t* frames) const;
};

Napi::Value rejected(Napi::Env env, const std::string& message) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(Napi::Error::New(env, message).Value());
  return deferred.Promise();
}

/// Base for the Engine's workers: holds the JS object alive and clears `busy` whatever the outcome.
class EngineWorker : public Napi::AsyncWorker {
 public:
  EngineWorker(Napi::Env env, Engine* engine, Napi::Object self)
      : Napi::AsyncWorker(env), deferred(Napi::Promise::Deferred::New(env)), engine(engine), self_(Napi::Persistent(self)) {
    engine->busy = true;
  }
  Napi::Promise promise() { return deferred.Promise(); }
  void OnError(const Napi::Error& error) override {
    engine->busy = false;
    deferred.Reject(error.Value());
  }

 protected:
  Napi::Promise::Deferred deferred;
  Engine* engine;

 private:
  Napi::ObjectReference self_;
};

class LoadWorker final : public EngineWorker {
 public:
  LoadWorker(Napi::Env env, Engine* engine, Napi::Object self, std::string path, int device)
      : EngineWorker(env, engine, self), path_(std::move(path)), device_(device) {}
  void Execute() override {
    try {
      loaded_ = std::make_unique<EngineRunner>(path_, device_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    engine->runner = std::move(loaded_);
    engine->busy = false;
    auto out = Napi::Object::New(Env());
    out.Set("width", engine->runner->shape().width);
    out.Set("height", engine->runner->shape().height);
    out.Set("batch", batchObject(Env(), engine->runner->batch()));
    deferred.Resolve(out);
  }

 private:
  std::string path_;
  int device_;
  std::unique_ptr<EngineRunner> loaded_;
};

class InferWorker final : public EngineWorker {
 public:
  InferWorker(Napi::Env env, Engine* engine, Napi::Object self, Napi::Float32Array image, Napi::Float32Array edge,
              int32_t frames)
      : EngineWorker(env, engine, self),
        image_(Napi::Persistent(image)),
        edge_(Napi::Persistent(edge)),
        imageData_(image.Data()),
        edgeData_(edge.Data()),
        frames_(frames),
        recon_(std::size_t(frames) * engine->runner->reconFloats()) {}
  void Execute() override {
    // The input arrays are pinned by the persistent references above; the caller does not touch them while the
    // promise is pending (InferenceBackend contract), so reading them here is safe.
    try {
      engine->runner->infer(imageData_, edgeData_, recon_.data(), frames_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    engine->busy = false;
    auto out = Napi::Float32Array::New(Env(), recon_.size());
    std::memcpy(out.Data(), recon_.data(), recon_.size() * sizeof(float));
    deferred.Resolve(out);
  }

 private:
  Napi::Reference<Napi::Float32Array> image_;
  Napi::Reference<Napi::Float32Array> edge_;
  const float* imageData_;
  const float* edgeData_;
  int32_t frames_;
  std::vector<float> recon_;
};

#if MMAEREC_WITH_CUDA
/// Inference + GPU scoring: the reconstruction is downloaded only when `wantRecon`.
class InferScoreWorker final : public EngineWorker {
 public:
  InferScoreWorker(Napi::Env env, Engine* engine, Napi::Object self, Napi::Float32Array image, Napi::Float32Array edge,
                   const FusedParams& params, bool wantRecon)
      : EngineWorker(env, engine, self),
        image_(Napi::Persistent(image)),
        edge_(Napi::Persistent(edge)),
        imageData_(image.Data()),
        edgeData_(edge.Data()),
        params_(params),
        map_(engine->runner->edgeFloats()),
        recon_(wantRecon ? engine->runner->reconFloats() : 0) {}
  void Execute() override {
    try {
      engine->runner->inferAndScore(imageData_, edgeData_, params_, map_.data(), &score_, &nonfinite_);
      if (!recon_.empty()) engine->runner->downloadRecon(recon_.data());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    engine->busy = false;
    Napi::Env env = Env();
    if (nonfinite_ != -1) {
      const bool in_input = nonfinite_ >= 0;
      const long long i = in_input ? nonfinite_ : -2 - nonfinite_;
      deferred.Reject(Napi::RangeError::New(env, std::string(in_input ? "image" : "recon") + " has a non-finite value at element " +
                                                     std::to_string(i) + " (pixel " + std::to_string(i / 3) +
                                                     "): the engine produced it (rebuild the engine, or try --backend onnxruntime)")
                          .Value());
      return;
    }
    auto out = Napi::Object::New(env);
    auto map = Napi::Float32Array::New(env, map_.size());
    std::memcpy(map.Data(), map_.data(), map_.size() * sizeof(float));
    out.Set("map", map);
    out.Set("score", score_);
    if (!recon_.empty()) {
      auto recon = Napi::Float32Array::New(env, recon_.size());
      std::memcpy(recon.Data(), recon_.data(), recon_.size() * sizeof(float));
      out.Set("recon", recon);
    }
    deferred.Resolve(out);
  }

 private:
  Napi::Reference<Napi::Float32Array> image_;
  Napi::Reference<Napi::Float32Array> edge_;
  const float* imageData_;
  const float* edgeData_;
  FusedParams params_;
  std::vector<float> map_;
  std::vector<float> recon_;
  double score_ = 0;
  long long nonfinite_ = -1;
};
#endif

class DisposeWorker final : public EngineWorker {
 public:
  DisposeWorker(Napi::Env env, Engine* engine, Napi::Object self) : EngineWorker(env, engine, self) {}
  void Execute() override { released_ = std::move(engine->runner); released_.reset(); }
  void OnOK() override {
    engine->busy = false;
    deferred.Resolve(Env().Undefined());
  }

 private:
  std::unique_ptr<EngineRunner> released_;
};

Napi::Value Engine::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy) return rejected(env, "the TensorRT engine is busy: await the previous call first");
  if (runner) return rejected(env, "this Engine already holds a loaded plan: create a new Engine");
  if (info.Length() < 1 || !info[0].IsString()) return rejected(env, "Engine.load expects the plan path");
  const int device = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  auto* worker = new LoadWorker(env, this, info.This().As<Napi::Object>(), info[0].As<Napi::String>().Utf8Value(), device);
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

/// Why an inference call cannot run (engine state, argument types, sizes), or "" when it can, with the frames the
/// inputs hold in `*frames` (within `range`): the checks infer and inferScore share; `args` is how many arguments the
/// call needs, `signature` what it expects. The TS back end checks the same first; this guards the buffers.
std::string Engine::inputProblem(const Napi::CallbackInfo& info, size_t args, const std::string& call, const std::string& signature,
                                 const BatchRange& range, int32_t* frames) const {
  if (!runner) return "the TensorRT engine is not loaded (or was disposed): call load() first";
  if (busy) return "the TensorRT engine is busy: await the previous call first";
  if (info.Length() < args || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    return call + " expects " + signature;
  }
  std::string problem;
  *frames = framesIn(info[0].As<Napi::Float32Array>().ElementLength(), info[1].As<Napi::Float32Array>().ElementLength(),
                     runner->imageFloats(), runner->edgeFloats(), range, &problem);
  return *frames == 0 ? call + " got " + problem : "";
}

Napi::Value Engine::Infer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t frames = 0;
  const std::string refused = inputProblem(info, 2, "Engine.infer", "(image: Float32Array, edge: Float32Array)",
                                           runner ? runner->batch() : BatchRange{}, &frames);
  if (!refused.empty()) return rejected(env, refused);
  auto image = info[0].As<Napi::Float32Array>();
  auto edge = info[1].As<Napi::Float32Array>();
  auto* worker = new InferWorker(env, this, info.This().As<Napi::Object>(), image, edge, frames);
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

#if MMAEREC_WITH_CUDA
Napi::Value Engine::InferScore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // One frame: the GPU scoring reads the first image and reconstruction of the engine's buffers.
  int32_t frames = 0;
  const std::string refused = inputProblem(info, 3, "Engine.inferScore", "(image: Float32Array, edge: Float32Array, params, wantRecon)",
                                           BatchRange{1, 1, 1}, &frames);
  if (!refused.empty()) return rejected(env, refused);
  auto image = info[0].As<Napi::Float32Array>();
  auto edge = info[1].As<Napi::Float32Array>();
  FusedParams params;
  try {
    params = mmaerec::glue::fused_params(env, info[2], runner->shape().width, runner->shape().height);
  } catch (const Napi::Error& e) {
    return rejected(env, e.Message());
  }
  auto* worker = new InferScoreWorker(env, this, info.This().As<Napi::Object>(), image, edge, params,
                                      info.Length() > 3 && info[3].ToBoolean());
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}
#endif

Napi::Value Engine::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy) return rejected(env, "the TensorRT engine is busy: await the previous call first");
  auto* worker = new DisposeWorker(env, this, info.This().As<Napi::Object>());
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

Napi::Function DefineEngineClass(Napi::Env env) { return Engine::Define(env); }

}  // namespace mmaerec::trt::glue

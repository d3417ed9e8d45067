// exports.tensorrt: version, queryDevice and buildEngine (see tensorrt.h). Everything that touches CUDA or
// TensorRT runs in an AsyncWorker; build progress comes back through a ThreadSafeFunction.
#include "tensorrt.h"

#include <memory>
#include <string>

#include "../tensorrt/device_info.h"
#include "../tensorrt/engine_builder.h"
#include "../tensorrt/trt_common.h"

namespace mmaerec::trt::glue {

namespace {

Napi::Value rejectWith(Napi::Env env, const std::string& message) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(Napi::TypeError::New(env, message).Value());
  return deferred.Promise();
}

class DeviceWorker final : public Napi::AsyncWorker {
 public:
  DeviceWorker(Napi::Env env, int index) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), index_(index) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      info_ = queryDevice(index_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto out = Napi::Object::New(env);
    out.Set("index", info_.index);
    out.Set("name", info_.name);
    out.Set("computeCapability", std::to_string(info_.computeMajor) + "." + std::to_string(info_.computeMinor));
    out.Set("totalMemoryBytes", Napi::Number::New(env, double(info_.totalMemoryBytes)));
    out.Set("integrated", info_.integrated);
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int index_;
  DeviceInfo info_;
};

const char* kindName(BuildEvent::Kind kind) {
  switch (kind) {
    case BuildEvent::Kind::PhaseStart: return "phase-start";
    case BuildEvent::Kind::Step: return "step";
    case BuildEvent::Kind::PhaseFinish: return "phase-finish";
    case BuildEvent::Kind::Warning: return "warning";
  }
  return "unknown";
}

class BuildWorker final : public Napi::AsyncWorker {
 public:
  BuildWorker(Napi::Env env, BuildOptions options, Napi::Value onEvent)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), options_(std::move(options)) {
    if (onEvent.IsFunction()) {
      progress_ = Napi::ThreadSafeFunction::New(env, onEvent.As<Napi::Function>(), "mmaerec-tensorrt-build", 0, 1);
      hasProgress_ = true;
    }
  }
  ~BuildWorker() override {
    if (hasProgress_) progress_.Release();
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      report_ = buildEngine(options_, [this](const BuildEvent& event) {
        if (!hasProgress_) return;
        // Ownership passes to the JS-thread callback; a failed queue (shutting down) frees it here.
        auto* copy = new BuildEvent(event);
        if (progress_.NonBlockingCall(copy, deliver) != napi_ok) delete copy;
      });
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto out = Napi::Object::New(env);
    out.Set("planPath", report_.planPath);
    out.Set("planBytes", Napi::Number::New(env, double(report_.planBytes)));
    out.Set("width", report_.shape.width);
    out.Set("height", report_.shape.height);
    out.Set("batch", batchObject(env, report_.batch));
    out.Set("tensorrtVersion", report_.tensorrtVersion);
    out.Set("calibrationSamples", report_.calibrationSamples);
    out.Set("calibrationCacheHit", report_.calibrationCacheHit);
    out.Set("seconds", report_.seconds);
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  static void deliver(Napi::Env env, Napi::Function callback, BuildEvent* event) {
    std::unique_ptr<BuildEvent> owned(event);
    if (env == nullptr || callback.IsEmpty()) return;
    auto e = Napi::Object::New(env);
    e.Set("kind", kindName(owned->kind));
    e.Set("phase", owned->phase);
    e.Set("parent", owned->parent);
    e.Set("step", owned->step);
    e.Set("steps", owned->steps);
    callback.Call({e});  // a throwing JS callback surfaces as an uncaught exception, like any event listener
  }

  Napi::Promise::Deferred deferred_;
  BuildOptions options_;
  Napi::ThreadSafeFunction progress_;
  bool hasProgress_ = false;
  BuildReport report_;
};

std::string stringField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  auto out = Napi::Object::New(info.Env());
  out.Set("headers", compiledVersion());
  out.Set("library", runtimeVersion());
  return out;
}

Napi::Value QueryDevice(const Napi::CallbackInfo& info) {
  const int index = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  auto* worker = new DeviceWorker(info.Env(), index);
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

/// Options arrive already validated by src/engine/options.ts; only what would crash is checked here.
Napi::Value BuildEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return rejectWith(env, "buildEngine expects an options object");
  const auto o = info[0].As<Napi::Object>();
  BuildOptions options;
  options.onnxPath = stringField(o, "onnxPath");
  options.planPath = stringField(o, "planPath");
  options.fp16 = o.Get("fp16").ToBoolean();
  options.int8 = o.Get("int8").ToBoolean();
  options.calibrationFile = stringField(o, "calibrationFile");
  options.calibrationCache = stringField(o, "calibrationCache");
  const Napi::Value workspace = o.Get("workspaceBytes");
  if (workspace.IsNumber()) options.workspaceBytes = uint64_t(workspace.As<Napi::Number>().DoubleValue());
  const Napi::Value device = o.Get("device");
  if (device.IsNumber()) options.device = device.As<Napi::Number>().Int32Value();
  const Napi::Value maxBatch = o.Get("maxBatch");
  if (maxBatch.IsNumber()) options.maxBatch = maxBatch.As<Napi::Number>().Int32Value();
  if (options.onnxPath.empty() || options.planPath.empty()) return rejectWith(env, "buildEngine needs onnxPath and planPath");
  auto* worker = new BuildWorker(env, std::move(options), info.Length() > 1 ? info[1] : env.Undefined());
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

Napi::Object batchObject(Napi::Env env, const BatchRange& range) {
  auto out = Napi::Object::New(env);
  out.Set("min", range.min);
  out.Set("opt", range.opt);
  out.Set("max", range.max);
  return out;
}

void InitTensorRT(Napi::Env env, Napi::Object exports) {
  auto trt = Napi::Object::New(env);
  trt.Set("version", Napi::Function::New(env, Version, "version"));
  trt.Set("queryDevice", Napi::Function::New(env, QueryDevice, "queryDevice"));
  trt.Set("buildEngine", Napi::Function::New(env, BuildEngine, "buildEngine"));
  trt.Set("Engine", DefineEngineClass(env));
  exports.Set("tensorrt", trt);
}

}  // namespace mmaerec::trt::glue

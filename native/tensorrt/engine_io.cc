#include "engine_io.h"

#include <stdexcept>

#include "trt_common.h"

namespace mmaerec::trt {

namespace {

const TensorDesc* find(const std::vector<TensorDesc>& tensors, const char* name) {
  for (const auto& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string listNames(const std::vector<TensorDesc>& tensors) {
  std::string out;
  for (const auto& t : tensors) out += (out.empty() ? "" : ", ") + t.name + (t.isInput ? " (in)" : " (out)");
  return out;
}

}  // namespace

EngineShape validateIo(const std::vector<TensorDesc>& tensors, const std::string& what) {
  const std::string fix = ": export the bundle again with this SDK (inputs image [N,3,H,W], edge [N,1,H,W]; output recon)";
  const TensorDesc* image = find(tensors, kImageTensor);
  const TensorDesc* edge = find(tensors, kEdgeTensor);
  const TensorDesc* recon = find(tensors, kReconTensor);
  if (tensors.size() != 3 || !image || !edge || !recon || !image->isInput || !edge->isInput || recon->isInput) {
    throw std::runtime_error(what + " has I/O tensors [" + listNames(tensors) + "], not image, edge -> recon" + fix);
  }
  // The batch is fixed at 1 or dynamic (-1) on all three tensors alike; every other dimension is fixed.
  const bool dynamic = image->dims.nbDims == 4 && image->dims.d[0] == -1;
  for (const TensorDesc* t : {image, edge, recon}) {
    if (t->type != nvinfer1::DataType::kFLOAT) {
      throw std::runtime_error(what + ": tensor " + t->name + " is not float32" + fix);
    }
    if (t->dims.nbDims != 4) {
      throw std::runtime_error(what + ": tensor " + t->name + " has shape " + dimsString(t->dims) + ", not NCHW" + fix);
    }
    for (int32_t i = 1; i < 4; ++i) {
      if (t->dims.d[i] <= 0) {
        throw std::runtime_error(what + ": tensor " + t->name + " has a dynamic shape " + dimsString(t->dims) +
                                 fix + " with a fixed input size");
      }
    }
  }
  const auto& d = image->dims.d;
  const int64_t h = d[2], w = d[3];
  const int64_t n = dynamic ? -1 : 1;
  auto expect = [&](const TensorDesc* t, int64_t channels) {
    if (t->dims.d[0] != n || t->dims.d[1] != channels || t->dims.d[2] != h || t->dims.d[3] != w) {
      throw std::runtime_error(what + ": tensor " + t->name + " has shape " + dimsString(t->dims) + ", expected " +
                               std::to_string(n) + "x" + std::to_string(channels) + "x" + std::to_string(h) + "x" +
                               std::to_string(w) + fix);
    }
  };
  expect(image, 3);
  expect(edge, 1);
  expect(recon, 3);
  return EngineShape{static_cast<int32_t>(w), static_cast<int32_t>(h), dynamic};
}

}  // namespace mmaerec::trt

# The native addon: a Node-free C++ core (native/core), its N-API glue (native/glue) and, when the build
# script found nvcc, the CUDA scoring kernels (native/cuda). Each optional part is one block under
# 'conditions', switched by a variable that scripts/build-native.mjs sets through the environment, so a
# plain `node-gyp rebuild` builds the CPU-only addon.
{
  'variables': {
    'with_cuda%': '<!(node -p "process.env.MMAEREC_WITH_CUDA === \'true\' ? \'true\' : \'false\'")',
    'cuda_home%': '<!(node -p "process.env.MMAEREC_CUDA_HOME || \'/usr/local/cuda\'")',
    # TensorRT back end: set by scripts/build-native.mjs (configureTensorRT) from scripts/find-tensorrt.mjs.
    'with_tensorrt%': '<!(node -p "process.env.MMAEREC_WITH_TENSORRT === \'true\' ? \'true\' : \'false\'")',
  },
  'targets': [
    {
      'target_name': 'mmaerec_native',
      'sources': [
        'native/core/parallel.cc',
        'native/core/edge_map.cc',
        'native/core/lab.cc',
        'native/core/box_filter.cc',
        'native/core/msgms.cc',
        'native/core/fused.cc',
        'native/core/shading.cc',
        'native/core/regions.cc',
        'native/core/score_device.cc',
        'native/glue/addon.cc',
        'native/glue/common.cc',
        'native/glue/edge_map_worker.cc',
        'native/glue/fused_worker.cc',
        'native/glue/kernels_worker.cc',
        'native/glue/regions_worker.cc',
        'native/glue/settings.cc',
      ],
      'include_dirs': ['<!(node -p "require(\'node-addon-api\').include_dir")'],
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20'],
      'cflags': ['-O3', '-fno-math-errno', '-fno-trapping-math', '-fvisibility=hidden'],
      # -fno-math-errno lets sqrt vectorise, -fno-trapping-math lets the branch-free selects vectorise without
      # AVX-512 masks (AVX2, NEON); nothing here reads errno or FP exception flags. Hot loops also get AVX2/AVX-512
      # clones (native/core/simd.h).
      # -Werror=undef: `#if MMAEREC_WITH_TENSORRT` with a misspelt name fails instead of compiling a part out.
      'cflags_cc': ['-std=c++17', '-O3', '-fno-math-errno', '-fno-trapping-math', '-fexceptions', '-fvisibility=hidden', '-Werror=undef'],
      'ldflags': ['-pthread'],
      'conditions': [
        # --- CUDA: scoring kernels, static CUDA runtime (loads without a driver; falls back to CPU) ---
        ['with_cuda=="true"', {
          'sources': ['native/cuda/scoring.cu', 'native/cuda/device.cu'],
          'defines': ['MMAEREC_WITH_CUDA=1'],
          'include_dirs': ['<(cuda_home)/include'],
          'libraries': ['-L<(cuda_home)/lib64', '-L<(cuda_home)/lib', '-lcudart_static', '-ldl', '-lpthread', '-lrt'],
          'rules': [{
            'rule_name': 'nvcc',
            'extension': 'cu',
            'inputs': ['<(RULE_INPUT_PATH)', 'native/cuda/scoring.h'],
            'outputs': ['<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).cu.o'],
            'action': [
              '<!(node -p "process.env.MMAEREC_NVCC || \'nvcc\'")', '-c', '<(RULE_INPUT_PATH)', '-o', '<@(_outputs)',
              '-std=c++17', '-O3', '-Xcompiler', '-fPIC,-fvisibility=hidden',
              '<!@(node -p "process.env.MMAEREC_CUDA_GENCODE || \'-gencode=arch=compute_87,code=sm_87 -gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_75,code=compute_75\'")',
            ],
            'message': 'nvcc <(RULE_INPUT_PATH)',
            'process_outputs_as_sources': 1,
          }],
        }, {
          'defines': ['MMAEREC_WITH_CUDA=0'],
        }],
        # --- TensorRT: engine builder/runner + their glue; defines MMAEREC_WITH_TENSORRT=1 (addon.cc then adds
        #     exports.tensorrt; =0 otherwise, see native/core/build_switches.h). Paths come from the environment that
        #     scripts/build-native.mjs prepared. ---
        ['with_tensorrt=="true"', {
          'sources': [
            'native/tensorrt/batch_range.cc',
            'native/tensorrt/calibration_batches.cc',
            'native/tensorrt/device_info.cc',
            'native/tensorrt/engine_io.cc',
            'native/tensorrt/engine_builder.cc',
            'native/tensorrt/engine_runner.cc',
            'native/tensorrt/int8_calibrator.cc',
            'native/glue/tensorrt.cc',
            'native/glue/tensorrt_engine.cc',
          ],
          'defines': ['MMAEREC_WITH_TENSORRT=1'],
          # -isystem: TensorRT's headers use their own deprecated APIs, which would bury our warnings.
          'cflags_cc': [
            '-isystem', '<!(node -p "process.env.MMAEREC_TENSORRT_INCLUDE")',
            '-isystem', '<!(node -p "process.env.MMAEREC_TENSORRT_CUDA_INCLUDE")',
          ],
          'libraries': [
            '-L<!(node -p "process.env.MMAEREC_TENSORRT_LIB")',
            '-Wl,-rpath,<!(node -p "process.env.MMAEREC_TENSORRT_LIB")',
            '-lnvinfer', '-lnvonnxparser',
            '-L<!(node -p "process.env.MMAEREC_TENSORRT_CUDA_LIB")',
            '-lcudart_static', '-ldl', '-lpthread', '-lrt',
          ],
        }, {
          'defines': ['MMAEREC_WITH_TENSORRT=0'],
        }],
      ],
    },
  ],
}

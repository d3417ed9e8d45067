// Which optional parts this build has. binding.gyp and the test scripts define both macros as 0 or 1 in every
// build, and the code tests them with `#if` (compiled with -Werror=undef): a misspelt name is then a compile error
// instead of a part silently compiled out (an earlier misspelt TensorRT switch did exactly that).
// scripts/test-native.sh also fails on any other *_WITH_* spelling in native/, binding.gyp and scripts/.
// (Not named features.h: that would shadow glibc's <features.h> in any build with -Inative/core.)
#pragma once

#if !defined(MMAEREC_WITH_CUDA) || !defined(MMAEREC_WITH_TENSORRT)
#error "define MMAEREC_WITH_CUDA and MMAEREC_WITH_TENSORRT as 0 or 1 (binding.gyp and scripts/test-native.sh do)"
#endif

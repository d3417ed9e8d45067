// An LD_PRELOAD library for the emulated (aarch64) Node that makes /proc/cpuinfo read as the file named by
// MMAEREC_ARM_CPUINFO. onnxruntime-node's arm64 library reads /proc/cpuinfo at load to choose its kernels and
// crashes on the x86 host's file under qemu-user. run-emulated.sh prefers bind-mounting the file over
// /proc/cpuinfo in a private mount namespace; this is its fallback where namespaces are not allowed
// (unprivileged containers), since it needs no privilege. It catches the libc entry points only — enough
// for onnxruntime, which opens the file through libc.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* redirect(const char* path) {
  if (path != NULL && strcmp(path, "/proc/cpuinfo") == 0) {
    const char* replacement = getenv("MMAEREC_ARM_CPUINFO");
    if (replacement != NULL) return replacement;
  }
  return path;
}

#define OPEN_LIKE(name)                                              \
  int name(const char* path, int flags, ...) {                       \
    static int (*real)(const char*, int, ...);                       \
    if (!real) real = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, #name); \
    va_list ap;                                                      \
    va_start(ap, flags);                                             \
    int mode = va_arg(ap, int);                                      \
    va_end(ap);                                                      \
    return real(redirect(path), flags, mode);                        \
  }

#define OPENAT_LIKE(name)                                            \
  int name(int dir, const char* path, int flags, ...) {              \
    static int (*real)(int, const char*, int, ...);                  \
    if (!real) real = (int (*)(int, const char*, int, ...))dlsym(RTLD_NEXT, #name); \
    va_list ap;                                                      \
    va_start(ap, flags);                                             \
    int mode = va_arg(ap, int);                                      \
    va_end(ap);                                                      \
    return real(dir, redirect(path), flags, mode);                   \
  }

#define FOPEN_LIKE(name)                                             \
  FILE* name(const char* path, const char* mode) {                   \
    static FILE* (*real)(const char*, const char*);                  \
    if (!real) real = (FILE * (*)(const char*, const char*)) dlsym(RTLD_NEXT, #name); \
    return real(redirect(path), mode);                               \
  }

OPEN_LIKE(open)
OPEN_LIKE(open64)
OPENAT_LIKE(openat)
OPENAT_LIKE(openat64)
FOPEN_LIKE(fopen)
FOPEN_LIKE(fopen64)

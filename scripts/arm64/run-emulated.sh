#!/usr/bin/env bash
# Runs the arm64 Node under qemu-user: run-emulated.sh [--ort] <node args...>
#   ARM64_NODE must name the arm64 node binary.
#   --ort   make /proc/cpuinfo read as an ARM one: onnxruntime-node's arm64 library reads it at load to pick
#           its kernels and segfaults on the x86 host's file. Two ways, tried in this order:
#             namespace  a private mount namespace with an ARM cpuinfo bind-mounted over /proc/cpuinfo
#                        (unshare -m as root, else unshare -Urm: needs unprivileged user namespaces);
#             preload    an aarch64 LD_PRELOAD library (cpuinfo-shim.c) that redirects libc's opens of
#                        /proc/cpuinfo; needs no privilege.
#           ARM64_CPUINFO_FIX=namespace|preload forces one (default: auto). The one used is exported to the
#           script as MMAEREC_ARM64_CPUINFO_FIX.
# Exit status: the script's, or 77 when --ort finds no way; the reason goes to stderr and, when
# ARM64_SKIP_FILE names a file, into it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ -n "${ARM64_NODE:-}" ] && [ -x "$ARM64_NODE" ] || die "ARM64_NODE is not set to the arm64 node binary (scripts/arm64/fetch-node.sh prints its directory)"

ort=0
if [ "${1:-}" = "--ort" ]; then ort=1; shift; fi
qemu=(qemu-aarch64-static -L "$SYSROOT")
if [ $ort -eq 0 ]; then exec "${qemu[@]}" "$ARM64_NODE" "$@"; fi

# A Cortex-A78AE (Jetson Orin's core) per host CPU, in the format the arm64 kernel writes.
mkdir -p "$ARM64_CACHE"
cpuinfo="$ARM64_CACHE/arm_cpuinfo"
{
  for ((i = 0; i < $(nproc); i++)); do
    printf 'processor\t: %d\nBogoMIPS\t: 62.50\n' "$i"
    printf 'Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp uscat ilrcpc flagm\n'
    printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: 0xd42\nCPU revision\t: 1\n\n'
  done
} >"$cpuinfo"

mode="${ARM64_CPUINFO_FIX:-auto}"
case "$mode" in auto|namespace|preload) ;; *) die "ARM64_CPUINFO_FIX=$mode: use auto, namespace or preload" ;; esac
reasons=()

if [ "$mode" != preload ]; then
  if ! command -v unshare >/dev/null; then
    reasons+=("namespace: unshare (util-linux) is not installed")
  else
    if [ "$(id -u)" -eq 0 ]; then ns=(unshare -m); else ns=(unshare -Urm); fi
    if err="$("${ns[@]}" sh -c "mount --bind '$cpuinfo' /proc/cpuinfo" 2>&1)"; then
      # The arguments travel as positional parameters, so the node arguments need no quoting.
      exec "${ns[@]}" env MMAEREC_ARM64_CPUINFO_FIX=namespace sh -c 'cpuinfo="$1"; shift; mount --bind "$cpuinfo" /proc/cpuinfo && exec "$@"' \
        sh "$cpuinfo" "${qemu[@]}" "$ARM64_NODE" "$@"
    fi
    reasons+=("namespace: '${ns[*]}' + mount --bind failed (${err//$'\n'/ }): needs root with CAP_SYS_ADMIN or unprivileged user namespaces")
  fi
fi

if [ "$mode" != namespace ]; then
  shim="$ARM64_CACHE/cpuinfo-shim.so"
  src="$(dirname "$0")/cpuinfo-shim.c"
  if [ ! -f "$shim" ] || [ "$src" -nt "$shim" ]; then
    aarch64-linux-gnu-gcc -O2 -Wall -shared -fPIC -o "$shim" "$src" -ldl || reasons+=("preload: the shim did not compile")
  fi
  if [ -f "$shim" ] && [ ! "$src" -nt "$shim" ]; then
    # -E sets the variables for the emulated process only (qemu itself is static and ignores LD_PRELOAD).
    exec "${qemu[@]}" -E "LD_PRELOAD=$shim" -E "MMAEREC_ARM_CPUINFO=$cpuinfo" -E MMAEREC_ARM64_CPUINFO_FIX=preload \
      "$ARM64_NODE" "$@"
  fi
fi

reason="no way to give onnxruntime an ARM /proc/cpuinfo: ${reasons[*]}"
echo "$reason" >&2
[ -z "${ARM64_SKIP_FILE:-}" ] || printf '%s\n' "$reason" >"$ARM64_SKIP_FILE"
exit 77

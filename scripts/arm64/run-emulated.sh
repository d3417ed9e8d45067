#!/usr/bin/env bash
# Runs the arm64 Node under qemu-user: run-emulated.sh [--ort] <node args...>
#   ARM64_NODE must name the arm64 node binary.
#   --ort   run inside a private mount namespace with an ARM-style /proc/cpuinfo bind-mounted over the host's:
#           onnxruntime-node's arm64 binary reads /proc/cpuinfo at load to pick kernels and segfaults on the
#           x86 one. Needs root (unshare -m) or unprivileged user namespaces (unshare -Urm).
# Exit status: the script's, or 77 when --ort cannot set up the namespace; the reason goes to stderr and, when
# ARM64_SKIP_FILE names a file, into it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ -n "${ARM64_NODE:-}" ] && [ -x "$ARM64_NODE" ] || die "ARM64_NODE is not set to the arm64 node binary (scripts/arm64/fetch-node.sh prints its directory)"

ort=0
if [ "${1:-}" = "--ort" ]; then ort=1; shift; fi
qemu=(qemu-aarch64-static -L "$SYSROOT" "$ARM64_NODE")
if [ $ort -eq 0 ]; then exec "${qemu[@]}" "$@"; fi

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

if [ "$(id -u)" -eq 0 ]; then ns=(unshare -m); why_hint="unshare -m failed although running as root (a container without CAP_SYS_ADMIN?)"
else ns=(unshare -Urm); why_hint="not root and unprivileged user namespaces are unavailable (kernel.unprivileged_userns_clone=0 or a seccomp policy)"; fi
cannot() {
  echo "$1" >&2
  [ -z "${ARM64_SKIP_FILE:-}" ] || printf '%s\n' "$1" >"$ARM64_SKIP_FILE"
  exit 77
}
command -v unshare >/dev/null || cannot "unshare (util-linux) is not installed"
if ! err="$("${ns[@]}" sh -c "mount --bind '$cpuinfo' /proc/cpuinfo" 2>&1)"; then
  cannot "cannot bind-mount an ARM /proc/cpuinfo: $why_hint: ${err//$'\n'/ }"
fi
# The arguments travel as positional parameters, so no quoting of the node arguments is needed.
exec "${ns[@]}" sh -c 'cpuinfo="$1"; shift; mount --bind "$cpuinfo" /proc/cpuinfo && exec "$@"' sh "$cpuinfo" "${qemu[@]}" "$@"

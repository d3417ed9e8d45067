#!/usr/bin/env bash
# Makes sure the aarch64 cross compiler and qemu-user are present; installs them from Debian if missing
# (needs root or passwordless sudo; otherwise says what to install and fails).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  log "installing ${need[*]} from Debian"
  if ! $SUDO apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; then
    die "could not install ${need[*]}: run 'apt-get install ${need[*]}' as root (or bash scripts/ci-system-deps.sh)"
  fi
fi
[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || die "no aarch64 glibc under $SYSROOT: install libc6-arm64-cross (comes with g++-aarch64-linux-gnu) or set ARM64_SYSROOT"
log "toolchain: $(aarch64-linux-gnu-g++ --version | head -1); $(qemu-aarch64-static --version | head -1)"

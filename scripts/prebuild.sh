#!/usr/bin/env bash
# Builds the CPU prebuilts the package ships (scripts/install-native.mjs and src/native.ts load them when there is
# no local build): prebuilds/linux-x64 and prebuilds/linux-arm64, named in prebuildify's convention so that
# node-gyp-build matches them (platform, arch, N-API, glibc).
#
#   bash scripts/prebuild.sh [x64] [arm64]      (npm run build:prebuilds; default: both)
#   bash scripts/prebuild.sh --check            (prepublishOnly: fail unless both are there)
#
# Both come from scripts/arm64/build-addon.sh, the build the emulation suite (npm run test:arm64) tests: the same
# sources and flags, no CUDA, no TensorRT (those stay a source build on the target). The arm64 one is
# cross-compiled (g++-aarch64-linux-gnu) against the official arm64 Node's headers. Built on Debian 12, they need
# glibc ≥ 2.34 and libstdc++ ≥ GLIBCXX_3.4.30 (Ubuntu 22.04, JetPack 6); this script checks that.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/arm64/lib.sh"
out="$ROOT/prebuilds"
file_of() { case "$1" in x64) echo "$out/linux-x64/node.napi.glibc.node" ;; arm64) echo "$out/linux-arm64/node.napi.armv8.glibc.node" ;; esac; }

if [ "${1:-}" = --check ]; then
  for arch in x64 arm64; do
    [ -f "$(file_of $arch)" ] || die "$(file_of $arch) is missing: run npm run build:prebuilds before publishing"
  done
  log "prebuilds present: $(cd "$ROOT" && ls prebuilds/*/*.node | tr '\n' ' ')"
  exit 0
fi
archs=("$@"); [ ${#archs[@]} -gt 0 ] || archs=(x64 arm64)

# The newest glibc / libstdc++ symbol versions a .node needs must stay within what JetPack 6 / Ubuntu 22.04 ship.
check_symbols() {
  local f="$1" objdump="$2" newest
  newest="$("$objdump" -T "$f" | grep -o 'GLIBC_[0-9.]*\|GLIBCXX_[0-9.]*' | sort -Vu | awk -F_ '{ last[$1] = $2 } END { print last["GLIBC"], last["GLIBCXX"] }')"
  read -r glibc glibcxx <<<"$newest"
  [ "$(printf '%s\n2.35\n' "$glibc" | sort -V | tail -1)" = 2.35 ] || die "$f needs GLIBC_$glibc, newer than Ubuntu 22.04 / JetPack 6 (2.35)"
  [ "$(printf '%s\n3.4.30\n' "$glibcxx" | sort -V | tail -1)" = 3.4.30 ] || die "$f needs GLIBCXX_$glibcxx, newer than Ubuntu 22.04 / JetPack 6 (3.4.30)"
  log "$(basename "$(dirname "$f")"): needs GLIBC_$glibc GLIBCXX_$glibcxx"
}

for arch in "${archs[@]}"; do
  stage="$ARM64_CACHE/prebuild-$arch"
  rm -rf "$stage"
  case "$arch" in
    x64) bash "$ROOT/scripts/arm64/build-addon.sh" x64 "$stage"; objdump=objdump ;;
    arm64)
      bash "$ROOT/scripts/arm64/toolchain.sh"
      ARM64_NODE_DIR="$(bash "$ROOT/scripts/arm64/fetch-node.sh")" bash "$ROOT/scripts/arm64/build-addon.sh" arm64 "$stage"
      objdump=aarch64-linux-gnu-objdump ;;
    *) die "unknown architecture '$arch': use x64 or arm64" ;;
  esac
  target="$(file_of "$arch")"
  mkdir -p "$(dirname "$target")"
  cp "$stage/build/Release/mmaerec_native.node" "$target"
  check_symbols "$target" "$objdump"
  log "wrote ${target#"$ROOT/"} ($(du -k "$target" | cut -f1) KiB)"
done

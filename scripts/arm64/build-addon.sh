#!/usr/bin/env bash
# Builds the native addon for one architecture into <out>/build/Release: build-addon.sh <arm64|x64> <out>
#   arm64: cross-compiled with aarch64-linux-gnu-g++ against the arm64 Node's headers (ARM64_NODE_DIR).
#   x64:   the host build, made the same way (same sources, same flags) so the two results are comparable.
# Both without CUDA: emulation has no GPU and the CPU kernels are what the comparison checks.
# Works on a copy of binding.gyp + native/, so the repository's own build/ is left alone. Cached by the
# sources' hash, the compiler and the Node version.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

arch="${1:?usage: build-addon.sh <arm64|x64> <out dir>}"
out="${2:?usage: build-addon.sh <arm64|x64> <out dir>}"
[ -f "$ROOT/binding.gyp" ] || die "no binding.gyp in $ROOT: the native addon is not there to build"

case "$arch" in
  arm64)
    nodedir="${ARM64_NODE_DIR:?ARM64_NODE_DIR must name the arm64 Node directory (has include/node)}"
    toolchain=(CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar)
    compiler="$(aarch64-linux-gnu-g++ --version | head -1)" ;;
  x64)
    nodedir="$(node -p 'require("path").resolve(process.execPath, "../..")')"
    toolchain=()
    compiler="$(${CXX:-g++} --version | head -1)" ;;
  *) die "unknown architecture '$arch': use arm64 or x64" ;;
esac
[ -f "$nodedir/include/node/node_api.h" ] || die "$nodedir has no include/node/node_api.h: node-gyp needs the Node headers of the target"

work="$ARM64_CACHE/addon-$arch"
key="$(hash_paths "$ROOT/binding.gyp" "$ROOT/native" | sha256sum | cut -c1-8)-$(printf '%s|%s' "$compiler" "$nodedir" | sha256sum | cut -c1-8)"
if stamp_ok "$work" "$key" 2>/dev/null && ls "$work"/build/Release/*.node >/dev/null 2>&1; then
  log "$arch addon up to date ($key)"
else
  log "building the $arch addon (no CUDA) in $work"
  rm -rf "$work" && mkdir -p "$work"
  cp -r "$ROOT/binding.gyp" "$ROOT/native" "$work/"
  # binding.gyp finds node-addon-api's headers by require(); those are architecture-independent.
  ln -s "$ROOT/node_modules" "$work/node_modules"
  # binding.gyp builds the CUDA kernels only with MMAEREC_WITH_CUDA=true (scripts/build-native.mjs sets it).
  (cd "$work" && env "${toolchain[@]}" MMAEREC_WITH_CUDA=false \
    node "$ROOT/node_modules/node-gyp/bin/node-gyp.js" rebuild --arch="$arch" --nodedir="$nodedir" -j 2 >"$work/build.log" 2>&1) \
    || { tail -40 "$work/build.log" >&2; die "the $arch addon did not build (log: $work/build.log)"; }
  stamp_set "$work" "$key"
fi
if [ "$arch" = arm64 ]; then
  for f in "$work"/build/Release/*.node; do
    is_aarch64_elf "$f" || die "$f is not an aarch64 object: the cross compiler was not used"
    # For the record (docs/jetson.md): the newest glibc / libstdc++ symbol versions this cross build needs.
    # On a Jetson the addon is compiled on the device, against its own libraries.
    needs="$(aarch64-linux-gnu-objdump -T "$f" | grep -o 'GLIBC_[0-9.]*\|GLIBCXX_[0-9.]*' | sort -Vu | awk -F_ '{ last[$1] = $0 } END { print last["GLIBC"], last["GLIBCXX"] }')"
    log "$(basename "$f") (aarch64) needs $needs; JetPack 6 has GLIBC_2.35 GLIBCXX_3.4.30, JetPack 5 GLIBC_2.31 GLIBCXX_3.4.28"
  done
fi
mkdir -p "$out/build/Release"
cp "$work"/build/Release/*.node "$out/build/Release/"

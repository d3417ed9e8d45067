#!/usr/bin/env bash
# Compiles src/ (tsconfig.build.json) into <out> without touching the repository's dist/. JavaScript is the
# same on every architecture, so the x86 and the arm64 runs share it. Cached by the sources' hash.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out="${1:?usage: build-dist.sh <out dir>}"
key="$(hash_paths "$ROOT/src" "$ROOT/tsconfig.json" "$ROOT/tsconfig.build.json" "$ROOT/package-lock.json")"
if [ -d "$out" ] && stamp_ok "$out" "$key"; then log "dist up to date ($key)"; exit 0; fi
rm -rf "$out"
# Type errors are npm run typecheck's business (CI runs it too); tsc still emits, and what matters here is
# whether the emitted JavaScript runs as aarch64. A module that is missing altogether fails at run time.
if ! (cd "$ROOT" && node node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir "$out" --sourceMap false --declaration false >"$ARM64_CACHE/tsc.log" 2>&1); then
  log "WARNING: tsc reported type errors (first lines below; npm run typecheck fails on them); testing the emitted JavaScript"
  head -5 "$ARM64_CACHE/tsc.log" >&2
fi
[ -f "$out/index.js" ] || die "tsc emitted no $out/index.js (log: $ARM64_CACHE/tsc.log)"
stamp_set "$out" "$key"

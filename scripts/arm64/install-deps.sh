#!/usr/bin/env bash
# Installs the project's production dependencies as linux/arm64 builds into $ARM64_CACHE/app/node_modules
# (sharp → @img/sharp-linux-arm64 + libvips; onnxruntime-node ships its linux/arm64 binary in the package).
# Scripts are not run: nothing here may download or compile for the host. Cached by package.json + lock.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

app="$ARM64_CACHE/app"
# Keyed by what decides the installed tree (the dependency fields, the lock, .npmrc), not by scripts etc.
deps_json="$(node -p 'const p = require(process.argv[1]); JSON.stringify([p.dependencies, p.optionalDependencies, p.overrides])' "$ROOT/package.json")"
key="$( (printf '%s' "$deps_json"; hash_paths "$ROOT/package-lock.json" "$ROOT/.npmrc") | sha256sum | cut -c1-16)"
mkdir -p "$app"
if [ -d "$app/node_modules" ] && stamp_ok "$app/node_modules" "$key"; then
  log "arm64 node_modules up to date ($key)"
  exit 0
fi
log "installing production dependencies for linux/arm64 into $app/node_modules"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$app/"
[ -f "$ROOT/.npmrc" ] && cp "$ROOT/.npmrc" "$app/"
rm -rf "$app/node_modules"
(cd "$app" && npm install --cpu=arm64 --os=linux --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2) \
  || die "npm install --cpu=arm64 failed (see above): check registry access; a dependency without a linux/arm64 build fails here"
# The platform packages Jetson needs must be there, not just their JS wrappers.
[ -d "$app/node_modules/@img/sharp-linux-arm64" ] || die "sharp's linux/arm64 binary (@img/sharp-linux-arm64) was not installed"
ls "$app"/node_modules/onnxruntime-node/bin/napi-v*/linux/arm64/onnxruntime_binding.node >/dev/null 2>&1 \
  || die "onnxruntime-node has no linux/arm64 binding in this version"
stamp_set "$app/node_modules" "$key"

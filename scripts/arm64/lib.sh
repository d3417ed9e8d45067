# Shared helpers for scripts/test-arm64.sh and scripts/arm64/*.sh (sourced, not run).
# Everything the arm64 run builds or downloads lives under $ARM64_CACHE (default .cache/arm64, gitignored),
# keyed by content hashes so that a second run only redoes what changed.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
ARM64_CACHE="${ARM64_CACHE:-$ROOT/.cache/arm64}"
SYSROOT="${ARM64_SYSROOT:-/usr/aarch64-linux-gnu}"

log() { printf '[arm64] %s\n' "$*" >&2; }
die() { printf '[arm64] FAIL: %s\n' "$*" >&2; exit 1; }

# A loud, greppable line for each part that could not run here; the caller decides the exit status.
skip_line() {
  printf '\n[arm64] ========================================================================\n' >&2
  printf '[arm64] SKIP: %s\n' "$*" >&2
  printf '[arm64] ========================================================================\n\n' >&2
}

# sha256 over the contents (and names) of the given files/directories, for cache stamps.
hash_paths() {
  local p
  for p in "$@"; do
    if [ -d "$p" ]; then
      (cd "$p" && find . -type f -not -path '*/build/*' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    elif [ -f "$p" ]; then
      printf '%s ' "$(basename "$p")"; sha256sum <"$p"
    else
      printf 'missing %s\n' "$p"
    fi
  done | sha256sum | cut -c1-16
}

# stamp_ok DIR KEY: true when DIR was last completed with KEY. stamp_set DIR KEY records it.
stamp_ok() { [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$2" ]; }
stamp_set() { printf '%s' "$2" >"$1/.stamp"; }

# Runs the arm64 Node (path in $ARM64_NODE) under qemu-user with the aarch64 glibc of the cross toolchain.
arm64_node() { qemu-aarch64-static -L "$SYSROOT" "$ARM64_NODE" "$@"; }

# True when the file is an aarch64 ELF object (e_machine, 2 bytes at offset 18, is 183).
is_aarch64_elf() { [ "$(od -An -tu2 -j18 -N2 "$1" 2>/dev/null | tr -d ' ')" = 183 ]; }

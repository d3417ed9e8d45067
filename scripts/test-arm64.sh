#!/usr/bin/env bash
# The Jetson CPU path under emulation (docs/jetson.md): on an x86_64 machine, runs mmaerec-edge as aarch64 —
# the official arm64 Node under qemu-user, the addon cross-built for aarch64, the linux/arm64 builds of
# sharp and onnxruntime-node — and checks that its results equal the x86 ones within stated tolerances.
#
#   bash scripts/test-arm64.sh [--strict]        (npm run test:arm64 -- --strict)
#
# Steps (each cached under .cache/arm64 by content hash; a clean checkout does them once):
#   toolchain (Debian) → arm64 Node (npm registry) → arm64 production deps → tsc → addon for arm64 and x64 →
#   fixtures + lite bundle (x86) → scenario on x86 → scenario on arm64 (qemu) → compare (node:test).
# A part that cannot run here (no way to give onnxruntime an ARM /proc/cpuinfo: see scripts/arm64/run-emulated.sh)
# prints a loud SKIP line; the exit status is then 0, or 1 with --strict (CI, where nothing may be skipped).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/arm64/lib.sh"

strict=0
for arg in "$@"; do
  case "$arg" in
    --strict) strict=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg': use --strict or --help" ;;
  esac
done
skipped=()
started=$SECONDS
step() { log "[$((SECONDS - started))s] $*"; }

if [ "$(uname -m)" != x86_64 ]; then
  skip_line "this host is $(uname -m), not x86_64: the script emulates aarch64 on x86_64; on an arm64 host run npm test natively"
  exit $strict
fi
DATASET="${MMAEREC_DATASET:-$ROOT/../shared/datasets/magnetic_tile}"
[ -d "$DATASET/test" ] || die "no data set at $DATASET: check out ../shared beside the repository or set MMAEREC_DATASET to the magnetic_tile folder"
[ -d "$ROOT/node_modules/typescript" ] || die "the host's node_modules is missing: run npm ci first"
mkdir -p "$ARM64_CACHE"
# One run at a time per cache: a second one (another terminal, another helper) waits instead of clobbering.
if command -v flock >/dev/null; then
  exec 9>"$ARM64_CACHE/.lock"
  flock -n 9 || { log "another test:arm64 run holds $ARM64_CACHE/.lock; waiting for it"; flock 9; }
fi

step "toolchain"
bash "$ROOT/scripts/arm64/toolchain.sh"
step "arm64 Node"
ARM64_NODE_DIR="$(bash "$ROOT/scripts/arm64/fetch-node.sh")"
export ARM64_NODE_DIR ARM64_NODE="$ARM64_NODE_DIR/bin/node"
step "arm64 dependencies"
bash "$ROOT/scripts/arm64/install-deps.sh"

APP="$ARM64_CACHE/app"      # the arm64 application: package.json, dist/, build/Release, node_modules (arm64)
X64="$ARM64_CACHE/x64"      # the same for the x86 reference, with the host's node_modules
RUN="$ARM64_CACHE/run"      # fixtures, bundle and both runs' outputs (rewritten every run)

step "TypeScript → dist"
bash "$ROOT/scripts/arm64/build-dist.sh" "$ARM64_CACHE/dist"
mkdir -p "$X64"
cp "$ROOT/package.json" "$X64/"
ln -sfn "$ROOT/node_modules" "$X64/node_modules"
for dir in "$APP" "$X64"; do
  rm -rf "$dir/dist" "$dir/test" "$dir/build"
  cp -r "$ARM64_CACHE/dist" "$dir/dist"
  mkdir -p "$dir/test" && cp -r "$ROOT/test/arm64" "$dir/test/arm64"
done

step "native addon (arm64 cross build, x64 host build)"
bash "$ROOT/scripts/arm64/build-addon.sh" arm64 "$APP"
bash "$ROOT/scripts/arm64/build-addon.sh" x64 "$X64"

step "fixtures and lite bundle (x86)"
rm -rf "$RUN" && mkdir -p "$RUN"
node "$X64/test/arm64/prepare.mjs" --dataset "$DATASET" --out "$RUN"

step "scenario on x86 (reference)"
node "$X64/test/arm64/scenario.mjs" --run "$RUN" --out "$RUN/x64" --parts kernels,inspect

step "scenario on arm64 under qemu (with an ARM /proc/cpuinfo for onnxruntime)"
set +e
ARM64_SKIP_FILE="$RUN/ort-skip-reason" bash "$ROOT/scripts/arm64/run-emulated.sh" --ort \
  "$APP/test/arm64/scenario.mjs" --run "$RUN" --out "$RUN/arm64" --parts kernels,inspect
status=$?
set -e
if [ $status -eq 77 ]; then
  skip_line "end-to-end inspection through onnxruntime-node as aarch64 did not run: $(cat "$RUN/ort-skip-reason")"
  skipped+=("inspect")
  bash "$ROOT/scripts/arm64/run-emulated.sh" "$APP/test/arm64/scenario.mjs" --run "$RUN" --out "$RUN/arm64" --parts kernels \
    || die "the arm64 kernel scenario failed (see above)"
elif [ $status -ne 0 ]; then
  die "the arm64 scenario failed with status $status (see above)"
fi

step "compare arm64 with x86"
node "$X64/test/arm64/compare.smoke.mjs" --x64 "$RUN/x64" --arm64 "$RUN/arm64"

step "done in $((SECONDS - started)) s"
if [ ${#skipped[@]} -gt 0 ]; then
  skip_line "parts not verified on this machine: ${skipped[*]}$([ $strict -eq 1 ] && echo ' (--strict: failing)')"
  exit $strict
fi
log "PASS: mmaerec-edge loads and computes as aarch64, results equal x86 within tolerance"

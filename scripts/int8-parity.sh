#!/usr/bin/env bash
# INT8 parity of a bundle on an MVTec-layout dataset, in one command:
#
#   scripts/int8-parity.sh <bundle> <dataset> [calibration folder, default <dataset>/train/good]
#
# Copies the bundle (the original is not touched), quantises the copy on the good training images
# (mmaerec-edge quantize), evaluates FP32 and INT8 on the test set with one inference thread each (nice'd:
# each eval is a full pass over the test images), and prints image / pixel AUROC of both and the
# differences. Exit status 0 when both differences are within 0.01, 1 when not, 2 on a usage or run error.
set -euo pipefail
if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: scripts/int8-parity.sh <bundle> <dataset> [calibration folder]" >&2
  exit 2
fi
bundle=$1
data=$2
calib=${3:-$data/train/good}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mmaerec-int8-parity-XXXXXX")
trap 'rm -rf "$work"' EXIT
cli() { nice -n 10 node --import tsx "$root/src/cli/main.ts" "$@"; }

cp -r "$bundle" "$work/bundle"
cli quantize --model "$work/bundle" --calib "$calib" || exit 2
for p in fp32 int8; do
  cli eval --model "$work/bundle" --data "$data" --threads 1 --precision "$p" --out "$work/eval-$p" --json >"$work/$p.json" || exit 2
done
node -e '
const [fp, q] = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")).overall);
let ok = true;
for (const k of ["imageAuroc", "pixelAuroc"]) {
  const d = q[k] - fp[k];
  ok &&= Math.abs(d) <= 0.01;
  console.log(`${k.padEnd(11)} fp32 ${fp[k].toFixed(4)}  int8 ${q[k].toFixed(4)}  diff ${d >= 0 ? "+" : ""}${d.toFixed(4)}`);
}
console.log(ok ? "PASS: INT8 within 0.01 of FP32" : "FAIL: INT8 differs from FP32 by more than 0.01");
process.exit(ok ? 0 : 1);
' "$work/fp32.json" "$work/int8.json"

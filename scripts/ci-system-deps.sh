#!/usr/bin/env bash
# Debian packages the test suite uses (under CI=true a test whose tool is missing fails, see
# test/helpers/require-tool.ts). Installs only what is missing (CI machines start bare; dev machines
# usually have them already). Needs root or passwordless sudo; without either, says what to install.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v chromium >/dev/null || need+=(chromium)
command -v mosquitto >/dev/null || need+=(mosquitto)
command -v openssl >/dev/null || need+=(openssl)
# PostgreSQL server binaries (initdb, postgres) for the plant consumer's test (test/helpers/postgres.ts).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
/usr/bin/python3 -c 'import onnx' 2>/dev/null  || need+=(python3-onnx)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
command -v g++ >/dev/null || need+=(g++ make)
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav)
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
if [ ${#need[@]} -eq 0 ]; then echo "ci-system-deps: all present"; exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
echo "ci-system-deps: installing ${need[*]}"
if ! $SUDO apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"; then
  echo "ci-system-deps: could not install ${need[*]}: run 'apt-get install ${need[*]}' as root" >&2
  exit 1
fi

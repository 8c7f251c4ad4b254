#!/usr/bin/env bash
# Installs the Debian 12 packages xehil builds and tests with. Idempotent and
# quick when everything is present; needs root (or sudo) the first time.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-rules-java
  g++ python3
  libabsl-dev libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libgtest-dev libgmock-dev libbenchmark-dev
  libdrm-dev pkg-config openssl
  libxml2-utils libxml2-dev binutils
  clang libclang-rt-14-dev
  # vxe: the test kernel (vxe/kernel/build-kernel.sh) and QEMU to boot it.
  linux-source-6.12 flex bison libelf-dev bc cpio qemu-system-x86
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  }
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null

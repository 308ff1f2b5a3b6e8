#!/bin/bash
# Installs the Debian 12 packages aecl builds, tests and runs with.
set -euo pipefail
pkgs=(build-essential cmake pkg-config ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
      libclblast-dev zlib1g-dev libpng-dev libcjson-dev libxxhash-dev libzstd-dev libcairo2-dev fonts-dejavu-core libopenblas-dev dataset-fashion-mnist oclgrind
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev python3-onnx clang libclang-rt-14-dev
      libopenmpi-dev openmpi-bin python3-pytest python3-matplotlib python3-numpy python3-pip python3-setuptools)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"

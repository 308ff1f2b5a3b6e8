#!/bin/bash
# The main job: installs dependencies, builds, trains the MLP autoencoder of
# models/mlp.model on Fashion-MNIST on PoCL's CPU device, and shows the result
# (test MSE and PSNR, and a PNG grid of test images above their reconstructions).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
export POCL_DEVICES="${POCL_DEVICES:-pthread}"
out=build/main-job
mkdir -p "$out"
./build/aecl devices
./build/aecl train models/mlp.model --epochs "${EPOCHS:-3}" --out "$out/mlp.safetensors"
./build/aecl reconstruct "$out/mlp.safetensors" --grid "$out/reconstruction.png"

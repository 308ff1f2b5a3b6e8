#!/bin/bash
# The main job: installs dependencies, builds, trains the MLP autoencoder of
# models/mlp.model on Fashion-MNIST on PoCL's CPU device, and shows the result
# (test MSE and PSNR, and a PNG grid of test images above their reconstructions).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
export POCL_DEVICES="${POCL_DEVICES:-pthread}"
# PoCL's CPU device by name, so a GPU or a simulator installed beside it does not
# take the job over; AECL_DEVICE set by the caller wins.
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
out=build/main-job
mkdir -p "$out"
./build/aecl devices
./build/aecl train models/mlp.model --epochs "${EPOCHS:-3}" --out "$out/mlp.safetensors"
./build/aecl reconstruct "$out/mlp.safetensors" --grid "$out/reconstruction.png"

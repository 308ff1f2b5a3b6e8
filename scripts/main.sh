#!/bin/bash
# The main job: installs dependencies, builds, and runs aecl on the embedded defaults
# (PoCL's CPU device).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
export POCL_DEVICES="${POCL_DEVICES:-pthread}"
./build/aecl devices
./build/aecl selftest

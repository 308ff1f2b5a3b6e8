#!/bin/bash
# A new user's first run and a second run: wall seconds of
#   aecl train MODEL --epochs 1 --limit 256 --val-split 0
# (data loading, kernel builds, two steps, writing the weights) with empty kernel
# caches (PoCL's POCL_CACHE_DIR and aecl's AECL_CACHE_DIR pointed at new empty
# folders each time: "cold") and with the caches the first run filled ("warm").
# Medians of RUNS (default 3) of each.
#   bash scripts/first_run.sh [AECL_BINARY] [MODEL] [RUNS]
set -euo pipefail
aecl=${1:-./build/aecl}
model=${2:-models/mlp.model}
runs=${3:-3}
tmp=$(mktemp -d /tmp/aecl-first-run-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
secs() { # wall seconds of one run with the given cache folder
  local t0 t1
  t0=$(date +%s.%N)
  POCL_CACHE_DIR="$1/pocl" AECL_CACHE_DIR="$1/aecl" "$aecl" train "$model" --epochs 1 --limit 256 --val-split 0 \
    --out "$tmp/w.safetensors" > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
cold=() warm=()
for i in $(seq "$runs"); do
  rm -rf "$tmp/c" && mkdir -p "$tmp/c/pocl" "$tmp/c/aecl"
  cold+=("$(secs "$tmp/c")")
done
for i in $(seq "$runs"); do warm+=("$(secs "$tmp/c")"); done
echo "$model: cold start $(printf '%s\n' "${cold[@]}" | median) s (runs: ${cold[*]}), warm start $(printf '%s\n' "${warm[@]}" | median) s (runs: ${warm[*]})"

#!/bin/bash
# A new user's first run and a second run: wall seconds of
#   aecl train MODEL --epochs 1 --limit 256 --val-split 0
# (data loading, kernel builds, two steps, writing the weights) with empty kernel
# caches (PoCL's POCL_CACHE_DIR and aecl's AECL_CACHE_DIR pointed at new empty
# folders each time: "cold") and with the caches the first run filled ("warm").
# Medians of RUNS (default 3) of each. On PoCL it also counts, in the cache
# of the last cold run, the programs PoCL built (program.bc files) and the
# kernels it compiled (a .so per kernel and work-group size): the cold start is
# nearly all of those two, and the counts do not depend on the machine's load.
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
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
cold=() warm=()
for i in $(seq "$runs"); do
  rm -rf "$tmp/c" && mkdir -p "$tmp/c/pocl" "$tmp/c/aecl"
  cold+=("$(secs "$tmp/c")")
done
builds=$(find "$tmp/c/pocl" -name program.bc | wc -l) compiles=$(find "$tmp/c/pocl" -name '*.so' | wc -l)
for i in $(seq "$runs"); do warm+=("$(secs "$tmp/c")"); done
echo "$model: cold start $(printf '%s\n' "${cold[@]}" | median) s (runs: ${cold[*]}), warm start $(printf '%s\n' "${warm[@]}" | median) s (runs: ${warm[*]})"
[ "$builds" -gt 0 ] && echo "  (PoCL, cold run: $builds programs built, $compiles kernel compiles)"
exit 0

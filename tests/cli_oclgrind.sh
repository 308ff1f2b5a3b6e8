#!/bin/bash
# aecl on a second OpenCL implementation: Oclgrind, which simulates an OpenCL 1.2 GPU
# and checks every kernel as it runs. One short training of each reference model kind
# (models/{mlp,denoising,conv,vae}.model as they are, on 16 images) and of
# models/tabular.model on a small CSV, each followed by an `aecl eval` of the weights it
# wrote. Every command runs through tests/oclgrind_run.sh, so it fails on a nonzero exit
# status and on any report of Oclgrind's (invalid access, API error, data race, fatal
# simulator error); the losses printed must be finite numbers.
#
# CTest runs it with label oclgrind (tests/CMakeLists.txt sets OCL_ICD_VENDORS to an ICD
# folder holding only Oclgrind). By hand: bash tests/cli_oclgrind.sh build/aecl (then
# it makes that folder itself when OCL_ICD_VENDORS is not set).
#
# The race detector (OCLGRIND_DATA_RACES=1) makes Oclgrind 3 to 7 times slower: it is
# on for the VAE and the tabular model (dense layers, losses, the optimizer and the
# reductions, whose kernels use local memory and barriers) and off for the MLP, the
# denoising and the conv model (the MLP's million parameters would take minutes, the
# conv kernels are race-checked by test_ops_conv). RACES=1 turns it on for all.
aecl="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
src="$(cd "${AECL_SOURCE_DIR:-$(dirname "$0")/..}" && pwd)"
run=("bash" "$src/tests/oclgrind_run.sh")
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d /tmp/aecl-cli-oclgrind-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ -z "${OCL_ICD_VENDORS-}" ]; then
    lib=/usr/lib/oclgrind/liboclgrind-rt-icd.so
    [ -e "$lib" ] || { echo "oclgrind is not installed ($lib): apt-get install oclgrind"; exit 1; }
    mkdir "$tmp/icd" && echo "$lib" >"$tmp/icd/oclgrind.icd"
    export OCL_ICD_VENDORS="$tmp/icd"
fi
export OCLGRIND_CHECK_API="${OCLGRIND_CHECK_API:-1}"
# Oclgrind's device and nothing else; aecl's own GEMM kernels (measuring them against
# CLBlast's would time both under the simulator, shape by shape, for nothing).
export AECL_DEVICE=Oclgrind AECL_TUNE="${AECL_TUNE:-gemm=own}"
[ -n "${AECL_CACHE_DIR-}" ] || export AECL_CACHE_DIR="$tmp/cache"

# A finite decimal number (nan, inf and an empty string are not).
finite() { [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }

out=$("${run[@]}" "$aecl" devices 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "Oclgrind Simulator" <<<"$out" && ! grep -q "Portable Computing Language" <<<"$out"'

# check NAME RACES EVAL-ARGS -- TRAIN-ARGS: trains, evaluates, checks both.
check() {
    local m=$1 races=$2 t0=$SECONDS t1 out rc loss evalargs=()
    shift 2
    while [ "$1" != "--" ]; do evalargs+=("$1"); shift; done
    shift
    [ "${RACES:-0}" = 1 ] && races=1
    out=$(OCLGRIND_DATA_RACES=$races "${run[@]}" "$aecl" train "$@" --epochs 1 --batch 16 --out "$tmp/$m.st" 2>&1); rc=$?
    # (a VAE's loss terms come after the losses: "(train recon R, KL K)")
    loss=$(sed -n 's/^epoch 1\/1  train loss \([^ ]*\)  val loss \([^ ]*\).*/\1 \2/p' <<<"$out")
    ok '[ $rc -eq 0 ] && [ -s "$tmp/$m.st" ] && grep -q "device Oclgrind Simulator" <<<"$out"' || echo "$out"
    ok 'finite "${loss% *}" && finite "${loss#* }"' || echo "   ($m: train and val loss '$loss')"
    t1=$SECONDS
    out=$(OCLGRIND_DATA_RACES=$races "${run[@]}" "$aecl" eval "$tmp/$m.st" "${evalargs[@]}" --batch 16 2>&1); rc=$?
    loss=$(sed -n 's/.* loss \([^ ]*\)  MSE .*/\1/p' <<<"$out")
    ok '[ $rc -eq 0 ] && finite "$loss"' || echo "$out"
    echo "$m (races $races): train $((t1 - t0)) s, eval $((SECONDS - t1)) s, eval loss $loss"
}

small=(--limit 16 --val-limit 16)
check mlp 0 --limit 16 -- "$src/models/mlp.model" "${small[@]}"
check denoising 0 --limit 16 -- "$src/models/denoising.model" "${small[@]}"
check conv 0 --limit 16 --per-sample "$tmp/conv-oclgrind.csv" -- "$src/models/conv.model" "${small[@]}"
# The conv autoencoder (the kernels that were wrong on GPU paths) gives PoCL's
# numbers on Oclgrind, float rounding apart: the same weights, per sample.
if ls /etc/OpenCL/vendors/*pocl* >/dev/null 2>&1; then
    env -u OCL_ICD_VENDORS AECL_DEVICE="Portable Computing Language" POCL_DEVICES=pthread AECL_TUNE= \
        AECL_CACHE_DIR="$tmp/cache-pocl" "$aecl" eval "$tmp/conv.st" --limit 16 --batch 16 \
        --per-sample "$tmp/conv-pocl.csv" >/dev/null 2>&1
    worst=$(paste -d, "$tmp/conv-oclgrind.csv" "$tmp/conv-pocl.csv" | awk -F, 'NR > 1 {
        d = $2 - $(NF / 2 + 2); if (d < 0) d = -d; r = d / ($2 < 0 ? -$2 : $2); if (r > w) w = r; n++ }
        END { if (n != 16) print "rows " n; else printf "%.3g\n", w }')
    ok 'awk -v w="$worst" "BEGIN { exit !(w + 0 == w && w <= 1e-5) }"' || echo "   (conv per-sample loss, Oclgrind vs PoCL: worst relative difference $worst)"
    echo "conv: per-sample loss on Oclgrind vs PoCL, worst relative difference $worst"
fi
check vae 1 --limit 16 -- "$src/models/vae.model" "${small[@]}"
# 64 rows of 30 features (the tabular model's input), standardized, a quarter validates.
awk 'BEGIN { srand(5); for (i = 0; i < 64; i++) { printf "%.4f", rand();
             for (j = 2; j <= 30; j++) printf ",%.4f", j + j * rand(); print "" } }' >"$tmp/tab.csv"
check tabular 1 --data "$tmp/tab.csv" -- "$src/models/tabular.model" --data "$tmp/tab.csv" --scale standard --val-split 0.25
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

#!/bin/bash
# aecl on a machine's GPU, through its vendor's OpenCL driver (an NVIDIA H100 with the
# NVIDIA ICD, say), in one go and without network: builds, lists the devices, picks the
# first GPU (or $AECL_DEVICE), then runs `aecl selftest`, the CTest suite on that device
# (all but label oclgrind), `aecl bench` and one epoch of each reference model, and
# prints a summary table (device, tests passed/failed, GEMM GFLOP/s, samples/s).
#
#   bash scripts/gpu-check.sh [LOGDIR]    full logs in LOGDIR, else $OUT, else build-gpu/gpu-check
#
# Environment: AECL_DEVICE (a selector, see `aecl devices`), BUILD_DIR (default build-gpu),
# GPU_CHECK_SECONDS (the whole run's limit, default 480; every step has its own share
# and is stopped with `timeout`), GPU_CHECK_QUICK=1 (a short run: a few tests, a 6000-sample
# epoch, bench with 1 run; for trying the script on a CPU, e.g.
# AECL_DEVICE=pthread GPU_CHECK_QUICK=1 bash scripts/gpu-check.sh). The exit status is 0 when
# every step passed. Build dependencies: scripts/deps.sh is tried when cmake, the OpenCL
# headers or CLBlast are missing (it needs apt and network); when they are all installed
# nothing is downloaded.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
logdir="${1:-${OUT:-build-gpu/gpu-check}}"
mkdir -p "$logdir" && logdir=$(cd "$logdir" && pwd) || { echo "gpu-check: cannot make $logdir" >&2; exit 2; }
build="${BUILD_DIR:-build-gpu}"
quick="${GPU_CHECK_QUICK:-0}"
start=$SECONDS
deadline=$((start + ${GPU_CHECK_SECONDS:-480}))
log="$logdir/gpu-check.log"
: >"$log"
status=0

say() { echo "gpu-check: $*" | tee -a "$log"; }
# Seconds a step may take: its share, less what the steps after it need (reserve).
budget() {
    local want=$1 reserve=${2:-0} left=$((deadline - SECONDS - ${2:-0}))
    [ "$left" -lt "$want" ] && want=$left
    [ "$want" -lt 1 ] && want=1
    echo "$want"
}
# step NAME SECONDS RESERVE CMD...: runs CMD with a time limit, output to LOGDIR/NAME.log
# (and the main log); returns CMD's status (124: out of time).
step() {
    local name=$1 secs rc t0=$SECONDS
    secs=$(budget "$2" "$3"); shift 3
    say "$name (limit ${secs} s): $*"
    timeout --kill-after=10 "$secs" "$@" >"$logdir/$name.log" 2>&1; rc=$?
    cat "$logdir/$name.log" >>"$log"
    [ $rc -eq 124 ] && say "$name: out of time after ${secs} s"
    say "$name: exit $rc in $((SECONDS - t0)) s"
    return $rc
}

say "started $(date -u +%FT%TZ) in $root, logs in $logdir"
nproc=$(nproc 2>/dev/null || echo 4)

# ---- dependencies and build ----------------------------------------------------------
if ! command -v cmake >/dev/null || ! command -v cc >/dev/null || [ ! -e /usr/include/CL/cl.h ] \
   || ! ls /usr/lib/*/cmake/CLBlast* >/dev/null 2>&1; then
    step deps 150 300 bash scripts/deps.sh || say "deps: scripts/deps.sh failed (no network?); building with what is installed"
fi
# A new build folder without -Werror: another machine's compiler may warn where Debian 12's does not.
werror=()
[ -f "$build/CMakeCache.txt" ] || werror=(-DAECL_WERROR=OFF)
if ! step configure 120 240 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${werror[@]}" -DAECL_TEST_DEVICE= ||
   ! step build 240 200 cmake --build "$build" -j"$nproc"; then
    say "FAILED: the build (see $logdir/configure.log, $logdir/build.log)"
    exit 1
fi
aecl="$root/$build/aecl"

# ---- the device ----------------------------------------------------------------------
step devices 60 180 "$aecl" devices || status=1
sel="${AECL_DEVICE:-}"
if [ -z "$sel" ]; then
    # "* [P:D] name" (or "  [P:D] name") then "      vendor V, type GPU, ..." for each
    # device; a simulator (Oclgrind says it is a GPU) is passed over.
    sel=$(awk 'match($0, /^[* ] \[[0-9]+:[0-9]+\]/) { d = substr($0, 4, RLENGTH - 4); sim = /simulator|Oclgrind/ }
               /^ +vendor .*, type GPU/ && d != "" && !sim { print d; exit }' "$logdir/devices.log")
    [ -n "$sel" ] || { say "FAILED: no GPU among the devices above; set AECL_DEVICE to pick one"; exit 1; }
fi
export AECL_DEVICE="$sel"
say "device: $sel"
[ -e /usr/share/datasets/fashion-mnist ] || say "no /usr/share/datasets/fashion-mnist (dataset-fashion-mnist): the model epochs and some tests fail"

step selftest 120 150 "$aecl" selftest --device "$sel"; selftest_rc=$?
[ $selftest_rc -eq 0 ] || status=1
devname=$(sed -n 's/^device: //p' "$logdir/selftest.log" | head -1)   # "NAME (PLATFORM)"
driver=$(awk -v n="${devname% (*}" 'n != "" && index($0, n) { f = 1 }
                                    f && / driver / { sub(/.* driver /, ""); print; exit }' "$logdir/devices.log")

# ---- the CTest suite on the device ---------------------------------------------------
# The tests pin PoCL's device themselves; AECL_TEST_DEVICE (tests/CMakeLists.txt) moves them.
tests="not run"
if step configure-tests 60 150 cmake -S . -B "$build" -DAECL_TEST_DEVICE="$sel"; then
    filter=(-LE oclgrind)
    [ "$quick" = 1 ] && filter+=(-R '^(test_gemm|test_ops_dense|test_ops_loss|test_optim|test_rt_devices)$')
    step ctest 240 150 ctest --test-dir "$build" "${filter[@]}" -j"$nproc" --timeout 200 --output-on-failure
    ctest_rc=$?
    line=$(grep -E '^[0-9]+% tests passed' "$logdir/ctest.log" | tail -1)
    if [ -n "$line" ]; then
        total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
        failed=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
        tests="$((total - failed)) passed, $failed failed of $total"
    else
        tests="no result (exit $ctest_rc)"
    fi
    [ $ctest_rc -eq 0 ] || status=1
    grep -E '^ *[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Not Run|Exception)' "$logdir/ctest.log" |
        sed 's/^ */  /' >"$logdir/ctest-failed.txt"
else
    status=1
fi
# Leave the build folder as it was: the tests on PoCL.
cmake -S . -B "$build" -DAECL_TEST_DEVICE= >/dev/null 2>&1

# ---- bench ---------------------------------------------------------------------------
runs=5
[ "$quick" = 1 ] && runs=1
step bench 150 130 "$aecl" bench --device "$sel" --runs "$runs" || status=1

# ---- one epoch of each reference model -----------------------------------------------
epoch=()
[ "$quick" = 1 ] && epoch=(--limit 6000 --val-limit 1000)
declare -A sps=([mlp]="not run" [denoising]="not run" [conv]="not run" [vae]="not run")
left=3   # models after this one: each keeps 30 s
for m in mlp denoising conv vae; do
    reserve=$((30 * left)); left=$((left - 1))
    if step "train-$m" 60 "$reserve" "$aecl" train "models/$m.model" --epochs 1 "${epoch[@]}" \
            --device "$sel" --out "$logdir/$m.safetensors"; then
        sps[$m]=$(sed -n 's/^epoch 1\/1 .* \([0-9][0-9]*\) samples\/s.*/\1/p' "$logdir/train-$m.log" | tail -1)
        loss=$(sed -n 's/^epoch 1\/1  train loss \([^ ]*\)  val loss \([^ ]*\).*/train \1, val \2/p' "$logdir/train-$m.log")
        [ -n "${sps[$m]}" ] || sps[$m]="?"
        sps[$m]="${sps[$m]} ($loss)"
    else
        sps[$m]="FAILED"
        status=1
    fi
done

# ---- summary -------------------------------------------------------------------------
{
    echo
    echo "==== aecl gpu-check summary ($(date -u +%FT%TZ), $((SECONDS - start)) s) ===="
    printf '%-26s %s\n' "device" "$sel: ${devname:-?}, driver ${driver:-?}"
        printf '%-26s %s\n' "selftest" "$([ "$selftest_rc" -eq 0 ] && echo ok || echo "FAILED (exit $selftest_rc)")"
    printf '%-26s %s\n' "ctest (not label oclgrind)" "$tests$([ "$quick" = 1 ] && echo " (quick: 5 tests)")"
    [ -s "$logdir/ctest-failed.txt" ] && cat "$logdir/ctest-failed.txt"
    if grep -q 'GFLOP/s' "$logdir/bench.log" 2>/dev/null; then
        echo "bench GEMM (GFLOP/s, aecl / CLBlast, medians of $runs):"
        awk '/^GEMM/ { on = 1; next } on && NF == 0 { exit }
             on { printf "  %-14s %5s %5s %5s %s  %8s / %-8s\n", $1 " " $2, $3, $4, $5, $6, $7, $8 }' "$logdir/bench.log"
        echo "bench models (samples/s):"
        sed -n 's/^\([a-z]*\)\.model, batch \([0-9]*\): train \([0-9]*\) samples\/s.*inference \([0-9]*\) samples\/s/  \1 (batch \2): train \3, inference \4/p' \
            "$logdir/bench.log"
    else
        echo "bench                      FAILED or out of time (see bench.log)"
    fi
    echo "one epoch, samples/s$([ "$quick" = 1 ] && echo " (quick: 6000 samples)"):"
    for m in mlp denoising conv vae; do printf '  %-10s %s\n' "$m" "${sps[$m]}"; done
    echo "result: $([ $status -eq 0 ] && echo PASS || echo FAIL); full log: $log"
} | tee "$logdir/summary.txt" | tee -a "$log"
exit $status

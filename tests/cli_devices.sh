#!/bin/bash
# aecl devices / selftest / --device from the command line, as a person uses them.
aecl="$1"
# The device these checks mean: PoCL's CPU device (its platform name is the same in
# every PoCL release), unless the caller names another.
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
out=$("$aecl" devices); rc=$?
ok '[ $rc -eq 0 ]'
ok '[ "$(grep -c "^\* \[[0-9]*:[0-9]*\]" <<<"$out")" = 1 ]'   # one default
ok 'grep -q "compute units" <<<"$out" && grep -q "max work-group size" <<<"$out" && grep -q "OpenCL C" <<<"$out"'
out=$("$aecl" selftest --device 0:0); rc=$?
ok '[ $rc -eq 0 ] && grep -q "selftest: ok" <<<"$out"'
err=$("$aecl" selftest --device 5:5 2>&1 >/dev/null); rc=$?
ok '[ $rc -ne 0 ] && grep -q "no OpenCL device matches selector .5:5." <<<"$err" && grep -q "\[0:0\]" <<<"$err"'
err=$(AECL_DEVICE=nonexistent "$aecl" selftest 2>&1 >/dev/null); rc=$?
ok '[ $rc -ne 0 ] && grep -q "nonexistent" <<<"$err"'
# A failed selftest is recorded for the device (kernels that compute the wrong
# thing), marked by `aecl devices`, and cleared when selftest passes again.
cache=$(mktemp -d /tmp/aecl-cli-devices-XXXXXX)
trap 'rm -rf "$cache"' EXIT
mkdir "$cache/kernels"
echo '__kernel void selftest_axpb(__global const float *x, int xo, __global float *y, int yo,
  float a, float b, int n) { int i = get_global_id(0); if (i < n) y[yo + i] = 1.0f; }' >"$cache/kernels/selftest.cl"
err=$(AECL_CACHE_DIR="$cache" AECL_KERNEL_DIR="$cache/kernels" "$aecl" selftest 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "kernel check failed" <<<"$err" && grep -q "recorded in $cache/selftest-failures.txt" <<<"$err"'
out=$(AECL_CACHE_DIR="$cache" "$aecl" devices); rc=$?
ok '[ $rc -eq 0 ] && grep -q "(failed selftest" <<<"$out"'
out=$(AECL_CACHE_DIR="$cache" "$aecl" selftest); rc=$?
ok '[ $rc -eq 0 ] && grep -q "selftest: ok" <<<"$out"'
out=$(AECL_CACHE_DIR="$cache" "$aecl" devices); rc=$?
ok '[ $rc -eq 0 ] && ! grep -q "failed selftest" <<<"$out"'
# The device-decision table: the CPU's own choices, an override marked *, a bad
# key refused with the list of keys.
out=$("$aecl" devices --tuning); rc=$?
ok '[ $rc -eq 0 ] && grep -q "kernel choices: type=cpu .*conv_vw=" <<<"$out"'
out=$(AECL_TUNE=type=gpu,wg_max=64 "$aecl" devices --tuning); rc=$?
ok '[ $rc -eq 0 ] && grep -q "type=gpu\* wg_max=64\* .*conv_vw=4 " <<<"$out"'
err=$(AECL_TUNE=bogus=1 "$aecl" devices --tuning 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "AECL_TUNE: .bogus. is not key=value with a known key (keys: type, " <<<"$err"'
err=$(AECL_TUNE=conv_vw=3 "$aecl" selftest 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "conv_vw=3: the value must be a power of two" <<<"$err"'
"$aecl" frobnicate >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

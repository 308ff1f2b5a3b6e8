#!/bin/bash
# aecl devices / selftest / --device from the command line, as a person uses them.
aecl="$1"
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
out=$("$aecl" devices); rc=$?
ok '[ $rc -eq 0 ]'
ok 'grep -q "^\* \[0:0\]" <<<"$out"'
ok 'grep -q "compute units" <<<"$out" && grep -q "max work-group size" <<<"$out" && grep -q "OpenCL C" <<<"$out"'
out=$("$aecl" selftest --device 0:0); rc=$?
ok '[ $rc -eq 0 ] && grep -q "selftest: ok" <<<"$out"'
err=$("$aecl" selftest --device 5:5 2>&1 >/dev/null); rc=$?
ok '[ $rc -ne 0 ] && grep -q "no OpenCL device matches selector .5:5." <<<"$err" && grep -q "\[0:0\]" <<<"$err"'
err=$(AECL_DEVICE=nonexistent "$aecl" selftest 2>&1 >/dev/null); rc=$?
ok '[ $rc -ne 0 ] && grep -q "nonexistent" <<<"$err"'
"$aecl" frobnicate >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

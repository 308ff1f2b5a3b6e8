#!/bin/bash
# Runs a command whose OpenCL goes to Oclgrind, and fails when Oclgrind reported
# anything. Oclgrind writes its diagnostics to stderr but never changes the exit
# status, so stderr is captured (and still passed through), then searched for
# the messages Oclgrind 21.10 prints (src/plugins/{MemCheck,RaceDetector,
# Uninitialized}.cpp, src/core/{WorkGroup,WorkItem,KernelInvocation,Program}.cpp,
# src/runtime/runtime.cpp).
#
#   oclgrind_run.sh COMMAND [ARGS...]   exit status: the command's when it failed,
#                                       else 1 when Oclgrind reported something, else 0
#   oclgrind_run.sh --selftest BIN      runs tests/oclgrind_bad.c's BIN in each of its
#                                       modes and checks that exactly the wrong ones fail
#
# It does not choose the platform: the caller sets OCL_ICD_VENDORS (tests/CMakeLists.txt,
# aecl_oclgrind_test) and AECL_DEVICE=Oclgrind, so that nothing runs elsewhere unnoticed.
# OCLGRIND_CHECK_API and OCLGRIND_DATA_RACES default to 1 here as they do in CTest.
export OCLGRIND_CHECK_API="${OCLGRIND_CHECK_API-1}" OCLGRIND_DATA_RACES="${OCLGRIND_DATA_RACES-1}"

# One extended regular expression per kind of report. The last is a catch-all: every
# report about a kernel carries an indented "Kernel:" line.
patterns=(
    'Oclgrind - OpenCL runtime error detected'          # an API call failed (OCLGRIND_CHECK_API)
    'OCLGRIND FATAL ERROR'                              # the simulator gave up on a kernel
    '^Invalid (read|write|memory|wait)'                 # out of bounds, read-only/mapped buffers, alignment
    'data race at'                                      # Read-write / Write-write data race
    '^Uninitialized (value|address)'                    # OCLGRIND_UNINITIALIZED
    'depends on (an )?uninitialized'
    '^Work-group divergence detected'                   # barrier or async copy not reached by all
    '^Work-item finished without waiting'
    '^Unaligned address on'
    '^Oclgrind: '                                       # "N errors generated", bad OCLGRIND_* values
    '^\[Oclgrind\]'
    '^Loading Oclgrind plugin failed'
    $'^\tKernel: '
)

selftest() {
    local bin="$1" fail=0 mode want out rc
    for mode in ok read write race api; do
        case $mode in
            ok) want="" ;; read) want="Invalid read of size" ;; write) want="Invalid write of size" ;;
            race) want="Write-write data race" ;; api) want="Oclgrind - OpenCL runtime error detected" ;;
        esac
        out=$(bash "$0" "$bin" "$mode" 2>&1); rc=$?
        if [ -z "$want" ]; then
            [ $rc -eq 0 ] && grep -q "oclgrind_bad ok: done" <<<"$out" || { echo "FAILED: mode ok exited $rc"; fail=1; }
        elif [ $rc -ne 1 ] || ! grep -q "$want" <<<"$out" || ! grep -q "oclgrind_run: Oclgrind reported" <<<"$out" \
             || ! grep -q "oclgrind_bad $mode: done" <<<"$out"; then
            echo "FAILED: mode $mode exited $rc (want 1 and \"$want\")"; fail=1
        fi
        echo "mode $mode: exit $rc"
    done
    [ $fail -eq 0 ] && echo "the wrapper fails every deliberately wrong program and passes the right one"
    return $fail
}

if [ "${1-}" = "--selftest" ]; then selftest "$2"; exit; fi
[ $# -gt 0 ] || { echo "usage: oclgrind_run.sh COMMAND [ARGS...] | --selftest BIN" >&2; exit 2; }

log=$(mktemp "${TMPDIR:-/tmp}/oclgrind-run-XXXXXX") || exit 2
trap 'rm -f "$log"' EXIT
# stdout straight through (fd 3); stderr through tee into the log and on to stderr.
{ "$@" 2>&1 1>&3 3>&- | tee "$log" >&2; } 3>&1
rc=${PIPESTATUS[0]}

found=0
for p in "${patterns[@]}"; do
    n=$(grep -E -c -- "$p" "$log")
    if [ "$n" -gt 0 ]; then
        [ $found -eq 0 ] && echo "oclgrind_run: Oclgrind reported problems running: $*" >&2
        echo "oclgrind_run: Oclgrind reported $n line(s) matching /$p/, the first: $(grep -E -m1 -- "$p" "$log")" >&2
        found=1
    fi
done
[ $rc -ne 0 ] && exit $rc
exit $found

#!/bin/bash
# One fuzz target for a bounded time, as a CTest test or from scripts/fuzz.sh:
#   run.sh FUZZER SEED_DIR SECONDS [CORPUS_DIR [ARTIFACT_DIR]]
# Every seed runs first (the seeds include the inputs of crashes fixed before, so
# they are regression tests), then libFuzzer mutates for SECONDS. New inputs go
# to CORPUS_DIR (default: a temp folder, removed), never to the seeds; a crashing
# input is kept in ARTIFACT_DIR (default: beside the fuzzer) and fails the run.
# Memory: a reader that asks for more than 1 GB for a small file is a finding
# (-malloc_limit_mb), as is a leak (LeakSanitizer) or any ASan/UBSan report.
set -u
fuzzer=$1 seeds=$2 secs=$3
corpus=${4:-} art=${5:-$(dirname "$fuzzer")/artifacts/$(basename "$fuzzer")}
# The targets write each input to a file: in memory when /dev/shm takes files
# (ten times the executions per second of a disk), in a folder of this run that
# goes at the end (a crashing target exits without removing its file).
base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
files=$(mktemp -d "$base/aecl-fuzz-XXXXXX") || exit 1
tmp=""
if [ -z "$corpus" ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/aecl-fuzz-corpus-XXXXXX")
    corpus=$tmp
fi
trap 'rm -rf "$files"; [ -n "$tmp" ] && rm -rf "$tmp"' EXIT
mkdir -p "$corpus" "$art"
log="$files/log"
TMPDIR=$files "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$art/" "$corpus" "$seeds" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
echo "$(basename "$fuzzer"): ${execs:-?} executions in ${secs} s, exit status $rc"
if [ $rc -ne 0 ]; then
    grep -E -A30 '^==[0-9]+==ERROR|runtime error|^INFO: a leak|Test unit written' "$log" | head -60
fi
exit $rc

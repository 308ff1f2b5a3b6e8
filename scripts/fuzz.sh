#!/bin/bash
# Long fuzzing runs of aecl's file parsers (tests/fuzz; docs/fuzzing.md):
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]
# Builds the libFuzzer targets with clang into $FUZZ_BUILD_DIR (default
# build-fuzz), then runs each target for SECONDS (default 300) on a corpus kept
# in $FUZZ_BUILD_DIR/corpus/TARGET across runs (seeded from tests/fuzz/corpus),
# and prints executions and crashes per target. Crashing inputs are kept in
# $FUZZ_BUILD_DIR/artifacts/TARGET; once fixed, copy each into
# tests/fuzz/corpus/TARGET, so that the test suite replays it from then on.
# Needs Debian's clang and libclang-rt-14-dev (scripts/deps.sh installs them).
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
shift $(( $# > 0 ? 1 : 0 ))
build=${FUZZ_BUILD_DIR:-build-fuzz}
clang=$(command -v clang || command -v clang-14 || true)
[ -n "$clang" ] || { echo "fuzz.sh: no clang (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
cmake -S tests/fuzz -B "$build" -DCMAKE_C_COMPILER="$clang" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build "$build" -j"$(nproc)" >/dev/null || { echo "fuzz.sh: the build failed" >&2; exit 1; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(sed -n 's/^set(AECL_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/targets.cmake))
fi
failed=0
for t in "${targets[@]}"; do
    art="$build/artifacts/$t"
    before=$(ls "$art" 2>/dev/null | wc -l)
    bash tests/fuzz/run.sh "$build/fuzz_$t" "tests/fuzz/corpus/$t" "$secs" "$build/corpus/$t" "$art" || failed=1
    echo "  corpus $(ls "$build/corpus/$t" | wc -l) inputs, crashes kept: $(( $(ls "$art" 2>/dev/null | wc -l) - before ))"
done
exit $failed

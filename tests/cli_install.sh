#!/bin/bash
# Installs aecl into a temporary prefix with `cmake --install`, then builds and runs
# separate programs against that copy only: tests/consumer with find_package(aecl)
# (shared and static library) and with pkg-config, and tests/consumer/train.c (the
# public training API). Also checks that docs/api.md holds main.c and train.c
# verbatim, and that the installed program runs.
aecl="$1"
src="${AECL_SOURCE_DIR:?}" bin="${AECL_BINARY_DIR:?}"
# The device these checks mean: PoCL's CPU device (its platform name is the same in
# every PoCL release), unless the caller names another.
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
# A sanitizer build's library needs its consumers built with the same runtime.
san=""
grep -q "^AECL_SANITIZE:BOOL=ON" "$bin/CMakeCache.txt" 2>/dev/null && san="-fsanitize=address,undefined"

cmake --install "$bin" --prefix "$prefix" >"$tmp/install.log" 2>&1; rc=$?
ok '[ $rc -eq 0 ]' || cat "$tmp/install.log"
libdir=$(dirname "$(find "$prefix" -name aecl.pc | head -1)")/..
ok '[ -f "$prefix/include/aecl.h" ]'
ok '[ -x "$prefix/bin/aecl" ]'
ok 'ls "$libdir"/libaecl.so.* >/dev/null 2>&1 && [ -f "$libdir/libaecl.a" ]'
ok '[ -f "$libdir/cmake/aecl/aeclConfig.cmake" ] && [ -f "$libdir/cmake/aecl/aeclConfigVersion.cmake" ]'
ok '[ -f "$prefix/share/aecl/cl/selftest.cl" ] && [ -f "$prefix/share/doc/aecl/api.md" ]'
ok '[ -f "$prefix/share/aecl/models/mlp.model" ]'
ok 'cmp -s <(sed -n "/^<!-- main.c begin -->/,/^<!-- main.c end -->/p" "$src/docs/api.md" | sed "1,2d;\$d" | sed "\$d") "$src/tests/consumer/main.c"'

# The installed program, from the installed copy of its kernels.
out=$(AECL_KERNEL_DIR="$prefix/share/aecl/cl" "$prefix/bin/aecl" --version 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "^aecl [0-9]" <<<"$out"'
"$prefix/bin/aecl" train "$prefix/share/aecl/models/mlp.model" --limit 300 --epochs 1 --val-limit 0 \
    --out "$tmp/tiny.safetensors" >"$tmp/train.log" 2>&1; rc=$?
ok '[ $rc -eq 0 ] && [ -s "$tmp/tiny.safetensors" ]' || cat "$tmp/train.log"

# find_package(aecl): shared and static.
cmake -S "$src/tests/consumer" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$san" >"$tmp/cfg.log" 2>&1 &&
    cmake --build "$tmp/build" >"$tmp/build.log" 2>&1; rc=$?
ok '[ $rc -eq 0 ]' || cat "$tmp/cfg.log" "$tmp/build.log"
for app in app app_static; do
    out=$("$tmp/build/$app" "$tmp/tiny.safetensors" 2>&1); rc=$?
    ok '[ $rc -eq 0 ] && grep -q "selftest: ok" <<<"$out" && grep -q "encode: ok" <<<"$out"' || echo "$out"
done
ok 'ldd "$tmp/build/app" | grep -q "$prefix.*libaecl.so"'
# Training through the installed header (docs/api.md shows train.c verbatim).
ok 'cmp -s <(sed -n "/^<!-- train.c begin -->/,/^<!-- train.c end -->/p" "$src/docs/api.md" | sed "1,2d;\$d" | sed "\$d") "$src/tests/consumer/train.c"'
out=$("$tmp/build/train" "$tmp/trained.safetensors" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "^epoch 5: loss" <<<"$out" && grep -q "^trained: " <<<"$out" && [ -s "$tmp/trained.safetensors" ]' || echo "$out"
out=$(head -c 4000 "$tmp/trained.safetensors" | grep -a -o '"aecl.train.epochs":"[^"]*"')
ok '[ "$out" = "\"aecl.train.epochs\":\"5 of 5\"" ]' || echo "$out"

# pkg-config, from the installed aecl.pc only.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
flags=$(pkg-config --cflags --libs aecl); rc=$?
ok '[ $rc -eq 0 ] && [ "$(pkg-config --modversion aecl)" = "$("$prefix/bin/aecl" --version | cut -d" " -f2)" ]'
cc $san -std=c11 -Wall -Wextra -Werror "$src/tests/consumer/main.c" -o "$tmp/app_pc" $flags -lm 2>"$tmp/cc.log"; rc=$?
ok '[ $rc -eq 0 ]' || cat "$tmp/cc.log"
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/app_pc" "$tmp/tiny.safetensors" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "encode: ok" <<<"$out"' || echo "$out"
cc $san -std=c11 "$src/tests/consumer/main.c" -o "$tmp/app_pc_static" $(pkg-config --cflags aecl) \
    "$libdir/libaecl.a" $(pkg-config --libs-only-other --libs --static aecl | sed 's/-laecl//') -lm 2>"$tmp/cc2.log"; rc=$?
ok '[ $rc -eq 0 ]' || cat "$tmp/cc2.log"
out=$("$tmp/app_pc_static" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "selftest: ok" <<<"$out"' || echo "$out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

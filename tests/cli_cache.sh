#!/bin/bash
# aecl with a kernel cache it must not trust, from the command line: damaged
# entries and a folder others can write never fail or crash a run. Also numeric
# --device selectors too large for any device (they once wrapped to device 0).
aecl="$1"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
cache=$(mktemp -d /tmp/aecl-cli-cache-XXXXXX)
trap 'rm -rf "$cache"' EXIT
export AECL_CACHE_DIR="$cache/kernels"
# aecl writes no entries for PoCL while PoCL caches its own builds.
export POCL_KERNEL_CACHE=0

out=$("$aecl" selftest); rc=$?
ok '[ $rc -eq 0 ] && grep -q "(\([1-9][0-9]*\) compiled, 0 from cache)" <<<"$out"'
n=$(ls "$AECL_CACHE_DIR"/*.bin | wc -l)
# Every entry's payload damaged in place (its length kept): each is rebuilt.
for f in "$AECL_CACHE_DIR"/*.bin; do
  printf '\377\377\377\377\377\377\377\377' | dd of="$f" bs=1 seek=$(( $(stat -c %s "$f") / 2 )) conv=notrunc 2>/dev/null
done
out=$("$aecl" selftest); rc=$?
ok '[ $rc -eq 0 ] && grep -q "($n compiled, 0 from cache)" <<<"$out"'
out=$("$aecl" selftest); rc=$?
ok '[ $rc -eq 0 ] && grep -q "(0 compiled, $n from cache)" <<<"$out"'
# A folder others can write is not used, and the run still works.
chmod 0777 "$AECL_CACHE_DIR"
out=$("$aecl" selftest); rc=$?
ok '[ $rc -eq 0 ] && grep -q "($n compiled, 0 from cache)" <<<"$out"'
chmod 0755 "$AECL_CACHE_DIR"

# The selector's devices are listed, as for any selector that matches none.
rejected() {
  local err rc
  err=$("$aecl" selftest --device "$1" 2>&1 >/dev/null); rc=$?
  [ $rc -ne 0 ] && grep -q "no OpenCL device matches selector .$1." <<<"$err" && grep -q "\[0:0\]" <<<"$err"
}
for sel in 4294967296 18446744073709551616 0:4294967296 4294967296:0; do ok "rejected $sel"; done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

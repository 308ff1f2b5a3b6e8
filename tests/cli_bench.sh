#!/bin/bash
# aecl bench at a tiny size: its JSON holds every reference model with finite,
# positive figures, the rounds it was asked for, and bad values are refused.
# (Speed itself is measured by running the benchmark, never asserted by a test.)
aecl="$1"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
root=$(cd "$(dirname "$0")/.." && pwd)
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
out=$("$aecl" bench --no-gemm --runs 1 --steps 2 --batch 8 --json --models "$root/models"); rc=$?
ok '[ $rc -eq 0 ]'
ok 'python3 -c "
import json, math, sys
d = json.loads(sys.argv[1])
assert d[\"runs\"] == 1 and d[\"steps\"] == 2 and d[\"peak_gflops\"] > 0, d
names = [m[\"model\"] for m in d[\"models\"]]
assert names == [\"mlp.model\", \"denoising.model\", \"vae.model\", \"conv.model\"], names
for m in d[\"models\"]:
    for k in (\"train_samples_per_s\", \"infer_samples_per_s\", \"train_gflops\", \"infer_gflops\"):
        assert math.isfinite(m[k]) and m[k] > 0, (m[\"model\"], k, m[k])
    assert m[\"batch\"] == 8 and m[\"launches\"] > 0, m
" "$out"'
err=$("$aecl" bench --steps 0 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 2 ] && grep -q "0" <<<"$err"'
err=$("$aecl" bench --runs 40 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 2 ] && grep -q "40" <<<"$err"'
echo "cli_bench: $pass passed, $fail failed"
[ $fail -eq 0 ]

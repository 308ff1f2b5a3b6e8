#!/bin/bash
# The application subcommands end to end on small data: a tiny MLP and a tiny
# VAE trained for one epoch on 300 Fashion-MNIST images, then every command run
# as a person would, checking exit codes, PNG sizes, CSV rows and error messages.
aecl="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
models="$(cd "${AECL_SOURCE_DIR:-$(dirname "$0")/..}" && pwd)/models"
data=/usr/share/datasets/fashion-mnist
# The device these checks mean: PoCL's CPU device (its platform name is the same in
# every PoCL release), unless the caller names another.
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d /tmp/aecl-cli-apps-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# "WxH" of a PNG from its IHDR chunk, or "not-png".
png_size() {
    [ "$(od -An -tx1 -N8 "$1" 2>/dev/null | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo not-png; return; }
    od -An -tu1 -j16 -N8 "$1" | awk '{printf "%dx%d\n", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}'
}
rows() { wc -l < "$1" | tr -d ' '; }

"$aecl" train "$models/mlp.model" --limit 300 --epochs 1 --val-limit 100 --out mlp.st >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s mlp.st ]'
"$aecl" train "$models/vae.model" --limit 300 --epochs 1 --val-limit 100 --out vae.st >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s vae.st ]'

# Every subcommand has --help (exit 0) and rejects unknown options (exit 2).
for c in eval reconstruct encode decode denoise anomaly compress decompress sample interpolate scatter; do
    out=$("$aecl" $c --help); rc=$?
    ok "[ $rc -eq 0 ] && grep -q 'usage: aecl $c' <<<\"\$out\""
    "$aecl" $c mlp.st --frobnicate 1 >/dev/null 2>&1; rc=$?
    ok "[ $rc -eq 2 ]   # $c --frobnicate"
done
# getopt_long parsing everywhere: --opt=value as --opt value, options before the
# positional argument; an unknown option, a missing value or a value given to a
# flag exits 2 naming it.
"$aecl" eval --limit=20 mlp.st --per-sample=pe.csv >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(rows pe.csv)" = 21 ]'
err=$("$aecl" eval mlp.st --limit=x 2>&1); rc=$?
ok '[ $rc -eq 2 ] && grep -q "bad value for --limit: .x." <<<"$err"'
err=$("$aecl" eval mlp.st --mean=1 2>&1); rc=$?
ok '[ $rc -eq 2 ] && grep -q "takes no value: .--mean=1." <<<"$err"'
err=$("$aecl" eval mlp.st --per-sample 2>&1); rc=$?
ok '[ $rc -eq 2 ] && grep -q "needs a value: .--per-sample." <<<"$err"'
err=$("$aecl" encode mlp.st --frob=1 2>&1); rc=$?
ok '[ $rc -eq 2 ] && grep -q "unknown option .--frob=1." <<<"$err"'
err=$("$aecl" eval mlp.st other.st 2>&1); rc=$?
ok '[ $rc -eq 2 ] && grep -q "unexpected argument .other.st." <<<"$err"'
for c in devices selftest bench; do
    "$aecl" $c --frobnicate >/dev/null 2>&1; rc=$?
    ok "[ $rc -eq 2 ]   # $c --frobnicate"
done
"$aecl" encode >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]   # no weights'
err=$("$aecl" encode missing.st 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "missing.st" <<<"$err"'

# eval / reconstruct: per-sample CSV (header + 120 rows, labels); pictures are checked in cli_pictures.sh.
out=$("$aecl" eval mlp.st --limit 120 --per-sample ps.csv); rc=$?
ok '[ $rc -eq 0 ] && grep -q "PSNR" <<<"$out" && [ "$(rows ps.csv)" = 121 ]'
ok '[ "$(head -1 ps.csv)" = "index,loss,mse,psnr,label" ]'

# encode: CSV with labels, .npy, VAE draws; --sample on a non-VAE is a usage error.
"$aecl" encode mlp.st --limit 50 --out c.csv >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(rows c.csv)" = 51 ] && head -1 c.csv | grep -q "^z0,.*,z31,label$"'
"$aecl" encode vae.st --limit 50 --out c.npy --sample --seed 3 >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(stat -c %s c.npy)" = $((128 + 50 * 20 * 4)) ]'
"$aecl" encode mlp.st --sample --limit 5 >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'

# denoise: noise added here (PSNR before and after, 3 labelled rows of 8 at zoom 4), then read back as
# already-noisy data (2 rows); no picture unless --grid asks.
out=$("$aecl" denoise mlp.st --limit 40 --noise saltpepper:0.2 --grid d.png --out d.npy); rc=$?
ok '[ $rc -eq 0 ] && grep -q "PSNR noisy .* dB -> denoised .* dB" <<<"$out" && [ "$(png_size d.png)" = 1013x395 ]'
out=$("$aecl" denoise mlp.st --noisy d.npy --grid d2.png); rc=$?
ok '[ $rc -eq 0 ] && ! grep -q PSNR <<<"$out" && [ "$(png_size d2.png)" = 1013x279 ]'
out=$("$aecl" denoise mlp.st --limit 5); rc=$?
ok '[ $rc -eq 0 ] && grep -q "nothing written" <<<"$out" && [ ! -e denoise.png ]'
"$aecl" denoise mlp.st --noise pink:0.2 >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'

# anomaly: one-class metrics, thresholds, CSV; --elbo only for a VAE.
out=$("$aecl" anomaly mlp.st --limit 300 --normal-class 0 --contamination 0.1 --out an.csv); rc=$?
ok '[ $rc -eq 0 ] && grep -q "AUROC 0\.[0-9]*  AUPRC 0\.[0-9]*" <<<"$out" && grep -q "30 of 300 samples flagged" <<<"$out"'
ok '[ "$(rows an.csv)" = 301 ] && [ "$(head -1 an.csv)" = "index,score,anomaly,label" ]'
out=$("$aecl" anomaly vae.st --limit 200 --elbo --quantile 0.9 --ref-limit 100 --anomaly-class 8); rc=$?
ok '[ $rc -eq 0 ] && grep -q "reference: 100 samples" <<<"$out" && grep -q "negative ELBO" <<<"$out" && grep -q AUROC <<<"$out"'
out=$("$aecl" anomaly mlp.st --limit 100 --normal-class 0 --quantile 0.5 --ref-data d.npy --ref-limit 30); rc=$?
ok '[ $rc -eq 0 ] && grep -q "reference: 30 samples" <<<"$out" && grep -q AUROC <<<"$out"'   # unlabelled reference: all normal
out=$("$aecl" anomaly mlp.st --limit 100 --threshold 0.5); rc=$?
ok '[ $rc -eq 0 ] && grep -q "threshold 0.5: 0 of 100" <<<"$out" && ! grep -q AUROC <<<"$out"'
"$aecl" anomaly mlp.st --elbo --limit 10 >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'
"$aecl" anomaly mlp.st --contamination 2 >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'
"$aecl" anomaly mlp.st --contamination 0.1 --threshold 1 >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'

# compress, decompress and decode are checked in cli_compress.sh; pictures
# (reconstruct, sample, interpolate, scatter) in cli_pictures.sh.

# Tabular data: a CSV with a label column, a model trained with a minmax scaling;
# every 40th row is an outlier (label 1), which the scores must rank first.
awk 'BEGIN { srand(5); printf "f0"; for (k = 1; k < 30; k++) printf ",f%d", k; print ",label";
  for (i = 0; i < 240; i++) { a = i % 40 == 0;
    for (k = 0; k < 30; k++) { v = 10 * sin(k * 0.3 + i * 0.01) + rand(); if (a) v += 20 * rand(); printf "%s%.4f", k ? "," : "", v }
    print "," a } }' > tab.csv
"$aecl" train "$models/tabular.model" --data tab.csv --label-column label --scale minmax --epochs 3 --val-split 0.2 --out tab.st >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s tab.st ]'
out=$("$aecl" anomaly tab.st --data tab.csv --label-column label --contamination 0.05); rc=$?
ok '[ $rc -eq 0 ] && grep -q "6 anomalous of 240 by the labels: AUROC 1.0000" <<<"$out"'
"$aecl" encode tab.st --data tab.csv --label-column label --out tc.npy >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(stat -c %s tc.npy)" = $((128 + 240 * 4 * 4)) ]'
err=$("$aecl" eval mlp.st --data tab.csv --label-column label 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "30" <<<"$err"'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

#!/bin/bash
# Pictures people can read: reconstruct, sample, interpolate and scatter draw
# with the chart module at a visible size (zoom 4: a 28x28 image is 112x112
# pixels), with --zoom/--cols/--rows/--start/--random choices, only when asked,
# and never under a name that is not .png; tabular models get no picture and no
# PSNR. Sizes are read from each PNG's IHDR chunk: differences between two
# pictures pin the tile size and the gaps, whatever the font's width.
aecl="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
models="$(cd "${AECL_SOURCE_DIR:-$(dirname "$0")/..}" && pwd)/models"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d /tmp/aecl-cli-pictures-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# "W H" of a PNG from its IHDR chunk, or "not-png".
png_wh() {
    [ "$(od -An -tx1 -N8 "$1" 2>/dev/null | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo not-png; return; }
    od -An -tu1 -j16 -N8 "$1" | awk '{printf "%d %d\n", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}'
}
W() { png_wh "$1" | cut -d' ' -f1; }
H() { png_wh "$1" | cut -d' ' -f2; }

"$aecl" train "$models/mlp.model" --limit 300 --epochs 1 --val-limit 100 --out mlp.st >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s mlp.st ]'
"$aecl" train "$models/vae.model" --limit 300 --epochs 1 --val-limit 100 --out vae.st >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s vae.st ]'

# reconstruct writes nothing unless asked.
out=$("$aecl" reconstruct mlp.st --limit 20); rc=$?
ok '[ $rc -eq 0 ] && grep -q "nothing written" <<<"$out" && [ "$(ls | grep -c png)" = 0 ]'

# The grid: 2 rows of 8 samples, each an input row above a reconstruction row, at zoom 4.
out=$("$aecl" reconstruct mlp.st --limit 20 --grid r4.png); rc=$?
ok '[ $rc -eq 0 ] && [ "$(W r4.png)" -ge $((8 * 112)) ] && [ "$(H r4.png)" -ge $((4 * 112)) ] && grep -q "samples 0-15 of 20" <<<"$out"'
# One more zoom step adds a pixel per image pixel and per gap: 8 * 28 + 7 wide, 4 * 28 + 3 high.
"$aecl" reconstruct mlp.st --limit 20 --grid r5.png --zoom=5 >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ $(( $(W r5.png) - $(W r4.png) )) = 231 ] && [ $(( $(H r5.png) - $(H r4.png) )) = 115 ]'
# A column is a 112-pixel tile and a 4-pixel gap; a row of samples is two rows of tiles.
"$aecl" reconstruct mlp.st --limit 20 --grid c7.png --cols 7 --rows 1 >/dev/null
"$aecl" reconstruct mlp.st --limit 20 --grid c6.png --cols 6 --rows 1 >/dev/null
"$aecl" reconstruct mlp.st --limit 20 --grid c6r2.png --cols 6 --rows 2 >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ $(( $(W c7.png) - $(W c6.png) )) = 116 ] && [ $(( $(H c6r2.png) - $(H c6.png) )) = 232 ]'
# Which samples: --start, or a seeded random pick (the same seed, the same picture).
out=$("$aecl" reconstruct mlp.st --limit 40 --grid s10.png --start 10 --rows 1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "samples 10-17 of 40" <<<"$out" && ! cmp -s s10.png c6.png'
"$aecl" reconstruct mlp.st --limit 40 --grid ra.png --random 7 >/dev/null
"$aecl" reconstruct mlp.st --limit 40 --grid rb.png --random 7 >/dev/null
out=$("$aecl" reconstruct mlp.st --limit 40 --grid rc.png --random 8); rc=$?
ok '[ $rc -eq 0 ] && cmp -s ra.png rb.png && ! cmp -s ra.png rc.png && grep -q "at random (seed 8)" <<<"$out"'
err=$("$aecl" reconstruct mlp.st --limit 20 --grid x.png --start 20 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "start 20: the data holds 20 samples" <<<"$err" && [ ! -e x.png ]'
# A picture is a .png: any other name is a usage error and nothing is written.
for name in r.jpg grid noext.png.txt; do
    err=$("$aecl" reconstruct mlp.st --limit 5 --grid "$name" 2>&1); rc=$?
    ok "[ $rc -eq 2 ] && grep -q 'must name a .png file' <<<\"\$err\" && [ ! -e '$name' ]"
done
"$aecl" eval mlp.st --limit 5 --grid=x.PNG >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(W x.PNG)" -gt 0 ]'
"$aecl" reconstruct mlp.st --limit 5 --grid z.png --zoom 0 >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e z.png ]'

# eval reports PSNR of the mean MSE and per image; --out keeps the reconstructions.
out=$("$aecl" eval mlp.st --limit 30 --out rec.npy); rc=$?
ok '[ $rc -eq 0 ] && grep -q "PSNR .* dB (of the mean MSE); per image .* dB mean, .* dB median" <<<"$out"'
ok '[ "$(stat -c %s rec.npy)" = $((128 + 30 * 784 * 4)) ]'

# sample: a picture of 12 samples, 6 per row at zoom 4 (6 * 112 + 5 * 4 + margins 20).
"$aecl" sample vae.st --n 12 --cols 6 --out s.png --seed 4 >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(W s.png)" = 712 ] && [ "$(H s.png)" -ge 228 ]'
"$aecl" sample vae.st --n 4 --out s.gif >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e s.gif ]'

# interpolate works for every kind (a VAE walks between mean codes): input, 6 steps, input.
"$aecl" interpolate mlp.st --from 0 --to 5 --steps 6 --out i.png --npy i.npy >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(W i.png)" = $((8 * 112 + 7 * 4 + 20)) ] && [ "$(H i.png)" -gt 112 ]'
ok '[ "$(stat -c %s i.npy)" = $((128 + 6 * 784 * 4)) ]'
"$aecl" interpolate vae.st --steps 4 --zoom 2 --out iv.png >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(W iv.png)" -gt $((6 * 56)) ]'
"$aecl" interpolate vae.st --steps 1 >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'

# scatter: a chart with axes and a legend, at the asked size; only .png names.
out=$("$aecl" scatter mlp.st --limit 300 --out sc.png); rc=$?
ok '[ $rc -eq 0 ] && [ "$(png_wh sc.png)" = "800 500" ] && grep -q "principal components" <<<"$out" && grep -q "by label" <<<"$out"'
"$aecl" scatter mlp.st --limit 100 --out sc2.png --size=320x240 --class-names a,b,c >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(png_wh sc2.png)" = "320 240" ]'
"$aecl" scatter mlp.st --size 100x100 >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'
"$aecl" scatter mlp.st --out sc.svg >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e sc.svg ]'

# A tabular model: no picture, no PSNR; the scaled-space MSE, RMSE and R^2 instead.
awk 'BEGIN { srand(5); printf "f0"; for (k = 1; k < 30; k++) printf ",f%d", k; print ",label";
  for (i = 0; i < 240; i++) { a = (i % 40 == 39);
    for (k = 0; k < 30; k++) { v = 10 * sin(k * 0.3 + i * 0.01) + rand(); if (a) v += 20 * rand(); printf "%s%.4f", k ? "," : "", v }
    print "," a } }' > tab.csv
"$aecl" train "$models/tabular.model" --data tab.csv --label-column label --scale minmax --epochs 3 --val-split 0.2 --out tab.st >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s tab.st ]'
out=$("$aecl" eval tab.st --data tab.csv --label-column label --per-sample tps.csv); rc=$?
ok '[ $rc -eq 0 ] && ! grep -q " dB" <<<"$out" && grep -q "scaled space" <<<"$out" && grep -q "R^2" <<<"$out" && grep -q "no PSNR" <<<"$out"'
ok '[ "$(head -1 tps.csv)" = "index,loss,mse,label" ]'
err=$("$aecl" reconstruct tab.st --data tab.csv --label-column label --grid t.png 2>&1); rc=$?
ok '[ $rc -eq 2 ] && grep -q "not images" <<<"$err" && [ ! -e t.png ]'
err=$("$aecl" interpolate tab.st --data tab.csv --label-column label 2>&1); rc=$?
ok '[ $rc -eq 2 ] && grep -q "give --npy" <<<"$err"'
"$aecl" interpolate tab.st --data tab.csv --label-column label --steps 5 --npy ti.npy >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(stat -c %s ti.npy)" = $((128 + 5 * 30 * 4)) ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

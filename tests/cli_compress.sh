#!/bin/bash
# Compression as CompressAI users read it, and decode: aecl compress reports the
# rate after zstd (bits per pixel) and the distortion (MSE, PSNR of the mean MSE
# and per image) of each --bits setting; the rate-distortion table agrees with
# the files and with itself; decompress reads what compress wrote (and writes a
# picture only when asked); decode(encode(x)) is reconstruct(x).
aecl="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
models="$(cd "${AECL_SOURCE_DIR:-$(dirname "$0")/..}" && pwd)/models"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d /tmp/aecl-cli-compress-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
rows() { wc -l < "$1" | tr -d ' '; }
# Column NAME of row R (1 = the first data row) of a CSV.
col() { awk -F, -v name="$2" -v r="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i } NR == r + 1 { print $c }' "$1"; }

"$aecl" train "$models/mlp.model" --limit 300 --epochs 1 --val-limit 100 --out mlp.st >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s mlp.st ]'
"$aecl" train "$models/vae.model" --limit 300 --epochs 1 --val-limit 100 --out vae.st >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s vae.st ]'

# Three settings: one line each with bpp and PSNR; the table has one row per setting.
out=$("$aecl" compress mlp.st --limit 200 --bits 4,6,8 --report rd.csv --per-image pi.csv --out x.aecz); rc=$?
ok '[ $rc -eq 0 ] && [ "$(grep -c " bpp .* PSNR .* per image" <<<"$out")" = 3 ]'
ok '[ "$(head -1 rd.csv)" = "bits,bytes,bpp,bits_per_code,mse,psnr,psnr_image_mean,psnr_image_median" ] && [ "$(rows rd.csv)" = 4 ]'
# Fewer bits, fewer bits per pixel after entropy coding.
ok 'awk -F, "NR > 1 { b[NR] = \$3 } END { exit !(b[2] < b[3] && b[3] < b[4]) }" rd.csv'
# zstd codes the 4-bit codes (stored a byte each) at about 4 bits, not 8.
ok 'awk -F, "NR == 2 { exit !(\$4 < 5.5) }" rd.csv'
# The file is the last setting's; bytes and bpp agree with its size (200 images of 784 pixels).
size=$(stat -c %s x.aecz)
ok '[ "$(col rd.csv bytes 3)" = "$size" ] && awk -v s="$size" -v b="$(col rd.csv bpp 3)" "BEGIN { exit !(((s * 8 / (200 * 784)) - b)^2 < 1e-10) }"'
# Version 2 in the header; PSNR = 10 log10(1 / MSE); the per-image mean is the mean of the per-image file.
ok '[ "$(od -An -tu4 -j8 -N4 x.aecz | tr -d " ")" = 2 ]'
ok 'awk -v m="$(col rd.csv mse 1)" -v p="$(col rd.csv psnr 1)" "BEGIN { exit !((10 * log(1 / m) / log(10) - p)^2 < 1e-6) }"'
ok '[ "$(head -1 pi.csv)" = "index,psnr_b4,psnr_b6,psnr_b8,label" ] && [ "$(rows pi.csv)" = 201 ]'
ok 'awk -F, -v want="$(col rd.csv psnr_image_mean 3)" "NR > 1 { s += \$4; n++ } END { exit !((s / n - want)^2 < 1e-6) }" pi.csv'
"$aecl" compress mlp.st --limit 5 --bits 4,17 --out y.aecz >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e y.aecz ]'
"$aecl" compress mlp.st --limit 5 --bits 8 >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]   # neither --out nor --report'
"$aecl" compress mlp.st --limit 5 --out nodir/x.aecz >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 1 ]'

# decompress: the file's samples, no picture unless asked.
out=$("$aecl" decompress mlp.st x.aecz --out y.npy); rc=$?
ok '[ $rc -eq 0 ] && [ "$(stat -c %s y.npy)" = $((128 + 200 * 784 * 4)) ] && [ "$(ls | grep -c png)" = 0 ] && grep -q "version 2 file, 8-bit" <<<"$out"'
"$aecl" decompress mlp.st x.aecz --grid rest.png --cols 10 --rows 1 >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s rest.png ]'
"$aecl" decompress mlp.st x.aecz --grid rest.bmp >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e rest.bmp ]'
err=$("$aecl" decompress vae.st x.aecz 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "latent size" <<<"$err"'
head -c 100 x.aecz > trunc.aecz
err=$("$aecl" decompress mlp.st trunc.aecz --grid t.png 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "truncated" <<<"$err" && [ ! -e t.png ]'
cp x.aecz bad.aecz && printf '\x55' | dd of=bad.aecz bs=1 seek=400 conv=notrunc 2>/dev/null
err=$("$aecl" decompress mlp.st bad.aecz 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "corrupt" <<<"$err"'
err=$("$aecl" decompress mlp.st mlp.st 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "not an aecl codes file" <<<"$err"'

# decode(encode(x)) == reconstruct(x), byte for byte, through .npy and through CSV;
# a VAE's encode gives the mean code, so reconstruct --mean.
"$aecl" encode mlp.st --limit 25 --out c.npy >/dev/null && "$aecl" decode mlp.st c.npy --out d.npy >/dev/null; rc=$?
"$aecl" reconstruct mlp.st --limit 25 --out r.npy >/dev/null
ok '[ $rc -eq 0 ] && [ -s d.npy ] && cmp -s d.npy r.npy'
"$aecl" encode mlp.st --limit 25 --out c.csv >/dev/null && "$aecl" decode mlp.st c.csv --out dc.npy >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && cmp -s dc.npy r.npy'
"$aecl" encode vae.st --limit 25 --out cv.npy >/dev/null && "$aecl" decode vae.st cv.npy --out dv.npy >/dev/null; rc=$?
"$aecl" reconstruct vae.st --mean --limit 25 --out rv.npy >/dev/null
ok '[ $rc -eq 0 ] && cmp -s dv.npy rv.npy'
# CSV out keeps the codes' labels; a picture; codes of the wrong size; names that are no format.
"$aecl" decode mlp.st c.csv --out d.csv >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ "$(rows d.csv)" = 26 ] && head -1 d.csv | grep -q "^x0,x1,.*,x783,label$"'
"$aecl" decode mlp.st c.csv --out d.png --cols 5 >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s d.png ]'
err=$("$aecl" decode vae.st c.npy --out e.npy 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "20 values" <<<"$err" && [ ! -e e.npy ]'
"$aecl" decode mlp.st c.npy --out d.txt >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e d.txt ]'
"$aecl" decode mlp.st >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

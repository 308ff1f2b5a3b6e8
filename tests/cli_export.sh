#!/bin/bash
# aecl export end to end: small models of every kind (vanilla, denoising, the
# reference conv model, two conv models with pooling, upsampling and every
# activation, a VAE, tabular models with standard and minmax scaling), trained one
# epoch on 128 samples, exported to ONNX and to a PyTorch module, and
# checked by tests/export_check.py against aecl's own outputs on the same rows
# (aecl encode, aecl reconstruct --mean, aecl anomaly --elbo): ONNX by
# onnx.checker and a numpy evaluator of the graph, the module with Debian's
# python3-torch. Then the exit status and messages of every kind of mistake.
# Skips (77) without python3-onnx; the PyTorch checks are skipped, with a note,
# without python3-torch (CI does not install it: docs/interchange.md says why).
aecl="$1"
src="${AECL_SOURCE_DIR:-$(dirname "$0")/..}"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
py=""
for p in "${AECL_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$p" ] && "$p" -c "import onnx, numpy" 2>/dev/null && { py="$p"; break; }
done
[ -n "$py" ] || { echo "SKIP: no python3 with onnx and numpy (Debian: python3-onnx)"; exit 77; }
torch=0
"$py" -c "import torch" 2>/dev/null && torch=1
dir=$(mktemp -d /tmp/aecl-cli-export-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
check="$src/tests/export_check.py"
small="--limit 128 --val-limit 0 --epochs 1 --batch 64"

# Rows to compare on: images in [0, 1] for the 1x28x28 models (aecl reads .npy).
"$py" -c "
import numpy as np
rng = np.random.default_rng(7)
np.save('$dir/img.npy', rng.random((40, 784), dtype=np.float32))
" || exit 1

cat >"$dir/conv_a.model" <<'EOF'
kind = convolutional
input = 1x28x28
latent = 8
loss = bce
[encoder]
conv 4 3x3 pad=1 leaky_relu(0.2)
avgpool 2
conv 6 3x3 stride=2 pad=1 elu(0.5)
flatten
[decoder]
dense 294 tanh
reshape 6x7x7
upsample 2 bilinear
convT 4 3x3 stride=2 pad=1 outpad=1 softplus
conv 1 3x3 pad=1 sigmoid
EOF
cat >"$dir/conv_b.model" <<'EOF'
kind = convolutional
input = 1x28x28
latent = 6
loss = mse
[encoder]
conv 3 5x5 pad=2 relu dropout=0.1
maxpool 2
conv 5 3x3 relu
maxpool 3
flatten
dense 16 tanh
[decoder]
dense 80 relu
reshape 5x4x4
upsample 7
conv 1 3x3 pad=1 none
EOF

# export_one NAME MODEL DATA [train options]: trains, exports, runs aecl on DATA's
# rows and adds the case to the checkers' manifest.
export_one() {
    local name=$1 model=$2 data=$3
    shift 3
    local w="$dir/$name.st" out
    out=$("$aecl" train "$model" $small "$@" --out "$w" 2>&1) || { echo "$out"; ok false; return; }
    out=$("$aecl" export "$w" --onnx "$dir/$name" --torch "$dir/${name}_model.py" 2>&1); rc=$?
    ok '[ $rc -eq 0 ] && [ -s "$dir/$name.onnx" ] && [ -s "$dir/$name.encoder.onnx" ] && [ -s "$dir/$name.decoder.onnx" ]' ||
        echo "$out"
    "$aecl" encode "$w" --data "$data" --out "$dir/$name.codes.npy" >/dev/null &&
        "$aecl" reconstruct "$w" --data "$data" --mean --out "$dir/$name.recon.npy" >/dev/null || ok false
    local elbo=""
    if grep -q "variational" "$model"; then
        "$aecl" anomaly "$w" --data "$data" --elbo --out "$dir/$name.elbo.csv" >/dev/null || ok false
        elbo="$dir/$name.elbo.csv"
    fi
    echo "$name $w $dir/$name $dir/${name}_model.py $data $dir/$name.codes.npy $dir/$name.recon.npy $elbo" >>"$dir/cases"
}

export_one mlp "$src/models/mlp.model" "$dir/img.npy"
export_one denoising "$src/models/denoising.model" "$dir/img.npy"
export_one conv "$src/models/conv.model" "$dir/img.npy"
export_one conv_a "$dir/conv_a.model" "$dir/img.npy"
export_one conv_b "$dir/conv_b.model" "$dir/img.npy"
export_one vae "$src/models/vae.model" "$dir/img.npy"

# Tabular: 30 columns far from 0 and 1, so a missing or misplaced scaling shows.
awk 'BEGIN { srand(5); for (i = 0; i < 120; i++) { printf "%.4f", 10 + rand();
                                           for (j = 2; j <= 30; j++) printf ",%.4f", 10 * j + rand() * j; print "" } }' >"$dir/tab.csv"
"$py" -c "
import numpy as np
np.save('$dir/tab.npy', np.loadtxt('$dir/tab.csv', delimiter=',', dtype=np.float32)[:40])
" || exit 1
export_one tab_std "$src/models/tabular.model" "$dir/tab.npy" --data "$dir/tab.csv" --scale standard
export_one tab_minmax "$src/models/tabular.model" "$dir/tab.npy" --data "$dir/tab.csv" --scale minmax
ok 'head -c 4000 "$dir/tab_std.st" | grep -a -q "\"aecl.scaling\":\"standard 30 "'

"$py" "$check" onnx "$dir/cases"
ok '[ $? -eq 0 ]'
if [ $torch = 1 ]; then
    "$py" "$check" torch "$dir/cases"
    ok '[ $? -eq 0 ]'
fi

# The examples of docs/interchange.md run as they are, next to the files they name.
doc_example() {   # NAME: the python block between <!-- NAME begin --> and <!-- NAME end -->
    sed -n "/^<!-- $1 begin -->/,/^<!-- $1 end -->/p" "$src/docs/interchange.md" | sed '1,2d;$d' | sed '$d'
}
mkdir "$dir/doc" && cp "$dir/mlp.st" "$dir/doc/mlp.safetensors" && cp "$dir/mlp.encoder.onnx" "$dir/doc/" &&
    cp "$dir/mlp_model.py" "$dir/doc/" || ok false
out=$(cd "$dir/doc" && doc_example "onnx example" | "$py" - 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "^input \[.N., 1, 28, 28\]" <<<"$out" && grep -q "^code \[.N., 32\]" <<<"$out" && grep -qx encoder <<<"$out"' ||
    echo "$out"
if [ $torch = 1 ]; then
    out=$(cd "$dir/doc" && doc_example "torch example" | "$py" - 2>&1); rc=$?
    ok '[ $rc -eq 0 ] && grep -q "^(8, 32) (8, 1, 28, 28)" <<<"$out" && grep -q "decoder.0.bias.*none$" <<<"$out"' || echo "$out"
fi

# The checker can fail: another model's ONNX files against the mlp's outputs.
echo "wrong $dir/denoising.st $dir/denoising - $dir/img.npy $dir/mlp.codes.npy $dir/mlp.recon.npy" >"$dir/wrong"
"$py" "$check" onnx "$dir/wrong" >"$dir/neg.log" 2>&1; rc=$?
ok '[ $rc -eq 1 ] && grep -q "^FAILED: wrong: encoder (batch 40) code" "$dir/neg.log"'

# --part and a prefix ending in .onnx; --opt=value.
out=$("$aecl" export "$dir/mlp.st" --onnx="$dir/only.onnx" --part encoder,full 2>&1); rc=$?
ok '[ $rc -eq 0 ] && [ -s "$dir/only.encoder.onnx" ] && [ -s "$dir/only.onnx" ] && [ ! -e "$dir/only.decoder.onnx" ]'
# Export needs no device: a device selector that matches nothing changes nothing.
out=$(AECL_DEVICE="no such device" "$aecl" export "$dir/mlp.st" --torch "$dir/nodev.py" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && [ -s "$dir/nodev.py" ]'
# A checkpoint exports like a weights file (its optimizer state is left out).
"$aecl" train "$src/models/tabular.model" --data "$dir/tab.csv" --epochs 1 --val-limit 0 --checkpoint "$dir/ck.st" \
    --out "$dir/ckw.st" >/dev/null 2>&1
out=$("$aecl" export "$dir/ck.st" --onnx "$dir/ck" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && cmp -s "$dir/ck.onnx" <("$aecl" export "$dir/ckw.st" --onnx "$dir/ckw" >/dev/null && cat "$dir/ckw.onnx")'

# Mistakes: exit 2 for options, 1 for files, a message naming the problem, nothing written.
for bad in "" "--onnx" "--part encoder" "--onnx $dir/x --part bogus" "--onnx $dir/x --part encoder,," \
           "--frobnicate 1" "--torch="; do
    err=$("$aecl" export "$dir/mlp.st" $bad 2>&1 >/dev/null); rc=$?
    ok '[ $rc -eq 2 ] && grep -q "aecl export: " <<<"$err"' || echo "   (options: $bad)"
done
err=$("$aecl" export --onnx "$dir/x" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 2 ] && grep -q "no weights file" <<<"$err"'
err=$("$aecl" export "$dir/missing.st" --onnx "$dir/m" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "missing.st" <<<"$err" && [ ! -e "$dir/m.onnx" ]'
err=$("$aecl" export "$dir/mlp.st" --onnx "$dir/nofolder/m" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "nofolder" <<<"$err"'
# A weights file missing a tensor, or with one of the wrong shape: named, nothing written.
"$py" - "$dir/mlp.st" "$dir" <<'EOF' || ok false
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head, data = json.loads(raw[8:8 + n]), raw[8 + n:]
def write(path, h):
    text = json.dumps(h).encode()
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + data)
h = dict(head); del h["latent.bias"]
write(sys.argv[2] + "/drop.st", h)
h = dict(head); h["latent.bias"] = dict(head["latent.bias"], shape=[2, 16])
write(sys.argv[2] + "/shape.st", h)
b = head["latent.bias"]["data_offsets"][0] + 4 * 3          # latent.bias[3] = NaN
data = data[:b] + struct.pack("<f", float("nan")) + data[b + 4:]
write(sys.argv[2] + "/nan.st", head)
EOF
err=$("$aecl" export "$dir/drop.st" --onnx "$dir/drop" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "latent.bias. is missing" <<<"$err" && [ ! -e "$dir/drop.onnx" ]'
err=$("$aecl" export "$dir/shape.st" --torch "$dir/shape.py" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "latent.bias. has the wrong shape" <<<"$err" && [ ! -e "$dir/shape.py" ]'
err=$("$aecl" export "$dir/nan.st" --onnx "$dir/nan" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "latent.bias. holds a non-finite value (value 3 is NaN)" <<<"$err" && [ ! -e "$dir/nan.onnx" ]'
# An existing output is replaced whole, or kept when the export fails.
echo keep >"$dir/keep.onnx"
"$aecl" export "$dir/drop.st" --onnx "$dir/keep" --part full >/dev/null 2>&1
ok '[ "$(cat "$dir/keep.onnx")" = keep ]'
out=$("$aecl" export --help); rc=$?
ok '[ $rc -eq 0 ] && grep -q "usage: aecl export" <<<"$out"'

[ $torch = 1 ] || echo "NOTE: python3-torch is not installed: the PyTorch module checks were skipped"
echo "cli_export: $pass passed, $fail failed"
[ $fail -eq 0 ]

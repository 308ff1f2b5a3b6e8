#!/bin/bash
# .npy data of every dtype and order through the CLI: the same values stored as
# float32 C order, float64 Fortran order, uint8 and int64 give the same training,
# the same codes and the same labels; an unsupported dtype is reported as the
# file's format (never as a device's fault). The files are written byte by byte
# with Python's struct (numpy is not needed).
aecl="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
models="$(cd "${AECL_SOURCE_DIR:-$(dirname "$0")/..}" && pwd)/models"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d /tmp/aecl-cli-npy-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# 48 images of 28x28: pixel p(i, j) in 0..255; as p/255 in float32 (C order) and
# float64 (Fortran order: column by column), and p itself as uint8 and float32.
python3 - <<'EOF' || exit 1
import struct

def npy(name, descr, fortran, shape, values):
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (descr, fortran, dims)
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    code = {"f4": "f", "f8": "d", "u1": "B", "i8": "q", "c8": "ff"}[descr[1:]]
    with open(name, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())
        for v in values:
            f.write(struct.pack(descr[0].replace("|", "<") + code, *(v if isinstance(v, tuple) else (v,))))

n, w = 48, 784
p = [[(i * 37 + j * 11 + (i * j) % 7) % 256 for j in range(w)] for i in range(n)]
c_order = lambda m: [m[i][j] for i in range(n) for j in range(w)]
f_order = lambda m: [m[i][j] for j in range(w) for i in range(n)]
unit = [[v / 255.0 for v in row] for row in p]
npy("f32.npy", "<f4", False, (n, w), c_order(unit))
npy("f64f.npy", "<f8", True, (n, w), f_order(unit))
npy("f64be.npy", ">f8", False, (n, w), c_order(unit))
npy("raw32.npy", "<f4", False, (n, w), c_order(p))
npy("u8.npy", "|u1", False, (n, w), c_order(p))
labels = [(i * 7) % 10 for i in range(n)]
npy("lab_u8.npy", "|u1", False, (n,), labels)
npy("lab_i8.npy", "<i8", False, (n,), labels)
npy("lab_f8.npy", "<f8", False, (n,), [float(v) for v in labels])
npy("lab_half.npy", "<f8", False, (n,), [v + 0.5 for v in labels])
npy("c8.npy", "<c8", False, (n, w), [(0.0, 0.0)] * (n * w))
EOF

# Training on float64 Fortran order is training on the float32 file of the same
# values: the same validation losses, and weights that encode alike.
train() {
    "$aecl" train "$models/mlp.model" --data "$1" --val-data "$2" --epochs 1 --limit 32 --batch 16 --seed 5 \
        --out "$3" 2>&1
}
o32=$(train f32.npy f32.npy w32.st); rc32=$?
o64=$(train f64f.npy f64be.npy w64.st); rc64=$?
losses() { grep -o 'val loss [0-9.e+-]*' <<<"$1"; }
ok '[ $rc32 -eq 0 ] && [ $rc64 -eq 0 ] && [ -n "$(losses "$o32")" ] && [ "$(losses "$o32")" = "$(losses "$o64")" ]'
ok 'grep -q "on 32 samples of f64f.npy" <<<"$o64" && grep -q "samples of f64be.npy" <<<"$o64"'
"$aecl" encode w32.st --data f32.npy --out c32.npy >/dev/null && "$aecl" encode w64.st --data f32.npy --out c64w.npy >/dev/null
ok '[ -s c32.npy ] && cmp -s c32.npy c64w.npy'

# encode reads every dtype and order to the same values.
"$aecl" encode w32.st --data f64f.npy --out c64.npy >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && cmp -s c32.npy c64.npy'
"$aecl" encode w32.st --data f64be.npy --out cbe.npy >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && cmp -s c32.npy cbe.npy'
"$aecl" encode w32.st --data raw32.npy --out craw.npy >/dev/null && "$aecl" encode w32.st --data u8.npy --out cu8.npy >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s craw.npy ] && cmp -s craw.npy cu8.npy && ! cmp -s craw.npy c32.npy'
# uint8 data trains too (its values as they are: 0..255).
"$aecl" train "$models/mlp.model" --data u8.npy --epochs 1 --limit 16 --batch 16 --val-split 0 --out wu8.st >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -s wu8.st ]'

# Labels from any integer .npy, or whole floats: the same label column.
for l in lab_u8 lab_i8 lab_f8; do
    "$aecl" encode w32.st --data f64f.npy --labels $l.npy --limit 10 --out $l.csv >/dev/null || echo "encode --labels $l.npy failed"
done
ok '[ "$(tail -n +2 lab_u8.csv | cut -d, -f33 | tr "\n" " ")" = "0 7 4 1 8 5 2 9 6 3 " ] && cmp -s lab_u8.csv lab_i8.csv && cmp -s lab_u8.csv lab_f8.csv'
err=$("$aecl" encode w32.st --data f32.npy --labels lab_half.npy --out h.csv 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "lab_half.npy.: label 0 is 0.5: labels are whole numbers" <<<"$err" && [ ! -e h.csv ]'

# aecl train --class K on .npy data with --labels: the first 32 samples hold
# class 7 at 1, 11, 21 and 31 (labels (7 i) mod 10).
out=$("$aecl" train "$models/mlp.model" --data f64f.npy --labels lab_i8.npy --class 7 --limit 32 --epochs 1 \
    --val-split 0 --out wc.st 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "on 4 samples of f64f.npy (class 7)" <<<"$out"'
err=$("$aecl" train "$models/mlp.model" --data f64f.npy --class 7 --out wn.st 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "or --labels FILE for .npy or IDX file data" <<<"$err" && [ ! -e wn.st ]'
err=$("$aecl" train "$models/mlp.model" --data f64f.npy --labels lab_half.npy --class 7 --out wn.st 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "label 0 is 0.5" <<<"$err" && [ ! -e wn.st ]'
"$aecl" train "$models/mlp.model" --data "$tmp" --labels lab_i8.npy --out wn.st >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e wn.st ]'

# An unsupported dtype is the file's format, in train and in the other commands.
for cmd in "train $models/mlp.model --out x.st" "encode w32.st --out x.npy" "eval w32.st"; do
    err=$("$aecl" $cmd --data c8.npy 2>&1); rc=$?
    ok "[ $rc -eq 1 ] && grep -q \"c8.npy: dtype '<c8' (complex64) is not supported: aecl reads float32, float64, uint8, int32, int64\" <<<\"\$err\" && ! grep -qi device <<<\"\${err#*: dtype}\" && ! grep -q 'unsupported by this device' <<<\"\$err\"   # $cmd"
done
ok '[ ! -e x.st ] && [ ! -e x.npy ]'

echo "cli_npy: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

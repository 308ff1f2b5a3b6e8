#!/bin/bash
# aecl train --init: training starts from a weights file's parameters. Checked by
# a near-zero learning rate (the written tensors equal the init file's bit for bit),
# by a file written from plain Python (struct + json, the safetensors layout, aecl's
# tensor names, no metadata) whose known weights give a known first-step loss, by a
# kept data scaling, and by the error of each kind of bad file or option.
aecl="$1"
src="${AECL_SOURCE_DIR:-$(dirname "$0")/..}"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
dir=$(mktemp -d /tmp/aecl-cli-init-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
mlp="$src/models/mlp.model" tab="$src/models/tabular.model"
fmnist=/usr/share/datasets/fashion-mnist
small="--limit 256 --val-limit 0 --batch 64 --epochs 1"
# Adam moves each weight by about lr per step: 1e-30 is below a float32 step of
# any nonzero weight here, so a run at this rate writes back what it started from.
still="--lr 1e-30"

# safetensors without numpy: the writer is docs/interchange.md's (run as it is
# there); st.py reads a file's tensors, writes tensors without metadata through
# it, and compares two files' tensors byte for byte.
sed -n '/<!-- init writer begin -->/,/<!-- init writer end -->/p' "$src/docs/interchange.md" | grep -v '^<!--\|^```' \
    >"$dir/writer.py"
cat >"$dir/st.py" <<'EOF'
import json, math, struct, sys
from writer import write_safetensors

def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    meta = head.pop("__metadata__", {})
    return {k: (v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in head.items()}, meta

def floats(raw):
    return list(struct.unpack("<%df" % (len(raw) // 4), raw))

def write(path, tensors):   # {name: (shape, raw F32 bytes)}, through the documented writer
    write_safetensors(path, {k: (shape, floats(raw)) for k, (shape, raw) in tensors.items()})

cmd = sys.argv[1]
if cmd == "same":          # same.py A B: every tensor of A equal in B (B may hold more)
    a, _ = read(sys.argv[2]); b, _ = read(sys.argv[3])
    bad = [k for k in a if k not in b or a[k] != b[k]]
    print("differ:", bad[:3]) if bad else None
    sys.exit(1 if bad else 0)
elif cmd == "meta":        # meta.py FILE KEY: prints the value
    print(read(sys.argv[2])[1].get(sys.argv[3], "(absent)"))
elif cmd == "strip":       # strip IN OUT [drop=NAME] [shape=NAME] [extra=NAME] [nan=NAME]: no metadata
    t, _ = read(sys.argv[2])
    t = {k: v for k, v in t.items() if not k.startswith("best.") and not k.endswith((".m", ".v"))}
    for op in sys.argv[4:]:
        what, name = op.split("=")
        if what == "drop":
            del t[name]
        elif what == "shape":
            t[name] = (list(reversed(t[name][0])), t[name][1])
        elif what == "extra":
            t[name] = ([2], struct.pack("<2f", 0, 0))
        elif what == "nan":
            shape, raw = t[name]
            t[name] = (shape, struct.pack("<f", math.nan) + raw[4:])
    write(sys.argv[3], t)
elif cmd == "zeros":       # zeros LIKE OUT BIAS: LIKE's names and shapes, every value 0 but
    t, _ = read(sys.argv[2])  # the output layer's bias, BIAS everywhere
    out = {}
    for k, (shape, raw) in t.items():
        n = len(raw) // 4
        v = float(sys.argv[4]) if k == "decoder.2.bias" else 0.0
        out[k] = (shape, struct.pack("<%df" % n, *([v] * n)))
    write(sys.argv[3], out)
elif cmd == "expect":      # expect IDX.gz N BIAS: mean (x - sigmoid(BIAS))^2 over N images' pixels
    import gzip
    with gzip.open(sys.argv[2], "rb") as f:
        _, n, h, w = struct.unpack(">4I", f.read(16))
        k = int(sys.argv[3]) * h * w
        pix = f.read(k)
    y = 1 / (1 + math.exp(-float(sys.argv[4])))
    print("%.9g" % (sum((p / 255 - y) ** 2 for p in pix) / k))
EOF
st() { python3 "$dir/st.py" "$@"; }
# The first epoch's training loss from a --history file.
hist_loss() { awk -F, 'NR == 2 { print $2 }' "$1"; }

"$aecl" train "$mlp" $small --out "$dir/a.st" >/dev/null 2>&1
ok '[ -s "$dir/a.st" ]'

# (a) A run from a.st at rate ~0 writes a.st's tensors back, with the model text;
# aecl eval gives the same losses. A run that ignored --init would write the seed's.
out=$("$aecl" train "$mlp" $small $still --init "$dir/a.st" --out "$dir/b.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "starting from the weights in .*a.st (its model text describes the same network)" <<<"$out"'
ok 'st same "$dir/a.st" "$dir/b.st" && st same "$dir/b.st" "$dir/a.st"'
ok '[ "$(st meta "$dir/b.st" aecl.model)" = "$(st meta "$dir/a.st" aecl.model)" ]'
ok '[ "$(st meta "$dir/b.st" aecl.train.init)" = "$dir/a.st" ]'
ea=$("$aecl" eval "$dir/a.st" --limit 200 2>&1 | sed 's/^[^ ]* //'); eb=$("$aecl" eval "$dir/b.st" --limit 200 2>&1 | sed 's/^[^ ]* //')
ok '[ -n "$ea" ] && [ "$ea" = "$eb" ]'
"$aecl" train "$mlp" $small $still --out "$dir/seed.st" >/dev/null 2>&1
ok '! st same "$dir/a.st" "$dir/seed.st" >/dev/null'
# MODEL left out: the file's model text; the same run gives the same file.
out=$("$aecl" train $small $still --init "$dir/a.st" --out "$dir/c.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "^training .*a.st (vanilla" <<<"$out" && grep -q "(and the model text inside it)" <<<"$out"'
ok 'cmp -s "$dir/b.st" "$dir/c.st"'
# The same network under other training settings and kind: denoising.model is
# mlp.model with input noise. A checkpoint's parameters work too.
out=$("$aecl" train "$src/models/denoising.model" $small --init "$dir/a.st" --out "$dir/d.st" --checkpoint "$dir/ck.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && [ "$(st meta "$dir/d.st" aecl.noise)" = "gaussian:0.5" ]'
"$aecl" train "$mlp" $small $still --init "$dir/ck.st" --out "$dir/e.st" >/dev/null 2>&1
ok 'st same "$dir/e.st" "$dir/ck.st"'

# (b) A file from plain Python with the documented names and no metadata: all
# weights 0 and the output bias 2, so every reconstruction is sigmoid(2) = 0.881
# and the first step's loss (one batch of all 64 samples) is known exactly. The
# seed's weights give another loss; the written file has the model text.
st zeros "$dir/a.st" "$dir/z.st" 2
ok '[ "$(st meta "$dir/z.st" aecl.model)" = "(absent)" ]'
want=$(st expect "$fmnist/train-images-idx3-ubyte.gz" 64 2)
one="--limit 64 --batch 64 --val-split 0 --epochs 1"
out=$("$aecl" train "$mlp" $one --init "$dir/z.st" --history "$dir/z.csv" --out "$dir/zt.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "(no model text inside: its tensors fit the model by name and shape)" <<<"$out"'
got=$(hist_loss "$dir/z.csv")
echo "first-step loss from the Python-made file: $got (expected $want)"
ok 'awk -v g="$got" -v w="$want" "BEGIN { d = g - w; exit !(w > 0.1 && (d < 0 ? -d : d) <= 1e-5 * w) }"'
"$aecl" train "$mlp" $one --history "$dir/s.csv" --out "$dir/st.st" >/dev/null 2>&1
ok 'awk -v g="$(hist_loss "$dir/s.csv")" -v w="$want" "BEGIN { d = g - w; exit !((d < 0 ? -d : d) > 1e-2 * w) }"'
ok '[ "$(st meta "$dir/zt.st" aecl.model)" = "$(st meta "$dir/a.st" aecl.model)" ] && "$aecl" eval "$dir/zt.st" --limit 50 >/dev/null 2>&1'
# The same tensors from a.st without metadata: a rate ~0 run gives a.st's tensors.
st strip "$dir/a.st" "$dir/p.st"
"$aecl" train "$mlp" $small $still --init "$dir/p.st" --out "$dir/pt.st" >/dev/null 2>&1
ok 'st same "$dir/a.st" "$dir/pt.st"'

# A data scaling in the init file is kept, not fitted again on the new data
# (here 100 of the 200 rows), and goes into the written file.
awk 'BEGIN { srand(5); for (i = 0; i < 200; i++) { for (j = 1; j <= 30; j++) printf "%s%.4f", (j > 1 ? "," : ""), 10 * j + rand() * j; print "" } }' >"$dir/tab.csv"
"$aecl" train "$tab" --data "$dir/tab.csv" --scale standard --val-limit 0 --epochs 1 --out "$dir/t.st" >/dev/null 2>&1
out=$("$aecl" train "$tab" --data "$dir/tab.csv" --limit 100 --val-limit 0 --epochs 1 $still --init "$dir/t.st" --out "$dir/t2.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "its standard scaling is kept" <<<"$out" && st same "$dir/t.st" "$dir/t2.st"'
ok '[ "$(st meta "$dir/t2.st" aecl.scaling)" = "$(st meta "$dir/t.st" aecl.scaling)" ] && [ "$(st meta "$dir/t.st" aecl.scaling)" != none ]'
ok '[ "$("$aecl" eval "$dir/t.st" --data "$dir/tab.csv" 2>&1 | sed "s/^[^ ]* //")" = "$("$aecl" eval "$dir/t2.st" --data "$dir/tab.csv" 2>&1 | sed "s/^[^ ]* //")" ]'
"$aecl" train "$tab" --data "$dir/tab.csv" --limit 100 --val-limit 0 --epochs 1 --scale standard --init "$dir/t.st" --out "$dir/t3.st" >/dev/null 2>&1
ok '[ "$(st meta "$dir/t3.st" aecl.scaling)" = "$(st meta "$dir/t.st" aecl.scaling)" ]'
err=$("$aecl" train "$tab" --data "$dir/tab.csv" --epochs 1 --scale minmax --init "$dir/t.st" --out "$dir/t4.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q -- "scale minmax: .*standard-scaled data" <<<"$err" && [ ! -e "$dir/t4.st" ]'

# A run resumed from a checkpoint keeps its scaling the same way: without --scale
# it ends with the uninterrupted run's file (it would train on unscaled rows if the
# checkpoint's scaling were dropped); another --scale is refused.
tabrun="--data $dir/tab.csv --val-limit 0 --batch 50"
"$aecl" train "$tab" $tabrun --scale standard --epochs 2 --out "$dir/tfull.st" >/dev/null 2>&1
"$aecl" train "$tab" $tabrun --scale standard --epochs 1 --checkpoint "$dir/tck.st" --out "$dir/t1.st" >/dev/null 2>&1
"$aecl" train "$tab" $tabrun --epochs 2 --resume "$dir/tck.st" --checkpoint "$dir/tck2.st" --out "$dir/tres.st" >/dev/null 2>&1
ok '[ -s "$dir/tfull.st" ] && cmp -s "$dir/tfull.st" "$dir/tres.st"'
err=$("$aecl" train "$tab" $tabrun --scale minmax --epochs 2 --resume "$dir/tck.st" --out "$dir/tres2.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q -- "scale minmax: .*standard-scaled data and resume keeps" <<<"$err" && [ ! -e "$dir/tres2.st" ]'

# (c) Bad files: each error names the file and the tensor, exits 1, writes nothing
# and keeps an existing --out file.
echo keep >"$dir/keep.st"
bad_file() {   # bad_file FILE PATTERN [MODEL]
    err=$("$aecl" train "${3:-$mlp}" $small --init "$1" --out "$dir/keep.st" 2>&1 >/dev/null); rc=$?
    ok "[ $rc -eq 1 ] && grep -q \"$2\" <<<\"\$err\" && [ \"\$(cat \"$dir/keep.st\")\" = keep ]"
}
st strip "$dir/a.st" "$dir/miss.st" drop=decoder.2.bias
bad_file "$dir/miss.st" "miss.st: tensor 'decoder.2.bias' is missing"
st strip "$dir/a.st" "$dir/shape.st" shape=encoder.1.weight
bad_file "$dir/shape.st" "shape.st: tensor 'encoder.1.weight' has the wrong shape 784x512 (the model needs 512x784)"
st strip "$dir/a.st" "$dir/extra.st" extra=encoder.1.running_mean
bad_file "$dir/extra.st" "extra.st: tensor 'encoder.1.running_mean' is not one of the model's 12 tensors"
st strip "$dir/a.st" "$dir/nan.st" nan=latent.bias
bad_file "$dir/nan.st" "tensor 'latent.bias' holds NaN"
bad_file "$dir/none.st" "none.st"
# Another network: the first difference, by layer as in the tensor names.
sed 's/^dense 512 relu/dense 256 relu/' "$mlp" >"$dir/mlp256.model"
bad_file "$dir/a.st" "another network than the model: encoder layer 1 is 'dense 512 relu' in the file, 'dense 256 relu' in the model" "$dir/mlp256.model"
bad_file "$dir/a.st" "another network than the model: kind vanilla in the file, variational in the model" "$src/models/vae.model"
# No model text and no model file.
err=$("$aecl" train $small --init "$dir/p.st" --out "$dir/keep.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "p.st has no model text" <<<"$err" && [ "$(cat "$dir/keep.st")" = keep ]'
# Options: --init and --resume exclude each other (2, before anything is read).
err=$("$aecl" train "$mlp" $small --init "$dir/a.st" --resume "$dir/ck.st" --out "$dir/keep.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 2 ] && grep -q -- "--init and --resume exclude each other" <<<"$err"'
err=$("$aecl" train $small --out "$dir/keep.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 2 ] && grep -q "no model file given" <<<"$err"'
err=$("$aecl" train "$mlp" $small --init= --out "$dir/keep.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 2 ]'

echo "cli_init: $pass passed, $fail failed"
[ $fail -eq 0 ]

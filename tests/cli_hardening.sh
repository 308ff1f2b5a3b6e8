#!/bin/bash
# Hostile and broken input to the aecl program: numeric options that are not
# finite or overflow a float, weights and data holding NaN, output paths that
# cannot be written, checkpoints that cannot be trusted. Each must end with a
# clear message and the right exit status (2: a bad option, 1: a bad file or a
# failed run), and lose nothing.
aecl="$1"
src="${AECL_SOURCE_DIR:-$(dirname "$0")/..}"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}" POCL_DEVICES="${POCL_DEVICES:-pthread}"
dir=$(mktemp -d /tmp/aecl-cli-hardening-XXXXXX)
trap 'chmod -R u+w "$dir"; rm -rf "$dir"' EXIT
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); return 1; fi; }
mlp="$src/models/mlp.model"
tiny="--limit 64 --val-limit 0 --batch 64 --epochs 1"
"$aecl" train "$mlp" $tiny --out "$dir/good.st" >/dev/null 2>&1
ok '[ -s "$dir/good.st" ]'

# ---- numbers: non-finite and float-overflowing option values are usage errors ----
k=0
for bad in "--lr 1e39" "--lr inf" "--lr nan" "--lr -inf" "--val-split nan" "--limit 99999999999999999999" \
           "--epochs 4294967297" "--seed 1e3"; do
    k=$((k+1))
    err=$("$aecl" train "$mlp" $tiny $bad --out "$dir/opt$k.st" 2>&1 >/dev/null); rc=$?
    ok '[ $rc -eq 2 ] && grep -q "aecl train: bad value for" <<<"$err" && [ ! -e "$dir/opt$k.st" ]' || echo "   ($bad)"
done
for bad in "--threshold inf" "--threshold nan" "--threshold 1e39" "--contamination nan" "--ref-limit 1e3"; do
    err=$("$aecl" anomaly "$dir/good.st" --limit 10 $bad 2>&1 >/dev/null); rc=$?
    ok '[ $rc -eq 2 ] && grep -q "bad value for" <<<"$err"' || echo "   ($bad)"
done
err=$("$aecl" encode "$dir/good.st" --seed 99999999999999999999 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 2 ] && grep -q "bad value for --seed" <<<"$err"'

# ---- NaN: weights holding NaN give errors, never printed or written NaN ----------
python3 - "$dir/good.st" "$dir/nan.st" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
data = b[8 + n:]
open(sys.argv[2], "wb").write(b[:8 + n] + struct.pack("<f", float("nan")) * (len(data) // 4))
EOF
out=$("$aecl" eval "$dir/nan.st" --limit 20 2>&1); rc=$?
ok '[ $rc -eq 1 ] && grep -q "the loss of sample 0 is NaN" <<<"$out" && ! grep -qi "nan dB\|loss -\?nan\|PSNR inf" <<<"$out"'
err=$("$aecl" encode "$dir/nan.st" --limit 20 --out "$dir/codes.csv" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "the code of sample 0 is NaN" <<<"$err" && [ ! -e "$dir/codes.csv" ]'
err=$("$aecl" anomaly "$dir/nan.st" --limit 20 --contamination 0.1 --out "$dir/scores.csv" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "the score of sample 0 is NaN" <<<"$err" && [ ! -e "$dir/scores.csv" ]'
# NaN in .npy and float IDX input: refused naming the file and the first bad value.
python3 - "$dir" <<'EOF'
import struct, sys
d = sys.argv[1]
vals = [0.5] * (3 * 784)
vals[784 + 17] = float("nan")
h = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 784), }"
h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
open(d + "/nan.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()
                                 + struct.pack("<%df" % len(vals), *vals))
vals[784 + 17] = 0.5
vals[2 * 784] = float("inf")
open(d + "/inf.idx", "wb").write(bytes([0, 0, 0x0D, 3]) + struct.pack(">III", 3, 28, 28)
                                 + struct.pack(">%df" % len(vals), *vals))
EOF
err=$("$aecl" eval "$dir/good.st" --data "$dir/nan.npy" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "nan.npy.*value 801 (row 1, column 17) is NaN" <<<"$err"'
err=$("$aecl" eval "$dir/good.st" --data "$dir/inf.idx" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "inf.idx: value 1568 (item 2, value 0 of it) is infinite" <<<"$err"'

# ---- outputs are checked before the work: nothing trained, nothing loaded ---------
# (folders named like pictures and arrays too: a picture must be a .png, an array a .npy or .csv)
# (a FIFO is written in place and a link through: tests/cli_outputs.sh; a socket is refused)
mkdir -p "$dir/outdir" "$dir/outdir.png" "$dir/outdir.npy"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$dir/sock"
for out in "--out $dir/outdir" "--out $dir/outdir/" "--out $dir/no/such/w.st" "--out $dir/sock" \
           "--out $dir/w.st --checkpoint /proc/aecl-ck.st" "--out $dir/w.st --checkpoint $dir/outdir"; do
    res=$("$aecl" train "$mlp" $tiny $out 2>&1); rc=$?
    ok '[ $rc -eq 1 ] && grep -q "aecl train: cannot write" <<<"$res" && ! grep -q "^training\|^epoch" <<<"$res"' \
        || echo "   ($out)"
done
ok '[ -S "$dir/sock" ] && [ ! -e "$dir/w.st" ]'
for cmd in "eval $dir/good.st --grid $dir/outdir.png" "eval $dir/good.st --per-sample $dir/outdir/" \
           "encode $dir/good.st --out /proc/codes.csv" "anomaly $dir/good.st --out $dir/outdir" \
           "compress $dir/good.st --out $dir/no/c.codes" "sample $dir/good.st --npy $dir/outdir.npy" \
           "scatter $dir/good.st --out $dir/outdir.png" "denoise $dir/good.st --out $dir/outdir"; do
    res=$("$aecl" $cmd 2>&1); rc=$?
    ok '[ $rc -eq 1 ] && grep -q "cannot write" <<<"$res" && ! grep -q "samples" <<<"$res"' || echo "   ($cmd)"
done
# Scaling without validation data (--val-limit 0): it was applied to the empty set,
# which failed with a bare "tensor shape mismatch".
awk 'BEGIN { srand(5); for (j = 1; j <= 30; j++) printf "f%d,", j; print "label";
             for (i = 0; i < 100; i++) { for (j = 1; j <= 30; j++) printf "%.4f,", 10 * j + rand() * j; print i % 2 } }' \
    >"$dir/tab.csv"
for kind in minmax standard; do
    res=$("$aecl" train "$src/models/tabular.model" --data "$dir/tab.csv" --label-column label --scale $kind \
          --val-limit 0 --epochs 1 --out "$dir/tab-$kind.st" 2>&1); rc=$?
    ok '[ $rc -eq 0 ] && head -c 4000 "$dir/tab-$kind.st" | grep -a -q "\"aecl.scaling\":\"$kind 30 "' || echo "   ($kind: $res)"
done

# --device "" was the default device, silently: now a bad option (exit 2).
for cmd in selftest "eval $dir/good.st"; do
    err=$("$aecl" $cmd --device "" 2>&1 >/dev/null); rc=$?
    ok '[ $rc -eq 2 ] && grep -q "empty selector" <<<"$err"'
done

ok '[ -z "$(find "$dir" -name ".*.tmp-*")" ]'   # no temp files left behind
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

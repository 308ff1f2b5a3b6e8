#!/bin/bash
# aecl train end to end on small data: IDX and CSV input, scaling in the weights
# file, exact resume from checkpoints, schedules, early stopping, divergence, and
# the exit status of every kind of mistake (2: a bad option, 1: a bad file).
aecl="$1"
src="${AECL_SOURCE_DIR:-$(dirname "$0")/..}"
# The device these checks mean: PoCL's CPU device (its platform name is the same in
# every PoCL release), unless the caller names another.
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
dir=$(mktemp -d /tmp/aecl-cli-train-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
mlp="$src/models/mlp.model" tab="$src/models/tabular.model"
small="--limit 300 --val-limit 100 --batch 64"

# IDX (the default data): plain lines when stdout is not a terminal; the weights load.
out=$("$aecl" train "$mlp" $small --epochs 1 --out "$dir/w1.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && [ -s "$dir/w1.st" ]'
ok 'grep -q "epoch 1/1  train loss [0-9.]*  val loss" <<<"$out" && ! grep -q $'"'"'\r'"'"' <<<"$out"'
# Validation is a seeded 10% held out from the (limited) training data, said in the header;
# progress shows the kernel build, then a plain line from the first step (not after 10).
ok 'grep -q "on 270 samples of" <<<"$out" && grep -q "validating on 30 samples held out from the training data" <<<"$out"'
ok 'grep -q "^building kernels\.\.\.$" <<<"$out" && grep -q "^epoch 1/1 step 1/5  loss [0-9.]*  -- samples/s  ETA --$" <<<"$out" && grep -q "^epoch 1/1  train loss .*  [0-9][0-9]* samples/s" <<<"$out"'
ok '[ "$(grep -n "^building" <<<"$out" | cut -d: -f1)" -lt "$(grep -n "step 1/5" <<<"$out" | cut -d: -f1)" ]'
# ... and, once the first step has run every kind of kernel (compiled then on PoCL), one line
ok '[ "$(grep -n "^kernels ready: [1-9][0-9]* in [0-9.]* s$" <<<"$out" | cut -d: -f1)" -lt "$(grep -n "step 1/5" <<<"$out" | cut -d: -f1)" ]'
# On a terminal: a bar redrawn in place (\r) with the ETA.
if command -v script >/dev/null; then
    out=$(script -qec "'$aecl' train '$mlp' $small --epochs=1 --report-every=1 --out '$dir/tty.st'" /dev/null 2>&1)
    ok 'grep -q $'"'"'\r'"'"' <<<"$out" && grep -q "\[#*  *\] step 1/5 .*ETA" <<<"$out" && grep -q "building kernels" <<<"$out"'
    # the build counted up in place: building kernels... 1/N, ..., N/N
    n=$(tr '\r' '\n' <<<"$out" | grep -o "building kernels\.\.\. [0-9]*/[0-9]*" | tail -n 1 | cut -d/ -f2)
    ok '[ -n "$n" ] && tr "\r" "\n" <<<"$out" | grep -q "building kernels\.\.\. 1/$n" && tr "\r" "\n" <<<"$out" | grep -q "building kernels\.\.\. $n/$n"'
fi
# --val-data test: the folder's test files, named as such; --val-limit 0: no validation.
out=$("$aecl" train "$mlp" $small --epochs 1 --val-data test --out "$dir/w2.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "on 300 samples.*" <<<"$out" && grep -q "validating on 100 samples of .*t10k.*(the test set)" <<<"$out"'
out=$("$aecl" train "$mlp" --limit 300 --val-limit 0 --batch 64 --epochs 1 --out "$dir/w3.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "on 300 samples" <<<"$out" && grep -q "no validation" <<<"$out"'
out=$("$aecl" eval "$dir/w1.st" --limit 100 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "loss" <<<"$out"'

# Resuming a run from an epoch-boundary or a mid-epoch checkpoint gives the same file.
sched="--schedule step:1:0.5"
# The resumed run continues the history file it names: its epochs and losses are the
# uninterrupted run's (a row the first run wrote for epoch 2 is dropped, not repeated).
"$aecl" train "$mlp" $small $sched --epochs 2 --out "$dir/full.st" --history "$dir/hfull.csv" >/dev/null 2>&1
"$aecl" train "$mlp" $small $sched --epochs 1 --out "$dir/e1.st" --checkpoint "$dir/ck.st" --history "$dir/hres.csv" \
    >/dev/null 2>&1
tail -n 1 "$dir/hres.csv" | sed 's/^1,/2,/' >>"$dir/hres.csv"   # as if killed after epoch 2's history line
out=$("$aecl" train "$mlp" $small $sched --epochs 2 --out "$dir/res.st" --resume "$dir/ck.st" --history "$dir/hres.csv" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && cmp -s "$dir/full.st" "$dir/res.st" && grep -q "resuming from" <<<"$out"'
ok '[ $(grep -c "^epoch [0-9]*/[0-9]*  train loss" <<<"$out") -eq 1 ]'
ok '[ "$(cut -d, -f1,2,5,6 "$dir/hfull.csv")" = "$(cut -d, -f1,2,5,6 "$dir/hres.csv")" ] && [ $(wc -l <"$dir/hres.csv") -eq 3 ]'
# A history file that is not one is refused before training, and left as it was.
printf 'epoch,notes\nsomething else\n' >"$dir/notes.csv"
err=$("$aecl" train "$mlp" $small $sched --epochs 2 --out "$dir/res2.st" --resume "$dir/ck.st" --history "$dir/notes.csv" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "notes.csv:1: not a line of an aecl train history" <<<"$err" && [ "$(cat "$dir/notes.csv")" = "$(printf "epoch,notes\nsomething else")" ] && [ ! -e "$dir/res2.st" ]'
"$aecl" train "$mlp" $small $sched --epochs 2 --out "$dir/x.st" --checkpoint "$dir/ck7.st" --checkpoint-every 7 >/dev/null 2>&1
ok 'cmp -s "$dir/full.st" "$dir/x.st"'
"$aecl" train "$mlp" $small $sched --epochs 2 --out "$dir/res7.st" --resume "$dir/ck7.st" >/dev/null 2>&1
ok 'cmp -s "$dir/full.st" "$dir/res7.st"'
# Another seed than the checkpoint's: refused.
err=$("$aecl" train "$mlp" $small --epochs 2 --seed 9 --out "$dir/bad.st" --resume "$dir/ck.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "seed" <<<"$err" && [ ! -e "$dir/bad.st" ]'

# A diverging run stops with a clear message, writes no weights, keeps the checkpoint.
cp "$dir/ck.st" "$dir/ck.bak"
err=$("$aecl" train "$mlp" $small --epochs 2 --lr 1e9 --out "$dir/nan.st" --checkpoint "$dir/ck.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "loss became" <<<"$err" && grep -q -- "--resume" <<<"$err"'
ok '[ ! -e "$dir/nan.st" ] && cmp -s "$dir/ck.st" "$dir/ck.bak"'

# Early stopping: nothing improves at this rate, so patience 1 ends the run after epoch 2.
out=$("$aecl" train "$mlp" $small --epochs 5 --lr 1e-12 --patience 1 --out "$dir/es.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && [ $(grep -c "^epoch [0-9]*/[0-9]*  train loss" <<<"$out") -eq 2 ] && grep -q "early stopping" <<<"$out"'
out=$("$aecl" train "$mlp" $small --epochs 2 --schedule cosine --out "$dir/cos.st" 2>&1)
ok 'grep -q "epoch 2/2.*lr 0.0005 " <<<"$out"'

# CSV: header, a label column by name, standardization stored in the weights file.
awk 'BEGIN { srand(3); printf "id"; for (j = 1; j <= 30; j++) printf ",f%d", j; print ",label";
             for (i = 0; i < 200; i++) { printf "%d", i; for (j = 1; j <= 30; j++) printf ",%.4f", 10 * j + rand() * j;
                                          printf ",%d\n", i % 3 } }' >"$dir/tab.csv"
cut -d, -f2- "$dir/tab.csv" >"$dir/tab30.csv"             # 30 features + label
tail -n +2 "$dir/tab30.csv" >"$dir/nohead.csv"
out=$("$aecl" train "$tab" --data "$dir/tab30.csv" --label-column label --scale standard --val-split 0.2 --epochs 1 \
      --out "$dir/tab.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "on 160 samples" <<<"$out" && grep -q "validating on 40 samples held out" <<<"$out"'
ok 'head -c 4000 "$dir/tab.st" | grep -a -q "\"aecl.scaling\":\"standard 30 "'
out=$("$aecl" train "$tab" --data "$dir/nohead.csv" --label-column -1 --scale minmax --val-data "$dir/nohead.csv" \
      --val-limit 50 --epochs 1 --out "$dir/tab2.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "validating on 50" <<<"$out"'
ok 'head -c 4000 "$dir/tab2.st" | grep -a -q "\"aecl.scaling\":\"minmax 30 "'
# 31 columns (the id) for a model of 30: a bad file, exit 1, naming both numbers.
err=$("$aecl" train "$tab" --data "$dir/tab.csv" --label-column label --epochs 1 --out "$dir/t3.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "31 values.*takes 30" <<<"$err" && [ ! -e "$dir/t3.st" ]'

# Bad options: exit 2 with a message.
for bad in "--epochs 0" "--batch x" "--lr -1" "--val-split 1.5" "--schedule bogus" "--schedule step:2:3" \
           "--scale foo" "--frobnicate 1" "--patience -1" "--label-column 2" "--checkpoint-every 5" \
           "--checkpoint x --checkpoint-every 5 --checkpoint-epochs 2" "--checkpoint-epochs 0" \
           "--val-split 0.1 --val-data $dir/tab30.csv" "--epochs" "--keep first" "--min-delta -1" "--min-delta nan" \
           "--contamination 0" "--contamination 1" "--plot $dir/p.jpg" "--epochs=" "--val-data test --data $dir/tab30.csv" \
           "--checkpoint-best $dir/b.st --val-limit 0"; do
    err=$("$aecl" train "$mlp" $bad 2>&1 >/dev/null); rc=$?
    ok '[ $rc -eq 2 ] && grep -q "aecl train: " <<<"$err"' || echo "   (options: $bad)"
done
"$aecl" train >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 2 ]'
# Bad files: exit 1 with the library's message; nothing written.
err=$("$aecl" train "$dir/nope.model" --out "$dir/n1.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "nope.model" <<<"$err" && [ ! -e "$dir/n1.st" ]'
err=$("$aecl" train "$tab" --data "$dir/missing.csv" --out "$dir/n2.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "missing.csv" <<<"$err" && [ ! -e "$dir/n2.st" ]'
err=$("$aecl" train "$mlp" $small --epochs 1 --out "$dir/no/such/dir/w.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "no/such/dir" <<<"$err"'
printf 'not a checkpoint' >"$dir/junk.st"
err=$("$aecl" train "$mlp" $small --epochs 1 --resume "$dir/junk.st" --out "$dir/n3.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "junk.st" <<<"$err" && [ ! -e "$dir/n3.st" ]'
# --class keeps one label: 312 of the first 3000 training images are class 3 (Fashion-MNIST's dress);
# the held-out 10% is of those (31), not of the test set's other classes.
out=$("$aecl" train "$mlp" --class 3 --limit 3000 --epochs 1 --out "$dir/c3.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "on 281 samples.*(class 3)" <<<"$out" && grep -q "validating on 31 samples held out" <<<"$out"'
err=$("$aecl" train "$mlp" --class 3 --data /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz --epochs 1 --out "$dir/c4.st" 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "class" <<<"$err" && [ ! -e "$dir/c4.st" ]'

# Early stopping writes the best epoch's weights, and the history file says which: the
# weights re-evaluated on the validation file give the history's lowest val loss (to float
# rounding: another batch size), the last epoch's do not; --keep last writes those.
awk 'BEGIN { srand(5); printf "f1"; for (j = 2; j <= 30; j++) printf ",f%d", j; print ",label";
             for (i = 0; i < 60; i++) { for (j = 1; j <= 30; j++) printf "%s%.4f", (j > 1 ? "," : ""), 10 * j + rand() * j;
                                        printf ",%d\n", i % 3 } }' >"$dir/val.csv"
es="--data $dir/tab30.csv --val-data $dir/val.csv --label-column label --scale standard --epochs 30 --lr 0.03 --patience 3 --batch 32"
out=$("$aecl" train "$tab" $es --history "$dir/h.csv" --plot "$dir/loss.png" --checkpoint-best "$dir/best.st" \
      --out "$dir/es_best.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "early stopping" <<<"$out" && [ -s "$dir/h.csv" ] && [ -s "$dir/best.st" ]'
ok '[ "$(head -1 "$dir/h.csv")" = "epoch,train_loss,train_recon,train_kl,val_loss,lr,samples_per_s,seconds,improved" ]'
best_row=$(tail -n +2 "$dir/h.csv" | sort -t, -k5,5g | head -1)
last_row=$(tail -1 "$dir/h.csv")
best_epoch=${best_row%%,*} last_epoch=${last_row%%,*}
ok '[ "$best_epoch" -lt "$last_epoch" ] && [ "$last_epoch" -eq "$(grep -c "^[0-9]" "$dir/h.csv")" ]'
ok 'grep -q "weights of epoch $best_epoch (the best" <<<"$out"'
ok 'head -c 8000 "$dir/es_best.st" | grep -a -q "\"aecl.train.best_epoch\":\"$best_epoch\""'
ok 'head -c 8000 "$dir/es_best.st" | grep -a -q "\"aecl.train.epochs\":\"$last_epoch of 30 (early stopping)\""'
ok 'head -c 8000 "$dir/es_best.st" | grep -a -q "\"aecl.train.validation\":\"60 samples of $dir/val.csv\""'
# The mean per-sample loss of `aecl eval` against a history row's val loss.
same_loss() {   # weights, history row
    "$aecl" eval "$1" --data "$dir/val.csv" --label-column label --per-sample "$dir/ps.csv" >/dev/null 2>&1 &&
    awk -F, -v want="$(cut -d, -f5 <<<"$2")" 'NR > 1 { s += $2; n++ }
        END { got = s / n; d = got - want; if (d < 0) d = -d; exit !(d <= 1e-6 * want) }' "$dir/ps.csv"
}
ok 'same_loss "$dir/es_best.st" "$best_row" && ! same_loss "$dir/es_best.st" "$last_row"'
ok 'same_loss "$dir/best.st" "$best_row"'
out=$("$aecl" train "$tab" $es --keep last --out "$dir/es_last.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && same_loss "$dir/es_last.st" "$last_row" && grep -q "weights of epoch $last_epoch (the last" <<<"$out"'
# The chart is a PNG people can see (800 x 500).
ok '[ "$(head -c 8 "$dir/loss.png" | od -An -tx1 | tr -d " ")" = "89504e470d0a1a0a" ]'
ok '[ "$(od -An -tu1 -j16 -N8 "$dir/loss.png" | tr -s " ")" = " 0 0 3 32 0 0 1 244" ]'
# --min-delta larger than any change: epoch 1 stays the best, patience ends the run at 4.
out=$("$aecl" train "$tab" $es --min-delta 10 --history "$dir/h2.csv" --out "$dir/md.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && [ "$(tail -1 "$dir/h2.csv" | cut -d, -f1)" = 4 ] && grep -q "weights of epoch 1 (the best" <<<"$out"'

# A denoising model says what its validation loss measures, and records its noise.
out=$("$aecl" train "$src/models/denoising.model" $small --epochs 1 --out "$dir/dae.st" 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "val loss = .*clean target reconstructed from a noisy input (gaussian:0.5)" <<<"$out"'
ok 'head -c 8000 "$dir/dae.st" | grep -a -q "\"aecl.noise\":\"gaussian:0.5\""'
ok '[ -z "$(ls "$dir" | grep -v "\.st$\|\.csv$\|\.bak$\|\.png$")" ]'   # no temp files left behind
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

#!/bin/bash
# Anomaly detection as PyOD users expect it: aecl train --contamination C stores the
# (1 - C)-quantile of the training samples' scores in the weights file, aecl anomaly uses it
# by default and flags the expected count (here exactly C of the training samples), --fit
# stores another one, and the training data's scores are there (--split train --scores).
# Also: a model carries its training noise and aecl denoise takes it as its default.
aecl="$1"
src="${AECL_SOURCE_DIR:-$(dirname "$0")/..}"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}"
dir=$(mktemp -d /tmp/aecl-cli-anomaly-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
meta() { head -c 8000 "$1" | grep -a -o "\"$2\":\"[^\"]*\"" | cut -d'"' -f4; }
cd "$dir" || exit 1

# 200 training rows and 60 others of 30 features; label 0/1/2 (not anomaly labels).
awk 'BEGIN { srand(3); printf "f1"; for (j = 2; j <= 30; j++) printf ",f%d", j; print ",label";
             for (i = 0; i < 200; i++) { for (j = 1; j <= 30; j++) printf "%s%.4f", (j > 1 ? "," : ""), 10 * j + rand() * j;
                                         printf ",%d\n", i % 3 } }' >train.csv
awk 'BEGIN { srand(5); printf "f1"; for (j = 2; j <= 30; j++) printf ",f%d", j; print ",label";
             for (i = 0; i < 60; i++) { for (j = 1; j <= 30; j++) printf "%s%.4f", (j > 1 ? "," : ""), 10 * j + rand() * j;
                                        printf ",%d\n", i % 3 } }' >other.csv
tab="$src/models/tabular.model"
# --val-data: every one of the 200 rows trains, so the threshold is of all of them.
out=$("$aecl" train "$tab" --data train.csv --val-data other.csv --label-column label --scale standard --epochs 3 \
      --batch 32 --contamination 0.1 --out w.st 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "anomaly threshold .*0.9-quantile of the 200 training samples.*(20 above it)" <<<"$out"'
thr=$(meta w.st aecl.anomaly.threshold)
ok '[ -n "$thr" ] && [ "$(meta w.st aecl.anomaly.score)" = mse ] && [ "$(meta w.st aecl.anomaly.contamination)" = 0.1 ]'

# The stored threshold is the default: it flags 10% of the training rows (200 * 0.1 = 20:
# the 0.9-quantile lies between the 180th and 181st score, so 20 lie above it).
out=$("$aecl" anomaly w.st --data train.csv --label-column label --scores s.csv 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "threshold .* (stored in the weights file: contamination 0.1 of 200 training samples of train.csv): 20 of 200 samples flagged" <<<"$out"'
# The scores file holds the training rows' scores; those above the stored threshold are the 20 flagged.
ok '[ "$(tail -n +2 s.csv | wc -l)" = 200 ] && [ "$(head -1 s.csv)" = "index,score,anomaly,label" ]'
ok '[ "$(awk -F, -v t="$thr" "NR > 1 && \$2 > t" s.csv | wc -l)" = 20 ] && [ "$(awk -F, "NR > 1 { s += \$3 } END { print s }" s.csv)" = 20 ]'
# --out is the same as --scores; another threshold option wins over the stored one.
out=$("$aecl" anomaly w.st --data other.csv --label-column label --threshold 1e9 --out s2.csv 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "threshold 1e+09: 0 of 60 samples flagged" <<<"$out" && [ -s s2.csv ]'
# A score of another kind does not use it.
out=$("$aecl" anomaly w.st --data other.csv --label-column label --score loss 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "does not apply to --score loss" <<<"$out" && grep -q "nothing flagged" <<<"$out"'

# --fit: the (1 - C)-quantile of these samples' scores goes into the file; later runs use it.
cp w.st w2.st
out=$("$aecl" anomaly w2.st --data=other.csv --label-column=label --fit --contamination=0.25 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "15 of 60 samples flagged" <<<"$out" && grep -q "stored in w2.st" <<<"$out"'
out=$("$aecl" anomaly w2.st --data other.csv --label-column label 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "contamination 0.25 of 60 samples of other.csv): 15 of 60 samples flagged" <<<"$out"'
ok '[ "$(meta w2.st aecl.anomaly.contamination)" = 0.25 ] && [ -n "$(meta w2.st aecl.model)" ]'
# The rewritten file is the same model: the same scores.
"$aecl" anomaly w2.st --data train.csv --label-column label --scores s3.csv >/dev/null 2>&1
ok 'cmp -s <(cut -d, -f1,2 s.csv) <(cut -d, -f1,2 s3.csv)'
# Bad combinations: exit 2.
for bad in "--fit" "--fit --quantile 0.9" "--fit --contamination 0.1 --score nosuch" "--contamination 0.1 --threshold 1" \
           "--scores="; do
    err=$("$aecl" anomaly w.st --data other.csv --label-column label $bad 2>&1 >/dev/null); rc=$?
    ok '[ $rc -eq 2 ] && grep -q "aecl anomaly: " <<<"$err"' || echo "   (options: $bad)"
done

# Images: a one-class model's threshold, and the training split's scores.
out=$("$aecl" train "$src/models/mlp.model" --class 0 --limit 2000 --epochs 1 --batch 64 --contamination 0.05 \
      --out c0.st 2>&1); rc=$?
n=$(grep -o "on [0-9]* samples" <<<"$out" | head -1 | cut -d' ' -f2)
ok '[ $rc -eq 0 ] && [ -n "$n" ] && grep -q "0.95-quantile of the $n training samples" <<<"$out"'
out=$("$aecl" anomaly c0.st --limit 1000 --normal-class 0 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "stored in the weights file: contamination 0.05 of $n training samples" <<<"$out" && grep -q "AUROC" <<<"$out"'
out=$("$aecl" anomaly c0.st --split train --limit 500 --scores train_scores.csv 2>&1); rc=$?
ok '[ $rc -eq 0 ] && [ "$(tail -n +2 train_scores.csv | wc -l)" = 500 ]'

# A model carries its training noise; aecl denoise defaults to it (the MLP has none: 0.3).
"$aecl" train "$src/models/denoising.model" --limit 300 --epochs 1 --batch 64 --out dae.st >/dev/null 2>&1
ok '[ "$(meta dae.st aecl.noise)" = gaussian:0.5 ]'
out=$("$aecl" denoise dae.st --limit 20 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "noise gaussian:0.5 (the model.s training noise)" <<<"$out" && grep -q "with noise gaussian:0.5" <<<"$out"'
out=$("$aecl" denoise c0.st --limit 20 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "noise gaussian:0.3 (the default" <<<"$out"'
out=$("$aecl" denoise dae.st --limit 20 --noise=mask:0.3 2>&1); rc=$?
ok '[ $rc -eq 0 ] && grep -q "noise mask:0.3 (--noise)" <<<"$out"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

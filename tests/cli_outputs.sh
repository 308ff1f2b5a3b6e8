#!/bin/bash
# Where the aecl program's outputs go (lib/base/atomic.h): a symbolic link is
# written through to its target (which is replaced atomically; the link stays a
# link), a dangling link creates its target, a FIFO's reader gets the data,
# /dev/null stays a character device, '-' and /dev/stdout are standard output;
# a folder, a link
# into a missing folder and a folder the user may not write are refused before
# any work, with a message naming the path, and nothing is changed.
aecl="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
src="$(cd "${AECL_SOURCE_DIR:-$(dirname "$0")/..}" && pwd)"
export AECL_DEVICE="${AECL_DEVICE:-Portable Computing Language}" POCL_DEVICES="${POCL_DEVICES:-pthread}"
dir=$(mktemp -d /tmp/aecl-cli-outputs-XXXXXX)
trap 'chmod -R u+w "$dir"; rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); return 1; fi; }
# A CSV of codes from 20 samples: a z0,... header and 20 rows of numbers.
codes_csv() { [ "$(head -c 3 "$1")" = "z0," ] && [ "$(grep -c '^-\?[0-9]' "$1")" = 20 ] && [ "$(wc -l <"$1")" = 21 ]; }
is_npy() { [ "$(head -c 6 "$1" | od -An -tx1 | tr -d ' \n')" = 934e554d5059 ]; }
enc() { timeout 120 "$aecl" encode "$dir/good.st" --limit 20 "$@"; }

mkdir data
# Weights through a link: the weights land in data/, the link stays.
ln -s data/w.st good.st
timeout 300 "$aecl" train "$src/models/mlp.model" --limit 64 --val-limit 0 --batch 64 --epochs 1 \
    --out good.st >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 0 ] && [ -L good.st ] && [ -f data/w.st ] && [ -s data/w.st ]' || exit 1

# ---- a symbolic link: the target is replaced, its mode kept, the link kept ---------
echo old >data/codes.csv && chmod 640 data/codes.csv
ln -s data/codes.csv link.csv
enc --out link.csv >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -L link.csv ] && [ "$(readlink link.csv)" = data/codes.csv ] && codes_csv data/codes.csv'
ok '[ "$(stat -c %a data/codes.csv)" = 640 ]'
# A dangling link whose folder exists: the target is created (as `>` would).
ln -s "$dir/data/new.npy" dangling.npy
enc --out dangling.npy >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -L dangling.npy ] && is_npy data/new.npy'
# A link into a missing folder: refused before the work, naming the folder.
ln -s no/such/codes.csv nowhere.csv
err=$(enc --out nowhere.csv 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "cannot write .*no/such/codes.csv.*nowhere.csv.*does not exist" <<<"$err" && [ -L nowhere.csv ]' \
    || echo "   ($err)"

# ---- a FIFO: its reader gets the codes, it stays a FIFO ------------------------------
mkfifo fifo.csv
cat fifo.csv >got.csv &
reader=$!
enc --out fifo.csv >/dev/null; rc=$?
# If aecl never opened the FIFO, the reader still waits: an O_RDWR open releases it.
kill -0 $reader 2>/dev/null && { exec 3<>fifo.csv; exec 3>&-; }
wait $reader
ok '[ $rc -eq 0 ] && [ -p fifo.csv ] && codes_csv got.csv'

# ---- /dev/null stays a character device --------------------------------------------
# (a picture output must name a .png file, unless it is written in place: /dev/null)
timeout 120 "$aecl" eval good.st --limit 16 --grid /dev/null >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 0 ] && [ -c /dev/null ]'
enc --out /dev/null >/dev/null; rc=$?
ok '[ $rc -eq 0 ] && [ -c /dev/null ]'
timeout 300 "$aecl" train "$src/models/mlp.model" --limit 64 --val-limit 0 --batch 64 --epochs 1 \
    --out /dev/null >/dev/null 2>&1; rc=$?
ok '[ $rc -eq 0 ] && [ -c /dev/null ]'
ok '[ -z "$(find /dev -maxdepth 1 -name ".null.tmp-*")" ]'

# ---- '-' is standard output ------------------------------------------------------------
enc --out - >stdout.txt; rc=$?
ok '[ $rc -eq 0 ] && codes_csv stdout.txt && [ ! -e ./- ]'
# /dev/stdout is the same descriptor (the command's own lines may follow the rows).
enc --out /dev/stdout >devstdout.txt 2>/dev/null; rc=$?
ok '[ $rc -eq 0 ] && head -n 21 devstdout.txt >head.csv && cmp -s head.csv stdout.txt'

# ---- refused before the work, nothing changed ---------------------------------------
mkdir folder.csv
err=$(enc --out folder.csv 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "cannot write .*folder.csv.: it is a folder" <<<"$err" && [ -d folder.csv ]' || echo "   ($err)"
ln -s folder.csv to_folder.csv
err=$(enc --out to_folder.csv 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "to_folder.csv.: it is a symbolic link to .*folder.csv., which is a folder" <<<"$err"' \
    || echo "   ($err)"
# A folder the user may not write (root writes anywhere: the command then runs as
# user nobody, which may read the weights but not write the folder).
mkdir ro && echo kept >ro/codes.csv && chmod 555 ro && chmod 755 "$dir" && chmod 644 data/w.st
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
err=$("${as_user[@]}" timeout 120 "$aecl" encode "$dir/good.st" --limit 20 --out ro/codes.csv 2>&1 >/dev/null); rc=$?
ok '[ $rc -eq 1 ] && grep -q "cannot write .*ro/codes.csv.*Permission denied" <<<"$err"' || echo "   ($err)"
ok '[ "$(cat ro/codes.csv)" = kept ] && [ -z "$(ls -A ro | grep -v "^codes.csv$")" ]'

ok '[ -z "$(find "$dir" -name ".*.tmp-*")" ]'   # no temp files left behind
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

#!/bin/bash
# The Python package installs offline as the docs say (pip with Debian's setuptools,
# no build isolation, no dependency downloads) into a folder and imports from there,
# finding the library through $AECL_LIBRARY and, copied beside it, on its own.
aecl="${1:?usage: cli_python_install.sh AECL}"
src="${AECL_SOURCE_DIR:?}" bin="${AECL_BINARY_DIR:?}"
# A sanitizer build's library cannot be loaded into an uninstrumented python3.
if grep -q "^AECL_SANITIZE:BOOL=ON" "$bin/CMakeCache.txt" 2>/dev/null; then
  echo "SKIP: a sanitizer build (libaecl.so needs the ASan runtime loaded first)"; exit 77
fi
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
py=""
for p in "${AECL_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$p" ] && "$p" -c 'import setuptools, numpy, pip' 2>/dev/null && { py="$p"; break; }
done
[ -n "$py" ] || { echo "FAILED: no python3 with numpy, pip and setuptools (Debian: python3-pip)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lib=$(ls "$bin"/libaecl.so.*.* | head -1)
# pip builds in the source folder: a copy keeps the tree clean.
cp -r "$src/python" "$tmp/src"
rm -rf "$tmp/src/tests"
ok 'PIP_NO_INDEX=1 "$py" -m pip install -q --no-deps --no-build-isolation --target "$tmp/site" "$tmp/src" >"$tmp/pip.log" 2>&1 || { cat "$tmp/pip.log"; false; }'
ok '[ -f "$tmp/site/aecl/__init__.py" ] && [ -f "$tmp/site/aecl/_lib.py" ]'
cd "$tmp"
out=$(PYTHONPATH="$tmp/site" AECL_LIBRARY="$lib" "$py" -c 'import aecl; print(aecl.library_version(), len(aecl.devices()) > 0, aecl.__file__)' 2>&1)
ok 'grep -q "^0\.1\.0 True $tmp/site/aecl/__init__.py" <<<"$out" || { echo "$out"; false; }'
# Beside the package: found without $AECL_LIBRARY.
cp "$lib" "$tmp/site/aecl/"
out=$(env -u AECL_LIBRARY PYTHONPATH="$tmp/site" "$py" -c 'import aecl; print(aecl.library_version())' 2>&1)
ok '[ "$out" = 0.1.0 ] || { echo "$out"; false; }'
# A named library that is not there is an ImportError naming it, not another library.
out=$(PYTHONPATH="$tmp/site" AECL_LIBRARY="$tmp/none.so" "$py" -c 'import aecl' 2>&1)
ok 'grep -q "ImportError: aecl: libaecl.so not found; set AECL_LIBRARY.*none.so" <<<"$out"'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

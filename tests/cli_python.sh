#!/bin/bash
# The Python package (python/, docs/python.md): its pytest tests against the build's
# libaecl.so and aecl program, on the device the test environment pins. Fails (not
# skips) without numpy or pytest: CI installs python3-pytest and python3-numpy.
aecl="${1:?usage: cli_python.sh AECL}"
src="${AECL_SOURCE_DIR:?}" bin="${AECL_BINARY_DIR:?}"
# A sanitizer build's library cannot be loaded into an uninstrumented python3.
if grep -q "^AECL_SANITIZE:BOOL=ON" "$bin/CMakeCache.txt" 2>/dev/null; then
  echo "SKIP: a sanitizer build (libaecl.so needs the ASan runtime loaded first)"; exit 77
fi
py=""
for p in "${AECL_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$p" ] && "$p" -c 'import numpy, pytest' 2>/dev/null && { py="$p"; break; }
done
[ -n "$py" ] || { echo "FAILED: no python3 with numpy and pytest (Debian: python3-numpy python3-pytest)"; exit 1; }
lib=$(ls "$bin"/libaecl.so.*.* | head -1)
export AECL_LIBRARY="$lib" AECL_CLI="$aecl" PYTHONDONTWRITEBYTECODE=1
cd "$src/python" && exec "$py" -m pytest -q -p no:cacheprovider tests

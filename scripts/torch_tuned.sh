#!/bin/bash
# The tuned PyTorch yardstick (scripts/torch_tuned.py) in the environment a
# performance-minded user would give it on this CPU: glibc's malloc keeps large
# blocks instead of mapping and unmapping every temporary, OpenBLAS uses its
# AVX-512 (SkylakeX) kernels with its own L2 size detection (OPENBLAS_L2_SIZE
# unset). Debian's python3-torch. Arguments go to the script (--runs, --steps,
# --threads, --json).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295
export OPENBLAS_CORETYPE=SkylakeX
unset OPENBLAS_L2_SIZE
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
exec /usr/bin/python3 "$here/torch_tuned.py" "$@"

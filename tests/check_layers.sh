#!/bin/bash
# The layers of lib/ point only down: every #include "..." of a file under lib/<layer>
# names a header of its own layer, of a layer below it, or a public header
# (lib/include). The order, bottom first (docs/architecture.md draws it):
#   base    atomic files, growable buffers and strings, the error model
#   rt      devices, contexts, programs, the binary cache, the device-decision table
#   graph   tensors, nodes, the op contract, recording and running a plan
#   ops     each op: builder, emitter, backward rule; GEMM and conv choices
#   compile autodiff walk, fusion passes, memory plan, the compile driver
#   io      file formats (only base below it: no device needed to read a file)
#   nn      model files, networks, training, the applications
# Usage: check_layers.sh SOURCE_DIR   (exit 1 naming every include that points up)
set -u
src=${1:-$(dirname "$0")/..}
declare -A allowed=(
  [base]="base"
  [rt]="base rt"
  [graph]="base rt graph"
  [ops]="base rt graph ops"
  [compile]="base rt graph ops compile"
  [io]="base io"
  [nn]="base rt graph ops compile io nn"
)
bad=0
checked=0
for dir in "$src"/lib/*/; do
  layer=$(basename "$dir")
  [ "$layer" = include ] && continue
  if [ -z "${allowed[$layer]+x}" ]; then
    echo "lib/$layer: a folder that is no layer (add it to tests/check_layers.sh and docs/architecture.md)"
    bad=1
    continue
  fi
  for f in "$dir"*.c "$dir"*.h; do
    [ -e "$f" ] || continue
    while IFS= read -r line; do
      checked=$((checked + 1))
      num=${line%%:*}
      inc=$(sed -n 's/.*#include "\([^"]*\)".*/\1/p' <<<"${line#*:}")
      case "$inc" in
        aecl.h|aecl_cl.h) continue ;;
        */*) target=${inc%%/*} ;;
        *) echo "lib/$layer/$(basename "$f"):$num: #include \"$inc\" names no layer (write \"$layer/$inc\")"; bad=1; continue ;;
      esac
      case " ${allowed[$layer]} " in
        *" $target "*) ;;
        *) echo "lib/$layer/$(basename "$f"):$num: #include \"$inc\": $layer may not use $target (allowed: ${allowed[$layer]})"; bad=1 ;;
      esac
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
  done
done
# The public headers include nothing of lib/.
if grep -n '#include "' "$src"/lib/include/*.h | grep -v '"aecl.h"\|"aecl_cl.h"'; then
  echo "lib/include: a public header includes an internal one"
  bad=1
fi
[ "$checked" -gt 100 ] || { echo "only $checked includes found under $src/lib: wrong folder?"; exit 1; }
[ $bad = 0 ] && echo "layers: $checked includes checked, all point down"
exit $bad

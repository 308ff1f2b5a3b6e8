#!/bin/bash
# The public surface of libaecl (docs/api.md): the shared library exports exactly
# the functions aecl.h and aecl_cl.h declare, all prefixed aecl_; aecl.h compiles
# without the OpenCL headers and aecl_cl.h needs them; the status values and the
# sizes of the public structs are pinned; the soname follows the policy.
src="${AECL_SOURCE_DIR:?}" bin="${AECL_BINARY_DIR:?}"
fail=0 pass=0
ok() { if eval "$1"; then pass=$((pass+1)); else echo "FAILED: $1"; fail=$((fail+1)); fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc="$src/lib/include"
lib=$(ls "$bin"/libaecl.so.*.* 2>/dev/null | head -1)
ok '[ -n "$lib" ] && [ -f "$lib" ]'

# Exported functions = declared functions.
nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | sort >"$tmp/exported"
sed -n 's/^AECL_API .*[ *]\(aecl_[a-z0-9_]*\)(.*/\1/p' "$inc/aecl.h" "$inc/aecl_cl.h" | sort >"$tmp/declared"
ok '[ -s "$tmp/declared" ] && diff "$tmp/exported" "$tmp/declared"'
ok '! grep -v "^aecl_" "$tmp/exported"'
# Every function declaration in the headers is marked (an unmarked one would be
# hidden and missing from both lists above).
ok '! grep -n "^[a-z][a-z0-9_ *]*aecl_[a-z0-9_]*(" "$inc/aecl.h" "$inc/aecl_cl.h" | grep -v ":typedef "'
# Data symbols too: none unprefixed.
ok '! nm -D --defined-only "$lib" | awk '"'"'$2 ~ /[BDGRS]/ {print $3}'"'"' | grep -v "^aecl_\|^_"'

# aecl.h without OpenCL headers: a CL/cl.h that stops the compiler proves it is not read.
mkdir -p "$tmp/fake/CL"
echo '#error "CL/cl.h read"' >"$tmp/fake/CL/cl.h"
printf '#include <aecl.h>\nint main(void) { return aecl_version_number() == 0; }\n' >"$tmp/host.c"
printf '#include <aecl_cl.h>\nint main(void) { return 0; }\n' >"$tmp/cl.c"
ok 'cc -std=c11 -Wall -Werror -fsyntax-only -I"$tmp/fake" -I"$inc" "$tmp/host.c"'
ok '! cc -std=c11 -fsyntax-only -I"$tmp/fake" -I"$inc" "$tmp/cl.c" 2>/dev/null'
ok 'cc -std=c11 -Wall -Werror -fsyntax-only -I"$inc" "$tmp/cl.c"'

# Pinned numbers: status values and the sizes of the structs that may grow (x86-64).
cat >"$tmp/pinned.c" <<'EOF'
#include <aecl.h>
_Static_assert(AECL_OK == 0 && AECL_ERR_INVALID_ARG == 1 && AECL_ERR_NO_DEVICE == 2 && AECL_ERR_OPENCL == 3 &&
                   AECL_ERR_BUILD == 4 && AECL_ERR_HOST_MEMORY == 5 && AECL_ERR_DEVICE_MEMORY == 6 &&
                   AECL_ERR_IO == 7 && AECL_ERR_FORMAT == 8 && AECL_ERR_SHAPE == 9 && AECL_ERR_UNSUPPORTED == 10 &&
                   AECL_ERR_NUMERIC == 11 && AECL_ERR_STATE == 12 && AECL_ERR_CANCELED == 13,
               "status values are pinned");
_Static_assert(AECL_MODEL_VANILLA == 0 && AECL_MODEL_VARIATIONAL == 3 && AECL_SCORE_ELBO == 2 && AECL_SCORE_SSIM == 3 &&
                   AECL_SCORE_MAHALANOBIS == 4 && AECL_SCORE_COMBINED == 5,
               "enums pinned");
_Static_assert(sizeof(void *) != 8 || sizeof(aecl_device_info) == 928, "aecl_device_info keeps its size");
_Static_assert(sizeof(aecl_program_stats) == 64, "aecl_program_stats keeps its size");
_Static_assert(sizeof(void *) != 8 || sizeof(aecl_comm) == 72, "aecl_comm keeps its size");
_Static_assert(sizeof(void *) != 8 || sizeof(aecl_data_opts) == 96, "aecl_data_opts keeps its size");
_Static_assert(sizeof(void *) != 8 || sizeof(aecl_training_options) == 280, "aecl_training_options keeps its size");
_Static_assert(sizeof(void *) != 8 || sizeof(aecl_training_progress) == 272, "aecl_training_progress keeps its size");
_Static_assert(sizeof(void *) != 8 || sizeof(aecl_training_info) == 144, "aecl_training_info keeps its size");
_Static_assert(sizeof(aecl_training_summary) == 104, "aecl_training_summary keeps its size");
_Static_assert(sizeof(aecl_training_epoch) == 104, "aecl_training_epoch keeps its size");
int main(void) { return 0; }
EOF
ok 'cc -std=c11 -fsyntax-only -I"$inc" "$tmp/pinned.c"'

# soname: libaecl.so.MAJOR.MINOR before 1.0, libaecl.so.MAJOR after.
ver=$(sed -n 's/^#define AECL_VERSION_STRING "\(.*\)"/\1/p' "$inc/aecl.h")
major=${ver%%.*} rest=${ver#*.} minor=${rest%%.*}
want="libaecl.so.$major"
[ "$major" = 0 ] && want="libaecl.so.0.$minor"
ok 'readelf -d "$lib" | grep -q "SONAME.*\[$want\]"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

/* The GEMM choice file (lib/ops/gemm_choice_file.c): a lookup, then a rewrite
 * that adds a line and keeps the file's other well-formed lines; the rewritten
 * file must hold the new decision. */
#include "fuzz_file.h"
#include "ops/gemm_choice_file.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_file(data, size);
    aecl_gemm_choice_key key = {64, 32, 16, 0, 1, 1};
    aecl_gemm_path path;
    (void)aecl_gemm_choice_file_find(p, "Device\tX", "1.0", &key, &path);
    aecl_gemm_choice_line line = {"dev", "drv", key, AECL_GEMM_CLBLAST, 12.5, 7.25};
    if (aecl_gemm_choice_file_add(NULL, p, &line) != AECL_OK) abort();
    if (!aecl_gemm_choice_file_find(p, "dev", "drv", &key, &path) || path != AECL_GEMM_CLBLAST) abort();
    return 0;
}

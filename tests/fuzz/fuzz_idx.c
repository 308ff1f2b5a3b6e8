/* IDX reader (lib/io/idx.c), plain or gzip: any dtype as floats, the first two
 * items as raw bytes, and the label reader (the typed readers differ only in the
 * magic they expect). Three reads, not more: each opens zlib with 128 KB
 * buffers, which ASan maps and unmaps, and that bounds executions per second. */
#include "fuzz_file.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_file(data, size);
    aecl_idx x;
    aecl_idx_read(NULL, p, 0, AECL_IDX_SCALE01, &x);
    aecl_idx_free(&x);
    aecl_idx_read(NULL, p, 2, AECL_IDX_RAW_U8, &x);
    aecl_idx_free(&x);
    aecl_idx_read_labels(NULL, p, 0, &x);
    aecl_idx_free(&x);
    return 0;
}

/* .npy reader (lib/io/npy.c): header dict, dtype, order, shape against the bytes
 * held, data (converted and transposed) and labels. */
#include "fuzz_file.h"
#include "io/io.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aecl_npy a;
    const char *path = fuzz_file(data, size);
    if (aecl_npy_read(NULL, path, &a) == AECL_OK) {
        volatile float sink = a.count ? a.data[a.count - 1] : 0;   /* every value was read */
        (void)sink;
    }
    aecl_npy_free(&a);
    int32_t *labels;
    size_t n;
    if (aecl_npy_read_labels(NULL, path, &labels, &n) == AECL_OK) {
        volatile int32_t last = n ? labels[n - 1] : 0;
        (void)last;
        free(labels);
    }
    return 0;
}

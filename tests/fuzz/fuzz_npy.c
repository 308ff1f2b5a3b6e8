/* .npy reader (lib/io/npy.c): header dict, shape against the bytes held, data. */
#include "fuzz_file.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aecl_npy a;
    if (aecl_npy_read(NULL, fuzz_file(data, size), &a) == AECL_OK) {
        volatile float sink = a.count ? a.data[a.count - 1] : 0;   /* every value was read */
        (void)sink;
    }
    aecl_npy_free(&a);
    return 0;
}

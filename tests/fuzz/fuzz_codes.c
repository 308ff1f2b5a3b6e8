/* Codes files of `aecl compress` (lib/nn/app_codes.c): header, the sizes it
 * declares against the file, version 1 raw codes and version 2 zstd frames.
 * Both CRC-32s of a mutated input are set right before it is read: a mutation
 * would almost never keep them, and the reader would stop at the CRC check
 * without reaching what comes after it. */
#include "fuzz_file.h"
#include "nn/app.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define HEADER_BYTES 56

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    if (!b) return 0;
    memcpy(b, data, size);
    if (size >= HEADER_BYTES) {
        put32(b + 48, (uint32_t)crc32(0L, b + HEADER_BYTES, (uInt)(size - HEADER_BYTES)));
        put32(b + 52, (uint32_t)crc32(0L, b, 52));
    }
    aecl_codes c;
    aecl_codes_read(NULL, fuzz_file(b, size), &c);
    aecl_codes_free(&c);
    free(b);
    return 0;
}

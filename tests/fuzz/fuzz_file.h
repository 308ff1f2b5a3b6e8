/* What every fuzz target shares: aecl's readers take a path, so each input is
 * written to one temp file of the process ($TMPDIR or /tmp) and read from there. */
#ifndef AECL_FUZZ_FILE_H
#define AECL_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* The path of this process's temp file, holding exactly data[0..n). Aborts when
 * it cannot be written (a broken harness, not a finding). */
const char *fuzz_file(const uint8_t *data, size_t n);

#endif

/* One temp file per fuzzing process, rewritten for every input, removed at exit:
 * libFuzzer owns main, so an exit handler is the only place to remove it (it
 * releases no OpenCL object; the parsers fuzzed here need no device). */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[512];

/* The file, and the lock file that the GEMM choice file's writer leaves beside it. */
static void remove_file(void)
{
    char lock[600];
    if (!path[0]) return;
    unlink(path);
    snprintf(lock, sizeof lock, "%s.lock", path);
    unlink(lock);
}

const char *fuzz_file(const uint8_t *data, size_t n)
{
    if (!path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/aecl-fuzz-XXXXXX", t && *t ? t : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) abort();
        close(fd);
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) abort();
    return path;
}

/* Readers check what a file declares against what it holds before they
 * allocate for it. Each case reads a small (or sparse) file whose header
 * declares far more than it holds, in a child process limited to 256 MB of
 * address space: a reader that trusted the header would run out of memory (or
 * decode gigabytes) instead of failing with a format error that names the sizes. */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "io/io.h"
#include "nn/app.h"
#include "nn/train.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define LIMIT_BYTES ((rlim_t)256 << 20)

typedef aecl_status (*read_fn)(const char *path);

/* Runs read(path) in a child under the memory limit; 1 when it failed with
 * `status` and a message containing needle (the child prints what it got). */
static int fails_within_limit(read_fn read, const char *path, aecl_status status, const char *needle)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {LIMIT_BYTES, LIMIT_BYTES};
        setrlimit(RLIMIT_AS, &rl);
        aecl_status st = read(path);
        int ok = st == status && test_msg_has(needle);
        if (!ok) fprintf(stderr, "  %s: %s: %s\n", path, aecl_status_str(st), aecl_ctx_last_error(NULL));
        _exit(ok ? 0 : 1);
    }
    int ws = 0;
    return pid > 0 && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int b = 0; b < 4; b++) p[b] = (uint8_t)(v >> (24 - 8 * b));
}

/* ---- IDX: a gzip file of zeros whose header declares 6 x 16384 x 16384 ---------- */

static void write_idx_bomb(const char *path, size_t zeros)
{
    uint8_t head[16] = {0, 0, 0x08, 3};
    put_be32(head + 4, 6);
    put_be32(head + 8, 16384);
    put_be32(head + 12, 16384);
    gzFile g = gzopen(path, "wb9");
    static uint8_t chunk[1 << 16];
    CHECK(g && gzwrite(g, head, 16) == 16);
    for (size_t i = 0; g && i < zeros; i += sizeof chunk) gzwrite(g, chunk, sizeof chunk);
    if (g) gzclose(g);
}

static aecl_status read_idx(const char *path)
{
    aecl_idx x;
    aecl_status st = aecl_idx_read(NULL, path, 0, AECL_IDX_SCALE01, &x);
    aecl_idx_free(&x);
    return st;
}

static aecl_status load_idx_784(const char *path)
{
    aecl_dataset d;
    aecl_status st = aecl_dataset_load_idx(NULL, path, NULL, 0, 784, &d);
    aecl_dataset_free(&d);
    return st;
}

static void test_idx_bomb(void)
{
    /* 64 MB of zeros compress to about 64 KB, which hold at most 1032 times
     * that: far less than the 1.6 GB declared. */
    const char *p = test_path("bomb.idx.gz");
    write_idx_bomb(p, (size_t)64 << 20);
    CHECK_MSG(fails_within_limit(read_idx, p, AECL_ERR_FORMAT, "declares 1.6e9 values but its"),
              "the IDX reader decoded what the header declared");
    /* Against a model's input the shape is wrong before anything is decoded. */
    CHECK_MSG(fails_within_limit(load_idx_784, p, AECL_ERR_SHAPE, "samples of 268435456 values, the model's input "
                                 "takes 784"), "the IDX loader decoded before checking the shape");
}

/* ---- the codes file: a valid header, then 2 GB (sparse) ------------------------- */

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static aecl_status read_codes(const char *path)
{
    aecl_codes c;
    aecl_status st = aecl_codes_read(NULL, path, &c);
    aecl_codes_free(&c);
    return st;
}

static void test_codes(void)
{
    /* One sample of one 8-bit value: 56 + 8 + 1 bytes, in a file of 2 GB. */
    uint8_t h[56] = "AECLCODE";
    put_le(h + 8, AECL_CODES_VERSION, 4);
    put_le(h + 12, 8, 4);
    put_le(h + 24, 1, 8);
    put_le(h + 32, 1, 4);
    put_le(h + 52, crc32(0, h, 52), 4);
    const char *p = test_path("sparse.codes");
    FILE *f = fopen(p, "wb");
    CHECK(f && fwrite(h, 1, 56, f) == 56);
    if (f) fclose(f);
    CHECK(truncate(p, (off_t)2 << 30) == 0);
    CHECK_MSG(fails_within_limit(read_codes, p, AECL_ERR_FORMAT, "trailing bytes"),
              "the codes reader read the whole file before checking its size");
    unlink(p);
}

int main(void)
{
    test_tmp_setup("io_limits");
    test_idx_bomb();
    test_codes();
    test_tmp_cleanup();
    return test_finish();
}

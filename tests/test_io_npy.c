/* .npy writer/reader (round trip, exact header bytes, foreign and bad files).
 * The atomic writer under it is tested in test_io_atomic.c. */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "io/io.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return (size_t)-1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n;
}

/* ---- .npy ------------------------------------------------------------------- */

static void test_npy_round_trip(void)
{
    float m[15];
    unsigned s = 5;
    test_fill_uniform(m, 15, -3, 3, &s);
    CHECK_OK(NULL, aecl_npy_write_2d(NULL, test_path("m.npy"), m, 3, 5));
    aecl_npy a;
    CHECK_OK(NULL, aecl_npy_read(NULL, test_path("m.npy"), &a));
    CHECK(a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 5 && a.count == 15);
    CHECK(a.data && memcmp(a.data, m, sizeof m) == 0);
    aecl_npy_free(&a);
    aecl_npy_free(&a);

    size_t sh3[3] = {2, 1, 7};
    CHECK_OK(NULL, aecl_npy_write(NULL, test_path("t.npy"), m, 3, sh3));
    CHECK_OK(NULL, aecl_npy_read(NULL, test_path("t.npy"), &a));
    CHECK(a.ndim == 3 && a.shape[2] == 7 && a.count == 14 && a.data && a.data[13] == m[13]);
    aecl_npy_free(&a);

    CHECK_OK(NULL, aecl_npy_write(NULL, test_path("s.npy"), m, 0, NULL));   /* a scalar */
    CHECK_OK(NULL, aecl_npy_read(NULL, test_path("s.npy"), &a));
    CHECK(a.ndim == 0 && a.count == 1 && a.data && a.data[0] == m[0]);
    aecl_npy_free(&a);

    size_t sh0[2] = {0, 4};
    CHECK_OK(NULL, aecl_npy_write(NULL, test_path("z.npy"), NULL, 2, sh0));
    CHECK_OK(NULL, aecl_npy_read(NULL, test_path("z.npy"), &a));
    CHECK(a.ndim == 2 && a.shape[0] == 0 && a.shape[1] == 4 && a.count == 0 && a.data == NULL);
    aecl_npy_free(&a);
}

/* The header numpy itself writes for these shapes. */
static void check_header(const char *name, const float *data, unsigned ndim, const size_t *shape,
                         const char *dict)
{
    CHECK_OK(NULL, aecl_npy_write(NULL, test_path(name), data, ndim, shape));
    char buf[4096];
    size_t n = slurp(test_path(name), buf, sizeof buf);
    CHECK(n != (size_t)-1 && n >= 10);
    if (n == (size_t)-1 || n < 10) return;
    size_t hlen = (unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8;
    CHECK(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0);
    CHECK((10 + hlen) % 64 == 0 && buf[10 + hlen - 1] == '\n');
    size_t dl = strlen(dict);
    CHECK_MSG(hlen > dl && memcmp(buf + 10, dict, dl) == 0, "header: %.*s", (int)hlen, buf + 10);
    int spaces = 1;
    for (size_t i = 10 + dl; i < 10 + hlen - 1; i++) spaces &= buf[i] == ' ';
    CHECK(spaces);
    size_t count = 1;
    for (unsigned d = 0; d < ndim; d++) count *= shape[d];
    CHECK(n == 10 + hlen + 4 * count);
}

static void test_npy_header(void)
{
    float x[64] = {1.0f};
    size_t s2[2] = {2, 3}, s1[1] = {7}, s5[5] = {1, 2, 1, 2, 1};
    check_header("h2.npy", x, 2, s2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    check_header("h1.npy", x, 1, s1, "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }");
    check_header("h0.npy", x, 0, NULL, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }");
    check_header("h5.npy", x, 5, s5,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1, 2, 1), }");
    /* 1.0f little-endian right after the header. */
    char buf[256];
    size_t n = slurp(test_path("h1.npy"), buf, sizeof buf);
    CHECK(n == 128 + 28 && memcmp(buf + 128, "\x00\x00\x80\x3f", 4) == 0);
}

/* A hand-made .npy of format version `major` with the given header dict. */
static void craft(const char *name, int major, const char *dict, const void *data, size_t n)
{
    char buf[1024];
    size_t hl = strlen(dict), pre = major == 1 ? 10 : 12;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (char)major;
    buf[7] = 0;
    buf[8] = (char)(hl & 0xff);
    buf[9] = (char)(hl >> 8);
    buf[10] = buf[11] = 0;   /* high bytes of the 4-byte length of versions 2 and 3 */
    memcpy(buf + pre, dict, hl);
    memcpy(buf + pre + hl, data, n);
    test_write_file(test_path(name), buf, pre + hl + n);
}

static void test_npy_foreign_and_bad(void)
{
    const float d[6] = {1, 2, 3, 4, 5, 6};
    aecl_npy a;
    /* Version 2.0, keys in another order, double quotes, no trailing comma. */
    craft("v2.npy", 2, "{\"shape\": (3L, 2), \"fortran_order\": False, \"descr\": \"<f4\"}\n", d,
          sizeof d);
    CHECK_OK(NULL, aecl_npy_read(NULL, test_path("v2.npy"), &a));
    CHECK(a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 2 && a.data && a.data[5] == 6);
    aecl_npy_free(&a);

    CHECK_FAIL(aecl_npy_read(NULL, test_path("none.npy"), &a), AECL_ERR_IO, "none.npy");
    test_write_file(test_path("text.npy"), "hello, this is text", 19);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("text.npy"), &a), AECL_ERR_FORMAT, "not a .npy file");
    craft("f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", d, 24);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("f8.npy"), &a), AECL_ERR_UNSUPPORTED, "dtype '<f8'");
    craft("fo.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", d, 24);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("fo.npy"), &a), AECL_ERR_UNSUPPORTED, "fortran_order True");
    craft("cut.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", d, 20);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("cut.npy"), &a), AECL_ERR_FORMAT,
               "declares 6 values but holds 20 bytes of data");
    CHECK(a.data == NULL && a.count == 0);
    craft("key.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}\n", d, 24);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("key.npy"), &a), AECL_ERR_FORMAT, "unknown key");
    craft("noshape.npy", 1, "{'descr': '<f4', 'fortran_order': False}\n", d, 24);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("noshape.npy"), &a), AECL_ERR_FORMAT, "lacks");
    craft("badshape.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }\n", d, 24);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("badshape.npy"), &a), AECL_ERR_FORMAT, "shape is not");
    craft("v9.npy", 9, "{}", d, 0);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("v9.npy"), &a), AECL_ERR_UNSUPPORTED, "version 9.0");
    size_t big[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_FAIL(aecl_npy_write(NULL, test_path("nine.npy"), d, 9, big), AECL_ERR_INVALID_ARG, "9 dims");
}

/* What the header declares is checked against the bytes that follow it before
 * anything is allocated, and exactly those bytes must follow; values must be finite;
 * header text quoted in a message cannot carry control characters. */
static void test_npy_declared(void)
{
    const float d[7] = {1, 2, 3, 4, 5, 6, 7};
    aecl_npy a;
    craft("huge.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 444444444444444), }\n", d, 24);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("huge.npy"), &a), AECL_ERR_FORMAT,
               "the file declares 2.7e15 values but holds 24 bytes of data");
    CHECK(a.data == NULL && a.count == 0);
    craft("long.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", d, 28);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("long.npy"), &a), AECL_ERR_FORMAT, "4 bytes after the data");
    float nan_at_4[6] = {1, 2, 3, 4, NAN, 6};
    craft("nan.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", nan_at_4, 24);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("nan.npy"), &a), AECL_ERR_FORMAT, "value 4 (row 1, column 1) is NaN");
    CHECK(a.data == NULL);
    float inf_at_0[2] = {-INFINITY, 0};
    craft("inf.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", inf_at_0, 8);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("inf.npy"), &a), AECL_ERR_FORMAT, "value 0 is -infinite");
    /* A scalar holding NaN: its message has no row (the row was found by
     * dividing by shape[0], which a scalar lacks: SIGFPE; found by fuzz_npy). */
    const float nan1[1] = {NAN};
    craft("nan0d.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", nan1, 4);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("nan0d.npy"), &a), AECL_ERR_FORMAT, "value 0 is NaN");
    craft("esc.npy", 1, "{'descr': '\x1b[2J\x07', 'fortran_order': False, 'shape': (2,), }\n", d, 8);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("esc.npy"), &a), AECL_ERR_UNSUPPORTED, "dtype '\\x1b[2J\\x07'");
    CHECK(!strchr(aecl_ctx_last_error(NULL), '\x1b'));
}

int main(void)
{
    test_tmp_setup("io_npy");
    test_npy_round_trip();
    test_npy_header();
    test_npy_foreign_and_bad();
    test_npy_declared();
    test_tmp_cleanup();
    return test_finish();
}

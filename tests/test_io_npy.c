/* .npy writer/reader (round trip, exact header bytes, foreign and bad files).
 * The atomic writer under it is tested in test_io_atomic.c. */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "io/io.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    size_t n = test_read_file(test_path(name), buf, sizeof buf);
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
    size_t n = test_read_file(test_path("h1.npy"), buf, sizeof buf);
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
    craft("c8.npy", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }\n", d, 24);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("c8.npy"), &a), AECL_ERR_FORMAT,
               "c8.npy: dtype '<c8' (complex64) is not supported: aecl reads float32, float64, uint8, int32, int64");
    craft("f2.npy", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }\n", d, 6);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("f2.npy"), &a), AECL_ERR_FORMAT, "dtype '<f2' (float16) is not supported");
    craft("u2.npy", 1, "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), }\n", d, 6);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("u2.npy"), &a), AECL_ERR_FORMAT, "dtype '<u2' (uint16) is not supported");
    craft("b1.npy", 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }\n", d, 3);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("b1.npy"), &a), AECL_ERR_FORMAT, "dtype '|b1' (bool) is not supported");
    craft("obj.npy", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }\n", d, 24);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("obj.npy"), &a), AECL_ERR_FORMAT, "dtype '|O' is not supported");
    craft("f4bar.npy", 1, "{'descr': '|f4', 'fortran_order': False, 'shape': (3,), }\n", d, 12);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("f4bar.npy"), &a), AECL_ERR_FORMAT, "dtype '|f4' (float32) is not supported");
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
    CHECK_FAIL(aecl_npy_read(NULL, test_path("v9.npy"), &a), AECL_ERR_FORMAT, "version 9.0 is not supported");
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
    CHECK_FAIL(aecl_npy_read(NULL, test_path("esc.npy"), &a), AECL_ERR_FORMAT, "dtype '\\x1b[2J\\x07'");
    CHECK(!strchr(aecl_ctx_last_error(NULL), '\x1b'));
}

/* ---- dtypes, byte orders and Fortran order ------------------------------------ */

/* n values stored as dtype code ("f4", "f8", "u1", "i4", "i8"), little- or
 * big-endian, into out; returns the bytes written. */
static size_t encode(uint8_t *out, const char *code, int big, const double *v, size_t n)
{
    size_t size = (size_t)(code[1] - '0');
    for (size_t i = 0; i < n; i++) {
        uint64_t b;
        if (code[0] == 'f' && size == 4) {
            float f = (float)v[i];
            uint32_t u;
            memcpy(&u, &f, 4);
            b = u;
        } else if (code[0] == 'f') {
            memcpy(&b, &v[i], 8);
        } else {
            b = (uint64_t)(int64_t)v[i];
        }
        for (size_t k = 0; k < size; k++) out[i * size + (big ? size - 1 - k : k)] = (uint8_t)(b >> (8 * k));
    }
    return n * size;
}

/* A .npy of the values v (given in storage order) with this dtype and order. */
static void craft_typed(const char *name, const char *descr, int fortran, const char *shape, const double *v, size_t n)
{
    char dict[256];
    uint8_t data[512];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }\n", descr,
             fortran ? "True" : "False", shape);
    craft(name, 1, dict, data, encode(data, descr + 1, descr[0] == '>', v, n));
}

/* Every dtype, both byte orders and both array orders: the row-major values
 * of a 2x3 array, checked value by value (a Fortran file stores column by column). */
static void test_npy_dtypes(void)
{
    static const char *const descrs[] = {"<f4", ">f4", "<f8", ">f8", "|u1", "<u1", "<i4", ">i4", "<i8", ">i8"};
    const double m[2][3] = {{1, 2, 3}, {4, 5, 250}};               /* uint8 fits */
    const double c_order[6] = {1, 2, 3, 4, 5, 250}, f_order[6] = {1, 4, 2, 5, 3, 250};
    for (size_t k = 0; k < sizeof descrs / sizeof descrs[0]; k++)
        for (int fortran = 0; fortran < 2; fortran++) {
            craft_typed("ty.npy", descrs[k], fortran, "(2, 3)", fortran ? f_order : c_order, 6);
            aecl_npy a;
            CHECK_OK(NULL, aecl_npy_read(NULL, test_path("ty.npy"), &a));
            CHECK(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.count == 6 && a.data);
            for (int r = 0; a.data && r < 2; r++)
                for (int c = 0; c < 3; c++)
                    CHECK_MSG(a.data[r * 3 + c] == (float)m[r][c], "%s fortran %d [%d][%d] = %g, expected %g",
                              descrs[k], fortran, r, c, (double)a.data[r * 3 + c], m[r][c]);
            aecl_npy_free(&a);
        }
    /* Signed and wide values, converted once to float32. */
    const double wide[4] = {-1, -2147483648.0, 1099511627776.0 /* 2^40 */, -4611686018427387904.0 /* -2^62 */};
    craft_typed("i8.npy", "<i8", 0, "(4,)", wide, 4);
    aecl_npy a;
    CHECK_OK(NULL, aecl_npy_read(NULL, test_path("i8.npy"), &a));
    CHECK(a.count == 4 && a.data && a.data[0] == -1 && a.data[1] == -2147483648.0f && a.data[2] == 1099511627776.0f &&
          a.data[3] == -4611686018427387904.0f);
    aecl_npy_free(&a);
    const double tenth[2] = {0.1, -1e-30};
    craft_typed("tenth.npy", ">f8", 0, "(2,)", tenth, 2);
    CHECK_OK(NULL, aecl_npy_read(NULL, test_path("tenth.npy"), &a));
    CHECK(a.count == 2 && a.data && a.data[0] == 0.1f && a.data[1] == -1e-30f);
    aecl_npy_free(&a);
}

/* A 2x3x4 Fortran-order array: element (i, j, k) is stored at i + 2j + 6k. */
static void test_npy_fortran_3d(void)
{
    double stored[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) stored[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
    craft_typed("f3.npy", "<f8", 1, "(2, 3, 4)", stored, 24);
    aecl_npy a;
    CHECK_OK(NULL, aecl_npy_read(NULL, test_path("f3.npy"), &a));
    CHECK(a.ndim == 3 && a.count == 24 && a.data);
    for (int i = 0; a.data && i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                CHECK_MSG(a.data[(i * 3 + j) * 4 + k] == (float)(100 * i + 10 * j + k), "[%d][%d][%d] = %g", i, j, k,
                          (double)a.data[(i * 3 + j) * 4 + k]);
    aecl_npy_free(&a);
}

/* float64 values float32 cannot hold, and declared sizes against held bytes for
 * 8-byte elements; the C-order index is named also for a Fortran-order file. */
static void test_npy_f64_bad(void)
{
    aecl_npy a;
    const double big[6] = {1, 2, 3, 4, 1e39, 6};
    craft_typed("big.npy", "<f8", 0, "(2, 3)", big, 6);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("big.npy"), &a), AECL_ERR_FORMAT,
               "big.npy': value 4 (row 1, column 1) is 1e+39, beyond float32's range");
    CHECK(a.data == NULL);
    const double nan_f[6] = {1, 2, NAN, 4, 5, 6};   /* stored index 2 = (0, 1) in a 2x3 Fortran array */
    craft_typed("nanf.npy", "<f8", 1, "(2, 3)", nan_f, 6);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("nanf.npy"), &a), AECL_ERR_FORMAT, "value 1 (row 0, column 1) is NaN");
    const double inf[1] = {-INFINITY};
    craft_typed("inf8.npy", ">f8", 0, "(1,)", inf, 1);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("inf8.npy"), &a), AECL_ERR_FORMAT, "value 0 is -infinite");
    craft_typed("huge8.npy", "<f8", 0, "(6, 444444444444444)", big, 6);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("huge8.npy"), &a), AECL_ERR_FORMAT,
               "the file declares 2.7e15 values but holds 48 bytes of data");
    craft_typed("huge1.npy", "|u1", 1, "(3000000000, 3000000000)", big, 6);
    CHECK_FAIL(aecl_npy_read(NULL, test_path("huge1.npy"), &a), AECL_ERR_FORMAT,
               "the file declares 9.0e18 values but holds 6 bytes of data");
    craft_typed("short8.npy", "<f8", 0, "(2, 3)", big, 5);   /* 40 of 48 bytes */
    CHECK_FAIL(aecl_npy_read(NULL, test_path("short8.npy"), &a), AECL_ERR_FORMAT,
               "declares 6 values but holds 40 bytes of data");
}

/* Labels: any integer dtype, or floats holding whole numbers, within int32. */
static void test_npy_labels(void)
{
    int32_t *lab = NULL;
    size_t n = 0;
    const double v[3] = {0, 9, 3};
    static const char *const descrs[] = {"|u1", "<i4", ">i4", "<i8", ">i8", "<f4", "<f8", ">f8"};
    for (size_t k = 0; k < sizeof descrs / sizeof descrs[0]; k++) {
        craft_typed("lab.npy", descrs[k], 0, "(3,)", v, 3);
        CHECK_OK(NULL, aecl_npy_read_labels(NULL, test_path("lab.npy"), &lab, &n));
        CHECK_MSG(n == 3 && lab && lab[0] == 0 && lab[1] == 9 && lab[2] == 3, "%s", descrs[k]);
        free(lab);
    }
    const double neg[2] = {-7, 2147483647.0};
    craft_typed("neg.npy", "<i8", 1, "(2, 1)", neg, 2);   /* (N, 1): one per sample too */
    CHECK_OK(NULL, aecl_npy_read_labels(NULL, test_path("neg.npy"), &lab, &n));
    CHECK(n == 2 && lab && lab[0] == -7 && lab[1] == 2147483647);
    free(lab);
    const double half[2] = {1, 2.5};
    craft_typed("half.npy", "<f4", 0, "(2,)", half, 2);
    CHECK_FAIL(aecl_npy_read_labels(NULL, test_path("half.npy"), &lab, &n), AECL_ERR_FORMAT, "label 1 is 2.5");
    CHECK(lab == NULL && n == 0);
    const double wide[1] = {1099511627776.0};
    craft_typed("wide.npy", "<i8", 0, "(1,)", wide, 1);
    CHECK_FAIL(aecl_npy_read_labels(NULL, test_path("wide.npy"), &lab, &n), AECL_ERR_FORMAT,
               "label 0 is 1099511627776, beyond int32's range");
    craft_typed("widef.npy", "<f8", 0, "(1,)", wide, 1);
    CHECK_FAIL(aecl_npy_read_labels(NULL, test_path("widef.npy"), &lab, &n), AECL_ERR_FORMAT, "label 0 is 1.09951e+12");
    const double nan1[1] = {NAN};
    craft_typed("nanl.npy", "<f8", 0, "(1,)", nan1, 1);
    CHECK_FAIL(aecl_npy_read_labels(NULL, test_path("nanl.npy"), &lab, &n), AECL_ERR_FORMAT, "label 0 is nan");
    craft_typed("mat.npy", "|u1", 0, "(2, 3)", (const double[6]){1, 2, 3, 4, 5, 6}, 6);
    CHECK_FAIL(aecl_npy_read_labels(NULL, test_path("mat.npy"), &lab, &n), AECL_ERR_FORMAT, "one value per sample");
    craft_typed("c16.npy", "<c16", 0, "(1,)", v, 0);
    CHECK_FAIL(aecl_npy_read_labels(NULL, test_path("c16.npy"), &lab, &n), AECL_ERR_FORMAT,
               "dtype '<c16' (complex128) is not supported");
}

int main(void)
{
    test_tmp_setup("io_npy");
    test_npy_round_trip();
    test_npy_header();
    test_npy_foreign_and_bad();
    test_npy_declared();
    test_npy_dtypes();
    test_npy_fortran_3d();
    test_npy_f64_bad();
    test_npy_labels();
    test_tmp_cleanup();
    return test_finish();
}

/* IDX reader: the real Fashion-MNIST files (when installed), small files written
 * here (plain and gzip, every dtype), subsets, and truncated/corrupt files. */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "io/io.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>


static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile g = gzopen(path, "wb");
    if (!g || gzwrite(g, data, (unsigned)n) != (int)n) {
        fprintf(stderr, "gzwrite %s failed\n", path);
        exit(1);
    }
    gzclose(g);
}

static size_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
}

/* An IDX header into buf; returns its length. */
static size_t idx_header(uint8_t *buf, unsigned dtype, unsigned ndim, const uint32_t *dims)
{
    buf[0] = buf[1] = 0;
    buf[2] = (uint8_t)dtype;
    buf[3] = (uint8_t)ndim;
    for (unsigned i = 0; i < ndim; i++)
        for (int b = 0; b < 4; b++) buf[4 + 4 * i + b] = (uint8_t)(dims[i] >> (24 - 8 * b));
    return 4 + 4 * (size_t)ndim;
}

/* 5 images of 3 x 4 pixels, value (7*i + 3) mod 256; labels 0..4. */
static uint8_t images_file[16 + 60], labels_file[8 + 5];
static size_t images_len, labels_len;

static void make_small_files(void)
{
    uint32_t d[3] = {5, 3, 4};
    images_len = idx_header(images_file, 0x08, 3, d);
    for (int i = 0; i < 60; i++) images_file[images_len++] = (uint8_t)((7 * i + 3) % 256);
    uint32_t l[1] = {5};
    labels_len = idx_header(labels_file, 0x08, 1, l);
    for (int i = 0; i < 5; i++) labels_file[labels_len++] = (uint8_t)i;
    test_write_file(test_path("img.idx"), images_file, images_len);
    write_gz(test_path("img.idx.gz"), images_file, images_len);
    test_write_file(test_path("lab.idx"), labels_file, labels_len);
    write_gz(test_path("lab.idx.gz"), labels_file, labels_len);
}

static void test_small_images(const char *name)
{
    aecl_idx x;
    CHECK_OK(NULL, aecl_idx_read_images(NULL, test_path(name), 0, 0, &x));
    CHECK(x.ndim == 3 && x.dims[0] == 5 && x.dims[1] == 3 && x.dims[2] == 4);
    CHECK(x.file_items == 5 && x.item_elems == 12 && x.count == 60 && x.u8 == NULL);
    CHECK(x.dtype == AECL_IDX_UBYTE);
    int ok = x.data != NULL;
    for (int i = 0; ok && i < 60; i++) ok = x.data[i] == (float)((7 * i + 3) % 256);
    CHECK_MSG(ok, "raw pixel values differ in %s", name);
    aecl_idx_free(&x);

    CHECK_OK(NULL, aecl_idx_read_images(NULL, test_path(name), 2, 1, &x));
    CHECK(x.dims[0] == 2 && x.file_items == 5 && x.count == 24);
    ok = x.data != NULL;
    for (int i = 0; ok && i < 24; i++)
        ok = fabsf(x.data[i] - (float)((7 * i + 3) % 256) / 255.0f) < 1e-7f;
    CHECK_MSG(ok, "scaled pixel values differ in %s", name);
    aecl_idx_free(&x);
    aecl_idx_free(&x);   /* harmless twice */

    CHECK_OK(NULL, aecl_idx_read_images(NULL, test_path(name), 99, 0, &x));   /* limit > items */
    CHECK(x.dims[0] == 5 && x.count == 60);
    aecl_idx_free(&x);
}

static void test_small_labels(const char *name)
{
    aecl_idx y;
    CHECK_OK(NULL, aecl_idx_read_labels(NULL, test_path(name), 0, &y));
    CHECK(y.ndim == 1 && y.dims[0] == 5 && y.count == 5 && y.data == NULL && y.u8 != NULL);
    for (int i = 0; y.u8 && i < 5; i++) CHECK(y.u8[i] == i);
    aecl_idx_free(&y);
    CHECK_OK(NULL, aecl_idx_read_labels(NULL, test_path(name), 3, &y));
    CHECK(y.dims[0] == 3 && y.count == 3 && y.file_items == 5);
    aecl_idx_free(&y);
}

/* Every dtype, big-endian, through aecl_idx_read. */
static void test_dtypes(void)
{
    static const float want[6] = {-2.5f, 0.0f, 1.0f, 3.25f, -100.0f, 65504.0f};
    uint8_t buf[256];
    uint32_t d[2] = {2, 3};

    size_t n = idx_header(buf, 0x0D, 2, d);
    for (int i = 0; i < 6; i++) {
        uint32_t u;
        memcpy(&u, &want[i], 4);
        for (int b = 0; b < 4; b++) buf[n++] = (uint8_t)(u >> (24 - 8 * b));
    }
    write_gz(test_path("f32.idx.gz"), buf, n);
    aecl_idx x;
    CHECK_OK(NULL, aecl_idx_read(NULL, test_path("f32.idx.gz"), 0, AECL_IDX_SCALE01, &x));
    CHECK(x.dtype == AECL_IDX_FLOAT32 && x.ndim == 2 && x.count == 6);
    for (int i = 0; x.data && i < 6; i++) CHECK(x.data[i] == want[i]);   /* no scaling */
    aecl_idx_free(&x);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("f32.idx.gz"), 0, AECL_IDX_RAW_U8, &x),
               AECL_ERR_FORMAT, "float32");

    n = idx_header(buf, 0x0E, 2, d);
    for (int i = 0; i < 6; i++) {
        double v = want[i];
        uint64_t u;
        memcpy(&u, &v, 8);
        for (int b = 0; b < 8; b++) buf[n++] = (uint8_t)(u >> (56 - 8 * b));
    }
    test_write_file(test_path("f64.idx"), buf, n);
    CHECK_OK(NULL, aecl_idx_read(NULL, test_path("f64.idx"), 0, 0, &x));
    for (int i = 0; x.data && i < 6; i++) CHECK(x.data[i] == want[i]);
    aecl_idx_free(&x);

    static const int ints[6] = {-2, 0, 1, 3, -100, 127};
    n = idx_header(buf, 0x0C, 2, d);
    for (int i = 0; i < 6; i++)
        for (int b = 0; b < 4; b++) buf[n++] = (uint8_t)((uint32_t)ints[i] >> (24 - 8 * b));
    test_write_file(test_path("i32.idx"), buf, n);
    CHECK_OK(NULL, aecl_idx_read(NULL, test_path("i32.idx"), 1, 0, &x));
    CHECK(x.dims[0] == 1 && x.count == 3);
    for (int i = 0; x.data && i < 3; i++) CHECK(x.data[i] == (float)ints[i]);
    aecl_idx_free(&x);

    n = idx_header(buf, 0x0B, 2, d);
    for (int i = 0; i < 6; i++) {
        buf[n++] = (uint8_t)((uint16_t)ints[i] >> 8);
        buf[n++] = (uint8_t)ints[i];
    }
    test_write_file(test_path("i16.idx"), buf, n);
    CHECK_OK(NULL, aecl_idx_read(NULL, test_path("i16.idx"), 0, 0, &x));
    for (int i = 0; x.data && i < 6; i++) CHECK(x.data[i] == (float)ints[i]);
    aecl_idx_free(&x);

    n = idx_header(buf, 0x09, 2, d);
    for (int i = 0; i < 6; i++) buf[n++] = (uint8_t)(int8_t)ints[i];
    test_write_file(test_path("i8.idx"), buf, n);
    CHECK_OK(NULL, aecl_idx_read(NULL, test_path("i8.idx"), 0, 0, &x));
    for (int i = 0; x.data && i < 6; i++) CHECK(x.data[i] == (float)ints[i]);
    aecl_idx_free(&x);
}

static void test_errors(void)
{
    aecl_idx x;
    memset(&x, 0x5a, sizeof x);
    CHECK_FAIL(aecl_idx_read_images(NULL, test_path("nope.idx.gz"), 0, 0, &x), AECL_ERR_IO,
               "nope.idx.gz");
    CHECK(x.data == NULL && x.u8 == NULL && x.count == 0);   /* zeroed on failure */
    aecl_idx_free(&x);

    /* Wrong magic: labels read as images and the other way round. */
    CHECK_FAIL(aecl_idx_read_images(NULL, test_path("lab.idx.gz"), 0, 0, &x), AECL_ERR_FORMAT,
               "expected 0x00000803, found 0x00000801");
    CHECK_FAIL(aecl_idx_read_labels(NULL, test_path("img.idx"), 0, &x), AECL_ERR_FORMAT,
               "expected 0x00000801, found 0x00000803");

    /* Not IDX at all. */
    test_write_file(test_path("text.idx"), "hello world\n", 12);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("text.idx"), 0, 0, &x), AECL_ERR_FORMAT,
               "not an IDX file: magic 0x68656c6c");
    test_write_file(test_path("empty.idx"), "", 0);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("empty.idx"), 0, 0, &x), AECL_ERR_FORMAT,
               "truncated header");

    /* Truncated data, plain and gzip: 16 + 60 bytes cut to 16 + 50. */
    test_write_file(test_path("cut.idx"), images_file, images_len - 10);
    CHECK_FAIL(aecl_idx_read_images(NULL, test_path("cut.idx"), 0, 0, &x), AECL_ERR_FORMAT,
               "declares 60 values but holds 50 bytes of data");
    write_gz(test_path("cut.idx.gz"), images_file, images_len - 10);
    CHECK_FAIL(aecl_idx_read_images(NULL, test_path("cut.idx.gz"), 0, 0, &x), AECL_ERR_FORMAT,
               "expected 60 bytes after the header, got 50");
    /* ... but a subset that fits in what is there reads fine. */
    CHECK_OK(NULL, aecl_idx_read_images(NULL, test_path("cut.idx.gz"), 4, 0, &x));
    CHECK(x.dims[0] == 4);
    aecl_idx_free(&x);
    test_write_file(test_path("cuthead.idx"), images_file, 9);
    CHECK_FAIL(aecl_idx_read_images(NULL, test_path("cuthead.idx"), 0, 0, &x), AECL_ERR_FORMAT,
               "truncated header: expected 3 dims");

    /* A truncated gzip stream (the compressed file cut short). */
    uint8_t big[16 + 4000];
    uint32_t d[3] = {10, 20, 20};
    size_t n = idx_header(big, 0x08, 3, d);
    unsigned s = 1;
    for (int i = 0; i < 4000; i++) big[n++] = (uint8_t)((s = s * 1103515245u + 12345u) >> 24);
    write_gz(test_path("big.idx.gz"), big, n);
    size_t gz_n = file_size(test_path("big.idx.gz"));
    uint8_t *gz = malloc(gz_n);
    FILE *f = fopen(test_path("big.idx.gz"), "rb");
    CHECK(f && fread(gz, 1, gz_n, f) == gz_n);
    if (f) fclose(f);
    test_write_file(test_path("bigcut.idx.gz"), gz, gz_n / 2);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("bigcut.idx.gz"), 0, 0, &x), AECL_ERR_FORMAT,
               "truncated data: expected 4000 bytes after the header, got");
    /* Corrupt deflate data: an invalid block type right after the gzip header. */
    gz[10] = 0xff;
    test_write_file(test_path("bad.idx.gz"), gz, gz_n);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("bad.idx.gz"), 0, 0, &x), AECL_ERR_FORMAT,
               "corrupt gzip data");
    free(gz);

    /* Dims whose product overflows; huge but non-overflowing dims fail as truncated
     * without allocating what they claim. */
    uint32_t huge[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    n = idx_header(big, 0x0D, 4, huge);
    test_write_file(test_path("overflow.idx"), big, n + 8);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("overflow.idx"), 0, 0, &x), AECL_ERR_FORMAT,
               "overflow");
    uint32_t large[3] = {0x7fffffffu, 28, 28};
    n = idx_header(big, 0x08, 3, large);
    test_write_file(test_path("large.idx"), big, n + 100);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("large.idx"), 0, 0, &x), AECL_ERR_FORMAT,
               "declares 1.7e12 values but holds 100 bytes of data");
    uint32_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    n = idx_header(big, 0x08, 9, nine);
    test_write_file(test_path("ninedims.idx"), big, n + 1);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("ninedims.idx"), 0, 0, &x), AECL_ERR_FORMAT, "9 dims");
}

/* Bytes after the declared items, non-finite floats and files of no items. */
static void test_declared(void)
{
    aecl_idx x;
    uint8_t buf[128];
    memcpy(buf, images_file, images_len);
    buf[images_len] = 7;   /* one byte too many */
    test_write_file(test_path("long.idx"), buf, images_len + 1);
    CHECK_FAIL(aecl_idx_read_images(NULL, test_path("long.idx"), 0, 0, &x), AECL_ERR_FORMAT,
               "bytes after the 5 items the header declares");
    write_gz(test_path("long.idx.gz"), buf, images_len + 1);
    CHECK_FAIL(aecl_idx_read_images(NULL, test_path("long.idx.gz"), 0, 0, &x), AECL_ERR_FORMAT,
               "bytes after the 5 items");
    CHECK_OK(NULL, aecl_idx_read_images(NULL, test_path("long.idx.gz"), 4, 0, &x));   /* a subset reads no further */
    aecl_idx_free(&x);

    /* NaN in float32 data, a float64 beyond float32's range: named by index. */
    uint32_t d[2] = {2, 3};
    size_t n = idx_header(buf, 0x0D, 2, d);
    const float f[6] = {0, 1, 2, 3, NAN, 5};
    for (int i = 0; i < 6; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        for (int b = 0; b < 4; b++) buf[n++] = (uint8_t)(u >> (24 - 8 * b));
    }
    test_write_file(test_path("nan.idx"), buf, n);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("nan.idx"), 0, 0, &x), AECL_ERR_FORMAT,
               "value 4 (item 1, value 1 of it) is NaN");
    CHECK(x.data == NULL);
    n = idx_header(buf, 0x0E, 2, d);
    for (int i = 0; i < 6; i++) {
        double v = i == 2 ? 1e300 : i;
        uint64_t u;
        memcpy(&u, &v, 8);
        for (int b = 0; b < 8; b++) buf[n++] = (uint8_t)(u >> (56 - 8 * b));
    }
    test_write_file(test_path("big64.idx"), buf, n);
    CHECK_FAIL(aecl_idx_read(NULL, test_path("big64.idx"), 0, 0, &x), AECL_ERR_FORMAT,
               "value 2 (item 0, value 2 of it) is infinite as a float32");

    /* No items: nothing allocated (the float buffer of an empty file was never freed
     * by callers that skip an empty data set). */
    uint32_t none[3] = {0, 28, 28};
    n = idx_header(buf, 0x08, 3, none);
    test_write_file(test_path("none.idx"), buf, n);
    CHECK_OK(NULL, aecl_idx_read_images(NULL, test_path("none.idx"), 0, 1, &x));
    CHECK(x.dims[0] == 0 && x.count == 0 && x.item_elems == 784 && x.data == NULL);
    aecl_idx_free(&x);
}

/* The real Fashion-MNIST files, when installed. */
static void test_fashion_mnist(void)
{
    const char *dir = getenv("AECL_FASHION_MNIST");
    if (!dir) dir = "/usr/share/datasets/fashion-mnist";
    char p[1024];
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    if (access(p, R_OK) != 0) {
        printf("Fashion-MNIST not found in %s: real-data checks skipped\n", dir);
        return;
    }
    static const int train_first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    static const int test_first[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    aecl_idx y;
    CHECK_OK(NULL, aecl_idx_read_labels(NULL, p, 10, &y));
    CHECK(y.dims[0] == 10 && y.file_items == 60000);
    for (int i = 0; y.u8 && i < 10; i++) CHECK(y.u8[i] == train_first[i]);
    aecl_idx_free(&y);

    CHECK_OK(NULL, aecl_idx_read_labels(NULL, p, 0, &y));   /* full: 6000 per class */
    int hist[10] = {0}, bad = 0;
    for (size_t i = 0; y.u8 && i < y.count; i++) {
        if (y.u8[i] < 10) hist[y.u8[i]]++;
        else bad++;
    }
    CHECK(y.count == 60000 && bad == 0);
    for (int c = 0; c < 10; c++) CHECK(hist[c] == 6000);
    aecl_idx_free(&y);

    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", dir);
    CHECK_OK(NULL, aecl_idx_read_labels(NULL, p, 10, &y));
    for (int i = 0; y.u8 && i < 10; i++) CHECK(y.u8[i] == test_first[i]);
    aecl_idx_free(&y);

    /* Subset of the training images: first and 100th image pixel sums (from an
     * independent decoder). */
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir);
    aecl_idx x, xs;
    CHECK_OK(NULL, aecl_idx_read_images(NULL, p, 100, 0, &x));
    CHECK_OK(NULL, aecl_idx_read_images(NULL, p, 100, 1, &xs));
    CHECK(x.dims[0] == 100 && x.dims[1] == 28 && x.dims[2] == 28 && x.file_items == 60000);
    double s0 = 0, s99 = 0, mx = 0;
    int scaled_ok = 1;
    for (size_t i = 0; x.data && xs.data && i < 784; i++) {
        s0 += x.data[i];
        s99 += x.data[99 * 784 + i];
    }
    for (size_t i = 0; x.data && xs.data && i < x.count; i++) {
        if (x.data[i] > mx) mx = x.data[i];
        if (fabsf(xs.data[i] - x.data[i] / 255.0f) > 1e-6f || xs.data[i] < 0 || xs.data[i] > 1)
            scaled_ok = 0;
    }
    CHECK(s0 == 76247 && s99 == 73088 && mx == 255);
    CHECK(scaled_ok);
    aecl_idx_free(&x);
    aecl_idx_free(&xs);

    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte.gz", dir);
    CHECK_OK(NULL, aecl_idx_read_images(NULL, p, 0, 0, &x));
    CHECK(x.dims[0] == 10000 && x.count == 7840000);
    double total = 0;
    for (size_t i = 0; x.data && i < x.count; i++) total += x.data[i];
    CHECK_NEAR(total, 573469082.0, 0.5);
    aecl_idx_free(&x);
}

int main(void)
{
    test_tmp_setup("io_idx");
    make_small_files();
    test_small_images("img.idx");
    test_small_images("img.idx.gz");
    test_small_labels("lab.idx");
    test_small_labels("lab.idx.gz");
    test_dtypes();
    test_errors();
    test_declared();
    test_fashion_mnist();
    test_tmp_cleanup();
    return test_finish();
}

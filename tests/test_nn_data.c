/* Data sets: CSV rows with and without a header and label column, limits and
 * shape checks, seeded validation splits, IDX images with labels, and scaling
 * (fit against host statistics, apply, metadata text round trip, bad text),
 * .npy samples and labels. */
#include "check.h"
#include "nn/train.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA "/usr/share/datasets/fashion-mnist/"

static char *write_tmp(const char *text)
{
    static char paths[4][64];
    static int k;
    char *p = paths[k++ % 4];
    snprintf(p, 64, "/tmp/aecl-data-XXXXXX");
    int fd = mkstemp(p);
    if (fd < 0) return p;
    size_t n = strlen(text);
    CHECK(write(fd, text, n) == (ssize_t)n);
    close(fd);
    return p;
}

static void test_csv(aecl_ctx *ctx)
{
    char *p = write_tmp("a,b,kind,c\n1,2,0,3\n4,5,1,6\n7,8,2,9\n");
    aecl_csv_opts o = {.label_name = "kind"};
    aecl_dataset d;
    CHECK_OK(ctx, aecl_dataset_load_csv(ctx, p, &o, 0, 3, &d));
    CHECK(d.n == 3 && d.features == 3);
    float want[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK(d.x && !memcmp(d.x, want, sizeof want));
    CHECK(d.labels && d.labels[0] == 0 && d.labels[1] == 1 && d.labels[2] == 2);
    aecl_dataset_free(&d);
    /* The same file without taking the label out: 4 columns, and the limit. */
    CHECK_OK(ctx, aecl_dataset_load_csv(ctx, p, NULL, 2, 0, &d));
    CHECK(d.n == 2 && d.features == 4 && !d.labels && d.x && d.x[6] == 1);
    aecl_dataset_free(&d);
    /* Wrong width for the model: a shape error naming the file. */
    CHECK(aecl_dataset_load_csv(ctx, p, NULL, 0, 3, &d) == AECL_ERR_SHAPE && !d.x);
    CHECK(strstr(aecl_ctx_last_error(ctx), p) != NULL);
    unlink(p);
    /* No header, label the last column by index. */
    p = write_tmp("0.5,1.5,3\n2.5,3.5,4\n");
    o = (aecl_csv_opts){.has_label = 1, .label_index = -1};
    CHECK_OK(ctx, aecl_dataset_load_csv(ctx, p, &o, 0, 2, &d));
    CHECK(d.n == 2 && d.features == 2 && d.x && d.x[3] == 3.5f && d.labels && d.labels[1] == 4);
    aecl_dataset_free(&d);
    unlink(p);
    /* A bad number: a format error with file:line. */
    p = write_tmp("1,2\n3,x4\n");
    CHECK(aecl_dataset_load_csv(ctx, p, NULL, 0, 0, &d) == AECL_ERR_FORMAT);
    CHECK(strstr(aecl_ctx_last_error(ctx), ":2") != NULL);
    unlink(p);
}

static void test_split(aecl_ctx *ctx)
{
    aecl_dataset all = {.n = 100, .features = 2}, tr, val, tr2, val2;
    all.x = malloc(200 * sizeof *all.x);
    all.labels = malloc(100 * sizeof *all.labels);
    for (int i = 0; all.x && all.labels && i < 100; i++) { all.x[2 * i] = (float)i; all.x[2 * i + 1] = -(float)i; all.labels[i] = i; }
    aecl_dataset copy = all;
    CHECK(aecl_dataset_split(ctx, &copy, 1.0, 1, &tr, &val) == AECL_ERR_INVALID_ARG);
    CHECK_OK(ctx, aecl_dataset_split(ctx, &copy, 0.2, 7, &tr, &val));
    CHECK(tr.n == 80 && val.n == 20 && copy.x == NULL);
    /* Each sample lands once, rows stay whole with their labels, order kept. */
    int seen[100] = {0}, order_ok = 1;
    for (size_t i = 0; i < tr.n + val.n; i++) {
        const aecl_dataset *d = i < tr.n ? &tr : &val;
        size_t r = i < tr.n ? i : i - tr.n;
        int v = (int)d->x[2 * r];
        if (v >= 0 && v < 100) seen[v]++;
        CHECK(d->x[2 * r + 1] == -(float)v && d->labels[r] == v);
        if (r > 0 && d->x[2 * r] <= d->x[2 * r - 2]) order_ok = 0;
    }
    int all_once = 1;
    for (int i = 0; i < 100; i++) all_once &= seen[i] == 1;
    CHECK(all_once && order_ok);
    /* Not just the tail: validation samples spread over the file. */
    CHECK(val.x[0] < 80);
    /* Same seed, same split; another seed, another one. */
    aecl_dataset again = {.n = 100, .features = 2, .x = malloc(200 * sizeof(float))};
    for (int i = 0; i < 100; i++) { again.x[2 * i] = (float)i; again.x[2 * i + 1] = -(float)i; }
    CHECK_OK(ctx, aecl_dataset_split(ctx, &again, 0.2, 7, &tr2, &val2));
    CHECK(!memcmp(val.x, val2.x, 40 * sizeof(float)));
    aecl_dataset_free(&tr2);
    aecl_dataset_free(&val2);
    again = (aecl_dataset){.n = 100, .features = 2, .x = malloc(200 * sizeof(float))};
    for (int i = 0; i < 100; i++) { again.x[2 * i] = (float)i; again.x[2 * i + 1] = -(float)i; }
    CHECK_OK(ctx, aecl_dataset_split(ctx, &again, 0.2, 8, &tr2, &val2));
    CHECK(memcmp(val.x, val2.x, 40 * sizeof(float)) != 0);
    aecl_dataset_free(&tr2);
    aecl_dataset_free(&val2);
    aecl_dataset_free(&tr);
    aecl_dataset_free(&val);
}

static void test_scaling(aecl_ctx *ctx)
{
    enum { N = 50, F = 3 };
    float x[N * F], y[N * F];
    for (int i = 0; i < N; i++) { x[i * F] = (float)(i * i) - 30; x[i * F + 1] = 5; x[i * F + 2] = sinf((float)i) * 7; }
    aecl_scaling s, s2;
    CHECK_OK(ctx, aecl_scaling_fit(ctx, AECL_SCALE_MINMAX, x, N, F, &s));
    memcpy(y, x, sizeof x);
    CHECK_OK(ctx, aecl_scaling_apply(&s, y, N, F));
    for (int f = 0; f < F; f++) {
        double lo = 1e9, hi = -1e9;
        for (int i = 0; i < N; i++) { lo = fmin(lo, y[i * F + f]); hi = fmax(hi, y[i * F + f]); }
        CHECK_NEAR(lo, 0, 1e-6);
        CHECK_NEAR(hi, f == 1 ? 0 : 1, 1e-6); /* a constant feature maps to 0 */
    }
    CHECK(aecl_scaling_apply(&s, y, N, F + 1) == AECL_ERR_SHAPE);
    CHECK_OK(ctx, aecl_scaling_apply(&s, NULL, 0, 0));   /* an empty set (no validation data): nothing to do */
    /* The metadata text gives back the same floats, bit for bit. */
    char *text = NULL;
    CHECK_OK(ctx, aecl_scaling_format(ctx, &s, &text));
    CHECK(text && !strncmp(text, "minmax 3 ", 9));
    CHECK_OK(ctx, aecl_scaling_parse(ctx, text, "t", &s2));
    CHECK(s2.kind == AECL_SCALE_MINMAX && s2.features == F && !memcmp(s.offset, s2.offset, sizeof(float) * F) &&
          !memcmp(s.scale, s2.scale, sizeof(float) * F));
    free(text);
    aecl_scaling_free(&s);
    aecl_scaling_free(&s2);
    CHECK_OK(ctx, aecl_scaling_fit(ctx, AECL_SCALE_STANDARD, x, N, F, &s));
    memcpy(y, x, sizeof x);
    CHECK_OK(ctx, aecl_scaling_apply(&s, y, N, F));
    for (int f = 0; f < F; f += 2) {
        double m = 0, v = 0;
        for (int i = 0; i < N; i++) m += y[i * F + f];
        m /= N;
        for (int i = 0; i < N; i++) v += (y[i * F + f] - m) * (y[i * F + f] - m);
        CHECK_NEAR(m, 0, 1e-5);
        CHECK_NEAR(sqrt(v / N), 1, 1e-5);
    }
    aecl_scaling_free(&s);
    /* A spread too small to invert in float (1 / 1e-40 overflows) scales by 1, as a
     * constant feature does, instead of by infinity. */
    float tiny[4] = {0, 1e-40f, 0, 2e-40f};
    CHECK_OK(ctx, aecl_scaling_fit(ctx, AECL_SCALE_MINMAX, tiny, 4, 1, &s));
    CHECK(s.scale && s.scale[0] == 1);
    aecl_scaling_free(&s);
    CHECK_OK(ctx, aecl_scaling_fit(ctx, AECL_SCALE_STANDARD, tiny, 4, 1, &s));
    CHECK(s.scale && s.scale[0] == 1);
    aecl_scaling_free(&s);
    /* none formats as "none"; bad text is a format error. */
    aecl_scaling none = {0};
    CHECK_OK(ctx, aecl_scaling_format(ctx, &none, &text));
    CHECK(text && !strcmp(text, "none"));
    free(text);
    const char *bad[] = {"minmax", "minmax 2 1,2 3", "minmax 2 1,2 3,4,5", "standard 2 1,x 3,4", "foo 1 1 1",
                         "none 1 1 1", "minmax 0", "minmax 1 1 nan", "minmax 1 0 1e39", "standard 1 -4e38 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(aecl_scaling_parse(ctx, bad[i], "w.st", &s2) == AECL_ERR_FORMAT && !s2.offset, "%s", bad[i]);
    CHECK(strstr(aecl_ctx_last_error(ctx), "w.st") != NULL);
    aecl_scale_kind k;
    CHECK(aecl_scale_parse(ctx, "standard", &k) == AECL_OK && k == AECL_SCALE_STANDARD);
    CHECK(aecl_scale_parse(ctx, "zscore", &k) == AECL_ERR_INVALID_ARG);
}

static void test_idx(aecl_ctx *ctx)
{
    aecl_dataset d;
    CHECK_OK(ctx, aecl_dataset_load_idx(ctx, DATA "train-images-idx3-ubyte.gz", DATA "train-labels-idx1-ubyte.gz", 20,
                                        784, &d));
    CHECK(d.n == 20 && d.features == 784 && d.labels && d.labels[0] == 9); /* the first is an ankle boot */
    float lo = 1, hi = 0;
    for (size_t i = 0; d.x && i < d.n * d.features; i++) { lo = fminf(lo, d.x[i]); hi = fmaxf(hi, d.x[i]); }
    CHECK(lo == 0 && hi == 1);
    aecl_dataset_free(&d);
    CHECK_FAIL(aecl_dataset_load_idx(ctx, DATA "train-images-idx3-ubyte.gz", NULL, 5, 30, &d), AECL_ERR_SHAPE,
               "samples of 784 values, the model's input takes 30");
}

/* A .npy of int64 labels, written byte by byte (little-endian). */
static void write_i64_labels(const char *path, const int64_t *v, size_t n)
{
    char h[128], buf[256];
    int hl = snprintf(h, sizeof h, "{'descr': '<i8', 'fortran_order': False, 'shape': (%zu,), }\n", n);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)hl;
    buf[9] = 0;
    memcpy(buf + 10, h, (size_t)hl);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++) buf[10 + hl + 8 * i + b] = (char)((uint64_t)v[i] >> (8 * b));
    test_write_file(path, buf, 10 + (size_t)hl + 8 * n);
}

/* .npy samples (shape[0] of them, the rest flattened), their labels from a .npy
 * of integers or an IDX file, and the one-class selection on them. */
static void test_npy(aecl_ctx *ctx)
{
    char x[512], lab[512];
    snprintf(x, sizeof x, "%s", test_path("x.npy"));   /* test_path's buffer is reused */
    snprintf(lab, sizeof lab, "%s", test_path("lab.npy"));
    float v[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    size_t shape[3] = {4, 1, 3};
    CHECK_OK(ctx, aecl_npy_write(ctx, x, v, 3, shape));
    aecl_dataset d;
    CHECK_OK(ctx, aecl_dataset_load_npy(ctx, x, 0, 3, &d));
    CHECK(d.n == 4 && d.features == 3 && d.x && d.x[11] == 11 && !d.labels);
    write_i64_labels(lab, (const int64_t[]){3, 1, 4, 1}, 4);
    CHECK_OK(ctx, aecl_dataset_load_labels(ctx, lab, &d));
    CHECK(d.labels && d.labels[0] == 3 && d.labels[2] == 4 && d.labels[3] == 1);
    CHECK_OK(ctx, aecl_dataset_keep_label(ctx, &d, 1));
    CHECK(d.n == 2 && d.x && d.x[0] == 3 && d.x[3] == 9);
    aecl_dataset_free(&d);
    CHECK_OK(ctx, aecl_dataset_load_npy(ctx, x, 2, 0, &d));
    CHECK(d.n == 2);
    write_i64_labels(lab, (const int64_t[]){7}, 1);
    CHECK_FAIL(aecl_dataset_load_labels(ctx, lab, &d), AECL_ERR_FORMAT, "1 labels for 2 samples");
    CHECK(!d.labels);
    aecl_dataset_free(&d);
    CHECK_FAIL(aecl_dataset_load_npy(ctx, x, 0, 5, &d), AECL_ERR_SHAPE, "samples of 3 values, the model's input takes 5");
    CHECK(!d.x);
    CHECK_OK(ctx, aecl_npy_write(ctx, x, v, 0, NULL));
    CHECK_FAIL(aecl_dataset_load_npy(ctx, x, 0, 0, &d), AECL_ERR_FORMAT, "no samples");
    /* IDX labels for samples from elsewhere. */
    CHECK_OK(ctx, aecl_dataset_load_idx(ctx, DATA "train-images-idx3-ubyte.gz", NULL, 3, 784, &d));
    CHECK_OK(ctx, aecl_dataset_load_labels(ctx, DATA "train-labels-idx1-ubyte.gz", &d));
    CHECK(d.labels && d.labels[0] == 9);
    aecl_dataset_free(&d);
}

int main(void)
{
    test_csv(NULL);
    test_split(NULL);
    test_scaling(NULL);
    test_idx(NULL);
    test_tmp_setup("nn_data");
    test_npy(NULL);
    test_tmp_cleanup();
    return test_finish();
}

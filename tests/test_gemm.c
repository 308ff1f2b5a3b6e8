#define _POSIX_C_SOURCE 200809L /* setenv */
/* GEMM against a plain C reference (double accumulation): every transpose
 * combination, odd sizes that are multiples of no tile, bias on/off, every
 * activation, alpha/beta, row strides, nonzero offsets, both forced paths; the rest
 * of C must stay untouched; the row sums of op(A) on every kernel variant. Also: replay of a prepared launch, argument checks, and
 * the AUTO choice with its cache file (read, corrupt file rewritten). */
#include "gemm_fixture.h"
#include "rt/ctx.h"
#include "rt/tuning.h"

#include <stdlib.h>
#include <string.h>

/* A plain GEMM case, in the fields' order (no gradient epilogue). */
static gf_case plain(int M, int N, int K, int ta, int tb, float alpha, float beta, aecl_act act, float slope, int bias,
                     int pad, aecl_gemm_path path)
{
    return (gf_case){.M = M, .N = N, .K = K, .ta = ta, .tb = tb, .alpha = alpha, .beta = beta, .act = act,
                     .slope = slope, .bias = bias, .pad = pad, .path = path, .grad_act = AECL_ACT_NONE};
}

/* Sizes that are multiples of no tile, mixed so every edge case meets every other. */
static void test_sizes_and_transposes(aecl_ctx *ctx)
{
    static const int sz[][3] = {{1, 1, 1},    {3, 17, 1},    {17, 3, 33},   {33, 65, 3},   {65, 1, 17},
                                {127, 129, 65}, {129, 33, 127}, {1, 129, 129}, {129, 1, 5},   {17, 127, 129},
                                {64, 64, 64}, {128, 96, 80}, {31, 47, 16},  {9, 257, 63}};
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++)
        for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
            for (int t = 0; t < 4; t++) {
                /* CLBlast's own correctness is not on trial: a subset checks the wiring */
                if (path == AECL_GEMM_CLBLAST && i % 3 == 2) continue;
                gf_case g = plain(sz[i][0], sz[i][1], sz[i][2], t & 1, t >> 1, 1.0f, 0.0f, AECL_ACT_NONE, 0,
                                  (int)(i & 1), 0, (aecl_gemm_path)path);
                if (i % 3 == 1) { g.alpha = 0.75f; g.beta = 0.5f; }
                if (i % 4 == 2) g.pad = 3;
                gf_run_case(ctx, &g, "sizes");
            }
}

/* Kernels the normal choice does not reach on this device (the device table's
 * gemm_kernel, set with aecl_ctx_tune):
 * gemm_outer with TRANS_B (its in-register transposition), gemm_dot, gemm_packed
 * where it is not the default, and the portable (GPU) parameter set. */
static void test_kernel_variants(aecl_ctx *ctx)
{
    static const char *variants[] = {"outer", "dot", "packed", "portable"};
    static const int sz[][3] = {{127, 129, 65}, {33, 17, 40}, {64, 48, 32}, {5, 70, 1}};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        char spec[48];
        snprintf(spec, sizeof spec, "gemm_kernel=%s", variants[v]);
        CHECK_OK(ctx, aecl_ctx_tune(ctx, spec));
        for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
            for (int t = 0; t < 4; t++) {
                gf_case g = plain(sz[i][0], sz[i][1], sz[i][2], t & 1, t >> 1, 1.0f, i == 1 ? 0.5f : 0.0f,
                                  AECL_ACT_NONE, 0, 1, i == 2 ? 3 : 0, AECL_GEMM_OWN);
                if ((!g.tb && v != 3) || (v == 1 && g.ta)) continue; /* no such variant there */
                gf_run_case(ctx, &g, variants[v]);
            }
    }
    CHECK_OK(ctx, aecl_ctx_tune(ctx, NULL));
}

/* The row sums of op(A) (a dense layer's bias gradient beside dW = gz^T x) on
 * every kernel variant and both paths: every transpose, sizes that leave partial
 * register blocks and column blocks, bias, gradient epilogue, padded strides.
 * The sums start poisoned (NaN) and their neighbours must stay untouched. */
static void test_row_sums(aecl_ctx *ctx, int small)
{
    static const char *variants[] = {NULL, "gemm_kernel=outer", "gemm_kernel=dot", "gemm_kernel=packed",
                                     "gemm_kernel=portable", "gemm_vw=16", "gemm=clblast"};
    /* small (Oclgrind): the same kinds of edges at a fraction of the work */
    static const int sz[][3] = {{127, 129, 65}, {33, 17, 40}, {5, 70, 1}, {129, 33, 128}, {1, 3, 7}};
    static const int sz_small[][3] = {{19, 37, 9}, {33, 17, 40}, {5, 70, 1}, {21, 5, 16}, {1, 3, 7}};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        CHECK_OK(ctx, aecl_ctx_tune(ctx, variants[v]));
        for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
            for (int t = 0; t < 4; t++) {
                const int *z = small ? sz_small[i] : sz[i];
                gf_case g = plain(z[0], z[1], z[2], t & 1, t >> 1, 1.0f, i == 1 ? 0.5f : 0.0f,
                                  AECL_ACT_NONE, 0, (int)(i & 1), i == 2 ? 3 : 0,
                                  variants[v] && !strcmp(variants[v], "gemm=clblast") ? AECL_GEMM_CLBLAST
                                                                                      : AECL_GEMM_OWN);
                g.row_sums = 1;
                if (i == 3) g.grad_act = AECL_ACT_RELU;
                gf_run_case(ctx, &g, variants[v] ? variants[v] : "row sums");
            }
    }
    CHECK_OK(ctx, aecl_ctx_tune(ctx, NULL));
}

static void test_activations(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++)
        for (int a = AECL_ACT_NONE; a <= AECL_ACT_SOFTPLUS; a++) {
            float slope = a == AECL_ACT_ELU ? 0.7f : 0.1f;
            /* x W^T + b as in a dense layer (without a bias: see the sizes test) */
            gf_case g = plain(33, 65, 17, 0, 1, 1.5f, 0.5f, (aecl_act)a, slope, 1, 0, (aecl_gemm_path)path);
            gf_run_case(ctx, &g, "activation");
            gf_case h = plain(65, 40, 70, 0, 1, 1.0f, 0.0f, (aecl_act)a, slope, 1, 0, (aecl_gemm_path)path);
            gf_run_case(ctx, &h, "activation, longer K");
        }
}

/* alpha/beta corner cases; beta 0 must not read C (NaN there stays out). */
static void test_alpha_beta(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++) {
        gf_case g = plain(19, 45, 23, 1, 0, -1.5f, 1.0f, AECL_ACT_NONE, 0, 1, 2, (aecl_gemm_path)path);
        gf_run_case(ctx, &g, "alpha -1.5 beta 1");
        gf_case z = plain(19, 45, 23, 0, 0, 0.0f, 2.0f, AECL_ACT_TANH, 0, 1, 0, (aecl_gemm_path)path);
        gf_run_case(ctx, &z, "alpha 0");

        gf_case n = plain(21, 37, 9, 0, 1, 1.0f, 0.0f, AECL_ACT_RELU, 0, 1, 0, (aecl_gemm_path)path);
        gf_operands o;
        gf_dev dv;
        gf_operands_make(&n, &o);
        for (int m = 0; m < n.M; m++)
            for (int j = 0; j < n.N; j++) o.c0[GF_C_OFF + m * o.ldc + j] = NAN;
        CHECK(gf_upload(ctx, &o, &dv));
        aecl_gemm_desc d = gf_desc(&n, &o);
        CHECK_OK(ctx, aecl_gemm(ctx, &d, aecl_buffer_cl(dv.a), GF_A_OFF, aecl_buffer_cl(dv.b), GF_B_OFF,
                                aecl_buffer_cl(dv.c), GF_C_OFF, aecl_buffer_cl(dv.bias), GF_BIAS_OFF));
        CHECK_OK(ctx, aecl_buffer_download(dv.c, 0, o.c, o.nc * 4));
        gf_check_result(&n, &o, "beta 0 over NaN");
        gf_dev_free(&dv);
        gf_operands_free(&o);
    }
}

/* A prepared launch replayed three times with beta 1 accumulates 3 alpha*A*B. */
static void test_replay(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++) {
        gf_case g = plain(40, 70, 50, 0, 1, 1.0f, 1.0f, AECL_ACT_NONE, 0, 0, 0, (aecl_gemm_path)path);
        gf_operands o;
        gf_dev dv;
        gf_operands_make(&g, &o);
        CHECK(gf_upload(ctx, &o, &dv));
        aecl_gemm_desc d = gf_desc(&g, &o);
        aecl_launch l;
        CHECK_OK(ctx, aecl_gemm_prepare(ctx, &d, aecl_buffer_cl(dv.a), GF_A_OFF, aecl_buffer_cl(dv.b), GF_B_OFF,
                                        aecl_buffer_cl(dv.c), GF_C_OFF, NULL, 0, &l));
        CHECK(l.flops == 2.0 * 40 * 70 * 50);
        for (int r = 0; r < 3; r++) CHECK_OK(ctx, aecl_launch_enqueue(ctx, &l, NULL));
        aecl_launch_release(&l);
        CHECK_OK(ctx, aecl_buffer_download(dv.c, 0, o.c, o.nc * 4));
        g.alpha = 3.0f; /* what three accumulations amount to */
        gf_check_result(&g, &o, "replay x3");
        gf_dev_free(&dv);
        gf_operands_free(&o);
    }
}

static void test_bad_arguments(aecl_ctx *ctx)
{
    aecl_buffer *small;
    CHECK_OK(ctx, aecl_buffer_create(ctx, 100, 4, &small));
    cl_mem m = aecl_buffer_cl(small);
    aecl_launch l;
    aecl_gemm_desc d = aecl_gemm_desc_make(10, 10, 10, 0, 0);
    d.path = AECL_GEMM_OWN;
    /* 10x10 fits exactly at offset 0, not at offset 1 */
    CHECK_OK(ctx, aecl_gemm_prepare(ctx, &d, m, 0, m, 0, m, 0, NULL, 0, &l));
    aecl_launch_release(&l);
    CHECK(aecl_gemm_prepare(ctx, &d, m, 1, m, 0, m, 0, NULL, 0, &l) == AECL_ERR_INVALID_ARG);
    CHECK(strstr(aecl_ctx_last_error(ctx), "A") != NULL);
    CHECK(l.kernel == NULL && l.fn == NULL);
    CHECK(aecl_gemm_prepare(ctx, &d, m, 0, m, 0, m, 0, m, 95, &l) == AECL_ERR_INVALID_ARG);
    CHECK(aecl_gemm_prepare(ctx, &d, m, -1, m, 0, m, 0, NULL, 0, &l) == AECL_ERR_INVALID_ARG);
    CHECK(aecl_gemm_prepare(ctx, &d, NULL, 0, m, 0, m, 0, NULL, 0, &l) == AECL_ERR_INVALID_ARG);
    d.lda = 5; /* below K */
    CHECK(aecl_gemm_prepare(ctx, &d, m, 0, m, 0, m, 0, NULL, 0, &l) == AECL_ERR_INVALID_ARG);
    d.lda = 0;
    d.trans_a = 2;
    CHECK(aecl_gemm_prepare(ctx, &d, m, 0, m, 0, m, 0, NULL, 0, &l) == AECL_ERR_INVALID_ARG);
    d.trans_a = 0;
    d.act = (aecl_act)42;
    CHECK(aecl_gemm_prepare(ctx, &d, m, 0, m, 0, m, 0, NULL, 0, &l) == AECL_ERR_INVALID_ARG);
    d.act = AECL_ACT_NONE;
    d.K = 0;
    CHECK(aecl_gemm_prepare(ctx, &d, m, 0, m, 0, m, 0, NULL, 0, &l) == AECL_ERR_SHAPE);
    CHECK(strlen(aecl_ctx_last_error(ctx)) > 0);
    /* row sums need M floats: 10 fit at offset 90, not at 91 */
    d.K = 10;
    aecl_gemm_bufs b = {m, m, m, NULL, NULL, m, 0, 0, 0, 0, 0, 90};
    CHECK_OK(ctx, aecl_gemm_prepare_bufs(ctx, &d, &b, &l));
    aecl_launch_release(&l);
    b.row_sums_off = 91;
    CHECK(aecl_gemm_prepare_bufs(ctx, &d, &b, &l) == AECL_ERR_INVALID_ARG);
    CHECK(strstr(aecl_ctx_last_error(ctx), "row_sums") != NULL);
    CHECK(aecl_gemm_prepare_bufs(ctx, &d, NULL, &l) == AECL_ERR_INVALID_ARG);
    aecl_buffer_free(small);
}

/* ---- AUTO and the cache file ---------------------------------------------------- */

static int choice_file(char *path, size_t cap)
{
    const char *dir = getenv("AECL_CACHE_DIR");
    if (!dir || !*dir) return 0;
    snprintf(path, cap, "%s/%s", dir, AECL_GEMM_CHOICE_FILE);
    return 1;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, fp) : 0;
    (void)n;
    fclose(fp);
    return buf;
}

static void spill(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return;
    fputs(text, fp);
    fclose(fp);
}

/* Forgets this context's decisions, so the next select reads the file. */
static void forget(aecl_ctx *ctx) { aecl_gemm_select_forget(ctx); }

static void test_auto_choice(aecl_ctx *ctx)
{
    char path[1024], line[1024];
    if (!choice_file(path, sizeof path)) {
        printf("AECL_CACHE_DIR not set: skipping the cache-file checks\n");
        return;
    }
    const aecl_device_info *di = aecl_ctx_device(ctx);
    /* A planted decision is obeyed (whatever a measurement would say). */
    snprintf(line, sizeof line,
             "# aecl gemm choices v1\n%s\t%s\t77 5 3 0 1 1\tclblast\t9.0\t1.0\nother device\t1.0\t1 2 3 0 0 0\town\t1.0\t2.0\n",
             di->name, di->driver_version);
    spill(path, line);
    forget(ctx);
    aecl_gemm_desc d = aecl_gemm_desc_make(77, 5, 3, 0, 1);
    aecl_gemm_path p = AECL_GEMM_AUTO;
    CHECK_OK(ctx, aecl_gemm_select(ctx, &d, 1, &p));
    CHECK(p == AECL_GEMM_CLBLAST);
    /* Without an epilogue it is another key: measured, then appended. */
    CHECK_OK(ctx, aecl_gemm_select(ctx, &d, 0, &p));
    CHECK(p == AECL_GEMM_OWN || p == AECL_GEMM_CLBLAST);
    char *text = slurp(path);
    CHECK(text && strstr(text, "77 5 3 0 1 0\t") && strstr(text, "77 5 3 0 1 1\tclblast") &&
          strstr(text, "other device\t1.0\t1 2 3 0 0 0\town"));
    free(text);

    /* A corrupt file is ignored, then rewritten with a header and the new line. */
    spill(path, "garbage\n\x01\x02 not a cache file\n");
    forget(ctx);
    d = aecl_gemm_desc_make(13, 29, 31, 1, 0);
    CHECK_OK(ctx, aecl_gemm_select(ctx, &d, 0, &p));
    text = slurp(path);
    CHECK(text && !strncmp(text, "# aecl gemm choices v1\n", 23) && strstr(text, "13 29 31 1 0 0\t") &&
          !strstr(text, "garbage"));
    free(text);

    /* Bad lines inside a good file are dropped on rewrite, good ones kept. */
    snprintf(line, sizeof line,
             "# aecl gemm choices v1\n%s\t%s\t8 8 8 0 0 0\tbogus\t1\t1\nx\ty\t1 1\n%s\t%s\t9 9 9 0 0 0\town\t1.0\t2.0\n",
             di->name, di->driver_version, di->name, di->driver_version);
    spill(path, line);
    forget(ctx);
    d = aecl_gemm_desc_make(9, 9, 9, 0, 0);
    CHECK_OK(ctx, aecl_gemm_select(ctx, &d, 0, &p));
    CHECK(p == AECL_GEMM_OWN);
    d = aecl_gemm_desc_make(8, 8, 8, 0, 0);
    CHECK_OK(ctx, aecl_gemm_select(ctx, &d, 0, &p));
    text = slurp(path);
    CHECK(text && !strstr(text, "bogus") && !strstr(text, "x\ty") && strstr(text, "9 9 9 0 0 0\town") &&
          strstr(text, "8 8 8 0 0 0\t"));
    free(text);

    /* AUTO through prepare gives a correct result too. */
    gf_case g = plain(45, 70, 90, 0, 1, 1.0f, 0.0f, AECL_ACT_SIGMOID, 0, 1, 0, AECL_GEMM_AUTO);
    gf_run_case(ctx, &g, "auto");
    /* On a CPU that product (45 rows) took aecl's kernel without measuring
     * CLBlast, whose build would cost a first run seconds; a forward product of
     * fewer than 32 rows is still measured and recorded. */
    if (aecl_ctx_tuning(ctx)->cpu) {
        gf_case s = plain(20, 70, 90, 0, 1, 1.0f, 0.0f, AECL_ACT_SIGMOID, 0, 1, 0, AECL_GEMM_AUTO);
        gf_run_case(ctx, &s, "auto, 20 rows");
        text = slurp(path);
        CHECK(text && !strstr(text, "45 70 90 0 1 1\t") && strstr(text, "20 70 90 0 1 1\t"));
        free(text);
    }

    /* Measurement: both paths run here and take some time. */
    aecl_gemm_timing t;
    d = aecl_gemm_desc_make(64, 64, 64, 0, 0);
    CHECK_OK(ctx, aecl_gemm_measure(ctx, &d, 0, 3, &t));
    CHECK(t.own_s > 0 && t.clblast_s > 0);
    forget(ctx);
}

/* "test_gemm row_sums": only the row sums, at small sizes (the Oclgrind test). */
int main(int argc, char **argv)
{
    gf_seed = 20240611u;
    aecl_ctx *ctx = test_ctx();
    if (argc > 1 && !strcmp(argv[1], "row_sums")) {
        test_row_sums(ctx, 1);
        return test_finish();
    }
    test_bad_arguments(ctx);
    test_sizes_and_transposes(ctx);
    test_kernel_variants(ctx);
    test_row_sums(ctx, 0);
    test_activations(ctx);
    test_alpha_beta(ctx);
    test_replay(ctx);
    /* A private cache folder: other tests running in parallel add their own
     * lines to the shared one while this test asserts on the file's content. */
    char *shared = getenv("AECL_CACHE_DIR") ? strdup(getenv("AECL_CACHE_DIR")) : NULL;
    test_tmp_setup("gemm_cache");
    setenv("AECL_CACHE_DIR", test_tmpdir, 1);
    test_auto_choice(ctx);
    test_tmp_cleanup();
    if (shared) setenv("AECL_CACHE_DIR", shared, 1);
    else unsetenv("AECL_CACHE_DIR");
    free(shared);
    return test_finish();
}

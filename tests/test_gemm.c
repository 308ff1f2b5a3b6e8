#define _POSIX_C_SOURCE 200809L /* setenv */
/* GEMM against a plain C reference (double accumulation): every transpose
 * combination, odd sizes that are multiples of no tile, bias on/off, every
 * activation, alpha/beta, row strides, nonzero offsets, both forced paths; the rest
 * of C must stay untouched. Also: replay of a prepared launch, argument checks, and
 * the AUTO choice with its cache file (read, corrupt file rewritten). */
#include "check.h"
#include "ops/gemm.h"
#include "rt/ctx.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static unsigned seed = 20240611u;

/* Offsets of the operands inside their buffers: odd, so nothing is aligned. */
enum { A_OFF = 5, B_OFF = 7, C_OFF = 11, BIAS_OFF = 3, TAIL = 13 };

typedef struct gcase {
    int M, N, K, ta, tb;
    float alpha, beta;
    aecl_act act;
    float slope;
    int bias;
    int pad;              /* added to every row stride (0: packed) */
    aecl_gemm_path path;
} gcase;

static double act_ref(aecl_act a, double v, double s)
{
    switch (a) {
    case AECL_ACT_NONE: return v;
    case AECL_ACT_RELU: return v > 0 ? v : 0;
    case AECL_ACT_LEAKY_RELU: return v > 0 ? v : s * v;
    case AECL_ACT_SIGMOID: return 1 / (1 + exp(-v));
    case AECL_ACT_TANH: return tanh(v);
    case AECL_ACT_ELU: return v > 0 ? v : s * (exp(v) - 1);
    case AECL_ACT_SOFTPLUS: return log1p(exp(v));
    }
    return NAN;
}

/* Host copies of the operands, laid out as in the device buffers. */
typedef struct operands {
    int lda, ldb, ldc;
    size_t na, nb, nc, nbias;
    float *a, *b, *c0, *bias, *c;
} operands;

static size_t span(int rows, int ld, int off) { return (size_t)off + (size_t)rows * ld + TAIL; }

static void operands_make(const gcase *g, operands *o)
{
    o->lda = (g->ta ? g->M : g->K) + g->pad;
    o->ldb = (g->tb ? g->K : g->N) + g->pad;
    o->ldc = g->N + g->pad;
    o->na = span(g->ta ? g->K : g->M, o->lda, A_OFF);
    o->nb = span(g->tb ? g->N : g->K, o->ldb, B_OFF);
    o->nc = span(g->M, o->ldc, C_OFF);
    o->nbias = (size_t)BIAS_OFF + g->N + TAIL;
    o->a = malloc(o->na * 4);
    o->b = malloc(o->nb * 4);
    o->c0 = malloc(o->nc * 4);
    o->c = malloc(o->nc * 4);
    o->bias = malloc(o->nbias * 4);
    test_fill_uniform(o->a, o->na, -1, 1, &seed);
    test_fill_uniform(o->b, o->nb, -1, 1, &seed);
    test_fill_uniform(o->c0, o->nc, -1, 1, &seed);
    test_fill_uniform(o->bias, o->nbias, -1, 1, &seed);
}

static void operands_free(operands *o)
{
    free(o->a);
    free(o->b);
    free(o->c0);
    free(o->c);
    free(o->bias);
}

static double ref_at(const gcase *g, const operands *o, int m, int n)
{
    double s = 0;
    for (int k = 0; k < g->K; k++) {
        double av = g->ta ? o->a[A_OFF + (size_t)k * o->lda + m] : o->a[A_OFF + (size_t)m * o->lda + k];
        double bv = g->tb ? o->b[B_OFF + (size_t)n * o->ldb + k] : o->b[B_OFF + (size_t)k * o->ldb + n];
        s += av * bv;
    }
    double v = (double)g->alpha * s;
    if (g->beta != 0) v += (double)g->beta * o->c0[C_OFF + (size_t)m * o->ldc + n];
    if (g->bias) v += o->bias[BIAS_OFF + n];
    return act_ref(g->act, v, g->slope);
}

/* Float rounding grows with K (entries are in [-1, 1]). */
static double tolerance(const gcase *g, double ref)
{
    return 4 * FLT_EPSILON * ((double)fabsf(g->alpha) * g->K + fabsf(g->beta) + 2) + 8 * FLT_EPSILON * fabs(ref);
}

/* Compares C with the reference inside the target region and bit for bit outside. */
static void check_result(const gcase *g, const operands *o, const char *what)
{
    double worst = 0;
    size_t outside_changed = 0;
    for (size_t i = 0; i < o->nc; i++) {
        long r = (long)i - C_OFF;
        int m = r >= 0 ? (int)(r / o->ldc) : -1, n = r >= 0 ? (int)(r % o->ldc) : -1;
        if (m >= 0 && m < g->M && n < g->N) {
            double ref = ref_at(g, o, m, n), e = fabs(o->c[i] - ref) / tolerance(g, ref);
            if (!(e <= worst)) worst = e;
        } else if (memcmp(&o->c[i], &o->c0[i], 4)) {
            outside_changed++;
        }
    }
    CHECK_MSG(worst <= 1, "%s: M=%d N=%d K=%d trans %d%d act %d bias %d alpha %g beta %g pad %d path %d: error %.3g x tol",
              what, g->M, g->N, g->K, g->ta, g->tb, (int)g->act, g->bias, g->alpha, g->beta, g->pad, (int)g->path,
              worst);
    CHECK_MSG(outside_changed == 0, "%s: %zu elements outside C's region changed (M=%d N=%d K=%d trans %d%d)", what,
              outside_changed, g->M, g->N, g->K, g->ta, g->tb);
}

typedef struct dev_operands {
    aecl_buffer *a, *b, *c, *bias;
} dev_operands;

static int upload(aecl_ctx *ctx, const operands *o, dev_operands *d)
{
    memset(d, 0, sizeof *d);
    return aecl_buffer_create(ctx, o->na, 4, &d->a) == AECL_OK && aecl_buffer_create(ctx, o->nb, 4, &d->b) == AECL_OK &&
           aecl_buffer_create(ctx, o->nc, 4, &d->c) == AECL_OK &&
           aecl_buffer_create(ctx, o->nbias, 4, &d->bias) == AECL_OK &&
           aecl_buffer_upload(d->a, 0, o->a, o->na * 4) == AECL_OK &&
           aecl_buffer_upload(d->b, 0, o->b, o->nb * 4) == AECL_OK &&
           aecl_buffer_upload(d->c, 0, o->c0, o->nc * 4) == AECL_OK &&
           aecl_buffer_upload(d->bias, 0, o->bias, o->nbias * 4) == AECL_OK;
}

static void dev_free(dev_operands *d)
{
    aecl_buffer_free(d->a);
    aecl_buffer_free(d->b);
    aecl_buffer_free(d->c);
    aecl_buffer_free(d->bias);
}

static aecl_gemm_desc desc_of(const gcase *g, const operands *o)
{
    aecl_gemm_desc d = aecl_gemm_desc_make(g->M, g->N, g->K, g->ta, g->tb);
    d.alpha = g->alpha;
    d.beta = g->beta;
    d.act = g->act;
    d.slope = g->slope;
    d.path = g->path;
    if (g->pad) {
        d.lda = o->lda;
        d.ldb = o->ldb;
        d.ldc = o->ldc;
    }
    return d;
}

static void run_case(aecl_ctx *ctx, const gcase *g, const char *what)
{
    operands o;
    dev_operands dv;
    operands_make(g, &o);
    CHECK(upload(ctx, &o, &dv));
    aecl_gemm_desc d = desc_of(g, &o);
    CHECK_OK(ctx, aecl_gemm(ctx, &d, aecl_buffer_cl(dv.a), A_OFF, aecl_buffer_cl(dv.b), B_OFF, aecl_buffer_cl(dv.c),
                            C_OFF, g->bias ? aecl_buffer_cl(dv.bias) : NULL, BIAS_OFF));
    CHECK_OK(ctx, aecl_buffer_download(dv.c, 0, o.c, o.nc * 4));
    check_result(g, &o, what);
    dev_free(&dv);
    operands_free(&o);
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
                gcase g = {sz[i][0], sz[i][1], sz[i][2], t & 1, t >> 1, 1.0f, 0.0f, AECL_ACT_NONE, 0, (int)(i & 1),
                           0, (aecl_gemm_path)path};
                if (i % 3 == 1) { g.alpha = 0.75f; g.beta = 0.5f; }
                if (i % 4 == 2) g.pad = 3;
                run_case(ctx, &g, "sizes");
            }
}

/* Kernels the normal choice does not reach on this device (AECL_GEMM_KERNEL):
 * gemm_outer with TRANS_B (its in-register transposition), gemm_dot, gemm_packed
 * where it is not the default, and the portable (GPU) parameter set. */
static void test_kernel_variants(aecl_ctx *ctx)
{
    static const char *variants[] = {"outer", "dot", "packed", "portable"};
    static const int sz[][3] = {{127, 129, 65}, {33, 17, 40}, {64, 48, 32}, {5, 70, 1}};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        setenv("AECL_GEMM_KERNEL", variants[v], 1);
        for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
            for (int t = 0; t < 4; t++) {
                gcase g = {sz[i][0], sz[i][1], sz[i][2], t & 1, t >> 1, 1.0f, i == 1 ? 0.5f : 0.0f, AECL_ACT_NONE,
                           0, 1, i == 2 ? 3 : 0, AECL_GEMM_OWN};
                if ((!g.tb && v != 3) || (v == 1 && g.ta)) continue; /* no such variant there */
                run_case(ctx, &g, variants[v]);
            }
    }
    unsetenv("AECL_GEMM_KERNEL");
}

static void test_activations(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++)
        for (int a = AECL_ACT_NONE; a <= AECL_ACT_SOFTPLUS; a++) {
            float slope = a == AECL_ACT_ELU ? 0.7f : 0.1f;
            /* x W^T + b as in a dense layer (without a bias: see the sizes test) */
            gcase g = {33, 65, 17, 0, 1, 1.5f, 0.5f, (aecl_act)a, slope, 1, 0, (aecl_gemm_path)path};
            run_case(ctx, &g, "activation");
            gcase h = {65, 40, 70, 0, 1, 1.0f, 0.0f, (aecl_act)a, slope, 1, 0, (aecl_gemm_path)path};
            run_case(ctx, &h, "activation, longer K");
        }
}

/* alpha/beta corner cases; beta 0 must not read C (NaN there stays out). */
static void test_alpha_beta(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++) {
        gcase g = {19, 45, 23, 1, 0, -1.5f, 1.0f, AECL_ACT_NONE, 0, 1, 2, (aecl_gemm_path)path};
        run_case(ctx, &g, "alpha -1.5 beta 1");
        gcase z = {19, 45, 23, 0, 0, 0.0f, 2.0f, AECL_ACT_TANH, 0, 1, 0, (aecl_gemm_path)path};
        run_case(ctx, &z, "alpha 0");

        gcase n = {21, 37, 9, 0, 1, 1.0f, 0.0f, AECL_ACT_RELU, 0, 1, 0, (aecl_gemm_path)path};
        operands o;
        dev_operands dv;
        operands_make(&n, &o);
        for (int m = 0; m < n.M; m++)
            for (int j = 0; j < n.N; j++) o.c0[C_OFF + m * o.ldc + j] = NAN;
        CHECK(upload(ctx, &o, &dv));
        aecl_gemm_desc d = desc_of(&n, &o);
        CHECK_OK(ctx, aecl_gemm(ctx, &d, aecl_buffer_cl(dv.a), A_OFF, aecl_buffer_cl(dv.b), B_OFF,
                                aecl_buffer_cl(dv.c), C_OFF, aecl_buffer_cl(dv.bias), BIAS_OFF));
        CHECK_OK(ctx, aecl_buffer_download(dv.c, 0, o.c, o.nc * 4));
        check_result(&n, &o, "beta 0 over NaN");
        dev_free(&dv);
        operands_free(&o);
    }
}

/* A prepared launch replayed three times with beta 1 accumulates 3 alpha*A*B. */
static void test_replay(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++) {
        gcase g = {40, 70, 50, 0, 1, 1.0f, 1.0f, AECL_ACT_NONE, 0, 0, 0, (aecl_gemm_path)path};
        operands o;
        dev_operands dv;
        operands_make(&g, &o);
        CHECK(upload(ctx, &o, &dv));
        aecl_gemm_desc d = desc_of(&g, &o);
        aecl_launch l;
        CHECK_OK(ctx, aecl_gemm_prepare(ctx, &d, aecl_buffer_cl(dv.a), A_OFF, aecl_buffer_cl(dv.b), B_OFF,
                                        aecl_buffer_cl(dv.c), C_OFF, NULL, 0, &l));
        CHECK(l.flops == 2.0 * 40 * 70 * 50);
        for (int r = 0; r < 3; r++) CHECK_OK(ctx, aecl_launch_enqueue(ctx, &l, NULL));
        aecl_launch_release(&l);
        CHECK_OK(ctx, aecl_buffer_download(dv.c, 0, o.c, o.nc * 4));
        g.alpha = 3.0f; /* what three accumulations amount to */
        check_result(&g, &o, "replay x3");
        dev_free(&dv);
        operands_free(&o);
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
static void forget(aecl_ctx *ctx)
{
    free(ctx->blas_choice);
    ctx->blas_choice = NULL;
}

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
    gcase g = {45, 70, 90, 0, 1, 1.0f, 0.0f, AECL_ACT_SIGMOID, 0, 1, 0, AECL_GEMM_AUTO};
    run_case(ctx, &g, "auto");

    /* Measurement: both paths run here and take some time. */
    aecl_gemm_timing t;
    d = aecl_gemm_desc_make(64, 64, 64, 0, 0);
    CHECK_OK(ctx, aecl_gemm_measure(ctx, &d, 0, 3, &t));
    CHECK(t.own_s > 0 && t.clblast_s > 0);
    forget(ctx);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    test_bad_arguments(ctx);
    test_sizes_and_transposes(ctx);
    test_kernel_variants(ctx);
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

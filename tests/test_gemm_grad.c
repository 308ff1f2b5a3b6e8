#define _POSIX_C_SOURCE 200809L /* setenv */
/* GEMM with the gradient epilogue C = (alpha op(A) op(B) + beta C) * act'(Y)
 * against a plain C reference (double accumulation, act' written out here): every
 * activation on both paths (aecl's kernels and CLBlast + epilogue), all four
 * transposes, sizes off every tile, row strides, odd offsets of every operand
 * (Y's own), Y holding exact zeros (the derivative's kink), each kernel variant the
 * dispatcher can pick, and a bias + activation + gradient epilogue together. The
 * rest of C must stay untouched. Also the argument checks of the grad operands. */
#include "check.h"
#include "ops/gemm.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned seed = 771u;

enum { A_OFF = 5, B_OFF = 7, C_OFF = 11, Y_OFF = 9, BIAS_OFF = 3, TAIL = 13 };

typedef struct gcase {
    int M, N, K, ta, tb;
    float alpha, beta;
    aecl_act gact;
    float gslope;
    int pad;              /* added to every row stride */
    aecl_gemm_path path;
    aecl_act act;         /* forward activation of the same call (with a bias) */
} gcase;

/* act.cl's act_grad, from the output y (elu: alpha = s; softplus: 1 - e^-y). */
static double grad_ref(aecl_act a, double y, double s)
{
    switch (a) {
    case AECL_ACT_NONE: return 1;
    case AECL_ACT_RELU: return y > 0 ? 1 : 0;
    case AECL_ACT_LEAKY_RELU: return y > 0 ? 1 : s;
    case AECL_ACT_SIGMOID: return y * (1 - y);
    case AECL_ACT_TANH: return 1 - y * y;
    case AECL_ACT_ELU: return y > 0 ? 1 : y + s;
    case AECL_ACT_SOFTPLUS: return -expm1(-y);
    }
    return NAN;
}

static double act_ref(aecl_act a, double v, double s)
{
    switch (a) {
    case AECL_ACT_RELU: return v > 0 ? v : 0;
    case AECL_ACT_LEAKY_RELU: return v > 0 ? v : s * v;
    case AECL_ACT_TANH: return tanh(v);
    default: return v; /* the forward activations used below */
    }
}

typedef struct operands {
    int lda, ldb, ldc;
    size_t na, nb, nc, nbias;
    float *a, *b, *c0, *y, *bias, *c;
} operands;

static size_t span(int rows, int ld, int off) { return (size_t)off + (size_t)rows * ld + TAIL; }

static void operands_make(const gcase *g, operands *o)
{
    o->lda = (g->ta ? g->M : g->K) + g->pad;
    o->ldb = (g->tb ? g->K : g->N) + g->pad;
    o->ldc = g->N + g->pad;
    o->na = span(g->ta ? g->K : g->M, o->lda, A_OFF);
    o->nb = span(g->tb ? g->N : g->K, o->ldb, B_OFF);
    o->nc = span(g->M, o->ldc, C_OFF > Y_OFF ? C_OFF : Y_OFF);
    o->nbias = (size_t)BIAS_OFF + g->N + TAIL;
    o->a = malloc(o->na * 4);
    o->b = malloc(o->nb * 4);
    o->c0 = malloc(o->nc * 4);
    o->c = malloc(o->nc * 4);
    o->y = malloc(o->nc * 4);
    o->bias = malloc(o->nbias * 4);
    test_fill_uniform(o->a, o->na, -1, 1, &seed);
    test_fill_uniform(o->b, o->nb, -1, 1, &seed);
    test_fill_uniform(o->c0, o->nc, -1, 1, &seed);
    test_fill_uniform(o->y, o->nc, -1, 1, &seed);
    test_fill_uniform(o->bias, o->nbias, -1, 1, &seed);
    /* relu outputs are often exactly 0: the derivative there is act.cl's (0, slope, ...) */
    for (size_t i = 0; i < o->nc; i += 7) o->y[i] = 0.0f;
}

static void operands_free(operands *o)
{
    free(o->a);
    free(o->b);
    free(o->c0);
    free(o->c);
    free(o->y);
    free(o->bias);
}

static double ref_at(const gcase *g, const operands *o, int m, int n, double *gemm_part)
{
    double s = 0;
    for (int k = 0; k < g->K; k++) {
        double av = g->ta ? o->a[A_OFF + (size_t)k * o->lda + m] : o->a[A_OFF + (size_t)m * o->lda + k];
        double bv = g->tb ? o->b[B_OFF + (size_t)n * o->ldb + k] : o->b[B_OFF + (size_t)k * o->ldb + n];
        s += av * bv;
    }
    double v = (double)g->alpha * s;
    if (g->beta != 0) v += (double)g->beta * o->c0[C_OFF + (size_t)m * o->ldc + n];
    if (g->act != AECL_ACT_NONE) v = act_ref(g->act, v + o->bias[BIAS_OFF + n], 0.1);
    *gemm_part = v;
    return v * grad_ref(g->gact, o->y[Y_OFF + (size_t)m * o->ldc + n], g->gslope);
}

static void check_result(const gcase *g, const operands *o, const char *what)
{
    double worst = 0;
    size_t outside = 0;
    for (size_t i = 0; i < o->nc; i++) {
        long r = (long)i - C_OFF;
        int m = r >= 0 ? (int)(r / o->ldc) : -1, n = r >= 0 ? (int)(r % o->ldc) : -1;
        if (m >= 0 && m < g->M && n < g->N) {
            double v, ref = ref_at(g, o, m, n, &v);
            double gd = fabs(ref / (v != 0 ? v : 1));
            double tol = (4 * FLT_EPSILON * (fabsf(g->alpha) * g->K + fabsf(g->beta) + 2)) * (gd + 1) +
                         8 * FLT_EPSILON * fabs(ref);
            double e = fabs(o->c[i] - ref) / tol;
            if (!(e <= worst)) worst = e;
        } else if (memcmp(&o->c[i], &o->c0[i], 4)) {
            outside++;
        }
    }
    CHECK_MSG(worst <= 1, "%s: M=%d N=%d K=%d trans %d%d grad act %d slope %g alpha %g beta %g pad %d path %d: "
                          "error %.3g x tol", what, g->M, g->N, g->K, g->ta, g->tb, (int)g->gact, g->gslope, g->alpha,
              g->beta, g->pad, (int)g->path, worst);
    CHECK_MSG(outside == 0, "%s: %zu elements outside C's region changed", what, outside);
}

typedef struct dev_operands {
    aecl_buffer *a, *b, *c, *y, *bias;
} dev_operands;

static int upload(aecl_ctx *ctx, const operands *o, dev_operands *d)
{
    memset(d, 0, sizeof *d);
    aecl_buffer **bufs[5] = {&d->a, &d->b, &d->c, &d->y, &d->bias};
    const float *src[5] = {o->a, o->b, o->c0, o->y, o->bias};
    size_t n[5] = {o->na, o->nb, o->nc, o->nc, o->nbias};
    for (int i = 0; i < 5; i++)
        if (aecl_buffer_create(ctx, n[i], 4, bufs[i]) != AECL_OK || aecl_buffer_upload(*bufs[i], 0, src[i], n[i] * 4))
            return 0;
    return 1;
}

static void dev_free(dev_operands *d)
{
    aecl_buffer_free(d->a);
    aecl_buffer_free(d->b);
    aecl_buffer_free(d->c);
    aecl_buffer_free(d->y);
    aecl_buffer_free(d->bias);
}

static void run_case(aecl_ctx *ctx, const gcase *g, const char *what)
{
    operands o;
    dev_operands dv;
    operands_make(g, &o);
    CHECK(upload(ctx, &o, &dv));
    aecl_gemm_desc d = aecl_gemm_desc_make(g->M, g->N, g->K, g->ta, g->tb);
    d.alpha = g->alpha;
    d.beta = g->beta;
    d.grad_act = g->gact;
    d.grad_slope = g->gslope;
    d.act = g->act;
    d.slope = 0.1f;
    d.path = g->path;
    if (g->pad) {
        d.lda = o.lda;
        d.ldb = o.ldb;
        d.ldc = o.ldc;
    }
    aecl_launch l;
    cl_mem bias = g->act != AECL_ACT_NONE ? aecl_buffer_cl(dv.bias) : NULL;
    CHECK_OK(ctx, aecl_gemm_prepare_grad(ctx, &d, aecl_buffer_cl(dv.a), A_OFF, aecl_buffer_cl(dv.b), B_OFF,
                                         aecl_buffer_cl(dv.c), C_OFF, bias, BIAS_OFF, aecl_buffer_cl(dv.y), Y_OFF,
                                         &l));
    CHECK_OK(ctx, aecl_launch_enqueue(ctx, &l, NULL));
    aecl_launch_release(&l);
    CHECK_OK(ctx, aecl_buffer_download(dv.c, 0, o.c, o.nc * 4));
    check_result(g, &o, what);
    dev_free(&dv);
    operands_free(&o);
}

static float slope_of(int a) { return a == AECL_ACT_ELU ? 0.7f : 0.1f; }

/* Each activation on both paths, mostly NN (dX = gz W, the case the graph pass
 * makes), with sizes that are multiples of no tile and one of full tiles. */
static void test_activations(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++)
        for (int a = AECL_ACT_RELU; a <= AECL_ACT_SOFTPLUS; a++) {
            gcase g = {37, 70, 19, 0, 0, 1.0f, 0.0f, (aecl_act)a, slope_of(a), 0, (aecl_gemm_path)path,
                       AECL_ACT_NONE};
            run_case(ctx, &g, "activation, edges");
            gcase h = {64, 64, 33, 0, 0, 1.0f, 0.0f, (aecl_act)a, slope_of(a), 0, (aecl_gemm_path)path,
                       AECL_ACT_NONE};
            run_case(ctx, &h, "activation, full tiles");
        }
}

/* Every transpose (outer for NN/TN, packed for NT/TT on CPUs), alpha/beta, strides. */
static void test_transposes(aecl_ctx *ctx)
{
    static const int sz[][3] = {{1, 1, 1}, {17, 3, 33}, {129, 47, 65}, {9, 257, 63}};
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++)
        for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
            for (int t = 0; t < 4; t++) {
                aecl_act a = i % 2 ? AECL_ACT_ELU : AECL_ACT_LEAKY_RELU;
                gcase g = {sz[i][0], sz[i][1], sz[i][2], t & 1, t >> 1, 1.0f, 0.0f, a, slope_of(a), (int)(i & 1) * 3,
                           (aecl_gemm_path)path, AECL_ACT_NONE};
                if (i == 2) { g.alpha = 0.75f; g.beta = 0.5f; }
                run_case(ctx, &g, "transposes");
            }
}

/* The variants the normal choice does not reach on this device. */
static void test_kernel_variants(aecl_ctx *ctx)
{
    static const char *variants[] = {"outer", "dot", "packed", "portable"};
    static const int sz[][3] = {{127, 129, 65}, {33, 17, 40}, {64, 48, 32}};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        setenv("AECL_GEMM_KERNEL", variants[v], 1);
        for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
            for (int t = 0; t < 4; t++) {
                aecl_act a = (aecl_act)(AECL_ACT_RELU + (int)((i + v) % 6));
                gcase g = {sz[i][0], sz[i][1], sz[i][2], t & 1, t >> 1, 1.0f, i == 1 ? 0.5f : 0.0f, a, slope_of(a),
                           i == 2 ? 3 : 0, AECL_GEMM_OWN, AECL_ACT_NONE};
                if ((!g.tb && v != 3) || (v == 1 && g.ta)) continue; /* no such variant there */
                run_case(ctx, &g, variants[v]);
            }
    }
    unsetenv("AECL_GEMM_KERNEL");
}

/* bias + activation + gradient in one epilogue: act(v + b) * act'(Y). */
static void test_with_bias(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++) {
        gcase g = {33, 65, 17, 0, 1, 1.5f, 0.5f, AECL_ACT_TANH, 0, 0, (aecl_gemm_path)path, AECL_ACT_RELU};
        run_case(ctx, &g, "bias + act + grad");
    }
}

/* AUTO and $AECL_GEMM choose a path for a gradient epilogue too. */
static void test_auto(aecl_ctx *ctx)
{
    gcase g = {40, 30, 20, 0, 0, 1.0f, 0.0f, AECL_ACT_SIGMOID, 0, 0, AECL_GEMM_AUTO, AECL_ACT_NONE};
    run_case(ctx, &g, "auto");
    setenv("AECL_GEMM", "clblast", 1);
    run_case(ctx, &g, "AECL_GEMM=clblast");
    setenv("AECL_GEMM", "own", 1);
    run_case(ctx, &g, "AECL_GEMM=own");
    unsetenv("AECL_GEMM");
}

static void test_bad_arguments(aecl_ctx *ctx)
{
    aecl_buffer *b;
    CHECK_OK(ctx, aecl_buffer_create(ctx, 100, 4, &b));
    cl_mem m = aecl_buffer_cl(b);
    aecl_launch l;
    aecl_gemm_desc d = aecl_gemm_desc_make(4, 4, 4, 0, 0);
    d.path = AECL_GEMM_OWN;
    d.grad_act = AECL_ACT_RELU;
    CHECK(aecl_gemm_prepare(ctx, &d, m, 0, m, 16, m, 32, NULL, 0, &l) == AECL_ERR_INVALID_ARG);
    CHECK(strstr(aecl_ctx_last_error(ctx), "Y") != NULL);
    CHECK(aecl_gemm_prepare_grad(ctx, &d, m, 0, m, 16, m, 32, NULL, 0, m, 90, &l) == AECL_ERR_INVALID_ARG);
    CHECK(aecl_gemm_prepare_grad(ctx, &d, m, 0, m, 16, m, 32, NULL, 0, m, -1, &l) == AECL_ERR_INVALID_ARG);
    d.grad_act = (aecl_act)7;
    CHECK(aecl_gemm_prepare_grad(ctx, &d, m, 0, m, 16, m, 32, NULL, 0, m, 48, &l) == AECL_ERR_INVALID_ARG);
    d.grad_act = AECL_ACT_TANH;
    CHECK_OK(ctx, aecl_gemm_prepare_grad(ctx, &d, m, 0, m, 16, m, 32, NULL, 0, m, 48, &l));
    aecl_launch_release(&l);
    aecl_buffer_free(b);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    test_bad_arguments(ctx);
    test_activations(ctx);
    test_transposes(ctx);
    test_kernel_variants(ctx);
    test_with_bias(ctx);
    test_auto(ctx);
    return test_finish();
}

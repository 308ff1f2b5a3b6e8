/* The GEMM tests' shared fixture (see gemm_fixture.h). */
#include "gemm_fixture.h"
#include "ref_ops.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

unsigned gf_seed = 1u;

static size_t span(int rows, int ld, int off) { return (size_t)off + (size_t)rows * ld + GF_TAIL; }

static float *filled(size_t n)
{
    float *x = malloc(n * 4);
    test_fill_uniform(x, n, -1, 1, &gf_seed);
    return x;
}

void gf_operands_make(const gf_case *g, gf_operands *o)
{
    int grad = g->grad_act != AECL_ACT_NONE;
    o->lda = (g->ta ? g->M : g->K) + g->pad;
    o->ldb = (g->tb ? g->K : g->N) + g->pad;
    o->ldc = g->N + g->pad;
    o->na = span(g->ta ? g->K : g->M, o->lda, GF_A_OFF);
    o->nb = span(g->tb ? g->N : g->K, o->ldb, GF_B_OFF);
    o->nc = span(g->M, o->ldc, grad && GF_Y_OFF > GF_C_OFF ? GF_Y_OFF : GF_C_OFF);
    o->nbias = (size_t)GF_BIAS_OFF + g->N + GF_TAIL;
    /* drawn in this order, so a seed gives the same operands as before the split */
    o->a = filled(o->na);
    o->b = filled(o->nb);
    o->c0 = filled(o->nc);
    o->y = grad ? filled(o->nc) : NULL;
    o->bias = filled(o->nbias);
    o->c = malloc(o->nc * 4);
    o->nrs = (size_t)GF_RS_OFF + g->M + GF_TAIL;
    o->rs0 = g->row_sums ? filled(o->nrs) : NULL;
    o->rs = g->row_sums ? malloc(o->nrs * 4) : NULL;
    for (int m = 0; o->rs0 && m < g->M; m++) o->rs0[GF_RS_OFF + m] = NAN; /* poison: every row must be written */
    /* relu outputs are often exactly 0: the derivative there is ref_act_grad's (0, slope, ...) */
    if (grad)
        for (size_t i = 0; i < o->nc; i += 7) o->y[i] = 0.0f;
}

void gf_operands_free(gf_operands *o)
{
    free(o->a);
    free(o->b);
    free(o->c0);
    free(o->c);
    free(o->y);
    free(o->bias);
    free(o->rs0);
    free(o->rs);
}

/* The reference at (m, n); *pre gets it before the gradient factor. */
static double ref_at(const gf_case *g, const gf_operands *o, int m, int n, double *pre)
{
    double s = 0;
    for (int k = 0; k < g->K; k++) {
        double av = g->ta ? o->a[GF_A_OFF + (size_t)k * o->lda + m] : o->a[GF_A_OFF + (size_t)m * o->lda + k];
        double bv = g->tb ? o->b[GF_B_OFF + (size_t)n * o->ldb + k] : o->b[GF_B_OFF + (size_t)k * o->ldb + n];
        s += av * bv;
    }
    double v = (double)g->alpha * s;
    if (g->beta != 0) v += (double)g->beta * o->c0[GF_C_OFF + (size_t)m * o->ldc + n];
    if (g->bias) v += o->bias[GF_BIAS_OFF + n];
    v = ref_act(g->act, v, g->slope);
    *pre = v;
    if (g->grad_act == AECL_ACT_NONE) return v;
    return v * ref_act_grad(g->grad_act, o->y[GF_Y_OFF + (size_t)m * o->ldc + n], g->grad_slope);
}

/* Float rounding grows with K (entries are in [-1, 1]); the gradient factor scales
 * the rounding of the product it multiplies. */
static double tolerance(const gf_case *g, double ref, double pre)
{
    double sum = 4 * FLT_EPSILON * ((double)fabsf(g->alpha) * g->K + fabsf(g->beta) + 2);
    if (g->grad_act != AECL_ACT_NONE) sum *= fabs(ref / (pre != 0 ? pre : 1)) + 1;
    return sum + 8 * FLT_EPSILON * fabs(ref);
}

/* The row sums of op(A) against a double sum, and the rest of their buffer. */
static void check_row_sums(const gf_case *g, const gf_operands *o, const char *what)
{
    double worst = 0;
    size_t outside_changed = 0;
    for (size_t i = 0; i < o->nrs; i++) {
        long m = (long)i - GF_RS_OFF;
        if (m < 0 || m >= g->M) {
            outside_changed += memcmp(&o->rs[i], &o->rs0[i], 4) != 0;
            continue;
        }
        double s = 0;
        for (int k = 0; k < g->K; k++)
            s += g->ta ? o->a[GF_A_OFF + (size_t)k * o->lda + m] : o->a[GF_A_OFF + (size_t)m * o->lda + k];
        double e = fabs(o->rs[i] - s) / (4 * FLT_EPSILON * (g->K + 2) + 8 * FLT_EPSILON * fabs(s));
        if (!(e <= worst)) worst = e;
    }
    CHECK_MSG(worst <= 1, "%s: row sums M=%d K=%d trans %d%d pad %d path %d: error %.3g x tol", what, g->M, g->K,
              g->ta, g->tb, g->pad, (int)g->path, worst);
    CHECK_MSG(outside_changed == 0, "%s: %zu elements outside the row sums changed (M=%d K=%d)", what,
              outside_changed, g->M, g->K);
}

void gf_check_result(const gf_case *g, const gf_operands *o, const char *what)
{
    if (g->row_sums) check_row_sums(g, o, what);
    double worst = 0;
    size_t outside_changed = 0;
    for (size_t i = 0; i < o->nc; i++) {
        long r = (long)i - GF_C_OFF;
        int m = r >= 0 ? (int)(r / o->ldc) : -1, n = r >= 0 ? (int)(r % o->ldc) : -1;
        if (m >= 0 && m < g->M && n < g->N) {
            double pre, ref = ref_at(g, o, m, n, &pre), e = fabs(o->c[i] - ref) / tolerance(g, ref, pre);
            if (!(e <= worst)) worst = e;
        } else if (memcmp(&o->c[i], &o->c0[i], 4)) {
            outside_changed++;
        }
    }
    CHECK_MSG(worst <= 1,
              "%s: M=%d N=%d K=%d trans %d%d act %d bias %d grad act %d slope %g alpha %g beta %g pad %d path %d: "
              "error %.3g x tol",
              what, g->M, g->N, g->K, g->ta, g->tb, (int)g->act, g->bias, (int)g->grad_act, g->grad_slope, g->alpha,
              g->beta, g->pad, (int)g->path, worst);
    CHECK_MSG(outside_changed == 0, "%s: %zu elements outside C's region changed (M=%d N=%d K=%d trans %d%d)", what,
              outside_changed, g->M, g->N, g->K, g->ta, g->tb);
}

int gf_upload(aecl_ctx *ctx, const gf_operands *o, gf_dev *d)
{
    memset(d, 0, sizeof *d);
    aecl_buffer **bufs[6] = {&d->a, &d->b, &d->c, &d->bias, &d->y, &d->rs};
    const float *src[6] = {o->a, o->b, o->c0, o->bias, o->y, o->rs0};
    size_t n[6] = {o->na, o->nb, o->nc, o->nbias, o->nc, o->nrs};
    for (int i = 0; i < 6; i++) {
        if (!src[i]) continue; /* no Y for a plain GEMM, no row sums unless asked */
        if (aecl_buffer_create(ctx, n[i], 4, bufs[i]) != AECL_OK ||
            aecl_buffer_upload(*bufs[i], 0, src[i], n[i] * 4) != AECL_OK)
            return 0;
    }
    return 1;
}

void gf_dev_free(gf_dev *d)
{
    aecl_buffer_free(d->a);
    aecl_buffer_free(d->b);
    aecl_buffer_free(d->c);
    aecl_buffer_free(d->y);
    aecl_buffer_free(d->bias);
    aecl_buffer_free(d->rs);
}

aecl_gemm_desc gf_desc(const gf_case *g, const gf_operands *o)
{
    aecl_gemm_desc d = aecl_gemm_desc_make(g->M, g->N, g->K, g->ta, g->tb);
    d.alpha = g->alpha;
    d.beta = g->beta;
    d.act = g->act;
    d.slope = g->slope;
    d.grad_act = g->grad_act;
    d.grad_slope = g->grad_slope;
    d.path = g->path;
    if (g->pad) {
        d.lda = o->lda;
        d.ldb = o->ldb;
        d.ldc = o->ldc;
    }
    return d;
}

/* A gradient GEMM goes through aecl_gemm_prepare_bufs + enqueue (it has no one-call form),
 * one with row sums through prepare_bufs. */
static void run_on_device(aecl_ctx *ctx, const gf_case *g, const aecl_gemm_desc *d, const gf_dev *dv)
{
    cl_mem a = aecl_buffer_cl(dv->a), b = aecl_buffer_cl(dv->b), c = aecl_buffer_cl(dv->c);
    cl_mem bias = g->bias ? aecl_buffer_cl(dv->bias) : NULL;
    int grad = g->grad_act != AECL_ACT_NONE;
    if (g->row_sums) {
        aecl_gemm_bufs bf = {a, b, c, bias, grad ? aecl_buffer_cl(dv->y) : NULL, aecl_buffer_cl(dv->rs),
                             GF_A_OFF, GF_B_OFF, GF_C_OFF, GF_BIAS_OFF, GF_Y_OFF, GF_RS_OFF};
        aecl_launch l;
        CHECK_OK(ctx, aecl_gemm_prepare_bufs(ctx, d, &bf, &l));
        CHECK_OK(ctx, aecl_launch_enqueue(ctx, &l, NULL));
        aecl_launch_release(&l);
        return;
    }
    if (!grad) {
        CHECK_OK(ctx, aecl_gemm(ctx, d, a, GF_A_OFF, b, GF_B_OFF, c, GF_C_OFF, bias, GF_BIAS_OFF));
        return;
    }
    aecl_launch l;
    aecl_gemm_bufs bufs = {.A = a, .B = b, .C = c, .bias = bias, .Y = aecl_buffer_cl(dv->y), .a_off = GF_A_OFF,
                           .b_off = GF_B_OFF, .c_off = GF_C_OFF, .bias_off = GF_BIAS_OFF, .y_off = GF_Y_OFF};
    CHECK_OK(ctx, aecl_gemm_prepare_bufs(ctx, d, &bufs, &l));
    CHECK_OK(ctx, aecl_launch_enqueue(ctx, &l, NULL));
    aecl_launch_release(&l);
}

void gf_run_case(aecl_ctx *ctx, const gf_case *g, const char *what)
{
    gf_operands o;
    gf_dev dv;
    gf_operands_make(g, &o);
    CHECK(gf_upload(ctx, &o, &dv));
    aecl_gemm_desc d = gf_desc(g, &o);
    run_on_device(ctx, g, &d, &dv);
    CHECK_OK(ctx, aecl_buffer_download(dv.c, 0, o.c, o.nc * 4));
    if (g->row_sums) CHECK_OK(ctx, aecl_buffer_download(dv.rs, 0, o.rs, o.nrs * 4));
    gf_check_result(g, &o, what);
    gf_dev_free(&dv);
    gf_operands_free(&o);
}

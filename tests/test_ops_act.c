/* Activations agree wherever they run: the elementwise op, a generated fused
 * kernel, the GEMM epilogue (dense) and the conv epilogues, all from cl/act.cl,
 * against the host reference ref_act, NaN included: relu maps a NaN to 0, leaky
 * relu, elu and the others pass it on (a fused epilogue once turned it into 0
 * for leaky relu and elu, hiding a diverging model). Each case puts NaNs in
 * the input and checks every output: NaN exactly where the reference has one,
 * close to it elsewhere. */
#include "gradcheck.h"
#include "ops/conv.h"
#include "ref_ops.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static unsigned seed = 11;
static const float slope = 0.1f;

typedef struct act_case {
    aecl_act act;
    int conv_c, conv_k; /* conv shape: input and output channels */
} act_case;

/* Outputs against reference values: NaN where ref is NaN, close elsewhere. */
static void check_out(const char *what, aecl_act act, const float *y, const double *ref, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n && bad < 3; i++) {
        int ok = isnan(ref[i]) ? isnan(y[i]) : fabs(y[i] - ref[i]) <= 1e-5 + 1e-4 * fabs(ref[i]);
        CHECK_MSG(ok, "%s %s: y[%zu] = %g, reference %g", what, aecl_act_name(act), i, y[i], ref[i]);
        bad += !ok;
    }
}

static aecl_tensor *b_act(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_activation(g, x[0], (aecl_act)(intptr_t)u, slope);
}

/* act(x0 + x1): the add and the activation become one generated kernel. */
static aecl_tensor *b_fused(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_activation(g, aecl_add(g, x[0], x[1]), (aecl_act)(intptr_t)u, slope);
}

static void test_pointwise(aecl_ctx *ctx, aecl_act act)
{
    enum { N = 67 };
    float x[N], zero[N] = {0}, y[N];
    double ref[N];
    test_fill_uniform(x, N, -3, 3, &seed);
    x[0] = x[17] = x[N - 1] = NAN;
    x[5] = 0.0f;
    for (int i = 0; i < N; i++) ref[i] = ref_act(act, x[i], slope);
    gc_input in[2] = {{1, {N}, x, 1}, {1, {N}, zero, 1}};
    if (!gc_forward(ctx, 1, in, b_act, (void *)(intptr_t)act, y, N)) check_out("activation", act, y, ref, N);
    if (!gc_forward(ctx, 2, in, b_fused, (void *)(intptr_t)act, y, N)) check_out("fused", act, y, ref, N);
}

enum { DN = 5, DI = 19, DO = 13 };

static aecl_tensor *b_dense(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_dense(g, x[0], x[1], x[2], (aecl_act)(intptr_t)u, slope);
}

/* y = act(x W^T + b), a NaN in rows 1 and 3 of x: those rows are NaN before
 * the activation. */
static void test_dense(aecl_ctx *ctx, aecl_act act)
{
    float x[DN * DI], w[DO * DI], b[DO], pre[DN * DO], y[DN * DO];
    double ref[DN * DO];
    test_fill_uniform(x, DN * DI, -1, 1, &seed);
    test_fill_uniform(w, DO * DI, -1, 1, &seed);
    test_fill_uniform(b, DO, -1, 1, &seed);
    x[1 * DI + 4] = x[3 * DI + DI - 1] = NAN;
    ref_dense(x, w, b, pre, DN, DI, DO, AECL_ACT_NONE, 0);
    for (int i = 0; i < DN * DO; i++) ref[i] = ref_act(act, pre[i], slope);
    gc_input in[3] = {{2, {DN, DI}, x, 1}, {2, {DO, DI}, w, 1}, {1, {DO}, b, 1}};
    if (!gc_forward(ctx, 3, in, b_dense, (void *)(intptr_t)act, y, DN * DO)) check_out("dense", act, y, ref, DN * DO);
}

static aecl_tensor *b_conv(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_conv2d(g, x[0], x[1], x[2], 1, 1, (aecl_act)(intptr_t)u, slope);
}

/* y = act(conv3x3(x) + b), pad 1, one NaN pixel in the first input channel. */
static void test_conv(aecl_ctx *ctx, aecl_act act, int C, int K)
{
    ref_conv rc = {.N = 2, .C = C, .H = 9, .W = 11, .K = K, .kh = 3, .kw = 3, .stride = 1, .pad = 1, .bias = 1,
                   .act = AECL_ACT_NONE};
    size_t nx = ref_conv_xsize(&rc), nw = ref_conv_wsize(&rc), ny = ref_conv_ysize(&rc);
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc((size_t)K * 4), *pre = malloc(ny * 4),
          *y = malloc(ny * 4);
    double *ref = malloc(ny * sizeof *ref);
    test_fill_uniform(x, nx, -1, 1, &seed);
    test_fill_uniform(w, nw, -1, 1, &seed);
    test_fill_uniform(b, (size_t)K, -1, 1, &seed);
    x[4 * 11 + 5] = NAN; /* image 0, channel 0, row 4, column 5 */
    ref_conv_forward(&rc, x, w, b, 0, pre);
    for (size_t i = 0; i < ny; i++) ref[i] = ref_act(act, pre[i], slope);
    gc_input in[3] = {{4, {2, C, 9, 11}, x, 1}, {4, {K, C, 3, 3}, w, 1}, {1, {K}, b, 1}};
    if (!gc_forward(ctx, 3, in, b_conv, (void *)(intptr_t)act, y, ny)) check_out("conv2d", act, y, ref, ny);
    free(x);
    free(w);
    free(b);
    free(pre);
    free(y);
    free(ref);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    for (int a = AECL_ACT_RELU; a <= AECL_ACT_SOFTPLUS; a++) {
        test_pointwise(ctx, (aecl_act)a);
        test_dense(ctx, (aecl_act)a);
        test_conv(ctx, (aecl_act)a, 1, 4);   /* few input channels: the pixel-vector kernel */
        test_conv(ctx, (aecl_act)a, 8, 16);  /* channel vectors */
        test_conv(ctx, (aecl_act)a, 8, 1);   /* one output channel: sums over input channel vectors */
    }
    return test_finish();
}

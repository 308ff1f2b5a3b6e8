#define _POSIX_C_SOURCE 200809L /* setenv */
/* GEMM with the gradient epilogue C = (alpha op(A) op(B) + beta C) * act'(Y)
 * against a plain C reference (double accumulation, act' written out here): every
 * activation on both paths (aecl's kernels and CLBlast + epilogue), all four
 * transposes, sizes off every tile, row strides, odd offsets of every operand
 * (Y's own), Y holding exact zeros (the derivative's kink), each kernel variant the
 * dispatcher can pick, and a bias + activation + gradient epilogue together. The
 * rest of C must stay untouched. Also the argument checks of the grad operands. */
#include "gemm_fixture.h"

#include <stdlib.h>
#include <string.h>

/* A case in the order of the old positional list: the gradient epilogue's act and
 * slope, the row padding, the path and a forward activation (with a bias when not
 * NONE; slope 0.1 for it). */
static gf_case grad_case(int M, int N, int K, int ta, int tb, float alpha, float beta, aecl_act gact, float gslope,
                         int pad, aecl_gemm_path path, aecl_act act)
{
    return (gf_case){.M = M, .N = N, .K = K, .ta = ta, .tb = tb, .alpha = alpha, .beta = beta, .act = act,
                     .slope = 0.1f, .bias = act != AECL_ACT_NONE, .pad = pad, .path = path, .grad_act = gact,
                     .grad_slope = gslope};
}

static float slope_of(int a) { return a == AECL_ACT_ELU ? 0.7f : 0.1f; }

/* Each activation on both paths, mostly NN (dX = gz W, the case the graph pass
 * makes), with sizes that are multiples of no tile and one of full tiles. */
static void test_activations(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++)
        for (int a = AECL_ACT_RELU; a <= AECL_ACT_SOFTPLUS; a++) {
            gf_case g = grad_case(37, 70, 19, 0, 0, 1.0f, 0.0f, (aecl_act)a, slope_of(a), 0, (aecl_gemm_path)path,
                                  AECL_ACT_NONE);
            gf_run_case(ctx, &g, "activation, edges");
            gf_case h = grad_case(64, 64, 33, 0, 0, 1.0f, 0.0f, (aecl_act)a, slope_of(a), 0, (aecl_gemm_path)path,
                                  AECL_ACT_NONE);
            gf_run_case(ctx, &h, "activation, full tiles");
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
                gf_case g = grad_case(sz[i][0], sz[i][1], sz[i][2], t & 1, t >> 1, 1.0f, 0.0f, a, slope_of(a),
                                      (int)(i & 1) * 3, (aecl_gemm_path)path, AECL_ACT_NONE);
                if (i == 2) { g.alpha = 0.75f; g.beta = 0.5f; }
                gf_run_case(ctx, &g, "transposes");
            }
}

/* The variants the normal choice does not reach on this device. */
static void test_kernel_variants(aecl_ctx *ctx)
{
    static const char *variants[] = {"outer", "dot", "packed", "portable"};
    static const int sz[][3] = {{127, 129, 65}, {33, 17, 40}, {64, 48, 32}};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        char spec[48];
        snprintf(spec, sizeof spec, "gemm_kernel=%s", variants[v]);
        CHECK_OK(ctx, aecl_ctx_tune(ctx, spec));
        for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
            for (int t = 0; t < 4; t++) {
                aecl_act a = (aecl_act)(AECL_ACT_RELU + (int)((i + v) % 6));
                gf_case g = grad_case(sz[i][0], sz[i][1], sz[i][2], t & 1, t >> 1, 1.0f, i == 1 ? 0.5f : 0.0f, a,
                                      slope_of(a), i == 2 ? 3 : 0, AECL_GEMM_OWN, AECL_ACT_NONE);
                if ((!g.tb && v != 3) || (v == 1 && g.ta)) continue; /* no such variant there */
                gf_run_case(ctx, &g, variants[v]);
            }
    }
    CHECK_OK(ctx, aecl_ctx_tune(ctx, NULL));
}

/* bias + activation + gradient in one epilogue: act(v + b) * act'(Y). */
static void test_with_bias(aecl_ctx *ctx)
{
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++) {
        gf_case g = grad_case(33, 65, 17, 0, 1, 1.5f, 0.5f, AECL_ACT_TANH, 0, 0, (aecl_gemm_path)path, AECL_ACT_RELU);
        gf_run_case(ctx, &g, "bias + act + grad");
    }
}

/* AUTO and the table's gemm key choose a path for a gradient epilogue too. */
static void test_auto(aecl_ctx *ctx)
{
    gf_case g = grad_case(40, 30, 20, 0, 0, 1.0f, 0.0f, AECL_ACT_SIGMOID, 0, 0, AECL_GEMM_AUTO, AECL_ACT_NONE);
    gf_run_case(ctx, &g, "auto");
    CHECK_OK(ctx, aecl_ctx_tune(ctx, "gemm=clblast"));
    gf_run_case(ctx, &g, "gemm=clblast");
    CHECK_OK(ctx, aecl_ctx_tune(ctx, "gemm=own"));
    gf_run_case(ctx, &g, "gemm=own");
    CHECK_OK(ctx, aecl_ctx_tune(ctx, NULL));
}

/* The 4x4 products of test_bad_arguments with Y at element y_off of m. */
static aecl_status prepare_y(aecl_ctx *ctx, const aecl_gemm_desc *d, cl_mem m, int y_off, aecl_launch *l)
{
    aecl_gemm_bufs b = {.A = m, .B = m, .C = m, .Y = m, .b_off = 16, .c_off = 32, .y_off = y_off};
    return aecl_gemm_prepare_bufs(ctx, d, &b, l);
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
    CHECK(prepare_y(ctx, &d, m, 90, &l) == AECL_ERR_INVALID_ARG);
    CHECK(prepare_y(ctx, &d, m, -1, &l) == AECL_ERR_INVALID_ARG);
    d.grad_act = (aecl_act)7;
    CHECK(prepare_y(ctx, &d, m, 48, &l) == AECL_ERR_INVALID_ARG);
    d.grad_act = AECL_ACT_TANH;
    CHECK_OK(ctx, prepare_y(ctx, &d, m, 48, &l));
    aecl_launch_release(&l);
    aecl_buffer_free(b);
}

int main(void)
{
    gf_seed = 771u;
    aecl_ctx *ctx = test_ctx();
    test_bad_arguments(ctx);
    test_activations(ctx);
    test_transposes(ctx);
    test_kernel_variants(ctx);
    test_with_bias(ctx);
    test_auto(ctx);
    return test_finish();
}

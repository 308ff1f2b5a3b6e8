/* Dense layers and matmul: forward against a host GEMM for every transpose
 * combination and activation on sizes off every tile, both GEMM paths, and
 * gradients by finite differences. */
#include "gradcheck.h"
#include "ops/gemm.h"
#include "ref_ops.h"

#include <stdlib.h>
#include <string.h>

static unsigned seed = 3;

typedef struct dense_case { aecl_act act; int bias; } dense_case;

static aecl_tensor *b_dense(aecl_graph *g, aecl_tensor **x, void *u)
{
    const dense_case *c = u;
    return aecl_dense(g, x[0], x[1], c->bias ? x[2] : NULL, c->act, 0.1f);
}

static aecl_tensor *b_matmul(aecl_graph *g, aecl_tensor **x, void *u)
{
    int t = (int)(intptr_t)u;
    return aecl_matmul(g, x[0], x[1], t & 1, (t >> 1) & 1);
}

static void test_dense_forward(aecl_ctx *ctx)
{
    int shapes[][3] = {{1, 1, 1}, {3, 17, 5}, {33, 65, 127}, {128, 784, 32}, {7, 129, 33}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int n = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        float *x = malloc(sizeof(float) * n * in), *w = malloc(sizeof(float) * out * in), *b = malloc(sizeof(float) * out);
        float *y = malloc(sizeof(float) * n * out), *ref = malloc(sizeof(float) * n * out);
        test_fill_uniform(x, (size_t)n * in, -1, 1, &seed);
        test_fill_uniform(w, (size_t)out * in, -1, 1, &seed);
        test_fill_uniform(b, (size_t)out, -1, 1, &seed);
        for (int a = AECL_ACT_NONE; a <= AECL_ACT_SOFTPLUS; a++) {
            dense_case c = {(aecl_act)a, a % 2};
            gc_input inp[3] = {{2, {n, in}, x, 0}, {2, {out, in}, w, 0}, {1, {out}, b, 0}};
            if (gc_forward(ctx, c.bias ? 3 : 2, inp, b_dense, &c, y, (size_t)n * out)) continue;
            ref_dense(x, w, c.bias ? b : NULL, ref, n, in, out, (aecl_act)a, 0.1f);
            CHECK_MSG(test_rel_err(y, ref, (size_t)n * out, 1e-4, 1e-4) <= 1, "dense %dx%d->%d act %d", n, in, out, a);
        }
        free(x); free(w); free(b); free(y); free(ref);
    }
}

static void test_gradients(aecl_ctx *ctx)
{
    float x[5 * 7], w[6 * 7], b[6];
    test_fill_uniform(x, 35, -1, 1, &seed);
    test_fill_uniform(w, 42, -1, 1, &seed);
    test_fill_uniform(b, 6, -1, 1, &seed);
    dense_case c = {AECL_ACT_TANH, 1};
    gc_input in[3] = {{2, {5, 7}, x, 0}, {2, {6, 7}, w, 0}, {1, {6}, b, 0}};
    gc_gradcheck(ctx, "dense", 3, in, b_dense, &c, 1e-3f, 1e-2, 42);
    for (int t = 0; t < 4; t++) {
        /* op(A) [5,7] x op(B) [7,6] for every transpose combination */
        gc_input mi[2] = {{2, {t & 1 ? 7 : 5, t & 1 ? 5 : 7}, x, 0}, {2, {t & 2 ? 6 : 7, t & 2 ? 7 : 6}, w, 0}};
        gc_gradcheck(ctx, "matmul", 2, mi, b_matmul, (void *)(intptr_t)t, 1e-3f, 1e-2, 42);
    }
}

/* Both paths, every transpose, bias and beta, at nonzero offsets; the rest of C untouched. */
static void test_gemm_paths(aecl_ctx *ctx)
{
    enum { M = 37, N = 41, K = 29, OFF = 13 };
    size_t cap = OFF + 64 * 64;
    float *a = malloc(cap * 4), *bb = malloc(cap * 4), *c = malloc(cap * 4), *c0 = malloc(cap * 4), *bias = malloc(cap * 4);
    test_fill_uniform(a, cap, -1, 1, &seed);
    test_fill_uniform(bb, cap, -1, 1, &seed);
    test_fill_uniform(c0, cap, -1, 1, &seed);
    test_fill_uniform(bias, cap, -1, 1, &seed);
    aecl_buffer *ba, *bbuf, *bc, *bbias;
    aecl_buffer_create(ctx, cap, 4, &ba);
    aecl_buffer_create(ctx, cap, 4, &bbuf);
    aecl_buffer_create(ctx, cap, 4, &bc);
    aecl_buffer_create(ctx, cap, 4, &bbias);
    aecl_buffer_upload(ba, 0, a, cap * 4);
    aecl_buffer_upload(bbuf, 0, bb, cap * 4);
    aecl_buffer_upload(bbias, 0, bias, cap * 4);
    for (int path = AECL_GEMM_OWN; path <= AECL_GEMM_CLBLAST; path++)
        for (int t = 0; t < 4; t++) {
            aecl_gemm_desc d = aecl_gemm_desc_default();
            d.M = M; d.N = N; d.K = K; d.trans_a = t & 1; d.trans_b = t >> 1;
            d.alpha = 0.5f; d.beta = 0.25f; d.act = AECL_ACT_RELU; d.path = (aecl_gemm_path)path;
            aecl_buffer_upload(bc, 0, c0, cap * 4);
            CHECK_OK(ctx, aecl_gemm(ctx, &d, aecl_buffer_cl(ba), OFF, aecl_buffer_cl(bbuf), OFF, aecl_buffer_cl(bc), OFF,
                                    aecl_buffer_cl(bbias), OFF));
            aecl_buffer_download(bc, 0, c, cap * 4);
            double worst = 0;
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) {
                        float av = d.trans_a ? a[OFF + k * M + m] : a[OFF + m * K + k];
                        float bv = d.trans_b ? bb[OFF + n * K + k] : bb[OFF + k * N + n];
                        s += (double)av * bv;
                    }
                    double v = 0.5 * s + 0.25 * c0[OFF + m * N + n] + bias[OFF + n];
                    v = v > 0 ? v : 0;
                    double e = fabs(v - c[OFF + m * N + n]);
                    if (e > worst) worst = e;
                }
            CHECK_MSG(worst < 1e-4, "gemm path %d trans %d: error %g", path, t, worst);
            CHECK(memcmp(c, c0, OFF * 4) == 0 && memcmp(c + OFF + M * N, c0 + OFF + M * N, (cap - OFF - M * N) * 4) == 0);
        }
    aecl_buffer_free(ba); aecl_buffer_free(bbuf); aecl_buffer_free(bc); aecl_buffer_free(bbias);
    free(a); free(bb); free(c); free(c0); free(bias);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    test_dense_forward(ctx);
    test_gradients(ctx);
    test_gemm_paths(ctx);
    return test_finish();
}

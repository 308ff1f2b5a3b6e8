/* concat / slice / split along an axis against host copies, and their gradients. */
#include "gradcheck.h"
#include "ops/random.h"

#include <stdlib.h>
#include <string.h>

static unsigned seed = 5;

typedef struct cut {
    int axis, start, len;
} cut;

static aecl_tensor *b_concat(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_concat(g, x[0], x[1], ((cut *)u)->axis);
}
static aecl_tensor *b_slice(aecl_graph *g, aecl_tensor **x, void *u)
{
    const cut *c = u;
    return aecl_slice(g, x[0], c->axis, c->start, c->len);
}
/* Both parts of a split feed the output, so dx sums two slice gradients. */
static aecl_tensor *b_split_mix(aecl_graph *g, aecl_tensor **x, void *u)
{
    const cut *c = u;
    aecl_tensor *a, *b;
    if (aecl_split(g, x[0], c->axis, c->start, &a, &b) != AECL_OK) return NULL;
    return aecl_concat(g, aecl_activation(g, b, AECL_ACT_TANH, 0), aecl_scale(g, a, 3.0f), c->axis);
}

/* Extents before, at and after the axis. */
static void around(const gc_input *in, int axis, size_t *outer, size_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= (size_t)in->shape[d];
    for (int d = axis + 1; d < in->ndim; d++) *inner *= (size_t)in->shape[d];
}

static void check_concat(aecl_ctx *ctx, const gc_input *in, int axis)
{
    size_t outer, inner, na = in[0].shape[axis], nb = in[1].shape[axis];
    around(&in[0], axis, &outer, &inner);
    size_t ra = na * inner, rb = nb * inner, n = outer * (ra + rb);
    float *y = malloc(n * sizeof *y), *ref = malloc(n * sizeof *ref);
    for (size_t o = 0; o < outer; o++) {
        memcpy(ref + o * (ra + rb), in[0].data + o * ra, ra * sizeof *ref);
        memcpy(ref + o * (ra + rb) + ra, in[1].data + o * rb, rb * sizeof *ref);
    }
    cut c = {axis, 0, 0};
    if (!gc_forward(ctx, 2, in, b_concat, &c, y, n))
        CHECK_MSG(memcmp(y, ref, n * sizeof *y) == 0, "concat along axis %d differs from the host", axis);
    gc_gradcheck(ctx, "concat", 2, in, b_concat, &c, 1e-2f, 1e-2, 40);
    free(y);
    free(ref);
}

static void check_slice(aecl_ctx *ctx, const gc_input *in, int axis, int start, int len)
{
    size_t outer, inner, c = in->shape[axis];
    around(in, axis, &outer, &inner);
    size_t n = outer * len * inner;
    float *y = malloc(n * sizeof *y), *ref = malloc(n * sizeof *ref);
    for (size_t o = 0; o < outer; o++)
        memcpy(ref + o * len * inner, in->data + (o * c + start) * inner, len * inner * sizeof *ref);
    cut cu = {axis, start, len};
    if (!gc_forward(ctx, 1, in, b_slice, &cu, y, n))
        CHECK_MSG(memcmp(y, ref, n * sizeof *y) == 0, "slice [%d, +%d) of axis %d differs", start, len, axis);
    gc_gradcheck(ctx, "slice", 1, in, b_slice, &cu, 1e-2f, 1e-2, 40);
    free(y);
    free(ref);
}

static void test_concat(aecl_ctx *ctx)
{
    enum { N = 4 * 7 * 5 * 3 };
    float a[N], b[N];
    test_fill_uniform(a, N, -1, 1, &seed);
    test_fill_uniform(b, N, -1, 1, &seed);
    /* the VAE heads: [N, L] + [N, L] along axis 1 */
    gc_input h[2] = {{2, {33, 7}, a, 0}, {2, {33, 9}, b, 0}};
    check_concat(ctx, h, 1);
    /* feature maps [N, C, H, W] along channels, along batch, along the last axis */
    gc_input m1[2] = {{4, {3, 2, 5, 3}, a, 0}, {4, {3, 5, 5, 3}, b, 0}};
    check_concat(ctx, m1, 1);
    gc_input m0[2] = {{4, {2, 5, 3, 3}, a, 0}, {4, {3, 5, 3, 3}, b, 0}};
    check_concat(ctx, m0, 0);
    gc_input m3[2] = {{4, {3, 2, 5, 3}, a, 0}, {4, {3, 2, 5, 1}, b, 0}};
    check_concat(ctx, m3, 3);
    /* only one side differentiable: the other gets no gradient, no error */
    gc_input nd[2] = {{2, {5, 3}, a, 0}, {2, {5, 4}, b, 1}};
    cut c = {1, 0, 0};
    gc_gradcheck(ctx, "concat (b data)", 2, nd, b_concat, &c, 1e-2f, 1e-2, 40);
}

static void test_slice_split(aecl_ctx *ctx)
{
    enum { N = 4 * 7 * 5 * 3 };
    float x[N], y[N], ref[N];
    test_fill_uniform(x, N, -1, 1, &seed);
    gc_input h = {2, {13, 16}, x, 0};
    check_slice(ctx, &h, 1, 0, 8);
    check_slice(ctx, &h, 1, 8, 8);
    check_slice(ctx, &h, 1, 3, 1);
    gc_input m = {4, {4, 7, 5, 3}, x, 0};
    check_slice(ctx, &m, 1, 2, 4);
    check_slice(ctx, &m, 0, 1, 2);
    check_slice(ctx, &m, 2, 4, 1);
    /* split into two parts that both get gradients */
    cut c = {1, 5, 0};
    gc_input s = {2, {9, 12}, x, 0};
    if (!gc_forward(ctx, 1, &s, b_split_mix, &c, y, 9 * 12)) {
        for (int r = 0; r < 9; r++)
            for (int k = 0; k < 12; k++)
                ref[r * 12 + k] = k < 7 ? tanhf(x[r * 12 + 5 + k]) : 3.0f * x[r * 12 + k - 7];
        CHECK(test_rel_err(y, ref, 9 * 12, 1e-6, 1e-5) <= 1);
    }
    gc_gradcheck(ctx, "split", 1, &s, b_split_mix, &c, 1e-3f, 1e-2, 108);
}

static void test_errors(aecl_ctx *ctx)
{
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    int s1[2] = {4, 3}, s2[2] = {5, 3};
    aecl_tensor *a = aecl_input(g, "a", 2, s1), *b = aecl_input(g, "b", 2, s2), *p, *q;
    CHECK(aecl_concat(g, a, b, 1) == NULL);
    CHECK(aecl_graph_status(g) == AECL_ERR_SHAPE);
    CHECK(strstr(aecl_ctx_last_error(ctx), "4x3") && strstr(aecl_ctx_last_error(ctx), "5x3"));
    aecl_graph_free(g);

    aecl_graph_create(ctx, &g);
    a = aecl_input(g, "a", 2, s1);
    CHECK(aecl_concat(g, a, aecl_input(g, "b", 2, s2), 0) != NULL); /* differ only along axis 0 */
    CHECK(aecl_slice(g, a, 1, 2, 2) == NULL);                         /* [2, 4) beyond 3 */
    CHECK(aecl_graph_status(g) == AECL_ERR_SHAPE);
    aecl_graph_free(g);

    aecl_graph_create(ctx, &g);
    a = aecl_input(g, "a", 2, s1);
    CHECK(aecl_split(g, a, 1, 3, &p, &q) == AECL_ERR_SHAPE && !p && !q); /* leaves nothing for b */
    aecl_graph_free(g);

    aecl_graph_create(ctx, &g);
    a = aecl_input(g, "a", 2, s1);
    CHECK(aecl_slice(g, a, 2, 0, 1) == NULL);
    CHECK(aecl_graph_status(g) == AECL_ERR_INVALID_ARG);
    CHECK(strstr(aecl_ctx_last_error(ctx), "axis 2") != NULL);
    aecl_graph_free(g);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    test_concat(ctx);
    test_slice_split(ctx);
    test_errors(ctx);
    return test_finish();
}

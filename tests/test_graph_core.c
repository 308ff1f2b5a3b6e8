/* Graph core: elementwise ops, activations, reductions and losses against host
 * references and finite differences; the memory plan; replay equals fresh compile. */
#include "compile/compile.h"
#include "gradcheck.h"
#include "graph/plan.h"
#include "ref_ops.h"

#include <stdlib.h>
#include <string.h>

static unsigned seed = 7;

static aecl_tensor *b_act(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_activation(g, x[0], (aecl_act)(intptr_t)u, 0.1f);
}
static aecl_tensor *b_binary(aecl_graph *g, aecl_tensor **x, void *u)
{
    int op = (int)(intptr_t)u;
    return op == 0 ? aecl_add(g, x[0], x[1]) : op == 1 ? aecl_sub(g, x[0], x[1]) : aecl_mul(g, x[0], x[1]);
}
static aecl_tensor *b_affine(aecl_graph *g, aecl_tensor **x, void *u) { return aecl_affine(g, x[0], -1.5f, 0.25f); }
static aecl_tensor *b_mean(aecl_graph *g, aecl_tensor **x, void *u) { return aecl_mean(g, x[0]); }
static aecl_tensor *b_chsum(aecl_graph *g, aecl_tensor **x, void *u) { return aecl_channel_sum(g, x[0]); }
static aecl_tensor *b_addch(aecl_graph *g, aecl_tensor **x, void *u) { return aecl_add_channel(g, x[0], x[1]); }
static aecl_tensor *b_l1(aecl_graph *g, aecl_tensor **x, void *u) { return aecl_l1_activity(g, x[0], 0.5f); }
static aecl_tensor *b_loss(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_loss_rows(g, (aecl_loss_kind)(intptr_t)u, x[0], x[1]);
}
static aecl_tensor *b_loss_mean(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_masked_mean(g, aecl_loss_rows(g, AECL_LOSS_MSE, x[0], x[1]), 0.5f);
}
static aecl_tensor *b_loss_fused(aecl_graph *g, aecl_tensor **x, void *u)
{
    return aecl_loss_mean(g, (aecl_loss_kind)(intptr_t)u, x[0], x[1], 0.5f, NULL);
}
static aecl_tensor *b_kl(aecl_graph *g, aecl_tensor **x, void *u) { return aecl_kl_rows(g, x[0], x[1]); }
static aecl_tensor *b_reshape(aecl_graph *g, aecl_tensor **x, void *u)
{
    int s[2] = {3, 10};
    return aecl_activation(g, aecl_reshape(g, x[0], 2, s), AECL_ACT_TANH, 0);
}

static void test_activations(aecl_ctx *ctx)
{
    enum { N = 1237 }; /* not a multiple of any work-group size */
    float x[N], y[N];
    test_fill_uniform(x, N, -3, 3, &seed);
    gc_input in = {2, {1, N}, x, 0};
    for (int a = AECL_ACT_RELU; a <= AECL_ACT_SOFTPLUS; a++) {
        if (gc_forward(ctx, 1, &in, b_act, (void *)(intptr_t)a, y, N)) continue;
        float ref[N];
        for (int i = 0; i < N; i++) ref[i] = (float)ref_act((aecl_act)a, x[i], 0.1f);
        CHECK_MSG(test_rel_err(y, ref, N, 1e-6, 1e-5) <= 1, "activation %s", aecl_act_name((aecl_act)a));
        gc_input small = {2, {3, 7}, x, 0};
        gc_gradcheck(ctx, aecl_act_name((aecl_act)a), 1, &small, b_act, (void *)(intptr_t)a, 1e-3f, 2e-2, 64);
    }
}

static void test_binary(aecl_ctx *ctx)
{
    enum { N = 515 };
    float a[N], b[N], y[N], ref[N];
    test_fill_uniform(a, N, -2, 2, &seed);
    test_fill_uniform(b, N, -2, 2, &seed);
    gc_input in[2] = {{3, {5, 103, 1}, a, 0}, {3, {5, 103, 1}, b, 0}};
    for (int op = 0; op < 3; op++) {
        if (gc_forward(ctx, 2, in, b_binary, (void *)(intptr_t)op, y, N)) continue;
        for (int i = 0; i < N; i++) ref[i] = op == 0 ? a[i] + b[i] : op == 1 ? a[i] - b[i] : a[i] * b[i];
        CHECK_MSG(test_rel_err(y, ref, N, 1e-6, 1e-6) <= 1, "binary op %d", op);
        gc_input sm[2] = {{2, {4, 5}, a, 0}, {2, {4, 5}, b, 0}};
        gc_gradcheck(ctx, "binary", 2, sm, b_binary, (void *)(intptr_t)op, 1e-3f, 1e-2, 64);
    }
    if (!gc_forward(ctx, 1, in, b_affine, NULL, y, N)) {
        for (int i = 0; i < N; i++) ref[i] = -1.5f * a[i] + 0.25f;
        CHECK(test_rel_err(y, ref, N, 1e-6, 1e-6) <= 1);
    }
    gc_gradcheck(ctx, "affine", 1, in, b_affine, NULL, 1e-3f, 1e-2, 32);
    /* mismatched shapes are an error naming both */
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    int s1[2] = {2, 3}, s2[2] = {3, 2};
    CHECK(aecl_add(g, aecl_input(g, "a", 2, s1), aecl_input(g, "b", 2, s2)) == NULL);
    CHECK(aecl_graph_status(g) == AECL_ERR_SHAPE);
    CHECK(strstr(aecl_ctx_last_error(ctx), "2x3") && strstr(aecl_ctx_last_error(ctx), "3x2"));
    aecl_graph_free(g);
}

static void test_reductions(aecl_ctx *ctx)
{
    enum { N = 3 * 5 * 7 * 11 };
    float x[N], y[N], b[5];
    test_fill_uniform(x, N, -1, 1, &seed);
    test_fill_uniform(b, 5, -1, 1, &seed);
    gc_input in = {4, {3, 5, 7, 11}, x, 0};
    double s = 0;
    for (int i = 0; i < N; i++) s += x[i];
    if (!gc_forward(ctx, 1, &in, b_mean, NULL, y, 1)) CHECK_NEAR(y[0], s / N, 1e-5);
    gc_gradcheck(ctx, "mean", 1, &in, b_mean, NULL, 1e-2f, 1e-2, 16);
    if (!gc_forward(ctx, 1, &in, b_chsum, NULL, y, 5))
        for (int c = 0; c < 5; c++) {
            double r = 0;
            for (int n = 0; n < 3; n++)
                for (int k = 0; k < 77; k++) r += x[(n * 5 + c) * 77 + k];
            CHECK_NEAR(y[c], r, 1e-4);
        }
    gc_gradcheck(ctx, "channel_sum", 1, &in, b_chsum, NULL, 1e-2f, 1e-2, 16);
    gc_input in2[2] = {{4, {3, 5, 7, 11}, x, 0}, {1, {5}, b, 0}};
    if (!gc_forward(ctx, 2, in2, b_addch, NULL, y, N))
        CHECK(fabs(y[(2 * 5 + 3) * 77 + 9] - (x[(2 * 5 + 3) * 77 + 9] + b[3])) < 1e-6);
    gc_gradcheck(ctx, "add_channel", 2, in2, b_addch, NULL, 1e-2f, 1e-2, 16);
    gc_input in3 = {2, {6, 9}, x, 0};
    if (!gc_forward(ctx, 1, &in3, b_l1, NULL, y, 1)) {
        double a = 0;
        for (int i = 0; i < 54; i++) a += fabs(x[i]);
        CHECK_NEAR(y[0], 0.5 * a / 6, 1e-5);
    }
    gc_gradcheck(ctx, "l1_activity", 1, &in3, b_l1, NULL, 1e-3f, 1e-2, 54);
    gc_input in4 = {1, {30}, x, 0};
    gc_gradcheck(ctx, "reshape", 1, &in4, b_reshape, NULL, 1e-3f, 1e-2, 30);
}

static void test_losses(aecl_ctx *ctx)
{
    enum { R = 9, C = 13 };
    float z[R * C], t[R * C], y[R];
    test_fill_uniform(z, R * C, -4, 4, &seed);
    test_fill_uniform(t, R * C, 0, 1, &seed);
    gc_input in[2] = {{2, {R, C}, z, 0}, {2, {R, C}, t, 1}};
    for (int kind = 0; kind < 2; kind++) {
        if (!gc_forward(ctx, 2, in, b_loss, (void *)(intptr_t)kind, y, R))
            for (int r = 0; r < R; r++) {
                double s = 0;
                for (int c = 0; c < C; c++) {
                    double zz = z[r * C + c], tt = t[r * C + c];
                    s += kind == 0 ? (zz - tt) * (zz - tt) : fmax(zz, 0) - zz * tt + log1p(exp(-fabs(zz)));
                }
                CHECK_NEAR(y[r], s, 1e-4 * (1 + fabs(s)));
            }
        gc_gradcheck(ctx, kind ? "bce" : "mse", 2, in, b_loss, (void *)(intptr_t)kind, 1e-3f, 1e-2, 40);
    }
    /* BCE stays finite for huge logits */
    float zb[2] = {1000, -1000}, tb[2] = {0, 1}, yb[1];
    gc_input big[2] = {{2, {1, 2}, zb, 0}, {2, {1, 2}, tb, 1}};
    if (!gc_forward(ctx, 2, big, b_loss, (void *)(intptr_t)1, yb, 1)) CHECK_NEAR(yb[0], 2000.0, 1e-2);
    gc_gradcheck(ctx, "masked_mean", 2, in, b_loss_mean, NULL, 1e-3f, 1e-2, 40);
    /* The fused loss gives the unfused one's value and its gradient. */
    float fused[1], plain[1];
    if (!gc_forward(ctx, 2, in, b_loss_fused, (void *)(intptr_t)0, fused, 1) &&
        !gc_forward(ctx, 2, in, b_loss_mean, NULL, plain, 1))
        CHECK(fused[0] == plain[0]);
    for (int kind = 0; kind < 2; kind++)
        gc_gradcheck(ctx, kind ? "fused bce mean" : "fused mse mean", 2, in, b_loss_fused, (void *)(intptr_t)kind,
                     1e-3f, 1e-2, 40);
    float mu[R * C], lv[R * C];
    test_fill_uniform(mu, R * C, -2, 2, &seed);
    test_fill_uniform(lv, R * C, -2, 1, &seed);
    gc_input kin[2] = {{2, {R, C}, mu, 0}, {2, {R, C}, lv, 0}};
    if (!gc_forward(ctx, 2, kin, b_kl, NULL, y, R)) {
        double s = 0;
        for (int c = 0; c < C; c++) s += 1 + lv[c] - mu[c] * mu[c] - exp(lv[c]);
        CHECK_NEAR(y[0], -0.5 * s, 1e-4 * (1 + fabs(s)));
    }
    gc_gradcheck(ctx, "kl", 2, kin, b_kl, NULL, 1e-3f, 1e-2, 40);
}

/* A masked mean over valid rows only: rows past the valid count add nothing. */
static void test_valid_rows(aecl_ctx *ctx, int fused)
{
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    int s[2] = {4, 3};
    aecl_tensor *z = aecl_param(g, "z", 2, s), *t = aecl_input(g, "t", 2, s);
    aecl_tensor *loss = fused ? aecl_loss_mean(g, AECL_LOSS_MSE, z, t, 1.0f, NULL)
                              : aecl_masked_mean(g, aecl_loss_rows(g, AECL_LOSS_MSE, z, t), 1.0f);
    aecl_backward(g, loss);
    aecl_mark(z->grad, AECL_T_OUTPUT);
    aecl_plan *p = NULL;
    CHECK_OK(ctx, aecl_plan_compile(g, NULL, &p));
    if (p) {
        float zv[12] = {1, 1, 1, 2, 2, 2, 9, 9, 9, 9, 9, 9}, tv[12] = {0}, l, gz[12];
        aecl_plan_write(p, z, zv);
        aecl_plan_write(p, t, tv);
        aecl_plan_set_valid_rows(p, 2);
        CHECK_OK(ctx, aecl_plan_run(p));
        aecl_plan_read(p, loss, &l);
        aecl_plan_read(p, z->grad, gz);
        CHECK_NEAR(l, (3.0 + 12.0) / 2, 1e-5);
        CHECK_NEAR(gz[0], 1.0, 1e-6);   /* 2 * 1 / 2 rows */
        CHECK(gz[6] == 0 && gz[11] == 0);
    }
    aecl_plan_free(p);
    aecl_graph_free(g);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    test_activations(ctx);
    test_binary(ctx);
    test_reductions(ctx);
    test_losses(ctx);
    test_valid_rows(ctx, 0);
    test_valid_rows(ctx, 1);
    return test_finish();
}

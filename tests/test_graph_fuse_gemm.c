/* GEMM epilogue fusion of activation gradients and bias gradients
 * (lib/compile/fuse_gemm.c): in a small MLP with relu, tanh, leaky_relu and elu
 * layers, each hidden layer's activation_grad folds into the matmul computing
 * its gy, and each layer's bias gradient (column sums of gz) into the matmul
 * computing dW = gz^T x, so the plan has two launches less per layer (one for the
 * last) and no act_grad or channel_sum launch; the gradients equal the unfused
 * plan's (no fusion at all) and a finite difference; Adam steps with the fused
 * plan give the same weights. Matmuls that are outputs, have another reader, or
 * are y themselves are left alone; column sums without a matmul of gz^T, or of a
 * 4-D tensor, too; no_fuse turns both off. The output layer's activation
 * gradient folds into the batch loss's gradient through the output's reshape:
 * same gradients as without fusion on each loss kernel variant. (aecl_plan_compile
 * runs the passes; the last cases call them directly.) */
#include "compile/compile.h"
#include "check.h"
#include "compile/passes.h"
#include "graph/op.h"
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 24, NIN = 13, NOUT = 11, NL = 5 };
static const int width[NL + 1] = {NIN, 20, 18, 16, 15, NOUT};
static const aecl_act acts[NL] = {AECL_ACT_RELU, AECL_ACT_TANH, AECL_ACT_LEAKY_RELU, AECL_ACT_ELU, AECL_ACT_NONE};
static const float slopes[NL] = {0, 0, 0.1f, 0.7f, 0};

typedef struct mlp {
    aecl_graph *g;
    aecl_plan *p;
    aecl_tensor *x, *t, *loss, *w[NL], *b[NL];
    int folded;
} mlp;

static float host_x[B * NIN], host_t[B * NOUT], host_w[NL][20 * 20], host_b[NL][20];

/* mode 0: fusion (both passes, in aecl_plan_compile), 1: no fusion (no_fuse). */
static void build(aecl_ctx *ctx, mlp *m, int mode, int train)
{
    memset(m, 0, sizeof *m);
    CHECK_OK(ctx, aecl_graph_create(ctx, &m->g));
    aecl_graph *g = m->g;
    int xs[2] = {B, NIN}, ts[2] = {B, NOUT};
    m->x = aecl_input(g, "x", 2, xs);
    m->t = aecl_input(g, "t", 2, ts);
    aecl_tensor *h = m->x;
    for (int l = 0; l < NL; l++) {
        char name[16];
        int ws[2] = {width[l + 1], width[l]}, bs[1] = {width[l + 1]};
        snprintf(name, sizeof name, "w%d", l);
        m->w[l] = aecl_param(g, name, 2, ws);
        snprintf(name, sizeof name, "b%d", l);
        m->b[l] = aecl_param(g, name, 1, bs);
        h = aecl_dense(g, h, m->w[l], m->b[l], acts[l], slopes[l]);
    }
    m->loss = aecl_mark(aecl_loss_mean(g, AECL_LOSS_MSE, h, m->t, 1.0f, NULL), AECL_T_OUTPUT);
    CHECK_OK(ctx, aecl_backward(g, m->loss));
    if (train) {
        aecl_optimizer_config oc = aecl_optimizer_defaults(AECL_OPT_ADAM, 1e-2f);
        CHECK_OK(ctx, aecl_optimizer_apply(g, &oc, NULL));
    } else {
        for (int l = 0; l < NL; l++) {
            aecl_mark(m->w[l]->grad, AECL_T_OUTPUT);
            aecl_mark(m->b[l]->grad, AECL_T_OUTPUT);
        }
    }
    aecl_plan_options opt = {.seed = 1, .poison = 1, .no_fuse = mode == 1};
    CHECK_OK(ctx, aecl_plan_compile(g, &opt, &m->p));
    if (!m->p) return;
    m->folded = aecl_plan_get_stats(m->p)->n_fused;
    CHECK_OK(ctx, aecl_plan_write(m->p, m->x, host_x));
    CHECK_OK(ctx, aecl_plan_write(m->p, m->t, host_t));
    for (int l = 0; l < NL; l++) {
        CHECK_OK(ctx, aecl_plan_write(m->p, m->w[l], host_w[l]));
        CHECK_OK(ctx, aecl_plan_write(m->p, m->b[l], host_b[l]));
    }
}

static void release(mlp *m)
{
    aecl_plan_free(m->p);
    aecl_graph_free(m->g);
}

static int count_label(const aecl_plan *p, const char *label)
{
    int n = 0;
    for (int i = 0; i < aecl_plan_launch_count(p); i++) n += !strcmp(aecl_plan_launch_label(p, i), label);
    return n;
}

static float loss_of(aecl_ctx *ctx, mlp *m)
{
    float v = 0;
    CHECK_OK(ctx, aecl_plan_run(m->p));
    CHECK_OK(ctx, aecl_plan_read(m->p, m->loss, &v));
    return v;
}

/* The central difference of the loss in element j of parameter w (host copy
 * host, written back after) against the plan's gradient got. */
static void check_fd(aecl_ctx *ctx, mlp *m, aecl_tensor *w, float *host, int j, float got, const char *what, int l)
{
    float w0 = host[j], h = 1e-3f, lp, lm;
    host[j] = w0 + h;
    CHECK_OK(ctx, aecl_plan_write(m->p, w, host));
    lp = loss_of(ctx, m);
    host[j] = w0 - h;
    CHECK_OK(ctx, aecl_plan_write(m->p, w, host));
    lm = loss_of(ctx, m);
    host[j] = w0;
    CHECK_OK(ctx, aecl_plan_write(m->p, w, host));
    double fd = (lp - lm) / (2.0 * h);
    CHECK_MSG(fabs(fd - got) <= 2e-3 + 2e-2 * fabs(fd), "layer %d %s %d: fd %g, fused grad %g", l, what, j, fd, got);
}

static void test_gradients(aecl_ctx *ctx)
{
    mlp m[2];
    static float gw[2][NL][20 * 20], gb[2][NL][20];
    for (int k = 0; k < 2; k++) {
        build(ctx, &m[k], k, 0);
        if (!m[k].p) return;
        CHECK_OK(ctx, aecl_plan_run(m[k].p));
        for (int l = 0; l < NL; l++) {
            CHECK_OK(ctx, aecl_plan_read(m[k].p, m[k].w[l]->grad, gw[k][l]));
            CHECK_OK(ctx, aecl_plan_read(m[k].p, m[k].b[l]->grad, gb[k][l]));
        }
    }
    int la = aecl_plan_get_stats(m[0].p)->n_launches, lb = aecl_plan_get_stats(m[1].p)->n_launches;
    printf("MLP gradients: %d folds; launches %d (no fusion %d)\n", m[0].folded, la, lb);
    /* every hidden layer's gy is the next layer's dX = gz W; every layer's db
     * rides on its dW */
    CHECK_MSG(m[0].folded == 2 * NL - 1, "folded %d, expected %d", m[0].folded, 2 * NL - 1);
    CHECK(la == lb - (2 * NL - 1));
    CHECK(m[1].folded == 0);
    CHECK(count_label(m[0].p, "act_grad") == 0 && count_label(m[0].p, "matmul_act_grad") == NL - 1);
    CHECK(count_label(m[1].p, "act_grad") == NL - 1 && count_label(m[1].p, "matmul_act_grad") == 0);
    CHECK(count_label(m[0].p, "channel_sum") == 0 && count_label(m[1].p, "channel_sum") == NL);
    for (int k = 1; k < 2; k++)
        for (int l = 0; l < NL; l++) {
            size_t nw = (size_t)width[l] * width[l + 1];
            CHECK_MSG(test_rel_err(gw[0][l], gw[k][l], nw, 1e-7, 1e-5) <= 1, "dW%d differs from plan %d", l, k);
            CHECK_MSG(test_rel_err(gb[0][l], gb[k][l], (size_t)width[l + 1], 1e-7, 1e-5) <= 1,
                      "db%d differs from plan %d", l, k);
        }
    /* A central difference of the loss on a few weights of each layer, and on a
     * bias element of each (db from the dW GEMM). */
    for (int l = 0; l < NL; l++) {
        for (int i = 0; i < 3; i++) {
            int j = (i * 37 + l * 11) % (width[l] * width[l + 1]);
            check_fd(ctx, &m[0], m[0].w[l], host_w[l], j, gw[0][l][j], "weight", l);
        }
        int j = (l * 7) % width[l + 1];
        check_fd(ctx, &m[0], m[0].b[l], host_b[l], j, gb[0][l][j], "bias", l);
    }
    for (int k = 0; k < 2; k++) release(&m[k]);
}

/* Adam steps (side-effect nodes after the backward pass): same weights. */
static void test_training(aecl_ctx *ctx)
{
    mlp a, c;
    build(ctx, &a, 0, 1);
    build(ctx, &c, 1, 1);
    if (!a.p || !c.p) return;
    CHECK(a.folded == 2 * NL - 1);
    for (int s = 0; s < 4; s++) {
        CHECK_OK(ctx, aecl_plan_run(a.p));
        CHECK_OK(ctx, aecl_plan_run(c.p));
    }
    static float wa[20 * 20], wc[20 * 20];
    for (int l = 0; l < NL; l++) {
        size_t nw = (size_t)width[l] * width[l + 1];
        CHECK_OK(ctx, aecl_plan_read(a.p, a.w[l], wa));
        CHECK_OK(ctx, aecl_plan_read(c.p, c.w[l], wc));
        CHECK_MSG(test_rel_err(wa, wc, nw, 1e-6, 1e-5) <= 1, "w%d after 4 Adam steps differs", l);
        CHECK_MSG(test_rel_err(wa, host_w[l], nw, 1e-6, 1e-5) > 1, "w%d did not train", l);
    }
    release(&a);
    release(&c);
}

/* Cases left alone: gy an output, gy with a second reader, gy = y. */
static void test_left_alone(aecl_ctx *ctx)
{
    for (int c = 0; c < 3; c++) {
        aecl_graph *g;
        CHECK_OK(ctx, aecl_graph_create(ctx, &g));
        int as[2] = {6, 5}, bs[2] = {5, 6};
        aecl_tensor *a = aecl_input(g, "a", 2, as), *b = aecl_input(g, "b", 2, bs), *y = aecl_input(g, "y", 2, as);
        aecl_tensor *gy = aecl_matmul(g, a, b, 0, 0), *r;
        (void)y;
        int shape[2] = {6, 6};
        aecl_tensor *yy = aecl_input(g, "yy", 2, shape);
        if (c == 0) aecl_mark(gy, AECL_T_OUTPUT);
        if (c == 1) aecl_mark(aecl_scale(g, gy, 2.0f), AECL_T_OUTPUT);
        r = aecl_activation_grad(g, c == 2 ? gy : yy, gy, AECL_ACT_TANH, 0);
        aecl_mark(r, AECL_T_OUTPUT);
        CHECK_OK(ctx, aecl_graph_status(g));
        int n = -1, before = g->n_nodes;
        CHECK_OK(ctx, aecl_fuse_gemm_act_grad(g, NULL, &n));
        CHECK_MSG(n == 0 && g->n_nodes == before, "case %d: folded %d", c, n);
        aecl_graph_free(g);
    }
}

/* Bias gradients: the pair dW = matmul(gz, x, 1, 0), db = channel_sum(gz) folds
 * (db's node then launches nothing and sits right after the matmul, reading what
 * the matmul reads and writes); a column sum of gz beside gz x (no transpose),
 * beside (gz')^T x for another gz', of a 4-D gz, or under no_fuse does not. */
static void test_bias_grads(aecl_ctx *ctx)
{
    for (int c = 0; c < 5; c++) {
        aecl_graph *g;
        CHECK_OK(ctx, aecl_graph_create(ctx, &g));
        int zs[2] = {6, 5}, xs[2] = {6, 4}, z4[4] = {6, 5, 1, 1}, ws[2] = {5, 4};
        aecl_tensor *gz = aecl_input(g, "gz", c == 3 ? 4 : 2, c == 3 ? z4 : zs), *x = aecl_input(g, "x", 2, xs);
        aecl_tensor *other = aecl_input(g, "other", 2, zs), *w = aecl_input(g, "w", 2, ws);
        aecl_tensor *dw = c == 1 ? aecl_matmul(g, gz, w, 0, 0) : aecl_matmul(g, c == 2 ? other : gz, x, 1, 0);
        aecl_tensor *mid = aecl_scale(g, x, 2.0f); /* a node between the pair */
        aecl_tensor *db = aecl_channel_sum(g, gz);
        aecl_mark(dw, AECL_T_OUTPUT);
        aecl_mark(mid, AECL_T_OUTPUT);
        aecl_mark(db, AECL_T_OUTPUT);
        g->n_forward = 0; /* all of it counts as backward */
        CHECK_OK(ctx, aecl_graph_status(g));
        aecl_plan_options off = {.no_fuse = 1};
        int n = -1, want = c == 0;
        CHECK_OK(ctx, aecl_fuse_gemm_bias_grad(g, c == 4 ? &off : NULL, &n));
        CHECK_MSG(n == want, "case %d: folded %d", c, n);
        if (want) {
            CHECK(db->id == dw->id + 1 && mid->id == db->id + 1 && !strcmp(db->op->name, "channel_sum_by_gemm"));
            CHECK(dw->n_extra == 1 && dw->extra[0] == db && db->n_in == 3 && db->in[0] == gz && db->in[1] == x &&
                  db->in[2] == dw);
        } else {
            CHECK(!strcmp(db->op->name, "channel_sum") && dw->n_extra == 0);
        }
        aecl_graph_free(g);
    }
}

/* dense(act) -> reshape to [B, 3, 2, 2] -> MSE loss_mean: the output layer's
 * act_grad (gy a reshape of the loss gradient) folds into loss_mean_grad; dW and
 * db equal the unfused plan's, with and without all rows valid, on the loss
 * kernels' vector widths. */
static void test_loss_act_grad(aecl_ctx *ctx)
{
    static const char *variants[] = {NULL, "loss_vw=1,loss_wg=16", "loss_vw=4,loss_wg=1"};
    static const aecl_act out_acts[] = {AECL_ACT_SIGMOID, AECL_ACT_TANH, AECL_ACT_ELU};
    enum { IN = 6, OUT = 12 };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++)
        for (size_t a = 0; a < sizeof out_acts / sizeof out_acts[0]; a++) {
            CHECK_OK(ctx, aecl_ctx_tune(ctx, variants[v]));
            float gw[2][OUT * IN], gb[2][OUT], target[B * OUT];
            for (int i = 0; i < B * OUT; i++) target[i] = 0.5f + 0.4f * host_t[i % (B * NOUT)];
            int launches[2] = {0, 0}, act_grads[2] = {0, 0};
            for (int k = 0; k < 2; k++) {
                aecl_graph *g;
                CHECK_OK(ctx, aecl_graph_create(ctx, &g));
                int xs[2] = {B, IN}, ws[2] = {OUT, IN}, bs[1] = {OUT}, ts[4] = {B, 3, 2, 2};
                aecl_tensor *x = aecl_input(g, "x", 2, xs), *t = aecl_input(g, "t", 4, ts);
                aecl_tensor *w = aecl_param(g, "w", 2, ws), *b = aecl_param(g, "b", 1, bs);
                aecl_tensor *y = aecl_reshape(g, aecl_dense(g, x, w, b, out_acts[a], 0.7f), 4, ts);
                aecl_tensor *loss = aecl_mark(aecl_loss_mean(g, AECL_LOSS_MSE, y, t, 0.5f, NULL), AECL_T_OUTPUT);
                CHECK_OK(ctx, aecl_backward(g, loss));
                aecl_mark(w->grad, AECL_T_OUTPUT);
                aecl_mark(b->grad, AECL_T_OUTPUT);
                aecl_plan *p = NULL;
                aecl_plan_options opt = {.seed = 1, .poison = 1, .no_fuse = k};
                CHECK_OK(ctx, aecl_plan_compile(g, &opt, &p));
                if (!p) {
                    aecl_graph_free(g);
                    continue;
                }
                CHECK_OK(ctx, aecl_plan_write(p, x, host_x)); /* B x NIN >= B x IN values */
                CHECK_OK(ctx, aecl_plan_write(p, t, target));
                CHECK_OK(ctx, aecl_plan_write(p, w, host_w[0]));
                CHECK_OK(ctx, aecl_plan_write(p, b, host_b[0]));
                aecl_plan_set_valid_rows(p, a == 1 ? B - 5 : B); /* a short batch once */
                CHECK_OK(ctx, aecl_plan_run(p));
                CHECK_OK(ctx, aecl_plan_read(p, w->grad, gw[k]));
                CHECK_OK(ctx, aecl_plan_read(p, b->grad, gb[k]));
                launches[k] = aecl_plan_get_stats(p)->n_launches;
                act_grads[k] = count_label(p, "act_grad");
                aecl_plan_free(p);
                aecl_graph_free(g);
            }
            const char *vn = variants[v] ? variants[v] : "device";
            CHECK_MSG(act_grads[0] == 0 && act_grads[1] == 1 && launches[0] < launches[1],
                      "%s act %d: act_grad launches %d/%d, launches %d/%d", vn, (int)out_acts[a], act_grads[0],
                      act_grads[1], launches[0], launches[1]);
            CHECK_MSG(test_rel_err(gw[0], gw[1], OUT * IN, 1e-7, 1e-5) <= 1, "%s act %d: dW differs", vn,
                      (int)out_acts[a]);
            CHECK_MSG(test_rel_err(gb[0], gb[1], OUT, 1e-7, 1e-5) <= 1, "%s act %d: db differs", vn, (int)out_acts[a]);
        }
    CHECK_OK(ctx, aecl_ctx_tune(ctx, NULL));
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    unsigned seed = 99;
    test_fill_uniform(host_x, B * NIN, -1, 1, &seed);
    test_fill_uniform(host_t, B * NOUT, -1, 1, &seed);
    for (int l = 0; l < NL; l++) {
        test_fill_uniform(host_w[l], 20 * 20, -0.6f, 0.6f, &seed);
        test_fill_uniform(host_b[l], 20, -0.2f, 0.2f, &seed);
    }
    test_gradients(ctx);
    test_training(ctx);
    test_left_alone(ctx);
    test_bias_grads(ctx);
    test_loss_act_grad(ctx);
    return test_finish();
}

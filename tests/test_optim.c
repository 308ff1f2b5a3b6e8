/* Optimizers: every update rule (SGD, momentum, Nesterov, Adam, AdamW; with and
 * without weight decay and global-norm clipping) step by step against a plain C
 * host implementation; the learning-rate tensor changes the rate without a
 * recompile; the Adam step follows the plan's step counter; parameters of many
 * chunks (full and partial, more chunks than a work-group sums) with clipping;
 * a tiny regression converges to the known answer; bad configurations are
 * errors. */
#include "compile/compile.h"
#include "check.h"
#include "graph/plan.h"
#include "ops/ops.h"
#include "ops/optim.h"
#include "ref_ops.h"

#include <stdlib.h>
#include <string.h>

static unsigned seed = 11;
static double worst_err; /* over all step-by-step comparisons: the margin under 1 */

/* ---- a two-parameter problem with known gradients ---------------------------------- */

/* loss = 0.5 * ||w1 - target||^2 + sum(w2 * c): grad w1 = w1 - target (changes
 * every step), grad w2 = c. Sizes are not multiples of any work-group size. */
enum { N1 = 301, R2 = 5, C2 = 13, N2 = R2 * C2 };

typedef struct problem {
    aecl_graph *g;
    aecl_plan *p;
    aecl_tensor *w1, *w2, *target, *c, *loss, *lr;
} problem;

static int problem_build(aecl_ctx *ctx, const aecl_optimizer_config *cfg, problem *P)
{
    memset(P, 0, sizeof *P);
    if (aecl_graph_create(ctx, &P->g) != AECL_OK) return -1;
    aecl_graph *g = P->g;
    int s1 = N1, s2[2] = {R2, C2}, n2 = N2;
    P->w1 = aecl_param(g, "w1", 1, &s1);
    P->target = aecl_input(g, "target", 1, &s1);
    P->w2 = aecl_param(g, "w2", 2, s2);
    P->c = aecl_input(g, "c", 1, &n2);
    aecl_tensor *d = aecl_sub(g, P->w1, P->target);
    aecl_tensor *l1 = aecl_scale(g, aecl_sum(g, aecl_mul(g, d, d)), 0.5f);
    /* w2 enters through a reshape, so its gradient is a view */
    P->loss = aecl_add(g, l1, aecl_sum(g, aecl_mul(g, aecl_reshape(g, P->w2, 1, &n2), P->c)));
    aecl_backward(g, P->loss);
    CHECK_OK(ctx, aecl_optimizer_apply(g, cfg, &P->lr));
    aecl_plan_options opt = {.seed = 1, .poison = 1};
    if (aecl_graph_status(g) != AECL_OK) return -1;
    aecl_status st = aecl_plan_compile(g, &opt, &P->p);
    CHECK_OK(ctx, st);
    return st == AECL_OK ? 0 : -1;
}

static void problem_free(problem *P)
{
    aecl_plan_free(P->p);
    aecl_graph_free(P->g);
}

static int count_launches(const aecl_plan *p, const char *label)
{
    int n = 0;
    for (int i = 0; i < aecl_plan_launch_count(p); i++) n += strcmp(aecl_plan_launch_label(p, i), label) == 0;
    return n;
}

static const char *variant_name(int v)
{
    static const char *const names[] = {"sgd", "sgd+momentum", "nesterov", "adam", "adamw"};
    return names[v];
}

static aecl_optimizer_config variant_config(int v, float wd, float clip)
{
    aecl_optimizer_config c = aecl_optimizer_defaults(v < 3 ? AECL_OPT_SGD : v == 3 ? AECL_OPT_ADAM : AECL_OPT_ADAMW,
                                                      v < 3 ? 0.1f : 0.05f);
    if (v == 1 || v == 2) c.momentum = 0.9f;
    c.nesterov = v == 2;
    c.weight_decay = wd;
    c.clip_norm = clip;
    return c;
}

/* Runs `steps` steps from plan step `start` and compares both parameters with
 * the host after every step. Before step index `jump_at` (-1: never) the plan's
 * counter is set to `jump_to`, as a resume into a running plan does. */
static void run_variant_jump(aecl_ctx *ctx, const aecl_optimizer_config *cfg, const char *name, int steps,
                             unsigned start, int jump_at, unsigned jump_to)
{
    problem P;
    if (problem_build(ctx, cfg, &P) != 0) {
        CHECK_MSG(0, "%s: build failed: %s", name, aecl_ctx_last_error(ctx));
        problem_free(&P);
        return;
    }
    /* The plan's shape: one fused update for both parameters, two sum-of-squares
     * launches when clipping. */
    const char *ulabel = cfg->kind == AECL_OPT_SGD ? "sgd" : cfg->kind == AECL_OPT_ADAM ? "adam" : "adamw";
    CHECK_MSG(count_launches(P.p, ulabel) == 1, "%s: %d update launches", name, count_launches(P.p, ulabel));
    CHECK(count_launches(P.p, "grad_sumsq") == (cfg->clip_norm > 0 ? 2 : 0));
    /* Adam's bias corrections come from the step counter inside the update:
     * no launch of their own. */
    CHECK_MSG(count_launches(P.p, "adam_bc") == 0, "%s: a bias-correction launch is left", name);

    float w1[N1], w2[N2], tg[N1], c[N2], g1[N1], dev1[N1], dev2[N2];
    test_fill_uniform(w1, N1, -1, 1, &seed);
    test_fill_uniform(w2, N2, -1, 1, &seed);
    test_fill_uniform(tg, N1, -2, 2, &seed);
    test_fill_uniform(c, N2, -1.5f, 1.5f, &seed);
    aecl_plan_write(P.p, P.w1, w1);
    aecl_plan_write(P.p, P.w2, w2);
    aecl_plan_write(P.p, P.target, tg);
    aecl_plan_write(P.p, P.c, c);
    aecl_plan_set_step(P.p, start);
    ref_optim_param h1, h2;
    ref_optim_param_init(&h1, N1, w1);
    ref_optim_param_init(&h2, N2, w2);
    int clipped = 0;
    long t = start;
    for (int s = 0; s < steps; s++) {
        if (s == jump_at) {
            aecl_plan_set_step(P.p, jump_to);
            t = jump_to;
        }
        for (int i = 0; i < N1; i++) g1[i] = h1.w[i] - tg[i]; /* the device computes this in float too */
        double scale = ref_optim_clip_scale(cfg->clip_norm, g1, N1, c, N2);
        clipped |= scale < 1;
        t++;
        ref_optim_update(cfg, &h1, g1, scale, t, cfg->lr);
        ref_optim_update(cfg, &h2, c, scale, t, cfg->lr);
        CHECK_OK(ctx, aecl_plan_run(P.p));
        CHECK_OK(ctx, aecl_plan_read(P.p, P.w1, dev1));
        CHECK_OK(ctx, aecl_plan_read(P.p, P.w2, dev2));
        double e1 = test_rel_err(dev1, h1.w, N1, 1e-6, 1e-5), e2 = test_rel_err(dev2, h2.w, N2, 1e-6, 1e-5);
        worst_err = fmax(worst_err, fmax(e1, e2));
        CHECK_MSG(e1 <= 1 && e2 <= 1, "%s wd=%g clip=%g step %d: relative error %g / %g", name,
                  (double)cfg->weight_decay, (double)cfg->clip_norm, s + 1, e1, e2);
    }
    if (cfg->clip_norm > 0) CHECK_MSG(clipped, "%s: clipping never engaged (test too weak)", name);
    ref_optim_param_free(&h1);
    ref_optim_param_free(&h2);
    problem_free(&P);
}

static void run_variant(aecl_ctx *ctx, const aecl_optimizer_config *cfg, const char *name, int steps,
                        unsigned start)
{
    run_variant_jump(ctx, cfg, name, steps, start, -1, 0);
}

static void test_update_rules(aecl_ctx *ctx)
{
    for (int v = 0; v < 5; v++)
        for (int wd = 0; wd < 2; wd++)
            for (int clip = 0; clip < 2; clip++) {
                aecl_optimizer_config cfg = variant_config(v, wd ? 0.05f : 0.0f, clip ? 2.0f : 0.0f);
                run_variant(ctx, &cfg, variant_name(v), 4, 0);
            }
    /* Adam's bias correction follows the plan's step counter (a resumed run). */
    aecl_optimizer_config cfg = variant_config(3, 0.0f, 0.0f);
    run_variant(ctx, &cfg, "adam from step 10", 3, 10);
    /* The counter is read at every replay: a plan that ran 3 steps and is set to
     * step 1 (or back to 0) continues with that step's corrections, moments kept. */
    run_variant_jump(ctx, &cfg, "adam set to step 1 after 3 steps", 6, 0, 3, 1);
    aecl_optimizer_config cw = variant_config(4, 0.05f, 2.0f);
    run_variant_jump(ctx, &cw, "adamw+clip set to step 0 after 2 steps", 5, 0, 2, 0);
}

/* ---- many chunks ------------------------------------------------------------------- */

/* loss = sum_k sum(w_k * c_k): constant gradients c_k. Sizes give full 256-element
 * chunks, short tails, a padded last group of the clipping's partial sums, and
 * more of those (16 chunks each: 269) than the work-group that adds them (256). */
enum { NBIG = 3 };
static const int big_sizes[NBIG] = {1100001, 9, 6700};

static void run_big(aecl_ctx *ctx, const aecl_optimizer_config *cfg, const char *name)
{
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    aecl_tensor *w[NBIG], *c[NBIG], *loss = NULL;
    float *w0[NBIG], *cv[NBIG], *dev[NBIG];
    ref_optim_param h[NBIG];
    double ss = 0;
    for (int k = 0; k < NBIG; k++) {
        char nm[8];
        snprintf(nm, sizeof nm, "w%d", k);
        w[k] = aecl_param(g, nm, 1, &big_sizes[k]);
        snprintf(nm, sizeof nm, "c%d", k);
        c[k] = aecl_input(g, nm, 1, &big_sizes[k]);
        aecl_tensor *term = aecl_sum(g, aecl_mul(g, w[k], c[k]));
        loss = loss ? aecl_add(g, loss, term) : term;
        size_t n = (size_t)big_sizes[k];
        w0[k] = malloc(n * sizeof(float));
        cv[k] = malloc(n * sizeof(float));
        dev[k] = malloc(n * sizeof(float));
        test_fill_uniform(w0[k], n, -1, 1, &seed);
        test_fill_uniform(cv[k], n, -1, 1, &seed);
        for (size_t i = 0; i < n; i++) ss += (double)cv[k][i] * cv[k][i];
        ref_optim_param_init(&h[k], big_sizes[k], w0[k]);
    }
    aecl_backward(g, loss);
    CHECK_OK(ctx, aecl_optimizer_apply(g, cfg, NULL));
    aecl_plan *p = NULL;
    if (aecl_graph_status(g) == AECL_OK) CHECK_OK(ctx, aecl_plan_compile(g, NULL, &p));
    if (p) {
        CHECK_MSG(count_launches(p, "grad_sumsq") == (cfg->clip_norm > 0 ? 2 : 0), "%s: %d sum-of-squares launches",
                  name, count_launches(p, "grad_sumsq"));
        for (int k = 0; k < NBIG; k++) {
            aecl_plan_write(p, w[k], w0[k]);
            aecl_plan_write(p, c[k], cv[k]);
        }
        double scale = cfg->clip_norm > 0 && sqrt(ss) > cfg->clip_norm ? cfg->clip_norm / sqrt(ss) : 1.0;
        CHECK_MSG(cfg->clip_norm <= 0 || scale < 0.1, "%s: clipping too weak to test (scale %g)", name, scale);
        for (int s = 0; s < 3; s++) {
            CHECK_OK(ctx, aecl_plan_run(p));
            for (int k = 0; k < NBIG; k++) {
                ref_optim_update(cfg, &h[k], cv[k], scale, s + 1, cfg->lr);
                CHECK_OK(ctx, aecl_plan_read(p, w[k], dev[k]));
                double e = test_rel_err(dev[k], h[k].w, (size_t)big_sizes[k], 1e-6, 1e-5);
                worst_err = fmax(worst_err, e);
                CHECK_MSG(e <= 1, "%s: parameter %d (%d elements) step %d: relative error %g", name, k,
                          big_sizes[k], s + 1, e);
            }
        }
    }
    for (int k = 0; k < NBIG; k++) {
        free(w0[k]);
        free(cv[k]);
        free(dev[k]);
        ref_optim_param_free(&h[k]);
    }
    aecl_plan_free(p);
    aecl_graph_free(g);
}

static void test_many_chunks(aecl_ctx *ctx)
{
    aecl_optimizer_config sgd = variant_config(0, 0.0f, 1.5f);
    run_big(ctx, &sgd, "sgd, clipped");
    aecl_optimizer_config nest = variant_config(2, 0.01f, 3.0f);
    run_big(ctx, &nest, "nesterov, weight decay, clipped");
    aecl_optimizer_config adamw = variant_config(4, 0.05f, 0.0f);
    run_big(ctx, &adamw, "adamw");
    /* Not Adam with L2 here: where wd * w cancels the gradient, d / (|d| + eps)
     * turns float rounding into errors over the tolerance (among a million
     * elements some do); run_variant covers that rule. */
    aecl_optimizer_config adam = variant_config(3, 0.0f, 2.0f);
    run_big(ctx, &adam, "adam, clipped");
}

/* ---- learning-rate tensor ----------------------------------------------------------- */

static void test_lr_tensor(aecl_ctx *ctx)
{
    aecl_optimizer_config cfg = variant_config(1, 0.0f, 0.0f); /* momentum: the rate scales the buffer */
    problem P;
    if (problem_build(ctx, &cfg, &P) != 0) { problem_free(&P); return; }
    float w1[N1], w2[N2], tg[N1], c[N2], g1[N1], dev1[N1], dev2[N2], lr = -1;
    test_fill_uniform(w1, N1, -1, 1, &seed);
    test_fill_uniform(w2, N2, -1, 1, &seed);
    test_fill_uniform(tg, N1, -2, 2, &seed);
    test_fill_uniform(c, N2, -1, 1, &seed);
    aecl_plan_write(P.p, P.w1, w1);
    aecl_plan_write(P.p, P.w2, w2);
    aecl_plan_write(P.p, P.target, tg);
    aecl_plan_write(P.p, P.c, c);
    memcpy(dev2, w2, sizeof dev2);
    CHECK(P.lr && P.lr->size == 1);
    CHECK_OK(ctx, aecl_plan_read(P.p, P.lr, &lr));
    CHECK_MSG(lr == cfg.lr, "the lr tensor starts at %g, configured %g", (double)lr, (double)cfg.lr);
    ref_optim_param h1, h2;
    ref_optim_param_init(&h1, N1, w1);
    ref_optim_param_init(&h2, N2, w2);
    const float rates[4] = {0.1f, 0.025f, 0.0f, 0.3f}; /* a schedule, one rate per step */
    for (int s = 0; s < 4; s++) {
        if (s) CHECK_OK(ctx, aecl_plan_write(P.p, P.lr, &rates[s]));
        for (int i = 0; i < N1; i++) g1[i] = h1.w[i] - tg[i];
        ref_optim_update(&cfg, &h1, g1, 1.0, s + 1, rates[s]);
        ref_optim_update(&cfg, &h2, c, 1.0, s + 1, rates[s]);
        float before[N2];
        memcpy(before, dev2, sizeof before);
        CHECK_OK(ctx, aecl_plan_run(P.p));
        CHECK_OK(ctx, aecl_plan_read(P.p, P.w1, dev1));
        CHECK_OK(ctx, aecl_plan_read(P.p, P.w2, dev2));
        CHECK_MSG(test_rel_err(dev1, h1.w, N1, 1e-6, 1e-5) <= 1 && test_rel_err(dev2, h2.w, N2, 1e-6, 1e-5) <= 1,
                  "lr schedule step %d (rate %g)", s + 1, (double)rates[s]);
        if (rates[s] == 0.0f) CHECK(memcmp(before, dev2, sizeof before) == 0); /* rate 0: no change */
    }
    ref_optim_param_free(&h1);
    ref_optim_param_free(&h2);
    problem_free(&P);
}

/* ---- convergence: a tiny linear regression ------------------------------------------ */

/* y = x * w + b per feature (elementwise, broadcast over the batch): the
 * optimizer must find w_true, b_true from data. */
enum { RB = 48, RD = 7 };

static void fit_regression(aecl_ctx *ctx, const aecl_optimizer_config *cfg, int steps, float late_lr,
                           const char *name)
{
    float x[RB * RD], y[RB * RD], wt[RD], bt[RD], w0[RD] = {0}, b0[RD] = {0}, w[RD], b[RD], l0 = NAN, l1 = NAN;
    test_fill_uniform(x, RB * RD, -1, 1, &seed);
    test_fill_uniform(wt, RD, -2, 2, &seed);
    test_fill_uniform(bt, RD, -1, 1, &seed);
    for (int r = 0; r < RB; r++)
        for (int j = 0; j < RD; j++) y[r * RD + j] = x[r * RD + j] * wt[j] + bt[j];
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    int sx[2] = {RB, RD}, sv = RD;
    aecl_tensor *xt = aecl_input(g, "x", 2, sx), *yt = aecl_input(g, "y", 2, sx);
    aecl_tensor *wv = aecl_param(g, "w", 1, &sv), *bv = aecl_param(g, "b", 1, &sv), *lr = NULL;
    aecl_tensor *pred = aecl_add_channel(g, aecl_mul(g, xt, aecl_channel_broadcast(g, wv, xt)), bv);
    aecl_tensor *loss = aecl_masked_mean(g, aecl_loss_rows(g, AECL_LOSS_MSE, pred, yt), 1.0f);
    aecl_backward(g, loss);
    CHECK_OK(ctx, aecl_optimizer_apply(g, cfg, &lr));
    aecl_plan *p = NULL;
    if (aecl_graph_status(g) == AECL_OK) CHECK_OK(ctx, aecl_plan_compile(g, NULL, &p));
    if (p) {
        aecl_plan_write(p, xt, x);
        aecl_plan_write(p, yt, y);
        aecl_plan_write(p, wv, w0);
        aecl_plan_write(p, bv, b0);
        for (int s = 0; s < steps; s++) {
            if (s == steps / 2 && late_lr > 0) CHECK_OK(ctx, aecl_plan_write(p, lr, &late_lr)); /* step decay */
            CHECK_OK(ctx, aecl_plan_run(p));
            if (s == 0) CHECK_OK(ctx, aecl_plan_read(p, loss, &l0));
        }
        CHECK_OK(ctx, aecl_plan_read(p, loss, &l1));
        CHECK_OK(ctx, aecl_plan_read(p, wv, w));
        CHECK_OK(ctx, aecl_plan_read(p, bv, b));
        double err = 0;
        for (int j = 0; j < RD; j++) err = fmax(err, fmax(fabs(w[j] - wt[j]), fabs(b[j] - bt[j])));
        CHECK_MSG(err < 1e-3 && l1 < 1e-5 * l0, "%s: after %d steps max |w - w_true| = %g, loss %g -> %g", name,
                  steps, err, (double)l0, (double)l1);
    }
    aecl_plan_free(p);
    aecl_graph_free(g);
}

static void test_convergence(aecl_ctx *ctx)
{
    aecl_optimizer_config sgd = variant_config(1, 0.0f, 0.0f);
    fit_regression(ctx, &sgd, 300, 0.0f, "sgd+momentum");
    aecl_optimizer_config adam = aecl_optimizer_defaults(AECL_OPT_ADAM, 0.05f);
    fit_regression(ctx, &adam, 600, 0.005f, "adam with a step-decay schedule");
}

/* ---- errors ------------------------------------------------------------------------------ */

static aecl_status apply_to_fresh(aecl_ctx *ctx, const aecl_optimizer_config *cfg, int do_backward, int twice)
{
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    int s = 3;
    aecl_tensor *w = aecl_param(g, "w", 1, &s);
    aecl_tensor *loss = aecl_sum(g, aecl_mul(g, w, w));
    if (do_backward) aecl_backward(g, loss);
    aecl_status st = aecl_optimizer_apply(g, cfg, NULL);
    if (twice && st == AECL_OK) st = aecl_optimizer_apply(g, cfg, NULL);
    CHECK(aecl_graph_status(g) == st); /* errors are sticky on the graph too */
    aecl_graph_free(g);
    return st;
}

static void test_errors(aecl_ctx *ctx)
{
    aecl_optimizer_config ok = aecl_optimizer_defaults(AECL_OPT_ADAM, 1e-3f);
    CHECK_OK(ctx, apply_to_fresh(ctx, &ok, 1, 0));
    CHECK(apply_to_fresh(ctx, &ok, 0, 0) == AECL_ERR_STATE);
    CHECK(strstr(aecl_ctx_last_error(ctx), "aecl_backward") != NULL);
    CHECK(apply_to_fresh(ctx, &ok, 1, 1) == AECL_ERR_STATE);
    CHECK(strstr(aecl_ctx_last_error(ctx), "already") != NULL);
    CHECK(apply_to_fresh(ctx, NULL, 1, 0) == AECL_ERR_INVALID_ARG);
    struct { const char *field; aecl_optimizer_config c; } bad[6];
    for (int i = 0; i < 6; i++) bad[i].c = ok;
    bad[0].field = "beta1", bad[0].c.beta1 = 1.0f;
    bad[1].field = "eps", bad[1].c.eps = 0.0f;
    bad[2].field = "lr", bad[2].c.lr = -0.1f;
    bad[3].field = "nesterov", bad[3].c = aecl_optimizer_defaults(AECL_OPT_SGD, 0.1f), bad[3].c.nesterov = 1;
    bad[4].field = "clip_norm", bad[4].c.clip_norm = NAN;
    bad[5].field = "kind", bad[5].c.kind = (aecl_opt_kind)7;
    for (int i = 0; i < 6; i++) {
        CHECK_MSG(apply_to_fresh(ctx, &bad[i].c, 1, 0) == AECL_ERR_INVALID_ARG, "bad %s accepted", bad[i].field);
        CHECK_MSG(strstr(aecl_ctx_last_error(ctx), bad[i].field) != NULL, "message '%s' does not name %s",
                  aecl_ctx_last_error(ctx), bad[i].field);
    }
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    test_errors(ctx);
    test_update_rules(ctx);
    test_many_chunks(ctx);
    printf("worst error of the update rules: %.3f of the tolerance (1e-6 + 1e-5 |x|)\n", worst_err);
    test_lr_tensor(ctx);
    test_convergence(ctx);
    return test_finish();
}

/* The memory plan and replay: no two live tensors share memory (checked on the
 * plan and by poisoning dead regions), reuse actually saves memory, a replayed
 * step equals a freshly compiled one, the first step's launches of each kind
 * can be watched, a launch can be timed alone, and a small net trains to a low
 * loss. */
#include "compile/compile.h"
#include "check.h"
#include "graph/plan.h"
#include "graph/op.h"
#include "ops/ops.h"
#include "rt/rt.h"

#include <stdlib.h>
#include <string.h>

enum { B = 16, F = 12, H = 24, Z = 4 };

typedef struct mlp { aecl_graph *g; aecl_plan *p; aecl_tensor *x, *loss, *w[4]; } mlp;

static void build(aecl_ctx *ctx, mlp *m, int poison, int no_reuse)
{
    memset(m, 0, sizeof *m);
    aecl_graph_create(ctx, &m->g);
    aecl_graph *g = m->g;
    int xs[2] = {B, F}, w0[2] = {H, F}, w1[2] = {Z, H}, w2[2] = {H, Z}, w3[2] = {F, H};
    m->x = aecl_input(g, "x", 2, xs);
    m->w[0] = aecl_param(g, "w0", 2, w0);
    m->w[1] = aecl_param(g, "w1", 2, w1);
    m->w[2] = aecl_param(g, "w2", 2, w2);
    m->w[3] = aecl_param(g, "w3", 2, w3);
    aecl_tensor *h = aecl_dense(g, m->x, m->w[0], NULL, AECL_ACT_TANH, 0);
    h = aecl_dense(g, h, m->w[1], NULL, AECL_ACT_NONE, 0);
    h = aecl_activation(g, aecl_dense(g, h, m->w[2], NULL, AECL_ACT_NONE, 0), AECL_ACT_ELU, 1.0f);
    h = aecl_dense(g, h, m->w[3], NULL, AECL_ACT_NONE, 0);
    m->loss = aecl_masked_mean(g, aecl_loss_rows(g, AECL_LOSS_MSE, h, m->x), 1.0f / F);
    aecl_backward(g, m->loss);
    aecl_optimizer_config oc = aecl_optimizer_defaults(AECL_OPT_ADAM, 0.01f);
    aecl_optimizer_apply(g, &oc, NULL);
    aecl_plan_options opt = {.seed = 9, .poison = poison, .no_reuse = no_reuse};
    CHECK_OK(ctx, aecl_graph_status(g));
    CHECK_OK(ctx, aecl_plan_compile(g, &opt, &m->p));
    unsigned s = 1;
    float x[B * F], w[H * F];
    test_fill_uniform(x, B * F, 0, 1, &s);
    aecl_plan_write(m->p, m->x, x);
    for (int i = 0; i < 4; i++) {
        test_fill_uniform(w, m->w[i]->size, -0.5f, 0.5f, &s);
        aecl_plan_write(m->p, m->w[i], w);
    }
}

static void destroy(mlp *m)
{
    aecl_plan_free(m->p);
    aecl_graph_free(m->g);
}

/* Two work tensors whose lifetimes overlap must have disjoint regions. */
static void check_no_overlap(const aecl_graph *g)
{
    int bad = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const aecl_tensor *a = g->nodes[i];
        if (a->storage != AECL_STORE_WORK) continue;
        for (int j = i + 1; j < g->n_nodes; j++) {
            const aecl_tensor *b = g->nodes[j];
            if (b->storage != AECL_STORE_WORK || b->id > a->last_use) continue;
            int inplace = b->op && b->op->inplace_ok && b->in[0] == a && a->last_use == b->id;
            size_t ae = a->offset + a->size, be = b->offset + b->size;
            if (!inplace && a->offset < be && b->offset < ae) bad++;
        }
    }
    CHECK_MSG(bad == 0, "%d pairs of live tensors share memory", bad);
}

static float loss_after(aecl_ctx *ctx, mlp *m, int steps)
{
    float l = NAN;
    for (int i = 0; i < steps; i++) CHECK_OK(ctx, aecl_plan_run(m->p));
    CHECK_OK(ctx, aecl_plan_read(m->p, m->loss, &l));
    return l;
}

/* Watching the first launch of each kind: the calls count 1..total in order
 * during the first step, total no more than the launches (and fewer here: the
 * four dense layers share kernels), nothing on later steps, and a watched step
 * computes what an unwatched one does (the watch only waits). */
typedef struct watch_log { int calls, last_done, total, in_order; } watch_log;

static void on_first(void *user, int done, int total)
{
    watch_log *w = user;
    w->in_order &= done == w->last_done + 1 && (!w->total || total == w->total);
    w->calls++, w->last_done = done, w->total = total;
}

static void check_watch(aecl_ctx *ctx, float unwatched_loss_after_1)
{
    mlp m;
    build(ctx, &m, 0, 0);
    watch_log w = {.in_order = 1};
    CHECK_OK(ctx, aecl_plan_watch_first_launches(m.p, on_first, &w));
    float l1 = loss_after(ctx, &m, 1);
    int launches = aecl_plan_launch_count(m.p), after_first = w.calls;
    loss_after(ctx, &m, 2);
    CHECK_MSG(w.in_order && w.total >= 3 && w.total < launches && w.calls == w.total && after_first == w.total,
              "watch: %d calls (%d in the first step) of %d kinds, %d launches, %s", w.calls, after_first, w.total,
              launches, w.in_order ? "in order" : "out of order");
    CHECK_MSG(l1 == unwatched_loss_after_1, "watched step's loss %g, unwatched %g", l1, unwatched_loss_after_1);
    /* Set again, then ended before a step: no call. */
    w = (watch_log){.in_order = 1};
    CHECK_OK(ctx, aecl_plan_watch_first_launches(m.p, on_first, &w));
    CHECK_OK(ctx, aecl_plan_watch_first_launches(m.p, NULL, NULL));
    loss_after(ctx, &m, 1);
    CHECK_MSG(w.calls == 0, "ended watch: %d calls", w.calls);
    destroy(&m);
}

/* aecl_plan_args binds exactly the arguments a kernel declares: selftest_axpb
 * takes 7 (x, x_off, y, y_off, a, b, n); a format one short or one long is an
 * error naming the kernel, not a launch that fails later. */
static void check_arg_count(aecl_ctx *ctx, mlp *m)
{
    static const struct { const char *fmt; int ok; } cases[] = {{"TTffi", 1}, {"TTff", 0}, {"TTffii", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cl_kernel k = NULL;
        CHECK_OK(ctx, aecl_kernel_create(ctx, "selftest.cl", "", "selftest_axpb", &k));
        if (!k) continue;
        aecl_status st = cases[i].fmt[5] == 'i'
                             ? aecl_plan_args(m->p, k, cases[i].fmt, m->x, m->x, 1.0, 0.0, 1, 2)
                             : aecl_plan_args(m->p, k, cases[i].fmt, m->x, m->x, 1.0, 0.0, 1);
        CHECK_MSG((st == AECL_OK) == cases[i].ok, "format %s: %s", cases[i].fmt, aecl_ctx_last_error(ctx));
        if (!cases[i].ok)
            CHECK_MSG(strstr(aecl_ctx_last_error(ctx), "selftest_axpb"), "format %s: %s", cases[i].fmt,
                      aecl_ctx_last_error(ctx));
        clReleaseKernel(k);
    }
}

/* aecl_plan_run_launch_profiled (apps/bench_alone.c): every launch of the step
 * alone gives a device time, and an index outside the plan is an error that
 * says so. */
static void check_launch_alone(aecl_ctx *ctx, mlp *m)
{
    int n = aecl_plan_launch_count(m->p), timed = 0;
    for (int i = 0; i < n; i++) {
        double t = -1;
        CHECK_OK(ctx, aecl_plan_run_launch_profiled(m->p, i, &t));
        CHECK_MSG(t >= 0 && t < 1, "launch %d (%s) alone: %g s", i, aecl_plan_launch_label(m->p, i), t);
        timed += t > 0;
    }
    CHECK_MSG(timed > n / 2, "%d of %d launches timed above 0", timed, n);
    double t;
    CHECK(aecl_plan_run_launch_profiled(m->p, n, &t) == AECL_ERR_INVALID_ARG);
    CHECK_MSG(strstr(aecl_ctx_last_error(ctx), "launch"), "%s", aecl_ctx_last_error(ctx));
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    mlp plain, poisoned, fresh, unplanned;
    build(ctx, &plain, 0, 0);
    build(ctx, &poisoned, 1, 0);
    build(ctx, &unplanned, 0, 1);
    check_no_overlap(plain.g);
    check_arg_count(ctx, &plain);
    mlp alone; /* its own plan: the optimizer's launch updates the weights again */
    build(ctx, &alone, 0, 0);
    check_launch_alone(ctx, &alone);
    destroy(&alone);
    const aecl_plan_stats *s = aecl_plan_get_stats(plain.p), *u = aecl_plan_get_stats(unplanned.p);
    CHECK(s->work_bytes < u->work_bytes && s->unplanned_bytes == u->unplanned_bytes);
    printf("work arena: planned %zu bytes, unplanned %zu; %d launches\n", s->work_bytes, u->work_bytes, s->n_launches);

    /* Poisoning dead regions changes nothing: no live tensor was in them. */
    float a = loss_after(ctx, &plain, 5), b = loss_after(ctx, &poisoned, 5), c = loss_after(ctx, &unplanned, 5);
    CHECK_MSG(a == b && a == c, "plain %g, poisoned %g, unplanned %g", a, b, c);

    /* Replay: step 6 of a long-lived plan equals step 6 of a fresh plan given the
     * same weights and optimizer state (Adam's step comes from the counter). */
    build(ctx, &fresh, 0, 0);
    float la = loss_after(ctx, &fresh, 5);
    CHECK(la == a);
    CHECK(loss_after(ctx, &fresh, 1) == loss_after(ctx, &plain, 1));
    mlp once;
    build(ctx, &once, 0, 0);
    check_watch(ctx, loss_after(ctx, &once, 1));
    destroy(&once);

    /* A few hundred steps reach a low loss (initial ~0.2). */
    float first = loss_after(ctx, &plain, 0);
    float last = loss_after(ctx, &plain, 400);
    printf("loss %g -> %g after 400 steps\n", first, last);
    CHECK_MSG(last < 0.01f && last < first / 5, "loss %g after 400 steps", last);
    destroy(&plain); destroy(&poisoned); destroy(&unplanned); destroy(&fresh);
    return test_finish();
}

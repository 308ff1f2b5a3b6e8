/* Pointwise fusion (lib/graph/fuse.c): chains fold into one generated kernel
 * whose results match a plain-C reference and the unfused plan; nodes with
 * several readers, outputs and over-wide groups are left alone; a fused root may
 * write over a dying input; gradients through fused backward chains match. */
#include "compile/compile.h"
#include "check.h"
#include "graph/plan.h"
#include "graph/op.h"
#include "ops/ops.h"
#include "rt/rt.h"

#include <stdlib.h>
#include <string.h>

enum { N = 1000, NX = 10 }; /* N: not a multiple of any work-group size */

typedef struct fx {
    aecl_graph *g;
    aecl_plan *p;
    aecl_tensor *x[NX], *y, *z;
} fx;

typedef void (*build_fn)(aecl_graph *g, fx *f);

static float host_x[NX][N];

static void compile(aecl_ctx *ctx, fx *f, build_fn build, int no_fuse)
{
    memset(f, 0, sizeof *f);
    CHECK_OK(ctx, aecl_graph_create(ctx, &f->g));
    int shape[2] = {25, N / 25};
    for (int i = 0; i < NX; i++) {
        char name[8];
        snprintf(name, sizeof name, "x%d", i);
        f->x[i] = aecl_input(f->g, name, 2, shape);
    }
    build(f->g, f);
    aecl_plan_options opt = {.seed = 3, .poison = 1, .no_fuse = no_fuse};
    CHECK_OK(ctx, aecl_graph_status(f->g));
    CHECK_OK(ctx, aecl_plan_compile(f->g, &opt, &f->p));
    for (int i = 0; i < NX && f->p; i++) CHECK_OK(ctx, aecl_plan_write(f->p, f->x[i], host_x[i]));
    if (f->p) CHECK_OK(ctx, aecl_plan_run(f->p));
}

static void release(fx *f)
{
    aecl_plan_free(f->p);
    aecl_graph_free(f->g);
}

/* Runs build fused and unfused: outputs y (and z) agree with each other and
 * with ref_y; returns the fused plan's stats through *st. */
static void compare(aecl_ctx *ctx, const char *what, build_fn build, const float *ref_y, aecl_plan_stats *st)
{
    fx a, b;
    compile(ctx, &a, build, 0);
    compile(ctx, &b, build, 1);
    static float ya[N], yb[N], za[N], zb[N];
    CHECK_OK(ctx, aecl_plan_read(a.p, a.y, ya));
    CHECK_OK(ctx, aecl_plan_read(b.p, b.y, yb));
    CHECK_MSG(test_rel_err(ya, yb, N, 1e-6, 1e-5) <= 1, "%s: fused and unfused y differ", what);
    CHECK_MSG(test_rel_err(ya, ref_y, N, 1e-6, 1e-5) <= 1, "%s: y differs from the host", what);
    if (a.z) {
        CHECK_OK(ctx, aecl_plan_read(a.p, a.z, za));
        CHECK_OK(ctx, aecl_plan_read(b.p, b.z, zb));
        CHECK_MSG(test_rel_err(za, zb, N, 1e-6, 1e-5) <= 1, "%s: fused and unfused z differ", what);
    }
    CHECK_MSG(aecl_plan_get_stats(b.p)->n_fused == 0, "%s: no_fuse fused", what);
    *st = *aecl_plan_get_stats(a.p);
    printf("%s: %d nodes folded, %d launches (unfused %d)\n", what, st->n_fused, st->n_launches,
           aecl_plan_get_stats(b.p)->n_launches);
    release(&a);
    release(&b);
}

/* y = 2 * tanh(x0 * x1 + x2) - 1 - x3: five nodes, one kernel. */
static void build_chain(aecl_graph *g, fx *f)
{
    aecl_tensor *t = aecl_add(g, aecl_mul(g, f->x[0], f->x[1]), f->x[2]);
    t = aecl_affine(g, aecl_activation(g, t, AECL_ACT_TANH, 0), 2.0f, -1.0f);
    f->y = aecl_mark(aecl_sub(g, t, f->x[3]), AECL_T_OUTPUT);
}

static void test_chain(aecl_ctx *ctx)
{
    static float ref[N];
    for (int i = 0; i < N; i++)
        ref[i] = 2.0f * tanhf(host_x[0][i] * host_x[1][i] + host_x[2][i]) - 1.0f - host_x[3][i];
    aecl_plan_stats st;
    compare(ctx, "chain", build_chain, ref, &st);
    CHECK(st.n_fused == 4 && st.n_launches == 1);
}

/* t = x0 + x1 has two readers: it stays a tensor; each reader's group reads it.
 * y = sigmoid(t) * x2 (the last reader: the fused root may take t's storage),
 * z = t * t (one reader, read twice). */
static void build_shared(aecl_graph *g, fx *f)
{
    aecl_tensor *t = aecl_add(g, f->x[0], f->x[1]);
    f->z = aecl_mark(aecl_scale(g, aecl_mul(g, t, t), 0.5f), AECL_T_OUTPUT);
    f->y = aecl_mark(aecl_mul(g, aecl_activation(g, t, AECL_ACT_SIGMOID, 0), f->x[2]), AECL_T_OUTPUT);
}

static void test_shared(aecl_ctx *ctx)
{
    static float ref[N];
    for (int i = 0; i < N; i++) ref[i] = host_x[2][i] / (1.0f + expf(-(host_x[0][i] + host_x[1][i])));
    aecl_plan_stats st;
    compare(ctx, "shared", build_shared, ref, &st);
    CHECK(st.n_fused == 2 && st.n_launches == 3);
    CHECK_MSG(st.n_inplace >= 1, "the last reader of t did not take its storage");
}

/* An output in the middle of a chain is kept (and right); the rest fuses. */
static void build_output_mid(aecl_graph *g, fx *f)
{
    f->z = aecl_mark(aecl_activation(g, aecl_sub(g, f->x[0], f->x[1]), AECL_ACT_LEAKY_RELU, 0.1f), AECL_T_OUTPUT);
    f->y = aecl_mark(aecl_activation_grad(g, f->z, f->x[2], AECL_ACT_LEAKY_RELU, 0.1f), AECL_T_OUTPUT);
}

static void test_output_mid(aecl_ctx *ctx)
{
    static float ref[N];
    for (int i = 0; i < N; i++) {
        float d = host_x[0][i] - host_x[1][i], z = d > 0 ? d : 0.1f * d;
        ref[i] = host_x[2][i] * (z > 0 ? 1.0f : 0.1f);
    }
    aecl_plan_stats st;
    compare(ctx, "output in the middle", build_output_mid, ref, &st);
    CHECK(st.n_fused == 1 && st.n_launches == 2);
}

/* A sum of ten inputs needs more inputs than a node holds: it stays unfused,
 * and still computes the right sum. */
static void build_wide(aecl_graph *g, fx *f)
{
    aecl_tensor *t = f->x[0];
    for (int i = 1; i < NX; i++) t = aecl_add(g, t, f->x[i]);
    f->y = aecl_mark(t, AECL_T_OUTPUT);
}

static void test_wide(aecl_ctx *ctx)
{
    static float ref[N];
    for (int i = 0; i < N; i++) {
        ref[i] = host_x[0][i];
        for (int k = 1; k < NX; k++) ref[i] += host_x[k][i];
    }
    aecl_plan_stats st;
    compare(ctx, "too many inputs", build_wide, ref, &st);
    CHECK(st.n_fused == 0 && st.n_launches == NX - 1);
}

/* Backward: d/dx0 of sum(r * elu(x0 * x1 + x2)) builds act_grad and mul chains
 * that fuse; the gradient matches the unfused plan and the host. */
static void build_grad(aecl_graph *g, fx *f)
{
    int shape[2] = {25, N / 25};
    aecl_tensor *w = aecl_param(g, "w", 2, shape);
    aecl_tensor *h = aecl_activation(g, aecl_add(g, aecl_mul(g, w, f->x[1]), f->x[2]), AECL_ACT_ELU, 1.0f);
    aecl_tensor *loss = aecl_sum(g, aecl_mul(g, h, f->x[3]));
    aecl_backward(g, loss);
    f->z = w;
    f->y = w->grad ? aecl_mark(w->grad, AECL_T_OUTPUT) : NULL;
    if (!f->y) aecl_graph_fail(g, AECL_ERR_STATE, "no gradient for w");
}

static void test_grad(aecl_ctx *ctx)
{
    static float ref[N];
    for (int i = 0; i < N; i++) { /* w = x0, written below through f->z */
        float u = host_x[0][i] * host_x[1][i] + host_x[2][i];
        float d = u > 0 ? 1.0f : expf(u);
        ref[i] = host_x[3][i] * d * host_x[1][i];
    }
    fx a, b;
    static float ga[N], gb[N];
    for (int pass = 0; pass < 2; pass++) {
        fx *f = pass ? &b : &a;
        compile(ctx, f, build_grad, pass);
        CHECK_OK(ctx, aecl_plan_write(f->p, f->z, host_x[0]));
        CHECK_OK(ctx, aecl_plan_run(f->p));
        CHECK_OK(ctx, aecl_plan_read(f->p, f->y, pass ? gb : ga));
    }
    CHECK(test_rel_err(ga, gb, N, 1e-6, 1e-5) <= 1);
    CHECK(test_rel_err(ga, ref, N, 1e-6, 1e-4) <= 1);
    int fa = aecl_plan_get_stats(a.p)->n_fused, la = aecl_plan_get_stats(a.p)->n_launches;
    int lb = aecl_plan_get_stats(b.p)->n_launches;
    printf("gradient: %d nodes folded, %d launches (unfused %d)\n", fa, la, lb);
    CHECK(fa >= 2 && la == lb - fa);
    release(&a);
    release(&b);
}

/* Broadcast: the KL term's gradients read one value per row (the rows' loss
 * weights r). loss = sum_r r[r] KL(mu = tanh(w1), logvar = w2 / 2): each kl_grad
 * folds into the activation gradient or the scale after it. */
enum { KR = 25, KC = N / 25 };

static void build_kl(aecl_graph *g, fx *f)
{
    int shape[2] = {KR, KC}, rows = KR;
    aecl_tensor *w1 = aecl_param(g, "w1", 2, shape), *w2 = aecl_param(g, "w2", 2, shape);
    aecl_tensor *r = aecl_input(g, "r", 1, &rows);
    aecl_tensor *kl = aecl_kl_rows(g, aecl_activation(g, w1, AECL_ACT_TANH, 0), aecl_scale(g, w2, 0.5f));
    aecl_backward(g, aecl_sum(g, aecl_mul(g, kl, r)));
    f->y = aecl_mark(w1->grad, AECL_T_OUTPUT);
    f->z = aecl_mark(w2->grad, AECL_T_OUTPUT);
    f->x[8] = w1, f->x[9] = w2; /* written by the test: the graph's own x8, x9 go unused */
    f->x[7] = r;
}

static void test_kl(aecl_ctx *ctx)
{
    static float ref1[N], ref2[N], g1[2][N], g2[2][N];
    for (int i = 0; i < N; i++) {
        float r = host_x[7][i / KC], mu = tanhf(host_x[8][i]), lv = 0.5f * host_x[9][i];
        ref1[i] = r * mu * (1.0f - mu * mu);
        ref2[i] = 0.5f * r * 0.5f * (expf(lv) - 1.0f);
    }
    fx f[2];
    for (int pass = 0; pass < 2; pass++) {
        compile(ctx, &f[pass], build_kl, pass); /* writes x7..x9 from host_x: r takes the first KR values */
        CHECK_OK(ctx, aecl_plan_run(f[pass].p));
        CHECK_OK(ctx, aecl_plan_read(f[pass].p, f[pass].y, g1[pass]));
        CHECK_OK(ctx, aecl_plan_read(f[pass].p, f[pass].z, g2[pass]));
    }
    CHECK(test_rel_err(g1[0], ref1, N, 1e-6, 1e-5) <= 1 && test_rel_err(g1[1], ref1, N, 1e-6, 1e-5) <= 1);
    CHECK(test_rel_err(g2[0], ref2, N, 1e-6, 1e-5) <= 1 && test_rel_err(g2[1], ref2, N, 1e-6, 1e-5) <= 1);
    int fa = aecl_plan_get_stats(f[0].p)->n_fused;
    printf("kl broadcast: %d nodes folded, %d launches (unfused %d)\n", fa, aecl_plan_get_stats(f[0].p)->n_launches,
           aecl_plan_get_stats(f[1].p)->n_launches);
    CHECK(fa >= 2);
    release(&f[0]);
    release(&f[1]);
}

/* A generated program that does not compile: a build error naming it. */
static void test_bad_text(aecl_ctx *ctx)
{
    cl_kernel k = NULL;
    aecl_status st = aecl_kernel_create_text(ctx, "fused", "__kernel void fused(void) { oops; }", "fused", &k);
    CHECK(st == AECL_ERR_BUILD);
    CHECK(strstr(aecl_ctx_last_error(ctx), "building fused#") != NULL);
    if (k) clReleaseKernel(k);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    unsigned s = 7;
    for (int i = 0; i < NX; i++) test_fill_uniform(host_x[i], N, -2, 2, &s);
    test_chain(ctx);
    test_shared(ctx);
    test_output_mid(ctx);
    test_wide(ctx);
    test_grad(ctx);
    test_kl(ctx);
    test_bad_text(ctx);
    return test_finish();
}

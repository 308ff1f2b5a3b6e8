/* Pooling and upsampling: forward against host references and known PyTorch
 * values, full backward against host scatter references (max-pool ties to the
 * first maximum, bilinear as the exact adjoint), gradchecks and shape errors. */
#include "compile/compile.h"
#include "gradcheck.h"
#include "graph/plan.h"
#include "ops/conv.h"
#include "ref_ops.h"

#include <stdlib.h>
#include <string.h>

static unsigned seed = 5;

enum { OP_MAX = REF_MAXPOOL, OP_AVG = REF_AVGPOOL, OP_NEAREST = REF_NEAREST, OP_BILINEAR = REF_BILINEAR };

typedef ref_pool pcfg;

static aecl_tensor *build(aecl_graph *g, aecl_tensor **x, void *u)
{
    const pcfg *c = u;
    switch (c->op) {
    case OP_MAX: return aecl_maxpool2d(g, x[0], c->k, c->stride);
    case OP_AVG: return aecl_avgpool2d(g, x[0], c->k, c->stride);
    case OP_NEAREST: return aecl_upsample2d(g, x[0], c->k, AECL_UPSAMPLE_NEAREST);
    default: return aecl_upsample2d(g, x[0], c->k, AECL_UPSAMPLE_BILINEAR);
    }
}

static const char *describe(const pcfg *c, char *buf, size_t cap)
{
    static const char *names[] = {"maxpool", "avgpool", "nearest", "bilinear"};
    snprintf(buf, cap, "%s N%d C%d %dx%d k%d s%d", names[c->op], c->N, c->C, c->H, c->W, c->k, c->stride);
    return buf;
}

/* Forward and full backward (loss = sum(y * r)) against the reference. */
static void check_op(aecl_ctx *ctx, const pcfg *c, const float *xin)
{
    int Ho, Wo;
    ref_pool_out_hw(c, &Ho, &Wo);
    size_t nx = (size_t)c->N * c->C * c->H * c->W, ny = (size_t)c->N * c->C * Ho * Wo;
    float *x = malloc(nx * sizeof *x), *y = malloc(ny * sizeof *y), *ry = calloc(ny, sizeof *ry);
    float *r = malloc(ny * sizeof *r), *gx = malloc(nx * sizeof *gx), *rgx = calloc(nx, sizeof *rgx);
    if (xin) memcpy(x, xin, nx * sizeof *x);
    else ref_fill_distinct(x, nx, &seed);
    test_fill_uniform(r, ny, -1, 1, &seed);
    char d[96];
    describe(c, d, sizeof d);
    ref_pool_apply(c, x, ry, r, rgx);

    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    int xs[4] = {c->N, c->C, c->H, c->W}, ys[4] = {c->N, c->C, Ho, Wo};
    aecl_tensor *xt = aecl_param(g, "x", 4, xs), *rt = aecl_input(g, "r", 4, ys), *xa[1] = {xt};
    aecl_tensor *yt = aecl_mark(build(g, xa, (void *)c), AECL_T_OUTPUT);
    aecl_backward(g, aecl_sum(g, aecl_mul(g, yt, rt)));
    aecl_mark(xt->grad, AECL_T_OUTPUT);
    aecl_plan *p = NULL;
    aecl_plan_options opt = {.seed = 1, .poison = 1};
    CHECK_OK(ctx, aecl_graph_status(g));
    if (aecl_graph_status(g) == AECL_OK) CHECK_OK(ctx, aecl_plan_compile(g, &opt, &p));
    if (p) {
        aecl_plan_write(p, xt, x);
        aecl_plan_write(p, rt, r);
        CHECK_OK(ctx, aecl_plan_run(p));
        aecl_plan_read(p, yt, y);
        aecl_plan_read(p, xt->grad, gx);
        CHECK_MSG(test_rel_err(y, ry, ny, 1e-6, 1e-5) <= 1, "forward %s", d);
        CHECK_MSG(test_rel_err(gx, rgx, nx, 1e-5, 1e-5) <= 1, "backward %s", d);
    }
    aecl_plan_free(p);
    aecl_graph_free(g);
    free(x), free(y), free(ry), free(r), free(gx), free(rgx);
}

static void check_grad(aecl_ctx *ctx, const pcfg *c)
{
    size_t nx = (size_t)c->N * c->C * c->H * c->W;
    float *x = malloc(nx * sizeof *x);
    ref_fill_distinct(x, nx, &seed);
    gc_input in = {4, {c->N, c->C, c->H, c->W}, x, 0};
    char d[96];
    gc_gradcheck(ctx, describe(c, d, sizeof d), 1, &in, build, (void *)c, 1e-3f, 1e-2, 16);
    free(x);
}

/* Known values of torch.nn.functional.interpolate(mode="bilinear",
 * align_corners=False). */
static void test_known_bilinear(aecl_ctx *ctx)
{
    float x[4] = {1, 2, 3, 4}, y[16];
    const float want[16] = {1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f,
                            2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f};
    pcfg c = {OP_BILINEAR, 1, 1, 2, 2, 2, 0};
    gc_input in = {4, {1, 1, 2, 2}, x, 0};
    if (!gc_forward(ctx, 1, &in, build, &c, y, 16)) CHECK(test_rel_err(y, want, 16, 1e-6, 1e-6) <= 1);
    /* 1x2 by 3: three equal rows */
    float x3[2] = {1, 2}, y3[18];
    const float want3[6] = {1.0f, 1.0f, 4.0f / 3, 5.0f / 3, 2.0f, 2.0f};
    pcfg c3 = {OP_BILINEAR, 1, 1, 1, 2, 3, 0};
    gc_input in3 = {4, {1, 1, 1, 2}, x3, 0};
    if (!gc_forward(ctx, 1, &in3, build, &c3, y3, 18))
        for (int r = 0; r < 3; r++) CHECK(test_rel_err(y3 + 6 * r, want3, 6, 1e-6, 1e-6) <= 1);
}

/* Ties: a window of equal values sends its whole gradient to its first element. */
static void test_ties(aecl_ctx *ctx)
{
    float x[35] = {0};
    pcfg a = {OP_MAX, 1, 1, 7, 5, 2, 2};
    check_op(ctx, &a, x);
    pcfg b = {OP_MAX, 1, 1, 7, 5, 3, 2}; /* overlapping windows */
    check_op(ctx, &b, x);
}

static void test_errors(aecl_ctx *ctx)
{
    aecl_graph *g;
    aecl_graph_create(ctx, &g);
    int xs[4] = {2, 3, 4, 5}, x2[2] = {6, 7};
    CHECK(aecl_maxpool2d(g, aecl_input(g, "x", 4, xs), 5, 1) == NULL);
    CHECK(aecl_graph_status(g) == AECL_ERR_SHAPE);
    CHECK(strstr(aecl_ctx_last_error(ctx), "maxpool2d") && strstr(aecl_ctx_last_error(ctx), "2x3x4x5"));
    aecl_graph_free(g);
    aecl_graph_create(ctx, &g);
    CHECK(aecl_upsample2d(g, aecl_input(g, "x", 2, x2), 2, 0) == NULL);
    CHECK(strstr(aecl_ctx_last_error(ctx), "upsample2d") && strstr(aecl_ctx_last_error(ctx), "6x7"));
    aecl_graph_free(g);
    aecl_graph_create(ctx, &g);
    CHECK(aecl_avgpool2d(g, aecl_input(g, "x", 4, xs), 2, 0) == NULL);
    CHECK(strstr(aecl_ctx_last_error(ctx), "avgpool2d"));
    aecl_graph_free(g);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    const pcfg cases[] = {
        {OP_MAX, 1, 3, 7, 5, 2, 2},     {OP_MAX, 3, 2, 7, 5, 3, 2},     {OP_MAX, 2, 1, 6, 9, 2, 1},
        {OP_MAX, 3, 32, 28, 28, 2, 2},  {OP_AVG, 1, 3, 7, 5, 2, 2},     {OP_AVG, 3, 2, 7, 5, 3, 2},
        {OP_AVG, 2, 1, 6, 9, 2, 1},     {OP_NEAREST, 1, 3, 7, 5, 2, 0}, {OP_NEAREST, 3, 2, 5, 3, 3, 0},
        {OP_BILINEAR, 1, 3, 7, 5, 2, 0}, {OP_BILINEAR, 3, 2, 5, 3, 3, 0}, {OP_BILINEAR, 2, 2, 1, 4, 4, 0},
        {OP_BILINEAR, 3, 64, 7, 7, 2, 0}, {OP_NEAREST, 1, 1, 4, 4, 1, 0}, {OP_BILINEAR, 1, 1, 4, 4, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_op(ctx, &cases[i], NULL);
    const pcfg small[] = {
        {OP_MAX, 2, 2, 5, 4, 2, 2}, {OP_MAX, 1, 2, 5, 5, 3, 2}, {OP_AVG, 2, 1, 5, 4, 2, 1},
        {OP_NEAREST, 2, 1, 3, 2, 2, 0}, {OP_BILINEAR, 1, 2, 3, 2, 2, 0}, {OP_BILINEAR, 1, 1, 2, 3, 3, 0},
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) check_grad(ctx, &small[i]);
    test_known_bilinear(ctx);
    test_ties(ctx);
    test_errors(ctx);
    return test_finish();
}

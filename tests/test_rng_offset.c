/* Random ops under a row offset (aecl_plan_set_row_offset): a plan over rows
 * [a, a + b) of a batch, run with offset a, must draw for each row what the plan
 * of the whole batch draws for it, forward and backward (dropout and its mask,
 * gaussian and mask noise and their gradients, the VAE's eps and d logvar).
 * Row widths of 5, 7 and 30 floats put the first row mid-way into a Philox block
 * of four, the path only split batches take. Registered under Oclgrind too. */
#include "check.h"
#include "compile/compile.h"
#include "graph/plan.h"
#include "ops/ops.h"
#include "ops/random.h"

#include <stdlib.h>
#include <string.h>

enum { ROWS = 9, PART = 4, KINDS = 4 };
static const char *const kind_names[KINDS] = {"dropout", "gaussian noise", "mask noise", "reparameterize"};

typedef struct built {
    aecl_graph *g;
    aecl_plan *p;
    aecl_tensor *x, *lv, *y;
} built;

/* y = op(x) over [rows, cols], loss = sum(y); x (and a VAE's logvar) are
 * parameters, so backward gives their gradients through the op's backward kernel. */
static aecl_status build(aecl_ctx *ctx, int kind, int rows, int cols, built *b)
{
    memset(b, 0, sizeof *b);
    AECL_TRY(aecl_graph_create(ctx, &b->g));
    int shape[2] = {rows, cols};
    b->x = aecl_param(b->g, "x", 2, shape);
    if (kind == 0) b->y = aecl_dropout(b->g, b->x, 0.3f);
    if (kind == 1) b->y = aecl_noise(b->g, b->x, AECL_NOISE_GAUSSIAN, 0.5f, 1);
    if (kind == 2) b->y = aecl_noise(b->g, b->x, AECL_NOISE_MASK, 0.3f, 0);
    if (kind == 3) {
        b->lv = aecl_param(b->g, "lv", 2, shape);
        b->y = aecl_reparameterize(b->g, b->x, b->lv, 1);
    }
    aecl_mark(b->y, AECL_T_OUTPUT);
    AECL_TRY(aecl_backward(b->g, aecl_sum(b->g, b->y)));
    aecl_mark(b->x->grad, AECL_T_OUTPUT);
    if (b->lv) aecl_mark(b->lv->grad, AECL_T_OUTPUT);
    aecl_plan_options opt = {.seed = 77};
    return aecl_plan_compile(b->g, &opt, &b->p);
}

static void release(built *b)
{
    aecl_plan_free(b->p);
    aecl_graph_free(b->g);
}

/* Runs step 5 on rows [first, first + rows) of x and lv at row offset `first`;
 * out: y, dx, dlv (rows * cols each). */
static aecl_status run(built *b, const float *x, const float *lv, int first, int rows, int cols, float *out)
{
    size_t n = (size_t)rows * cols;
    aecl_plan_set_row_offset(b->p, (uint32_t)first);
    aecl_plan_set_step(b->p, 5);
    AECL_TRY(aecl_plan_write(b->p, b->x, x + (size_t)first * cols));
    if (b->lv) AECL_TRY(aecl_plan_write(b->p, b->lv, lv + (size_t)first * cols));
    AECL_TRY(aecl_plan_run(b->p));
    AECL_TRY(aecl_plan_read(b->p, b->y, out));
    AECL_TRY(aecl_plan_read(b->p, b->x->grad, out + n));
    if (b->lv) AECL_TRY(aecl_plan_read(b->p, b->lv->grad, out + 2 * n));
    return AECL_OK;
}

static void one(aecl_ctx *ctx, int kind, int cols)
{
    float x[ROWS * 30], lv[ROWS * 30], whole[3 * ROWS * 30], part[3 * PART * 30];
    unsigned seed = 3;
    test_fill_uniform(x, ROWS * (size_t)cols, 0.0f, 1.0f, &seed);
    test_fill_uniform(lv, ROWS * (size_t)cols, -1.0f, 1.0f, &seed);
    memset(whole, 0, sizeof whole);
    built w, p;
    CHECK_OK(ctx, build(ctx, kind, ROWS, cols, &w));
    CHECK_OK(ctx, build(ctx, kind, PART, cols, &p));
    CHECK_OK(ctx, run(&w, x, lv, 0, ROWS, cols, whole));
    int outs = kind == 3 ? 3 : 2;
    size_t nw = (size_t)ROWS * cols, np = (size_t)PART * cols;
    for (int first = 1; first + PART <= ROWS; first += 2) {
        memset(part, 0xff, sizeof part); /* NaN: a value never written shows */
        CHECK_OK(ctx, run(&p, x, lv, first, PART, cols, part));
        for (int o = 0; o < outs; o++) {
            const float *ref = whole + o * nw + (size_t)first * cols, *got = part + o * np;
            CHECK_MSG(test_rel_err(got, ref, np, 1e-6, 1e-6) <= 1, "%s, %d floats a row, rows from %d, output %d",
                      kind_names[kind], cols, first, o);
        }
    }
    /* The draws do depend on the offset: rows 0.. drawn as rows 1.. differ. */
    CHECK_OK(ctx, run(&p, x, lv, 0, PART, cols, part));
    aecl_plan_set_row_offset(p.p, 1);
    aecl_plan_set_step(p.p, 5);
    CHECK_OK(ctx, aecl_plan_run(p.p));
    float shifted[PART * 30];
    CHECK_OK(ctx, aecl_plan_read(p.p, p.y, shifted));
    CHECK_MSG(memcmp(shifted, part, np * sizeof *part) != 0, "%s: the offset changes nothing", kind_names[kind]);
    release(&w);
    release(&p);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    static const int widths[] = {5, 7, 30};
    for (int k = 0; k < KINDS; k++)
        for (int c = 0; c < 3; c++) one(ctx, k, widths[c]);
    return test_finish();
}

#include "compile/compile.h"
#include "gradcheck.h"

#include <stdlib.h>
#include <string.h>

int gc_graph_build(aecl_ctx *ctx, const char *name, int n_in, const gc_input *in, gc_build_fn build, void *user,
                   int with_loss, const aecl_plan_options *opt, gc_graph *G)
{
    memset(G, 0, sizeof *G);
    if (aecl_graph_create(ctx, &G->g) != AECL_OK) return -1;
    for (int i = 0; i < n_in; i++) {
        char xname[16];
        snprintf(xname, sizeof xname, "x%d", i);
        G->x[i] = in[i].no_grad ? aecl_input(G->g, xname, in[i].ndim, in[i].shape)
                                : aecl_param(G->g, xname, in[i].ndim, in[i].shape);
    }
    G->y = aecl_mark(build(G->g, G->x, user), AECL_T_OUTPUT);
    if (with_loss && G->y) {
        G->r = aecl_input(G->g, "r", G->y->ndim, G->y->shape);
        G->loss = aecl_sum(G->g, aecl_mul(G->g, G->y, G->r));
        aecl_backward(G->g, G->loss);
        for (int i = 0; i < n_in; i++)
            if (!in[i].no_grad) {
                CHECK_MSG(G->x[i]->grad != NULL, "%s: input %d got no gradient", name, i);
                aecl_mark(G->x[i]->grad, AECL_T_OUTPUT);
            }
    }
    aecl_plan_options dflt = {.seed = 1234, .poison = 1};
    aecl_status st = aecl_graph_status(G->g);
    if (st == AECL_OK) st = aecl_plan_compile(G->g, opt ? opt : &dflt, &G->p);
    CHECK_MSG(st == AECL_OK, "%s: graph or plan: %s", name, aecl_ctx_last_error(ctx));
    for (int i = 0; i < n_in && st == AECL_OK; i++)
        if (in[i].data) st = aecl_plan_write(G->p, G->x[i], in[i].data);
    CHECK_MSG(st == AECL_OK, "%s: writing the inputs: %s", name, aecl_ctx_last_error(ctx));
    return st == AECL_OK ? 0 : -1;
}

void gc_graph_free(gc_graph *G)
{
    aecl_plan_free(G->p);
    aecl_graph_free(G->g);
    memset(G, 0, sizeof *G);
}

int gc_forward(aecl_ctx *ctx, int n_in, const gc_input *in, gc_build_fn build, void *user, float *out,
               size_t out_size)
{
    gc_graph G;
    int rc = gc_graph_build(ctx, "forward", n_in, in, build, user, 0, NULL, &G);
    if (rc == 0) {
        CHECK_MSG(G.y->size == out_size, "output has %zu elements, expected %zu", G.y->size, out_size);
        aecl_plan_set_step(G.p, 0);
        rc = G.y->size == out_size && aecl_plan_run(G.p) == AECL_OK && aecl_plan_read(G.p, G.y, out) == AECL_OK ? 0 : -1;
        CHECK_MSG(rc == 0, "forward run failed: %s", aecl_ctx_last_error(ctx));
    }
    gc_graph_free(&G);
    return rc;
}

static float run_loss(gc_graph *G)
{
    float l = NAN;
    aecl_plan_set_step(G->p, 0); /* the same random numbers in every evaluation */
    if (aecl_plan_run(G->p) != AECL_OK || aecl_plan_read(G->p, G->loss, &l) != AECL_OK) return NAN;
    return l;
}

double gc_gradcheck(aecl_ctx *ctx, const char *name, int n_in, const gc_input *in, gc_build_fn build, void *user,
                    float h, double tol, int max_points)
{
    gc_graph G;
    if (gc_graph_build(ctx, name, n_in, in, build, user, 1, NULL, &G) != 0) {
        gc_graph_free(&G);
        return INFINITY;
    }
    float *r = malloc(G.y->size * sizeof *r);
    unsigned seed = 99;
    test_fill_uniform(r, G.y->size, -1.0f, 1.0f, &seed);
    aecl_plan_write(G.p, G.r, r);
    run_loss(&G);
    double worst = 0;
    for (int i = 0; i < n_in; i++) {
        if (in[i].no_grad) continue;
        size_t n = G.x[i]->size;
        float *ga = malloc(n * sizeof *ga), *x = malloc(n * sizeof *x);
        memcpy(x, in[i].data, n * sizeof *x);
        CHECK_OK(ctx, aecl_plan_read(G.p, G.x[i]->grad, ga));
        size_t step = n > (size_t)max_points ? n / (size_t)max_points : 1;
        for (size_t j = 0; j < n; j += step) {
            float keep = x[j];
            x[j] = keep + h;
            aecl_plan_write(G.p, G.x[i], x);
            double lp = run_loss(&G);
            x[j] = keep - h;
            aecl_plan_write(G.p, G.x[i], x);
            double lm = run_loss(&G);
            x[j] = keep;
            aecl_plan_write(G.p, G.x[i], x);
            double fd = (lp - lm) / (2.0 * h);
            double e = fabs(ga[j] - fd) / (tol + tol * fabs(fd));
            if (!(e <= worst)) worst = e;
            CHECK_MSG(e <= 1.0, "%s: d/dx%d[%zu]: analytic %g, finite difference %g", name, i, j, ga[j], fd);
        }
        free(ga);
        free(x);
    }
    free(r);
    gc_graph_free(&G);
    return worst;
}

#include "compile/compile.h"
#include "gradcheck.h"

#include <stdlib.h>
#include <string.h>

typedef struct gc_graph {
    aecl_graph *g;
    aecl_plan *p;
    aecl_tensor *x[8], *y, *r, *loss;
} gc_graph;

static int build_graph(aecl_ctx *ctx, int n_in, const gc_input *in, gc_build_fn build, void *user, int with_loss,
                       gc_graph *G)
{
    memset(G, 0, sizeof *G);
    if (aecl_graph_create(ctx, &G->g) != AECL_OK) return -1;
    for (int i = 0; i < n_in; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        G->x[i] = in[i].no_grad ? aecl_input(G->g, name, in[i].ndim, in[i].shape)
                                : aecl_param(G->g, name, in[i].ndim, in[i].shape);
    }
    G->y = aecl_mark(build(G->g, G->x, user), AECL_T_OUTPUT);
    if (with_loss && G->y) {
        G->r = aecl_input(G->g, "r", G->y->ndim, G->y->shape);
        G->loss = aecl_sum(G->g, aecl_mul(G->g, G->y, G->r));
        aecl_backward(G->g, G->loss);
        for (int i = 0; i < n_in; i++)
            if (!in[i].no_grad) {
                CHECK_MSG(G->x[i]->grad != NULL, "input %d got no gradient", i);
                aecl_mark(G->x[i]->grad, AECL_T_OUTPUT);
            }
    }
    aecl_status st = aecl_graph_status(G->g);
    aecl_plan_options opt = {.seed = 1234, .poison = 1};
    if (st == AECL_OK) st = aecl_plan_compile(G->g, &opt, &G->p);
    if (st != AECL_OK) {
        fprintf(stderr, "graph build/compile failed: %s\n", aecl_ctx_last_error(ctx));
        return -1;
    }
    for (int i = 0; i < n_in; i++) aecl_plan_write(G->p, G->x[i], in[i].data);
    return 0;
}

static void free_graph(gc_graph *G)
{
    aecl_plan_free(G->p);
    aecl_graph_free(G->g);
}

int gc_forward(aecl_ctx *ctx, int n_in, const gc_input *in, gc_build_fn build, void *user, float *out,
               size_t out_size)
{
    gc_graph G;
    int rc = build_graph(ctx, n_in, in, build, user, 0, &G);
    CHECK(rc == 0);
    if (rc == 0) {
        CHECK_MSG(G.y->size == out_size, "output has %zu elements, expected %zu", G.y->size, out_size);
        aecl_plan_set_step(G.p, 0);
        rc = G.y->size == out_size && aecl_plan_run(G.p) == AECL_OK && aecl_plan_read(G.p, G.y, out) == AECL_OK ? 0 : -1;
        CHECK_MSG(rc == 0, "forward run failed: %s", aecl_ctx_last_error(ctx));
    }
    free_graph(&G);
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
    if (build_graph(ctx, n_in, in, build, user, 1, &G) != 0) {
        CHECK_MSG(0, "%s: gradcheck graph failed", name);
        free_graph(&G);
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
    free_graph(&G);
    return worst;
}

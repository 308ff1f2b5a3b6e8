/* Test helpers for ops: run a small graph forward and compare with a host
 * reference, and check its gradients against central finite differences. */
#ifndef AECL_TEST_GRADCHECK_H
#define AECL_TEST_GRADCHECK_H

#include "check.h"
#include "graph/plan.h"
#include "ops/ops.h"

/* Builds the op under test from its inputs x[0..n_in). */
typedef aecl_tensor *(*gc_build_fn)(aecl_graph *g, aecl_tensor **x, void *user);

typedef struct gc_input {
    int ndim;
    int shape[4];
    const float *data;      /* values (size = product of shape), or NULL: written later */
    int no_grad;            /* 1: data only (targets, eps), not differentiated */
} gc_input;

/* A test graph of one op under test: inputs x (parameters, or plain inputs when
 * no_grad), its output y, and with a loss the seed r and loss = sum(y * r),
 * differentiated (every differentiable input's gradient marked an output). */
typedef struct gc_graph {
    aecl_graph *g;
    aecl_plan *p;
    aecl_tensor *x[8], *y, *r, *loss;
} gc_graph;

/* Builds build(x) on n_in inputs (with_loss: and the loss above), compiles it
 * with opt (NULL: seed 1234, poisoned dead regions) and writes the inputs that
 * have data. Returns 0 on success; failures are CHECKs naming `name`. The graph
 * stays valid (nodes, fused_away) until gc_graph_free. */
int gc_graph_build(aecl_ctx *ctx, const char *name, int n_in, const gc_input *in, gc_build_fn build, void *user,
                   int with_loss, const aecl_plan_options *opt, gc_graph *G);
void gc_graph_free(gc_graph *G);

/* Runs build(x) forward and copies the output (out_size floats, checked) to out.
 * Returns 0 on success. */
int gc_forward(aecl_ctx *ctx, int n_in, const gc_input *in, gc_build_fn build, void *user, float *out,
               size_t out_size);

/* Checks d(sum(y * R))/dx for every differentiable input against central
 * differences with step h, R fixed random; at most max_points elements per input
 * (spread over the tensor). Failures are CHECKs naming `name`. Returns the worst
 * relative error |a - fd| / (atol + rtol |fd|) with atol = rtol = tol. */
double gc_gradcheck(aecl_ctx *ctx, const char *name, int n_in, const gc_input *in, gc_build_fn build, void *user,
                    float h, double tol, int max_points);

#endif

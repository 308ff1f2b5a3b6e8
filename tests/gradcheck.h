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
    const float *data;      /* values (size = product of shape) */
    int no_grad;            /* 1: data only (targets, eps), not differentiated */
} gc_input;

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

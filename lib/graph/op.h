/* The op interface. One file per op (family) under lib/ops, kernels under cl/.
 * Each op has: a builder (shape check, in the op's header section of ops.h), a
 * forward emitter (launches with arguments bound once), and a backward rule (more
 * graph nodes); its parameters are a struct of its own (AECL_OP_PARAMS in
 * graph.h). Definitions use designated initialisers, slots left out are 0/NULL:
 *     const aecl_op_def aecl_op_add = {.name = "add", .emit = emit_binary, ...};
 * and every op is listed once in lib/ops/op_list.h. */
#ifndef AECL_GRAPH_OP_H
#define AECL_GRAPH_OP_H

#include "graph/graph.h"
#include "graph/plan.h"

struct aecl_op_def {
    const char *name;
    /* Appends the launches computing t to the plan. NULL for views (no work). */
    aecl_status (*emit)(aecl_plan *p, aecl_tensor *t);
    /* Adds nodes computing the gradients of t's inputs from t->grad (calling
     * aecl_grad_add for each input with AECL_T_GRAD). NULL: not differentiable. */
    void (*backward)(aecl_graph *g, aecl_tensor *t);
    /* 1 when the output may share storage with input 0 if that input dies here
     * (elementwise ops that read x[i] before writing y[i]). */
    int inplace_ok;
    /* 1 for views: the output aliases input 0's storage (reshape/flatten). */
    int is_view;
    /* Pointwise ops (element i of the output depends on element i of each input
     * of the output's element count n, and on element i / (n / size) of a smaller
     * input: per-row values): writes an OpenCL C expression of the value, given
     * the expressions of the inputs' values in[k]. Returns 0 when it does not fit
     * in cap. NULL: not fusable. See lib/graph/fuse.c. */
    int (*pointwise)(const aecl_tensor *t, const char *const *in, char *buf, size_t cap);
    /* 1 when emit's first call to the plan is aecl_plan_kernel for a kernel file
     * whose -D options depend on the node's shapes (the conv blockings): the
     * compiler first runs such emits in a gathering pass that stops at that
     * call, so that the plan's option sets of one file share a program
     * (lib/rt/variants.c). */
    int gathers_variant;
};

#endif

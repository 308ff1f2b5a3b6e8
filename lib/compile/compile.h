/* The compiler layer: from a forward graph to a plan. Above lib/ops (its passes
 * ask ops through predicates, and autodiff builds gradient nodes with ops) and
 * below lib/nn. */
#ifndef AECL_COMPILE_COMPILE_H
#define AECL_COMPILE_COMPILE_H

#include "graph/plan.h"

/* Builds the backward graph of a scalar loss: every tensor with AECL_T_GRAD that
 * the loss depends on gets ->grad. Gradients of a tensor that feeds several nodes
 * are summed (aecl_grad_add, lib/ops). */
aecl_status aecl_backward(aecl_graph *g, aecl_tensor *loss);

/* Fuses (unless opt->no_fuse), plans memory, creates the device buffers and lets
 * every op emit its launches. opt may be NULL (defaults). */
aecl_status aecl_plan_compile(aecl_graph *g, const aecl_plan_options *opt, aecl_plan **out);

#endif

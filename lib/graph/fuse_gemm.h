/* GEMM epilogue fusion of activation gradients: in a backward pass, a dense layer's
 *   gz = activation_grad(y, gy),   gy = matmul(A, B)  (dX = gz_next W)
 * becomes one matmul_act_grad node, a GEMM whose epilogue multiplies by act'(y)
 * (lib/ops/gemm.h, grad_act): one launch less, and gy never goes to memory.
 *
 * The activation_grad node keeps its identity (the tensor pointer callers hold),
 * the matmul leaves the node list for g->fused_away. A matmul qualifies when it has
 * no bias and no activation of its own, its only reader is the activation_grad
 * (as gy, not as y), it is a plain work tensor (not an output, loss, input,
 * parameter, state or constant) and no side-effect node (optimizer update) runs
 * between the two, since the GEMM's reads move to the later node's place. */
#ifndef AECL_GRAPH_FUSE_GEMM_H
#define AECL_GRAPH_FUSE_GEMM_H

#include "graph/plan.h"
#include "ops/act.h"

/* Run by aecl_plan_compile after aecl_fuse_pointwise (which leaves activation_grad
 * nodes whose gy is a matmul alone: a matmul is not pointwise). Does nothing when
 * opt->no_fuse (opt may be NULL). *n_folded (may be NULL): matmuls folded away. */
aecl_status aecl_fuse_gemm_act_grad(aecl_graph *g, const aecl_plan_options *opt, int *n_folded);

/* For the pass, from lib/ops/dense.c: whether t is a matmul node without bias or
 * activation, and turning activation_grad node r (inputs y, gy = p) into p's GEMM
 * with the epilogue act'(y) of activation act (slope: leaky slope / elu alpha). */
int aecl_matmul_is_plain(const aecl_tensor *t);
/* From lib/ops/eltwise.c: whether t is an activation_grad node (an op predicate,
 * not a comparison of op names). */
int aecl_is_activation_grad(const aecl_tensor *t);
void aecl_matmul_take_act_grad(aecl_tensor *r, const aecl_tensor *p, aecl_act act, float slope);

#endif

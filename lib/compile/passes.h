/* The compiler's passes over a graph, run in this order by aecl_plan_compile.
 *
 * GEMM epilogue fusion of activation gradients: in a backward pass, a dense layer's
 *   gz = activation_grad(y, gy),   gy = matmul(A, B)  (dX = gz_next W)
 * becomes one matmul_act_grad node, a GEMM whose epilogue multiplies by act'(y)
 * (lib/ops/gemm.h, grad_act): one launch less, and gy never goes to memory.
 *
 * The activation_grad node keeps its identity (the tensor pointer callers hold),
 * the matmul leaves the node list for g->fused_away. A matmul qualifies when it has
 * no bias and no activation of its own, its only reader is the activation_grad
 * (as gy, not as y), it is a plain work tensor (not an output, loss, input,
 * parameter, state or constant) and no side-effect node (optimizer update) runs
 * between the two, since the GEMM's reads move to the later node's place.
 * The output layer's activation gradient, whose gy is the batch loss's gradient
 * (loss_mean_grad, or a reshape of it) rather than a GEMM, folds the same way into
 * that loss gradient when the loss's prediction is the activation's output y:
 * its kernel multiplies by act'(y) (the loss gradient and the reshape leave the
 * node list). */
#ifndef AECL_COMPILE_PASSES_H
#define AECL_COMPILE_PASSES_H

#include "graph/plan_internal.h"

/* Run by aecl_plan_compile after aecl_fuse_pointwise (which leaves activation_grad
 * nodes whose gy is a matmul alone: a matmul is not pointwise). Does nothing when
 * opt->no_fuse (opt may be NULL). *n_folded (may be NULL): activation gradients
 * folded (launches saved). */
aecl_status aecl_fuse_gemm_act_grad(aecl_graph *g, const aecl_plan_options *opt, int *n_folded);

/* Bias gradients into weight-gradient GEMMs: a dense layer's backward computes
 *   dW = matmul(gz, x, trans_a)   and   db = channel_sum(gz)  (column sums of gz)
 * and the GEMM's items of the first column block can add up gz's columns as they
 * go (lib/ops/gemm.h, row sums of op(A)): the matmul also writes db, and the
 * channel_sum node launches nothing. It moves to right after the matmul and
 * reads what the matmul reads and writes, so db's storage is planned from there
 * on, apart from all of them, and whatever waits for db waits for that GEMM. A
 * pair qualifies when the channel_sum sums the columns of a 2-D gz into a work
 * tensor (an output is fine), and the matmul is a plain backward matmul of op(A) = gz^T (no
 * bias, activation or extras) between gz and the sum with no side-effect node
 * between it and the sum. Run after aecl_fuse_gemm_act_grad (which may have
 * produced gz). Does nothing when opt->no_fuse. *n_folded: launches saved. */
aecl_status aecl_fuse_gemm_bias_grad(aecl_graph *g, const aecl_plan_options *opt, int *n_folded);

/* Folds chains of pointwise nodes (ops with a `pointwise` generator) into single
 * nodes with generated kernels: a node is folded into its consumer when that
 * consumer is its only reader, is pointwise too and has the same element count,
 * and the node is not an output, loss, input, parameter or state. Run by
 * aecl_plan_compile after autodiff; tensors callers read after a step must be
 * marked AECL_T_OUTPUT. Returns the number of nodes folded away in *n_folded. */
aecl_status aecl_fuse_pointwise(aecl_graph *g, int *n_folded);

/* Padded copies made by their producer (pad_fold.c): a conv_pad node without an
 * activation gradient whose input is a convolution's output that nothing else
 * reads (a plain work tensor; the copy of its gradient may read it for the
 * activation's derivative) takes the AECL_T_ZEROED flag (persistent memory,
 * zeroed once), and the convolution's output becomes a view of it: the
 * convolution's kernel writes the copy's interior in its layout and the copy
 * launches nothing. Run after the fusion passes; does nothing when
 * opt->no_fuse. *n_folded (may be NULL): copies folded (launches saved). */
aecl_status aecl_fold_pads(aecl_graph *g, const aecl_plan_options *opt, int *n_folded);

/* Assigns storage and offsets to every tensor of the graph (memplan.c). */
aecl_status aecl_memplan(aecl_plan *p);

/* Work tensors whose storage ends at node id (for poisoning). */
int aecl_memplan_dying(const aecl_plan *p, int node_id, const aecl_tensor **out, int cap);

#endif

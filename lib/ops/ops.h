/* Graph builders of every op. Each checks shapes and returns a new node, or
 * NULL with the graph's sticky error set (see graph.h). */
#ifndef AECL_OPS_OPS_H
#define AECL_OPS_OPS_H

#include "graph/graph.h"
#include "ops/act.h"
#include "ops/conv.h"
#include "ops/optim.h"
#include "ops/random.h"

/* eltwise.c: same-shape elementwise ops */
/* The parameters of activation and activation_grad nodes (the GEMM-epilogue
 * pass reads them too). */
typedef struct aecl_act_params {
    aecl_act act;
    float slope;        /* leaky_relu's slope, elu's alpha */
} aecl_act_params;
AECL_OP_PARAMS(aecl_act_p, aecl_act_params)

aecl_tensor *aecl_add(aecl_graph *g, aecl_tensor *a, aecl_tensor *b);
aecl_tensor *aecl_sub(aecl_graph *g, aecl_tensor *a, aecl_tensor *b);
aecl_tensor *aecl_mul(aecl_graph *g, aecl_tensor *a, aecl_tensor *b);
/* y = alpha * x + beta */
aecl_tensor *aecl_affine(aecl_graph *g, aecl_tensor *x, float alpha, float beta);
aecl_tensor *aecl_scale(aecl_graph *g, aecl_tensor *x, float alpha);
aecl_tensor *aecl_activation(aecl_graph *g, aecl_tensor *x, aecl_act act, float slope);
/* gx = gy * act'(y), from the activation's output y (backward of aecl_activation) */
aecl_tensor *aecl_activation_grad(aecl_graph *g, aecl_tensor *y, aecl_tensor *gy, aecl_act act, float slope);
/* A constant tensor, written once when the plan is compiled (no launch per step). */
aecl_tensor *aecl_fill(aecl_graph *g, int ndim, const int *shape, float value);

/* fused.c: aecl_op_fused (declared in ops/op_list.h) is the node that
 * aecl_fuse_pointwise makes of a group of pointwise nodes; its kernel is the
 * group's generated code (t->code), the kernel fused_<id> with an id unique in
 * the graph: a plan builds the kernels of all its graph's fused nodes as one
 * program. */
typedef struct aecl_fused_params {
    int id;
} aecl_fused_params;
AECL_OP_PARAMS(aecl_fused_p, aecl_fused_params)
/* An exact OpenCL C literal of f, "as_float(0x3f800000u)", for generated code. */
void aecl_cl_float(float f, char *buf, size_t cap);

/* view.c: reshape / flatten (no copy: the result aliases x) */
aecl_tensor *aecl_reshape(aecl_graph *g, aecl_tensor *x, int ndim, const int *shape);
aecl_tensor *aecl_flatten(aecl_graph *g, aecl_tensor *x);   /* [N, ...] -> [N, rest] */

/* reduce.c */
aecl_tensor *aecl_sum(aecl_graph *g, aecl_tensor *x);      /* -> [1] */
aecl_tensor *aecl_mean(aecl_graph *g, aecl_tensor *x);     /* -> [1] */
/* Sum over every axis but 1: [N, C, ...] -> [C] (bias gradients). */
aecl_tensor *aecl_channel_sum(aecl_graph *g, aecl_tensor *x);
/* y[n, c, ...] = v[c]: spreads a per-channel vector over a tensor shaped like `like`. */
aecl_tensor *aecl_channel_broadcast(aecl_graph *g, aecl_tensor *v, aecl_tensor *like);
/* y = x + b[c] per channel (axis 1). */
aecl_tensor *aecl_add_channel(aecl_graph *g, aecl_tensor *x, aecl_tensor *b);
/* L1 activity penalty: weight * mean over valid rows of sum |x| (sparse autoencoders). */
aecl_tensor *aecl_l1_activity(aecl_graph *g, aecl_tensor *x, float weight);

/* loss.c: per-sample losses [N] (summed over features) and their batch mean */
aecl_tensor *aecl_loss_rows(aecl_graph *g, aecl_loss_kind kind, aecl_tensor *pred, aecl_tensor *target);
/* KL(N(mu, exp(logvar)) || N(0, I)) per sample: [N, L] x [N, L] -> [N]. */
aecl_tensor *aecl_kl_rows(aecl_graph *g, aecl_tensor *mu, aecl_tensor *logvar);
/* scale * (sum of the first valid_rows entries of r) / valid_rows -> [1]; the
 * valid row count is the plan's dynamic value (short last batches). */
aecl_tensor *aecl_masked_mean(aecl_graph *g, aecl_tensor *rows, float scale);
/* masked_mean(loss_rows(kind, pred, target), scale) whose backward computes the
 * prediction's gradient in one kernel (loss and gradient fused). *rows_out (may
 * be NULL) gets the per-sample losses, for scores. */
aecl_tensor *aecl_loss_mean(aecl_graph *g, aecl_loss_kind kind, aecl_tensor *pred, aecl_tensor *target, float scale,
                            aecl_tensor **rows_out);

/* dense.c: y = act(x W^T + b), x [N, in] (flattened), W [out, in], b [out] or NULL */
aecl_tensor *aecl_dense(aecl_graph *g, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b, aecl_act act, float slope);
/* C = op(A) op(B), row-major; op = transpose when the flag is set. */
aecl_tensor *aecl_matmul(aecl_graph *g, aecl_tensor *a, aecl_tensor *b, int trans_a, int trans_b);


/* ---- for backward rules and the compiler (grad.c, dense.c, eltwise.c) --------- */

/* Adds gi to x's gradient (x->grad = gi, or x->grad + gi), for backward rules. */
void aecl_grad_add(aecl_graph *g, aecl_tensor *x, aecl_tensor *gi);

/* Predicates and rewrites the compiler's GEMM-epilogue pass (lib/compile/
 * fuse_gemm.c) asks of ops, so that no pass tests an op by its name: whether t is
 * a matmul node without bias or activation; whether t is an activation_grad node;
 * and turning activation_grad node r (inputs y, gy = p) into p's GEMM with the
 * epilogue act'(y) of activation act (slope: leaky slope / elu alpha). */
int aecl_matmul_is_plain(const aecl_tensor *t);
int aecl_is_activation_grad(const aecl_tensor *t);
void aecl_matmul_take_act_grad(aecl_tensor *r, const aecl_tensor *p, aecl_act act, float slope);
/* Whether matmul p is plain, computes op(A) = a^T and has no extras: it can also
 * write the row sums of a^T (the column sums of a), e.g. db beside dW = gz^T x;
 * and makes it do so into `sums` (added as its extra, written, not read). */
int aecl_matmul_can_take_row_sums(const aecl_tensor *p, const aecl_tensor *a);
/* Whether p is a batch loss's gradient (loss_mean_grad) whose prediction shares
 * its storage with y: it can also multiply by act'(y), the output layer's
 * activation gradient; and turning activation_grad node r into that node. */
int aecl_loss_grad_can_take_act_grad(const aecl_tensor *p, const aecl_tensor *y);
void aecl_loss_grad_take_act_grad(aecl_tensor *r, const aecl_tensor *p, aecl_act act, float slope);
void aecl_matmul_take_row_sums(aecl_graph *g, aecl_tensor *p, aecl_tensor *sums);
/* Whether t is a channel_sum of a 2-D matrix (its column sums); and turns it into
 * a node that launches nothing because the matmul `by` writes its value. Its
 * inputs become the matrix, by's second operand and by itself, so that nothing
 * by touches is reused for t's storage (see fuse_gemm.c). */
int aecl_is_column_sum(const aecl_tensor *t);
void aecl_channel_sum_written_by(aecl_tensor *t, aecl_tensor *by);

#endif

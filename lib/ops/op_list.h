/* Every op, listed once. Each entry X(sym) names the definition
 * `const aecl_op_def aecl_op_<sym>` in the op's file (lib/ops/<family>.c); the
 * declarations below and the table in op_table.c are generated from this list,
 * and tests/test_backend_ops.c walks that table: names unique, every op met in
 * some case, every op with a backward rule checked against finite differences.
 * A new op goes here, and gets a case there. */
#ifndef AECL_OPS_OP_LIST_H
#define AECL_OPS_OP_LIST_H

#include "graph/op.h"

#define AECL_OP_LIST(X)                                                                          \
    /* eltwise.c */                                                                              \
    X(add) X(sub) X(mul) X(affine) X(activation) X(activation_grad) X(fill)                      \
    /* fused.c, view.c */                                                                        \
    X(fused) X(reshape)                                                                          \
    /* reduce.c */                                                                               \
    X(reduce) X(reduce_grad) X(channel_sum) X(channel_sum_by_gemm)                               \
    X(channel_add)                                                                               \
    /* loss.c */                                                                                 \
    X(loss_rows) X(loss_grad) X(kl_rows) X(kl_grad) X(loss_mean) X(loss_mean_grad)               \
    /* dense.c */                                                                                \
    X(matmul) X(matmul_act_grad)                                                                 \
    /* conv2d.c, conv_transpose2d.c, conv_layout.c, conv_grad.c */                               \
    X(conv2d) X(conv_transpose2d) X(conv_relayout) X(conv_pad) X(conv_wgrad) X(conv_bias_grad)  \
    X(conv_sum_parts)                                                                            \
    /* pool.c, upsample.c */                                                                     \
    X(maxpool2d) X(avgpool2d) X(pool2d_grad) X(upsample2d) X(upsample2d_grad)                    \
    /* concat.c */                                                                               \
    X(concat) X(slice) X(slice_grad)                                                             \
    /* random_ops.c */                                                                           \
    X(dropout) X(dropout_grad) X(noise) X(noise_grad) X(reparameterize) X(reparam_grad)          \
    /* optim.c */                                                                                \
    X(optim_lr) X(grad_sumsq) X(optim_update)

#define AECL_OP_DECLARE(sym) extern const aecl_op_def aecl_op_##sym;
AECL_OP_LIST(AECL_OP_DECLARE)
#undef AECL_OP_DECLARE

/* The table of every op, in list order (op_table.c). */
extern const aecl_op_def *const aecl_op_table[];
extern const int aecl_op_table_size;

#endif

/* Optimizers as graph nodes: after aecl_backward, aecl_optimizer_apply appends one
 * update node per trainable parameter that writes the parameter and its state
 * (momentum, Adam moments) in place on the device, so a training step is a single
 * replay of the plan. State tensors are persistent and zero at compile time; they
 * are named "<param>.mom", "<param>.m", "<param>.v" (checkpoints find them by
 * the AECL_T_STATE flag and these names). */
#ifndef AECL_OPS_OPTIM_H
#define AECL_OPS_OPTIM_H

#include "graph/graph.h"

typedef enum aecl_opt_kind { AECL_OPT_SGD = 0, AECL_OPT_ADAM = 1, AECL_OPT_ADAMW = 2 } aecl_opt_kind;

typedef struct aecl_optimizer_config {
    aecl_opt_kind kind;
    float lr;               /* initial learning rate (the LR tensor can change it later) */
    float momentum;         /* SGD momentum in [0, 1); 0 = plain SGD (no state) */
    int nesterov;           /* SGD: Nesterov momentum (needs momentum > 0) */
    float beta1, beta2;     /* Adam moment decays in [0, 1): 0.9, 0.999 */
    float eps;              /* Adam: added to sqrt(v_hat), > 0: 1e-8 */
    float weight_decay;     /* SGD/Adam: wd * w added to the gradient (L2); AdamW: w -= lr * wd * w */
    float clip_norm;        /* > 0: scale every gradient by min(1, clip_norm / global L2 norm); 0: off */
} aecl_optimizer_config;

/* A config of the given kind with the usual defaults (Adam betas 0.9/0.999,
 * eps 1e-8, no momentum, no weight decay, no clipping). */
aecl_optimizer_config aecl_optimizer_defaults(aecl_opt_kind kind, float lr);

/* Appends the update nodes for every parameter (AECL_T_PARAM) that has a
 * gradient; call after aecl_backward, once per graph. With clip_norm > 0, first
 * a node sums the squares of all gradients.
 * Launches per step: one update for all parameters (Adam's bias corrections are
 * computed inside it from the step counter), and two for the sum of squares
 * when clipping.
 * Adam's step t is the plan's step counter + 1 (aecl_plan_set_step restores it).
 * lr_out (may be NULL) receives the learning-rate tensor: 1 persistent float,
 * set to cfg->lr when the plan is compiled; aecl_plan_write to it changes the
 * rate from the next step on. Errors (bad config: AECL_ERR_INVALID_ARG; no
 * gradients yet or applied twice: AECL_ERR_STATE) are also recorded in the
 * graph's sticky status. */
aecl_status aecl_optimizer_apply(aecl_graph *g, const aecl_optimizer_config *cfg, aecl_tensor **lr_out);

#endif

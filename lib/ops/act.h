/* Activation codes shared by the host and the kernels (-DACT=... or int args). */
#ifndef AECL_OPS_ACT_H
#define AECL_OPS_ACT_H

typedef enum aecl_act {
    AECL_ACT_NONE = 0,
    AECL_ACT_RELU = 1,
    AECL_ACT_LEAKY_RELU = 2,   /* slope in a separate float */
    AECL_ACT_SIGMOID = 3,
    AECL_ACT_TANH = 4,
    AECL_ACT_ELU = 5,          /* alpha in the slope argument (1 is usual) */
    AECL_ACT_SOFTPLUS = 6
} aecl_act;

/* Reconstruction losses. BCE is taken on logits (the output layer's
 * pre-activation), computed stably. */
typedef enum aecl_loss_kind { AECL_LOSS_MSE = 0, AECL_LOSS_BCE = 1 } aecl_loss_kind;

const char *aecl_act_name(aecl_act a);

#endif

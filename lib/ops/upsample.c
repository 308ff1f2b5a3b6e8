/* Upsampling by an integer factor, nearest or bilinear (align_corners False, as
 * PyTorch). Backward is the exact adjoint of the forward map: each input pixel
 * gathers the weighted gradients of the outputs that read it. */
#include "ops/conv.h"
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"

/* Of an upsampling node and of its gradient node. */
typedef struct upsample_params { int factor, mode; } upsample_params;
AECL_OP_PARAMS(upsample_p, upsample_params)

static aecl_status emit_upsample(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *x = t->in[0];
    cl_kernel k;
    AECL_TRY(aecl_plan_kernel(p, "pool.cl", "", "upsample_fwd", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiiiii", x, t, x->shape[2], x->shape[3], upsample_p(t)->factor,
                            upsample_p(t)->mode, (int)t->size));
    return aecl_plan_launch_1d(p, k, t->size, "upsample2d");
}

static aecl_status emit_upsample_grad(aecl_plan *p, aecl_tensor *t)
{
    cl_kernel k;
    AECL_TRY(aecl_plan_kernel(p, "pool.cl", "", "upsample_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiiiii", t->in[0], t, t->shape[2], t->shape[3], upsample_p(t)->factor,
                            upsample_p(t)->mode, (int)t->size));
    return aecl_plan_launch_1d(p, k, t->size, "upsample2d_grad");
}

const aecl_op_def aecl_op_upsample2d_grad = {.name = "upsample2d_grad", .emit = emit_upsample_grad};

static void backward_upsample(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *x = t->in[0];
    aecl_tensor *gx = aecl_node(g, &aecl_op_upsample2d_grad, NULL, 4, x->shape, 1, &t->grad);
    if (gx) {
        *upsample_p(gx) = *upsample_p(t);
        gx->flags &= ~(unsigned)AECL_T_GRAD;
    }
    aecl_grad_add(g, x, gx);
}

const aecl_op_def aecl_op_upsample2d = {.name = "upsample2d", .emit = emit_upsample, .backward = backward_upsample};

aecl_tensor *aecl_upsample2d(aecl_graph *g, aecl_tensor *x, int factor, int mode)
{
    if (!x) return NULL;
    char s[64];
    if (x->ndim != 4)
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "upsample2d: input %s must be 4-D (NCHW)",
                               aecl_shape_str(x, s, sizeof s));
    if (mode != AECL_UPSAMPLE_NEAREST && mode != AECL_UPSAMPLE_BILINEAR)
        return aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "upsample2d: unknown mode %d (0 nearest, 1 bilinear)", mode);
    if (factor < 1 || (size_t)factor * factor > ((size_t)1 << 31) / x->size)
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "upsample2d: factor %d does not fit input %s", factor,
                               aecl_shape_str(x, s, sizeof s));
    int shape[4] = {x->shape[0], x->shape[1], x->shape[2] * factor, x->shape[3] * factor};
    aecl_tensor *t = aecl_node(g, &aecl_op_upsample2d, NULL, 4, shape, 1, &x);
    if (t) *upsample_p(t) = (upsample_params){.factor = factor, .mode = mode};
    return t;
}

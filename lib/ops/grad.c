/* Gradient accumulation for backward rules: a tensor read by several nodes gets
 * the sum of their contributions, reshaped to its own shape when a rule hands back
 * the same values in another shape. */
#include "ops/ops.h"

void aecl_grad_add(aecl_graph *g, aecl_tensor *x, aecl_tensor *gi)
{
    if (!x || !gi || !(x->flags & AECL_T_GRAD)) return;
    if (!aecl_same_shape(x, gi) && x->size == gi->size) gi = aecl_reshape(g, gi, x->ndim, x->shape);
    x->grad = x->grad ? aecl_add(g, x->grad, gi) : gi;
}

/* Views: reshape and flatten alias their input's storage; no launch. */
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"

static void backward_view(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *x = t->in[0];
    aecl_grad_add(g, x, aecl_reshape(g, t->grad, x->ndim, x->shape));
}

const aecl_op_def aecl_op_reshape = {.name = "reshape", .backward = backward_view, .is_view = 1};

aecl_tensor *aecl_reshape(aecl_graph *g, aecl_tensor *x, int ndim, const int *shape)
{
    if (!x) return NULL;
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)(shape[i] > 0 ? shape[i] : 0);
    if (n != x->size) {
        char s[64];
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "reshape: %s has %zu elements, the new shape %zu", 
                               aecl_shape_str(x, s, sizeof s), x->size, n);
    }
    return aecl_node(g, &aecl_op_reshape, NULL, ndim, shape, 1, &x);
}

aecl_tensor *aecl_flatten(aecl_graph *g, aecl_tensor *x)
{
    if (!x) return NULL;
    if (x->ndim == 2) return x;
    int shape[2] = {x->shape[0], (int)(x->size / (size_t)x->shape[0])};
    return aecl_reshape(g, x, 2, shape);
}

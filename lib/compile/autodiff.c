/* Reverse-mode autodiff: walk the forward nodes from the loss back to the leaves,
 * letting each op's backward rule add the nodes that compute its inputs' gradients. */
#include "compile/compile.h"
#include "graph/op.h"
#include "ops/ops.h"

aecl_status aecl_backward(aecl_graph *g, aecl_tensor *loss)
{
    if (!g || !loss) return g ? (g->status ? g->status : AECL_ERR_INVALID_ARG) : AECL_ERR_INVALID_ARG;
    if (g->status) return g->status;
    if (loss->size != 1) {
        char s[64];
        aecl_graph_fail(g, AECL_ERR_SHAPE, "backward: the loss must be a scalar, got shape %s",
                        aecl_shape_str(loss, s, sizeof s));
        return g->status;
    }
    aecl_mark(loss, AECL_T_LOSS | AECL_T_OUTPUT);
    g->n_forward = g->n_nodes;
    loss->grad = aecl_fill(g, loss->ndim, loss->shape, 1.0f);
    for (int i = loss->id; i >= 0 && g->status == AECL_OK; i--) {
        aecl_tensor *t = g->nodes[i];
        if (!t->grad || !t->op) continue;
        if (!t->op->backward) {
            aecl_graph_fail(g, AECL_ERR_UNSUPPORTED, "backward: op '%s' (%s) has no gradient", t->op->name, t->name);
            break;
        }
        t->op->backward(g, t);
    }
    return g->status;
}

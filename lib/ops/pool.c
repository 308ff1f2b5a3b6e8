/* Max and average pooling (k x k windows, stride, no padding; windows crossing
 * the border are dropped as in PyTorch with ceil_mode False). Backward gathers:
 * max pooling recomputes each window's first maximum from x (row-major order,
 * so ties go to the first), average pooling spreads the gradient evenly over
 * the k*k inputs (no padding, so count_include_pad does not arise). */
#include "ops/conv.h"
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"

enum { POOL_MAX = 0, POOL_AVG = 1 };
/* Of a pooling node and of its gradient node. */
typedef struct pool_params { int mode, k, stride; } pool_params;
AECL_OP_PARAMS(pool_p, pool_params)

static aecl_status emit_pool(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *x = t->in[0];
    const pool_params *pp = pool_p(t);
    cl_kernel k;
    AECL_TRY(aecl_plan_kernel(p, "pool.cl", "", "pool_fwd", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiiiiiiii", x, t, x->shape[2], x->shape[3], t->shape[2], t->shape[3], pp->k,
                            pp->stride, pp->mode, (int)t->size));
    return aecl_plan_launch_1d(p, k, t->size, pp->mode == POOL_AVG ? "avgpool2d" : "maxpool2d");
}

/* in {gy, x}; x is only read for max pooling (avg: in {gy}) */
static aecl_status emit_pool_grad(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *gy = t->in[0];
    const pool_params *pp = pool_p(t);
    cl_kernel k;
    AECL_TRY(aecl_plan_kernel(p, "pool.cl", "", "pool_grad", &k));
    AECL_TRY(aecl_plan_args(p, k, "T_Tiiiiiiii", gy, t->n_in > 1 ? t->in[1] : NULL, t, t->shape[2], t->shape[3],
                            gy->shape[2], gy->shape[3], pp->k, pp->stride, pp->mode, (int)t->size));
    return aecl_plan_launch_1d(p, k, t->size, pp->mode == POOL_AVG ? "avgpool2d_grad" : "maxpool2d_grad");
}

const aecl_op_def aecl_op_pool2d_grad = {.name = "pool2d_grad", .emit = emit_pool_grad};

static void backward_pool(aecl_graph *g, aecl_tensor *t)
{
    aecl_tensor *x = t->in[0];
    aecl_tensor *in[2] = {t->grad, x};
    aecl_tensor *gx = aecl_node(g, &aecl_op_pool2d_grad, NULL, 4, x->shape, pool_p(t)->mode == POOL_MAX ? 2 : 1, in);
    if (gx) {
        *pool_p(gx) = *pool_p(t);
        gx->flags &= ~(unsigned)AECL_T_GRAD;
    }
    aecl_grad_add(g, x, gx);
}

const aecl_op_def aecl_op_maxpool2d = {.name = "maxpool2d", .emit = emit_pool, .backward = backward_pool};
const aecl_op_def aecl_op_avgpool2d = {.name = "avgpool2d", .emit = emit_pool, .backward = backward_pool};

static aecl_tensor *pool(aecl_graph *g, const aecl_op_def *op, int mode, aecl_tensor *x, int k, int stride)
{
    if (!x) return NULL;
    char s[64];
    if (x->ndim != 4)
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: input %s must be 4-D (NCHW)", op->name,
                               aecl_shape_str(x, s, sizeof s));
    if (k < 1 || stride < 1 || x->shape[2] < k || x->shape[3] < k)
        return aecl_graph_fail(g, AECL_ERR_SHAPE, "%s: window %d, stride %d do not fit input %s", op->name, k, stride,
                               aecl_shape_str(x, s, sizeof s));
    int shape[4] = {x->shape[0], x->shape[1], (x->shape[2] - k) / stride + 1, (x->shape[3] - k) / stride + 1};
    aecl_tensor *t = aecl_node(g, op, NULL, 4, shape, 1, &x);
    if (t) *pool_p(t) = (pool_params){.mode = mode, .k = k, .stride = stride};
    return t;
}

aecl_tensor *aecl_maxpool2d(aecl_graph *g, aecl_tensor *x, int k, int stride)
{
    return pool(g, &aecl_op_maxpool2d, POOL_MAX, x, k, stride);
}

aecl_tensor *aecl_avgpool2d(aecl_graph *g, aecl_tensor *x, int k, int stride)
{
    return pool(g, &aecl_op_avgpool2d, POOL_AVG, x, k, stride);
}

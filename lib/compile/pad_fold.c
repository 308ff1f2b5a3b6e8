/* Padded copies written by their producer (see passes.h, aecl_fold_pads).
 *
 * A convolution reads its input from a zero-padded copy (a conv_pad node,
 * lib/ops/conv_layout.c). Where that input is another convolution's output and
 * the copy is its only reader, the producing kernel can write the copy's
 * layout itself (cl/conv_common.cl, CONV_OUT_ROW): the output becomes a
 * view of the copy, which moves to persistent memory, zeroed once when the
 * plan is made, so its border stays zero (the producer writes only the
 * interior, and no other tensor shares that memory); the copy launches
 * nothing. In an inference net that is every conv-to-conv copy: in the conv
 * autoencoder's, the copies after the first convolution and the first
 * transposed convolution, a pass over 3.2 MB read and 3.7 MB written, twice,
 * less per step. Training folds them too: the copy of a convolution's output
 * gradient reads the output for its activation's derivative, and reads it in
 * the padded copy (cl/conv_layout.cl takes y's geometry). The copy of an output
 * gradient is folded as well where it applies no activation (the producer, the
 * next layer's input gradient, is a convolution too). */
#include "compile/fuse_util.h"
#include "compile/passes.h"
#include "ops/conv.h"
#include "ops/op_list.h"

static int is_conv(const aecl_tensor *t) { return t->op == &aecl_op_conv2d || t->op == &aecl_op_conv_transpose2d; }

/* Whether t's reads of x are all fine once x is a view of the copy p: p's own;
 * a convolution's that reads p as its padded input and x only for its shape
 * (in[0]: the conv nodes keep their unpadded input there); and the copy of x's
 * gradient, which reads x for its activation's derivative in x's geometry
 * (aecl_conv_geometry). */
static int reads_ok(const aecl_tensor *t, const aecl_tensor *x, const aecl_tensor *p)
{
    if (t == p) return 1;
    for (int k = 0; k < t->n_in + t->n_extra; k++) {
        const aecl_tensor *in = k < t->n_in ? t->in[k] : t->extra[k - t->n_in];
        int shape_only = k == 0 && is_conv(t) && t->n_in > 3 && t->in[3] == p;
        int act_grad = k == 1 && t->op == &aecl_op_conv_pad;
        if (in == x && !shape_only && !act_grad) return 0;
    }
    return 1;
}

/* The node x = p->in[0] may write the copy p: a convolution (any of the forward
 * kernels, which all take an output geometry), a plain work tensor (nobody
 * reads it after a step), that nothing but p reads (see reads_ok); p a copy
 * without an activation gradient. */
static int foldable(const aecl_graph *g, const aecl_tensor *p)
{
    if (p->op != &aecl_op_conv_pad || p->n_in != 1 || aecl_pad_p(p)->act != AECL_ACT_NONE) return 0;
    const aecl_tensor *x = p->in[0];
    if (!is_conv(x) || x->view_of || x->n_extra || (x->flags & (AECL_FUSE_KEEP_FLAGS | AECL_T_REPORT))) return 0;
    for (int i = x->id + 1; i < g->n_nodes; i++)
        if (g->nodes[i]->view_of == x || !reads_ok(g->nodes[i], x, p)) return 0;
    return 1;
}

aecl_status aecl_fold_pads(aecl_graph *g, const aecl_plan_options *opt, int *n_folded)
{
    if (n_folded) *n_folded = 0;
    if (!g) return AECL_ERR_INVALID_ARG;
    if (g->status != AECL_OK || (opt && opt->no_fuse)) return g->status;
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        aecl_tensor *p = g->nodes[i];
        if (!foldable(g, p)) continue;
        p->in[0]->view_of = p;
        p->flags |= AECL_T_ZEROED;
        n++;
    }
    if (n_folded) *n_folded = n;
    return AECL_OK;
}

/* What the conv ops share: device tuning of cl/conv.cl, launches, and the layout
 * nodes (the zero-padded channels-last input copies and the weight relayout). */
#include "ops/conv.h"
#include "ops/common_kernels.h"
#include "graph/op.h"
#include "ops/op_list.h"
#include "ops/ops.h"
#include "rt/tuning.h"

#include <stdio.h>
#include <stdlib.h>

static int ceil_div(int a, int b) { return (a + b - 1) / b; }
static int imax(int a, int b) { return a > b ? a : b; }

/* ---- tuning and launches ------------------------------------------------------------ */

/* The conv entries of the device table (rt/tuning.c has the rules). */
aecl_conv_tuning aecl_conv_tuning_for(const aecl_ctx *ctx)
{
    const aecl_tuning *t = aecl_ctx_tuning(ctx);
    return (aecl_conv_tuning){t->conv_vw, t->conv_p, t->conv_kv, t->conv_wj};
}

/* Rows of 7, 14, 28 (the 28x28 images' grids) split into blocks of 7 without a
 * spare lane; other rows take the full block. Few choices: each is a program. */
int aecl_conv_block_p(const aecl_conv_tuning *t, int n)
{
    return t->p == 8 && n % 7 == 0 ? 7 : t->p;
}

int aecl_conv_kv(const aecl_conv_tuning *t, int n) { return n > t->vw ? t->kv : 1; }

int aecl_conv_chan(const aecl_conv_tuning *t, int n)
{
    return (int)aecl_round_up((size_t)n, (size_t)(t->vw * aecl_conv_kv(t, n)));
}

int aecl_conv_px_width(const aecl_conv_tuning *t, int Wo)
{
    int w = 1;
    while (2 * w <= Wo && 2 * w <= t->vw) w *= 2;
    return w;
}

int aecl_conv_px_kb(int K) { return K >= 8 ? 8 : K >= 4 ? 4 : K >= 2 ? 2 : 1; }

aecl_conv_kind aecl_conv_gather_kind(const aecl_conv_tuning *t, int C, int K, int Wo)
{
    if (2 * C < t->vw && aecl_conv_px_width(t, Wo) >= 4) return AECL_CONV_PX;
    return 2 * K < t->vw ? AECL_CONV_DOT : AECL_CONV_VEC;
}

aecl_conv_kind aecl_conv_scatter_kind(const aecl_conv_tuning *t, int K)
{
    return 2 * K < t->vw ? AECL_CONV_DOT : AECL_CONV_VEC;
}

/* A _dot item owns one output channel, so it is light and its index arithmetic
 * a large part of it: a row of exactly two blocks is one item's (the conv AE's
 * last layer, rows of 14: 0.45-0.54 -> 0.37-0.42 ms). The padded copies, sized
 * in whole blocks, keep their geometry. */
int aecl_conv_kind_p(const aecl_conv_tuning *t, aecl_conv_kind kind, int n)
{
    if (kind == AECL_CONV_PX) return aecl_conv_px_width(t, n);
    int p = aecl_conv_block_p(t, n);
    return kind == AECL_CONV_DOT && n == 2 * p ? n : p;
}

aecl_status aecl_conv_kernel(aecl_plan *p, const char *file, const char *name, int P, int kv, int wj, int kb,
                             cl_kernel *k)
{
    aecl_conv_tuning t = aecl_conv_tuning_for(aecl_plan_ctx(p));
    char opt[112];
    snprintf(opt, sizeof opt, "-DCONV_VW=%d -DCONV_P=%d -DCONV_KV=%d -DCONV_WJ=%d -DCONV_KB=%d", t.vw, P, kv, wj, kb);
    return aecl_plan_kernel(p, file, opt, name, k);
}

/* The layout kernels (cl/conv_layout.cl) use only the vector width, which
 * depends on the device alone: they are in the common program. */
aecl_status aecl_conv_layout_kernel(aecl_plan *p, const char *name, cl_kernel *k)
{
    return aecl_common_kernel(p, name, k);
}

aecl_status aecl_conv_launch(aecl_plan *p, cl_kernel k, size_t n, const char *label, double flops)
{
    aecl_ctx *ctx = aecl_plan_ctx(p);
    const aecl_tuning *tu = aecl_ctx_tuning(ctx);
    size_t g, l;
    aecl_range_1d(ctx, k, n, &g, &l);
    /* Conv launches have few, heavy work-items: keep at least 8 groups per
     * compute unit so none idles (GPUs keep warp-sized groups). */
    size_t groups = 8 * (size_t)tu->compute_units;
    int cpu = tu->cpu;
    size_t least = cpu ? 1 : 32;
    /* CPUs: group sizes 256, 16 or 1 only. PoCL compiles a kernel once per
     * group size (~0.3 s each), and a free choice made one per shape. */
    while (l > least && (n + l - 1) / l < groups) l = cpu ? (l > 16 ? 16 : 1) : l / 2;
    if (cpu && l != 256 && l > 16) l = 16;
    if (cpu && l < 16) l = 1;
    g = aecl_round_up(n ? n : 1, l);
    return aecl_plan_launch(p, k, 1, &g, &l, label, flops);
}

aecl_status aecl_conv_launch_fixed(aecl_plan *p, cl_kernel k, size_t n, size_t cpu_local, const char *label,
                                   double flops)
{
    aecl_ctx *ctx = aecl_plan_ctx(p);
    if (!aecl_ctx_tuning(ctx)->cpu) return aecl_conv_launch(p, k, n, label, flops);
    size_t l = aecl_kernel_max_wg(ctx, k);
    if (l > cpu_local) l = cpu_local;
    size_t g = aecl_round_up(n ? n : 1, l);
    return aecl_plan_launch(p, k, 1, &g, &l, label, flops);
}

aecl_tensor *aecl_conv_internal(aecl_tensor *t)
{
    if (t) t->flags &= ~(unsigned)AECL_T_GRAD;
    return t;
}

/* ---- weight relayout ------------------------------------------------------------------ */

/* w [a, b, kh, kw] (taps = kh kw) relaid by mode (aecl_conv_relayout). Output [rows, Vp]. */
typedef struct relayout_params { int mode, a, b, taps; } relayout_params;
AECL_OP_PARAMS(relayout_p, relayout_params)

static aecl_status emit_relayout(aecl_plan *p, aecl_tensor *t)
{
    const relayout_params *rp = relayout_p(t);
    cl_kernel k;
    AECL_TRY(aecl_conv_layout_kernel(p, "conv_relayout", &k));
    AECL_TRY(aecl_plan_args(p, k, "TTiiiiii", t->in[0], t, rp->a, rp->b, rp->taps, t->shape[1], rp->mode,
                            t->shape[0]));
    /* a few hundred rows at most: one size for all */
    return aecl_conv_launch_fixed(p, k, (size_t)t->shape[0], 16, "conv_relayout", 0);
}

const aecl_op_def aecl_op_conv_relayout = {.name = "conv_relayout", .emit = emit_relayout};

aecl_tensor *aecl_conv_relayout(aecl_graph *g, aecl_tensor *w, int mode)
{
    if (!w) return NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    int A = w->shape[0], B = w->shape[1], KK = w->shape[2] * w->shape[3], vec_b = mode & 1;
    int shape[2] = {KK * (vec_b ? A : B), aecl_conv_chan(&tu, vec_b ? B : A)};
    aecl_tensor *t = aecl_conv_internal(aecl_node(g, &aecl_op_conv_relayout, "conv_wt", 2, shape, 1, &w));
    if (t) *relayout_p(t) = (relayout_params){.mode = mode, .a = A, .b = B, .taps = KK};
    return t;
}

/* ---- padded copies ---------------------------------------------------------------- */

void aecl_conv_pad_strides(const aecl_tensor *xp, int *sw, int *sc)
{
    int nhwc = aecl_pad_p(xp)->nhwc;
    *sw = nhwc ? xp->shape[3] : 1;
    *sc = nhwc ? 1 : xp->shape[1] * xp->shape[2];
}

void aecl_conv_geometry(const aecl_tensor *t, int g[5])
{
    const aecl_tensor *xp = t->view_of;
    if (!xp || xp->op != &aecl_op_conv_pad) {
        int K = t->shape[1], Ho = t->shape[2], Wo = t->shape[3];
        g[0] = 0, g[1] = K * Ho * Wo, g[2] = Ho * Wo, g[3] = Wo, g[4] = 1;
        return;
    }
    const aecl_pad_params *pp = aecl_pad_p(xp);
    int Hp = xp->shape[1], Wp = xp->shape[2], Cs = xp->shape[3], sw, sc;
    aecl_conv_pad_strides(xp, &sw, &sc);
    g[0] = (pp->top * Wp + pp->left) * sw, g[1] = Hp * Wp * Cs, g[2] = sc, g[3] = Wp * sw, g[4] = sw;
}

/* in {x, [y]}; parameters aecl_pad_params. Output [N, Hp, Wp, Cs] (NHWC) or
 * [N, Hp, Wp, C] holding NCHW planes. */
static aecl_status emit_pad(aecl_plan *p, aecl_tensor *t)
{
    const aecl_tensor *x = t->in[0], *y = t->n_in > 1 ? t->in[1] : NULL;
    const aecl_pad_params *pp = aecl_pad_p(t);
    int N = t->shape[0], Hp = t->shape[1], Wp = t->shape[2], Cs = t->shape[3], H = x->shape[2], W = x->shape[3];
    if (x->view_of == t) return AECL_OK; /* x's kernel wrote this copy (compile/pad_fold.c) */
    int g[5];
    aecl_conv_geometry(y ? y : x, g); /* where y lies; only read with an activation */
    cl_kernel k;
    if (pp->nhwc) {
        int items = N * ceil_div(Cs, 4);
        AECL_TRY(aecl_conv_layout_kernel(p, "conv_pad_nhwc", &k));
        AECL_TRY(aecl_plan_args(p, k, "T_Tiiiiiiiiifiiiiii", x, y, t, x->shape[1], H, W, Cs, Hp, Wp, pp->top,
                                pp->left, (int)pp->act, (double)pp->slope, items, g[0], g[1], g[2], g[3], g[4]));
        /* heavy items (4 channels of a whole image), a few thousand */
        return aecl_conv_launch_fixed(p, k, (size_t)items, 16, "conv_pad", 0);
    }
    int rows = N * Cs * Hp;
    AECL_TRY(aecl_conv_layout_kernel(p, "conv_pad", &k));
    AECL_TRY(aecl_plan_args(p, k, "T_Tiiiiiiiifiiiiii", x, y, t, x->shape[1], H, W, Hp, Wp, pp->top, pp->left,
                            (int)pp->act, (double)pp->slope, rows, g[0], g[1], g[2], g[3], g[4]));
    /* light items (a row each), thousands or more */
    return aecl_conv_launch_fixed(p, k, (size_t)rows, 256, "conv_pad", 0);
}

const aecl_op_def aecl_op_conv_pad = {.name = "conv_pad", .emit = emit_pad};

aecl_tensor *aecl_conv_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int PT, int PL,
                           int Hp, int Wp, int vec)
{
    if (!x || (act != AECL_ACT_NONE && !y)) return NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    int C = x->shape[1], shape[4] = {x->shape[0], Hp, Wp, vec ? aecl_conv_chan(&tu, C) : C};
    aecl_tensor *in[2] = {x, y};
    aecl_tensor *t =
        aecl_conv_internal(aecl_node(g, &aecl_op_conv_pad, NULL, 4, shape, act != AECL_ACT_NONE ? 2 : 1, in));
    if (t) *aecl_pad_p(t) = (aecl_pad_params){.top = PT, .left = PL, .act = act, .slope = slope, .nhwc = vec != 0};
    return t;
}

/* Rows: every oh*s + i; columns: every block of pixels, the last one's unused
 * pixels included (PX: conv_wgrad_px's blocks of vw pixels, which cover
 * conv_fwd_px's, and a read runs s - 1 columns on); and all of x. */
aecl_tensor *aecl_conv_gather_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int kh,
                                  int kw, int stride, int pad, aecl_conv_kind kind)
{
    if (!x) return NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    int H = x->shape[2], W = x->shape[3];
    int Ho = (H + 2 * pad - kh) / stride + 1, Wo = (W + 2 * pad - kw) / stride + 1, P = aecl_conv_block_p(&tu, Wo);
    int cols = (ceil_div(Wo, P) * P - 1) * stride + kw;
    if (kind == AECL_CONV_PX) cols = (ceil_div(Wo, tu.vw) * tu.vw - 1) * stride + kw + stride - 1;
    int Hp = imax((Ho - 1) * stride + kh, pad + H), Wp = imax(cols, pad + W);
    return aecl_conv_pad(g, x, y, act, slope, pad, pad, Hp, Wp, kind == AECL_CONV_DOT);
}

/* Columns read by conv_tr_fwd: iw = m + (r + pad - j) / s for m below the blocks
 * of P same-phase outputs, r < s, j < kw: from -(kw-1)/s to m_max +
 * (s-1+pad)/s. Rows are checked in the kernel (once per tap): no row padding. */
aecl_tensor *aecl_conv_scatter_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int kw,
                                   int stride, int pad, int Wo, int vec, int min_w)
{
    if (!x) return NULL;
    aecl_conv_tuning tu = aecl_conv_tuning_for(g->ctx);
    int nq = ceil_div(Wo, stride), P = aecl_conv_block_p(&tu, nq), nqb = ceil_div(nq, P);
    int PL = (kw - 1) / stride, right = imax(nqb * P + (stride - 1 + pad) / stride, min_w);
    return aecl_conv_pad(g, x, y, act, slope, 0, PL, x->shape[2], PL + imax(x->shape[3], right), vec);
}

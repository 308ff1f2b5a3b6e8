/* Image ops on NCHW float32 tensors: convolution, transposed convolution,
 * pooling and upsampling. Builders check shapes and return a new node, or NULL
 * with the graph's sticky error set (message naming the op and the shapes).
 * Every op is differentiable in every input. */
#ifndef AECL_OPS_CONV_H
#define AECL_OPS_CONV_H

#include "graph/graph.h"
#include "ops/act.h"

/* conv2d.c: y = act(conv(x, w) + b), as PyTorch Conv2d (cross-correlation).
 *   x [N, C, H, W], w [K, C, kh, kw], b [K] or NULL  ->  [N, K, Ho, Wo]
 *   Ho = (H + 2 pad - kh) / stride + 1, Wo likewise (floor).
 * The bias and the activation are fused into the output kernel; the backward
 * rule differentiates the activation from the output y. */
aecl_tensor *aecl_conv2d(aecl_graph *g, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b, int stride, int pad,
                         aecl_act act, float slope);

/* conv_transpose2d.c: y = act(convT(x, w) + b), as PyTorch ConvTranspose2d.
 *   x [N, C, H, W], w [C, K, kh, kw], b [K] or NULL  ->  [N, K, Ho, Wo]
 *   Ho = (H - 1) stride - 2 pad + kh + out_pad, with 0 <= out_pad < stride. */
aecl_tensor *aecl_conv_transpose2d(aecl_graph *g, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b, int stride,
                                   int pad, int out_pad, aecl_act act, float slope);

/* pool.c: k x k windows, no padding (windows that would cross the border are
 * dropped, as PyTorch with padding 0 and ceil_mode False):
 *   [N, C, H, W] -> [N, C, (H - k) / stride + 1, (W - k) / stride + 1]
 * Max pooling sends the gradient to the first maximum of each window (row-major
 * order); average pooling spreads it evenly over the k*k inputs. */
aecl_tensor *aecl_maxpool2d(aecl_graph *g, aecl_tensor *x, int k, int stride);
aecl_tensor *aecl_avgpool2d(aecl_graph *g, aecl_tensor *x, int k, int stride);

/* upsample.c: [N, C, H, W] -> [N, C, H * factor, W * factor].
 * mode AECL_UPSAMPLE_NEAREST copies; AECL_UPSAMPLE_BILINEAR interpolates as
 * PyTorch's interpolate(mode="bilinear", align_corners=False). The backward of
 * both is the exact adjoint of the forward map. */
enum { AECL_UPSAMPLE_NEAREST = 0, AECL_UPSAMPLE_BILINEAR = 1 };
aecl_tensor *aecl_upsample2d(aecl_graph *g, aecl_tensor *x, int factor, int mode);

/* ---- shared by conv2d.c, conv_transpose2d.c, conv_layout.c, conv_grad.c (internal) ----
 *
 * The kernels read images from zero-padded copies (aecl_conv_pad): NHWC with
 * the channels padded to whole vectors (aecl_conv_chan) where some kernel reads
 * channel vectors of it ("vec"), else NCHW planes, a plain copy. */

/* Kernel blocking for a device (cl/conv.cl macros). */
typedef struct aecl_conv_tuning {
    int vw;     /* channels per vector (CONV_VW) */
    int p;      /* forward: most output pixels per work-item (CONV_P) */
    int kv;     /* most channel vectors per work-item (CONV_KV) */
    int wj;     /* weight gradient: most taps per work-item (CONV_WJ) */
} aecl_conv_tuning;
aecl_conv_tuning aecl_conv_tuning_for(const aecl_ctx *ctx);
/* Pixels per work-item for rows of n outputs (fewest lanes past the row's end). */
int aecl_conv_block_p(const aecl_conv_tuning *t, int n);
/* Channel vectors per work-item for n channels, and n rounded up to whole
 * work-items' vectors: the channel count of every vector-read tensor. */
int aecl_conv_kv(const aecl_conv_tuning *t, int n);
int aecl_conv_chan(const aecl_conv_tuning *t, int n);
/* Which forward kernel a convolution takes, from its input and output channels
 * C and K and its output rows Wo:
 * VEC  vectors of output channels (conv_fwd, conv_tr_fwd), the common case;
 * PX   a gather with few input channels (images) and rows of at least 4:
 *      vectors of output pixels (conv_fwd_px; NCHW input). Its weight gradient
 *      takes pixel vectors too (conv_wgrad_px) when its output gradient's copy
 *      is NCHW;
 * DOT  few output channels: vectors of input channels (_dot; NHWC input). */
typedef enum { AECL_CONV_VEC = 0, AECL_CONV_DOT = 1, AECL_CONV_PX = 2 } aecl_conv_kind;
aecl_conv_kind aecl_conv_gather_kind(const aecl_conv_tuning *t, int C, int K, int Wo);
aecl_conv_kind aecl_conv_scatter_kind(const aecl_conv_tuning *t, int K);
/* Output pixels per work-item of a kind's kernel for rows of n outputs. */
int aecl_conv_kind_p(const aecl_conv_tuning *t, aecl_conv_kind kind, int n);
/* The pixel vector of conv_fwd_px for rows of n outputs (<= n); its channel
 * block for K channels. conv_wgrad_px takes vectors of t->vw pixels. */
int aecl_conv_px_width(const aecl_conv_tuning *t, int n);
int aecl_conv_px_kb(int K);
/* The kernel `name` of a cl/conv*.cl file built for P pixels, kv vectors, wj
 * taps and kb channels (the _px kernels). */
aecl_status aecl_conv_kernel(aecl_plan *p, const char *file, const char *name, int P, int kv, int wj, int kb,
                             cl_kernel *k);
aecl_status aecl_conv_layout_kernel(aecl_plan *p, const char *name, cl_kernel *k);
/* A 1-D launch of n work-items with a work-group size that leaves every compute
 * unit some groups; flops for profiles. */
aecl_status aecl_conv_launch(aecl_plan *p, cl_kernel k, size_t n, const char *label, double flops);
/* As aecl_conv_launch, but on a CPU always the group size cpu_local (capped by
 * the kernel's limit), whatever n: PoCL compiles a kernel once per group size it
 * meets (0.3-0.5 s each on a first run), and the shape-driven choice gave the
 * layout kernels two or three sizes in one conv net. For kernels whose items
 * are light enough that a few big groups still keep the cores busy. */
aecl_status aecl_conv_launch_fixed(aecl_plan *p, cl_kernel k, size_t n, size_t cpu_local, const char *label,
                                   double flops);
/* Marks a copy or a gradient node: no gradient of its own. */
aecl_tensor *aecl_conv_internal(aecl_tensor *t);

/* Shared checks of conv2d and conv_transpose2d: 4-D x and w, channels, bias,
 * stride, padding and activation; wc is the weight axis that must equal x's
 * channels. Returns x, or NULL with the graph's error set. */
aecl_tensor *aecl_conv_check(aecl_graph *g, const char *op, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b,
                             int wc, int stride, int pad, aecl_act act);

/* The parameters of a padded copy (conv_pad node), read by the kernels that
 * read the copy: x sits at row `top`, column `left`; nhwc: channels last. */
typedef struct aecl_pad_params {
    int top, left;
    aecl_act act;           /* not NONE: the copy is of x * act'(y) */
    float slope;
    int nhwc;
} aecl_pad_params;
AECL_OP_PARAMS(aecl_pad_p, aecl_pad_params)

/* conv_layout.c: x [N, C, H, W] -> xp [N, Hp, Wp, Cs], x at row PT, column PL:
 * vec: NHWC, Cs = aecl_conv_chan(C), channels past C zero; else NCHW planes
 * (Cs = C). With act (not NONE), x is an output gradient and y the activation's
 * output: xp is then x * act'(y), the gradient before the activation. */
aecl_tensor *aecl_conv_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int PT, int PL,
                           int Hp, int Wp, int vec);
/* Where element (n, c, h, w) of a convolution's output t lies in its buffer:
 * at g[0] + n g[1] + c g[2] + h g[3] + w g[4] from t's offset. NCHW, or, when
 * t is a view of the padded copy its one reader makes (compile/pad_fold.c),
 * that copy's interior; the forward kernels write t there (CONV_OUT_ROW in
 * cl/conv_common.cl), and the copies of its gradient read it there. */
void aecl_conv_geometry(const aecl_tensor *t, int g[5]);
/* Where pixel (h, w), channel c of image n of a padded copy xp lies:
 * n*Hp*Wp*Cs + (h*Wp + w)*sw + c*sc. */
void aecl_conv_pad_strides(const aecl_tensor *xp, int *sw, int *sc);
/* The padding a gather convolution of x with kernel `kind` reads (also what
 * its weight gradient reads, conv_wgrad_px's whole vectors for PX; NHWC for
 * DOT); it holds all of x. */
aecl_tensor *aecl_conv_gather_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int kh,
                                  int kw, int stride, int pad, aecl_conv_kind kind);
/* The padding a scatter convolution of x into Wo output columns reads (columns
 * only; it holds all of x too), NHWC when vec, and at least min_w columns from
 * x's first one (conv_wgrad_px reads whole pixel vectors of its rows). */
aecl_tensor *aecl_conv_scatter_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int kw,
                                   int stride, int pad, int Wo, int vec, int min_w);
/* w [A, B, kh, kw] relaid for the kernels: vectors over A (mode bit 0 clear) or
 * B (set), rows (tap, other axis) (bit 1 clear) or (other axis, tap) (set). */
aecl_tensor *aecl_conv_relayout(aecl_graph *g, aecl_tensor *w, int mode);

/* A gather convolution (the Conv2d map): x [N, C, H, W], w [K, C, kh, kw], b [K]
 * or NULL -> act(conv + b) [N, K, Ho, Wo] with Ho = (H + 2 pad - kh) / stride + 1.
 * xp: x padded by aecl_conv_gather_pad for aecl_conv_gather_kind, or NULL to
 * pad here (x then only gives the shape). Also
 * the input gradient of the transposed convolution. The public builders check
 * shapes. */
aecl_tensor *aecl_conv_gather(aecl_graph *g, aecl_tensor *x, aecl_tensor *xp, aecl_tensor *w, aecl_tensor *b,
                              int stride, int pad, aecl_act act, float slope);
/* A scatter convolution (the ConvTranspose2d map): x [N, C, H, W], w [C, K, kh, kw]
 * -> [N, K, Ho, Wo] of the given size (Ho = (H - 1) stride - 2 pad + kh + out_pad).
 * xp: x padded by aecl_conv_scatter_pad (vec for a DOT kind), or NULL. Also
 * the input gradient of the convolution. */
aecl_tensor *aecl_conv_scatter(aecl_graph *g, aecl_tensor *x, aecl_tensor *xp, aecl_tensor *w, aecl_tensor *b,
                               int stride, int pad, int Ho, int Wo, aecl_act act, float slope);

/* conv_grad.c: the weight gradient of a gather convolution from its padded
 * input xp (aecl_conv_gather_pad) and padded output gradient dyp (a pad node:
 * NHWC; or with px, xp padded for PX and dyp NCHW with whole pixel vectors):
 *   dw[k, c, i, j] = sum over n, oh, ow of dy[n, k, oh, ow] x[n, c, oh s - p + i, ow s - p + j]
 * -> [K, C, kh, kw]. The transposed convolution's weight gradient is this with
 * the roles of its input and output gradient swapped. */
aecl_tensor *aecl_conv_weight_grad(aecl_graph *g, aecl_tensor *xp, aecl_tensor *dyp, int K, int kh, int kw,
                                   int stride, int Ho, int Wo, int px);
/* The bias gradient: the per-channel sums of a padded gradient dzp (a pad node;
 * the padding adds zeros) -> [K], in batch chunks added in a fixed order when
 * the channels alone cannot fill the device. */
aecl_tensor *aecl_conv_bias_grad(aecl_graph *g, aecl_tensor *dzp);

/* The parameters of a gather (conv2d) or scatter (conv_transpose2d) node. */
typedef struct aecl_conv_params {
    int stride, pad;
    aecl_act act;           /* fused into the output kernel */
    float slope;
    int has_bias;
    int kh, kw;             /* the kernel's taps */
    int pl;                 /* the padded input's left padding (its aecl_pad_params.left) */
    aecl_conv_kind kind;    /* the forward kernel */
} aecl_conv_params;
AECL_OP_PARAMS(aecl_conv_p, aecl_conv_params)

/* Node plumbing shared by the gather and scatter ops: in = {x, w, wt, xp, [b]}. */
aecl_tensor *aecl_conv_node(aecl_graph *g, const aecl_op_def *op, aecl_tensor *x, aecl_tensor *w, aecl_tensor *wt,
                            aecl_tensor *xp, aecl_tensor *b, const int *shape, int stride, int pad, aecl_act act,
                            float slope, aecl_conv_kind kind);
/* Binds the shared forward arguments (cl/conv.cl CONV_FWD_ARGS) and launches. */
aecl_status aecl_conv_emit(aecl_plan *p, aecl_tensor *t, const char *kernel, int P, int kv, int kb, size_t items,
                           double flops);

#endif

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

/* ---- shared by conv2d.c and conv_transpose2d.c (internal) ------------------------ */

/* Kernel blocking for a device (cl/conv.cl macros) and its -D option text. */
typedef struct aecl_conv_tuning {
    int vw;     /* output channels per work-item (vector width) */
    int p;      /* forward: output pixels per work-item */
    int wj;     /* weight gradient: taps per work-item */
} aecl_conv_tuning;
aecl_conv_tuning aecl_conv_tuning_for(const aecl_ctx *ctx);

/* Shared checks of conv2d and conv_transpose2d: 4-D x and w, channels, bias,
 * stride, padding and activation; wc is the weight axis that must equal x's
 * channels. Returns x, or NULL with the graph's error set. */
aecl_tensor *aecl_conv_check(aecl_graph *g, const char *op, aecl_tensor *x, aecl_tensor *w, aecl_tensor *b,
                             int wc, int stride, int pad, aecl_act act);

/* x [N, C, H, W] zero-padded to [N, C, Hp, Wp], x starting at row PT, column PL.
 * With act (not NONE), x is an output gradient and y the activation's output:
 * the padded tensor is then x * act'(y), the gradient before the activation. */
aecl_tensor *aecl_conv_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int PT, int PL,
                           int Hp, int Wp);
/* The padding a gather convolution of x reads (also what its weight gradient
 * reads); it holds all of x, so a channel sum of it is x's channel sum. */
aecl_tensor *aecl_conv_gather_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int kh,
                                  int kw, int stride, int pad);
/* The padding a scatter convolution of x into Wo output columns reads (columns
 * only; it holds all of x too). */
aecl_tensor *aecl_conv_scatter_pad(aecl_graph *g, aecl_tensor *x, aecl_tensor *y, aecl_act act, float slope, int kw,
                                   int stride, int pad, int Wo);
/* Channels last: y [N, K, Hs, Ws] -> [N, Ho*Wo, Kp] from rows PT.. and columns PL..
 * (a padded tensor's interior), channels zero-padded to the vector width. */
aecl_tensor *aecl_conv_nhwc(aecl_graph *g, aecl_tensor *y, int Ho, int Wo, int PT, int PL);

/* A gather convolution (the Conv2d map): x [N, C, H, W], w [K, C, kh, kw], b [K]
 * or NULL -> act(conv + b) [N, K, Ho, Wo] with Ho = (H + 2 pad - kh) / stride + 1.
 * xp: x padded by aecl_conv_gather_pad, or NULL to pad here (x then only gives
 * the shape when xp is given). Also the input gradient of the transposed
 * convolution. The public builders check shapes. */
aecl_tensor *aecl_conv_gather(aecl_graph *g, aecl_tensor *x, aecl_tensor *xp, aecl_tensor *w, aecl_tensor *b,
                              int stride, int pad, aecl_act act, float slope);
/* A scatter convolution (the ConvTranspose2d map): x [N, C, H, W], w [C, K, kh, kw]
 * -> [N, K, Ho, Wo] of the given size (Ho = (H - 1) stride - 2 pad + kh + out_pad).
 * xp: x padded by aecl_conv_scatter_pad, or NULL. Also the input gradient of the
 * convolution. */
aecl_tensor *aecl_conv_scatter(aecl_graph *g, aecl_tensor *x, aecl_tensor *xp, aecl_tensor *w, aecl_tensor *b,
                               int stride, int pad, int Ho, int Wo, aecl_act act, float slope);
/* The weight gradient of a gather convolution with padded input xp (from
 * aecl_conv_gather_pad) and output gradient dyt (aecl_conv_nhwc of dy [N, K, Ho, Wo]):
 *   dw[k, c, i, j] = sum over n, oh, ow of dy[n, k, oh, ow] xp[n, c, oh s + i, ow s + j]
 * -> [K, C, kh, kw]. The transposed convolution's weight gradient is this with
 * the roles of its input and output gradient swapped. */
aecl_tensor *aecl_conv_weight_grad(aecl_graph *g, aecl_tensor *xp, aecl_tensor *dyt, int K, int kh, int kw,
                                   int stride, int Ho, int Wo);

/* The bias gradient: dz [N, K, ...] summed over every axis but 1 -> [K] (in
 * batch chunks added in a fixed order when K alone cannot fill the device). */
aecl_tensor *aecl_conv_bias_grad(aecl_graph *g, aecl_tensor *dz);

/* Node plumbing shared by the gather and scatter ops: in = {x, w, wt, xp, [b]},
 * ip = {stride, pad, act, has_bias, kh, kw, PL}, fp[0] = slope. */
aecl_tensor *aecl_conv_relayout(aecl_graph *g, aecl_tensor *w, int mode);
aecl_tensor *aecl_conv_node(aecl_graph *g, const aecl_op_def *op, aecl_tensor *x, aecl_tensor *w, aecl_tensor *wt,
                            aecl_tensor *xp, aecl_tensor *b, const int *shape, int stride, int pad, aecl_act act,
                            float slope);
aecl_status aecl_conv_emit(aecl_plan *p, aecl_tensor *t, const char *kernel, size_t items, double flops);
/* A 1-D launch of n work-items with a work-group size that leaves every compute
 * unit some groups; flops for profiles. */
aecl_status aecl_conv_launch(aecl_plan *p, cl_kernel k, size_t n, const char *label, double flops);

#endif

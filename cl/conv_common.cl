//@require vec.cl
//@require act.cl
/* Direct 2-D convolutions, written as implicit GEMMs. Graph tensors are NCHW;
 * the kernels read their inputs from zero-padded copies (conv_pad), so the
 * inner loops have no bounds checks. A copy whose channels some kernel reads as
 * vectors is channels-last (NHWC, conv_pad_nhwc; channels padded with zeros to
 * whole vectors); the others stay NCHW, a plain copy.
 *
 * conv_fwd     y[n,k,oh,ow] = act(b[k] + sum_{c,i,j} x[n,c,oh*s-p+i,ow*s-p+j] w[k,c,i,j])
 *              (Conv2d forward; also the input gradient of ConvTranspose2d)
 * conv_tr_fwd  y[n,k,h,w]   = act(b[k] + sum over (c,i,j,ih,iw) with h = ih*s-p+i and
 *              w = iw*s-p+j of x[n,c,ih,iw] w[c,k,i,j])
 *              (ConvTranspose2d forward; also the input gradient of Conv2d)
 * conv_wgrad   dw[k,c,i,j] = sum_{n,oh,ow} dy[n,k,oh,ow] x[n,c,oh*s-p+i,ow*s-p+j]
 *              (the weight gradient of both, with x and dy swapped for ConvTranspose2d)
 *
 * The forward kernels broadcast single input values (either layout: the input
 * is addressed through its pixel and channel strides) into vectors of output
 * channels; the weight gradient takes vectors of the output gradient's channels
 * (NHWC: no transposition pass of its own) and broadcasts input values. Two
 * shapes where channel vectors would be mostly padding get their own kernels:
 * few output channels (_dot: vectors of input channels, NHWC input) and a
 * gather from few input channels, e.g. an image (_px: vectors of output pixels
 * along a row, NCHW input and output, so the stores are whole vectors too).
 * The padding copy of an output gradient also applies the activation's
 * derivative, and the bias gradient sums it (conv_chsum, conv_chsum_nhwc).
 *
 * Work-items: conv_fwd and conv_tr_fwd own CONV_KV vectors of CONV_VW output
 * channels x CONV_P pixels of one output row; conv_tr_fwd takes the pixels of
 * one phase (ow mod s), which share their taps and read consecutive inputs, so
 * no tap is visited that contributes nothing. The _dot kernels own one output
 * channel x CONV_P pixels and keep vector partial sums over input channels; the
 * _px kernels CONV_KB output channels x a vector of CONV_P pixels. conv_wgrad
 * owns CONV_WJ taps x CONV_KV channel vectors and a chunk of the batch.
 *
 * No local memory, no barriers: on CPUs (PoCL) each work-item is straight vector
 * code (fma(), not mad(): PoCL turns mad() into a multiply and an add); on GPUs
 * the host picks smaller blocks through -D options.
 */

/* conv_common.cl: what the conv kernel files share that depends on the device
 * alone (the channel vector width): the vector type, the activation, the
 * argument lists. The blocking (CONV_P, CONV_KV, CONV_WJ, CONV_KB) and what
 * depends on it are in conv_tile.cl, which a program that holds several
 * blockings includes once per blocking. */

#ifndef CONV_VW
#define CONV_VW 8      /* channels per vector: 1, 2, 4, 8 or 16 */
#endif
/* PoCL does not always inline helpers into the work-item loop: a call per
 * pixel or per row cost more than the work in it. */
#define CONV_INLINE inline __attribute__((always_inline))

#if CONV_VW == 1
typedef float cvec;
#define CVLOAD(p) (*(p))
#define CVSTORE(v, p) (*(p) = (v))
#else
typedef VEC_CAT(float, CONV_VW) cvec;
#define CVLOAD(p) VEC_CAT(vload, CONV_VW)(0, (p))
#define CVSTORE(v, p) VEC_CAT(vstore, CONV_VW)((v), 0, (p))
#endif

/* Lane v of a channel vector, through a private copy (no dynamic indexing of
 * vector components in OpenCL C 1.2). */
CONV_INLINE void cvec_lanes(cvec v, float *out)
{
    CVSTORE(v, out);
}

/* act'(y) on four values (elu: alpha = slope). */
CONV_INLINE float4 conv_act_grad4(int act, float4 y, float slope) { ACT_DERIV_SWITCH(act, float4, y, slope) }

/* The activation on a vector of channels. */
CONV_INLINE cvec conv_act(int act, cvec x, float slope) { ACT_APPLY_SWITCH(act, x, slope) }

/* Where the forward kernels' output (n, k, oh, ow) goes: y[y_off + yo + n*ysn +
 * k*ysk + oh*ysh + ow*ysw]. NCHW: (K*Ho*Wo, Ho*Wo, Wo, 1), yo 0; or the padded
 * copy that the conv's one reader, a conv_pad node, would have made (its NCHW
 * planes or its channels-last pixels, yo the offset of x's first pixel in it):
 * lib/compile/pad_fold.c. CONV_OUT_ROW is row oh of image n, channel 0. */
#define CONV_OUT_ROW(n, oh) (y + y_off + yo + (n) * ysn + (oh) * ysh)

/* Arguments shared by the forward kernels (one emitter binds them all):
 * xp the padded input, Cs >= C channels (C real ones) of Hp x Wp pixels, pixel
 * (h, w) channel c of image n at ((n*Hp + h)*Wp*sw + w*sw + c*sc) with
 * (sw, sc) = (Cs, 1) for NHWC, (1, Hp*Wp) for NCHW (the _dot kernels need
 * NHWC); for conv_fwd padded by (pad, pad)
 * top-left and wide enough for every block (columns up to (ceil(Wo/P)*P - 1)*s
 * + kw); for conv_tr_fwd by PL columns on the left and zeros on the right (rows
 * are checked once per tap). wt: the weights relaid
 * by conv_relayout, [kh*kw*C, Kp] rows (i, j, c) for the channel-vector kernels,
 * [K, kh*kw, Cs] for the _dot kernels. Unused arguments keep one list for all. */
#define CONV_FWD_ARGS                                                                                            \
    __global const float *xp, int x_off, __global const float *wt, int wt_off, __global const float *bias,      \
        int b_off, __global float *y, int y_off, int N, int C, int Cs, int sw, int sc, int Hp, int Wp, int K,   \
        int Kp, int Ho, int Wo, int kh, int kw, int stride, int pad, int PL, int has_bias, int act, float slope, \
        int yo, int ysn, int ysk, int ysh, int ysw
#define CONV_FWD_NAMES                                                                                           \
    xp, x_off, wt, wt_off, bias, b_off, y, y_off, N, C, Cs, sw, sc, Hp, Wp, K, Kp, Ho, Wo, kh, kw, stride, pad, PL, \
        has_bias, act, slope, yo, ysn, ysk, ysh, ysw

/* The weight-gradient kernels' arguments (conv_wgrad.cl, conv_px.cl). */
#define CONV_WGRAD_ARGS                                                                                          \
    __global const float *xp, int x_off, __global const float *dy, int d_off, __global float *part, int p_off,  \
        int N, int C, int Cs, int sw, int sc, int Hp, int Wp, int K, int Kp, int Hd, int Wd, int PT, int PL,    \
        int Ho, int Wo, int kh, int kw, int stride, int n_chunk
#define CONV_WGRAD_NAMES                                                                                         \
    xp, x_off, dy, d_off, part, p_off, N, C, Cs, sw, sc, Hp, Wp, K, Kp, Hd, Wd, PT, PL, Ho, Wo, kh, kw, stride,  \
        n_chunk

/* A kernel that is a call of its item function, NAME_item(id, ...), not
 * inlined: PoCL emits three versions of a kernel's body (one per launch path),
 * and an item's unrolled register block inlined there is compiled three times
 * over (the conv AE's cold start: 0.9 s more). conv_fwd_px and conv_tr_fwd keep
 * their bodies in the kernel: as calls they ran 25% and 3-5% slower
 * (bench_conv --ab), the work-item loop around an inlined body lifting what
 * the items share. */
#define CONV_ITEM_FN __attribute__((noinline)) void

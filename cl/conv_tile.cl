//@require conv_common.cl
//@variant
/* conv_tile.cl: the conv kernels' blocking and the helpers that depend on it.
 *
 * A program is built per blocking (-D options), and PoCL spends a fixed 25-30 ms
 * on each program even when its cache has it (clang preprocesses the source with
 * opencl-c.h to hash it): a conv model's five blockings cost more than its
 * steps. So a plan gathers the blockings it needs into one program
 * (aecl_program_variants, lib/rt/variants.c), which includes this file and the
 * kernel file once per blocking with that blocking's -D values as #defines and
 * AECL_VARIANT set to a suffix for the names. Hence, in this file and in the
 * files that require it (the `//@variants` ones):
 * - every function and kernel is named through CONV_FN(), which appends the
 *   suffix (nothing in a program of one blocking);
 * - every macro defined from the blocking is #undef'd first, so the next
 *   blocking's definition replaces it. */

#ifndef CONV_KV
#define CONV_KV 1      /* channel vectors per work-item */
#endif
#ifndef CONV_P
#define CONV_P 8       /* output pixels per work-item (along a row), any count >= 1;
                          the _px kernels need a vector width */
#endif
#ifndef CONV_WJ
#define CONV_WJ 8      /* weight gradient: (c, i, j) taps per work-item */
#endif
#ifndef CONV_KB
#define CONV_KB 4      /* _px kernels: output channels per work-item */
#endif
#ifndef AECL_VARIANT
#define AECL_VARIANT   /* a program of one blocking: names as written */
#endif

#undef CONV_FN
#define CONV_FN(name) VEC_CAT(name, AECL_VARIANT)

/* _px kernels: independent sums over input channels (FMA latency) */
#undef CONV_CH
#define CONV_CH (CONV_KB >= 4 ? 1 : 4 / CONV_KB)

/* Pixel vectors (the _px kernels, built with CONV_P a vector width). */
#undef CONV_HAVE_PX
#undef pvec
#undef PVLOAD
#undef PVSTORE
#if CONV_P == 1 || CONV_P == 2 || CONV_P == 4 || CONV_P == 8 || CONV_P == 16
#define CONV_HAVE_PX 1
#if CONV_P == 1
#define pvec float
#define PVLOAD(p) (*(p))
#define PVSTORE(v, p) (*(p) = (v))
#else
#define pvec VEC_CAT(float, CONV_P)
#define PVLOAD(p) VEC_CAT(vload, CONV_P)(0, (p))
#define PVSTORE(v, p) VEC_CAT(vstore, CONV_P)((v), 0, (p))
#endif
#endif

#ifdef CONV_HAVE_PX
/* The activation on a vector of pixels. */
CONV_INLINE pvec CONV_FN(conv_act_p)(int act, pvec x, float slope) { ACT_APPLY_SWITCH(act, x, slope) }
#endif

/* The epilogue: bias and activation on whole vectors, then the block of CONV_P
 * pixels x CONV_VW channels from k0 into the row yr (see CONV_OUT_ROW): one
 * vector per pixel where channels are consecutive (ysk 1), else a scatter.
 * ow(q) = ow0 + q * dq. */
CONV_INLINE void CONV_FN(conv_store)(cvec *acc, __global const float *bias, int has_bias, __global float *yr,
                                     int ysk, int ysw, int K, int Wo, int ow0, int dq, int k0, int act, float slope)
{
    int nv = min(CONV_VW, K - k0);
    if (nv <= 0) return;
    float bl[CONV_VW];
    for (int v = 0; v < CONV_VW; v++) bl[v] = has_bias && v < nv ? bias[k0 + v] : 0.0f;
    cvec bv = CVLOAD(bl);
    __global float *yb = yr + k0 * ysk;
    for (int q = 0; q < CONV_P; q++) {
        int ow = ow0 + q * dq;
        if (ow >= Wo) break;
        cvec v = conv_act(act, acc[q] + bv, slope);
        __global float *yp = yb + ow * ysw;
        if (ysk == 1 && nv == CONV_VW) {
            CVSTORE(v, yp);
            continue;
        }
        float a[CONV_VW];
        cvec_lanes(v, a);
        if (nv == CONV_VW) {
#pragma unroll
            for (int c = 0; c < CONV_VW; c++) yp[c * ysk] = a[c];
        } else {
            for (int c = 0; c < nv; c++) yp[c * ysk] = a[c];
        }
    }
}

/* The epilogue of the _dot kernels: one channel k, pixel q's value the lane sum
 * of acc[q]; ow(q) = ow0 + q * dq. The activation runs on a vector of the
 * pixels' sums when they fit in one. */
CONV_INLINE void CONV_FN(conv_store_dot)(cvec *acc, __global const float *bias, int has_bias, __global float *yr,
                                         int ysk, int ysw, int Wo, int ow0, int dq, int k, int act, float slope)
{
    float b = has_bias ? bias[k] : 0.0f;
    __global float *yp = yr + k * ysk;
#if CONV_P <= CONV_VW
    float a[CONV_VW];
    for (int q = 0; q < CONV_P; q++) a[q] = VEC_SUM(CONV_VW, acc[q]);
    for (int q = CONV_P; q < CONV_VW; q++) a[q] = 0.0f;
#if CONV_VW == 1
    a[0] = conv_act(act, a[0] + b, slope);
#else
    CVSTORE(conv_act(act, CVLOAD(a) + b, slope), a);
#endif
    for (int q = 0; q < CONV_P; q++) {
        int ow = ow0 + q * dq;
        if (ow >= Wo) break;
        yp[ow * ysw] = a[q];
    }
#else
    for (int q = 0; q < CONV_P; q++) {
        int ow = ow0 + q * dq;
        if (ow >= Wo) break;
        yp[ow * ysw] = act_apply(act, VEC_SUM(CONV_VW, acc[q]) + b, slope);
    }
#endif
}

#ifdef CONV_HAVE_PX
/* CONV_P inputs s apart from p: a vector load, or for s = 2 the even lanes of
 * one twice as long (reads p[2 CONV_P - 1], past the last one used). */
CONV_INLINE pvec CONV_FN(conv_xrow)(__global const float *p, int s)
{
    if (s == 1) return PVLOAD(p);
#if CONV_P == 16
    if (s == 2) return (float16)(vload16(0, p).even, vload16(0, p + 16).even);
#elif CONV_P == 8
    if (s == 2) return vload16(0, p).even;
#elif CONV_P == 4
    if (s == 2) return vload8(0, p).even;
#elif CONV_P == 2
    if (s == 2) return vload4(0, p).even;
#endif
    float a[CONV_P];
    for (int q = 0; q < CONV_P; q++) a[q] = p[q * s];
    return PVLOAD(a);
}
#endif

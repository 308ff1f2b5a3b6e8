//@require vec.cl
/* The device's FP32 peak, for `aecl bench`: every work-item runs NACC
 * independent chains of fma on float vectors of the device's width VW (enough
 * chains to cover the FMA units' latency), `iters` times, then stores the sum of
 * its chains so that nothing can be left out. acc = acc * a + b with 0 < a < 1
 * stays near b / (1 - a): no overflow, no denormals. The host checks every
 * item's result against the same recurrence computed in C. */
#ifndef VW
#define VW 4
#endif
#ifndef NACC
#define NACC 8
#endif
#if VW == 1
typedef float peak_t;
#else
typedef VEC_CAT(float, VW) peak_t;
#endif

__kernel void fma_peak(__global float *out, int n, int iters, float a, float b)
{
    int gid = get_global_id(0);
    if (gid >= n) return;
    peak_t acc[NACC];
#pragma unroll
    for (int j = 0; j < NACC; j++) acc[j] = (peak_t)((float)j * 0.25f);
    for (int i = 0; i < iters; i++) {
#pragma unroll
        for (int j = 0; j < NACC; j++) acc[j] = fma(acc[j], (peak_t)a, (peak_t)b);
    }
    float s = 0.0f;
#pragma unroll
    for (int j = 0; j < NACC; j++) s += VEC_SUM(VW, acc[j]);
    out[gid] = s;
}

/* Helpers for width-generic vector code, shared by the kernel files (a file
 * that needs them starts with `//@require vec.cl`). A kernel built for a vector
 * width W (a -D option: VW, CONV_VW, CONV_P, LOSS_VW) names its W-wide helpers
 * through VEC_CAT, e.g. VEC_SUM(W, v). */

#define VEC_CAT_(a, b) a##b
#define VEC_CAT(a, b) VEC_CAT_(a, b)

/* The sum of a vector's lanes, by halves: one order of additions at every
 * width, so a kernel's result does not depend on which file summed it.
 * always_inline: PoCL does not always inline small helpers by itself. */
inline __attribute__((always_inline)) float vec_sum1(float v) { return v; }
inline __attribute__((always_inline)) float vec_sum2(float2 v) { return v.x + v.y; }
inline __attribute__((always_inline)) float vec_sum4(float4 v) { return vec_sum2(v.lo + v.hi); }
inline __attribute__((always_inline)) float vec_sum8(float8 v) { return vec_sum4(v.lo + v.hi); }
inline __attribute__((always_inline)) float vec_sum16(float16 v) { return vec_sum8(v.lo + v.hi); }
/* The lane sum of v, a float (W 1) or floatW (W 2, 4, 8 or 16). */
#define VEC_SUM(W, v) VEC_CAT(vec_sum, W)(v)

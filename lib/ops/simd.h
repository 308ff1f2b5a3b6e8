/* The SIMD width that kernels with a vector-width macro take on CPU devices. */
#ifndef AECL_OPS_SIMD_H
#define AECL_OPS_SIMD_H

#include "rt/rt.h"

/* On a CPU device, floats per native vector (CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT:
 * 16 with AVX-512, 8 with AVX2, 4 below), else 0. PoCL vectorises neither math
 * calls (exp, log, sincos) nor code on vector types across work-items, so kernels
 * heavy in either run faster on explicit vectors of this width. */
int aecl_cpu_simd_floats(aecl_ctx *ctx);

#endif

/* Row-major SGEMM with a fused epilogue, prepared once and replayed:
 *   C[M,N] = act(alpha * op(A) op(B) + beta * C + bias[N])
 * op(A) = A[M,K] or A^T (A stored [K,M]); op(B) = B[K,N] or B^T (B stored [N,K]).
 * Operands are (cl_mem, element offset) so they can sit inside one arena. */
#ifndef AECL_OPS_GEMM_H
#define AECL_OPS_GEMM_H

#include "ops/act.h"
#include "rt/launch.h"

typedef enum aecl_gemm_path { AECL_GEMM_AUTO = 0, AECL_GEMM_OWN = 1, AECL_GEMM_CLBLAST = 2 } aecl_gemm_path;

typedef struct aecl_gemm_desc {
    int M, N, K;
    int trans_a, trans_b;
    float alpha, beta;
    aecl_act act;
    float slope;              /* leaky_relu slope / elu alpha */
    aecl_gemm_path path;      /* AUTO: aecl's kernels (see docs/performance.md) */
} aecl_gemm_desc;

/* alpha 1, beta 0, no activation, AUTO path. */
aecl_gemm_desc aecl_gemm_desc_default(void);

/* Fills *out with a launch computing the product (bias may be NULL). */
aecl_status aecl_gemm_prepare(aecl_ctx *ctx, const aecl_gemm_desc *d, cl_mem A, int a_off, cl_mem B, int b_off,
                              cl_mem C, int c_off, cl_mem bias, int bias_off, aecl_launch *out);

/* Prepare, enqueue, release: for tests and one-off products. */
aecl_status aecl_gemm(aecl_ctx *ctx, const aecl_gemm_desc *d, cl_mem A, int a_off, cl_mem B, int b_off, cl_mem C,
                      int c_off, cl_mem bias, int bias_off);

#endif

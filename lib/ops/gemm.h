/* SGEMM with a fused bias + activation epilogue, row-major:
 *
 *   C[M,N] = act(alpha * op(A) * op(B) + beta * C + bias[N])
 *
 * op(A) is A[M,K], or A^T with A stored [K,M] (trans_a); op(B) is B[K,N], or B^T
 * with B stored [N,K] (trans_b). All four transpose combinations work. Every
 * operand is a cl_mem plus an element offset, so tensors may share one arena.
 *
 * Two implementations: CLBlast's SGEMM followed by a small bias/activation kernel,
 * or aecl's own kernels (cl/gemm.cl) with the epilogue fused. AECL_GEMM_AUTO takes
 * whichever measured faster for this device and shape (gemm_select.c; the choice is
 * cached in a text file beside the kernel binaries).
 *
 * Backward of an activation (aecl_gemm_prepare_bufs with Y): the result is further
 * multiplied, element by element, by act'(Y[m,n]) for activation grad_act, written
 * from the activation's output Y (as act_grad in cl/act.cl), Y laid out like C:
 *
 *   C[M,N] = act(...) * act'(Y)        e.g. gz = (gz_next W) * act'(y)
 *
 * Prepare once, replay many times: aecl_gemm_prepare binds every argument into an
 * aecl_launch; aecl_launch_enqueue replays it; aecl_launch_release frees it. The
 * buffers must outlive the launch (it does not retain them).
 */
#ifndef AECL_OPS_GEMM_H
#define AECL_OPS_GEMM_H

#include "ops/act.h"
#include "rt/launch.h"

typedef enum aecl_gemm_path {
    AECL_GEMM_AUTO = 0,      /* the faster one, by measurement (cached) */
    AECL_GEMM_OWN = 1,       /* cl/gemm.cl, epilogue fused */
    AECL_GEMM_CLBLAST = 2    /* CLBlastSgemm + epilogue kernel */
} aecl_gemm_path;

typedef struct aecl_gemm_desc {
    int M, N, K;             /* >= 1 */
    int trans_a, trans_b;    /* 0 or 1 */
    int lda, ldb, ldc;       /* row strides in elements; 0: packed (K or M, N or K, N) */
    float alpha, beta;       /* beta 0: C is not read (may hold NaN) */
    aecl_act act;
    float slope;             /* leaky_relu slope; elu alpha */
    aecl_act grad_act;       /* NONE, or multiply by act'(Y) (aecl_gemm_prepare_bufs) */
    float grad_slope;        /* grad_act's leaky_relu slope / elu alpha */
    aecl_gemm_path path;
} aecl_gemm_desc;

/* alpha 1, beta 0, no activation, packed strides, AUTO path; sizes 0 (set them). */
aecl_gemm_desc aecl_gemm_desc_default(void);
/* The same with sizes and transposes. */
aecl_gemm_desc aecl_gemm_desc_make(int M, int N, int K, int trans_a, int trans_b);

/* Checks d and the buffer sizes, picks the path (AUTO may measure, the first time
 * for this device and shape) and fills *out with a ready launch. bias may be NULL
 * (then bias_off is ignored). On failure *out is zeroed. */
aecl_status aecl_gemm_prepare(aecl_ctx *ctx, const aecl_gemm_desc *d,
                              cl_mem A, int a_off, cl_mem B, int b_off,
                              cl_mem C, int c_off, cl_mem bias, int bias_off,
                              aecl_launch *out);

/* Every buffer of one call, each with its element offset; bias, Y and row_sums
 * may be NULL. Y: the matrix of a gradient epilogue (d->grad_act), M x N, row
 * stride ldc; it must not overlap C. row_sums (M floats from row_sums_off, overlapping no operand):
 * also write row_sums[m] = sum over k of op(A)[m, k], e.g. a dense layer's bias
 * gradient db (the column sums of gz) next to dW = gz^T x in the same launch.
 * aecl's kernels do it in the items of C's first column block; after CLBlast the
 * epilogue kernel does it. */
typedef struct aecl_gemm_bufs {
    cl_mem A, B, C, bias, Y, row_sums;
    int a_off, b_off, c_off, bias_off, y_off, row_sums_off;
} aecl_gemm_bufs;

/* aecl_gemm_prepare with every buffer in b (Y and row sums included). */
aecl_status aecl_gemm_prepare_bufs(aecl_ctx *ctx, const aecl_gemm_desc *d, const aecl_gemm_bufs *b, aecl_launch *out);

/* prepare + enqueue + release: for tests and one-off calls (does not wait). */
aecl_status aecl_gemm(aecl_ctx *ctx, const aecl_gemm_desc *d,
                      cl_mem A, int a_off, cl_mem B, int b_off,
                      cl_mem C, int c_off, cl_mem bias, int bias_off);

/* The path AUTO resolves to for d with or without a bias (d->path itself is
 * ignored): from this context's table, else the cache file, else by timing both
 * paths on scratch buffers (the caller's buffers are never touched) and recording
 * the winner. Key: device name + driver version + M, N, K, transposes, and whether
 * there is an epilogue. A path that fails to run (e.g. CLBlast on a device it
 * rejects) loses; AUTO fails only when both do. */
aecl_status aecl_gemm_select(aecl_ctx *ctx, const aecl_gemm_desc *d, int has_bias, aecl_gemm_path *out);
/* Forgets this context's per-shape choices, so the next select reads the choice
 * file again (tests of the file). */
void aecl_gemm_select_forget(aecl_ctx *ctx);

/* Median seconds per call of each path over `rounds` interleaved rounds on scratch
 * buffers (0 for a path that could not run). Used by the selection and benchmarks. */
typedef struct aecl_gemm_timing {
    double own_s, clblast_s;
} aecl_gemm_timing;
aecl_status aecl_gemm_measure(aecl_ctx *ctx, const aecl_gemm_desc *d, int has_bias, int rounds,
                              aecl_gemm_timing *out);

/* The -D options of cl/gemm.cl's kernels in the common program on ctx's device
 * (ops/common_kernels.h): gemm_outer for B not transposed, gemm_packed where the
 * dense forward takes it (CPUs) and gemm_dot where a long K takes it, with
 * transposes and bias at run time. */
void aecl_gemm_common_options(aecl_ctx *ctx, char *opts, size_t cap);

/* Name of the cache file of path choices (in the aecl cache folder). */
#define AECL_GEMM_CHOICE_FILE "gemm_choice.txt"

#endif

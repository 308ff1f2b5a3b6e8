/* SGEMM with a fused epilogue, row-major:
 *   C[M,N] = act(alpha * op(A) * op(B) + beta * C + bias[N])
 * op(A) is A[M,K] (TRANS_A 0) or A^T with A stored [K,M] (TRANS_A 1);
 * op(B) is B[K,N] (TRANS_B 0) or B^T with B stored [N,K] (TRANS_B 1).
 *
 * Three kernels, chosen by the host from the transposes:
 *   gemm_outer  (TRANS_B 0): each work-item owns an RM x (VW*RNV) block of C and,
 *               per k, multiplies RM broadcast A values by RNV vectors of one B row.
 *               B rows are contiguous along N, so every load is a vector load.
 *   gemm_dot    (TRANS_A 0, TRANS_B 1): rows of A and of B are both contiguous along
 *               K, so each work-item keeps RM x RN vector partial sums along K and
 *               reduces them at the end: no transposition of B is ever needed.
 *   gemm_simple (any transposes, TT in particular): one output per work-item.
 * gemm_epilogue applies bias + activation in place (after CLBlast's SGEMM).
 *
 * There is no local memory and no barrier: on CPUs (PoCL) a work-group of one
 * work-item runs the register block as straight vector code; on GPUs the blocks
 * still work (caches serve the reuse), but the host usually prefers CLBlast there.
 * Edge blocks (M or N not a multiple of the block) take a guarded path.
 */

#ifndef TRANS_A
#define TRANS_A 0
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif
/* 0 none, 1 relu, 2 leaky_relu(slope), 3 sigmoid, 4 tanh, 5 elu(slope), 6 softplus */
#ifndef ACT
#define ACT 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
/* Vector width (1, 2, 4, 8 or 16) and register block. */
#ifndef VW
#define VW 4
#endif
#ifndef RM
#define RM 4
#endif
#ifndef RNV
#define RNV 1
#endif
#ifndef RN
#define RN 4
#endif

#if VW == 1
typedef float vec_t;
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#define VSUM(v) (v)
#elif VW == 2
typedef float2 vec_t;
#define VLOAD(p) vload2(0, (p))
#define VSTORE(v, p) vstore2((v), 0, (p))
#define VSUM(v) ((v).s0 + (v).s1)
#elif VW == 4
typedef float4 vec_t;
#define VLOAD(p) vload4(0, (p))
#define VSTORE(v, p) vstore4((v), 0, (p))
#define VSUM(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#elif VW == 8
typedef float8 vec_t;
#define VLOAD(p) vload8(0, (p))
#define VSTORE(v, p) vstore8((v), 0, (p))
#define VSUM4(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#define VSUM(v) VSUM4((v).lo + (v).hi)
#elif VW == 16
typedef float16 vec_t;
#define VLOAD(p) vload16(0, (p))
#define VSTORE(v, p) vstore16((v), 0, (p))
#define VSUM4(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#define VSUM8(v) VSUM4((v).lo + (v).hi)
#define VSUM(v) VSUM8((v).lo + (v).hi)
#else
#error "VW must be 1, 2, 4, 8 or 16"
#endif
/* Lane i of HALVE(x, y) sums two lanes of x (i < VW/2) or of y: applied as a tree
 * to VW vectors it leaves the full sum of vector i in lane i. */
#define HALVE(x, y) ((vec_t)((x).even, (y).even) + (vec_t)((x).odd, (y).odd))

/* The activation, written once for scalars and vectors (the builtins overload). */
#if ACT == 0
#define ACTIVATE(v, s) (v)
#elif ACT == 1
#define ACTIVATE(v, s) fmax((v), 0.0f)
#elif ACT == 2
#define ACTIVATE(v, s) (fmax((v), 0.0f) + (s) * fmin((v), 0.0f))
#elif ACT == 3
#define ACTIVATE(v, s) (1.0f / (1.0f + exp(-(v))))
#elif ACT == 4
#define ACTIVATE(v, s) tanh(v)
#elif ACT == 5
#define ACTIVATE(v, s) (fmax((v), 0.0f) + (s) * (exp(fmin((v), 0.0f)) - 1.0f))
#elif ACT == 6
/* log(1 + e^v) without overflow: max(v,0) + log1p(e^-|v|) */
#define ACTIVATE(v, s) (fmax((v), 0.0f) + log1p(exp(-fabs(v))))
#else
#error "unknown ACT"
#endif

/* fma() rather than mad(): PoCL lowers mad() to a multiply and an add, while
 * fma() becomes one FMA instruction on CPUs and GPUs that have it. */
#ifndef MAD
#define MAD(a, b, c) fma((a), (b), (c))
#endif

/* Element (m, k) of op(A) and (k, n) of op(B). */
#if TRANS_A
#define A_AT(m, k) A[(k) * lda + (m)]
#else
#define A_AT(m, k) A[(m) * lda + (k)]
#endif
#if TRANS_B
#define B_AT(k, n) B[(n) * ldb + (k)]
#else
#define B_AT(k, n) B[(k) * ldb + (n)]
#endif

/* One output value through the epilogue: alpha*acc + beta*C + bias, activation. */
inline float finish1(float acc, float alpha, float beta, __global const float *c,
                     __global const float *bias, int n, float slope)
{
    float v = alpha * acc;
    if (beta != 0.0f) v = MAD(beta, *c, v);
#if HAS_BIAS
    v += bias[n];
#endif
    return ACTIVATE(v, slope);
}

#define GEMM_ARGS                                                              \
    int M, int N, int K, float alpha, float beta,                              \
    __global const float *A, int a_off, int lda,                               \
    __global const float *B, int b_off, int ldb,                               \
    __global float *C, int c_off, int ldc,                                     \
    __global const float *bias, int bias_off, float slope

/* ---- gemm_outer: op(B) = B[K,N] ------------------------------------------- */
#define NB (VW * RNV)

/* A full block: every load and store is in range. */
inline void outer_full(int m0, int n0, int K, float alpha, float beta,
                       __global const float *A, int lda, __global const float *B, int ldb,
                       __global float *C, int ldc, __global const float *bias, float slope)
{
    vec_t acc[RM][RNV];
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RNV; j++) acc[i][j] = (vec_t)0.0f;

    __global const float *bp = B + n0;
    for (int k = 0; k < K; k++, bp += ldb) {
        vec_t b[RNV];
#pragma unroll
        for (int j = 0; j < RNV; j++) b[j] = VLOAD(bp + j * VW);
#pragma unroll
        for (int i = 0; i < RM; i++) {
            float a = A_AT(m0 + i, k);
#pragma unroll
            for (int j = 0; j < RNV; j++) acc[i][j] = MAD((vec_t)a, b[j], acc[i][j]);
        }
    }

#if HAS_BIAS
    vec_t bv[RNV];
#pragma unroll
    for (int j = 0; j < RNV; j++) bv[j] = VLOAD(bias + n0 + j * VW);
#endif
#pragma unroll
    for (int i = 0; i < RM; i++) {
#pragma unroll
        for (int j = 0; j < RNV; j++) {
            __global float *cp = C + (m0 + i) * ldc + n0 + j * VW;
            vec_t v = alpha * acc[i][j];
            if (beta != 0.0f) v = MAD((vec_t)beta, VLOAD(cp), v);
#if HAS_BIAS
            v += bv[j];
#endif
            VSTORE(ACTIVATE(v, slope), cp);
        }
    }
}

/* An edge block: scalar accumulators, every index guarded. */
inline void outer_edge(int m0, int n0, int M, int N, int K, float alpha, float beta,
                       __global const float *A, int lda, __global const float *B, int ldb,
                       __global float *C, int ldc, __global const float *bias, float slope)
{
    float acc[RM][NB];
    int mc = min(RM, M - m0), nc = min(NB, N - n0);
    for (int i = 0; i < RM; i++)
        for (int j = 0; j < NB; j++) acc[i][j] = 0.0f;
    for (int k = 0; k < K; k++) {
        __global const float *bp = B + k * ldb + n0;
        for (int i = 0; i < mc; i++) {
            float a = A_AT(m0 + i, k);
            for (int j = 0; j < nc; j++) acc[i][j] = MAD(a, bp[j], acc[i][j]);
        }
    }
    for (int i = 0; i < mc; i++)
        for (int j = 0; j < nc; j++) {
            __global float *cp = C + (m0 + i) * ldc + n0 + j;
            *cp = finish1(acc[i][j], alpha, beta, cp, bias, n0 + j, slope);
        }
}

__kernel void gemm_outer(GEMM_ARGS)
{
    int n0 = get_global_id(0) * NB, m0 = get_global_id(1) * RM;
    if (n0 >= N || m0 >= M) return;
    A += a_off;
    B += b_off;
    C += c_off;
    bias += bias_off;
    if (m0 + RM <= M && n0 + NB <= N)
        outer_full(m0, n0, K, alpha, beta, A, lda, B, ldb, C, ldc, bias, slope);
    else
        outer_edge(m0, n0, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, bias, slope);
}

/* ---- gemm_dot: op(A) = A[M,K], op(B) = B^T with B stored [N,K] ------------- */

/* RM x RN dot products of rows of A and B, vectorised along K; rows past M or N
 * are clamped to the last valid row (computed twice, stored once). */
__kernel void gemm_dot(GEMM_ARGS)
{
    int n0 = get_global_id(0) * RN, m0 = get_global_id(1) * RM;
    if (n0 >= N || m0 >= M) return;
    A += a_off;
    B += b_off;
    C += c_off;
    bias += bias_off;

    __global const float *ap[RM], *bp[RN];
#pragma unroll
    for (int i = 0; i < RM; i++) ap[i] = A + min(m0 + i, M - 1) * lda;
#pragma unroll
    for (int j = 0; j < RN; j++) bp[j] = B + min(n0 + j, N - 1) * ldb;

    vec_t acc[RM][RN];
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RN; j++) acc[i][j] = (vec_t)0.0f;

    int kv = K - K % VW;
    for (int k = 0; k < kv; k += VW) {
        vec_t a[RM], b[RN];
#pragma unroll
        for (int i = 0; i < RM; i++) a[i] = VLOAD(ap[i] + k);
#pragma unroll
        for (int j = 0; j < RN; j++) b[j] = VLOAD(bp[j] + k);
#pragma unroll
        for (int i = 0; i < RM; i++)
#pragma unroll
            for (int j = 0; j < RN; j++) acc[i][j] = MAD(a[i], b[j], acc[i][j]);
    }

    float s[RM][RN];
#if VW > 1 && (RM * RN) % VW == 0 && !defined(NO_TREE)
    /* Reduce VW accumulators at a time with a transpose-add tree: VW-1 vector adds
     * instead of VW horizontal sums (this matters when K is small). */
#pragma unroll
    for (int g = 0; g < RM * RN; g += VW) {
        vec_t t[VW];
#pragma unroll
        for (int x = 0; x < VW; x++) t[x] = acc[(g + x) / RN][(g + x) % RN];
#pragma unroll
        for (int w = VW; w > 1; w /= 2)
#pragma unroll
            for (int x = 0; x < w / 2; x++) t[x] = HALVE(t[2 * x], t[2 * x + 1]);
        float r[VW];
        VSTORE(t[0], r);
#pragma unroll
        for (int x = 0; x < VW; x++) s[(g + x) / RN][(g + x) % RN] = r[x];
    }
#else
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RN; j++) s[i][j] = VSUM(acc[i][j]);
#endif
    for (int k = kv; k < K; k++) {
#pragma unroll
        for (int i = 0; i < RM; i++)
#pragma unroll
            for (int j = 0; j < RN; j++) s[i][j] = MAD(ap[i][k], bp[j][k], s[i][j]);
    }

    int mc = min(RM, M - m0), nc = min(RN, N - n0);
    for (int i = 0; i < mc; i++)
        for (int j = 0; j < nc; j++) {
            __global float *cp = C + (m0 + i) * ldc + n0 + j;
            *cp = finish1(s[i][j], alpha, beta, cp, bias, n0 + j, slope);
        }
}

/* ---- gemm_simple: any transposes, one output per work-item ------------------ */
__kernel void gemm_simple(GEMM_ARGS)
{
    int n = get_global_id(0), m = get_global_id(1);
    if (n >= N || m >= M) return;
    A += a_off;
    B += b_off;
    C += c_off;
    bias += bias_off;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc = MAD(A_AT(m, k), B_AT(k, n), acc);
    __global float *cp = C + m * ldc + n;
    *cp = finish1(acc, alpha, beta, cp, bias, n, slope);
}

/* ---- gemm_epilogue: C = act(C + bias) in place, after CLBlast ---------------- */
__kernel void gemm_epilogue(int M, int N, __global float *C, int c_off, int ldc,
                            __global const float *bias, int bias_off, float slope)
{
    int n = get_global_id(0), m = get_global_id(1);
    if (n >= N || m >= M) return;
    __global float *cp = C + c_off + m * ldc + n;
    float v = *cp;
#if HAS_BIAS
    v += bias[bias_off + n];
#endif
    *cp = ACTIVATE(v, slope);
}

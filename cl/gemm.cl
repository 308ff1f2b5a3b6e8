//@require act.cl
/* SGEMM with a fused epilogue, row-major:
 *   C[M,N] = act(alpha * op(A) * op(B) + beta * C + bias[N])
 * op(A) is A[M,K] (TRANS_A 0) or A^T with A stored [K,M] (TRANS_A 1); for
 * gemm_outer, TRANS_A -1 leaves the choice to its trans_a argument (and
 * gemm_packed, built next to it, takes op(A) = A);
 * op(B) is B[K,N] (TRANS_B 0) or B^T with B stored [N,K] (TRANS_B 1).
 * HAS_BIAS -1: the has_bias argument of gemm_outer, gemm_packed and gemm_dot
 * decides.
 * Each buffer comes with an element offset (operands may sit in one arena).
 *
 * Kernels (the host picks one from the transposes, K and the device):
 *   gemm_outer  any transposes. Each work-item owns an RM x (VW*RNV) block of C
 *               and, per k, multiplies RM broadcast values of op(A) by RNV vectors
 *               of one row of op(B). With TRANS_B the rows of op(B) are columns
 *               of B, so VW x VW tiles of B are loaded along K and transposed in
 *               registers first.
 *   gemm_packed TRANS_B 1 (x W^T, the dense forward), K <= KMAX. A work-group
 *               transposes its panel of B once into local memory, then its items
 *               run the gemm_outer register block over their rows of C. For CPUs.
 *   gemm_dot    op(A) = A, op(B) = B^T (whatever TRANS_A and TRANS_B say), any
 *               K. Rows of A and of B are both contiguous along K: each
 *               work-item keeps DOT_RM x DOT_RN vector partial sums along K and
 *               adds their lanes at the end. Good for long K.
 *   gemm_epilogue  bias + activation in place (after CLBlast's SGEMM).
 *
 * Row sums (rsum_on, a run-time argument): the kernels also write
 * rsum[m] = sum over k of op(A)[m, k], a dense layer's bias gradient db = the
 * column sums of gz next to dW = gz^T x (TRANS_A 1, A = gz), which saves the
 * separate column-sum launch. The items of the first column block of C sum
 * their rows after their own block (the K loop is untouched); gemm_epilogue's
 * items of column 0 do it after CLBlast.
 *
 * GRAD_ACT (backward of an activation): the stored value is then additionally
 * multiplied by act'(Y[m, n]) for activation GRAD_ACT with slope gslope, Y a
 * matrix laid out like C (row stride ldc, its own offset). That folds
 * gz = (gz_next W) * act'(y) into the GEMM that computes gz_next W.
 *
 * On CPUs (PoCL) a work-item is straight-line vector code over its register block
 * (fma on floatVW, VW = the device's preferred width) and work-groups are small;
 * on GPUs gemm_outer and gemm_dot run with float4 and rely on caches (the host
 * usually measures CLBlast faster there). Only gemm_packed uses local memory
 * (KMAX * VW * RNV floats) and a barrier. Blocks that cross the edge of C take a
 * guarded path, so no size needs to be a multiple of anything.
 */

#ifndef TRANS_A
#define TRANS_A 0
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif
/* 0 none, 1 relu, 2 leaky_relu(slope), 3 sigmoid, 4 tanh, 5 elu(slope), 6 softplus;
 * -1: the kernel's act_code argument picks it at run time (one program serves
 * every activation: each program costs a first run a compile per kernel). */
#ifndef ACT
#define ACT 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
#if HAS_BIAS < -1 || HAS_BIAS > 1
#error "HAS_BIAS is 0, 1 or -1 (a run-time argument)"
#endif
/* Activation whose derivative (from its output Y) multiplies the result; 0: none;
 * -1: the gact_code argument picks it at run time. */
#ifndef GRAD_ACT
#define GRAD_ACT 0
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
/* gemm_dot's block, DOT_RM x DOT_RN dot products: the common program builds
 * gemm_dot next to gemm_outer, whose block differs on CPUs. */
#ifndef DOT_RM
#define DOT_RM RM
#endif
#ifndef DOT_RN
#define DOT_RN RN
#endif

#if VW == 1
typedef float vec_t;
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#elif VW == 2
typedef float2 vec_t;
#define VLOAD(p) vload2(0, (p))
#define VSTORE(v, p) vstore2((v), 0, (p))
#elif VW == 4
typedef float4 vec_t;
#define VLOAD(p) vload4(0, (p))
#define VSTORE(v, p) vstore4((v), 0, (p))
#elif VW == 8
typedef float8 vec_t;
#define VLOAD(p) vload8(0, (p))
#define VSTORE(v, p) vstore8((v), 0, (p))
#elif VW == 16
typedef float16 vec_t;
#define VLOAD(p) vload16(0, (p))
#define VSTORE(v, p) vstore16((v), 0, (p))
#else
#error "VW must be 1, 2, 4, 8 or 16"
#endif

/* The activation and v * act'(y), written once for scalars and vectors (T is
 * v's type): act.cl's definitions, selected when the program is built. */
#if ACT < -1 || ACT > 6
#error "unknown ACT"
#endif
#if GRAD_ACT < -1 || GRAD_ACT > 6
#error "unknown GRAD_ACT"
#endif
#if ACT < 0
/* The activation chosen at run time (F: act_apply, or act_apply_vec on vec_t);
 * a uniform switch per stored value or vector, outside the K loop. */
#define ACTIVATE(F, v, s, a) F((a), (v), (s))
#else
#define ACTIVATE(F, v, s, a) ACT_APPLY(ACT, v, s)
#endif
#if GRAD_ACT < 0
/* Chosen at run time by the gact_code argument (0: none), like ACT = -1. */
#define GRAD_WANTED(a) ((a) != 0)
#define GRAD_MUL(F, T, v, y, s, a) ((v) * F((a), (y), (s)))
#else
#define GRAD_WANTED(a) (GRAD_ACT != 0)
#define GRAD_MUL(F, T, v, y, s, a) ((v) * ACT_DERIV(GRAD_ACT, T, y, s))
#endif

/* fma() rather than mad(): PoCL lowers mad() to a multiply and an add, while
 * fma() becomes one FMA instruction on CPUs and GPUs that have it. */
#ifndef MAD
#define MAD(a, b, c) fma((a), (b), (c))
#endif

/* Element (m, k) of op(A) and (k, n) of op(B); A_ROW(m) points at row m of
 * op(A), whose element k is A_ROW_AT(p, k). op(A) is A^T where `ta`, an int in
 * scope, is nonzero: a constant after inlining (the kernels pass TRANS_A, or,
 * in a gemm_outer built with TRANS_A = -1, branch once on their trans_a
 * argument into two inlined copies, so that one program serves A and A^T). */
#define A_AT(m, k) (ta ? A[(k) * lda + (m)] : A[(m) * lda + (k)])
#define A_ROW(m) (ta ? A + (m) : A + (m) * lda)
#define A_ROW_AT(p, k) (ta ? (p)[(k) * lda] : (p)[k])
#if TRANS_B
#define B_AT(k, n) B[(n) * ldb + (k)]
#else
#define B_AT(k, n) B[(k) * ldb + (n)]
#endif

/* The bias at column n, as a float or as the vector from n, where `hb`, an int
 * in scope, is nonzero (HAS_BIAS, or the kernel's has_bias argument); 0 and no
 * read otherwise (the host then binds C as the bias, never read). */
#define BIAS1(n) (hb ? bias[n] : 0.0f)
#define BIASV(n) (hb ? VLOAD(bias + (n)) : (vec_t)0.0f)
#define LOAD1(p) (*(p))

/* The store epilogue, written once for one value (finish1: T float, LD LOAD1)
 * and one vector (finishv: T vec_t, LD VLOAD): alpha*acc + beta*C + b (b the
 * bias where hb, see BIAS1/BIASV), the activation, then times act'(y). c and y point at
 * the output's place in C and in Y; C is read only when beta != 0, Y only with
 * GRAD_ACT. */
#define GEMM_FINISH(NAME, T, LD, F, G)                                         \
    inline __attribute__((always_inline)) T NAME(T acc, float alpha, float beta, __global const float *c, int hb, \
                                                 T b, float slope, __global const float *y, float gslope, \
                                                 int act_code, int gact_code)  \
    {                                                                          \
        T v = alpha * acc;                                                     \
        if (beta != 0.0f) v = MAD((T)beta, LD(c), v);                          \
        if (hb) v += b;                                                        \
        v = ACTIVATE(F, v, slope, act_code);                                   \
        if (GRAD_WANTED(gact_code)) v = GRAD_MUL(G, T, v, LD(y), gslope, gact_code); \
        return v;                                                              \
    }
#if ACT < 0
inline __attribute__((always_inline)) vec_t act_apply_vec(int act, vec_t x, float slope)
{
    ACT_APPLY_SWITCH(act, x, slope)
}
#endif
#if GRAD_ACT < 0
inline __attribute__((always_inline)) vec_t act_grad_vec(int act, vec_t y, float slope)
{
    ACT_DERIV_SWITCH(act, vec_t, y, slope)
}
#endif
GEMM_FINISH(finish1, float, LOAD1, act_apply, act_grad)
GEMM_FINISH(finishv, vec_t, VLOAD, act_apply_vec, act_grad_vec)

/* A full RM x NB block of C at (m0, n0) through the epilogue, as vectors (every
 * row and column in range): gemm_outer's and gemm_packed's full blocks. The
 * block is copied out of its registers and stored in a loop that is not
 * unrolled: the epilogue's activation switch (ACT = -1) is then one copy instead
 * of RM * RNV, which halves PoCL's compile of these kernels (gemm_packed 2.4 ->
 * 1.2 s); the loop runs once per block, after the K loop. */
inline __attribute__((always_inline)) void store_block(vec_t acc[RM][RNV], int m0, int n0, float alpha,
                                                       float beta, __global float *C, int ldc, int hb,
                                                       __global const float *bias, float slope,
                                                       __global const float *Y, float gslope, int act_code, int gact_code)
{
    vec_t v[RM * RNV];
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RNV; j++) v[i * RNV + j] = acc[i][j];
#pragma unroll 1
    for (int t = 0; t < RM * RNV; t++) {
        int n = n0 + t % RNV * VW, at = (m0 + t / RNV) * ldc + n;
        VSTORE(finishv(v[t], alpha, beta, C + at, hb, BIASV(n), slope, Y + at, gslope, act_code, gact_code), C + at);
    }
}

/* Rows [0, mr) of s (row stride ld), nc values each, through the epilogue into
 * rows m0.. of C from column n0: the edge blocks of gemm_outer and
 * gemm_packed, and gemm_dot. Whole vectors of a row as vectors (an edge block
 * of N = 784 or 400 is one: a scalar activation per value cost its item more
 * than its multiply-adds), the rest one by one. Not unrolled, for the reason
 * given at store_block. */
inline __attribute__((always_inline)) void store_rows(const float *s, int ld, int mr, int nc, int m0, int n0,
                                                      float alpha, float beta, __global float *C, int ldc, int hb,
                                                      __global const float *bias, float slope,
                                                      __global const float *Y, float gslope, int act_code,
                                                      int gact_code)
{
    int nv = ld % VW ? 0 : nc - nc % VW; /* vector loads of s need rows of whole vectors */
#pragma unroll 1
    for (int i = 0; i < mr; i++) {
        for (int j = 0; j < nv; j += VW) {
            int at = (m0 + i) * ldc + n0 + j;
            VSTORE(finishv(VLOAD(s + i * ld + j), alpha, beta, C + at, hb, BIASV(n0 + j), slope, Y + at, gslope,
                           act_code, gact_code),
                   C + at);
        }
        for (int j = nv; j < nc; j++) {
            int at = (m0 + i) * ldc + n0 + j;
            C[at] = finish1(s[i * ld + j], alpha, beta, C + at, hb, BIAS1(n0 + j), slope, Y + at, gslope, act_code,
                            gact_code);
        }
    }
}

/* rsum[m] = sum over k of op(A)[m, k] for the RM rows from m0 that are below M,
 * k in order from 0 (the order of reduce.cl's column sums). RM rows at a time,
 * so that with TRANS_A the loads of one k are consecutive; rows past M repeat
 * row M-1 (never stored). */
#if TRANS_A != 0 && (RM == 4 || RM == 8 || RM == 16)
/* With TRANS_A the RM rows at one k are RM consecutive floats: one vector load
 * per k for a full block (scalar loads made the sums cost as much as the
 * product where C has one column block, e.g. dW of a 32 -> 128 layer). */
#define RSUM_VEC 1
#if RM == 4
typedef float4 rsum_t;
#define RSUM_LOAD(p) vload4(0, (p))
#define RSUM_STORE(v, p) vstore4((v), 0, (p))
#elif RM == 8
typedef float8 rsum_t;
#define RSUM_LOAD(p) vload8(0, (p))
#define RSUM_STORE(v, p) vstore8((v), 0, (p))
#else
typedef float16 rsum_t;
#define RSUM_LOAD(p) vload16(0, (p))
#define RSUM_STORE(v, p) vstore16((v), 0, (p))
#endif
#else
#define RSUM_VEC 0
#endif

inline __attribute__((always_inline)) void row_sums(int ta, __global const float *A, int lda, int m0, int M, int K,
                                                    __global float *rsum)
{
#if RSUM_VEC
    if (ta && m0 + RM <= M) {
        rsum_t v = (rsum_t)0.0f;
        for (int k = 0; k < K; k++) v += RSUM_LOAD(A + k * lda + m0);
        RSUM_STORE(v, rsum + m0);
        return;
    }
#endif
    __global const float *ar[RM];
    float s[RM];
#pragma unroll
    for (int i = 0; i < RM; i++) {
        ar[i] = A_ROW(min(m0 + i, M - 1));
        s[i] = 0.0f;
    }
    for (int k = 0; k < K; k++)
#pragma unroll
        for (int i = 0; i < RM; i++) s[i] += A_ROW_AT(ar[i], k);
#pragma unroll
    for (int i = 0; i < RM; i++)
        if (m0 + i < M) rsum[m0 + i] = s[i];
}

/* GEMM_KERNELS, a bit mask, keeps only these kernels: 1 gemm_outer, 2
 * gemm_packed, 4 gemm_dot, 8 gemm_epilogue. The host builds just those it
 * launches, which saves compile time. Unset: all of them. */
#ifdef GEMM_KERNELS
#define GEMM_WANT(bit) ((GEMM_KERNELS & (bit)) != 0)
#else
#define GEMM_WANT(bit) 1
#endif
#define GEMM_OUTER 1
#define GEMM_PACKED 2
#define GEMM_DOT 4
#define GEMM_EPILOGUE 8
#if (TRANS_A < 0 || HAS_BIAS < 0) && GEMM_WANT(GEMM_EPILOGUE)
#error "TRANS_A = -1 and HAS_BIAS = -1 (chosen at run time) are for gemm_outer, gemm_packed and gemm_dot: set GEMM_KERNELS"
#endif

#define GEMM_ARGS                                                              \
    int M, int N, int K, float alpha, float beta,                              \
    __global const float *A, int a_off, int lda,                               \
    __global const float *B, int b_off, int ldb,                               \
    __global float *C, int c_off, int ldc,                                     \
    __global const float *bias, int bias_off, float slope,                    \
    __global const float *Y, int y_off, float gslope, int act_code, int gact_code, \
    __global float *rsum, int rsum_off, int rsum_on

/* The operands from their element offsets (the bias only when there is one). */
#define GEMM_OFFSETS()                                                         \
    do {                                                                       \
        A += a_off;                                                            \
        B += b_off;                                                            \
        C += c_off;                                                            \
        Y += y_off;                                                            \
        bias += bias_off;                                                      \
        rsum += rsum_off;                                                      \
    } while (0)

/* ---- gemm_outer: op(B) = B[K,N] ------------------------------------------- */
#define NB (VW * RNV)

/* acc[i][j] += op(A)[row(i), k] * b[j] for the whole register block. */
#define OUTER_STEP_ROWS(k, b, ROW)                                             \
    do {                                                                       \
        _Pragma("unroll") for (int i = 0; i < RM; i++) {                       \
            float a_ = A_AT(ROW(i), (k));                                      \
            _Pragma("unroll") for (int j = 0; j < RNV; j++)                    \
                acc[i][j] = MAD((vec_t)a_, (b)[j], acc[i][j]);                 \
        }                                                                      \
    } while (0)
#define ROW_PLAIN(i) (m0 + (i))
#define ROW_CLAMPED(i) min(m0 + (i), M - 1)

/* The same step from row pointers: A_ROWS(ROW) declares ar[i] = row ROW(i) of
 * op(A) before the K loop, OUTER_STEP reads element k of each. Indexing A with
 * the rows inside the loop made PoCL's code compute the RM addresses with vector
 * arithmetic and extracts at every k: gemm_packed's x W^T ran 1.1-1.4x faster
 * from pointers (bench_gemm --ab, quiet machine). */
#define A_ROWS(ROW)                                                            \
    __global const float *ar[RM];                                              \
    _Pragma("unroll") for (int i_ = 0; i_ < RM; i_++) ar[i_] = A_ROW(ROW(i_))
#define OUTER_STEP(k, b)                                                       \
    do {                                                                       \
        _Pragma("unroll") for (int i = 0; i < RM; i++) {                       \
            float a_ = A_ROW_AT(ar[i], (k));                                   \
            _Pragma("unroll") for (int j = 0; j < RNV; j++)                    \
                acc[i][j] = MAD((vec_t)a_, (b)[j], acc[i][j]);                 \
        }                                                                      \
    } while (0)

/* Transposes VW vectors in place: afterwards t[c] holds lane c of every input
 * (log2(VW) rounds of even/odd shuffles). */
#if VW > 1
#define TRANSPOSE_VW(t)                                                        \
    do {                                                                       \
        _Pragma("unroll") for (int w_ = 1; w_ < VW; w_ *= 2) {                 \
            vec_t u_[VW];                                                      \
            _Pragma("unroll") for (int r_ = 0; r_ < VW / 2; r_++) {            \
                u_[r_] = (vec_t)((t)[2 * r_].even, (t)[2 * r_ + 1].even);      \
                u_[VW / 2 + r_] = (vec_t)((t)[2 * r_].odd, (t)[2 * r_ + 1].odd); \
            }                                                                  \
            _Pragma("unroll") for (int r_ = 0; r_ < VW; r_++) (t)[r_] = u_[r_]; \
        }                                                                      \
    } while (0)
#else
#define TRANSPOSE_VW(t) ((void)0)
#endif

#if GEMM_WANT(GEMM_OUTER)
/* A full block: every load and store is in range. */
inline __attribute__((always_inline)) void outer_full(int ta, int m0, int n0, int K, float alpha, float beta,
                       __global const float *A, int lda, __global const float *B, int ldb,
                       __global float *C, int ldc, int hb, __global const float *bias, float slope,
                       __global const float *Y, float gslope, int act_code, int gact_code)
{
    vec_t acc[RM][RNV];
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RNV; j++) acc[i][j] = (vec_t)0.0f;
    A_ROWS(ROW_PLAIN);

#if !TRANS_B
    __global const float *bp = B + n0;
    for (int k = 0; k < K; k++, bp += ldb) {
        vec_t b[RNV];
#pragma unroll
        for (int j = 0; j < RNV; j++) b[j] = VLOAD(bp + j * VW);
        OUTER_STEP(k, b);
    }
#else
    /* B is stored [N,K]: load VW rows of VW consecutive k and transpose them in
     * registers, giving VW vectors along N. */
    int kv = K - K % VW;
    for (int k0 = 0; k0 < kv; k0 += VW) {
        vec_t bt[RNV][VW];
#pragma unroll
        for (int j = 0; j < RNV; j++) {
#pragma unroll
            for (int r = 0; r < VW; r++) bt[j][r] = VLOAD(B + (n0 + j * VW + r) * ldb + k0);
            TRANSPOSE_VW(bt[j]);
        }
#pragma unroll
        for (int kk = 0; kk < VW; kk++) {
            vec_t b[RNV];
#pragma unroll
            for (int j = 0; j < RNV; j++) b[j] = bt[j][kk];
            OUTER_STEP(k0 + kk, b);
        }
    }
    for (int k = kv; k < K; k++) {
        vec_t b[RNV];
        float g[VW];
#pragma unroll
        for (int j = 0; j < RNV; j++) {
#pragma unroll
            for (int r = 0; r < VW; r++) g[r] = B[(n0 + j * VW + r) * ldb + k];
            b[j] = VLOAD(g);
        }
        OUTER_STEP(k, b);
    }
#endif

    store_block(acc, m0, n0, alpha, beta, C, ldc, hb, bias, slope, Y, gslope, act_code, gact_code);
}

/* An edge block. Rows past M repeat row M-1 (computed, not stored); the complete
 * vectors of columns left before N keep the vector loop, the last VW-1 or fewer
 * columns are one vector loaded lane by lane with zeros past N, and vectors past
 * N are zero. So an edge costs about what a full block costs, instead of a fully
 * scalar path (N = 784 = 24 * 32 + 16 would otherwise spend more time in its
 * last 2% of columns than in the rest). The last columns had scalar
 * accumulators before (RM loads of A and RM FMAs per column and k): the VAE's
 * 20 -> 400 layer's two backward products (N = 20) took 0.07-0.10 ms, now
 * 0.04-0.06 (in-step profile, kernel files alternating three times). */
inline __attribute__((always_inline)) void outer_edge(int ta, int m0, int n0, int M, int N, int K, float alpha, float beta,
                       __global const float *A, int lda, __global const float *B, int ldb,
                       __global float *C, int ldc, int hb, __global const float *bias, float slope,
                       __global const float *Y, float gslope, int act_code, int gact_code)
{
    int nc = min(NB, N - n0);
    vec_t acc[RM][RNV];
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RNV; j++) acc[i][j] = (vec_t)0.0f;
    for (int k = 0; k < K; k++) {
        vec_t b[RNV];
#pragma unroll
        for (int j = 0; j < RNV; j++) {
            int c0 = j * VW;
            if (c0 >= nc) {
                b[j] = (vec_t)0.0f;
                continue;
            }
            float g[VW];
            if (c0 + VW <= nc) {
#if TRANS_B
#pragma unroll
                for (int r = 0; r < VW; r++) g[r] = B_AT(k, n0 + c0 + r);
                b[j] = VLOAD(g);
#else
                b[j] = VLOAD(B + k * ldb + n0 + c0);
#endif
                continue;
            }
#pragma unroll
            for (int r = 0; r < VW; r++) g[r] = c0 + r < nc ? B_AT(k, n0 + c0 + r) : 0.0f;
            b[j] = VLOAD(g);
        }
        OUTER_STEP_ROWS(k, b, ROW_CLAMPED);
    }
    float s[RM * NB];
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RNV; j++) VSTORE(acc[i][j], s + i * NB + j * VW);
    store_rows(s, NB, min(RM, M - m0), nc, m0, n0, alpha, beta, C, ldc, hb, bias, slope, Y, gslope, act_code,
               gact_code);
}

/* One register block of C, for op(A) = A^T when ta (a constant at each call). */
inline __attribute__((always_inline)) void outer_block(int ta, int m0, int n0, int M, int N, int K, float alpha,
                                                       float beta, __global const float *A, int lda,
                                                       __global const float *B, int ldb, __global float *C, int ldc,
                                                       int hb, __global const float *bias, float slope,
                                                       __global const float *Y, float gslope, int act_code,
                                                       int gact_code, __global float *rsum, int rsum_on)
{
    if (m0 + RM <= M && n0 + NB <= N)
        outer_full(ta, m0, n0, K, alpha, beta, A, lda, B, ldb, C, ldc, hb, bias, slope, Y, gslope, act_code,
                   gact_code);
    else
        outer_edge(ta, m0, n0, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, hb, bias, slope, Y, gslope, act_code,
                   gact_code);
    if (rsum_on && n0 == 0) row_sums(ta, A, lda, m0, M, K, rsum);
}

/* outer_block for A and for A^T as functions of their own, called from the
 * kernel: PoCL emits three versions of a kernel's body (one per launch path),
 * so a block inlined into it would be compiled three times over (a third more
 * of a first run's compile for the MLP's gemm_outer). */
#define OUTER_BLOCK_FN(NAME, TA)                                                            \
    __attribute__((noinline)) void NAME(int m0, int n0, int M, int N, int K, float alpha, float beta, \
                                        __global const float *A, int lda, __global const float *B, int ldb, \
                                        __global float *C, int ldc, int hb, __global const float *bias,     \
                                        float slope, __global const float *Y, float gslope, int act_code,   \
                                        int gact_code, __global float *rsum, int rsum_on)                   \
    {                                                                                                        \
        outer_block(TA, m0, n0, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, hb, bias, slope, Y, gslope,   \
                    act_code, gact_code, rsum, rsum_on);                                                     \
    }
OUTER_BLOCK_FN(outer_block_a, 0)
OUTER_BLOCK_FN(outer_block_at, 1)

/* trans_a: whether op(A) = A^T, read only when built with TRANS_A = -1;
 * has_bias likewise with HAS_BIAS = -1. */
__kernel void gemm_outer(GEMM_ARGS, int trans_a, int has_bias)
{
    int n0 = get_global_id(0) * NB, m0 = get_global_id(1) * RM;
    if (n0 >= N || m0 >= M) return;
    GEMM_OFFSETS();
#if TRANS_A >= 0
    trans_a = TRANS_A;
#endif
#if HAS_BIAS >= 0
    has_bias = HAS_BIAS;
#endif
    if (trans_a)
        outer_block_at(m0, n0, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, has_bias, bias, slope, Y, gslope,
                       act_code, gact_code, rsum, rsum_on);
    else
        outer_block_a(m0, n0, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, has_bias, bias, slope, Y, gslope,
                      act_code, gact_code, rsum, rsum_on);
}

#endif /* GEMM_WANT(GEMM_OUTER) */

/* ---- gemm_packed: op(B) = B^T with B stored [N,K], panel in local memory -------
 * A work-group owns NB columns of C: its items first transpose the B panel
 * (NB rows of B, all of K) into local memory as rows of op(B), zero-padded, then
 * each item runs the gemm_outer register block over its MS rows of C reading B
 * from the panel. The transposition is paid once per group instead of once per
 * register block. Needs K <= KMAX (the host checks); meant for CPUs, where local
 * memory is ordinary cached memory. */
#if GEMM_WANT(GEMM_PACKED)
#ifndef KMAX
#define KMAX 1024
#endif

inline void packed_panel(__local float *bt, int n0, int N, int K, __global const float *B, int ldb)
{
    int ly = get_local_size(1), li = get_local_id(1), kp = (K + VW - 1) / VW * VW;
    for (int t = li; t < kp / VW * RNV; t += ly) {
        int kt = t / RNV * VW, j = t % RNV;
        vec_t r[VW];
#pragma unroll
        for (int x = 0; x < VW; x++) {
            int n = n0 + j * VW + x;
            if (n < N && kt + VW <= K) {
                r[x] = VLOAD(B + n * ldb + kt);
            } else {
                float g[VW];
                for (int y = 0; y < VW; y++) g[y] = n < N && kt + y < K ? B[n * ldb + kt + y] : 0.0f;
                r[x] = VLOAD(g);
            }
        }
        TRANSPOSE_VW(r);
#pragma unroll
        for (int x = 0; x < VW; x++) VSTORE(r[x], bt + (kt + x) * NB + j * VW);
    }
}

/* Rows [m_begin, m_end) of C's column block n0 from the panel bt: an item's
 * work. A function of its own, not inlined into the kernel, which PoCL emits in
 * three versions (see outer_block_a): compiled once, not three times. */
__attribute__((noinline)) void packed_rows(__local const float *bt, int n0, int m_begin, int m_end, int M, int N,
                                           int K, float alpha, float beta, __global const float *A, int lda,
                                           __global float *C, int ldc, int hb, __global const float *bias,
                                           float slope, __global const float *Y, float gslope, int act_code,
                                           int gact_code, __global float *rsum, int rsum_on)
{
    const int ta = TRANS_A > 0; /* TRANS_A = -1 is gemm_outer's: op(A) = A here */
    int nc = min(NB, N - n0);
    for (int m0 = m_begin; m0 < m_end; m0 += RM) {
        vec_t acc[RM][RNV];
#pragma unroll
        for (int i = 0; i < RM; i++)
#pragma unroll
            for (int j = 0; j < RNV; j++) acc[i][j] = (vec_t)0.0f;
        /* Rows past M repeat row M-1 (computed, never stored): one loop for all. */
        A_ROWS(ROW_CLAMPED);
        for (int k = 0; k < K; k++) {
            vec_t b[RNV];
#pragma unroll
            for (int j = 0; j < RNV; j++) b[j] = VLOAD(bt + k * NB + j * VW);
            OUTER_STEP(k, b);
        }
        if (m0 + RM <= M && nc == NB) {
            store_block(acc, m0, n0, alpha, beta, C, ldc, hb, bias, slope, Y, gslope, act_code, gact_code);
        } else {
            /* (the copy is unrolled so acc stays in registers) */
            float s[RM * NB];
#pragma unroll
            for (int i = 0; i < RM; i++)
#pragma unroll
                for (int j = 0; j < RNV; j++) VSTORE(acc[i][j], s + i * NB + j * VW);
            store_rows(s, NB, min(RM, M - m0), nc, m0, n0, alpha, beta, C, ldc, hb, bias, slope, Y, gslope,
                       act_code, gact_code);
        }
        if (rsum_on && n0 == 0) row_sums(ta, A, lda, m0, M, K, rsum);
    }
}

/* MS: rows of C per item; has_bias as gemm_outer's. */
__kernel void gemm_packed(GEMM_ARGS, int MS, int has_bias)
{
    __local float bt[KMAX * NB];
    int n0 = get_group_id(0) * NB, m_begin = get_global_id(1) * MS;
    GEMM_OFFSETS();
#if HAS_BIAS >= 0
    has_bias = HAS_BIAS;
#endif
    packed_panel(bt, n0, N, K, B, ldb);
    barrier(CLK_LOCAL_MEM_FENCE);
    packed_rows(bt, n0, m_begin, min(M, m_begin + MS), M, N, K, alpha, beta, A, lda, C, ldc, has_bias, bias, slope,
                Y, gslope, act_code, gact_code, rsum, rsum_on);
}

#endif /* GEMM_WANT(GEMM_PACKED) */

/* ---- gemm_dot: op(A) = A[M,K], op(B) = B^T with B stored [N,K] ------------- */

#if GEMM_WANT(GEMM_DOT)
/* The row sums of a gemm_dot item's DOT_RM rows, RM at a time (both powers of
 * two: one divides the other). */
inline __attribute__((always_inline)) void dot_row_sums(__global const float *A, int lda, int m0, int M, int K,
                                                        __global float *rsum)
{
#if DOT_RM >= RM
    for (int r = 0; r < DOT_RM; r += RM) row_sums(0, A, lda, m0 + r, M, K, rsum);
#else
    if (m0 % RM == 0) row_sums(0, A, lda, m0, M, K, rsum);
#endif
}

/* DOT_RM x DOT_RN dot products of rows of A and B, vectorised along K; rows past
 * M or N are clamped to the last valid row (computed twice, stored once).
 * has_bias as gemm_outer's. */
__kernel void gemm_dot(GEMM_ARGS, int has_bias)
{
    int n0 = get_global_id(0) * DOT_RN, m0 = get_global_id(1) * DOT_RM;
    if (n0 >= N || m0 >= M) return;
    GEMM_OFFSETS();
#if HAS_BIAS >= 0
    has_bias = HAS_BIAS;
#endif

    __global const float *ap[DOT_RM], *bp[DOT_RN];
#pragma unroll
    for (int i = 0; i < DOT_RM; i++) ap[i] = A + min(m0 + i, M - 1) * lda;
#pragma unroll
    for (int j = 0; j < DOT_RN; j++) bp[j] = B + min(n0 + j, N - 1) * ldb;

    vec_t acc[DOT_RM][DOT_RN];
#pragma unroll
    for (int i = 0; i < DOT_RM; i++)
#pragma unroll
        for (int j = 0; j < DOT_RN; j++) acc[i][j] = (vec_t)0.0f;

    int kv = K - K % VW;
    for (int k = 0; k < kv; k += VW) {
        vec_t a[DOT_RM], b[DOT_RN];
#pragma unroll
        for (int i = 0; i < DOT_RM; i++) a[i] = VLOAD(ap[i] + k);
#pragma unroll
        for (int j = 0; j < DOT_RN; j++) b[j] = VLOAD(bp[j] + k);
#pragma unroll
        for (int i = 0; i < DOT_RM; i++)
#pragma unroll
            for (int j = 0; j < DOT_RN; j++) acc[i][j] = MAD(a[i], b[j], acc[i][j]);
    }

    float s[DOT_RM * DOT_RN];
#pragma unroll
    for (int i = 0; i < DOT_RM; i++)
#pragma unroll
        for (int j = 0; j < DOT_RN; j++) s[i * DOT_RN + j] = VEC_SUM(VW, acc[i][j]);
    for (int k = kv; k < K; k++) {
#pragma unroll
        for (int i = 0; i < DOT_RM; i++)
#pragma unroll
            for (int j = 0; j < DOT_RN; j++) s[i * DOT_RN + j] = MAD(ap[i][k], bp[j][k], s[i * DOT_RN + j]);
    }

    store_rows(s, DOT_RN, min(DOT_RM, M - m0), min(DOT_RN, N - n0), m0, n0, alpha, beta, C, ldc, has_bias, bias,
               slope, Y, gslope, act_code, gact_code);
    if (rsum_on && n0 == 0) dot_row_sums(A, lda, m0, M, K, rsum);
}

#endif /* GEMM_WANT(GEMM_DOT) */

/* ---- gemm_epilogue: C = act(C + bias) * act'(Y) in place, after CLBlast -------
 * and the row sums of op(A) (rsum_on: one row per item of column 0). */
#if GEMM_WANT(GEMM_EPILOGUE)
__kernel void gemm_epilogue(int M, int N, __global float *C, int c_off, int ldc,
                            __global const float *bias, int bias_off, float slope,
                            __global const float *Y, int y_off, float gslope,
                            int K, __global const float *A, int a_off, int lda,
                            __global float *rsum, int rsum_off, int rsum_on)
{
    int n = get_global_id(0), m = get_global_id(1);
    if (n >= N || m >= M) return;
    if (rsum_on && n == 0) {
        const int ta = TRANS_A;
        __global const float *p = A + a_off + (ta ? m : m * lda);
        float s = 0.0f;
        for (int k = 0; k < K; k++) s += A_ROW_AT(p, k);
        rsum[rsum_off + m] = s;
    }
    __global float *cp = C + c_off + m * ldc + n;
    const int hb = HAS_BIAS;
    bias += bias_off;
    *cp = finish1(*cp, 1.0f, 0.0f, cp, hb, BIAS1(n), slope, Y + y_off + m * ldc + n, gslope, ACT, GRAD_ACT);
}
#endif /* GEMM_WANT(GEMM_EPILOGUE) */

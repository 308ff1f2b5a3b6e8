/* GEMM launches: aecl's kernels (cl/gemm.cl) specialised by -D options, or CLBlast
 * followed by the epilogue kernel. The path for AUTO comes from gemm_select.c. */
#include "ops/gemm.h"
#include "ops/common_kernels.h"
#include "rt/tuning.h"

#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aecl_gemm_desc aecl_gemm_desc_default(void)
{
    aecl_gemm_desc d;
    memset(&d, 0, sizeof d);
    d.alpha = 1.0f;
    return d;
}

aecl_gemm_desc aecl_gemm_desc_make(int M, int N, int K, int trans_a, int trans_b)
{
    aecl_gemm_desc d = aecl_gemm_desc_default();
    d.M = M;
    d.N = N;
    d.K = K;
    d.trans_a = trans_a;
    d.trans_b = trans_b;
    return d;
}

/* ---- checks ----------------------------------------------------------------- */

/* Row strides after defaulting 0 to the packed width. */
static void strides(const aecl_gemm_desc *d, int *lda, int *ldb, int *ldc)
{
    *lda = d->lda ? d->lda : (d->trans_a ? d->M : d->K);
    *ldb = d->ldb ? d->ldb : (d->trans_b ? d->K : d->N);
    *ldc = d->ldc ? d->ldc : d->N;
}

/* One operand of rows x cols with row stride ld at element offset off must lie
 * inside the buffer, and every index must fit the kernels' int arithmetic. */
static aecl_status check_operand(aecl_ctx *ctx, const char *name, cl_mem m, int off, int rows, int cols, int ld)
{
    AECL_RETURN_IF(!m, AECL_ERR_INVALID_ARG, ctx, "gemm: buffer %s is NULL", name);
    AECL_RETURN_IF(off < 0, AECL_ERR_INVALID_ARG, ctx, "gemm: offset of %s is negative (%d)", name, off);
    AECL_RETURN_IF(ld < cols, AECL_ERR_INVALID_ARG, ctx, "gemm: row stride of %s (%d) is below its width %d",
                   name, ld, cols);
    size_t span, end, bytes = 0;
    int ok = aecl_mul_size((size_t)(rows - 1), (size_t)ld, &span) && aecl_add_size(span, (size_t)cols, &span) &&
             aecl_add_size(span, (size_t)off, &end);
    AECL_RETURN_IF(!ok || end > INT_MAX, AECL_ERR_INVALID_ARG, ctx,
                   "gemm: %s spans more elements than an int can index", name);
    AECL_CL_TRY(ctx, clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof bytes, &bytes, NULL));
    AECL_RETURN_IF(end > bytes / sizeof(float), AECL_ERR_INVALID_ARG, ctx,
                   "gemm: %s needs elements [%d, %zu) but its buffer holds %zu floats", name, off, end,
                   bytes / sizeof(float));
    return AECL_OK;
}

static aecl_status check_desc(aecl_ctx *ctx, const aecl_gemm_desc *d)
{
    AECL_RETURN_IF(!ctx, AECL_ERR_INVALID_ARG, NULL, "gemm: context is NULL");
    AECL_RETURN_IF(!d, AECL_ERR_INVALID_ARG, ctx, "gemm: desc is NULL");
    AECL_RETURN_IF(d->M < 1 || d->N < 1 || d->K < 1, AECL_ERR_SHAPE, ctx, "gemm: bad sizes M=%d N=%d K=%d",
                   d->M, d->N, d->K);
    AECL_RETURN_IF((d->trans_a != 0 && d->trans_a != 1) || (d->trans_b != 0 && d->trans_b != 1),
                   AECL_ERR_INVALID_ARG, ctx, "gemm: trans_a/trans_b must be 0 or 1 (got %d, %d)", d->trans_a,
                   d->trans_b);
    AECL_RETURN_IF((int)d->act < AECL_ACT_NONE || (int)d->act > AECL_ACT_SOFTPLUS, AECL_ERR_INVALID_ARG, ctx,
                   "gemm: unknown activation %d", (int)d->act);
    AECL_RETURN_IF((int)d->grad_act < AECL_ACT_NONE || (int)d->grad_act > AECL_ACT_SOFTPLUS, AECL_ERR_INVALID_ARG,
                   ctx, "gemm: unknown gradient activation %d", (int)d->grad_act);
    AECL_RETURN_IF(d->path != AECL_GEMM_AUTO && d->path != AECL_GEMM_OWN && d->path != AECL_GEMM_CLBLAST,
                   AECL_ERR_INVALID_ARG, ctx, "gemm: unknown path %d", (int)d->path);
    AECL_RETURN_IF(d->lda < 0 || d->ldb < 0 || d->ldc < 0, AECL_ERR_INVALID_ARG, ctx, "gemm: negative row stride");
    return AECL_OK;
}

static aecl_status check_all(aecl_ctx *ctx, const aecl_gemm_desc *d, const aecl_gemm_bufs *io)
{
    AECL_TRY(check_desc(ctx, d));
    int lda, ldb, ldc;
    strides(d, &lda, &ldb, &ldc);
    AECL_TRY(check_operand(ctx, "A", io->A, io->a_off, d->trans_a ? d->K : d->M, d->trans_a ? d->M : d->K, lda));
    AECL_TRY(check_operand(ctx, "B", io->B, io->b_off, d->trans_b ? d->N : d->K, d->trans_b ? d->K : d->N, ldb));
    AECL_TRY(check_operand(ctx, "C", io->C, io->c_off, d->M, d->N, ldc));
    if (io->bias) AECL_TRY(check_operand(ctx, "bias", io->bias, io->bias_off, 1, d->N, d->N));
    AECL_RETURN_IF(d->grad_act != AECL_ACT_NONE && !io->Y, AECL_ERR_INVALID_ARG, ctx,
                   "gemm: grad_act needs the matrix Y (aecl_gemm_prepare_bufs)");
    if (d->grad_act != AECL_ACT_NONE) AECL_TRY(check_operand(ctx, "Y", io->Y, io->y_off, d->M, d->N, ldc));
    if (io->row_sums) AECL_TRY(check_operand(ctx, "row_sums", io->row_sums, io->row_sums_off, 1, d->M, d->M));
    return AECL_OK;
}

/* ---- aecl's kernels ----------------------------------------------------------- */

/* A kernel and its register block (these become -D options) and its grid. */
typedef struct gemm_cfg {
    const char *kernel;
    int vw, rm, rnv, rn, kmax;
    int block_m, block_n;    /* C elements per work-item (block_m: rows per item) */
    size_t global[2], local[2];
} gemm_cfg;

/* Longest K whose B panel (K x block_n floats) gemm_packed keeps in local memory:
 * 1024 (covers the layers we train) when the device has room for twice that. */
static int packed_kmax(const aecl_tuning *tu, int block_n)
{
    uint64_t room = (uint64_t)tu->local_mem / 2 / ((uint64_t)block_n * sizeof(float));
    return room >= 1024 ? 1024 : (int)(room / 16 * 16);
}

/* The table's gemm_kernel forces a kernel where it applies, for tests and
 * tuning: outer, packed (trans_b, K <= KMAX), dot (NT only), portable (the
 * non-CPU parameters on any device); auto: the normal choice.
 * CPUs: the table's vector width and 8 x 2 vector register blocks (16
 * accumulators), measured on PoCL with AVX-512; x W^T goes through the packed
 * panel while K fits. Other devices: a portable 4 x 4 block of float4. */
static gemm_cfg choose_cfg(aecl_ctx *ctx, const aecl_gemm_desc *d)
{
    const aecl_tuning *tu = aecl_ctx_tuning(ctx);
    int force = tu->gemm_kernel, cpu = tu->cpu && force != AECL_TUNE_GK_PORTABLE;
    gemm_cfg c = {"gemm_outer", cpu ? tu->gemm_vw : 4, 4, 1, 4, 0, 0, 0, {0, 0}, {0, 0}};
    if (cpu) {
        c.rm = 8;
        c.rnv = 2;
    }
    c.block_m = c.rm;
    c.block_n = c.vw * c.rnv;
    if (!d->trans_b) return c;
    int kmax = packed_kmax(tu, c.block_n), outer = force == AECL_TUNE_GK_OUTER;
    if (d->K <= kmax && ((cpu && !outer && force != AECL_TUNE_GK_DOT) || force == AECL_TUNE_GK_PACKED)) {
        c.kernel = "gemm_packed";
        c.kmax = kmax;
        return c;
    }
    if (!d->trans_a && !outer && (d->K >= 64 || force == AECL_TUNE_GK_DOT)) {
        /* x W^T with a long K: dot products along K beat transposing B tiles. */
        c.kernel = "gemm_dot";
        c.block_m = c.rm = 4;
        c.block_n = c.rn = 4;
        return c;
    }
    if (cpu && c.vw == 16) {
        /* the transposed B tile takes VW registers: one vector column, more rows */
        c.rm = c.block_m = 16;
        c.rnv = 1;
        c.block_n = c.vw;
    }
    return c;
}

static size_t pow2_at_most(size_t x)
{
    size_t p = 1;
    while (p * 2 <= x) p *= 2;
    return p;
}

static size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }

/* Work-items per group of gemm_outer / gemm_dot on CPUs: PoCL compiles a kernel
 * once per work-group size it is launched with (half a second to seconds of a
 * first run each), so there are two: CPU_GROUP where that leaves at least
 * `target` groups, else 1. */
#define CPU_GROUP 16

/* Grid of gemm_outer / gemm_dot. CPUs: work-groups of (1 x ly) register blocks
 * (PoCL runs a group's items as a loop; many tiny groups cost scheduling, too few
 * leave cores idle). GPUs: up to 16 x 16 items, at most 256 and at most the
 * kernel's limit. */
static void grid_blocks(aecl_ctx *ctx, cl_kernel k, const aecl_gemm_desc *d, gemm_cfg *c)
{
    size_t gx = div_up((size_t)d->N, (size_t)c->block_n), gy = div_up((size_t)d->M, (size_t)c->block_m);
    size_t wg = aecl_kernel_max_wg(ctx, k), lx = 1, ly = 1;
    if (aecl_ctx_tuning(ctx)->cpu) {
        size_t target = 4 * (size_t)aecl_ctx_tuning(ctx)->compute_units;
        if (gy >= CPU_GROUP && wg >= CPU_GROUP && div_up(gy, CPU_GROUP) * gx >= target) ly = CPU_GROUP;
    } else {
        if (wg > 256) wg = 256;
        lx = pow2_at_most(gx < 16 ? gx : 16);
        ly = pow2_at_most(gy < 16 ? gy : 16);
        while (lx * ly > wg) {
            if (ly >= lx) ly /= 2;
            else lx /= 2;
        }
    }
    c->local[0] = lx;
    c->local[1] = ly;
    c->global[0] = aecl_round_up(gx, lx);
    c->global[1] = aecl_round_up(gy, ly);
}

/* Grid of gemm_packed: per panel of block_n columns, items splitting the rows so
 * that there are about four items per compute unit in all, but each item at
 * least 8 register blocks of rows, so that packing its panel stays a small part
 * of its work (the VAE's 400 -> 20 heads, one panel: 8 items of 16 rows took
 * 0.040 ms, 2 of 64 rows 0.025). Sets block_m (= MS).
 * Each item is its own work-group and packs its own copy of the panel: groups of
 * two items sharing one saved a few percent where panels are few, but a kernel
 * with a barrier costs PoCL about twice the compile time at a group size above
 * one, and every further group size another compile. */
static void grid_packed(aecl_ctx *ctx, const aecl_gemm_desc *d, gemm_cfg *c)
{
    size_t cu = ctx->info.compute_units ? ctx->info.compute_units : 1;
    size_t gx = div_up((size_t)d->N, (size_t)c->block_n), rb = div_up((size_t)d->M, (size_t)c->rm);
    size_t per_panel = div_up(4 * cu, gx);
    if (per_panel > rb / 8) per_panel = rb / 8 ? rb / 8 : 1;
    c->block_m = (int)(div_up(rb, per_panel) * (size_t)c->rm);
    c->local[0] = c->local[1] = 1;
    c->global[0] = gx;
    c->global[1] = div_up((size_t)d->M, (size_t)c->block_m);
}

/* The epilogue's optional operands, bound from index i on: bias, slope, Y, grad
 * slope. The kernels never read an absent one, but each must be a buffer: C. */
static aecl_status set_epilogue_args(aecl_ctx *ctx, cl_kernel k, cl_uint i, const aecl_gemm_desc *d,
                                     const aecl_gemm_bufs *io)
{
    cl_mem bm = io->bias ? io->bias : io->C, ym = d->grad_act != AECL_ACT_NONE ? io->Y : io->C;
    int bo = io->bias ? io->bias_off : 0, yo = d->grad_act != AECL_ACT_NONE ? io->y_off : 0;
    AECL_ARG(ctx, k, i++, bm);
    AECL_ARG(ctx, k, i++, bo);
    AECL_ARG(ctx, k, i++, d->slope);
    AECL_ARG(ctx, k, i++, ym);
    AECL_ARG(ctx, k, i++, yo);
    AECL_ARG(ctx, k, i++, d->grad_slope);
    return AECL_OK;
}

/* GEMM_ARGS' arguments 20 and 21: the activation and the activation whose
 * derivative multiplies the result, chosen at run time (-DACT=-1
 * -DGRAD_ACT=-1), so that one program per kernel and transposes serves every
 * epilogue: each program costs PoCL a compile of its kernel on a first run.
 * Then the row sums (buffer, offset, on), at run time for the same reason. */
enum { ACT_CODE_ARG = 20, RSUM_ARG = 22 };

/* The row-sum operands from index i on; without row sums the buffer is C (never
 * written: rsum_on is 0). */
static aecl_status set_rsum_args(aecl_ctx *ctx, cl_kernel k, cl_uint i, const aecl_gemm_bufs *io)
{
    cl_mem m = io->row_sums ? io->row_sums : io->C;
    int off = io->row_sums ? io->row_sums_off : 0, on = io->row_sums != NULL;
    AECL_ARG(ctx, k, i++, m);
    AECL_ARG(ctx, k, i++, off);
    AECL_ARG(ctx, k, i++, on);
    return AECL_OK;
}

static aecl_status set_gemm_args(aecl_ctx *ctx, cl_kernel k, const aecl_gemm_desc *d, const aecl_gemm_bufs *io)
{
    int lda, ldb, ldc;
    strides(d, &lda, &ldb, &ldc);
    cl_mem A = io->A, B = io->B, C = io->C;
    int a_off = io->a_off, b_off = io->b_off, c_off = io->c_off;
    cl_uint i = 0;
    AECL_ARG(ctx, k, i++, d->M);
    AECL_ARG(ctx, k, i++, d->N);
    AECL_ARG(ctx, k, i++, d->K);
    AECL_ARG(ctx, k, i++, d->alpha);
    AECL_ARG(ctx, k, i++, d->beta);
    AECL_ARG(ctx, k, i++, A);
    AECL_ARG(ctx, k, i++, a_off);
    AECL_ARG(ctx, k, i++, lda);
    AECL_ARG(ctx, k, i++, B);
    AECL_ARG(ctx, k, i++, b_off);
    AECL_ARG(ctx, k, i++, ldb);
    AECL_ARG(ctx, k, i++, C);
    AECL_ARG(ctx, k, i++, c_off);
    AECL_ARG(ctx, k, i++, ldc);
    AECL_TRY(set_epilogue_args(ctx, k, i, d, io));
    int act = (int)d->act, gact = (int)d->grad_act; /* built with -DACT=-1 -DGRAD_ACT=-1 */
    AECL_ARG(ctx, k, ACT_CODE_ARG, act);
    AECL_ARG(ctx, k, ACT_CODE_ARG + 1, gact);
    return set_rsum_args(ctx, k, RSUM_ARG, io);
}

/* The arguments after GEMM_ARGS: gemm_packed's MS or gemm_outer's trans_a, then
 * has_bias for both (read in a program built with HAS_BIAS = -1); gemm_dot's
 * has_bias comes first (LAST_ARG). */
enum { LAST_ARG = RSUM_ARG + 3, HAS_BIAS_ARG = LAST_ARG + 1 };

/* cl/gemm.cl's GEMM_KERNELS bits */
enum { K_OUTER = 1, K_PACKED = 2, K_DOT = 4, K_EPILOGUE = 8 };

static int kernel_bit(const gemm_cfg *c)
{
    return !strcmp(c->kernel, "gemm_packed") ? K_PACKED : !strcmp(c->kernel, "gemm_dot") ? K_DOT : K_OUTER;
}

/* The -D options of cl/gemm.cl for the kernels in mask with configuration c's
 * register block (gemm_dot's dot's, where given), these transposes (-1:
 * gemm_outer's argument) and bias (-1: the kernels' argument). */
static void format_options(char *opts, size_t cap, const gemm_cfg *c, const gemm_cfg *dot, int mask, int trans_a,
                           int trans_b, int has_bias)
{
    char kmax[32] = "", dblock[48] = "";
    if (mask & K_PACKED) snprintf(kmax, sizeof kmax, " -DKMAX=%d", c->kmax);
    if (dot) snprintf(dblock, sizeof dblock, " -DDOT_RM=%d -DDOT_RN=%d", dot->rm, dot->rn);
    snprintf(opts, cap,
             "-DGEMM_KERNELS=%d -DTRANS_A=%d -DTRANS_B=%d -DACT=%d -DHAS_BIAS=%d -DGRAD_ACT=%d -DVW=%d -DRM=%d "
             "-DRNV=%d -DRN=%d%s%s",
             mask, trans_a, trans_b, -1, has_bias, -1, c->vw, c->rm, c->rnv, c->rn, kmax, dblock);
}

/* The configuration of a product with B transposed or not, with K (x W^T with
 * K = 1: gemm_packed where the device takes it, with its KMAX; with a long K:
 * gemm_dot where the device takes it). */
static gemm_cfg cfg_for(aecl_ctx *ctx, int trans_b, int K)
{
    aecl_gemm_desc d = aecl_gemm_desc_make(1, 1, K, 0, trans_b);
    return choose_cfg(ctx, &d);
}

static int same_block(const gemm_cfg *a, const gemm_cfg *b)
{
    return a->vw == b->vw && a->rm == b->rm && a->rnv == b->rnv && a->rn == b->rn;
}

/* gemm_outer's configuration; whether gemm_packed (f) shares its register
 * block and so the common program too; and whether gemm_dot (dot, its own
 * block: DOT_RM, DOT_RN) shares its vector width and joins it. */
static gemm_cfg common_cfg(aecl_ctx *ctx, gemm_cfg *f, int *with_packed, gemm_cfg *dot, int *with_dot)
{
    gemm_cfg o = cfg_for(ctx, 0, 1);
    *f = cfg_for(ctx, 1, 1);
    *with_packed = kernel_bit(f) == K_PACKED && same_block(f, &o);
    *dot = cfg_for(ctx, 1, 1 << 20);
    *with_dot = kernel_bit(dot) == K_DOT && dot->vw == o.vw;
    return o;
}

/* The common program's gemm kernels: gemm_outer with the transpose of A and
 * the bias at run time (a dense layer's backward products, and any product
 * with B not transposed), where the dense forward takes it (CPUs),
 * gemm_packed for op(A) = A with the bias at run time, and gemm_dot with the
 * bias at run time (x W^T with a long K; on GPUs every dense forward). A
 * dense net's GEMMs then need no program of their own: on PoCL each program
 * costs a first run a front end and every later run a preprocessing of its
 * headers (25-40 ms). */
void aecl_gemm_common_options(aecl_ctx *ctx, char *opts, size_t cap)
{
    gemm_cfg f, dot;
    int with_packed, with_dot;
    gemm_cfg o = common_cfg(ctx, &f, &with_packed, &dot, &with_dot);
    o.kmax = f.kmax;
    int mask = K_OUTER | (with_packed ? K_PACKED : 0) | (with_dot ? K_DOT : 0);
    format_options(opts, cap, &o, with_dot ? &dot : NULL, mask, -1, 0, -1);
}

/* Whether the common program holds the kernel of configuration c for d. */
static int in_common(aecl_ctx *ctx, const gemm_cfg *c, const aecl_gemm_desc *d)
{
    gemm_cfg f, dot;
    int with_packed, with_dot, bit = kernel_bit(c);
    gemm_cfg o = common_cfg(ctx, &f, &with_packed, &dot, &with_dot);
    if (bit == K_DOT) return with_dot && c->vw == dot.vw && c->rm == dot.rm && c->rn == dot.rn && !d->trans_a;
    if (!same_block(c, &o)) return 0;
    if (bit == K_OUTER) return !d->trans_b;
    return bit == K_PACKED && !d->trans_a && with_packed && c->kmax == f.kmax;
}

static aecl_status own_kernel(aecl_ctx *ctx, const gemm_cfg *c, const aecl_gemm_desc *d, int has_bias,
                              cl_kernel *k)
{
    char opts[256];
    if (in_common(ctx, c, d)) {
        aecl_common_options(ctx, opts, sizeof opts);
        return aecl_kernel_create(ctx, AECL_COMMON_FILE, opts, c->kernel, k);
    }
    int bit = kernel_bit(c);
    format_options(opts, sizeof opts, c, NULL, bit, bit == K_OUTER ? -1 : d->trans_a, d->trans_b, has_bias);
    return aecl_kernel_create(ctx, "gemm.cl", opts, c->kernel, k);
}

static aecl_status prepare_own(aecl_ctx *ctx, const aecl_gemm_desc *d, const aecl_gemm_bufs *io, aecl_launch *out)
{
    gemm_cfg c = choose_cfg(ctx, d);
    int bit = kernel_bit(&c), has_bias = io->bias != NULL;
    cl_kernel k;
    AECL_TRY(own_kernel(ctx, &c, d, has_bias, &k));
    if (bit == K_PACKED) grid_packed(ctx, d, &c);
    else grid_blocks(ctx, k, d, &c);
    aecl_status st = set_gemm_args(ctx, k, d, io);
    cl_int err = CL_SUCCESS;
    if (bit != K_DOT) err = clSetKernelArg(k, LAST_ARG, sizeof(int), bit == K_PACKED ? &c.block_m : &d->trans_a);
    if (err == CL_SUCCESS) err = clSetKernelArg(k, bit == K_DOT ? LAST_ARG : HAS_BIAS_ARG, sizeof has_bias, &has_bias);
    if (st == AECL_OK && err != CL_SUCCESS) st = aecl_fail_cl(ctx, err, "clSetKernelArg", __FILE__, __LINE__);
    if (st != AECL_OK) {
        clReleaseKernel(k);
        return st;
    }
    memset(out, 0, sizeof *out);
    out->label = "gemm";
    out->kernel = k;
    out->dim = 2;
    out->global[0] = c.global[0];
    out->global[1] = c.global[1];
    out->local[0] = c.local[0];
    out->local[1] = c.local[1];
    out->global[2] = out->local[2] = 1;
    out->flops = 2.0 * d->M * d->N * d->K;
    /* Direct calls (aecl_gemm, the path measurements) are not recorded in a plan:
     * the device-limit check a plan makes on every launch is made here too. */
    st = aecl_launch_check(ctx, out);
    if (st != AECL_OK) {
        aecl_launch_release(out);
        memset(out, 0, sizeof *out);
    }
    return st;
}

/* ---- CLBlast + epilogue ------------------------------------------------------- */

/* The operands of a CLBlast call; the epilogue kernel (if any) is the launch's
 * kernel, so aecl_launch_release frees it. */
typedef struct clblast_call {
    aecl_gemm_desc d;
    int lda, ldb, ldc;
    cl_mem A, B, C;
    int a_off, b_off, c_off;
} clblast_call;

static aecl_status clblast_fn(aecl_ctx *ctx, const aecl_launch *l, cl_event *ev)
{
    const clblast_call *c = l->data;
    const aecl_gemm_desc *d = &c->d;
    cl_command_queue q = ctx->queue;
    CLBlastStatusCode s = CLBlastSgemm(
        CLBlastLayoutRowMajor, d->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        d->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)d->M, (size_t)d->N, (size_t)d->K, d->alpha,
        c->A, (size_t)c->a_off, (size_t)c->lda, c->B, (size_t)c->b_off, (size_t)c->ldb, d->beta, c->C,
        (size_t)c->c_off, (size_t)c->ldc, &q, l->kernel ? NULL : ev);
    AECL_RETURN_IF(s != CLBlastSuccess, AECL_ERR_OPENCL, ctx,
                   "CLBlastSgemm failed with status %d (M=%d N=%d K=%d trans %d%d)", (int)s, d->M, d->N, d->K,
                   d->trans_a, d->trans_b);
    if (l->kernel)
        AECL_CL_TRY(ctx, clEnqueueNDRangeKernel(q, l->kernel, 2, NULL, l->global, l->local[0] ? l->local : NULL,
                                                0, NULL, ev));
    return AECL_OK;
}

static aecl_status make_epilogue(aecl_ctx *ctx, const aecl_gemm_desc *d, const aecl_gemm_bufs *io, int ldc,
                                 aecl_launch *out)
{
    char opts[128];
    snprintf(opts, sizeof opts, "-DGEMM_KERNELS=%d -DACT=%d -DHAS_BIAS=%d -DGRAD_ACT=%d -DTRANS_A=%d", K_EPILOGUE,
             (int)d->act, io->bias != NULL, (int)d->grad_act, d->trans_a);
    cl_kernel k;
    AECL_TRY(aecl_kernel_create(ctx, "gemm.cl", opts, "gemm_epilogue", &k));
    out->kernel = k; /* owned by the launch from here on */
    AECL_ARG(ctx, k, 0, d->M);
    AECL_ARG(ctx, k, 1, d->N);
    AECL_ARG(ctx, k, 2, io->C);
    AECL_ARG(ctx, k, 3, io->c_off);
    AECL_ARG(ctx, k, 4, ldc);
    AECL_TRY(set_epilogue_args(ctx, k, 5, d, io));
    int lda, ldb, unused;
    strides(d, &lda, &ldb, &unused);
    AECL_ARG(ctx, k, 11, d->K);
    AECL_ARG(ctx, k, 12, io->A);
    AECL_ARG(ctx, k, 13, io->a_off);
    AECL_ARG(ctx, k, 14, lda);
    AECL_TRY(set_rsum_args(ctx, k, 15, io));
    /* One item per element of C; rows of 16-64 items suit CPUs and GPUs alike. */
    size_t wg = aecl_kernel_max_wg(ctx, k);
    size_t lx = pow2_at_most(d->N < 64 ? (size_t)d->N : 64);
    while (lx > wg) lx /= 2;
    out->local[0] = lx;
    out->local[1] = 1;
    out->global[0] = aecl_round_up((size_t)d->N, lx);
    out->global[1] = (size_t)d->M;
    return AECL_OK;
}

/* CLBlast caches programs per context and keeps a reference to it: without a
 * clear, an adopted context would outlive the caller's release. The cache is
 * process-wide, so other contexts rebuild their CLBlast kernels on next use. */
static const char clblast_owner; /* its address keys the context slot */
static void clear_clblast(void *unused)
{
    (void)unused;
    CLBlastClearCache();
}

static aecl_status prepare_clblast(aecl_ctx *ctx, const aecl_gemm_desc *d, const aecl_gemm_bufs *io, aecl_launch *out)
{
    AECL_RETURN_IF(!aecl_ctx_slot_get(ctx, &clblast_owner) &&
                       !aecl_ctx_slot_set(ctx, &clblast_owner, (void *)&clblast_owner, clear_clblast),
                   AECL_ERR_HOST_MEMORY, ctx, "gemm: out of host memory");
    clblast_call *c = calloc(1, sizeof *c);
    AECL_RETURN_IF(!c, AECL_ERR_HOST_MEMORY, ctx, "gemm: out of host memory");
    c->d = *d;
    strides(d, &c->lda, &c->ldb, &c->ldc);
    c->A = io->A;
    c->B = io->B;
    c->C = io->C;
    c->a_off = io->a_off;
    c->b_off = io->b_off;
    c->c_off = io->c_off;
    memset(out, 0, sizeof *out);
    out->label = "gemm_clblast";
    out->fn = clblast_fn;
    out->data = c;
    out->dim = 2;
    out->flops = 2.0 * d->M * d->N * d->K;
    if (io->bias || d->act != AECL_ACT_NONE || d->grad_act != AECL_ACT_NONE || io->row_sums) {
        aecl_status st = make_epilogue(ctx, d, io, c->ldc, out);
        if (st != AECL_OK) {
            aecl_launch_release(out);
            memset(out, 0, sizeof *out);
            return st;
        }
    }
    return AECL_OK;
}

/* ---- entry points -------------------------------------------------------------- */

/* On a CPU, measuring a shape builds CLBlast's programs (seconds of a first run)
 * only to find aecl's kernel faster: measured on PoCL with AVX-512, CLBlast won
 * no product of 32 rows or more, nor any A^T B (the weight gradients), by more
 * than timing noise. It did win some forward products of small batches (16 or
 * 20 rows, up to 2.7x), so those are still measured. */
static int own_without_measuring(aecl_ctx *ctx, const aecl_gemm_desc *d)
{
    return aecl_ctx_tuning(ctx)->cpu && (d->M >= 32 || d->trans_a);
}

/* The path for AUTO: the choice for this shape with an epilogue. A gradient
 * epilogue costs about what a bias does on either path (one more read per element,
 * or one more in-place kernel after CLBlast), so it shares the bias's choice. */
static aecl_status resolve_path(aecl_ctx *ctx, const aecl_gemm_desc *d, const aecl_gemm_bufs *io, aecl_gemm_path *path)
{
    *path = d->path;
    /* The table's gemm=own|clblast decides for AUTO: benchmarks compare whole
     * models on either path (AECL_TUNE=gemm=clblast aecl bench). */
    int forced_path = aecl_ctx_tuning(ctx)->gemm_path;
    if (*path == AECL_GEMM_AUTO && forced_path == AECL_TUNE_GEMM_OWN) *path = AECL_GEMM_OWN;
    if (*path == AECL_GEMM_AUTO && forced_path == AECL_TUNE_GEMM_CLBLAST) *path = AECL_GEMM_CLBLAST;
    if (*path != AECL_GEMM_AUTO) return AECL_OK;
    if (own_without_measuring(ctx, d)) {
        *path = AECL_GEMM_OWN;
        return AECL_OK;
    }
    aecl_gemm_desc plain = *d;
    plain.grad_act = AECL_ACT_NONE;
    return aecl_gemm_select(ctx, &plain, io->bias != NULL || d->grad_act != AECL_ACT_NONE, path);
}

static aecl_status prepare_io(aecl_ctx *ctx, const aecl_gemm_desc *d, const aecl_gemm_bufs *io, aecl_launch *out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "gemm: output launch is NULL");
    memset(out, 0, sizeof *out);
    AECL_TRY(check_all(ctx, d, io));
    aecl_gemm_path path;
    AECL_TRY(resolve_path(ctx, d, io, &path));
    return path == AECL_GEMM_CLBLAST ? prepare_clblast(ctx, d, io, out) : prepare_own(ctx, d, io, out);
}

aecl_status aecl_gemm_prepare(aecl_ctx *ctx, const aecl_gemm_desc *d, cl_mem A, int a_off, cl_mem B, int b_off,
                              cl_mem C, int c_off, cl_mem bias, int bias_off, aecl_launch *out)
{
    aecl_gemm_bufs io = {A, B, C, bias, NULL, NULL, a_off, b_off, c_off, bias_off, 0, 0};
    return prepare_io(ctx, d, &io, out);
}

aecl_status aecl_gemm_prepare_bufs(aecl_ctx *ctx, const aecl_gemm_desc *d, const aecl_gemm_bufs *b, aecl_launch *out)
{
    if (!b) {
        if (out) memset(out, 0, sizeof *out);
        return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "gemm: buffers are NULL");
    }
    return prepare_io(ctx, d, b, out);
}

aecl_status aecl_gemm(aecl_ctx *ctx, const aecl_gemm_desc *d, cl_mem A, int a_off, cl_mem B, int b_off, cl_mem C,
                      int c_off, cl_mem bias, int bias_off)
{
    aecl_launch l;
    AECL_TRY(aecl_gemm_prepare(ctx, d, A, a_off, B, b_off, C, c_off, bias, bias_off, &l));
    aecl_status st = aecl_launch_enqueue(ctx, &l, NULL);
    aecl_launch_release(&l);
    return st;
}

/* GEMM launches: aecl's kernels (cl/gemm.cl) specialised by -D options, or CLBlast
 * followed by the epilogue kernel. */
#include "ops/gemm.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>

aecl_gemm_desc aecl_gemm_desc_default(void)
{
    aecl_gemm_desc d = {0};
    d.alpha = 1.0f;
    return d;
}

/* Register blocks per kernel: the host's grid must match the kernel's macros. */
enum { VW = 4, RNV = 1, RM = 4, RN = 4 };

static const char *kernel_name(const aecl_gemm_desc *d)
{
    if (!d->trans_b) return "gemm_outer";
    if (!d->trans_a) return "gemm_dot";
    return "gemm_simple";
}

static void grid(const aecl_gemm_desc *d, size_t global[2])
{
    size_t nb = !d->trans_b ? VW * RNV : !d->trans_a ? RN : 1, mb = d->trans_a && d->trans_b ? 1 : RM;
    global[0] = ((size_t)d->N + nb - 1) / nb;
    global[1] = ((size_t)d->M + mb - 1) / mb;
}

static aecl_status set_args(aecl_ctx *ctx, cl_kernel k, const aecl_gemm_desc *d, cl_mem A, int a_off, cl_mem B,
                            int b_off, cl_mem C, int c_off, cl_mem bias, int bias_off)
{
    int lda = d->trans_a ? d->M : d->K, ldb = d->trans_b ? d->K : d->N, ldc = d->N;
    cl_mem bm = bias ? bias : C;
    cl_int e = 0;
    cl_uint i = 0;
#define ARG(v) e |= clSetKernelArg(k, i++, sizeof(v), &(v))
    ARG(d->M); ARG(d->N); ARG(d->K); ARG(d->alpha); ARG(d->beta);
    ARG(A); ARG(a_off); ARG(lda); ARG(B); ARG(b_off); ARG(ldb); ARG(C); ARG(c_off); ARG(ldc);
    ARG(bm); ARG(bias_off); ARG(d->slope);
#undef ARG
    AECL_RETURN_IF(e != CL_SUCCESS, AECL_ERR_OPENCL, ctx, "gemm: clSetKernelArg failed");
    return AECL_OK;
}

static aecl_status prepare_own(aecl_ctx *ctx, const aecl_gemm_desc *d, cl_mem A, int a_off, cl_mem B, int b_off,
                               cl_mem C, int c_off, cl_mem bias, int bias_off, aecl_launch *out)
{
    char opts[160];
    snprintf(opts, sizeof opts, "-DTRANS_A=%d -DTRANS_B=%d -DACT=%d -DHAS_BIAS=%d -DVW=%d -DRNV=%d -DRM=%d -DRN=%d",
             d->trans_a, d->trans_b, (int)d->act, bias != NULL, VW, RNV, RM, RN);
    cl_kernel k;
    AECL_TRY(aecl_kernel_create(ctx, "gemm.cl", opts, kernel_name(d), &k));
    aecl_status st = set_args(ctx, k, d, A, a_off, B, b_off, C, c_off, bias, bias_off);
    if (st != AECL_OK) { clReleaseKernel(k); return st; }
    *out = (aecl_launch){.label = "gemm", .kernel = k, .dim = 2, .flops = 2.0 * d->M * d->N * d->K};
    grid(d, out->global);
    return AECL_OK;
}

/* CLBlast path: the operands and an epilogue kernel, enqueued by a host fn. */
typedef struct clblast_call {
    aecl_gemm_desc d;
    cl_mem A, B, C;
    int a_off, b_off, c_off;
    cl_kernel epilogue;       /* NULL when there is no bias and no activation */
    size_t eg[2];
} clblast_call;

static aecl_status clblast_fn(aecl_ctx *ctx, const aecl_launch *l, cl_event *ev)
{
    const clblast_call *c = l->data;
    const aecl_gemm_desc *d = &c->d;
    cl_command_queue q = aecl_ctx_cl_queue(ctx);
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, d->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                       d->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)d->M,
                                       (size_t)d->N, (size_t)d->K, d->alpha, c->A, (size_t)c->a_off,
                                       (size_t)(d->trans_a ? d->M : d->K), c->B, (size_t)c->b_off,
                                       (size_t)(d->trans_b ? d->K : d->N), d->beta, c->C, (size_t)c->c_off,
                                       (size_t)d->N, &q, c->epilogue ? NULL : ev);
    AECL_RETURN_IF(s != CLBlastSuccess, AECL_ERR_OPENCL, ctx, "CLBlastSgemm failed with status %d", (int)s);
    if (c->epilogue)
        AECL_CL_TRY(ctx, clEnqueueNDRangeKernel(q, c->epilogue, 2, NULL, c->eg, NULL, 0, NULL, ev));
    return AECL_OK;
}

static aecl_status prepare_clblast(aecl_ctx *ctx, const aecl_gemm_desc *d, cl_mem A, int a_off, cl_mem B, int b_off,
                                   cl_mem C, int c_off, cl_mem bias, int bias_off, aecl_launch *out)
{
    clblast_call *c = calloc(1, sizeof *c);
    AECL_RETURN_IF(!c, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    *c = (clblast_call){*d, A, B, C, a_off, b_off, c_off, NULL, {(size_t)d->N, (size_t)d->M}};
    if (bias || d->act != AECL_ACT_NONE) {
        char opts[96];
        snprintf(opts, sizeof opts, "-DACT=%d -DHAS_BIAS=%d", (int)d->act, bias != NULL);
        aecl_status st = aecl_kernel_create(ctx, "gemm.cl", opts, "gemm_epilogue", &c->epilogue);
        cl_mem bm = bias ? bias : C;
        cl_int e = CL_SUCCESS;
        if (st == AECL_OK) {
            e |= clSetKernelArg(c->epilogue, 0, sizeof d->M, &d->M);
            e |= clSetKernelArg(c->epilogue, 1, sizeof d->N, &d->N);
            e |= clSetKernelArg(c->epilogue, 2, sizeof C, &C);
            e |= clSetKernelArg(c->epilogue, 3, sizeof c_off, &c_off);
            e |= clSetKernelArg(c->epilogue, 4, sizeof d->N, &d->N);
            e |= clSetKernelArg(c->epilogue, 5, sizeof bm, &bm);
            e |= clSetKernelArg(c->epilogue, 6, sizeof bias_off, &bias_off);
            e |= clSetKernelArg(c->epilogue, 7, sizeof d->slope, &d->slope);
            if (e != CL_SUCCESS) st = aecl_fail(ctx, AECL_ERR_OPENCL, "gemm epilogue: clSetKernelArg failed");
        }
        if (st != AECL_OK) {
            if (c->epilogue) clReleaseKernel(c->epilogue);
            free(c);
            return st;
        }
    }
    /* The epilogue kernel is owned through the launch's kernel slot (released with it). */
    *out = (aecl_launch){.label = "gemm_clblast", .kernel = c->epilogue, .fn = clblast_fn, .data = c,
                         .flops = 2.0 * d->M * d->N * d->K};
    return AECL_OK;
}

aecl_status aecl_gemm_prepare(aecl_ctx *ctx, const aecl_gemm_desc *d, cl_mem A, int a_off, cl_mem B, int b_off,
                              cl_mem C, int c_off, cl_mem bias, int bias_off, aecl_launch *out)
{
    AECL_RETURN_IF(d->M < 1 || d->N < 1 || d->K < 1, AECL_ERR_SHAPE, ctx, "gemm: bad sizes M=%d N=%d K=%d", d->M, d->N,
                   d->K);
    if (d->path == AECL_GEMM_CLBLAST)
        return prepare_clblast(ctx, d, A, a_off, B, b_off, C, c_off, bias, bias_off, out);
    return prepare_own(ctx, d, A, a_off, B, b_off, C, c_off, bias, bias_off, out);
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

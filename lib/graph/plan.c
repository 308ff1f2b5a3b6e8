/* Recording a plan: the calls op emitters make (kernels the plan owns, arguments
 * bound once, launches checked against the device), and releasing a plan. The
 * compiler (lib/compile/compile.c) drives them. */
#include "base/buf.h"
#include "graph/plan_internal.h"
#include "graph/op.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

aecl_ctx *aecl_plan_ctx(const aecl_plan *p) { return p->ctx; }
const aecl_graph *aecl_plan_graph(const aecl_plan *p) { return p->g; }

void aecl_plan_tensor_mem(const aecl_plan *p, const aecl_tensor *t, cl_mem *mem, int *off)
{
    const aecl_tensor *b = aecl_storage_of(t);
    *mem = b->storage == AECL_STORE_PERSIST ? p->persist : b->storage == AECL_STORE_WORK ? p->work : p->dummy;
    *off = b->storage == AECL_STORE_NONE ? 0 : (int)b->offset;
}

/* Records a kernel the plan owns until a launch claims it. */
static aecl_status keep_kernel(aecl_plan *p, cl_kernel k)
{
    if (!aecl_grow((void **)&p->kernels, &p->cap_kernels, (size_t)p->n_kernels + 1, sizeof(cl_kernel), 64)) {
        clReleaseKernel(k);
        return aecl_fail(p->ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    p->kernels[p->n_kernels++] = k;
    return AECL_OK;
}

/* Notes (file, options) in the gathering pass's list, once. */
static aecl_status note_variant(aecl_plan *p, const char *file, const char *options)
{
    aecl_variant_list *v = p->gather;
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->files[i], file) && !strcmp(v->options[i], options)) return AECL_GATHERED;
    char *f = strdup(file), *o = strdup(options);
    if (!f || !o || !aecl_grow((void **)&v->files, &v->cap_files, (size_t)v->n + 1, sizeof(char *), 16) ||
        !aecl_grow((void **)&v->options, &v->cap_options, (size_t)v->n + 1, sizeof(char *), 16)) {
        free(f);
        free(o);
        return aecl_fail(p->ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    v->files[v->n] = f;
    v->options[v->n++] = o;
    return AECL_GATHERED;
}

aecl_status aecl_plan_kernel(aecl_plan *p, const char *file, const char *options, const char *name, cl_kernel *out)
{
    if (p->gather) return note_variant(p, file, options ? options : "");
    AECL_TRY(aecl_kernel_create(p->ctx, file, options, name, out));
    return keep_kernel(p, *out);
}

aecl_status aecl_plan_kernel_text(aecl_plan *p, const char *what, const char *src, const char *name, cl_kernel *out)
{
    AECL_TRY(aecl_kernel_create_text(p->ctx, what, src, name, out));
    return keep_kernel(p, *out);
}

static aecl_status add_dyn(aecl_plan *p, cl_kernel k, cl_uint idx, char kind)
{
    AECL_RETURN_IF(!aecl_grow((void **)&p->dyn, &p->cap_dyn, (size_t)p->n_dyn + 1, sizeof *p->dyn, 64), AECL_ERR_HOST_MEMORY,
                   p->ctx, "out of host memory");
    p->dyn[p->n_dyn++] = (aecl_dyn_arg){k, idx, kind};
    return AECL_OK;
}

aecl_status aecl_plan_args(aecl_plan *p, cl_kernel k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cl_uint i = 0;
    cl_int err = CL_SUCCESS;
    aecl_status st = AECL_OK;
    for (const char *c = fmt; *c && err == CL_SUCCESS && st == AECL_OK; c++) {
        switch (*c) {
        case 'T': case '_': {
            const aecl_tensor *t = va_arg(ap, const aecl_tensor *);
            cl_mem m = p->dummy;
            int off = 0;
            if (t) aecl_plan_tensor_mem(p, t, &m, &off);
            err = clSetKernelArg(k, i, sizeof m, &m);
            if (!err) err = clSetKernelArg(k, i + 1, sizeof off, &off);
            i += 2;
            break;
        }
        case 'i': { int v = va_arg(ap, int); err = clSetKernelArg(k, i++, sizeof v, &v); break; }
        case 'u': { cl_uint v = va_arg(ap, unsigned); err = clSetKernelArg(k, i++, sizeof v, &v); break; }
        case 'f': { float v = (float)va_arg(ap, double); err = clSetKernelArg(k, i++, sizeof v, &v); break; }
        case 'R': { cl_uint v = p->opt.seed; err = clSetKernelArg(k, i++, sizeof v, &v); break; }
        case 'S': case 'V': case 'O': {
            cl_uint v = *c == 'S' ? (cl_uint)p->step : *c == 'V' ? (cl_uint)p->valid_rows : p->row_offset;
            err = clSetKernelArg(k, i, sizeof v, &v);
            if (!err) st = add_dyn(p, k, i, *c);
            i++;
            break;
        }
        default:
            st = aecl_fail(p->ctx, AECL_ERR_INVALID_ARG, "aecl_plan_args: bad format character '%c'", *c);
        }
    }
    va_end(ap);
    /* The format must bind every argument the kernel declares, no fewer (an
     * unset argument fails only at enqueue, on some drivers not at all) and no
     * more (clSetKernelArg past the end fails with a bare CL_INVALID_ARG_INDEX). */
    cl_uint declared = 0;
    if (err == CL_SUCCESS && st == AECL_OK &&
        clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof declared, &declared, NULL) == CL_SUCCESS && declared != i) {
        char name[128] = "?";
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        return aecl_fail(p->ctx, AECL_ERR_INVALID_ARG, "aecl_plan_args: kernel %s declares %u arguments, format \"%s\" binds %u",
                         name, declared, fmt, i);
    }
    if (err != CL_SUCCESS) {
        char name[128] = "?";
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        aecl_fail_cl(p->ctx, err, "clSetKernelArg", __FILE__, __LINE__);
        aecl_error_append(p->ctx, " (kernel %s, argument %u)", name, i);
        return AECL_ERR_OPENCL;
    }
    return st;
}

/* The launch takes the kernel from the plan's pending list. */
static void claim_kernel(aecl_plan *p, cl_kernel k)
{
    for (int i = 0; i < p->n_kernels; i++)
        if (p->kernels[i] == k) { p->kernels[i] = p->kernels[--p->n_kernels]; return; }
    clRetainKernel(k); /* not ours yet: keep our own reference */
}

aecl_status aecl_plan_push(aecl_plan *p, aecl_launch *l)
{
    aecl_status st = aecl_launch_check(p->ctx, l);
    if (st != AECL_OK) {
        aecl_launch_release(l);
        return st;
    }
    if (!aecl_grow((void **)&p->launches, &p->cap_launches, (size_t)p->n_launches + 1, sizeof *l, 64)) {
        aecl_launch_release(l);
        return aecl_fail(p->ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    p->launches[p->n_launches++] = *l;
    memset(l, 0, sizeof *l);
    return AECL_OK;
}

aecl_status aecl_plan_launch(aecl_plan *p, cl_kernel k, cl_uint dim, const size_t *global, const size_t *local,
                             const char *label, double flops)
{
    aecl_launch l = {.label = label, .kernel = k, .dim = dim, .flops = flops};
    for (cl_uint d = 0; d < dim; d++) {
        l.global[d] = global[d];
        l.local[d] = local ? local[d] : 0;
    }
    claim_kernel(p, k);
    return aecl_plan_push(p, &l);
}

aecl_status aecl_plan_launch_1d(aecl_plan *p, cl_kernel k, size_t n, const char *label)
{
    size_t g, l;
    aecl_range_1d(p->ctx, k, n, &g, &l);
    return aecl_plan_launch(p, k, 1, &g, &l, label, 0);
}

void aecl_plan_free(aecl_plan *p)
{
    if (!p) return;
    if (p->ctx && p->ctx->queue) clFinish(p->ctx->queue);
    for (int i = 0; i < p->n_launches; i++) aecl_launch_release(&p->launches[i]);
    for (int i = 0; i < p->n_kernels; i++) clReleaseKernel(p->kernels[i]);
    free(p->launches);
    free(p->kernels);
    free(p->dyn);
    free(p->grads);
    free(p->report_only);
    free(p->first_kind);
    if (p->persist) clReleaseMemObject(p->persist);
    if (p->work) clReleaseMemObject(p->work);
    if (p->dummy) clReleaseMemObject(p->dummy);
    free(p);
}

const aecl_plan_stats *aecl_plan_get_stats(const aecl_plan *p) { return &p->stats; }
const char *aecl_plan_launch_label(const aecl_plan *p, int i) { return p->launches[i].label; }
double aecl_plan_launch_flops(const aecl_plan *p, int i) { return p->launches[i].flops; }

int aecl_plan_grads(const aecl_plan *p, const aecl_plan_grad **grads)
{
    *grads = p->grads;
    return p->n_grads;
}

void aecl_plan_grad_region(const aecl_plan *p, cl_mem *mem, size_t *off, size_t *elems)
{
    *mem = p->work;
    *off = p->grad_off;
    *elems = p->grad_elems;
}

int aecl_plan_update_start(const aecl_plan *p) { return p->update_start; }

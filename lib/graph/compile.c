/* Compiling a graph: plan memory, create the two device buffers, and let every
 * op emit its launches with arguments bound once. */
#include "graph/fuse_gemm.h"
#include "graph/plan_internal.h"
#include "ops/op.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

aecl_ctx *aecl_plan_ctx(const aecl_plan *p) { return p->ctx; }

void aecl_plan_tensor_mem(const aecl_plan *p, const aecl_tensor *t, cl_mem *mem, int *off)
{
    const aecl_tensor *b = t->view_of ? t->view_of : t;
    *mem = b->storage == AECL_STORE_PERSIST ? p->persist : b->storage == AECL_STORE_WORK ? p->work : p->dummy;
    *off = b->storage == AECL_STORE_NONE ? 0 : (int)b->offset;
}

static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap) return 1;
    int c = *cap ? *cap * 2 : 64;
    while (c < need) c *= 2;
    void *n = realloc(*arr, (size_t)c * elem);
    if (!n) return 0;
    *arr = n;
    *cap = c;
    return 1;
}

/* Records a kernel the plan owns until a launch claims it. */
static aecl_status keep_kernel(aecl_plan *p, cl_kernel k)
{
    if (!grow((void **)&p->kernels, &p->cap_kernels, p->n_kernels + 1, sizeof(cl_kernel))) {
        clReleaseKernel(k);
        return aecl_fail(p->ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    p->kernels[p->n_kernels++] = k;
    return AECL_OK;
}

aecl_status aecl_plan_kernel(aecl_plan *p, const char *file, const char *options, const char *name, cl_kernel *out)
{
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
    AECL_RETURN_IF(!grow((void **)&p->dyn, &p->cap_dyn, p->n_dyn + 1, sizeof *p->dyn), AECL_ERR_HOST_MEMORY,
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
        case 'S': case 'V': {
            cl_uint v = *c == 'S' ? (cl_uint)p->step : (cl_uint)p->valid_rows;
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
    if (!grow((void **)&p->launches, &p->cap_launches, p->n_launches + 1, sizeof *l)) {
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

/* Poison: a dead tensor's region is filled with NaN, so a plan that let two live
 * tensors share memory shows up as NaN or wrong numbers downstream. */
typedef struct poison_data { size_t off, len; } poison_data;

static aecl_status poison_fn(aecl_ctx *ctx, const aecl_launch *l, cl_event *ev)
{
    const poison_data *d = l->data;
    const aecl_plan *p = *(aecl_plan *const *)(d + 1);
    float nan = NAN;
    AECL_CL_TRY(ctx, clEnqueueFillBuffer(ctx->queue, p->work, &nan, sizeof nan, d->off * sizeof(float),
                                         d->len * sizeof(float), 0, NULL, ev));
    return AECL_OK;
}

static aecl_status push_poison(aecl_plan *p, int node)
{
    int cap = AECL_MAX_INPUTS + p->g->nodes[node]->n_extra;
    const aecl_tensor **dying = malloc((size_t)cap * sizeof *dying);
    AECL_RETURN_IF(!dying, AECL_ERR_HOST_MEMORY, p->ctx, "out of host memory");
    int n = aecl_memplan_dying(p, node, dying, cap);
    aecl_status st = AECL_OK;
    for (int i = 0; i < n && st == AECL_OK; i++) {
        void *data = malloc(sizeof(poison_data) + sizeof(aecl_plan *));
        if (!data) { st = aecl_fail(p->ctx, AECL_ERR_HOST_MEMORY, "out of host memory"); break; }
        *(poison_data *)data = (poison_data){dying[i]->offset, aecl_round_up(dying[i]->size, AECL_ALIGN_ELEMS)};
        *(aecl_plan **)((poison_data *)data + 1) = p;
        aecl_launch l = {.label = "poison", .fn = poison_fn, .data = data};
        st = aecl_plan_push(p, &l);
    }
    free(dying);
    return st;
}

static aecl_status create_buffers(aecl_plan *p)
{
    cl_int err;
    size_t bytes[3] = {p->persist_elems * sizeof(float), p->work_elems * sizeof(float), 16};
    cl_mem *mems[3] = {&p->persist, &p->work, &p->dummy};
    for (int i = 0; i < 3; i++) {
        AECL_RETURN_IF(bytes[i] > p->ctx->info.max_alloc_bytes, AECL_ERR_DEVICE_MEMORY, p->ctx,
                       "the plan needs a buffer of %zu bytes; %s allows at most %llu per allocation", bytes[i],
                       p->ctx->info.name, (unsigned long long)p->ctx->info.max_alloc_bytes);
        *mems[i] = clCreateBuffer(p->ctx->context, CL_MEM_READ_WRITE, bytes[i], NULL, &err);
        if (err != CL_SUCCESS) return aecl_fail_cl(p->ctx, err, "clCreateBuffer", __FILE__, __LINE__);
        /* Zeroed: optimizer state starts at 0, and touching forces allocation now.
         * With poison the work arena starts as NaN instead: a kernel that reads
         * work memory nothing wrote (which a GPU hands out as garbage) shows. */
        float fill = i == 1 && p->opt.poison ? NAN : 0.0f;
        AECL_CL_TRY(p->ctx, clEnqueueFillBuffer(p->ctx->queue, *mems[i], &fill, sizeof fill, 0, bytes[i], 0, NULL, NULL));
    }
    AECL_CL_TRY(p->ctx, clFinish(p->ctx->queue));
    return AECL_OK;
}

static aecl_status emit_all(aecl_plan *p)
{
    for (int i = 0; i < p->g->n_nodes; i++) {
        aecl_tensor *t = p->g->nodes[i];
        if (t->op && t->op->emit) {
            aecl_status st = t->op->emit(p, t);
            if (st != AECL_OK) {
                aecl_error_append(p->ctx, " (compiling node %d '%s', op %s)", i, t->name, t->op->name);
                return st;
            }
        }
        if (p->opt.poison) AECL_TRY(push_poison(p, i));
    }
    return AECL_OK;
}

aecl_status aecl_plan_compile(aecl_graph *g, const aecl_plan_options *opt, aecl_plan **out)
{
    if (!g || !out) return aecl_fail(g ? g->ctx : NULL, AECL_ERR_INVALID_ARG, "aecl_plan_compile: NULL argument");
    *out = NULL;
    if (g->status != AECL_OK) return g->status;
    aecl_plan *p = calloc(1, sizeof *p);
    AECL_RETURN_IF(!p, AECL_ERR_HOST_MEMORY, g->ctx, "out of host memory");
    p->ctx = g->ctx;
    p->g = g;
    if (opt) p->opt = *opt;
    p->valid_rows = 0x7fffffff;
    int n_gemm = 0;
    aecl_status st = p->opt.no_fuse ? AECL_OK : aecl_fuse_pointwise(g, &p->stats.n_fused);
    if (st == AECL_OK) st = aecl_fuse_gemm_act_grad(g, &p->opt, &n_gemm);
    p->stats.n_fused += n_gemm;
    if (st == AECL_OK) st = aecl_memplan(p);
    if (st == AECL_OK) st = create_buffers(p);
    if (st == AECL_OK) st = emit_all(p);
    if (st != AECL_OK) { aecl_plan_free(p); return st; }
    for (int i = 0; i < p->n_launches; i++) p->stats.n_launches += p->launches[i].fn != poison_fn;
    *out = p;
    return AECL_OK;
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
    if (p->persist) clReleaseMemObject(p->persist);
    if (p->work) clReleaseMemObject(p->work);
    if (p->dummy) clReleaseMemObject(p->dummy);
    free(p);
}

const aecl_plan_stats *aecl_plan_get_stats(const aecl_plan *p) { return &p->stats; }
const char *aecl_plan_launch_label(const aecl_plan *p, int i) { return p->launches[i].label; }
double aecl_plan_launch_flops(const aecl_plan *p, int i) { return p->launches[i].flops; }

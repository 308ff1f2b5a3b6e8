/* Compiling a graph into a plan: fusion passes rewrite the graph, the memory plan
 * places every tensor, the two device buffers are created, and every op emits
 * its launches with arguments bound once (lib/graph/plan.c records them). */
#include "compile/compile.h"
#include "compile/passes.h"
#include "graph/op.h"
#include "graph/plan_internal.h"
#include "rt/ctx.h"
#include "rt/error.h"
#include "rt/program.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
        *mems[i] = aecl_mem_create(p->ctx, bytes[i], &err);
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

/* After node t's launches: the gradients it completes are ready, and the
 * update phase starts after the last of them. */
static void mark_ready(aecl_plan *p, const aecl_tensor *t)
{
    for (int k = 0; k < p->n_grads; k++) {
        const aecl_tensor *gr = p->grads[k].param->grad;
        if (aecl_storage_of(gr) != t) continue;
        p->grads[k].ready = p->n_launches;
        if (p->update_start < p->n_launches) p->update_start = p->n_launches;
    }
}

/* Node i's launches, then its gradients' readiness and (debug) its poison fills. */
static aecl_status emit_node(aecl_plan *p, int i)
{
    aecl_tensor *t = p->g->nodes[i];
    if (t->op && t->op->emit) {
        aecl_status st = t->op->emit(p, t);
        if (st != AECL_OK) {
            aecl_error_append(p->ctx, " (compiling node %d '%s', op %s)", i, t->name, t->op->name);
            return st;
        }
    }
    mark_ready(p, t);
    if (p->opt.poison) AECL_TRY(push_poison(p, i));
    return AECL_OK;
}

/* What a step needs of each node: NODE_ALWAYS for the side-effect nodes (the
 * optimizer), the outputs not marked AECL_T_REPORT and everything they read
 * (inputs, extra operands, the storage a view aliases); NODE_REPORT for what
 * feeds only the reported outputs (a training step's loss and loss terms);
 * NODE_DEAD for what feeds no output (a reconstruction net's VAE logvar head),
 * which is not compiled at all. Nodes come in execution order, so one backward
 * sweep finds them. NULL when out of memory. */
enum { NODE_DEAD = 0, NODE_REPORT = 1, NODE_ALWAYS = 2 };

static void need_at_least(unsigned char *need, int id, unsigned char level)
{
    if (need[id] < level) need[id] = level;
}

static unsigned char *needed_nodes(const aecl_graph *g)
{
    unsigned char *need = calloc((size_t)g->n_nodes + 1, 1);
    if (!need) return NULL;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const aecl_tensor *t = g->nodes[i];
        if (t->flags & AECL_T_SIDE) need[i] = NODE_ALWAYS;
        if (t->flags & AECL_T_OUTPUT) need_at_least(need, i, t->flags & AECL_T_REPORT ? NODE_REPORT : NODE_ALWAYS);
        if (need[i] == NODE_DEAD) continue;
        for (int k = 0; k < t->n_in; k++)
            if (t->in[k]) need_at_least(need, t->in[k]->id, need[i]);
        for (int k = 0; k < t->n_extra; k++) need_at_least(need, t->extra[k]->id, need[i]);
        if (t->view_of) need_at_least(need, t->view_of->id, need[i]);
    }
    return need;
}

/* Marks launches [from, n_launches) as needed or report-only. */
static aecl_status mark_launches(aecl_plan *p, int from, int report_only)
{
    if ((size_t)p->n_launches > p->cap_report) {
        size_t cap = p->cap_launches > (size_t)p->n_launches ? p->cap_launches : (size_t)p->n_launches;
        unsigned char *r = realloc(p->report_only, cap);
        AECL_RETURN_IF(!r, AECL_ERR_HOST_MEMORY, p->ctx, "out of host memory");
        p->report_only = r;
        p->cap_report = cap;
    }
    for (int i = from; i < p->n_launches; i++) p->report_only[i] = (unsigned char)report_only;
    return AECL_OK;
}

/* The gathering pass: the nodes whose emit asks first for a kernel variant (op
 * gathers_variant) run until that request, and the variants noted are built as
 * one program where they can share one (lib/rt/variants.c). Nothing else is
 * kept: the emits run again for real afterwards. */
static aecl_status gather_variants(aecl_plan *p, const unsigned char *need)
{
    aecl_variant_list v = {0};
    aecl_status st = AECL_OK;
    p->gather = &v;
    for (int i = 0; i < p->g->n_nodes && st == AECL_OK; i++) {
        aecl_tensor *t = p->g->nodes[i];
        if (need[i] == NODE_DEAD || !t->op || !t->op->gathers_variant) continue;
        st = t->op->emit(p, t);
        st = st == AECL_GATHERED ? AECL_OK : st;
        if (st == AECL_OK && (p->n_launches || p->n_kernels || p->n_dyn))
            st = aecl_fail(p->ctx, AECL_ERR_STATE, "op %s did not ask for its kernel first (gathers_variant)",
                           t->op->name);
    }
    p->gather = NULL;
    if (st == AECL_OK && v.n > 1)
        st = aecl_program_variants(p->ctx, v.n, (const char *const *)v.files, (const char *const *)v.options);
    for (int i = 0; i < v.n; i++) { free(v.files[i]); free(v.options[i]); }
    free(v.files);
    free(v.options);
    return st;
}

static aecl_status emit_all(aecl_plan *p)
{
    unsigned char *need = needed_nodes(p->g);
    AECL_RETURN_IF(!need, AECL_ERR_HOST_MEMORY, p->ctx, "out of host memory");
    aecl_status st = gather_variants(p, need);
    for (int i = 0; i < p->g->n_nodes && st == AECL_OK; i++) {
        if (need[i] == NODE_DEAD) continue;
        int from = p->n_launches;
        st = emit_node(p, i);
        int report_only = need[i] == NODE_REPORT;
        if (st == AECL_OK) st = mark_launches(p, from, report_only);
        if (st == AECL_OK && report_only) p->stats.n_report_only += p->n_launches - from;
    }
    free(need);
    return st;
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
    p->reporting = 1;
    int n_gemm = 0;
    aecl_status st = p->opt.no_fuse ? AECL_OK : aecl_fuse_pointwise(g, &p->stats.n_fused);
    if (st == AECL_OK) st = aecl_fuse_gemm_act_grad(g, &p->opt, &n_gemm);
    p->stats.n_fused += n_gemm;
    if (st == AECL_OK) st = aecl_fuse_gemm_bias_grad(g, &p->opt, &n_gemm);
    if (st == AECL_OK) p->stats.n_fused += n_gemm;
    int n_pads = 0;
    if (st == AECL_OK) st = aecl_fold_pads(g, &p->opt, &n_pads);
    p->stats.n_fused += n_pads;
    if (st == AECL_OK) st = aecl_memplan(p);
    if (st == AECL_OK) st = create_buffers(p);
    if (st == AECL_OK) st = emit_all(p);
    if (st != AECL_OK) { aecl_plan_free(p); return st; }
    for (int i = 0; i < p->n_launches; i++) p->stats.n_launches += p->launches[i].fn != poison_fn;
    *out = p;
    return AECL_OK;
}


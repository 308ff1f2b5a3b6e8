/* Optimizer update nodes (SGD with momentum/Nesterov, Adam, AdamW), global-norm
 * gradient clipping, and the learning-rate tensor. See optim.h. */
#include "ops/optim.h"
#include "graph/op.h"
#include "ops/common_kernels.h"
#include "ops/op_list.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The update is one fused node for all parameters (see "the fused update"
 * below). The clip threshold sits in the sum-of-squares node's parameters, the
 * initial learning rate in the lr node's. */

static const char *const kind_names[] = {"sgd", "adam", "adamw"};

static int trainable(const aecl_tensor *t) { return (t->flags & AECL_T_PARAM) && t->grad; }

/* ---- learning rate ------------------------------------------------------------- */

/* The lr tensor is a persistent constant whose "launch" is a one-time write at
 * compile time: it starts at the configured rate, and a caller's later write
 * replaces it. Nothing runs per step. */
typedef struct lr_params { float lr; } lr_params;
AECL_OP_PARAMS(lr_p, lr_params)

static aecl_status emit_lr(aecl_plan *p, aecl_tensor *t) { return aecl_plan_write(p, t, &lr_p(t)->lr); }

const aecl_op_def aecl_op_optim_lr = {.name = "optim_lr", .emit = emit_lr};

static aecl_tensor *lr_tensor(aecl_graph *g, float lr)
{
    int one = 1;
    aecl_tensor *t = aecl_node(g, &aecl_op_optim_lr, "optim.lr", 1, &one, 0, NULL);
    if (t) {
        t->flags = AECL_T_CONST;
        lr_p(t)->lr = lr;
    }
    return t;
}

/* ---- the fused update ---------------------------------------------------------------
 *
 * One node and one launch update every parameter (launches are what a step costs
 * on PoCL). The parameters and their state sit in the persistent buffer, the
 * gradients in the work arena. The parameters are cut into chunks of CHUNK
 * elements, one work-group each; a table (8 ints per chunk, stored as float bits
 * in a persistent tensor written at compile time) gives a chunk's offsets in w, g
 * and the state, and its length. A group's items then walk contiguous elements of
 * one parameter, which vectorises as well as a per-parameter kernel.
 *   in:    [0] lr, [1] table, then the sum of squares (clipping)
 *   extra: per parameter: w, g, then its n_state state tensors */
typedef struct update_params {
    aecl_opt_kind kind;
    int nesterov;           /* SGD */
    int clip;               /* input 2 is the sum of squares */
    int n_state, n_params, n_chunks;
    float momentum;         /* SGD */
    float beta1, beta2, eps;    /* Adam */
    float weight_decay;
} update_params;
AECL_OP_PARAMS(update_p, update_params)

enum { TAB_W = 0, TAB_G, TAB_S0, TAB_S1, TAB_N, TAB_STRIDE = 8, CHUNK = AECL_OPT_CHUNK };

static int chunks_of(size_t n) { return (int)((n + CHUNK - 1) / CHUNK); }

static aecl_status check_mem(aecl_plan *p, const aecl_tensor *t, cl_mem want, const char *what)
{
    cl_mem m;
    int off;
    aecl_plan_tensor_mem(p, t, &m, &off);
    AECL_RETURN_IF(m != want, AECL_ERR_STATE, aecl_plan_ctx(p),
                   "optimizer: %s '%s' is not where the fused update expects it", what, t->name);
    return AECL_OK;
}

/* Fills the chunk table. */
static aecl_status fill_table(aecl_plan *p, const aecl_tensor *t, int32_t *tab)
{
    int ns = update_p(t)->n_state, per = 2 + ns, c = 0;
    cl_mem pm, gm;
    int off[4] = {0, 0, 0, 0};
    aecl_plan_tensor_mem(p, t->extra[0], &pm, &off[0]);
    aecl_plan_tensor_mem(p, t->extra[1], &gm, &off[1]);
    for (int k = 0; k < update_p(t)->n_params; k++) {
        aecl_tensor *const *e = t->extra + k * per;
        AECL_TRY(check_mem(p, e[0], pm, "parameter"));
        AECL_TRY(check_mem(p, e[1], gm, "gradient"));
        aecl_plan_tensor_mem(p, e[0], &pm, &off[0]);
        aecl_plan_tensor_mem(p, e[1], &gm, &off[1]);
        for (int s = 0; s < ns; s++) {
            AECL_TRY(check_mem(p, e[2 + s], pm, "optimizer state"));
            aecl_plan_tensor_mem(p, e[2 + s], &pm, &off[2 + s]);
        }
        for (size_t j = 0; j < e[0]->size; j += CHUNK, c++) {
            int32_t *row = tab + c * TAB_STRIDE;
            for (int q = 0; q < 4; q++) row[TAB_W + q] = off[q] + (int32_t)j;
            row[TAB_N] = (int32_t)(e[0]->size - j < CHUNK ? e[0]->size - j : CHUNK);
        }
    }
    return AECL_OK;
}

/* A power-of-two work-group size that k allows, at most cap. */
static size_t group_size(aecl_plan *p, cl_kernel k, size_t cap)
{
    size_t wg = aecl_kernel_max_wg(aecl_plan_ctx(p), k), lsz = 1;
    while (lsz * 2 <= wg && lsz * 2 <= cap) lsz *= 2;
    return lsz;
}

/* ---- sum of squares of all gradients (clipping) --------------------------------------
 *
 * One node, two launches (see cl/optim.cl): work-group q of the first sums the
 * squares of SQ_K full CHUNK-element chunks of the gradients, the second (one
 * work-group) adds those partial sums and each gradient's short tail.
 *   in:    [0] its table: SQ_K * groups rows (offset in the work arena as int
 *          bits, 1 or 0 for padding), then `tails` tail rows (offset, length)
 *   extra: the gradients
 *   out:   [0] the sum, [1 + q] group q's part */
enum { SQ_K = AECL_OPT_SQ_K, SQ_WG = 256 }; /* the kernels' OPT_SQ_K, OPT_WG */
typedef struct sumsq_params {
    int groups, tails;
    float clip_norm;        /* the clip threshold (read by the update) */
} sumsq_params;
AECL_OP_PARAMS(sumsq_p, sumsq_params)

static aecl_status fill_sumsq_table(aecl_plan *p, const aecl_tensor *t, float *tab)
{
    cl_mem gm;
    int off, rows = 0, n_rows = SQ_K * sumsq_p(t)->groups;
    int32_t *tail = (int32_t *)(tab + 2 * n_rows);
    aecl_plan_tensor_mem(p, t->extra[0], &gm, &off);
    for (int k = 0; k < t->n_extra; k++) {
        const aecl_tensor *gr = t->extra[k];
        AECL_TRY(check_mem(p, gr, gm, "gradient"));
        aecl_plan_tensor_mem(p, gr, &gm, &off);
        size_t j = 0;
        for (; j + CHUNK <= gr->size; j += CHUNK, rows++) {
            ((int32_t *)tab)[2 * rows] = off + (int32_t)j; /* ints carried as float bits */
            tab[2 * rows + 1] = 1.0f;
        }
        if (j < gr->size) {
            *tail++ = off + (int32_t)j;
            *tail++ = (int32_t)(gr->size - j);
        }
    }
    for (; rows < n_rows; rows++) { /* padding: any full chunk, counted 0 times */
        memcpy(&tab[2 * rows], &tab[0], sizeof *tab);
        tab[2 * rows + 1] = 0.0f;
    }
    return AECL_OK;
}

static aecl_status emit_sumsq(aecl_plan *p, aecl_tensor *t)
{
    int groups = sumsq_p(t)->groups, tails = sumsq_p(t)->tails;
    float *tab = calloc(t->in[0]->size, sizeof *tab);
    AECL_RETURN_IF(!tab, AECL_ERR_HOST_MEMORY, aecl_plan_ctx(p), "out of host memory");
    aecl_status st = fill_sumsq_table(p, t, tab);
    if (st == AECL_OK) st = aecl_plan_write(p, t->in[0], tab);
    free(tab);
    AECL_TRY(st);
    cl_kernel k;
    size_t lsz, gsz;
    if (groups > 0) {
        AECL_TRY(aecl_common_kernel(p, "optim_sumsq_parts", &k));
        AECL_TRY(aecl_plan_args(p, k, "TTT", t->extra[0], t->in[0], t));
        lsz = group_size(p, k, SQ_WG), gsz = (size_t)groups * lsz;
        AECL_TRY(aecl_plan_launch(p, k, 1, &gsz, &lsz, "grad_sumsq", 2.0 * groups * SQ_K * CHUNK));
    }
    AECL_TRY(aecl_common_kernel(p, "optim_sumsq_total", &k));
    AECL_TRY(aecl_plan_args(p, k, "TiTiiT", t, groups, t->in[0], 2 * SQ_K * groups, tails, t->extra[0]));
    lsz = group_size(p, k, SQ_WG);
    return aecl_plan_launch(p, k, 1, &lsz, &lsz, "grad_sumsq", (double)groups + 2.0 * tails * CHUNK);
}

const aecl_op_def aecl_op_grad_sumsq = {.name = "grad_sumsq", .emit = emit_sumsq};

/* The node for the gradients of the parameters nodes[i] with trainable(nodes[i]),
 * i < n0 (added as its extras). */
static aecl_tensor *sumsq_node(aecl_graph *g, const aecl_optimizer_config *cfg, int n0)
{
    int full = 0, tails = 0;
    for (int i = 0; i < n0; i++)
        if (trainable(g->nodes[i])) {
            full += (int)(g->nodes[i]->size / CHUNK);
            tails += g->nodes[i]->size % CHUNK != 0;
        }
    int groups = (full + SQ_K - 1) / SQ_K, shape = 2 * (SQ_K * groups + tails), size = 1 + groups;
    aecl_tensor *tab = aecl_mark(aecl_input(g, "optim.sumsq_table", 1, &shape), AECL_T_CONST);
    if (!tab) return NULL;
    tab->flags &= ~(unsigned)AECL_T_INPUT;
    aecl_tensor *t = aecl_node(g, &aecl_op_grad_sumsq, "grad_sumsq", 1, &size, 1, &tab);
    if (!t) return NULL;
    t->flags &= ~(unsigned)AECL_T_GRAD;
    *sumsq_p(t) = (sumsq_params){.groups = groups, .tails = tails,
                                 .clip_norm = cfg->clip_norm};
    for (int i = 0; i < n0; i++)
        if (trainable(g->nodes[i])) aecl_node_add_extra(g, t, g->nodes[i]->grad);
    return t;
}

/* Adam's bias corrections bc1 = 1 - beta1^t, bc2 = 1 - beta2^t at step
 * t = the plan's step counter + 1, read when the launch is enqueued (so a
 * resumed plan, aecl_plan_set_step, or a data-parallel rank, which all share the
 * counter's meaning, get theirs). The host computes them in double and passes
 * corr_a = sqrt(bc2) / bc1 and corr_e = sqrt(bc2) as kernel arguments: no
 * launch of their own (a launch costs PoCL a worker hand-off) and nothing per
 * element (computing them in the kernel put two expm1 in every item: the
 * update ran 1.5x longer on PoCL). */
typedef struct adam_launch {
    const aecl_plan *plan;
    double log_beta1, log_beta2;
} adam_launch;

enum { ADAM_CORR_ARG = 10 }; /* optim_adam_all's corr_a; corr_e follows */

static aecl_status adam_enqueue(aecl_ctx *ctx, const aecl_launch *l, cl_event *ev)
{
    const adam_launch *a = l->data;
    double t = (double)aecl_plan_step(a->plan) + 1.0;
    double bc1 = -expm1(t * a->log_beta1), bc2 = -expm1(t * a->log_beta2);
    float corr_a = (float)(sqrt(bc2) / bc1), corr_e = (float)sqrt(bc2);
    AECL_CL_TRY(ctx, clSetKernelArg(l->kernel, ADAM_CORR_ARG, sizeof corr_a, &corr_a));
    AECL_CL_TRY(ctx, clSetKernelArg(l->kernel, ADAM_CORR_ARG + 1, sizeof corr_e, &corr_e));
    AECL_CL_TRY(ctx, clEnqueueNDRangeKernel(ctx->queue, l->kernel, l->dim, NULL, l->global, l->local, 0, NULL, ev));
    return AECL_OK;
}

/* The update as a host-side launch around k (which the plan also keeps: the
 * launch holds a reference of its own). */
static aecl_status push_adam(aecl_plan *p, cl_kernel k, const update_params *up, size_t gsz, size_t lsz,
                             const char *label)
{
    adam_launch *a = malloc(sizeof *a);
    AECL_RETURN_IF(!a, AECL_ERR_HOST_MEMORY, aecl_plan_ctx(p), "out of host memory");
    *a = (adam_launch){p, log((double)up->beta1), log((double)up->beta2)};
    clRetainKernel(k);
    aecl_launch l = {.label = label, .kernel = k, .dim = 1, .global = {gsz, 1, 1}, .local = {lsz, 1, 1},
                     .fn = adam_enqueue, .data = a};
    return aecl_plan_push(p, &l);
}

static aecl_status emit_update(aecl_plan *p, aecl_tensor *t)
{
    const update_params *up = update_p(t);
    int kind = (int)up->kind, nc = up->n_chunks;
    aecl_tensor *lr = t->in[0], *tab = t->in[1];
    aecl_tensor *ss = up->clip ? t->in[2] : NULL;
    double clip = ss ? (double)sumsq_p(ss)->clip_norm : 0.0, wd = (double)up->weight_decay;
    float *bits = calloc((size_t)nc * TAB_STRIDE, sizeof *bits);
    AECL_RETURN_IF(!bits, AECL_ERR_HOST_MEMORY, aecl_plan_ctx(p), "out of host memory");
    aecl_status st = fill_table(p, t, (int32_t *)bits);
    if (st == AECL_OK) st = aecl_plan_write(p, tab, bits); /* ints carried as float bits */
    free(bits);
    AECL_TRY(st);
    cl_kernel k;
    if (kind == AECL_OPT_SGD) {
        AECL_TRY(aecl_common_kernel(p, "optim_sgd_all", &k));
        AECL_TRY(aecl_plan_args(p, k, "TTTT_fiff", t->extra[0], t->extra[1], tab, lr, ss, (double)up->momentum,
                                up->nesterov, wd, clip));
    } else {
        /* Adam's L2 decay joins the gradient, AdamW's decays the weight: the
         * kernel takes both, one of them 0. */
        double wd_dec = kind == AECL_OPT_ADAMW ? wd : 0.0;
        AECL_TRY(aecl_common_kernel(p, "optim_adam_all", &k));
        /* corr_a, corr_e (0 here) are set by adam_enqueue at every replay */
        AECL_TRY(aecl_plan_args(p, k, "TTTT_ffffffff", t->extra[0], t->extra[1], tab, lr, ss, 0.0, 0.0,
                                (double)up->beta1, (double)up->beta2, (double)up->eps, wd - wd_dec, wd_dec, clip));
    }
    /* One work-group per chunk, an item per element; a device allowing fewer
     * than CHUNK items per group has each item loop over several elements. */
    size_t lsz = group_size(p, k, CHUNK), gsz = (size_t)nc * lsz;
    if (kind == AECL_OPT_SGD) return aecl_plan_launch(p, k, 1, &gsz, &lsz, kind_names[kind], 0);
    return push_adam(p, k, up, gsz, lsz, kind_names[kind]);
}

const aecl_op_def aecl_op_optim_update = {.name = "optim_update", .emit = emit_update};

static aecl_tensor *state_for(aecl_graph *g, const aecl_tensor *w, const char *suffix)
{
    char name[64];
    snprintf(name, sizeof name, "%.40s.%s", w->name, suffix);
    return aecl_state(g, name, w->ndim, w->shape);
}

static int n_state(const aecl_optimizer_config *cfg)
{
    return cfg->kind != AECL_OPT_SGD ? 2 : cfg->momentum > 0 ? 1 : 0;
}

static aecl_tensor *update_node(aecl_graph *g, const aecl_optimizer_config *cfg, aecl_tensor *lr, aecl_tensor *ss,
                                int n_params, int n_chunks)
{
    int shape = TAB_STRIDE * n_chunks;
    aecl_tensor *tab = aecl_mark(aecl_input(g, "optim.table", 1, &shape), AECL_T_CONST);
    if (!tab) return NULL;
    tab->flags &= ~(unsigned)AECL_T_INPUT;
    aecl_tensor *in[3] = {lr, tab};
    int n = 2;
    if (ss) in[n++] = ss;
    int one = 1;
    aecl_tensor *t = aecl_node(g, &aecl_op_optim_update, "optim.update", 1, &one, n, in);
    if (!t) return NULL;
    t->flags = AECL_T_SIDE; /* no storage, not differentiable */
    *update_p(t) = (update_params){.kind = cfg->kind, .nesterov = cfg->nesterov, .clip = ss != NULL,
                                   .n_state = n_state(cfg), .n_params = n_params, .n_chunks = n_chunks,
                                   .momentum = cfg->momentum, .beta1 = cfg->beta1, .beta2 = cfg->beta2,
                                   .eps = cfg->eps, .weight_decay = cfg->weight_decay};
    return t;
}

/* The parameter's tensors join the fused node's extra inputs: w, g, state. */
static void add_param(aecl_graph *g, aecl_tensor *t, const aecl_optimizer_config *cfg, aecl_tensor *w)
{
    static const char *const names[2][2] = {{"mom", ""}, {"m", "v"}};
    aecl_node_add_extra(g, t, w);
    aecl_node_add_extra(g, t, w->grad);
    for (int s = 0; s < n_state(cfg); s++)
        aecl_node_add_extra(g, t, state_for(g, w, names[cfg->kind != AECL_OPT_SGD][s]));
}

/* ---- configuration ------------------------------------------------------------------ */

aecl_optimizer_config aecl_optimizer_defaults(aecl_opt_kind kind, float lr)
{
    aecl_optimizer_config c = {0};
    c.kind = kind;
    c.lr = lr;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    return c;
}

static int in_unit(float x) { return x >= 0.0f && x < 1.0f; } /* false for NaN */

/* The first bad field, named in the message; NULL when the config is usable. */
static const char *config_problem(const aecl_optimizer_config *c)
{
    if (c->kind != AECL_OPT_SGD && c->kind != AECL_OPT_ADAM && c->kind != AECL_OPT_ADAMW)
        return "kind is not SGD, Adam or AdamW";
    if (!(c->lr >= 0.0f) || !isfinite(c->lr)) return "lr must be a finite value >= 0";
    if (!(c->weight_decay >= 0.0f) || !isfinite(c->weight_decay)) return "weight_decay must be finite and >= 0";
    if (!(c->clip_norm >= 0.0f) || !isfinite(c->clip_norm)) return "clip_norm must be finite and >= 0 (0: off)";
    if (c->kind == AECL_OPT_SGD) {
        if (!in_unit(c->momentum)) return "momentum must be in [0, 1)";
        if (c->nesterov && c->momentum <= 0.0f) return "nesterov needs momentum > 0";
        return NULL;
    }
    if (!in_unit(c->beta1)) return "beta1 must be in [0, 1)";
    if (!in_unit(c->beta2)) return "beta2 must be in [0, 1)";
    if (!(c->eps > 0.0f) || !isfinite(c->eps)) return "eps must be finite and > 0";
    return NULL;
}

/* ---- apply ---------------------------------------------------------------------------- */


/* AECL_OK, or a state error recorded on the graph. */
static aecl_status check_graph(aecl_graph *g)
{
    int n_params = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i]->op == &aecl_op_optim_update) {
            aecl_graph_fail(g, AECL_ERR_STATE, "optimizer: already applied to this graph");
            return g->status;
        }
        n_params += trainable(g->nodes[i]);
    }
    if (!n_params)
        aecl_graph_fail(g, AECL_ERR_STATE,
                        "optimizer: no parameter has a gradient (call aecl_backward on the loss first)");
    return g->status;
}

aecl_status aecl_optimizer_apply(aecl_graph *g, const aecl_optimizer_config *cfg, aecl_tensor **lr_out)
{
    if (lr_out) *lr_out = NULL;
    if (!g) return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "aecl_optimizer_apply: NULL graph");
    if (g->status != AECL_OK) return g->status;
    if (!cfg) {
        aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "aecl_optimizer_apply: NULL config");
        return g->status;
    }
    const char *bad = config_problem(cfg);
    if (bad) {
        aecl_graph_fail(g, AECL_ERR_INVALID_ARG, "optimizer %s: %s",
                        (unsigned)cfg->kind <= AECL_OPT_ADAMW ? kind_names[cfg->kind] : "?", bad);
        return g->status;
    }
    AECL_TRY(check_graph(g));
    int n0 = g->n_nodes; /* the loops below append: look at the graph as it was */
    int n_params = 0, n_chunks = 0;
    for (int i = 0; i < n0; i++)
        if (trainable(g->nodes[i])) { n_params++; n_chunks += chunks_of(g->nodes[i]->size); }
    aecl_tensor *lr = lr_tensor(g, cfg->lr), *ss = NULL;
    if (cfg->clip_norm > 0) ss = sumsq_node(g, cfg, n0);
    /* Every reader of a parameter was created before this point, and nodes run in
     * creation order: the update cannot race a forward or backward read. */
    aecl_tensor *up = update_node(g, cfg, lr, ss, n_params, n_chunks);
    for (int i = 0; i < n0 && up && g->status == AECL_OK; i++)
        if (trainable(g->nodes[i])) add_param(g, up, cfg, g->nodes[i]);
    if (g->status == AECL_OK && lr_out) *lr_out = lr;
    return g->status;
}

/* Zero-copy model calls: a trained model run on the caller's cl_mem buffers
 * (aecl.h, "zero-copy calls"). Each call is a chain of device commands on the
 * context's in-order queue: copy a chunk of the caller's rows into the plan's
 * input tensor, run the plan, copy the output tensor into the caller's buffer.
 * The caller's wait list gates the first command and the returned event marks the
 * last, so the in-order queue orders everything between. Nothing passes through
 * the host, and aecl holds no reference to the caller's objects. */
#include "aecl.h"
#include "nn/train.h"
#include "ops/ops.h"
#include "rt/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct aecl_cl_model {
    aecl_ctx *ctx;
    aecl_model_spec *spec;
    float *weights;           /* all parameters in eval-net order (for the decoder net) */
    int batch;
    size_t features, latent;
    aecl_net *net;            /* the eval net: code, reconstruction, per-sample losses */
    /* Decoder only (built on the first decode): code -> reconstruction. */
    aecl_graph *dg;
    aecl_plan *dplan;
    aecl_tensor *dz, *drecon;
};

/* ---- the decoder-only network --------------------------------------------------- */

/* The eval net's host weights of the parameter named `name`, or NULL. */
static const float *net_weights(const aecl_cl_model *m, const char *name, size_t size)
{
    const float *w = m->weights;
    for (int i = 0; i < m->net->n_params; i++) {
        if (strcmp(m->net->param_names[i], name) == 0) return m->net->params[i]->size == size ? w : NULL;
        w += m->net->params[i]->size;
    }
    return NULL;
}

/* Weight and bias of a decoder layer, with the eval net's names and layouts
 * (dense [out, in], convT [C, K, kh, kw], conv [K, C, kh, kw]). */
static void dec_params(aecl_graph *g, size_t i, const aecl_spec_layer *l, aecl_tensor **w, aecl_tensor **b)
{
    char name[48];
    int ws[4] = {l->units, (int)aecl_spec_shape_numel(l->in), 0, 0}, nd = 2;
    if (l->kind == AECL_LAYER_CONV) { nd = 4; ws[1] = l->in.c; ws[2] = l->kh; ws[3] = l->kw; }
    if (l->kind == AECL_LAYER_CONVT) { nd = 4; ws[0] = l->in.c; ws[1] = l->units; ws[2] = l->kh; ws[3] = l->kw; }
    snprintf(name, sizeof name, "decoder.%zu.weight", i);
    *w = aecl_param(g, name, nd, ws);
    snprintf(name, sizeof name, "decoder.%zu.bias", i);
    *b = aecl_param(g, name, 1, &l->units);
}

/* One decoder layer in evaluation mode (no dropout), as the eval net applies it. */
static aecl_tensor *dec_layer(aecl_graph *g, int batch, size_t i, const aecl_spec_layer *l, aecl_tensor *x, int logits)
{
    aecl_tensor *w = NULL, *b = NULL;
    aecl_act act = logits ? AECL_ACT_NONE : l->act;
    float slope = (float)l->act_param;
    int shape[4] = {batch, l->out.c, l->out.h, l->out.w};
    if (aecl_spec_layer_has_weights(l->kind)) dec_params(g, i, l, &w, &b);
    switch (l->kind) {
    case AECL_LAYER_DENSE: return aecl_dense(g, x, w, b, act, slope);
    case AECL_LAYER_CONV: return aecl_conv2d(g, x, w, b, l->stride_h, l->pad_h, act, slope);
    case AECL_LAYER_CONVT: return aecl_conv_transpose2d(g, x, w, b, l->stride_h, l->pad_h, l->outpad_h, act, slope);
    case AECL_LAYER_MAXPOOL: return aecl_maxpool2d(g, x, l->factor, l->factor);
    case AECL_LAYER_AVGPOOL: return aecl_avgpool2d(g, x, l->factor, l->factor);
    case AECL_LAYER_UPSAMPLE: return aecl_upsample2d(g, x, l->factor, l->mode == AECL_UPSAMPLE_BILINEAR);
    case AECL_LAYER_FLATTEN: return aecl_flatten(g, x);
    case AECL_LAYER_RESHAPE: return aecl_reshape(g, x, l->out.rank == 1 ? 2 : 4, shape);
    }
    return aecl_graph_fail(g, AECL_ERR_UNSUPPORTED, "decoder.%zu: unknown layer kind", i);
}

static aecl_status build_decoder_graph(aecl_cl_model *m)
{
    const aecl_model_spec *s = m->spec;
    size_t out = 0;
    for (size_t i = 0; i < s->n_decoder; i++)
        if (aecl_spec_layer_has_weights(s->decoder[i].kind)) out = i;
    int bce = s->loss == AECL_LOSS_BCE, zs[2] = {m->batch, s->latent};
    AECL_TRY(aecl_graph_create(m->ctx, &m->dg));
    m->dz = aecl_input(m->dg, "z", 2, zs);
    aecl_tensor *y = m->dz;
    for (size_t i = 0; i < s->n_decoder; i++) y = dec_layer(m->dg, m->batch, i, &s->decoder[i], y, bce && i == out);
    /* As the eval net: under BCE the output layer gives logits, the data their sigmoid. */
    if (bce) y = aecl_activation(m->dg, y, AECL_ACT_SIGMOID, 0);
    m->drecon = aecl_mark(y, AECL_T_OUTPUT);
    return aecl_graph_status(m->dg);
}

static aecl_status build_decoder(aecl_cl_model *m)
{
    AECL_TRY(build_decoder_graph(m));
    aecl_plan_options opt = {.seed = (uint32_t)m->spec->train.seed};
    AECL_TRY(aecl_plan_compile(m->dg, &opt, &m->dplan));
    for (int i = 0; i < m->dg->n_nodes; i++) {
        aecl_tensor *t = m->dg->nodes[i];
        if (!(t->flags & AECL_T_PARAM)) continue;
        const float *w = net_weights(m, t->name, t->size);
        AECL_RETURN_IF(!w, AECL_ERR_STATE, m->ctx, "decoder: parameter '%s' not found in the model", t->name);
        AECL_TRY(aecl_plan_write(m->dplan, t, w));
    }
    return AECL_OK;
}

/* ---- handle --------------------------------------------------------------------- */

aecl_status aecl_cl_model_load(aecl_ctx *ctx, const char *weights_path, int batch, aecl_cl_model **out)
{
    AECL_RETURN_IF(!out, AECL_ERR_INVALID_ARG, ctx, "aecl_cl_model_load: out is NULL");
    *out = NULL;
    AECL_RETURN_IF(!ctx || !weights_path, AECL_ERR_INVALID_ARG, ctx, "aecl_cl_model_load: NULL context or path");
    AECL_RETURN_IF(batch < 1, AECL_ERR_INVALID_ARG, ctx, "aecl_cl_model_load: batch %d must be at least 1", batch);
    aecl_cl_model *m = calloc(1, sizeof *m);
    AECL_RETURN_IF(!m, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    m->ctx = ctx;
    m->batch = batch;
    aecl_status st = aecl_weights_load(ctx, weights_path, &m->spec, &m->weights);
    if (st == AECL_OK) st = aecl_net_build(ctx, m->spec, batch, AECL_NET_EVAL, (uint32_t)m->spec->train.seed, &m->net);
    if (st == AECL_OK) st = aecl_net_write_params(m->net, m->weights);
    if (st != AECL_OK) {
        aecl_cl_model_free(m);
        return st;
    }
    m->features = m->net->features;
    m->latent = (size_t)m->spec->latent;
    *out = m;
    return AECL_OK;
}

void aecl_cl_model_free(aecl_cl_model *m)
{
    if (!m) return;
    /* Commands may still read the plans' buffers: let them finish first. */
    if (m->net || m->dplan) aecl_ctx_finish(m->ctx);
    aecl_plan_free(m->dplan);
    aecl_graph_free(m->dg);
    aecl_net_free(m->net);
    aecl_spec_free(m->spec);
    free(m->weights);
    free(m);
}

size_t aecl_cl_model_features(const aecl_cl_model *m) { return m ? m->features : 0; }
size_t aecl_cl_model_latent(const aecl_cl_model *m) { return m ? m->latent : 0; }
int aecl_cl_model_batch(const aecl_cl_model *m) { return m ? m->batch : 0; }

/* ---- calls ---------------------------------------------------------------------- */

/* A caller's buffer: in the aecl context, and large enough for rows at off. */
static aecl_status check_buffer(aecl_cl_model *m, const char *call, const char *what, cl_mem b, size_t off,
                                size_t rows, size_t row_floats)
{
    AECL_RETURN_IF(!b, AECL_ERR_INVALID_ARG, m->ctx, "%s: buffer '%s' is NULL", call, what);
    cl_context c = NULL;
    size_t have = 0, need = 0;
    AECL_CL_TRY(m->ctx, clGetMemObjectInfo(b, CL_MEM_CONTEXT, sizeof c, &c, NULL));
    AECL_RETURN_IF(c != aecl_ctx_cl_context(m->ctx), AECL_ERR_INVALID_ARG, m->ctx,
                   "%s: buffer '%s' belongs to another OpenCL context than the aecl context's "
                   "(create the aecl context with aecl_ctx_create_from_cl on the application's context)",
                   call, what);
    AECL_CL_TRY(m->ctx, clGetMemObjectInfo(b, CL_MEM_SIZE, sizeof have, &have, NULL));
    int ok = aecl_mul_size(rows, row_floats, &need) && aecl_mul_size(need, sizeof(float), &need) &&
             aecl_add_size(need, off, &need);
    AECL_RETURN_IF(!ok || need > have, AECL_ERR_INVALID_ARG, m->ctx,
                   "%s: buffer '%s' holds %zu bytes; %zu rows of %zu floats at byte offset %zu need more", call,
                   what, have, rows, row_floats, off);
    return AECL_OK;
}

static aecl_status check_events(aecl_cl_model *m, const char *call, cl_uint n_wait, const cl_event *wait)
{
    AECL_RETURN_IF(n_wait > 0 && !wait, AECL_ERR_INVALID_ARG, m->ctx, "%s: %u events to wait for but no list", call,
                   n_wait);
    for (cl_uint i = 0; i < n_wait; i++) {
        cl_context c = NULL;
        AECL_RETURN_IF(!wait[i], AECL_ERR_INVALID_ARG, m->ctx, "%s: wait event %u is NULL", call, i);
        AECL_CL_TRY(m->ctx, clGetEventInfo(wait[i], CL_EVENT_CONTEXT, sizeof c, &c, NULL));
        AECL_RETURN_IF(c != aecl_ctx_cl_context(m->ctx), AECL_ERR_INVALID_ARG, m->ctx,
                       "%s: wait event %u belongs to another OpenCL context than the aecl context's", call, i);
    }
    return AECL_OK;
}

/* One call's plan and its two ends. */
typedef struct chain {
    aecl_plan *plan;
    const aecl_tensor *in, *out;
    size_t in_row, out_row;   /* floats per row */
} chain;

typedef struct ends {
    cl_mem src, dst;
    size_t src_off, dst_off, rows;
    cl_uint n_wait;
    const cl_event *wait;
    cl_event *done;
} ends;

/* Copies rows [r, r + n) in, runs the plan, copies them out; `first`/`last` pick
 * the chunk that takes the wait list and the one that gives the event. */
static aecl_status run_chunk(aecl_cl_model *m, const chain *c, const ends *e, size_t r, size_t n)
{
    cl_command_queue q = aecl_ctx_cl_queue(m->ctx);
    cl_mem pin, pout;
    int oin, oout;
    aecl_plan_tensor_mem(c->plan, c->in, &pin, &oin);
    aecl_plan_tensor_mem(c->plan, c->out, &pout, &oout);
    const size_t f = sizeof(float);
    int first = r == 0, last = r + n >= e->rows;
    AECL_CL_TRY(m->ctx, clEnqueueCopyBuffer(q, e->src, pin, e->src_off + r * c->in_row * f, (size_t)oin * f,
                                            n * c->in_row * f, first ? e->n_wait : 0, first ? e->wait : NULL, NULL));
    aecl_plan_set_valid_rows(c->plan, (int)n);
    AECL_TRY(aecl_plan_run(c->plan));
    AECL_CL_TRY(m->ctx, clEnqueueCopyBuffer(q, pout, e->dst, (size_t)oout * f, e->dst_off + r * c->out_row * f,
                                            n * c->out_row * f, 0, NULL, last ? e->done : NULL));
    return AECL_OK;
}

static aecl_status run_chain(aecl_cl_model *m, const char *call, const chain *c, const ends *e)
{
    if (e->done) *e->done = NULL;
    AECL_RETURN_IF(e->rows == 0, AECL_ERR_INVALID_ARG, m->ctx, "%s: rows must be at least 1", call);
    AECL_TRY(check_events(m, call, e->n_wait, e->wait));
    AECL_TRY(check_buffer(m, call, "input", e->src, e->src_off, e->rows, c->in_row));
    AECL_TRY(check_buffer(m, call, "output", e->dst, e->dst_off, e->rows, c->out_row));
    size_t b = (size_t)m->batch;
    for (size_t r = 0; r < e->rows; r += b) {
        aecl_status st = run_chunk(m, c, e, r, e->rows - r < b ? e->rows - r : b);
        if (st != AECL_OK) {
            aecl_error_append(m->ctx, " (%s, rows %zu..)", call, r);
            return st;
        }
    }
    return AECL_OK;
}

#define CHECK_MODEL(m, call)                                                                     \
    do {                                                                                         \
        if (!(m)) return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "%s: model is NULL", call);       \
    } while (0)

aecl_status aecl_cl_model_encode(aecl_cl_model *m, cl_mem x, size_t x_off, size_t rows, cl_mem code,
                                 size_t code_off, cl_uint n_wait, const cl_event *wait, cl_event *done)
{
    CHECK_MODEL(m, "aecl_cl_model_encode");
    chain c = {m->net->plan, m->net->x, m->net->code, m->features, m->latent};
    ends e = {x, code, x_off, code_off, rows, n_wait, wait, done};
    return run_chain(m, "aecl_cl_model_encode", &c, &e);
}

aecl_status aecl_cl_model_decode(aecl_cl_model *m, cl_mem code, size_t code_off, size_t rows, cl_mem recon,
                                 size_t recon_off, cl_uint n_wait, const cl_event *wait, cl_event *done)
{
    CHECK_MODEL(m, "aecl_cl_model_decode");
    if (done) *done = NULL;
    if (!m->dplan) {
        aecl_status st = build_decoder(m);
        if (st != AECL_OK) {
            aecl_plan_free(m->dplan);
            aecl_graph_free(m->dg);
            m->dplan = NULL;
            m->dg = NULL;
            return st;
        }
    }
    chain c = {m->dplan, m->dz, m->drecon, m->latent, m->features};
    ends e = {code, recon, code_off, recon_off, rows, n_wait, wait, done};
    return run_chain(m, "aecl_cl_model_decode", &c, &e);
}

aecl_status aecl_cl_model_scores(aecl_cl_model *m, cl_mem x, size_t x_off, size_t rows, cl_mem scores,
                                 size_t scores_off, cl_uint n_wait, const cl_event *wait, cl_event *done)
{
    CHECK_MODEL(m, "aecl_cl_model_scores");
    chain c = {m->net->plan, m->net->x, m->net->rec_rows, m->features, 1};
    ends e = {x, scores, x_off, scores_off, rows, n_wait, wait, done};
    return run_chain(m, "aecl_cl_model_scores", &c, &e);
}

/* Zero-copy model calls: a trained model run on the caller's cl_mem buffers
 * (aecl.h, "zero-copy calls"). Each call is a chain of device commands on the
 * context's in-order queue: copy a chunk of the caller's rows into the plan's
 * input tensor, run the plan, copy the output tensor into the caller's buffer.
 * A model trained with feature scaling gets two more small plans on the device:
 * x' = (x - offset) * scale before the encoder, y = y' / scale + offset after the
 * decoder (as aecl_model_* do on the host). The caller's wait list gates the first
 * command and the returned event marks the last, so the in-order queue orders
 * everything between. Nothing passes through the host, and aecl holds no
 * reference to the caller's objects. */
#include "compile/compile.h"
#include "aecl_cl.h"
#include "nn/batches.h"
#include "nn/train.h"
#include "ops/ops.h"
#include "rt/error.h"

#include <stdlib.h>

/* Three networks at the model's batch size, built at load: the encoder alone,
 * the decoder alone, and the full net at the mean code (scores). */
enum { NET_ENCODE, NET_DECODE, NET_SCORE, N_NETS };

/* A plan with one input and one output tensor (a net, or a scaling step). */
typedef struct stage {
    aecl_graph *g;
    aecl_plan *plan;
    aecl_tensor *in, *out;
} stage;

struct aecl_cl_model {
    aecl_ctx *ctx;
    aecl_model_spec *spec;
    float *weights;           /* all parameters, laid out as `layout` */
    aecl_net_layout layout;
    int batch;
    size_t features, latent;
    aecl_net *nets[N_NETS];
    aecl_scaling scaling;
    stage scale, unscale;     /* with scaling only: data -> model space and back */
};

static const aecl_net_mode net_modes[N_NETS] = {AECL_NET_ENCODE, AECL_NET_DECODE, AECL_NET_INFER};

static aecl_status get_net(aecl_cl_model *m, int which, aecl_net **out)
{
    if (!m->nets[which]) {
        aecl_net *n = NULL;
        AECL_TRY(aecl_net_build(m->ctx, m->spec, m->batch, net_modes[which], (uint32_t)m->spec->train.seed, &n));
        aecl_status st = aecl_net_write_params_layout(n, &m->layout, m->weights);
        if (st != AECL_OK) {
            aecl_net_free(n);
            return st;
        }
        m->nets[which] = n;
    }
    *out = m->nets[which];
    return AECL_OK;
}

/* ---- feature scaling on the device ----------------------------------------------- */

/* A [batch, features] constant holding `row` in every row. */
static aecl_tensor *row_const(aecl_cl_model *m, stage *st, const char *name)
{
    int shape[2] = {m->batch, (int)m->features};
    return aecl_mark(aecl_input(st->g, name, 2, shape), AECL_T_CONST);
}

static aecl_status write_rows(aecl_cl_model *m, stage *st, const aecl_tensor *t, const float *row, int invert)
{
    float *v = malloc((size_t)m->batch * m->features * sizeof *v);
    AECL_RETURN_IF(!v, AECL_ERR_HOST_MEMORY, m->ctx, "out of host memory");
    for (size_t i = 0; i < (size_t)m->batch * m->features; i++) {
        float r = row[i % m->features];
        v[i] = invert ? 1.0f / r : r;
    }
    aecl_status s = aecl_plan_write(st->plan, t, v);
    free(v);
    return s;
}

/* forward: y = (x - offset) * scale; else y = x * (1 / scale) + offset. */
static aecl_status build_scale(aecl_cl_model *m, stage *st, int forward)
{
    int shape[2] = {m->batch, (int)m->features};
    AECL_TRY(aecl_graph_create(m->ctx, &st->g));
    st->in = aecl_input(st->g, "x", 2, shape);
    aecl_tensor *off = row_const(m, st, "offset"), *sc = row_const(m, st, forward ? "scale" : "inv_scale");
    aecl_tensor *y = forward ? aecl_mul(st->g, aecl_sub(st->g, st->in, off), sc)
                             : aecl_add(st->g, aecl_mul(st->g, st->in, sc), off);
    st->out = aecl_mark(y, AECL_T_OUTPUT);
    AECL_TRY(aecl_graph_status(st->g));
    aecl_plan_options opt = {0};
    AECL_TRY(aecl_plan_compile(st->g, &opt, &st->plan));
    AECL_TRY(write_rows(m, st, off, m->scaling.offset, 0));
    return write_rows(m, st, sc, m->scaling.scale, !forward);
}

static void stage_free(stage *st)
{
    aecl_plan_free(st->plan);
    aecl_graph_free(st->g);
}

static aecl_status build_scaling(aecl_cl_model *m)
{
    if (m->scaling.kind == AECL_SCALE_NONE) return AECL_OK;
    AECL_RETURN_IF(m->scaling.features != m->features, AECL_ERR_FORMAT, m->ctx,
                   "the weights file's scaling has %zu features, the model takes %zu", m->scaling.features,
                   m->features);
    AECL_TRY(build_scale(m, &m->scale, 1));
    return build_scale(m, &m->unscale, 0);
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
    aecl_net *net = NULL;
    aecl_status st = aecl_weights_load_scaled(ctx, weights_path, &m->spec, &m->weights, &m->scaling);
    if (st == AECL_OK) {
        m->features = aecl_spec_shape_numel(m->spec->input);
        m->latent = (size_t)m->spec->latent;
        st = aecl_net_layout_of(ctx, m->spec, &m->layout);
    }
    if (st == AECL_OK) st = build_scaling(m);
    /* Every net now: building one writes its weights with blocking copies, which
     * inside a call could wait forever behind a caller's unfinished wait list. */
    for (int i = 0; i < N_NETS && st == AECL_OK; i++) st = get_net(m, i, &net);
    if (st != AECL_OK) {
        aecl_cl_model_free(m);
        return st;
    }
    *out = m;
    return AECL_OK;
}

void aecl_cl_model_free(aecl_cl_model *m)
{
    if (!m) return;
    /* Commands may still read the nets' buffers: let them finish first. */
    int built = 0;
    for (int i = 0; i < N_NETS; i++) built |= m->nets[i] != NULL;
    if (built || m->scale.plan) aecl_ctx_finish(m->ctx);
    for (int i = 0; i < N_NETS; i++) aecl_net_free(m->nets[i]);
    stage_free(&m->scale);
    stage_free(&m->unscale);
    aecl_scaling_free(&m->scaling);
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

/* Floats per row of a stage tensor. */
static size_t row_floats(const aecl_cl_model *m, const aecl_tensor *t) { return t->size / (size_t)m->batch; }

/* The caller's ends of a call. */
typedef struct ends {
    cl_mem src, dst;
    size_t src_off, dst_off, rows;
    cl_uint n_wait;
    const cl_event *wait;
    cl_event *done;
} ends;

/* Up to three plans run in turn (scale, net, unscale) over the caller's rows,
 * each stage's output copied to the next one's input. */
static aecl_status run_chain(aecl_cl_model *m, const char *call, aecl_batches *b, const ends *e)
{
    const aecl_tensor *in = b->stage[0].in, *out = b->out[0].t;
    AECL_RETURN_IF(e->rows == 0, AECL_ERR_INVALID_ARG, m->ctx, "%s: rows must be at least 1", call);
    AECL_TRY(check_events(m, call, e->n_wait, e->wait));
    AECL_TRY(check_buffer(m, call, "input", e->src, e->src_off, e->rows, row_floats(m, in)));
    AECL_TRY(check_buffer(m, call, "output", e->dst, e->dst_off, e->rows, row_floats(m, out)));
    b->batch = m->batch;
    b->rows = e->rows;
    b->in = (aecl_batches_in){.mem = e->src, .off = e->src_off};
    b->out[0].mem = e->dst;
    b->out[0].off = e->dst_off;
    b->n_wait = e->n_wait;
    b->wait = e->wait;
    b->done = e->done;
    aecl_status st = aecl_batches_run(b);
    if (st != AECL_OK) aecl_error_append(m->ctx, " (%s, rows %zu..)", call, b->failed_at);
    return st;
}

static aecl_batches_stage as_stage(const stage *st) { return (aecl_batches_stage){st->plan, st->in, st->out}; }

/* Runs one call on the net `which`: data in through the scaling (encode, scores),
 * the decoder's output out through the unscaling (decode). */
static aecl_status call(aecl_cl_model *m, const char *name, int which, const ends *e)
{
    if (!m) return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "%s: model is NULL", name);
    if (e->done) *e->done = NULL;
    aecl_net *n = NULL;
    AECL_TRY(get_net(m, which, &n));
    const aecl_tensor *net_out = which == NET_ENCODE ? n->code : which == NET_DECODE ? n->recon : n->mse_rows;
    aecl_batches b = {.n_out = 1};
    if (m->scale.plan && which != NET_DECODE) b.stage[b.n_stages++] = as_stage(&m->scale);
    b.stage[b.n_stages++] = (aecl_batches_stage){n->plan, n->x, net_out};
    if (m->unscale.plan && which == NET_DECODE) b.stage[b.n_stages++] = as_stage(&m->unscale);
    b.out[0].t = b.stage[b.n_stages - 1].out;
    return run_chain(m, name, &b, e);
}

aecl_status aecl_cl_model_encode(aecl_cl_model *m, cl_mem x, size_t x_off, size_t rows, cl_mem code,
                                 size_t code_off, cl_uint n_wait, const cl_event *wait, cl_event *done)
{
    ends e = {x, code, x_off, code_off, rows, n_wait, wait, done};
    return call(m, "aecl_cl_model_encode", NET_ENCODE, &e);
}

aecl_status aecl_cl_model_decode(aecl_cl_model *m, cl_mem code, size_t code_off, size_t rows, cl_mem recon,
                                 size_t recon_off, cl_uint n_wait, const cl_event *wait, cl_event *done)
{
    ends e = {code, recon, code_off, recon_off, rows, n_wait, wait, done};
    return call(m, "aecl_cl_model_decode", NET_DECODE, &e);
}

aecl_status aecl_cl_model_scores(aecl_cl_model *m, cl_mem x, size_t x_off, size_t rows, cl_mem scores,
                                 size_t scores_off, cl_uint n_wait, const cl_event *wait, cl_event *done)
{
    ends e = {x, scores, x_off, scores_off, rows, n_wait, wait, done};
    return call(m, "aecl_cl_model_scores", NET_SCORE, &e);
}

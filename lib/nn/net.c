/* Building a network from a model spec. */
#include "compile/compile.h"
#include "nn/net.h"
#include "ops/conv.h"
#include "ops/ops.h"
#include "ops/optim.h"
#include "ops/random.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static aecl_tensor *new_param(aecl_net *n, const char *name, int ndim, const int *shape)
{
    if (n->n_params >= AECL_NET_MAX_PARAMS)
        return aecl_graph_fail(n->g, AECL_ERR_UNSUPPORTED, "model has more than %d parameter tensors", AECL_NET_MAX_PARAMS);
    aecl_tensor *t = aecl_param(n->g, name, ndim, shape);
    if (!t) return NULL;
    snprintf(n->param_names[n->n_params], sizeof n->param_names[0], "%s", name);
    n->params[n->n_params++] = t;
    return t;
}

/* Weight and bias of a layer with weights: dense [out, in], conv [K, C, kh, kw],
 * convT [C, K, kh, kw] (PyTorch's layouts). */
static void layer_params(aecl_net *n, const char *prefix, const aecl_spec_layer *l, aecl_tensor **w, aecl_tensor **b)
{
    char name[48];
    int ws[4], nd = 2, units = l->units;
    switch (l->kind) {
    case AECL_LAYER_DENSE: ws[0] = units; ws[1] = (int)aecl_spec_shape_numel(l->in); break;
    case AECL_LAYER_CONV: nd = 4; ws[0] = units; ws[1] = l->in.c; ws[2] = l->kh; ws[3] = l->kw; break;
    case AECL_LAYER_CONVT: nd = 4; ws[0] = l->in.c; ws[1] = units; ws[2] = l->kh; ws[3] = l->kw; break;
    case AECL_LAYER_MAXPOOL:
    case AECL_LAYER_AVGPOOL:
    case AECL_LAYER_UPSAMPLE:
    case AECL_LAYER_FLATTEN:
    case AECL_LAYER_RESHAPE: return; /* no weights */
    }
    snprintf(name, sizeof name, "%s.weight", prefix);
    *w = new_param(n, name, nd, ws);
    snprintf(name, sizeof name, "%s.bias", prefix);
    *b = new_param(n, name, 1, &units);
}

static int square(const aecl_spec_layer *l)
{
    return l->kh == l->kw && l->stride_h == l->stride_w && l->pad_h == l->pad_w && l->outpad_h == l->outpad_w;
}

/* One layer; `logits` asks for the pre-activation (the output layer under BCE). */
static aecl_tensor *apply_layer(aecl_net *n, const char *prefix, const aecl_spec_layer *l, aecl_tensor *x, int logits)
{
    aecl_graph *g = n->g;
    aecl_tensor *w = NULL, *b = NULL;
    aecl_act act = logits ? AECL_ACT_NONE : l->act;
    float slope = (float)l->act_param;
    if (aecl_spec_layer_has_weights(l->kind)) layer_params(n, prefix, l, &w, &b);
    if ((l->kind == AECL_LAYER_CONV || l->kind == AECL_LAYER_CONVT) && !square(l))
        return aecl_graph_fail(g, AECL_ERR_UNSUPPORTED, "%s: non-square kernels, strides or paddings are not supported yet", prefix);
    aecl_tensor *y = NULL;
    int shape[4] = {n->batch, l->out.c, l->out.h, l->out.w};
    switch (l->kind) {
    case AECL_LAYER_DENSE: y = aecl_dense(g, x, w, b, act, slope); break;
    case AECL_LAYER_CONV: y = aecl_conv2d(g, x, w, b, l->stride_h, l->pad_h, act, slope); break;
    case AECL_LAYER_CONVT:
        y = aecl_conv_transpose2d(g, x, w, b, l->stride_h, l->pad_h, l->outpad_h, act, slope);
        break;
    case AECL_LAYER_MAXPOOL: y = aecl_maxpool2d(g, x, l->factor, l->factor); break;
    case AECL_LAYER_AVGPOOL: y = aecl_avgpool2d(g, x, l->factor, l->factor); break;
    case AECL_LAYER_UPSAMPLE: y = aecl_upsample2d(g, x, l->factor, l->mode == AECL_UPSAMPLE_BILINEAR); break;
    case AECL_LAYER_FLATTEN: y = aecl_flatten(g, x); break;
    case AECL_LAYER_RESHAPE: y = aecl_reshape(g, x, l->out.rank == 1 ? 2 : 4, shape); break;
    }
    if (n->mode == AECL_NET_TRAIN && l->dropout > 0) y = aecl_dropout(g, y, (float)l->dropout);
    return y;
}

static aecl_tensor *encoder(aecl_net *n, aecl_tensor *x)
{
    char prefix[32];
    for (size_t i = 0; i < n->spec->n_encoder; i++) {
        snprintf(prefix, sizeof prefix, "encoder.%zu", i);
        x = apply_layer(n, prefix, &n->spec->encoder[i], x, 0);
    }
    return x;
}

static aecl_tensor *decoder(aecl_net *n, aecl_tensor *z, aecl_tensor **logits)
{
    const aecl_model_spec *s = n->spec;
    size_t out = aecl_spec_output_layer(s);
    /* BCE is taken on the logits; the reconstruction is their sigmoid. Layers
     * after the output layer (a reshape) commute with the sigmoid. A training
     * step needs only the logits: no sigmoid pass over the whole batch. A net
     * without losses needs no logits: the output layer's epilogue applies its
     * sigmoid (BCE implies one, spec_parse.c), one launch fewer. */
    int bce = s->loss == AECL_LOSS_BCE && n->mode != AECL_NET_RECON;
    char prefix[32];
    for (size_t i = 0; i < s->n_decoder; i++) {
        snprintf(prefix, sizeof prefix, "decoder.%zu", i);
        z = apply_layer(n, prefix, &s->decoder[i], z, bce && i == out);
    }
    *logits = z;
    if (n->mode == AECL_NET_TRAIN) return NULL;
    return bce ? aecl_activation(n->g, z, AECL_ACT_SIGMOID, 0) : z;
}

static aecl_tensor *latent(aecl_net *n, aecl_tensor *h)
{
    const aecl_spec_layer *l = &n->spec->latent_layer;
    aecl_tensor *w, *b;
    if (n->spec->kind != AECL_AE_VARIATIONAL) {
        layer_params(n, "latent", l, &w, &b);
        n->code = aecl_dense(n->g, h, w, b, AECL_ACT_NONE, 0);
        return n->code;
    }
    layer_params(n, "mu", l, &w, &b);
    n->code = aecl_dense(n->g, h, w, b, AECL_ACT_NONE, 0);
    layer_params(n, "logvar", l, &w, &b);
    n->logvar = aecl_dense(n->g, h, w, b, AECL_ACT_NONE, 0);
    /* Training and evaluation decode a sample (the ELBO's estimate); inference
     * decodes the mean, so its outputs do not depend on the batch layout. */
    int mean = n->mode == AECL_NET_INFER || n->mode == AECL_NET_RECON;
    return aecl_reparameterize(n->g, n->code, n->logvar, !mean);
}

static aecl_noise_kind noise_kind(aecl_spec_noise k)
{
    return k == AECL_SPEC_NOISE_MASK ? AECL_NOISE_MASK
         : k == AECL_SPEC_NOISE_SALTPEPPER ? AECL_NOISE_SALT_PEPPER : AECL_NOISE_GAUSSIAN;
}

/* loss = recon mean (+ beta KL mean) (+ L1 on the code). MSE is averaged per
 * feature (the usual "MSE per pixel"); BCE and KL are summed per sample, as in the
 * VAE's evidence lower bound. */
static void objective(aecl_net *n, aecl_tensor *logits)
{
    const aecl_model_spec *s = n->spec;
    aecl_graph *g = n->g;
    aecl_tensor *rows = NULL;
    float scale = s->loss == AECL_LOSS_MSE ? 1.0f / (float)n->features : 1.0f;
    /* A training step's loss and loss terms are read only on the steps that
     * report them (train.c): the gradients never read them, so the launches that
     * compute only these run only then (AECL_T_REPORT). */
    unsigned out = AECL_T_OUTPUT | (n->mode == AECL_NET_TRAIN ? AECL_T_REPORT : 0u);
    aecl_tensor *loss = aecl_loss_mean(g, s->loss, logits, n->x, scale, &rows);
    n->rec_rows = aecl_mark(rows, out);
    if (n->logvar) {
        int one = 1;
        n->kl_rows = aecl_mark(aecl_kl_rows(g, n->code, n->logvar), out);
        n->beta = aecl_mark(aecl_input(g, "beta", 1, &one), AECL_T_CONST);
        loss = aecl_add(g, loss, aecl_mul(g, aecl_masked_mean(g, n->kl_rows, 1.0f), n->beta));
    }
    if (s->train.l1_activity > 0) loss = aecl_add(g, loss, aecl_l1_activity(g, n->code, (float)s->train.l1_activity));
    n->loss = aecl_mark(loss, out);
}

/* The MSE score of each sample, on the device, so that every reader (the host
 * model API, the zero-copy calls, training's anomaly threshold) gets the same
 * numbers. An MSE model's reconstruction rows are those sums already. */
static void mse_rows(aecl_net *n)
{
    aecl_tensor *sums = n->spec->loss == AECL_LOSS_MSE ? n->rec_rows : aecl_loss_rows(n->g, AECL_LOSS_MSE, n->recon, n->x);
    n->mse_rows = aecl_mark(aecl_scale(n->g, sums, 1.0f / (float)n->features), AECL_T_OUTPUT);
}

static aecl_optimizer_config optimizer_config(const aecl_spec_train *t)
{
    aecl_optimizer_config c = aecl_optimizer_defaults(t->optimizer, (float)t->lr);
    c.momentum = (float)t->momentum;
    c.nesterov = t->nesterov;
    if (t->optimizer != AECL_OPT_SGD) {
        c.beta1 = (float)t->adam_beta1;
        c.beta2 = (float)t->adam_beta2;
        c.eps = (float)t->adam_eps;
    }
    c.weight_decay = (float)t->weight_decay;
    c.clip_norm = (float)t->clip_norm;
    return c;
}

/* The decoder alone: the code is the input, the reconstruction the output. */
static aecl_status build_decode_graph(aecl_net *n)
{
    int shape[2] = {n->batch, n->spec->latent};
    aecl_tensor *logits;
    n->x = aecl_input(n->g, "z", 2, shape);
    n->recon = aecl_mark(decoder(n, n->x, &logits), AECL_T_OUTPUT);
    return aecl_graph_status(n->g);
}

static aecl_status build_graph(aecl_net *n)
{
    const aecl_model_spec *s = n->spec;
    aecl_graph *g = n->g;
    if (n->mode == AECL_NET_DECODE) return build_decode_graph(n);
    int shape[4] = {n->batch, s->input.c, s->input.h, s->input.w};
    n->x = aecl_input(g, "x", s->input.rank == 1 ? 2 : 4, shape);
    aecl_tensor *in = n->x;
    if (n->mode == AECL_NET_ENCODE) {
        latent(n, encoder(n, in));
        aecl_mark(n->code, AECL_T_OUTPUT);
        if (n->logvar) aecl_mark(n->logvar, AECL_T_OUTPUT);
        return aecl_graph_status(g);
    }
    if ((n->mode == AECL_NET_TRAIN || n->mode == AECL_NET_VALIDATE) && s->kind == AECL_AE_DENOISING)
        in = aecl_noise(g, in, noise_kind(s->train.noise), (float)s->train.noise_level, s->train.noise_clip);
    aecl_tensor *logits;
    n->recon = aecl_mark(decoder(n, latent(n, encoder(n, in)), &logits), AECL_T_OUTPUT);
    /* A reconstruction net reads back only recon: a VAE's logvar head, unused
     * at the mean code, is left out of its plan. */
    if (n->mode == AECL_NET_RECON) return aecl_graph_status(g);
    aecl_mark(n->code, AECL_T_OUTPUT);
    if (n->logvar) aecl_mark(n->logvar, AECL_T_OUTPUT);
    objective(n, logits);
    if (n->mode == AECL_NET_EVAL || n->mode == AECL_NET_INFER) mse_rows(n);
    if (n->mode == AECL_NET_TRAIN && aecl_backward(g, n->loss) == AECL_OK) {
        aecl_optimizer_config oc = optimizer_config(&s->train);
        aecl_optimizer_apply(g, &oc, &n->lr);
    }
    return aecl_graph_status(g);
}

/* The net's graph without a plan (no device work). */
static aecl_status net_graph(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net_mode mode, aecl_net **out)
{
    *out = NULL;
    AECL_RETURN_IF(batch < 1, AECL_ERR_INVALID_ARG, ctx, "batch size %d: must be at least 1", batch);
    AECL_RETURN_IF(mode < AECL_NET_TRAIN || mode > AECL_NET_RECON, AECL_ERR_INVALID_ARG, ctx, "unknown net mode %d",
                   (int)mode);
    aecl_net *n = calloc(1, sizeof *n);
    AECL_RETURN_IF(!n, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    n->ctx = ctx;
    n->spec = spec;
    n->mode = mode;
    n->batch = batch;
    n->features = aecl_spec_shape_numel(spec->input);
    aecl_status st = aecl_graph_create(ctx, &n->g);
    if (st == AECL_OK) st = build_graph(n);
    if (st != AECL_OK) { aecl_net_free(n); return st; }
    *out = n;
    return AECL_OK;
}

aecl_status aecl_net_build_graph(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net_mode mode,
                                 aecl_net **out)
{
    return net_graph(ctx, spec, batch, mode, out);
}

aecl_status aecl_net_build(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net_mode mode, uint32_t seed,
                           aecl_net **out)
{
    aecl_net *n = NULL;
    *out = NULL;
    AECL_TRY(net_graph(ctx, spec, batch, mode, &n));
    aecl_plan_options opt = {.seed = seed};
    aecl_status st = aecl_plan_compile(n->g, &opt, &n->plan);
    if (st == AECL_OK && n->beta) {
        float one = 1.0f;
        st = aecl_plan_write(n->plan, n->beta, &one);
    }
    if (st != AECL_OK) { aecl_net_free(n); return st; }
    *out = n;
    return AECL_OK;
}

void aecl_net_free(aecl_net *n)
{
    if (!n) return;
    aecl_plan_free(n->plan);
    aecl_graph_free(n->g);
    free(n);
}

/* splitmix64: a small, well-mixed generator for initial weights. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double fan_in(const aecl_tensor *w, int convt)
{
    double rf = w->ndim == 4 ? (double)w->shape[2] * w->shape[3] : 1.0;
    return (convt ? w->shape[0] : w->shape[1]) * rf;
}

aecl_status aecl_net_init_params(aecl_net *n, uint64_t seed)
{
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
    for (int i = 0; i < n->n_params; i++) {
        aecl_tensor *t = n->params[i];
        float *v = calloc(t->size, sizeof *v);
        AECL_RETURN_IF(!v, AECL_ERR_HOST_MEMORY, n->ctx, "out of host memory");
        if (strstr(n->param_names[i], ".weight")) {
            int convt = t->ndim == 4 && strstr(n->param_names[i], "decoder") != NULL;
            double fi = fan_in(t, convt), fo = (double)t->size / fi;
            /* Glorot uniform keeps sigmoid/linear layers in range; He's factor
             * would overshoot there, and training from either converges here. */
            double limit = sqrt(6.0 / (fi + fo));
            for (size_t k = 0; k < t->size; k++)
                v[k] = (float)((next_u64(&s) >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0) * (float)limit;
        }
        aecl_status st = aecl_plan_write(n->plan, t, v);
        free(v);
        AECL_TRY(st);
    }
    return AECL_OK;
}

size_t aecl_net_param_floats(const aecl_net *n)
{
    size_t total = 0;
    for (int i = 0; i < n->n_params; i++) total += n->params[i]->size;
    return total;
}

aecl_status aecl_net_read_params(aecl_net *n, float *dst)
{
    for (int i = 0; i < n->n_params; i++) {
        AECL_TRY(aecl_plan_read(n->plan, n->params[i], dst));
        dst += n->params[i]->size;
    }
    return AECL_OK;
}

aecl_status aecl_net_write_params(aecl_net *n, const float *src)
{
    for (int i = 0; i < n->n_params; i++) {
        AECL_TRY(aecl_plan_write(n->plan, n->params[i], src));
        src += n->params[i]->size;
    }
    return AECL_OK;
}

aecl_status aecl_net_layout_of(aecl_ctx *ctx, const aecl_model_spec *spec, aecl_net_layout *out)
{
    memset(out, 0, sizeof *out);
    aecl_net *n = NULL;
    AECL_TRY(net_graph(ctx, spec, 1, AECL_NET_EVAL, &n));
    out->n = n->n_params;
    for (int i = 0; i < n->n_params; i++) {
        memcpy(out->names[i], n->param_names[i], sizeof out->names[i]);
        out->offset[i] = out->total;
        out->size[i] = n->params[i]->size;
        out->total += n->params[i]->size;
    }
    aecl_net_free(n);
    return AECL_OK;
}

aecl_status aecl_net_write_params_layout(aecl_net *n, const aecl_net_layout *layout, const float *weights)
{
    for (int i = 0; i < n->n_params; i++) {
        int k = 0;
        while (k < layout->n && strcmp(layout->names[k], n->param_names[i])) k++;
        AECL_RETURN_IF(k == layout->n || layout->size[k] != n->params[i]->size, AECL_ERR_STATE, n->ctx,
                       "parameter '%s' is not in the weights layout (or has another size)", n->param_names[i]);
        AECL_TRY(aecl_plan_write(n->plan, n->params[i], weights + layout->offset[k]));
    }
    return AECL_OK;
}

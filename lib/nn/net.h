/* A network instance: the graph and compiled plan of a model spec at a fixed
 * batch size, for training (noise, dropout, loss, backward, optimizer), for
 * evaluation (forward and per-sample losses only), or for the applications:
 * inference at the mean code, the encoder alone, the decoder alone. Parameters are named as in the
 * weights file (docs/weights.md): encoder.I.weight/bias, latent.weight/bias (a
 * VAE: mu.* and logvar.*), decoder.I.weight/bias, I the layer's index. */
#ifndef AECL_NN_NET_H
#define AECL_NN_NET_H

#include "graph/plan.h"
#include "nn/spec.h"

typedef enum aecl_net_mode {
    AECL_NET_TRAIN = 0,
    AECL_NET_EVAL = 1,    /* forward + per-sample losses; a VAE decodes a sample of z */
    AECL_NET_INFER = 2,   /* as EVAL, but a VAE decodes its mean code: deterministic */
    AECL_NET_ENCODE = 3,  /* encoder and latent layer only: x -> code (+ logvar) */
    AECL_NET_DECODE = 4,  /* decoder only: the input x is the code [B, L] -> recon */
    AECL_NET_VALIDATE = 5, /* as EVAL, plus a denoising model's training noise on the input: the
                             training objective (clean target from noisy input) on held-out data */
    AECL_NET_RECON = 6    /* as INFER without the losses: x -> reconstruction only (code and logvar
                             are not outputs), the forward pass a caller who reads no scores needs */
} aecl_net_mode;

#define AECL_NET_MAX_PARAMS 64

typedef struct aecl_net {
    aecl_ctx *ctx;
    const aecl_model_spec *spec;
    aecl_net_mode mode;
    int batch;
    size_t features;              /* elements per sample */
    aecl_graph *g;
    aecl_plan *plan;
    aecl_tensor *x;               /* input batch [B, C, H, W] or [B, F] (DECODE: the code [B, L]) */
    aecl_tensor *code;            /* the latent code (a VAE: its mean) [B, L]; NULL in DECODE */
    aecl_tensor *logvar;          /* a VAE's log-variance [B, L], else NULL */
    aecl_tensor *recon;           /* reconstruction in data space, shaped like the input; NULL in ENCODE
                                     and TRAIN (a step reads only the losses) */
    aecl_tensor *rec_rows;        /* per-sample reconstruction loss (sum over features) [B]
                                     (NULL in ENCODE and DECODE, as are kl_rows and loss) */
    aecl_tensor *kl_rows;         /* a VAE's per-sample KL [B], else NULL */
    aecl_tensor *mse_rows;        /* EVAL and INFER: per-sample mean over features of (x - recon)^2 in
                                     the model's space [B]: the one definition of the MSE anomaly score
                                     (aecl_model_scores and aecl_cl_model_scores read it); else NULL */
    aecl_tensor *loss;            /* the training objective [1] */
    aecl_tensor *lr;              /* learning rate (train mode) */
    aecl_tensor *beta;            /* KL weight (a VAE) */
    int n_params;
    aecl_tensor *params[AECL_NET_MAX_PARAMS];
    char param_names[AECL_NET_MAX_PARAMS][48];
} aecl_net;

aecl_status aecl_net_build(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net_mode mode,
                           uint32_t seed, aecl_net **out);
/* The net's graph, tensors and parameter names without a plan: no kernel is
 * built (what a weights file's writer and reader need). net->plan is NULL. */
aecl_status aecl_net_build_graph(aecl_ctx *ctx, const aecl_model_spec *spec, int batch, aecl_net_mode mode,
                                 aecl_net **out);
void aecl_net_free(aecl_net *net);

/* Initial weights from the seed: Glorot/He uniform by the layer's activation,
 * zero biases. The same seed gives the same weights on every device. */
aecl_status aecl_net_init_params(aecl_net *net, uint64_t seed);

/* Host copies of all parameters, concatenated in net->params order. */
size_t aecl_net_param_floats(const aecl_net *net);
aecl_status aecl_net_read_params(aecl_net *net, float *dst);
aecl_status aecl_net_write_params(aecl_net *net, const float *src);

/* Where each parameter of the whole model lies in a weights array (the order of
 * a TRAIN/EVAL/INFER net's params, the order aecl_weights_load returns). ENCODE
 * and DECODE nets hold a subset of these tensors: they are written by name. */
typedef struct aecl_net_layout {
    int n;
    char names[AECL_NET_MAX_PARAMS][48];
    size_t offset[AECL_NET_MAX_PARAMS], size[AECL_NET_MAX_PARAMS];
    size_t total;                 /* floats in the whole array */
} aecl_net_layout;

/* The layout of spec's parameters (builds the graph only: no device work). */
aecl_status aecl_net_layout_of(aecl_ctx *ctx, const aecl_model_spec *spec, aecl_net_layout *out);
/* Writes each of net's parameters from `weights`, laid out as `layout` says,
 * finding each by name (AECL_ERR_STATE if one is missing or differs in size). */
aecl_status aecl_net_write_params_layout(aecl_net *net, const aecl_net_layout *layout, const float *weights);

/* Element count of a net's tensor (for host buffers). */
static inline size_t aecl_net_size(const aecl_tensor *t) { return t ? t->size : 0; }

#endif

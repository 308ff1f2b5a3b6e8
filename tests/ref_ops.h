/* Host references of the ops, shared by the op tests (test_ops_*.c, test_optim.c)
 * and test_backend_ops.c: plain C loops (double accumulation where it matters),
 * written for clarity, not speed. Gradient references take the gradient of the
 * output (r: d loss / d y) and write the inputs' gradients. */
#ifndef AECL_TEST_REF_OPS_H
#define AECL_TEST_REF_OPS_H

#include "ops/act.h"
#include "ops/optim.h"
#include "ops/random.h"

#include <stddef.h>
#include <stdint.h>

/* ---- activations ------------------------------------------------------------------ */

/* act(x) and act'(x) written from the output y = act(x) (elu: alpha = slope;
 * leaky relu: the slope). The oracle for cl/act.cl: double precision, written
 * from the definitions, not from the kernel text. NaN: relu gives 0, leaky relu
 * and elu pass it on, as the kernels do. An unknown code gives NaN. */
double ref_act(aecl_act a, double x, double slope);
double ref_act_grad(aecl_act a, double y, double slope);

/* ---- dense / matmul -------------------------------------------------------------- */

/* y[n, out] = act(x[n, in] w[out, in]^T + b[out]) (b may be NULL). */
void ref_dense(const float *x, const float *w, const float *b, float *y, int n, int in, int out, aecl_act act,
               float slope);
/* c[M, N] = op(a) op(b) with op(a) [M, K] (a stored [K, M] when ta), op(b) [K, N]
 * (b stored [N, K] when tb). */
void ref_matmul(const float *a, const float *b, float *c, int M, int N, int K, int ta, int tb);

/* ---- conv2d / conv_transpose2d ---------------------------------------------------- */

typedef struct ref_conv {
    int transposed;
    int N, C, H, W;      /* input */
    int K, kh, kw;       /* output channels, kernel */
    int stride, pad, out_pad;
    int bias;
    aecl_act act;
} ref_conv;

void ref_conv_out_size(const ref_conv *c, int *Ho, int *Wo);
size_t ref_conv_xsize(const ref_conv *c);
size_t ref_conv_wsize(const ref_conv *c);   /* conv: w [K, C, kh, kw]; convT: w [C, K, kh, kw] */
size_t ref_conv_ysize(const ref_conv *c);
/* y = act(op(x, w) + b); b is read only when c->bias. */
void ref_conv_forward(const ref_conv *c, const float *x, const float *w, const float *b, float slope, float *y);
/* The gradients of sum(y * r): gx (may be NULL), gw and gb (K floats; may be
 * NULL) are overwritten. */
void ref_conv_backward(const ref_conv *c, const float *x, const float *w, const float *b, float slope,
                       const float *r, float *gx, float *gw, float *gb);

/* ---- pooling / upsampling ---------------------------------------------------------- */

enum { REF_MAXPOOL, REF_AVGPOOL, REF_NEAREST, REF_BILINEAR };

typedef struct ref_pool {
    int op, N, C, H, W;
    int k, stride;      /* pooling window and stride, or the upsampling factor in k */
} ref_pool;

void ref_pool_out_hw(const ref_pool *c, int *Ho, int *Wo);
/* The map as (output, input, weight) terms, applied forward (y += w x, y may be
 * NULL) and backward (gx += w gy, gx may be NULL): max-pool sends a window to its
 * first maximum, bilinear is PyTorch's align_corners=False. Accumulates. */
void ref_pool_apply(const ref_pool *c, const float *x, float *y, const float *gy, float *gx);
/* Distinct values (a shuffled ramp 0.01 apart): finite differences never cross
 * a max-pool tie. */
void ref_fill_distinct(float *x, size_t n, unsigned *state);

/* ---- losses ------------------------------------------------------------------------- */

/* The per-element term of a reconstruction loss (BCE from the logit z) and its
 * derivative in z. */
double ref_loss_term(int kind, double z, double t);
double ref_loss_dterm(int kind, double z, double t);
/* The KL term of one latent -0.5 (1 + lv - mu^2 - exp(lv)) and its derivative in
 * mu (which 0) or lv (which 1). */
double ref_kl_term(double mu, double lv);
double ref_kl_dterm(int which, double mu, double lv);

/* ---- random ops (host Philox, ops/philox.h) ------------------------------------------- */

/* Element i of dropout(x, p) in the op (seed, step, op): x / (1 - p) or 0. */
float ref_dropout(float x, float p, uint32_t seed, uint32_t step, uint32_t op, uint32_t i);
/* Element i of noise(x) and its derivative *dydx. */
float ref_noise(aecl_noise_kind kind, float param, int clip, float x, uint32_t seed, uint32_t step, uint32_t op,
                uint32_t i, float *dydx);
/* z = mu + exp(lv / 2) eps for element i; *eps and *sd = exp(lv / 2) out. */
double ref_reparam(float mu, float lv, uint32_t seed, uint32_t step, uint32_t op, uint32_t i, double *eps,
                   double *sd);

/* ---- optimizers ----------------------------------------------------------------------- */

typedef struct ref_optim_param {
    int n;
    float *w;          /* as the device stores it: float, rounded each step */
    double *m, *v;     /* momentum buffer / Adam moments */
} ref_optim_param;

void ref_optim_param_init(ref_optim_param *p, int n, const float *w0);
void ref_optim_param_free(ref_optim_param *p);
/* One step at t (1-based) of rule c on p with gradient g (scaled by `scale`, the
 * clipping factor) and learning rate lr. */
void ref_optim_update(const aecl_optimizer_config *c, ref_optim_param *p, const float *g, double scale, long t,
                      double lr);
/* Global-norm clipping factor over the gradients of two parameters. */
double ref_optim_clip_scale(double clip, const float *g1, int n1, const float *g2, int n2);

#endif

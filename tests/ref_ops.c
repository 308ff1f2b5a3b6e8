#include "ref_ops.h"
#include "ops/philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- activations ------------------------------------------------------------------ */

double ref_act(aecl_act a, double x, double slope)
{
    switch (a) {
    case AECL_ACT_NONE: return x;
    case AECL_ACT_RELU: return x > 0 ? x : 0;
    case AECL_ACT_LEAKY_RELU: return x > 0 ? x : slope * x;
    case AECL_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case AECL_ACT_TANH: return tanh(x);
    case AECL_ACT_ELU: return x > 0 ? x : slope * expm1(x);
    case AECL_ACT_SOFTPLUS: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    }
    return NAN;
}

double ref_act_grad(aecl_act a, double y, double slope)
{
    switch (a) {
    case AECL_ACT_NONE: return 1;
    case AECL_ACT_RELU: return y > 0 ? 1 : 0;
    case AECL_ACT_LEAKY_RELU: return y > 0 ? 1 : slope;
    case AECL_ACT_SIGMOID: return y * (1 - y);
    case AECL_ACT_TANH: return 1 - y * y;
    case AECL_ACT_ELU: return y > 0 ? 1 : y + slope;
    case AECL_ACT_SOFTPLUS: return -expm1(-y); /* sigmoid(x) = 1 - e^-y */
    }
    return NAN;
}

/* ---- dense / matmul -------------------------------------------------------------- */

void ref_dense(const float *x, const float *w, const float *b, float *y, int n, int in, int out, aecl_act act,
               float slope)
{
    for (int r = 0; r < n; r++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            for (int k = 0; k < in; k++) s += (double)x[r * in + k] * w[o * in + k];
            y[r * out + o] = (float)ref_act(act, s, slope);
        }
}

void ref_matmul(const float *a, const float *b, float *c, int M, int N, int K, int ta, int tb)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? a[k * M + m] : a[m * K + k]) * (tb ? b[n * K + k] : b[k * N + n]);
            c[m * N + n] = (float)s;
        }
}

/* ---- conv2d / conv_transpose2d ---------------------------------------------------- */

typedef struct geom {
    int N, A, B;         /* small-grid channels A, big-grid channels B */
    int Hs, Ws, Hb, Wb;  /* small grid (conv output / convT input), big grid */
    int kh, kw, s, p;
} geom;

/* The relation shared by both ops: small[n,a,oh,ow] <- big[n,b,oh*s-p+i,ow*s-p+j]
 * through w[a,b,i,j]. conv: small = y, big = x, w [K, C]; convT: small = x,
 * big = y, w [C, K]. mode 0: small += big w; 1: big += small w; 2: w += small big. */
static void relate(const geom *g, float *small, float *big, float *w, int mode)
{
    for (int n = 0; n < g->N; n++)
        for (int a = 0; a < g->A; a++)
            for (int b = 0; b < g->B; b++)
                for (int oh = 0; oh < g->Hs; oh++)
                    for (int ow = 0; ow < g->Ws; ow++)
                        for (int i = 0; i < g->kh; i++)
                            for (int j = 0; j < g->kw; j++) {
                                int ih = oh * g->s - g->p + i, iw = ow * g->s - g->p + j;
                                if (ih < 0 || ih >= g->Hb || iw < 0 || iw >= g->Wb) continue;
                                float *sv = &small[((n * g->A + a) * g->Hs + oh) * g->Ws + ow];
                                float *bv = &big[((n * g->B + b) * g->Hb + ih) * g->Wb + iw];
                                float *wv = &w[((a * g->B + b) * g->kh + i) * g->kw + j];
                                if (mode == 0) *sv += *bv * *wv;
                                else if (mode == 1) *bv += *sv * *wv;
                                else *wv += *sv * *bv;
                            }
}

void ref_conv_out_size(const ref_conv *c, int *Ho, int *Wo)
{
    if (c->transposed) {
        *Ho = (c->H - 1) * c->stride - 2 * c->pad + c->kh + c->out_pad;
        *Wo = (c->W - 1) * c->stride - 2 * c->pad + c->kw + c->out_pad;
    } else {
        *Ho = (c->H + 2 * c->pad - c->kh) / c->stride + 1;
        *Wo = (c->W + 2 * c->pad - c->kw) / c->stride + 1;
    }
}

static geom geom_of(const ref_conv *c)
{
    int Ho, Wo;
    ref_conv_out_size(c, &Ho, &Wo);
    geom g = {c->N, c->K, c->C, Ho, Wo, c->H, c->W, c->kh, c->kw, c->stride, c->pad};
    if (c->transposed) g = (geom){c->N, c->C, c->K, c->H, c->W, Ho, Wo, c->kh, c->kw, c->stride, c->pad};
    return g;
}

size_t ref_conv_wsize(const ref_conv *c) { return (size_t)c->C * c->K * c->kh * c->kw; }
size_t ref_conv_xsize(const ref_conv *c) { return (size_t)c->N * c->C * c->H * c->W; }
size_t ref_conv_ysize(const ref_conv *c)
{
    int Ho, Wo;
    ref_conv_out_size(c, &Ho, &Wo);
    return (size_t)c->N * c->K * Ho * Wo;
}

void ref_conv_forward(const ref_conv *c, const float *x, const float *w, const float *b, float slope, float *y)
{
    geom g = geom_of(c);
    size_t ny = ref_conv_ysize(c), plane = ny / ((size_t)c->N * c->K);
    memset(y, 0, ny * sizeof *y);
    float *xc = malloc(ref_conv_xsize(c) * sizeof *xc), *wc = malloc(ref_conv_wsize(c) * sizeof *wc);
    memcpy(xc, x, ref_conv_xsize(c) * sizeof *xc);
    memcpy(wc, w, ref_conv_wsize(c) * sizeof *wc);
    if (c->transposed) relate(&g, xc, y, wc, 1);
    else relate(&g, y, xc, wc, 0);
    for (size_t i = 0; i < ny; i++)
        y[i] = (float)ref_act(c->act, y[i] + (c->bias ? b[(i / plane) % (size_t)c->K] : 0.0f), slope);
    free(xc);
    free(wc);
}

void ref_conv_backward(const ref_conv *c, const float *x, const float *w, const float *b, float slope,
                       const float *r, float *gx, float *gw, float *gb)
{
    size_t ny = ref_conv_ysize(c), nx = ref_conv_xsize(c), nw = ref_conv_wsize(c);
    size_t plane = ny / ((size_t)c->N * c->K);
    float *yv = malloc(ny * sizeof *yv), *dz = malloc(ny * sizeof *dz);
    float *xc = malloc(nx * sizeof *xc), *wc = malloc(nw * sizeof *wc), *rx = calloc(nx, sizeof *rx);
    float *rw = calloc(nw, sizeof *rw);
    memcpy(xc, x, nx * sizeof *xc);
    memcpy(wc, w, nw * sizeof *wc);
    /* the gradient before the activation: dz = r * act'(y) */
    ref_conv_forward(c, x, w, b, slope, yv);
    for (size_t i = 0; i < ny; i++) dz[i] = r[i] * (float)ref_act_grad(c->act, yv[i], slope);
    geom ge = geom_of(c);
    if (c->transposed) { /* small = x, big = y */
        relate(&ge, rx, dz, wc, 0);
        relate(&ge, xc, dz, rw, 2);
    } else {             /* small = y, big = x */
        relate(&ge, dz, rx, wc, 1);
        relate(&ge, dz, xc, rw, 2);
    }
    if (gx) memcpy(gx, rx, nx * sizeof *gx);
    if (gw) memcpy(gw, rw, nw * sizeof *gw);
    if (gb) {
        memset(gb, 0, (size_t)c->K * sizeof *gb);
        for (size_t i = 0; i < ny; i++) gb[(i / plane) % (size_t)c->K] += dz[i];
    }
    free(yv), free(dz), free(xc), free(wc), free(rx), free(rw);
}

/* ---- pooling / upsampling ---------------------------------------------------------- */

void ref_pool_out_hw(const ref_pool *c, int *Ho, int *Wo)
{
    if (c->op >= REF_NEAREST) {
        *Ho = c->H * c->k;
        *Wo = c->W * c->k;
    } else {
        *Ho = (c->H - c->k) / c->stride + 1;
        *Wo = (c->W - c->k) / c->stride + 1;
    }
}

/* Bilinear taps as PyTorch (align_corners False, scale factor given). */
static void taps(int o, int f, int In, int *i0, int *i1, float *l1)
{
    float src = (1.0f / (float)f) * ((float)o + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    *i0 = (int)src;
    *i1 = *i0 < In - 1 ? *i0 + 1 : *i0;
    *l1 = src - (float)*i0;
}

void ref_pool_apply(const ref_pool *c, const float *x, float *y, const float *gy, float *gx)
{
    int Ho, Wo, H = c->H, W = c->W, k = c->k, s = c->stride;
    ref_pool_out_hw(c, &Ho, &Wo);
    for (int nc = 0; nc < c->N * c->C; nc++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                int o = (nc * Ho + oh) * Wo + ow;
                int idx[4], n = 0;
                float wt[4];
                if (c->op == REF_MAXPOOL) {
                    int best = (nc * H + oh * s) * W + ow * s;
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++) {
                            int q = (nc * H + oh * s + i) * W + ow * s + j;
                            if (x[q] > x[best]) best = q;
                        }
                    idx[n] = best, wt[n++] = 1.0f;
                } else if (c->op == REF_AVGPOOL) {
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++) {
                            int q = (nc * H + oh * s + i) * W + ow * s + j;
                            if (y) y[o] += x[q] / (float)(k * k);
                            if (gx) gx[q] += gy[o] / (float)(k * k);
                        }
                    continue;
                } else if (c->op == REF_NEAREST) {
                    idx[n] = (nc * H + oh / k) * W + ow / k, wt[n++] = 1.0f;
                } else {
                    int h0, h1, w0, w1;
                    float lh, lw;
                    taps(oh, k, H, &h0, &h1, &lh);
                    taps(ow, k, W, &w0, &w1, &lw);
                    int hs[2] = {h0, h1}, ws[2] = {w0, w1};
                    float hl[2] = {1 - lh, lh}, wl[2] = {1 - lw, lw};
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++) idx[n] = (nc * H + hs[a]) * W + ws[b], wt[n++] = hl[a] * wl[b];
                }
                for (int t = 0; t < n; t++) {
                    if (y) y[o] += wt[t] * x[idx[t]];
                    if (gx) gx[idx[t]] += wt[t] * gy[o];
                }
            }
}

void ref_fill_distinct(float *x, size_t n, unsigned *state)
{
    for (size_t i = 0; i < n; i++) x[i] = 0.01f * (float)i - 0.005f * (float)n;
    for (size_t i = n; i > 1; i--) {
        *state = *state * 1664525u + 1013904223u;
        size_t j = (*state >> 8) % i;
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

/* ---- losses ------------------------------------------------------------------------- */

double ref_loss_term(int kind, double z, double t)
{
    if (kind) return fmax(z, 0.0) - z * t + log1p(exp(-fabs(z)));
    return (z - t) * (z - t);
}

double ref_loss_dterm(int kind, double z, double t) { return kind ? 1.0 / (1.0 + exp(-z)) - t : 2.0 * (z - t); }

double ref_kl_term(double mu, double lv) { return -0.5 * (1.0 + lv - mu * mu - exp(lv)); }

double ref_kl_dterm(int which, double mu, double lv) { return which ? 0.5 * (exp(lv) - 1.0) : mu; }

/* ---- random ops ----------------------------------------------------------------------- */

float ref_dropout(float x, float p, uint32_t seed, uint32_t step, uint32_t op, uint32_t i)
{
    int keep = aecl_rng_uniform(seed, AECL_RNG_STREAM_DROPOUT, step, op, i) >= p;
    return keep ? x * (1.0f / (1.0f - p)) : 0.0f;
}

float ref_noise(aecl_noise_kind kind, float param, int clip, float x, uint32_t seed, uint32_t step, uint32_t op,
                uint32_t i, float *dydx)
{
    float u = aecl_rng_uniform(seed, AECL_RNG_STREAM_NOISE, step, op, i), v = x;
    *dydx = 1.0f;
    if (kind == AECL_NOISE_GAUSSIAN) {
        v = x + param * aecl_rng_normal(seed, AECL_RNG_STREAM_NOISE, step, op, i);
    } else if (u < param) {
        v = kind == AECL_NOISE_SALT_PEPPER && u >= 0.5f * param ? 1.0f : 0.0f;
        *dydx = 0.0f;
    }
    if (clip && (v < 0.0f || v > 1.0f)) {
        v = v < 0.0f ? 0.0f : 1.0f;
        *dydx = 0.0f;
    }
    return v;
}

double ref_reparam(float mu, float lv, uint32_t seed, uint32_t step, uint32_t op, uint32_t i, double *eps,
                   double *sd)
{
    *eps = aecl_rng_normal(seed, AECL_RNG_STREAM_REPARAM, step, op, i);
    *sd = exp(0.5 * lv);
    return mu + *sd * *eps;
}

/* ---- optimizers ----------------------------------------------------------------------- */

void ref_optim_update(const aecl_optimizer_config *c, ref_optim_param *p, const float *g, double scale, long t,
                      double lr)
{
    double wd = c->weight_decay, b1 = c->beta1, b2 = c->beta2, mom = c->momentum;
    for (int i = 0; i < p->n; i++) {
        double w = p->w[i], d = scale * g[i];
        if (c->kind == AECL_OPT_SGD) {
            d += wd * w;
            if (mom > 0) {
                p->m[i] = mom * p->m[i] + d;
                d = c->nesterov ? d + mom * p->m[i] : p->m[i];
            }
            p->w[i] = (float)(w - lr * d);
            continue;
        }
        if (c->kind == AECL_OPT_ADAMW) w -= lr * wd * w;
        else d += wd * w;
        p->m[i] = b1 * p->m[i] + (1 - b1) * d;
        p->v[i] = b2 * p->v[i] + (1 - b2) * d * d;
        double mh = p->m[i] / (1 - pow(b1, (double)t)), vh = p->v[i] / (1 - pow(b2, (double)t));
        p->w[i] = (float)(w - lr * mh / (sqrt(vh) + c->eps));
    }
}

double ref_optim_clip_scale(double clip, const float *g1, int n1, const float *g2, int n2)
{
    double ss = 0;
    for (int i = 0; i < n1; i++) ss += (double)g1[i] * g1[i];
    for (int i = 0; i < n2; i++) ss += (double)g2[i] * g2[i];
    return clip > 0 && sqrt(ss) > clip ? clip / sqrt(ss) : 1.0;
}

void ref_optim_param_init(ref_optim_param *p, int n, const float *w0)
{
    p->n = n;
    p->w = malloc((size_t)n * sizeof *p->w);
    p->m = calloc((size_t)n, sizeof *p->m);
    p->v = calloc((size_t)n, sizeof *p->v);
    memcpy(p->w, w0, (size_t)n * sizeof *w0);
}

void ref_optim_param_free(ref_optim_param *p)
{
    free(p->w);
    free(p->m);
    free(p->v);
}

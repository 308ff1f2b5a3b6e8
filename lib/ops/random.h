/* Builders of the ops that draw random numbers (random_ops.c) and of concat /
 * slice (concat.c). Random numbers come from Philox4x32-10 (cl/philox.cl,
 * host twin ops/philox.h): the plan's seed, the op kind, the plan's step counter
 * (advanced by every aecl_plan_run) and the op node's id select the stream, so
 * two dropouts differ, each step differs, and a step replayed with
 * aecl_plan_set_step gives the same numbers again. Backward kernels regenerate
 * the forward's numbers (nothing is stored between the passes). */
#ifndef AECL_OPS_RANDOM_H
#define AECL_OPS_RANDOM_H

#include "graph/graph.h"

/* Training-time inverted dropout: each element kept with probability 1 - p and
 * scaled by 1 / (1 - p), else 0; the gradient uses the same mask. p = 0 returns
 * x itself; p must lie in [0, 1). */
aecl_tensor *aecl_dropout(aecl_graph *g, aecl_tensor *x, float p);

/* Input corruption for denoising autoencoders. */
typedef enum aecl_noise_kind {
    AECL_NOISE_GAUSSIAN = 0,     /* x + param * N(0, 1), param = sigma >= 0 */
    AECL_NOISE_MASK = 1,         /* each element zeroed with probability param */
    AECL_NOISE_SALT_PEPPER = 2   /* with probability param set to 0 or 1, half each */
} aecl_noise_kind;

/* clip != 0 clamps the result to [0, 1]. The gradient (rarely needed: noise is
 * applied to data) passes straight through where the element was neither
 * replaced nor clipped, and is 0 there otherwise. param = 0 without clip
 * returns x itself. */
aecl_tensor *aecl_noise(aecl_graph *g, aecl_tensor *x, aecl_noise_kind kind, float param, int clip);

/* VAE sampling: z = mu + exp(logvar / 2) * eps, eps ~ N(0, 1) (sample != 0);
 * sample = 0 returns mu itself (the mean, for encoding and inference).
 * Gradients: dmu = dz, dlogvar = dz * eps * exp(logvar / 2) / 2. */
aecl_tensor *aecl_reparameterize(aecl_graph *g, aecl_tensor *mu, aecl_tensor *logvar, int sample);

/* ---- concat.c ------------------------------------------------------------------ */

/* Joins a and b along `axis` (all other extents equal): [N, Ca, ...] and
 * [N, Cb, ...] -> [N, Ca + Cb, ...] for axis 1. Copies. */
aecl_tensor *aecl_concat(aecl_graph *g, aecl_tensor *a, aecl_tensor *b, int axis);
/* x[..., start : start + len, ...] along `axis` (a copy). */
aecl_tensor *aecl_slice(aecl_graph *g, aecl_tensor *x, int axis, int start, int len);
/* Splits x along `axis` into the first size0 entries (*a) and the rest (*b),
 * e.g. one dense head of 2L outputs into mu and logvar. Returns the graph's
 * status (AECL_OK, or the sticky error with *a = *b = NULL). */
aecl_status aecl_split(aecl_graph *g, aecl_tensor *x, int axis, int size0, aecl_tensor **a, aecl_tensor **b);

#endif

/* Host-side input corruption for `aecl denoise`: the same kinds as training's
 * noise op, seeded per sample so results do not depend on how data is split. */
#include "nn/app.h"
#include "ops/philox.h"
#include "rt/error.h"

#include <stdlib.h>
#include <string.h>

#define NOISE_STREAM 18u   /* host draws of the applications (not a kernel stream) */

aecl_status aecl_app_noise_parse(const char *text, aecl_app_noise *out)
{
    static const struct { const char *name; aecl_app_noise_kind kind; } kinds[] = {
        {"gaussian", AECL_APP_NOISE_GAUSSIAN}, {"mask", AECL_APP_NOISE_MASK}, {"saltpepper", AECL_APP_NOISE_SALTPEPPER}};
    const char *colon = text ? strchr(text, ':') : NULL;
    for (size_t i = 0; colon && i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strlen(kinds[i].name) != (size_t)(colon - text) || strncmp(text, kinds[i].name, (size_t)(colon - text))) continue;
        char *end;
        double v = strtod(colon + 1, &end);
        int ok = colon[1] && !*end && v >= 0 && (kinds[i].kind == AECL_APP_NOISE_GAUSSIAN ? v < 1e6 : v <= 1);
        AECL_RETURN_IF(!ok, AECL_ERR_INVALID_ARG, NULL, "noise '%s': the level must be %s", text,
                       kinds[i].kind == AECL_APP_NOISE_GAUSSIAN ? "a sigma >= 0" : "a probability in [0, 1]");
        *out = (aecl_app_noise){kinds[i].kind, (float)v};
        return AECL_OK;
    }
    return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "noise '%s': expected gaussian:SIGMA, mask:P or saltpepper:P",
                     text ? text : "(null)");
}

void aecl_app_noise_apply(const aecl_app_noise *nz, float *x, size_t n, size_t features, uint64_t seed)
{
    uint32_t s = (uint32_t)seed, op = (uint32_t)(seed >> 32);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < features; k++) {
            float *v = &x[i * features + k], y = *v;
            uint32_t kk = (uint32_t)(2 * k);
            if (nz->kind == AECL_APP_NOISE_GAUSSIAN) y += nz->level * aecl_rng_normal(s, NOISE_STREAM, (uint32_t)i, op, kk);
            else if (aecl_rng_uniform(s, NOISE_STREAM, (uint32_t)i, op, kk) < nz->level)
                y = nz->kind == AECL_APP_NOISE_MASK ? 0.0f
                  : aecl_rng_uniform(s, NOISE_STREAM, (uint32_t)i, op, kk + 1) < 0.5f ? 0.0f : 1.0f;
            *v = y < 0 ? 0.0f : y > 1 ? 1.0f : y;
        }
}

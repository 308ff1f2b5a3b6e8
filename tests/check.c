#include "check.h"
#include <stdlib.h>

int check_failures, check_passes;
static aecl_ctx *shared_ctx;

static void free_shared(void) { aecl_ctx_free(shared_ctx); }

aecl_ctx *test_ctx(void)
{
    if (shared_ctx) return shared_ctx;
    if (aecl_ctx_create(NULL, &shared_ctx) != AECL_OK) {
        fprintf(stderr, "no OpenCL device: %s\n", aecl_ctx_last_error(NULL));
        exit(1);
    }
    atexit(free_shared);
    return shared_ctx;
}

double test_rel_err(const float *a, const float *b, size_t n, double atol, double rtol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (atol + rtol * fabs((double)b[i]));
        if (!(e <= worst)) worst = e; /* NaN propagates as "worst" */
    }
    return worst;
}

void test_fill_uniform(float *x, size_t n, float lo, float hi, unsigned *state)
{
    for (size_t i = 0; i < n; i++) {
        *state = *state * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)((*state >> 8) * (1.0 / 16777216.0));
    }
}

int test_finish(void)
{
    printf("%d passed, %d failed\n", check_passes, check_failures);
    return check_failures ? 1 : 0;
}

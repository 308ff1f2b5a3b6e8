/* The FP32 peak kernel (cl/peak.cl, lib/rt/peak.c): every item's result equals
 * the recurrence computed in C (aecl_device_peak checks it and fails otherwise),
 * at an item count that is no multiple of the work-group size; the FLOP count is
 * the kernel's; a calibrated run gives a positive rate. Small sizes, so that it
 * also runs on Oclgrind (oclgrind_test_rt_peak). */
#include "check.h"
#include "rt/rt.h"

#include <string.h>

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    int sim = ctx && strstr(aecl_ctx_device(ctx)->name, "Oclgrind") != NULL;
    aecl_peak_opts o = {.items = 37, .iters = 5, .runs = 1};
    aecl_peak pk = {0};
    CHECK_OK(ctx, aecl_device_peak(ctx, &o, &pk));
    CHECK_MSG(pk.flops == 2.0 * 16 * pk.vector_width * 5 * 37, "flops %g, vector width %d", pk.flops,
              pk.vector_width);
    CHECK(pk.vector_width == 1 || pk.vector_width == 2 || pk.vector_width == 4 || pk.vector_width == 8 ||
          pk.vector_width == 16);
    CHECK(pk.seconds > 0 && pk.gflops > 0);
    if (!sim) {
        /* The calibrated measurement `aecl bench` makes, kept short. */
        aecl_peak_opts c = {.seconds = 0.01, .runs = 3};
        CHECK_OK(ctx, aecl_device_peak(ctx, &c, &pk));
        CHECK(pk.gflops > 0 && pk.seconds > 0);
    }
    CHECK(aecl_device_peak(ctx, NULL, &pk) == AECL_ERR_INVALID_ARG);
    return test_finish();
}

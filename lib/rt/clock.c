/* A monotonic clock for timing (benchmarks, GEMM path choice, samples/s). */
#include "rt/rt.h"

#include <time.h>

double aecl_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

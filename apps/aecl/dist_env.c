/* What a launcher's environment says about this process, and the device of
 * `--device local`; shared by the builds with and without MPI (dist.h). */
#include "dist_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first of the variables that is a whole number >= 0, else -1. */
static long env_long(const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = getenv(names[i]);
        char *end;
        if (!s || !*s) continue;
        long v = strtol(s, &end, 10);
        if (*end == 0 && v >= 0) return v;
    }
    return -1;
}

/* Open MPI's mpirun/mpiexec, then MPICH-style (Hydra, Intel MPI) PMI. */
long dist_env_size(void)
{
    static const char *const v[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    return env_long(v, 2);
}

int dist_stdout_is_tty(void) { return isatty(1) && dist_env_size() < 0; }

long dist_env_rank(void)
{
    static const char *const v[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK"};
    long r = env_long(v, 2);
    return r < 0 ? 0 : r;
}

long dist_env_local_rank(void)
{
    static const char *const v[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"};
    long r = env_long(v, 2);
    return r < 0 ? 0 : r;
}

/* The type `local` counts: the default device's (the first GPU when there is
 * one), so a GPU machine's ranks spread over its GPUs, a CPU-only one's over its
 * CPU devices. */
static aecl_device_type local_type(const aecl_device_info *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i].is_default) return d[i].type;
    for (size_t i = 0; i < n; i++)
        if (d[i].type == AECL_DEVICE_GPU && !d[i].is_simulator) return AECL_DEVICE_GPU;
    return AECL_DEVICE_CPU;
}

const char *dist_device(const char *sel, char *buf, size_t cap)
{
    if (!sel || strcmp(sel, "local")) return sel;
    aecl_device_info *d;
    size_t n;
    /* No device at all: the default's own error names that. */
    if (aecl_devices_list(&d, &n) != AECL_OK) return NULL;
    aecl_device_type type = local_type(d, n);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += d[i].type == type && !d[i].is_simulator;
    size_t want = count ? (size_t)dist_env_local_rank() % count : 0;
    const char *out = NULL;
    for (size_t i = 0, k = 0; i < n && !out; i++) {
        if (d[i].type != type || d[i].is_simulator) continue;
        if (k++ == want) {
            snprintf(buf, cap, "%u:%u", d[i].platform_index, d[i].device_index);
            out = buf;
        }
    }
    free(d);
    return out;
}

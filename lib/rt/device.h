/* All devices of all platforms, as a table, and selection in it. */
#ifndef AECL_RT_DEVICE_H
#define AECL_RT_DEVICE_H

#include "rt/ctx.h"

typedef struct aecl_device_ref {
    cl_platform_id platform;
    cl_device_id device;
} aecl_device_ref;

typedef struct aecl_device_set {
    aecl_device_ref *devices;
    aecl_device_info *info;
    size_t count;
    size_t default_index;   /* aecl_device_default over info */
} aecl_device_set;

/* Errors go to the thread's message slot (there is no context yet). */
aecl_status aecl_device_set_load(aecl_device_set *s);
void aecl_device_set_free(aecl_device_set *s);
/* Resolves a selector (see aecl_ctx_create; NULL or "" reads $AECL_DEVICE) to an
 * index in the set, and writes why into that device's info.chosen_because. */
aecl_status aecl_device_select(aecl_device_set *s, const char *selector, size_t *out);

/* ---- the choice itself: pure functions over device infos --------------------
 * They read only the infos (with is_simulator and failed_selftest set), so tests
 * can feed them any list of devices. */

/* 1 when d's platform, vendor or name is in the table of known simulators. */
int aecl_device_is_simulator(const aecl_device_info *d);
/* The default of n >= 1 devices: the first GPU, else the first CPU, else the
 * first device, skipping simulators and failed devices unless nothing else is
 * there; why ("default: first GPU", ...) goes to why[cap] (why may be NULL when
 * cap is 0). */
size_t aecl_device_default(const aecl_device_info *info, size_t n, char *why, size_t cap);
/* selector if non-empty, else env_selector (the value of $AECL_DEVICE) if
 * non-empty, else the default. A named device is used even when it is a
 * simulator or failed selftest. AECL_ERR_NO_DEVICE (thread message listing the
 * devices) when a selector matches nothing. */
aecl_status aecl_device_choose(const aecl_device_info *info, size_t n, const char *selector,
                               const char *env_selector, size_t *out, char *why, size_t cap);

/* ---- devices that failed `aecl selftest` (selftest.c) -----------------------
 * A small file in the kernel cache's folder lists them, one line of "name<TAB>
 * driver version" each. Nothing is read or written while the cache is off
 * (AECL_CACHE=0) or has no folder. */

/* Records that the selftest failed (failed = 1) or passed (0) on d; rewrites the
 * file (atomically) only when that changes it. The file's path goes to
 * path[cap] when path is not NULL ("" when the cache is off). */
aecl_status aecl_selftest_record(aecl_ctx *ctx, const aecl_device_info *d, int failed, char *path, size_t cap);
/* Sets failed_selftest on those of the n infos that the record lists. */
void aecl_selftest_mark(aecl_device_info *info, size_t n);

#endif

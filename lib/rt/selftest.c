/* aecl_selftest: one kernel from cl/ run on the device and checked on the host;
 * and the record of devices whose selftest failed, which the default device
 * choice skips (rt/device.h). */
#include "base/atomic.h"
#include "rt/device.h"
#include "rt/launch.h"
#include "rt/program.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aecl_status aecl_selftest(aecl_ctx *ctx)
{
    enum { N = 1000 }; /* not a multiple of any work-group size */
    float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = (float)i * 0.5f - 100.0f;
    aecl_buffer *bx = NULL, *by = NULL;
    cl_kernel k = NULL;
    aecl_status st = aecl_buffer_create(ctx, N, sizeof(float), &bx);
    if (st == AECL_OK) st = aecl_buffer_create(ctx, N, sizeof(float), &by);
    if (st == AECL_OK) st = aecl_buffer_upload(bx, 0, x, sizeof x);
    if (st == AECL_OK) st = aecl_kernel_create(ctx, "selftest.cl", "", "selftest_axpb", &k);
    if (st == AECL_OK) {
        cl_mem mx = aecl_buffer_cl(bx), my = aecl_buffer_cl(by);
        int off = 0, n = N;
        float a = 3.0f, b = -2.0f;
        cl_int err = clSetKernelArg(k, 0, sizeof mx, &mx) | clSetKernelArg(k, 1, sizeof off, &off) |
                     clSetKernelArg(k, 2, sizeof my, &my) | clSetKernelArg(k, 3, sizeof off, &off) |
                     clSetKernelArg(k, 4, sizeof a, &a) | clSetKernelArg(k, 5, sizeof b, &b) |
                     clSetKernelArg(k, 6, sizeof n, &n);
        if (err != CL_SUCCESS) st = aecl_fail(ctx, AECL_ERR_OPENCL, "selftest: clSetKernelArg failed");
        aecl_launch l = {.label = "selftest", .kernel = k, .dim = 1};
        aecl_range_1d(ctx, k, N, &l.global[0], &l.local[0]);
        if (st == AECL_OK) st = aecl_launch_enqueue(ctx, &l, NULL);
        if (st == AECL_OK) st = aecl_buffer_download(by, 0, y, sizeof y);
        for (int i = 0; st == AECL_OK && i < N; i++)
            if (fabsf(y[i] - (3.0f * x[i] - 2.0f)) > 1e-4f)
                st = aecl_fail(ctx, AECL_ERR_OPENCL, "selftest: y[%d] = %g on %s, expected %g", i, y[i],
                               ctx->info.name, 3.0f * x[i] - 2.0f);
    }
    if (k) clReleaseKernel(k);
    aecl_buffer_free(bx);
    aecl_buffer_free(by);
    return st;
}

/* ---- the record of failed devices ------------------------------------------ */

#define RECORD_FILE "selftest-failures.txt"
#define RECORD_MAX (64 * 1024) /* a few hundred devices; a larger file is not ours */

/* "<cache dir>/selftest-failures.txt"; 0 when the cache is off. */
static int record_path(char *path, size_t cap, aecl_bincache *c)
{
    aecl_bincache_init(c);
    if (!c->enabled) return 0;
    snprintf(path, cap, "%s/%s", c->dir, RECORD_FILE);
    return 1;
}

/* "name<TAB>driver", with tabs and line breaks inside either made spaces so the
 * line format holds for any name. */
static void device_key(const aecl_device_info *d, char *key, size_t cap)
{
    snprintf(key, cap, "%s\t%s", d->name, d->driver_version);
    size_t tab = strlen(d->name) < cap ? strlen(d->name) : cap - 1;
    for (size_t i = 0; key[i]; i++)
        if (i != tab && (key[i] == '\t' || key[i] == '\n' || key[i] == '\r')) key[i] = ' ';
}

/* The record's text (malloc'd; "" when missing or unreadable, as if empty). */
static char *read_record(const char *path)
{
    char *text = calloc(RECORD_MAX + 1, 1);
    FILE *f = text ? fopen(path, "rb") : NULL;
    if (f) {
        size_t n = fread(text, 1, RECORD_MAX, f);
        text[n] = 0;
        fclose(f);
    }
    return text;
}

/* 1 when a line of text is exactly key. */
static int record_has(const char *text, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = text; *p;) {
        if (!strncmp(p, key, k) && (p[k] == '\n' || p[k] == 0)) return 1;
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    return 0;
}

void aecl_selftest_mark(aecl_device_info *info, size_t n)
{
    char path[1100], key[256];
    aecl_bincache c;
    if (!record_path(path, sizeof path, &c)) return;
    char *text = read_record(path);
    for (size_t i = 0; text && i < n; i++) {
        device_key(&info[i], key, sizeof key);
        info[i].failed_selftest = record_has(text, key);
    }
    free(text);
}

/* Writes text's device lines other than key, then key when failed. */
static aecl_status write_record(aecl_ctx *ctx, const char *path, const char *text, const char *key, int failed)
{
    aecl_atomic_file f;
    AECL_TRY(aecl_atomic_open(ctx, path, &f));
    aecl_status st = aecl_atomic_printf(ctx, &f, "# devices whose last `aecl selftest` failed (name<TAB>driver "
                                                 "version): not a default until it passes again\n");
    for (const char *p = text; st == AECL_OK && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        int keep = len && p[0] != '#' && !(len == strlen(key) && !strncmp(p, key, len));
        if (keep) st = aecl_atomic_printf(ctx, &f, "%.*s\n", (int)len, p);
        p += len + (nl != NULL);
    }
    if (st == AECL_OK && failed) st = aecl_atomic_printf(ctx, &f, "%s\n", key);
    if (st != AECL_OK) { aecl_atomic_abort(&f); return st; }
    return aecl_atomic_commit(ctx, &f);
}

aecl_status aecl_selftest_record(aecl_ctx *ctx, const aecl_device_info *d, int failed, char *path, size_t cap)
{
    char file[1100], key[256];
    aecl_bincache c;
    if (path && cap) path[0] = 0;
    AECL_RETURN_IF(!d, AECL_ERR_INVALID_ARG, ctx, "aecl_selftest_record: NULL device");
    if (!record_path(file, sizeof file, &c)) return AECL_OK;
    if (path) snprintf(path, cap, "%s", file);
    device_key(d, key, sizeof key);
    char *text = read_record(file);
    AECL_RETURN_IF(!text, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    aecl_status st = AECL_OK;
    if (record_has(text, key) != failed) { /* write only when the record changes */
        st = aecl_bincache_make_dir(&c) ? write_record(ctx, file, text, key, failed)
                                        : aecl_fail(ctx, AECL_ERR_IO, "cannot create the cache folder %s", c.dir);
    }
    free(text);
    return st;
}

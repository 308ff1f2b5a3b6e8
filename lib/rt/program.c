/* aecl_program_get: one build per context and (file, options), served from the
 * context's table, else from the disk cache, else compiled from source. */
#include "rt/error.h"
#include "rt/program.h"
#include "rt/rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every program is OpenCL C 1.2: drivers that default to newer standards must
 * not let a newer feature slip into kernels that have to run everywhere. */
#define BASE_OPTIONS "-cl-std=CL1.2"

static char *full_options(const char *options)
{
    size_t n = strlen(BASE_OPTIONS) + strlen(options) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s %s", BASE_OPTIONS, options);
    return s;
}

/* The name of a program in messages: cl/<file>, or a generated program's name,
 * which has no file under cl/ (it is "name#hash"). */
static const char *shown_dir(const char *file) { return strchr(file, '#') ? "" : "cl/"; }

/* Everything the binary depends on; the cache compares all of it, not a hash. */
static char *cache_key(const aecl_ctx *ctx, const char *file, const char *opts, const char *src)
{
    unsigned char h[16];
    char hex[33];
    aecl_hash128(src, strlen(src), h);
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", h[i]);
    size_t n = strlen(file) + strlen(opts) + 512;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "aecl-program-v3\nfile=%s\noptions=%s\nplatform=%s\ndevice=%s\ndriver=%s\nsource=%s", file,
                 opts, ctx->info.platform_name, ctx->info.name, ctx->info.driver_version, hex);
    return k;
}

static aecl_status build_failed(aecl_ctx *ctx, cl_program prog, const char *file, const char *src, const char *opts,
                                cl_int err)
{
    size_t n = 0;
    clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
    char *log = malloc(n + 1);
    if (log && clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, n, log, NULL) == CL_SUCCESS)
        log[n] = 0;
    else if (log)
        log[0] = 0;
    /* Every implementation's log then points into the kernel file, #line or not. */
    char *located = log ? aecl_build_log_locate(src, log) : NULL;
    aecl_fail(ctx, AECL_ERR_BUILD, "building %s%s with options '%s' failed (%s):\n%s", shown_dir(file), file, opts,
              aecl_cl_error_name(err), located ? located : log ? log : "(no build log)");
    free(located);
    free(log);
    return AECL_ERR_BUILD;
}

static aecl_status build_from_source(aecl_ctx *ctx, const char *file, const char *src, const char *opts,
                                     cl_program *out)
{
    cl_int err;
    cl_program p = clCreateProgramWithSource(ctx->context, 1, &src, NULL, &err);
    if (err != CL_SUCCESS) return aecl_fail_cl(ctx, err, "clCreateProgramWithSource", __FILE__, __LINE__);
    err = clBuildProgram(p, 1, &ctx->device, opts, NULL, NULL);
    if (err != CL_SUCCESS) {
        aecl_status st = err == CL_BUILD_PROGRAM_FAILURE || err == CL_INVALID_BUILD_OPTIONS
                             ? build_failed(ctx, p, file, src, opts, err)
                             : aecl_fail_cl(ctx, err, "clBuildProgram", __FILE__, __LINE__);
        clReleaseProgram(p);
        return st;
    }
    *out = p;
    ctx->prog_stats.builds_from_source++;
    return AECL_OK;
}

/* 1 when the driver takes the cached binary. Whether it is the right program shows
 * only when a kernel is created from it (aecl_program_rebuild_cached). */
static int build_from_binary(aecl_ctx *ctx, const unsigned char *bin, size_t len, const char *opts, cl_program *out)
{
    cl_int err, bstatus;
    cl_program p = clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &len, &bin, &bstatus, &err);
    if (err != CL_SUCCESS || bstatus != CL_SUCCESS) {
        if (p && err == CL_SUCCESS) clReleaseProgram(p);
        return 0;
    }
    if (clBuildProgram(p, 1, &ctx->device, opts, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(p);
        return 0;
    }
    *out = p;
    return 1;
}

/* A driver that keeps a disk cache of its own builds is not asked for binaries.
 * PoCL (unless POCL_KERNEL_CACHE=0) keeps every program and every compiled
 * work-group function under its POCL_CACHE_DIR, so a second run builds nothing
 * anyway; and a binary costs it a compile of every kernel of the program for
 * any work-group size, kernels never launched included: about 40% of the MLP's
 * first-run build time. aecl's entries are still read where they exist. */
static int driver_caches_builds(const aecl_ctx *ctx)
{
    const char *pocl_cache = getenv("POCL_KERNEL_CACHE");
    return strstr(ctx->info.platform_name, "Portable Computing Language") && !(pocl_cache && !strcmp(pocl_cache, "0"));
}

static void store_binary(aecl_ctx *ctx, const aecl_bincache *c, const char *key, cl_program p)
{
    size_t len = 0;
    if (!c->enabled || driver_caches_builds(ctx)) return; /* nothing to write, nothing to warn about */
    if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS || !len) return;
    unsigned char *bin = malloc(len);
    if (bin && clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS &&
        !aecl_bincache_write(ctx, c, key, bin, len))
        aecl_log(ctx, AECL_LOG_WARN, "could not write the kernel cache in %s", c->dir);
    free(bin);
}

/* A cache the environment asks for but that is off says why once per context: on
 * the context's first program. */
static void warn_cache_off(aecl_ctx *ctx, const aecl_bincache *c)
{
    if (!c->enabled && c->off_because[0] && !ctx->programs)
        aecl_log(ctx, AECL_LOG_WARN, "%s; kernels are built from source", c->off_because);
}

/* 1 when *out was made from the cache's entry for key. A bad entry is counted and
 * logged (a warning when another user could have written it), for the caller to
 * rebuild and replace. */
static int load_cached(aecl_ctx *ctx, const aecl_bincache *c, const char *key, const char *file, const char *opts,
                       cl_program *out)
{
    unsigned char *bin = NULL;
    size_t len = 0;
    char why[AECL_BINCACHE_DIR_CAP + 200];
    int r = aecl_bincache_read(c, key, &bin, &len, why, sizeof why);
    if (r == AECL_BINCACHE_HIT && !build_from_binary(ctx, bin, len, opts, out)) {
        r = AECL_BINCACHE_BAD;
        snprintf(why, sizeof why, "the driver refused the cached binary");
    }
    free(bin);
    if (r == AECL_BINCACHE_HIT) ctx->prog_stats.loads_from_disk++;
    if (r < 0) {
        ctx->prog_stats.cache_rejects++;
        aecl_log(ctx, r == AECL_BINCACHE_UNTRUSTED ? AECL_LOG_WARN : AECL_LOG_INFO,
                 "kernel cache: %s; rebuilding %s%s from source", why, shown_dir(file), file);
    }
    return r == AECL_BINCACHE_HIT;
}

static aecl_status build_and_store(aecl_ctx *ctx, const aecl_bincache *c, const char *key, const char *file,
                                   const char *src, const char *opts, cl_program *out)
{
    AECL_TRY(build_from_source(ctx, file, src, opts, out));
    store_binary(ctx, c, key, *out);
    return AECL_OK;
}

/* *from_cache tells whether *out is the disk cache's binary. */
static aecl_status load_or_build(aecl_ctx *ctx, const char *file, const char *src, const char *opts, cl_program *out,
                                 int *from_cache)
{
    char *key = cache_key(ctx, file, opts, src);
    AECL_RETURN_IF(!key, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    aecl_bincache cache;
    aecl_bincache_init(&cache);
    warn_cache_off(ctx, &cache);
    *from_cache = load_cached(ctx, &cache, key, file, opts, out);
    aecl_status st = *from_cache ? AECL_OK : build_and_store(ctx, &cache, key, file, src, opts, out);
    free(key);
    return st;
}

/* An entry of the context's table with what only this file needs. The shared part
 * comes first, so ctx->programs links these. A program loaded from the disk cache
 * keeps its source: the entry may hold another program's binary, found out only
 * when a kernel it should have is missing, and then it is rebuilt. */
typedef struct prog_slot {
    aecl_prog_entry e;
    char *cached_src; /* non-NULL while e.program is the disk cache's binary */
} prog_slot;

static void slot_free(prog_slot *s)
{
    if (!s) return;
    free(s->e.file);
    free(s->e.options);
    free(s->cached_src);
    free(s);
}

/* The table entry for (name, options), or NULL. */
static aecl_prog_entry *find_entry(aecl_ctx *ctx, const char *name, const char *options)
{
    for (aecl_prog_entry *e = ctx->programs; e; e = e->next)
        if (!strcmp(e->file, name) && !strcmp(e->options, options)) return e;
    return NULL;
}

static cl_program find_program(aecl_ctx *ctx, const char *name, const char *options)
{
    aecl_prog_entry *e = find_entry(ctx, name, options);
    if (!e) return NULL;
    ctx->prog_stats.memory_hits++;
    return e->alias_of ? e->alias_of->program : e->program;
}

int aecl_program_known(aecl_ctx *ctx, const char *file, const char *options)
{
    return find_entry(ctx, file, options) != NULL;
}

const char *aecl_program_suffix(aecl_ctx *ctx, const char *file, const char *options)
{
    aecl_prog_entry *e = find_entry(ctx, file, options ? options : "");
    return e && e->alias_of ? e->suffix : "";
}

aecl_status aecl_program_alias(aecl_ctx *ctx, const char *file, const char *options, cl_program target,
                               const char *suffix)
{
    aecl_prog_entry *to = ctx->programs;
    while (to && (to->alias_of || to->program != target)) to = to->next;
    AECL_RETURN_IF(!to || strlen(suffix) >= sizeof to->suffix, AECL_ERR_INVALID_ARG, ctx,
                   "aecl_program_alias: no program to alias, or a long suffix");
    prog_slot *s = calloc(1, sizeof *s);
    if (s) { s->e.file = strdup(file); s->e.options = strdup(options); }
    if (!s || !s->e.file || !s->e.options) {
        slot_free(s);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    s->e.alias_of = to;
    strcpy(s->e.suffix, suffix);
    s->e.next = ctx->programs;
    ctx->programs = &s->e;
    return AECL_OK;
}

/* Builds (or loads) src and adds it to the context's table under (name, options). */
static aecl_status add_program(aecl_ctx *ctx, const char *name, const char *src, const char *options, cl_program *out)
{
    char *opts = full_options(options);
    prog_slot *s = calloc(1, sizeof *s);
    if (s) { s->e.file = strdup(name); s->e.options = strdup(options); }
    if (!opts || !s || !s->e.file || !s->e.options) {
        free(opts);
        slot_free(s);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    int from_cache = 0;
    aecl_status st = load_or_build(ctx, name, src, opts, &s->e.program, &from_cache);
    free(opts);
    if (st == AECL_OK && from_cache && !(s->cached_src = strdup(src))) {
        clReleaseProgram(s->e.program);
        st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    if (st != AECL_OK) { slot_free(s); return st; }
    s->e.next = ctx->programs;
    ctx->programs = &s->e;
    *out = s->e.program;
    return AECL_OK;
}

/* Builds a slot's program from its kept source and puts it in the table and the
 * disk cache in place of the cached binary. */
static aecl_status rebuild_slot(aecl_ctx *ctx, prog_slot *s)
{
    char *opts = full_options(s->e.options);
    char *key = opts ? cache_key(ctx, s->e.file, opts, s->cached_src) : NULL;
    aecl_status st = key ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    aecl_bincache cache;
    aecl_bincache_init(&cache);
    cl_program fresh;
    if (st == AECL_OK) st = build_and_store(ctx, &cache, key, s->e.file, s->cached_src, opts, &fresh);
    if (st == AECL_OK) {
        clReleaseProgram(s->e.program); /* kernels made from it keep it alive */
        s->e.program = fresh;
        free(s->cached_src);
        s->cached_src = NULL;
    }
    free(key);
    free(opts);
    return st;
}

aecl_status aecl_program_rebuild_cached(aecl_ctx *ctx, cl_program *p, int *rebuilt)
{
    *rebuilt = 0;
    prog_slot *s = NULL;
    for (aecl_prog_entry *e = ctx->programs; e && !s; e = e->next)
        if (e->program == *p) s = (prog_slot *)e;
    if (!s || !s->cached_src) return AECL_OK;
    ctx->prog_stats.cache_rejects++;
    aecl_log(ctx, AECL_LOG_WARN, "kernel cache: a kernel could not be created from the cached binary of %s%s; "
             "rebuilding it from source", shown_dir(s->e.file), s->e.file);
    AECL_TRY(rebuild_slot(ctx, s));
    *p = s->e.program;
    *rebuilt = 1;
    return AECL_OK;
}

aecl_status aecl_program_get(aecl_ctx *ctx, const char *file, const char *options, cl_program *out)
{
    if (!ctx || !file || !out) return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_program_get: NULL argument");
    if (!options) options = "";
    if ((*out = find_program(ctx, file, options))) return AECL_OK;
    char *src = NULL;
    AECL_TRY(aecl_kernel_source(ctx, file, &src));
    aecl_status st = add_program(ctx, file, src, options, out);
    free(src);
    return st;
}

aecl_status aecl_program_from_text(aecl_ctx *ctx, const char *name, const char *src, cl_program *out)
{
    if (!ctx || !name || !src || !out)
        return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "aecl_program_from_text: NULL argument");
    /* The table key carries a hash of the text: two different texts under one
     * name never share a program. */
    char key[256];
    snprintf(key, sizeof key, "%.200s#%016llx", name, (unsigned long long)aecl_hash64(src, strlen(src), 0));
    if ((*out = find_program(ctx, key, ""))) return AECL_OK;
    return add_program(ctx, key, src, "", out);
}

void aecl_programs_release(aecl_ctx *ctx)
{
    aecl_prog_entry *e = ctx->programs;
    while (e) {
        aecl_prog_entry *next = e->next;
        if (!e->alias_of) clReleaseProgram(e->program);
        slot_free((prog_slot *)e);
        e = next;
    }
    ctx->programs = NULL;
}

void aecl_ctx_program_stats(const aecl_ctx *ctx, aecl_program_stats *out)
{
    if (ctx && out) *out = ctx->prog_stats;
}

aecl_status aecl_build_all_kernels(aecl_ctx *ctx, unsigned *n_programs)
{
    char **names;
    size_t n;
    AECL_TRY(aecl_kernel_names(ctx, &names, &n));
    aecl_status st = AECL_OK;
    for (size_t i = 0; i < n && st == AECL_OK; i++) {
        cl_program p;
        st = aecl_program_get(ctx, names[i], "", &p);
    }
    if (n_programs) *n_programs = (unsigned)n;
    aecl_kernel_names_free(names, n);
    return st;
}

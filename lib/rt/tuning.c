/* The device-decision table (rt/tuning.h): the rules, the override parser and
 * the per-context copy. Every rule below replaced a query or an environment
 * variable that an op file used to read itself. */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include "rt/tuning.h"
#include "rt/ctx.h"
#include "rt/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pow2_floor(int x, int lo, int hi)
{
    int p = lo;
    while (p * 2 <= x && p * 2 <= hi) p *= 2;
    return p;
}

static size_t size_min(size_t a, size_t b) { return a < b ? a : b; }

/* The rules. CPUs (PoCL): a work-item is a loop over SIMD lanes, so kernels
 * take vectors of the native width and few, heavy items; measured on AVX-512
 * (docs/performance.md). GPUs and everything else: 4-wide vectors, small
 * register blocks, many items, work-groups of at most 256. */
static void decide_defaults(const aecl_tuning_facts *f, aecl_tuning *t, const aecl_tuning *steer)
{
    int cpu = t->cpu, native = f->native_floats > 0 ? f->native_floats : 8;
    int pref = f->preferred_floats > 0 ? f->preferred_floats : 4;
    size_t wg = f->max_wg ? f->max_wg : 1;
    t->wg_max = (int)size_min(wg, 1u << 16);
    t->local_mem = (int)(f->local_mem > (1u << 30) ? 1u << 30 : f->local_mem);
    t->simd = cpu ? (native >= 16 ? 16 : native >= 8 ? 8 : 4) : 0;
    if (steer->overridden & (1u << AECL_TUNE_KEY_simd)) t->simd = steer->simd;
    t->gemm_path = AECL_TUNE_GEMM_AUTO;
    t->gemm_kernel = AECL_TUNE_GK_AUTO; /* portable: the non-CPU kernels on any device */
    t->gemm_vw = cpu ? pow2_floor(pref, 4, 16) : 4;
    /* conv: with AVX-512's 32 vector registers a work-item holds 2 channel
     * vectors x 7-8 pixels (forward) or x 8-9 taps; with 16 registers one
     * vector x 8; GPUs small blocks, more items. */
    if (!cpu) {
        t->conv_vw = 4, t->conv_p = 4, t->conv_kv = 1, t->conv_wj = 4;
    } else if (native >= 16) {
        t->conv_vw = 16, t->conv_p = 8, t->conv_kv = 2, t->conv_wj = 8;
    } else {
        t->conv_vw = native >= 8 ? 8 : 4, t->conv_p = 8, t->conv_kv = 1, t->conv_wj = 8;
    }
    /* Random numbers: a Philox block per SIMD lane on CPUs, one per item on GPUs. */
    t->rng_blocks = t->simd ? t->simd : 1;
    /* Losses: vectors of the SIMD width (PoCL runs exp/log1p as vector calls only
     * within an item); a CPU runs a group item after item, so 16 items are
     * enough for a row (BCE 128 x 784: 0.13 ms with 16, 0.19 ms with 64). */
    t->loss_vw = t->simd ? t->simd : 4;
    t->loss_wg = cpu ? 16 : 64;
    /* A CPU device computes on the cores the host would sum on: there the
     * overlap hid nothing and cost 0.3-1.4 ms a step (apps/bench_dist, MLP, 2
     * ranks on 2 cores). A GPU computes apart from the host. */
    t->dist_overlap = !cpu;
}

/* ---- overrides ------------------------------------------------------------------ */

typedef struct key_def {
    const char *name;
    size_t off;
    char kind;
    int lo, hi;
    const char *help;
} key_def;

#define AECL_KEY_ROW(key, field, kind, lo, hi, help) {key, offsetof(aecl_tuning, field), kind, lo, hi, help},
static const key_def keys[] = {AECL_TUNING_KEYS(AECL_KEY_ROW)};
#undef AECL_KEY_ROW
enum { N_KEYS = AECL_TUNE_N_KEYS };

static int *field_of(aecl_tuning *t, const key_def *k) { return (int *)(void *)((char *)t + k->off); }

/* The index of `word` in a "a|b|c" list, or -1. */
static int word_index(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (int i = 0; *list; i++) {
        const char *bar = strchr(list, '|'), *end = bar ? bar : list + strcspn(list, " ");
        if ((size_t)(end - list) == n && !strncmp(list, word, n)) return i;
        if (!bar) break;
        list = bar + 1;
    }
    return -1;
}

static int parse_value(const key_def *k, const char *s, int *out)
{
    if (k->kind == 'e') {
        int i = word_index(k->help, s);
        return i >= 0 ? (*out = i, 1) : 0;
    }
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < k->lo || v > k->hi) return 0;
    if (k->kind == 'p' && (v & (v - 1))) return 0; /* 0 passes where lo allows it */
    *out = (int)v;
    return 1;
}

static const key_def *find_key(const char *name)
{
    for (int i = 0; i < N_KEYS; i++)
        if (!strcmp(keys[i].name, name)) return &keys[i];
    return NULL;
}

static void key_list(char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < N_KEYS && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", keys[i].name);
}

/* One pass over the spec: with t NULL only checks; else stores values and sets
 * override bits. Returns 0 with a message in err on the first bad token. */
static int apply_spec(const char *spec, aecl_tuning *t, char *err, size_t cap)
{
    if (!spec || !*spec) return 1;
    char *copy = strdup(spec), *save = NULL;
    if (!copy) return snprintf(err, cap, "AECL_TUNE: out of host memory"), 0;
    int ok = 1;
    for (char *tok = strtok_r(copy, ", \t;", &save); tok && ok; tok = strtok_r(NULL, ", \t;", &save)) {
        char *eq = strchr(tok, '=');
        const key_def *k = NULL;
        int v = 0;
        if (eq) *eq = 0;
        if (!eq || !(k = find_key(tok))) {
            char list[512];
            key_list(list, sizeof list);
            snprintf(err, cap, "AECL_TUNE: '%s' is not key=value with a known key (keys: %s)", tok, list);
            ok = 0;
        } else if (!parse_value(k, eq + 1, &v)) {
            if (k->kind == 'e') snprintf(err, cap, "AECL_TUNE: %s=%s: the value must be one of %s", tok, eq + 1, k->help);
            else
                snprintf(err, cap, "AECL_TUNE: %s=%s: the value must be %s from %d to %d (%s)", tok, eq + 1,
                         k->kind == 'p' ? "a power of two" : "a whole number", k->lo, k->hi, k->help);
            ok = 0;
        } else if (t) {
            *field_of(t, k) = v;
            t->overridden |= 1u << (k - keys);
        }
    }
    free(copy);
    return ok;
}

aecl_status aecl_tuning_decide(const aecl_tuning_facts *f, const char *spec, aecl_tuning *out, char *err,
                               size_t err_cap)
{
    memset(out, 0, sizeof *out);
    if (!apply_spec(spec, NULL, err, err_cap)) return AECL_ERR_INVALID_ARG;
    /* Two passes: the keys that steer the rules (type, simd) first, then the
     * rules, then every key again so that explicit values win. */
    aecl_tuning steer = {.cpu = f->type == AECL_DEVICE_CPU};
    apply_spec(spec, &steer, err, err_cap);
    out->cpu = steer.cpu;
    decide_defaults(f, out, &steer);
    apply_spec(spec, out, err, err_cap);
    /* The device's limits bound every override. */
    if ((size_t)out->wg_max > f->max_wg && f->max_wg) out->wg_max = (int)f->max_wg;
    if ((uint64_t)out->local_mem > f->local_mem && f->local_mem) out->local_mem = (int)f->local_mem;
    out->compute_units = f->compute_units ? f->compute_units : 1;
    out->max_wg_device = f->max_wg;
    memcpy(out->max_item_sizes, f->max_item_sizes, sizeof out->max_item_sizes);
    out->native_floats = f->native_floats;
    out->preferred_floats = f->preferred_floats;
    return AECL_OK;
}

void aecl_tuning_format(const aecl_tuning *t, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap) buf[0] = 0;
    for (int i = 0; i < N_KEYS && n < cap; i++) {
        const key_def *k = &keys[i];
        int v = *field_of((aecl_tuning *)t, k);
        char word[32];
        if (k->kind == 'e') { /* the v-th word of help */
            const char *s = k->help;
            for (int j = 0; j < v && strchr(s, '|'); j++) s = strchr(s, '|') + 1;
            size_t len = strcspn(s, "|");
            snprintf(word, sizeof word, "%.*s", (int)(len < 31 ? len : 31), s);
        } else {
            snprintf(word, sizeof word, "%d", v);
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s%s=%s%s", i ? " " : "", k->name, word,
                              t->overridden & (1u << i) ? "*" : "");
    }
}

/* ---- the context's table ----------------------------------------------------------- */

static void query_facts(const aecl_ctx *ctx, aecl_tuning_facts *f)
{
    cl_uint native = 0, pref = 0;
    memset(f, 0, sizeof *f);
    f->type = ctx->info.type;
    f->compute_units = ctx->info.compute_units;
    f->max_wg = ctx->info.max_work_group_size;
    f->local_mem = ctx->info.local_mem_bytes;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof native, &native, NULL))
        native = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof pref, &pref, NULL)) pref = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof f->max_item_sizes, f->max_item_sizes,
                        NULL))
        f->max_item_sizes[0] = f->max_item_sizes[1] = f->max_item_sizes[2] = f->max_wg;
    f->native_floats = (int)native;
    f->preferred_floats = (int)pref;
}

const aecl_tuning *aecl_ctx_tuning(const aecl_ctx *ctx) { return &ctx->tuning; }

aecl_status aecl_ctx_tune(aecl_ctx *ctx, const char *spec)
{
    aecl_tuning_facts f;
    query_facts(ctx, &f);
    const char *env = getenv("AECL_TUNE");
    size_t n = (env ? strlen(env) : 0) + (spec ? strlen(spec) : 0) + 2;
    char *both = malloc(n), err[1024];
    AECL_RETURN_IF(!both, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    snprintf(both, n, "%s,%s", env ? env : "", spec ? spec : "");
    aecl_tuning t;
    aecl_status st = aecl_tuning_decide(&f, both, &t, err, sizeof err);
    free(both);
    if (st != AECL_OK) return aecl_fail(ctx, st, "%s", err);
    ctx->tuning = t;
    return AECL_OK;
}

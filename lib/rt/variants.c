/* Variants of kernel files in one program.
 *
 * A kernel file built with several -D option sets (the conv kernels' blockings)
 * is a program per set, and a driver may charge a fixed cost per program: PoCL
 * preprocesses every program's source with opencl-c.h to hash it, 25-30 ms each
 * even on a cache hit, and its front end costs 0.1-0.2 s more per program on a
 * first run. aecl_program_variants builds the variants a plan needs as one
 * program: the -D values they share become #defines at the top, and each
 * variant's own become #defines around its copy of the file, with AECL_VARIANT
 * set to the suffix "_vI" that the file's kernel names carry (the file declares
 * `//@variants`). Each (file, options) then enters the context's table as an
 * alias of that program, and aecl_kernel_create appends its suffix. Where the
 * shared program does not build, each variant is left to its own. */
#include "base/buf.h"
#include "rt/error.h"
#include "rt/ctx.h"
#include "rt/program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 16
#define MAX_VARIANTS 32

/* Options split into tokens, each "-DNAME" or "-DNAME=VALUE"; 0 for anything else. */
typedef struct defs {
    int n;
    char tok[MAX_TOKENS][64];
} defs;

static int parse_defs(const char *options, defs *d)
{
    d->n = 0;
    for (const char *p = options; *p;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, " ");
        if (!len) break;
        if (d->n == MAX_TOKENS || len >= sizeof d->tok[0] || strncmp(p, "-D", 2) || len < 3) return 0;
        memcpy(d->tok[d->n], p, len);
        d->tok[d->n++][len] = 0;
        p += len;
    }
    return 1;
}

static int has_token(const defs *d, const char *t)
{
    for (int i = 0; i < d->n; i++)
        if (!strcmp(d->tok[i], t)) return 1;
    return 0;
}

/* "#define NAME VALUE" (or "NAME 1") of a "-DNAME[=VALUE]" token; with undef, "#undef NAME". */
static void put_define(aecl_strbuf *b, const char *tok, int undef)
{
    const char *name = tok + 2, *eq = strchr(name, '=');
    int nlen = eq ? (int)(eq - name) : (int)strlen(name);
    if (undef) aecl_strbuf_printf(b, "#undef %.*s\n", nlen, name);
    else aecl_strbuf_printf(b, "#define %.*s %s\n", nlen, name, eq ? eq + 1 : "1");
}

/* A set of variants: (file, options) and the options' tokens. */
typedef struct vset {
    int n;
    const char *file[MAX_VARIANTS], *options[MAX_VARIANTS];
    defs d[MAX_VARIANTS];
} vset;

static int has_variant(const vset *s, const char *file, const char *options)
{
    for (int j = 0; j < s->n; j++)
        if (!strcmp(s->file[j], file) && !strcmp(s->options[j], options)) return 1;
    return 0;
}

/* Adds (file, options) to s unless it is there or cannot share a program (not
 * a `//@variants` file, options other than -D tokens); 1 when it is in s. */
static int add_variant(aecl_ctx *ctx, vset *s, const char *file, const char *options)
{
    if (has_variant(s, file, options)) return 1;
    if (s->n == MAX_VARIANTS || !parse_defs(options, &s->d[s->n]) || !aecl_kernel_file_has_variants(ctx, file))
        return 0;
    s->file[s->n] = file;
    s->options[s->n++] = options;
    return 1;
}

/* One order for a set, whatever order a plan's nodes met it in: the same set
 * is the same text, which a driver's cache recognises. */
static void sort_set(vset *s)
{
    for (int i = 1; i < s->n; i++)
        for (int j = i; j > 0; j--) {
            int c = strcmp(s->file[j - 1], s->file[j]);
            if (c < 0 || (c == 0 && strcmp(s->options[j - 1], s->options[j]) <= 0)) break;
            const char *f = s->file[j], *o = s->options[j];
            defs t = s->d[j];
            s->file[j] = s->file[j - 1], s->options[j] = s->options[j - 1], s->d[j] = s->d[j - 1];
            s->file[j - 1] = f, s->options[j - 1] = o, s->d[j - 1] = t;
        }
}

/* 1 when every variant of s has the token t. */
static int in_every(const vset *s, const char *t)
{
    for (int k = 0; k < s->n; k++)
        if (!has_token(&s->d[k], t)) return 0;
    return 1;
}

/* The shared program's text: the tokens every variant has, then the variants. */
static aecl_status variants_text(aecl_ctx *ctx, const vset *s, char **out)
{
    int m = s->n;
    const defs *d = s->d;
    aecl_strbuf top = {0}, def[MAX_VARIANTS] = {{0}}, undef[MAX_VARIANTS] = {{0}};
    const char *vd[MAX_VARIANTS], *vu[MAX_VARIANTS];
    for (int t = 0; t < d[0].n; t++)
        if (in_every(s, d[0].tok[t])) put_define(&top, d[0].tok[t], 0);
    for (int k = 0; k < m; k++) {
        aecl_strbuf_printf(&def[k], "#define AECL_VARIANT _v%d\n", k);
        aecl_strbuf_str(&undef[k], "#undef AECL_VARIANT\n");
        for (int t = 0; t < d[k].n; t++) {
            if (in_every(s, d[k].tok[t])) continue;
            put_define(&def[k], d[k].tok[t], 0);
            put_define(&undef[k], d[k].tok[t], 1);
        }
        vd[k] = def[k].s ? def[k].s : "";
        vu[k] = undef[k].s ? undef[k].s : "";
    }
    char *body = NULL;
    int failed = top.failed;
    for (int k = 0; k < m; k++) failed |= def[k].failed | undef[k].failed;
    aecl_status st = failed ? aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory")
                            : aecl_kernel_source_variants(ctx, m, s->file, vd, vu, &body);
    if (st == AECL_OK) {
        aecl_strbuf_str(&top, body);
        if (!(*out = aecl_strbuf_take(&top))) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    free(body);
    aecl_strbuf_free(&top);
    for (int k = 0; k < m; k++) { aecl_strbuf_free(&def[k]); aecl_strbuf_free(&undef[k]); }
    return st;
}

/* Builds set s as one program and enters its variants not in the table yet as
 * aliases of it. *built = 0 when the program would not build (a warning). */
static aecl_status build_set(aecl_ctx *ctx, const vset *s, int *built)
{
    char *text = NULL, name[200] = "variants";
    *built = 0;
    AECL_TRY(variants_text(ctx, s, &text));
    for (int k = 0; k < s->n && strlen(name) + 40 < sizeof name; k++)
        snprintf(name + strlen(name), sizeof name - strlen(name), "%c%s", k ? '+' : ':', s->file[k]);
    cl_program prog;
    aecl_status st = aecl_program_from_text(ctx, name, text, &prog);
    free(text);
    /* Each variant built alone may still succeed (a driver's limit on a
     * program's size, a file that breaks the naming contract): the shared
     * program is an optimisation, so its failure is a warning. */
    if (st == AECL_ERR_BUILD || st == AECL_ERR_OPENCL) {
        aecl_log(ctx, AECL_LOG_WARN, "kernel variants could not share a program, built apart instead: %s",
                 aecl_ctx_last_error(ctx));
        return AECL_OK;
    }
    for (int k = 0; k < s->n && st == AECL_OK; k++) {
        if (aecl_program_known(ctx, s->file[k], s->options[k])) continue;
        char suffix[12];
        snprintf(suffix, sizeof suffix, "_v%d", k);
        st = aecl_program_alias(ctx, s->file[k], s->options[k], prog, suffix);
        if (st == AECL_OK) ctx->prog_stats.variants_shared++;
    }
    *built = st == AECL_OK;
    return st;
}

/* ---- the record of shared sets ------------------------------------------------
 * The sets built before, in aecl's cache folder (one entry per device and
 * driver, with the cache's ownership checks; newest first, a line a set,
 * "file\toptions" joined by '|'). A plan whose new variants a recorded set
 * holds builds that set: the same text, so the driver's cache has its program
 * and kernels. Without it, `aecl reconstruct` after `aecl train` of a conv
 * model built a program of its forward blockings anew: 2.8 s instead of 0.5 s
 * on an empty cache. Only hints: every variant read is checked like a new one. */

#define MAX_SETS 32

static void record_key(const aecl_ctx *ctx, char *key, size_t cap)
{
    snprintf(key, cap, "aecl-variant-sets-v1\nplatform=%s\ndevice=%s\ndriver=%s", ctx->info.platform_name,
             ctx->info.name, ctx->info.driver_version);
}

/* The record's text (malloc'd, NUL-terminated) or NULL. */
static char *read_record(const aecl_ctx *ctx, const aecl_bincache *c)
{
    char key[600], why[64];
    unsigned char *bin = NULL;
    size_t len = 0;
    record_key(ctx, key, sizeof key);
    if (aecl_bincache_read(c, key, &bin, &len, why, sizeof why) != AECL_BINCACHE_HIT) return NULL;
    char *text = malloc(len + 1);
    if (text) { memcpy(text, bin, len); text[len] = 0; }
    free(bin);
    return text;
}

/* Parses one line (modified in place) into s; 0 when a variant of it is not one. */
static int parse_line(aecl_ctx *ctx, char *line, vset *s)
{
    char *save = NULL;
    s->n = 0;
    for (char *v = strtok_r(line, "|", &save); v; v = strtok_r(NULL, "|", &save)) {
        char *tab = strchr(v, '\t');
        if (!tab) return 0;
        *tab = 0;
        if (!add_variant(ctx, s, v, tab + 1)) return 0;
    }
    return s->n > 0;
}

/* The newest recorded set holding every variant of want, parsed into *use with
 * its strings in *owned (to free); 0 when none does. */
static int find_superset(aecl_ctx *ctx, const char *record, const vset *want, vset *use, char **owned)
{
    for (const char *p = record; *p;) {
        size_t len = strcspn(p, "\n");
        char *line = malloc(len + 1);
        if (!line) return 0;
        memcpy(line, p, len);
        line[len] = 0;
        int all = parse_line(ctx, line, use);
        for (int k = 0; k < want->n && all; k++) all = has_variant(use, want->file[k], want->options[k]);
        if (all) { *owned = line; return 1; }
        free(line);
        p += len + (p[len] == '\n');
    }
    return 0;
}

/* Puts s first in the record, keeping at most MAX_SETS sets. */
static void add_to_record(aecl_ctx *ctx, const aecl_bincache *c, const char *record, const vset *s)
{
    aecl_strbuf b = {0};
    for (int k = 0; k < s->n; k++) aecl_strbuf_printf(&b, "%s%s\t%s", k ? "|" : "", s->file[k], s->options[k]);
    aecl_strbuf_str(&b, "\n");
    const char *p = record ? record : "";
    for (int kept = 1; *p && kept < MAX_SETS; kept++) {
        size_t len = strcspn(p, "\n");
        aecl_strbuf_put(&b, p, len);
        aecl_strbuf_str(&b, "\n");
        p += len + (p[len] == '\n');
    }
    char key[600];
    record_key(ctx, key, sizeof key);
    if (!b.failed && b.s) (void)aecl_bincache_write(ctx, c, key, (const unsigned char *)b.s, b.len); /* a hint */
    aecl_strbuf_free(&b);
}

aecl_status aecl_program_variants(aecl_ctx *ctx, int n, const char *const *files, const char *const *options)
{
    vset *want = calloc(1, sizeof *want), *use = calloc(1, sizeof *use);
    if (!want || !use) {
        free(want), free(use);
        return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    for (int i = 0; i < n; i++)
        if (!aecl_program_known(ctx, files[i], options[i])) add_variant(ctx, want, files[i], options[i]);
    aecl_bincache cache;
    aecl_bincache_init(&cache);
    char *record = want->n ? read_record(ctx, &cache) : NULL, *owned = NULL;
    int recorded = record && find_superset(ctx, record, want, use, &owned), built = 0;
    if (!recorded) { *use = *want; sort_set(use); }
    aecl_status st = use->n > 1 || recorded ? build_set(ctx, use, &built) : AECL_OK;
    if (st == AECL_OK && built && !recorded) add_to_record(ctx, &cache, record, use);
    free(owned);
    free(record);
    free(want);
    free(use);
    return st;
}

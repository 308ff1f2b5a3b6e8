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

/* The variants worth a shared program: not in the table yet, not repeated, of a
 * `//@variants` file, with options of -D tokens only. */
static int pick(aecl_ctx *ctx, int n, const char *const *files, const char *const *options, int *idx, defs *d)
{
    int m = 0;
    for (int i = 0; i < n && m < MAX_VARIANTS; i++) {
        int repeat = 0;
        for (int j = 0; j < m && !repeat; j++)
            repeat = !strcmp(files[idx[j]], files[i]) && !strcmp(options[idx[j]], options[i]);
        if (repeat || aecl_program_known(ctx, files[i], options[i]) || !parse_defs(options[i], &d[m]) ||
            !aecl_kernel_file_has_variants(ctx, files[i]))
            continue;
        idx[m++] = i;
    }
    return m;
}

/* The shared program's text: the tokens every variant has, then the variants. */
static aecl_status variants_text(aecl_ctx *ctx, int m, const char *const *files, const int *idx, const defs *d,
                                 char **out)
{
    aecl_strbuf top = {0}, def[MAX_VARIANTS] = {{0}}, undef[MAX_VARIANTS] = {{0}};
    const char *vf[MAX_VARIANTS], *vd[MAX_VARIANTS], *vu[MAX_VARIANTS];
    for (int t = 0; t < d[0].n; t++) {
        int everywhere = 1;
        for (int k = 1; k < m && everywhere; k++) everywhere = has_token(&d[k], d[0].tok[t]);
        if (everywhere) put_define(&top, d[0].tok[t], 0);
    }
    for (int k = 0; k < m; k++) {
        aecl_strbuf_printf(&def[k], "#define AECL_VARIANT _v%d\n", k);
        aecl_strbuf_str(&undef[k], "#undef AECL_VARIANT\n");
        for (int t = 0; t < d[k].n; t++) {
            int everywhere = 1;
            for (int j = 0; j < m && everywhere; j++) everywhere = has_token(&d[j], d[k].tok[t]);
            if (everywhere) continue;
            put_define(&def[k], d[k].tok[t], 0);
            put_define(&undef[k], d[k].tok[t], 1);
        }
        vf[k] = files[idx[k]];
        vd[k] = def[k].s ? def[k].s : "";
        vu[k] = undef[k].s ? undef[k].s : "";
    }
    char *body = NULL;
    int failed = top.failed;
    for (int k = 0; k < m; k++) failed |= def[k].failed | undef[k].failed;
    aecl_status st = failed ? aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory")
                            : aecl_kernel_source_variants(ctx, m, vf, vd, vu, &body);
    if (st == AECL_OK) {
        aecl_strbuf_str(&top, body);
        if (!(*out = aecl_strbuf_take(&top))) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    }
    free(body);
    aecl_strbuf_free(&top);
    for (int k = 0; k < m; k++) { aecl_strbuf_free(&def[k]); aecl_strbuf_free(&undef[k]); }
    return st;
}

aecl_status aecl_program_variants(aecl_ctx *ctx, int n, const char *const *files, const char *const *options)
{
    int idx[MAX_VARIANTS];
    defs *d = malloc(MAX_VARIANTS * sizeof *d);
    AECL_RETURN_IF(!d, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    int m = pick(ctx, n, files, options, idx, d);
    char *text = NULL, name[200] = "variants";
    aecl_status st = m < 2 ? AECL_OK : variants_text(ctx, m, files, idx, d, &text);
    free(d);
    if (m < 2 || st != AECL_OK) return st;
    for (int k = 0; k < m && strlen(name) + 40 < sizeof name; k++)
        snprintf(name + strlen(name), sizeof name - strlen(name), "%c%s", k ? '+' : ':', files[idx[k]]);
    cl_program prog;
    st = aecl_program_from_text(ctx, name, text, &prog);
    free(text);
    /* Each variant built alone may still succeed (a driver's limit on a
     * program's size, a file that breaks the naming contract): the shared
     * program is an optimisation, so its failure is a warning. */
    if (st == AECL_ERR_BUILD || st == AECL_ERR_OPENCL) {
        aecl_log(ctx, AECL_LOG_WARN, "kernel variants could not share a program, built apart instead: %s",
                 aecl_ctx_last_error(ctx));
        return AECL_OK;
    }
    for (int k = 0; k < m && st == AECL_OK; k++) {
        char suffix[12];
        snprintf(suffix, sizeof suffix, "_v%d", k);
        st = aecl_program_alias(ctx, files[idx[k]], options[idx[k]], prog, suffix);
        if (st == AECL_OK) ctx->prog_stats.variants_shared++;
    }
    return st;
}

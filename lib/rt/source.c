/* Kernel sources: embedded copies, or files under $AECL_KERNEL_DIR for kernel
 * work without a rebuild. A file may begin with `//@require other.cl` lines; the
 * loader prepends those files (each once), so shared helpers such as the random
 * number generator live in one file. */
#include "base/buf.h"
#include "rt/error.h"
#include "rt/kernels.h"
#include "rt/program.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 16

static int valid_name(const char *f)
{
    size_t n = strlen(f);
    return n > 3 && n < 200 && !strchr(f, '/') && !strstr(f, "..") && !strcmp(f + n - 3, ".cl");
}

static aecl_status read_text_file(aecl_ctx *ctx, const char *path, char **out)
{
    FILE *fp = fopen(path, "rb");
    AECL_RETURN_IF(!fp, AECL_ERR_IO, ctx, "cannot open kernel file %s", path);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (!aecl_grow((void **)&buf, &cap, len + 4096 + 1, 1, 16384)) {
            free(buf);
            fclose(fp);
            return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory reading %s", path);
        }
        size_t got = fread(buf + len, 1, 4096, fp);
        len += got;
        if (got < 4096) break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) { free(buf); return aecl_fail(ctx, AECL_ERR_IO, "cannot read kernel file %s", path); }
    buf[len] = 0;
    *out = buf;
    return AECL_OK;
}

/* The raw text of one file (no require expansion). */
static aecl_status raw_source(aecl_ctx *ctx, const char *file, char **out)
{
    AECL_RETURN_IF(!valid_name(file), AECL_ERR_INVALID_ARG, ctx, "bad kernel file name '%s'", file);
    const char *dir = getenv("AECL_KERNEL_DIR");
    if (dir && *dir) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        return read_text_file(ctx, path, out);
    }
    for (const aecl_embedded_kernel *k = aecl_embedded_kernels; k->name; k++)
        if (!strcmp(k->name, file)) {
            *out = malloc(k->len + 1);
            AECL_RETURN_IF(!*out, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
            memcpy(*out, k->source, k->len + 1);
            return AECL_OK;
        }
    return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "no kernel file cl/%s in this build", file);
}

/* Collects `file` and its requirements, requirements first, without repeats. */
static aecl_status collect(aecl_ctx *ctx, const char *file, char **names, char **texts, int *n, int depth)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(names[i], file)) return AECL_OK;
    AECL_RETURN_IF(depth > 8 || *n >= MAX_PARTS, AECL_ERR_FORMAT, ctx,
                   "cl/%s: //@require nesting too deep", file);
    char *text;
    AECL_TRY(raw_source(ctx, file, &text));
    const char *p = text;
    while (!strncmp(p, "//@require ", 11)) {
        char dep[256];
        if (sscanf(p + 11, "%255s", dep) == 1) {
            aecl_status st = collect(ctx, dep, names, texts, n, depth + 1);
            if (st != AECL_OK) { free(text); return st; }
        }
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    names[*n] = strdup(file);
    texts[*n] = text;
    (*n)++;
    return AECL_OK;
}

aecl_status aecl_kernel_source(aecl_ctx *ctx, const char *file, char **out)
{
    char *names[MAX_PARTS], *texts[MAX_PARTS];
    int n = 0;
    aecl_status st = collect(ctx, file, names, texts, &n, 0);
    size_t total = 1;
    for (int i = 0; st == AECL_OK && i < n; i++) total += strlen(texts[i]) + 64;
    char *buf = st == AECL_OK ? malloc(total) : NULL;
    if (st == AECL_OK && !buf) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        /* #line keeps compiler messages pointing into the right file. */
        if (buf) len += (size_t)sprintf(buf + len, "#line 1 \"%s\"\n%s\n", names[i], texts[i]);
        free(names[i]);
        free(texts[i]);
    }
    if (st == AECL_OK) *out = buf;
    return st;
}

/* 1 when a file's leading directives include `//@<word>` (a whole line). */
static int has_directive(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; !strncmp(p, "//@", 3); p = strchr(p, '\n') + 1) {
        if (!strncmp(p + 3, word, n) && (p[3 + n] == '\n' || p[3 + n] == '\r' || !p[3 + n])) return 1;
        if (!strchr(p, '\n')) break;
    }
    return 0;
}

int aecl_kernel_file_has_variants(aecl_ctx *ctx, const char *file)
{
    char *text = NULL;
    int yes = raw_source(ctx, file, &text) == AECL_OK && has_directive(text, "variants");
    free(text);
    return yes;
}

static void put_part(aecl_strbuf *b, const char *name, const char *text)
{
    aecl_strbuf_printf(b, "#line 1 \"%s\"\n", name);
    aecl_strbuf_str(b, text);
    aecl_strbuf_str(b, "\n");
}

/* Variant i's parts: its own file and the `//@variant` files it requires, each
 * after its #defines; the other requirements were put once, before any. */
static aecl_status put_variant(aecl_ctx *ctx, aecl_strbuf *b, const char *file, const char *defines, char **shared,
                               int *n_shared)
{
    char *names[MAX_PARTS], *texts[MAX_PARTS];
    int n = 0;
    AECL_TRY(collect(ctx, file, names, texts, &n, 0));
    aecl_strbuf v = {0};
    for (int i = 0; i < n; i++) {
        int per_variant = i == n - 1 || has_directive(texts[i], "variant"), seen = 0;
        for (int j = 0; j < *n_shared && !per_variant && !seen; j++) seen = !strcmp(shared[j], names[i]);
        if (per_variant) put_part(&v, names[i], texts[i]);
        else if (!seen) {
            put_part(b, names[i], texts[i]);
            shared[(*n_shared)++] = names[i];
            names[i] = NULL;
        }
        free(names[i]);
        free(texts[i]);
    }
    int failed = v.failed;
    aecl_strbuf_str(b, defines);
    aecl_strbuf_put(b, v.s ? v.s : "", v.len);
    aecl_strbuf_free(&v);
    return failed ? aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory") : AECL_OK;
}

aecl_status aecl_kernel_source_variants(aecl_ctx *ctx, int n, const char *const *files, const char *const *defines,
                                        const char *const *undefines, char **out)
{
    char *shared[MAX_PARTS * 4];
    int n_shared = 0;
    aecl_strbuf b = {0};
    aecl_status st = AECL_OK;
    for (int i = 0; i < n && st == AECL_OK; i++) {
        if (n_shared + MAX_PARTS > MAX_PARTS * 4) { /* room for every part of one more variant */
            st = aecl_fail(ctx, AECL_ERR_FORMAT, "too many kernel files in one program");
            break;
        }
        st = put_variant(ctx, &b, files[i], defines[i], shared, &n_shared);
        aecl_strbuf_str(&b, undefines[i]);
    }
    for (int i = 0; i < n_shared; i++) free(shared[i]);
    char *text = aecl_strbuf_take(&b);
    if (st == AECL_OK && !text) st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st != AECL_OK) { free(text); return st; }
    *out = text;
    return AECL_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

aecl_status aecl_kernel_names(aecl_ctx *ctx, char ***names, size_t *count)
{
    size_t cap = 64, n = 0;
    char **v = calloc(cap, sizeof *v);
    AECL_RETURN_IF(!v, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    const char *dir = getenv("AECL_KERNEL_DIR");
    if (dir && *dir) {
        DIR *d = opendir(dir);
        if (!d) { free(v); return aecl_fail(ctx, AECL_ERR_IO, "cannot open AECL_KERNEL_DIR %s", dir); }
        struct dirent *e;
        while ((e = readdir(d)) && n < cap)
            if (valid_name(e->d_name)) v[n++] = strdup(e->d_name);
        closedir(d);
        qsort(v, n, sizeof *v, cmp_str);
    } else {
        for (const aecl_embedded_kernel *k = aecl_embedded_kernels; k->name && n < cap; k++)
            v[n++] = strdup(k->name);
    }
    *names = v;
    *count = n;
    return AECL_OK;
}

void aecl_kernel_names_free(char **names, size_t count)
{
    for (size_t i = 0; names && i < count; i++) free(names[i]);
    free(names);
}

/* ---- build-log locations ------------------------------------------------------
 * aecl_kernel_source puts `#line 1 "file.cl"` before each part, so a compiler
 * that honours #line (PoCL) reports "file.cl:LINE:COL". One that ignores it in
 * its log (Oclgrind 21.10 reports "input.cl:LINE:COL") counts lines of the whole
 * assembled text, past the directives and the required files. aecl_build_log_locate
 * maps such locations back by reading the directives in the source. */

/* The next line of *p (without its newline) in line and len; 0 at the end. */
static int next_line(const char **p, const char **line, size_t *len)
{
    if (!**p) return 0;
    const char *nl = strchr(*p, '\n');
    *line = *p;
    *len = nl ? (size_t)(nl - *p) : strlen(*p);
    *p = nl ? nl + 1 : *p + *len;
    return 1;
}

/* Parses `#line N "name"`: 1 with N and the name's span. */
static int line_directive(const char *l, size_t len, long *n, const char **name, size_t *name_len)
{
    if (len < 6 || strncmp(l, "#line ", 6)) return 0;
    char *end;
    *n = strtol(l + 6, &end, 10);
    if (end == l + 6 || *end != ' ' || end[1] != '"') return 0;
    *name = end + 2;
    const char *q = memchr(*name, '"', len - (size_t)(*name - l));
    if (!q) return 0;
    *name_len = (size_t)(q - *name);
    return 1;
}

/* 1 when src has a #line directive naming `name` (len bytes). */
static int is_part_name(const char *src, const char *name, size_t len)
{
    const char *p = src, *l, *nm;
    size_t ll, nl;
    long n;
    while (next_line(&p, &l, &ll))
        if (line_directive(l, ll, &n, &nm, &nl) && nl == len && !memcmp(nm, name, len)) return 1;
    return 0;
}

/* The file and line that physical line `phys` of src comes from; 0 when no
 * directive precedes it (nothing to map). */
static int map_line(const char *src, long phys, const char **name, size_t *name_len, long *line)
{
    const char *p = src, *l, *nm;
    size_t ll, nl;
    long n, next = 0;
    int named = 0;
    for (long i = 1; next_line(&p, &l, &ll) && i <= phys; i++) {
        if (line_directive(l, ll, &n, &nm, &nl)) {
            *name = nm;
            *name_len = nl;
            named = 1;
            next = n;
            continue;
        }
        if (i == phys) { *line = next; return named; }
        next++;
    }
    return 0;
}

/* At log[i] == ':': the span of the "TOKEN:LINE:COL:" location that starts at
 * tok (a run of non-blank characters) and its LINE; 0 when log[i] begins no such. */
static int location_at(const char *log, size_t i, size_t *tok, long *phys)
{
    size_t t = i;
    while (t > 0 && !isspace((unsigned char)log[t - 1]) && !strchr("\"'(", log[t - 1])) t--;
    if (t == i || !isdigit((unsigned char)log[i + 1])) return 0;
    char *end;
    *phys = strtol(log + i + 1, &end, 10);
    if (*end != ':' || !isdigit((unsigned char)end[1])) return 0;
    strtol(end + 1, &end, 10);
    if (*end != ':') return 0;
    *tok = t;
    return 1;
}

char *aecl_build_log_locate(const char *src, const char *log)
{
    char *out = NULL;
    size_t out_len = 0, from = 0; /* log[from..] is not yet copied */
    FILE *f = open_memstream(&out, &out_len);
    if (!f) return NULL;
    for (size_t i = 0; log[i]; i++) {
        size_t tok, nl;
        long phys, line;
        const char *nm;
        if (log[i] != ':' || !location_at(log, i, &tok, &phys) || tok < from) continue;
        if (is_part_name(src, log + tok, i - tok) || !map_line(src, phys, &nm, &nl, &line)) continue;
        fprintf(f, "%.*s%.*s:%ld", (int)(tok - from), log + from, (int)nl, nm, line);
        while (isdigit((unsigned char)log[i + 1])) i++;
        from = i + 1;
    }
    fputs(log + from, f);
    return fclose(f) == 0 ? out : (free(out), NULL);
}

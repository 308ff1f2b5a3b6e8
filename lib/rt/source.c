/* Kernel sources: embedded copies, or files under $AECL_KERNEL_DIR for kernel
 * work without a rebuild. A file may begin with `//@require other.cl` lines; the
 * loader prepends those files (each once), so shared helpers such as the random
 * number generator live in one file. */
#include "rt/error.h"
#include "rt/kernels.h"
#include "rt/program.h"

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
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 16384;
            char *g = realloc(buf, cap);
            if (!g) { free(buf); fclose(fp); return aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory reading %s", path); }
            buf = g;
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

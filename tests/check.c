#include "check.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int check_failures, check_passes;
static aecl_ctx *shared_ctx;

aecl_ctx *test_ctx(void)
{
    if (shared_ctx) return shared_ctx;
    if (aecl_ctx_create(NULL, &shared_ctx) != AECL_OK) {
        fprintf(stderr, "no OpenCL device: %s\n", aecl_ctx_last_error(NULL));
        exit(1);
    }
    return shared_ctx;
}

double test_rel_err(const float *a, const float *b, size_t n, double atol, double rtol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (atol + rtol * fabs((double)b[i]));
        if (!(e <= worst)) worst = e; /* NaN propagates as "worst" */
    }
    return worst;
}

void test_fill_uniform(float *x, size_t n, float lo, float hi, unsigned *state)
{
    for (size_t i = 0; i < n; i++) {
        *state = *state * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)((*state >> 8) * (1.0 / 16777216.0));
    }
}

/* The shared context is released here, before main returns, and never from an
 * atexit handler: those run after the OpenCL implementation's own static
 * destructors (Oclgrind then aborts with "corrupted double-linked list"). */
int test_finish(void)
{
    aecl_ctx_free(shared_ctx);
    shared_ctx = NULL;
    printf("%d passed, %d failed\n", check_passes, check_failures);
    return check_failures ? 1 : 0;
}

char test_tmpdir[512];

void test_tmp_setup(const char *tag)
{
    const char *t = getenv("TMPDIR");
    snprintf(test_tmpdir, sizeof test_tmpdir, "%s/aecl_%s_XXXXXX", t && *t ? t : "/tmp", tag);
    if (!mkdtemp(test_tmpdir)) {
        perror("mkdtemp");
        exit(1);
    }
}

void test_tmp_cleanup(void)
{
    DIR *d = opendir(test_tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", test_tmpdir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(test_tmpdir);
}

const char *test_path(const char *name)
{
    static char p[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", test_tmpdir, name);
    return p[k];
}

int test_msg_has(const char *needle)
{
    return strstr(aecl_ctx_last_error(NULL), needle) != NULL;
}

void test_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

void test_write_text(const char *path, const char *text) { test_write_file(path, text, strlen(text)); }

size_t test_read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return (size_t)-1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n;
}

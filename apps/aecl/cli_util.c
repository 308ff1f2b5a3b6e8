#include "cli.h"
#include "io/io.h"
#include "rt/rt.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_error(const char *cmd, aecl_status st, const aecl_ctx *ctx, const char *what)
{
    const char *detail = aecl_ctx_last_error(ctx);
    fprintf(stderr, "aecl %s: %s: %s%s%s\n", cmd, what, aecl_status_str(st), *detail ? ": " : "", detail);
    return 1;
}

/* The library's warnings (a kernel cache refused or not writable, a kernel
 * rebuilt) reach the user on stderr, named by the command. */
static void cli_log(void *user, int level, const char *message)
{
    fprintf(stderr, "aecl %s: %s: %s\n", (const char *)user, level == AECL_LOG_ERROR ? "error" : "warning", message);
}

int cli_open_ctx(const char *cmd, const char *device, aecl_ctx **ctx)
{
    if (device && !*device) { /* "" would silently mean the default device */
        fprintf(stderr, "aecl %s: --device: an empty selector (leave --device out for the default device)\n", cmd);
        *ctx = NULL;
        return 2;
    }
    aecl_status st = aecl_ctx_create(device, ctx);
    if (st != AECL_OK) return cli_error(cmd, st, NULL, "cannot open the OpenCL device");
    aecl_ctx_set_log(*ctx, cli_log, (void *)cmd, AECL_LOG_WARN);
    return 0;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

double cli_now(void) { return aecl_now_s(); }

int cli_check_output(const char *cmd, const char *path)
{
    if (!path || aecl_io_check_writable(NULL, path) == AECL_OK) return 0;
    fprintf(stderr, "aecl %s: %s\n", cmd, aecl_ctx_last_error(NULL));
    return 1;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* NaN fails every comparison; float's range because the device computes in it. */
    if (!*s || *end || errno == ERANGE || !(fabs(v) <= FLT_MAX) || !(v >= lo && v <= hi)) return 0;
    *out = v;
    return 1;
}

int cli_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno == ERANGE || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

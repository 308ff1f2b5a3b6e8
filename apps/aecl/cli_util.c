#include "cli.h"
#include "rt/rt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int cli_error(const char *cmd, aecl_status st, const aecl_ctx *ctx, const char *what)
{
    const char *detail = aecl_ctx_last_error(ctx);
    fprintf(stderr, "aecl %s: %s: %s%s%s\n", cmd, what, aecl_status_str(st), *detail ? ": " : "", detail);
    return 1;
}

int cli_open_ctx(const char *cmd, const char *device, aecl_ctx **ctx)
{
    aecl_status st = aecl_ctx_create(device, ctx);
    if (st != AECL_OK) return cli_error(cmd, st, NULL, "cannot open the OpenCL device");
    return 0;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

double cli_now(void) { return aecl_now_s(); }

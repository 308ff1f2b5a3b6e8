/* aecl selftest: builds every kernel file and runs a kernel with a known result.
 * The outcome is recorded per device: one that failed is no default device
 * until selftest passes on it again. */
#include "cli.h"
#include "rt/device.h"

#include <stdio.h>
#include <string.h>

/* Records the outcome for the context's device; says where on a failure. */
static void record(aecl_ctx *ctx, int failed)
{
    char path[1100];
    const aecl_device_info *d = aecl_ctx_device(ctx);
    if (aecl_selftest_record(ctx, d, failed, path, sizeof path) != AECL_OK)
        fprintf(stderr, "aecl selftest: could not record the result: %s\n", aecl_ctx_last_error(ctx));
    else if (failed && *path)
        fprintf(stderr, "aecl selftest: recorded in %s: %s is no default device until selftest passes on it\n",
                path, d->name);
}

static int failed(aecl_ctx *ctx, aecl_status st, const char *what)
{
    cli_error("selftest", st, ctx, what);
    record(ctx, 1);
    aecl_ctx_free(ctx);
    return 1;
}

int cmd_selftest(int argc, char **argv)
{
    const char *device = NULL;
    enum { OPT_DEVICE = CLI_OPT_FIRST };
    static const struct option opts[] = {CLI_HELP_LONGOPT, {"device", required_argument, NULL, OPT_DEVICE}, {0}};
    const char *v;
    for (int o; (o = cli_next_opt("selftest", argc, argv, opts, &v)) != CLI_OPT_END;) {
        switch (o) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP:
            printf("usage: aecl selftest [--device SEL]\n\nBuilds every kernel file (cached on disk) and runs a "
                   "kernel whose result is checked on the host.\n"
                   "A device that fails is recorded in aecl's cache folder and is no default device until\n"
                   "selftest passes on it again (--device and $AECL_DEVICE still name it).\n");
            return 0;
        case CLI_OPT_ARG: return cli_positional("selftest", v, NULL, 0);
        case OPT_DEVICE: device = v; break;
        }
    }
    double t0 = cli_now();
    aecl_ctx *ctx;
    int rc_open = cli_open_ctx("selftest", device, &ctx);
    if (rc_open) return rc_open;
    double t1 = cli_now();
    unsigned n = 0;
    aecl_status st = aecl_build_all_kernels(ctx, &n);
    if (st != AECL_OK) return failed(ctx, st, "kernel build failed");
    double t2 = cli_now();
    st = aecl_selftest(ctx);
    if (st != AECL_OK) return failed(ctx, st, "kernel check failed");
    aecl_program_stats ps;
    aecl_ctx_program_stats(ctx, &ps);
    printf("device: %s (%s)\n", aecl_ctx_device(ctx)->name, aecl_ctx_device(ctx)->platform_name);
    printf("device ready in %.3f s; %u kernel files built in %.3f s (%u compiled, %u from cache)\n", t1 - t0, n,
           t2 - t1, ps.builds_from_source, ps.loads_from_disk);
    record(ctx, 0);
    printf("selftest: ok\n");
    aecl_ctx_free(ctx);
    return 0;
}

/* aecl selftest: builds every kernel file and runs a kernel with a known result. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cmd_selftest(int argc, char **argv)
{
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: aecl selftest [--device SEL]\n\nBuilds every kernel file (cached on disk) and runs a "
                   "kernel whose result is checked on the host.\n");
            return 0;
        } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            device = argv[++i];
        } else {
            fprintf(stderr, "aecl selftest: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    double t0 = cli_now();
    aecl_ctx *ctx;
    if (cli_open_ctx("selftest", device, &ctx)) return 1;
    double t1 = cli_now();
    unsigned n = 0;
    aecl_status st = aecl_build_all_kernels(ctx, &n);
    if (st != AECL_OK) { cli_error("selftest", st, ctx, "kernel build failed"); aecl_ctx_free(ctx); return 1; }
    double t2 = cli_now();
    st = aecl_selftest(ctx);
    if (st != AECL_OK) { cli_error("selftest", st, ctx, "kernel check failed"); aecl_ctx_free(ctx); return 1; }
    aecl_program_stats ps;
    aecl_ctx_program_stats(ctx, &ps);
    printf("device: %s (%s)\n", aecl_ctx_device(ctx)->name, aecl_ctx_device(ctx)->platform_name);
    printf("device ready in %.3f s; %u kernel files built in %.3f s (%u compiled, %u from cache)\n", t1 - t0, n,
           t2 - t1, ps.builds_from_source, ps.loads_from_disk);
    printf("selftest: ok\n");
    aecl_ctx_free(ctx);
    return 0;
}

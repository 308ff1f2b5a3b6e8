/* aecl devices: every platform and device, and which one is the default. */
#include "cli.h"
#include "rt/ctx.h"
#include "rt/tuning.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(aecl_device_type t)
{
    switch (t) {
    case AECL_DEVICE_GPU: return "GPU";
    case AECL_DEVICE_CPU: return "CPU";
    case AECL_DEVICE_ACCELERATOR: return "accelerator";
    default: return "other";
    }
}

/* Why a device is not (or only reluctantly) the default. */
static const char *mark(const aecl_device_info *d)
{
    if (d->is_simulator) return d->is_default ? "  (simulator; the default only for want of another device)"
                                              : "  (simulator, not a default)";
    if (d->failed_selftest) return d->is_default ? "  (failed selftest; the default only for want of another device)"
                                                 : "  (failed selftest, not a default)";
    return "";
}

/* The device-decision table aecl uses on device P:D ($AECL_TUNE applied;
 * overridden keys marked *): what a kernel developer or a bug report needs. */
static int print_tuning(const aecl_device_info *d)
{
    char sel[32], text[1024];
    snprintf(sel, sizeof sel, "%u:%u", d->platform_index, d->device_index);
    aecl_ctx *ctx = NULL;
    aecl_status st = aecl_ctx_create(sel, &ctx);
    if (st != AECL_OK) return cli_error("devices", st, NULL, "cannot open the device");
    aecl_tuning_format(aecl_ctx_tuning(ctx), text, sizeof text);
    printf("      kernel choices: %s\n", text);
    aecl_ctx_free(ctx);
    return 0;
}

int cmd_devices(int argc, char **argv)
{
    enum { OPT_TUNING = CLI_OPT_FIRST };
    static const struct option opts[] = {CLI_HELP_LONGOPT, {"tuning", no_argument, NULL, OPT_TUNING}, {0}};
    const char *v;
    int tuning = 0;
    for (int o; (o = cli_next_opt("devices", argc, argv, opts, &v)) != CLI_OPT_END;) {
        switch (o) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP:
            printf("usage: aecl devices [--tuning]\n\nLists every OpenCL platform and device with its index (P:D) for "
                   "--device\nand $AECL_DEVICE. The default (marked *) is the first GPU, else the first CPU; "
                   "simulators\n(Oclgrind) and devices whose last `aecl selftest` failed are skipped unless nothing\n"
                   "else is there.\n\n"
                   "  --tuning   also each device's kernel choices (the device-decision table, with\n"
                   "             $AECL_TUNE applied; overridden keys marked *)\n");
            return 0;
        case CLI_OPT_ARG: return cli_positional("devices", v, NULL, 0);
        case OPT_TUNING: tuning = 1; break;
        }
    }
    aecl_device_info *d;
    size_t n;
    aecl_status st = aecl_devices_list(&d, &n);
    if (st != AECL_OK) return cli_error("devices", st, NULL, "cannot list devices");
    unsigned last_platform = (unsigned)-1;
    for (size_t i = 0; i < n; i++) {
        if (d[i].platform_index != last_platform) {
            printf("platform %u: %s\n", d[i].platform_index, d[i].platform_name);
            last_platform = d[i].platform_index;
        }
        printf("%c [%u:%u] %s%s\n", d[i].is_default ? '*' : ' ', d[i].platform_index, d[i].device_index, d[i].name,
               mark(&d[i]));
        printf("      vendor %s, type %s, %u compute units\n", d[i].vendor, type_name(d[i].type), d[i].compute_units);
        printf("      global memory %.1f MiB (largest allocation %.1f MiB), local memory %.1f KiB\n",
               d[i].global_mem_bytes / 1048576.0, d[i].max_alloc_bytes / 1048576.0, d[i].local_mem_bytes / 1024.0);
        printf("      max work-group size %zu, %s, driver %s\n", d[i].max_work_group_size, d[i].opencl_c_version,
               d[i].driver_version);
        if (tuning && print_tuning(&d[i])) {
            free(d);
            return 1;
        }
    }
    free(d);
    return 0;
}

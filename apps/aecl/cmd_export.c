/* aecl export: a weights file as ONNX models (encoder, decoder, whole model) and
 * as a PyTorch module file (docs/interchange.md). Reads the file on the host:
 * no OpenCL device is opened. */
#include "cli.h"
#include "nn/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("usage: aecl export WEIGHTS [--onnx PREFIX [--part P]] [--torch FILE.py]\n\n"
           "Writes a trained model for other runtimes (docs/interchange.md). Inputs and outputs\n"
           "are in the data's units: a stored scaling is applied inside. No device is used.\n\n"
           "  --onnx PREFIX       ONNX models (opset 13, batch dimension dynamic): PREFIX.onnx\n"
           "                      (input -> reconstruction; a VAE decodes its mean code),\n"
           "                      PREFIX.encoder.onnx (input -> code, a VAE also logvar) and\n"
           "                      PREFIX.decoder.onnx (code -> reconstruction); a PREFIX ending\n"
           "                      in .onnx loses that ending\n"
           "  --part LIST         with --onnx, only these: encoder, decoder, full, comma-separated\n"
           "  --torch FILE        a Python file with the model as a torch.nn module whose\n"
           "                      load_state_dict takes the weights file's tensors, and load()\n");
}

enum { PARTS = 3 };

/* Parses "encoder,full" into want[part]; 0 on a bad word. */
static int parse_parts(const char *list, int *want)
{
    memset(want, 0, PARTS * sizeof *want);
    for (const char *p = list;;) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (int k = 0; k < PARTS; k++) {
            const char *name = aecl_export_part_name((aecl_export_part)k);
            if (n == strlen(name) && !strncmp(p, name, n)) found = want[k] = 1;
        }
        if (!found) return 0;
        if (!p[n]) return 1;
        p += n + 1;
    }
}

/* PREFIX.onnx, PREFIX.encoder.onnx, PREFIX.decoder.onnx (malloc'd). */
static char *onnx_path(const char *prefix, aecl_export_part part)
{
    size_t n = strlen(prefix);
    if (n > 5 && !strcmp(prefix + n - 5, ".onnx")) n -= 5;
    const char *mid = part == AECL_EXPORT_FULL ? "" : part == AECL_EXPORT_ENCODER ? ".encoder" : ".decoder";
    char *p = malloc(n + strlen(mid) + 6);
    if (p) sprintf(p, "%.*s%s.onnx", (int)n, prefix, mid);
    return p;
}

typedef struct export_args {
    const char *weights, *onnx, *torch;
    int want[PARTS];
} export_args;

static int parse(int argc, char **argv, export_args *a, int *help)
{
    const char *cmd = "export";
    enum { OPT_ONNX = CLI_OPT_FIRST, OPT_PART, OPT_TORCH };
    static const struct option opts[] = {CLI_HELP_LONGOPT,
                                         {"onnx", required_argument, NULL, OPT_ONNX},
                                         {"part", required_argument, NULL, OPT_PART},
                                         {"torch", required_argument, NULL, OPT_TORCH},
                                         {0}};
    const char *v, *parts = NULL;
    for (int o; (o = cli_next_opt(cmd, argc, argv, opts, &v)) != CLI_OPT_END;) {
        switch (o) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: *help = 1; return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a->weights, 1)) return 2; break;
        case OPT_ONNX: a->onnx = v; break;
        case OPT_PART: parts = v; break;
        case OPT_TORCH: a->torch = v; break;
        }
    }
    if (!a->weights) return app_usage_error(cmd, "no weights file given");
    if (!a->onnx && !a->torch) return app_usage_error(cmd, "nothing to write: give --onnx PREFIX and/or --torch FILE");
    if (parts && !a->onnx) return app_usage_error(cmd, "--part needs --onnx");
    for (int k = 0; k < PARTS; k++) a->want[k] = 1;
    if (parts && !parse_parts(parts, a->want))
        return app_usage_error(cmd, "bad value for --part: '%s' (encoder, decoder, full, comma-separated)", parts);
    if (a->onnx && !*a->onnx) return app_usage_error(cmd, "bad value for --onnx: ''");
    if (a->torch && !*a->torch) return app_usage_error(cmd, "bad value for --torch: ''");
    return 0;
}

int cmd_export(int argc, char **argv)
{
    const char *cmd = "export";
    export_args a = {0};
    int help = 0, rc = parse(argc, argv, &a, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    char *paths[PARTS] = {NULL};
    for (int k = 0; a.onnx && k < PARTS && !rc; k++) {
        if (!a.want[k]) continue;
        paths[k] = onnx_path(a.onnx, (aecl_export_part)k);
        rc = !paths[k] ? (fprintf(stderr, "aecl export: out of host memory\n"), 1) : cli_check_output(cmd, paths[k]);
    }
    if (!rc && a.torch) rc = cli_check_output(cmd, a.torch);
    aecl_export_src src = {0};
    aecl_status st = rc ? AECL_OK : aecl_export_open(NULL, a.weights, &src);
    if (st != AECL_OK) rc = cli_error(cmd, st, NULL, "cannot read the weights file");
    for (int k = 0; !rc && k < PARTS; k++) {
        if (!paths[k]) continue;
        st = aecl_export_onnx(NULL, &src, (aecl_export_part)k, paths[k]);
        if (st != AECL_OK) rc = cli_error(cmd, st, NULL, "cannot write the ONNX model");
        else printf("%s: ONNX %s (opset 13)\n", paths[k], aecl_export_part_name((aecl_export_part)k));
    }
    if (!rc && a.torch) {
        st = aecl_export_torch(NULL, &src, a.torch);
        if (st != AECL_OK) rc = cli_error(cmd, st, NULL, "cannot write the PyTorch module");
        else printf("%s: PyTorch module (load(\"%s\") gives the model)\n", a.torch, a.weights);
    }
    aecl_export_close(&src);
    for (int k = 0; k < PARTS; k++) free(paths[k]);
    return rc;
}

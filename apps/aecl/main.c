#include "cli.h"
#include "dist.h"

#include <stdio.h>
#include <string.h>

/* Started by mpirun, train is one rank of a data-parallel job (dist.h). */
static int train(int argc, char **argv) { return dist_main("train", cmd_train, argc, argv); }

static const cli_command commands[] = {
    {"devices", "list OpenCL platforms and devices", cmd_devices},
    {"selftest", "build every kernel and run a known computation on a device", cmd_selftest},
    {"train", "train an autoencoder from a model file", train},
    {"eval", "test loss, MSE and PSNR of a trained model", cmd_eval},
    {"reconstruct", "reconstructions as .npy/CSV (--out) or a picture (--grid)", cmd_eval},
    {"encode", "latent codes of data, to CSV or .npy", cmd_encode},
    {"decode", "latent codes (.npy or CSV) to samples: .npy, CSV or a picture", cmd_decode},
    {"denoise", "clean noisy inputs; PSNR before and after", cmd_denoise},
    {"anomaly", "anomaly scores, a threshold, AUROC and AUPRC", cmd_anomaly},
    {"compress", "store samples as entropy-coded quantized codes; rate and distortion", cmd_compress},
    {"decompress", "restore samples from a compress file", cmd_decompress},
    {"sample", "new samples from a variational model (a picture)", cmd_sample},
    {"interpolate", "decodes along a walk between two samples' codes", cmd_interpolate},
    {"scatter", "2-D chart of the latent codes coloured by label", cmd_scatter},
    {"export", "a trained model as ONNX models or a PyTorch module file", cmd_export},
    {"bench", "GEMM GFLOP/s and samples/s of the reference models on a device", cmd_bench},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *out)
{
    fprintf(out, "aecl %s: autoencoders on any OpenCL device\n\nusage: aecl COMMAND [options]\n\ncommands:\n",
            aecl_version_string());
    for (int i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'aecl COMMAND --help' describes a command. The device is chosen by --device or\n"
                 "$AECL_DEVICE: 'P:D' (platform, device index), 'N', or a name substring.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("aecl %s\n", aecl_version_string());
        return 0;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "aecl: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}

/* The aecl program: one file per subcommand, each a `int cmd_x(int argc, char **argv)`. */
#ifndef AECL_CLI_H
#define AECL_CLI_H

#include "aecl.h"

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} cli_command;

/* Prints "aecl NAME: message" (+ the context's last error) to stderr; returns 1. */
int cli_error(const char *cmd, aecl_status st, const aecl_ctx *ctx, const char *what);

/* Creates the context for --device (NULL: $AECL_DEVICE / default); prints on failure. */
int cli_open_ctx(const char *cmd, const char *device, aecl_ctx **ctx);

/* 1 when argv[i] is --help or -h. */
int cli_wants_help(int argc, char **argv);

/* Seconds on a monotonic clock. */
double cli_now(void);

int cmd_devices(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif

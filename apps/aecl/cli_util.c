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

/* ---- options ---------------------------------------------------------------- */

static char cli_last_name[64];
static int cli_after_dashes; /* past "--": the rest are positionals */

static int cli_usage(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "aecl %s: %s '%s' (see aecl %s --help)\n", cmd, what, arg, cmd);
    return CLI_OPT_BAD;
}

/* optstring "-:h": '-' returns positionals in order (as 1) whatever
 * POSIXLY_CORRECT says, ':' silences getopt's own messages (ours name the
 * command) and reports a missing value as ':'. */
int cli_next_opt(const char *cmd, int argc, char **argv, const struct option *opts, const char **value)
{
    static char **started; /* the argv being read: a new one starts getopt over */
    if (started != argv) {
        started = argv;
        optind = 0; /* glibc: 0 re-initialises getopt's state */
        cli_after_dashes = 0;
    }
    *value = NULL;
    if (cli_after_dashes) {
        if (optind >= argc) return CLI_OPT_END;
        *value = argv[optind++];
        return CLI_OPT_ARG;
    }
    int index = -1;
    opterr = 0;
    int o = getopt_long(argc, argv, "-:h", opts, &index);
    snprintf(cli_last_name, sizeof cli_last_name, "--%s", index >= 0 ? opts[index].name : "help");
    if (o == -1 && optind < argc) { /* stopped at "--" */
        cli_after_dashes = 1;
        return cli_next_opt(cmd, argc, argv, opts, value);
    }
    if (o == -1) return CLI_OPT_END;
    const char *arg = argv[optind - 1];
    if (o == ':') return cli_usage(cmd, "option needs a value:", arg);
    if (o == '?' && optopt && strchr(arg, '=')) return cli_usage(cmd, "option takes no value:", arg);
    if (o == '?') return cli_usage(cmd, "unknown option", arg);
    *value = optarg;
    return o;
}

const char *cli_opt_name(void) { return cli_last_name; }

int cli_bad_value(const char *cmd, const char *v)
{
    fprintf(stderr, "aecl %s: bad value for %s: '%s' (see aecl %s --help)\n", cmd, cli_last_name, v ? v : "", cmd);
    return 2;
}

int cli_positional(const char *cmd, const char *v, const char **slots, int n)
{
    for (int i = 0; i < n; i++)
        if (!slots[i]) { slots[i] = v; return 0; }
    fprintf(stderr, "aecl %s: unexpected argument '%s' (see aecl %s --help)\n", cmd, v, cmd);
    return 2;
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

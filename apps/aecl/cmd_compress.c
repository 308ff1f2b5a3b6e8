/* aecl compress: samples stored as quantized latent codes, entropy-coded with
 * zstd (lib/nn/app_codes.c has the file format); the rate (bits per pixel or
 * value, after entropy coding) and the distortion (MSE, PSNR of the mean MSE
 * and per image) of each --bits setting, as CompressAI reports them. */
#include "chart.h"
#include "cli.h"
#include "io/io.h"
#include "nn/app.h"
#include "nn/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SETTINGS = 16 };

static void usage(void)
{
    printf("usage: aecl compress WEIGHTS --out FILE [options]\n\n"
           "Stores each sample as its latent code (a VAE: the mean), quantized to B bits per value\n"
           "with per-dimension ranges and entropy-coded with zstd, in a checked file\n"
           "(docs/applications.md). For each --bits setting it reports the rate in bits per pixel\n"
           "(tabular models: per value) of the whole file, and the distortion of the restored\n"
           "samples: MSE, PSNR of the mean MSE and per image (mean and median; images only).\n\n"
           "  --out FILE          the codes file, at the last --bits setting\n"
           "  --bits LIST         bits per code value, 1..16, comma-separated (default 8): 4,6,8\n"
           "                      gives one rate-distortion point per setting\n"
           "  --report FILE.csv   the rate-distortion table: bits,bytes,bpp,bits_per_code,mse,\n"
           "                      psnr,psnr_image_mean,psnr_image_median (tabular: no psnr columns)\n"
           "  --per-image FILE    CSV of each image's PSNR at each setting (index,psnr_bB...,label)\n"
           "  --grid FILE.png     originals above their restored samples (last setting)\n%s%s",
           app_grid_help, app_common_help);
}

typedef struct compress_opts {
    const char *out, *grid, *report, *per_image;
    long bits[MAX_SETTINGS];
    int nbits;
    app_grid_opts g;
} compress_opts;

/* "4,6,8" -> bits[]; 0 when a value is bad or there are too many. */
static int parse_bits(const char *v, compress_opts *o)
{
    char buf[256], *save = NULL;
    if (strlen(v) >= sizeof buf) return 0;
    strcpy(buf, v);
    o->nbits = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->nbits == MAX_SETTINGS || !cli_parse_long(t, 1, 16, &o->bits[o->nbits])) return 0;
        o->nbits++;
    }
    return o->nbits > 0 && v[strlen(v) - 1] != ',';
}

static int parse(const char *cmd, int argc, char **argv, app_args *a, compress_opts *o, int *help)
{
    enum { OPT_OUT = CLI_OPT_FIRST, OPT_GRID, OPT_BITS, OPT_REPORT, OPT_PER_IMAGE };
    static const struct option opts[] = {APP_COMMON_LONGOPTS, APP_GRID_LONGOPTS, CLI_HELP_LONGOPT,
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"grid", required_argument, NULL, OPT_GRID},
                                         {"bits", required_argument, NULL, OPT_BITS},
                                         {"report", required_argument, NULL, OPT_REPORT},
                                         {"per-image", required_argument, NULL, OPT_PER_IMAGE},
                                         {0}};
    const char *v;
    for (int opt; (opt = app_next_opt(cmd, argc, argv, opts, a, &o->g, &v)) != CLI_OPT_END;) {
        switch (opt) {
        case CLI_OPT_BAD: return 2;
        case CLI_OPT_HELP: *help = 1; return 0;
        case CLI_OPT_ARG: if (cli_positional(cmd, v, &a->weights, 1)) return 2; break;
        case OPT_OUT: o->out = v; break;
        case OPT_GRID: o->grid = v; break;
        case OPT_REPORT: o->report = v; break;
        case OPT_PER_IMAGE: o->per_image = v; break;
        case OPT_BITS:
            if (!parse_bits(v, o)) return app_usage_error(cmd, "--bits '%s': up to %d values of 1..16, comma-separated", v,
                                                          MAX_SETTINGS);
            break;
        }
    }
    if (!o->out && !o->report) return app_usage_error(cmd, "give --out FILE (the codes) or --report FILE.csv");
    if (chart_check_png_name(cmd, "--grid", o->grid)) return 2;
    if (o->report && !app_is_csv(o->report)) return app_usage_error(cmd, "--report '%s': name a .csv file", o->report);
    if (o->per_image && !app_is_csv(o->per_image))
        return app_usage_error(cmd, "--per-image '%s': name a .csv file", o->per_image);
    return 0;
}

/* One rate-distortion point. */
typedef struct rd_point {
    size_t bytes;
    double bpp, bits_per_code, mse, psnr, psnr_mean, psnr_median;
} rd_point;

typedef struct run {
    aecl_ctx *ctx;
    aecl_model *m;
    const aecl_dataset *d;
    size_t L, f;
    int image;
    float *z, *zq, *y, *mse_rows; /* mse_rows: n per setting */
    unsigned char *file;           /* the last setting's file */
    size_t file_bytes;
} run;

static void mse_per_row(const float *a, const float *b, size_t n, size_t f, float *out)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)app_mean_mse(a + i * f, b + i * f, 1, f);
}

/* Encodes at `bits`, decodes what a reader would restore, measures it. */
static aecl_status one_setting(run *r, unsigned bits, float *mse_rows, rd_point *p)
{
    int c, h, w;
    aecl_model_input_shape(r->m, &c, &h, &w);
    size_t n = r->d->n;
    free(r->file);
    r->file = NULL;
    AECL_TRY(aecl_codes_encode(r->ctx, r->z, n, r->L, bits, aecl_model_hash(r->m), c, h, w, r->zq, &r->file,
                               &r->file_bytes));
    AECL_TRY(aecl_model_decode(r->m, r->zq, n, r->y));
    AECL_TRY(app_check_finite(r->ctx, "the restored sample", r->y, n, r->f));
    mse_per_row(r->y, r->d->x, n, r->f, mse_rows);
    p->bytes = r->file_bytes;
    p->bpp = 8.0 * (double)r->file_bytes / ((double)n * (double)r->f);
    p->bits_per_code = 8.0 * (double)r->file_bytes / ((double)n * (double)r->L);
    p->mse = app_mean_mse(r->y, r->d->x, n, r->f);
    p->psnr = aecl_psnr(p->mse);
    app_psnr_per_image(mse_rows, n, &p->psnr_mean, &p->psnr_median);
    return AECL_OK;
}

static void print_point(const run *r, unsigned bits, const rd_point *p)
{
    if (r->image)
        printf("%2u bits: %9zu bytes  %7.4f bpp  %6.3f bits/code  MSE %.6f  PSNR %6.2f dB  per image %6.2f dB mean, "
               "%6.2f dB median\n", bits, p->bytes, p->bpp, p->bits_per_code, p->mse, p->psnr, p->psnr_mean,
               p->psnr_median);
    else
        printf("%2u bits: %9zu bytes  %7.4f bits/value  %6.3f bits/code  MSE %.6f (data units)\n", bits, p->bytes,
               p->bpp, p->bits_per_code, p->mse);
}

static aecl_status write_report(aecl_ctx *ctx, const char *path, const compress_opts *o, const rd_point *p, int image)
{
    size_t cols = image ? 8 : 5;
    float rows[MAX_SETTINGS * 8];
    for (int s = 0; s < o->nbits; s++) {
        const double v[8] = {(double)o->bits[s], (double)p[s].bytes, p[s].bpp, p[s].bits_per_code, p[s].mse, p[s].psnr,
                             p[s].psnr_mean, p[s].psnr_median};
        for (size_t k = 0; k < cols; k++) rows[(size_t)s * cols + k] = (float)v[k];
    }
    static const char *const img[] = {"bits", "bytes", "bpp", "bits_per_code", "mse", "psnr", "psnr_image_mean",
                                      "psnr_image_median"};
    static const char *const tab[] = {"bits", "bytes", "bits_per_value", "bits_per_code", "mse"};
    return aecl_csv_write(ctx, path, rows, (size_t)o->nbits, cols, image ? img : tab, NULL, NULL);
}

static aecl_status write_per_image(aecl_ctx *ctx, const char *path, const compress_opts *o, const run *r)
{
    size_t n = r->d->n, cols = 1 + (size_t)o->nbits;
    float *rows = malloc(n * cols * sizeof *rows);
    char *names = malloc(cols * 16);
    const char **hdr = malloc(cols * sizeof *hdr);
    aecl_status st = rows && names && hdr ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    for (size_t k = 0; st == AECL_OK && k < cols; k++) {
        hdr[k] = names + 16 * k;
        if (k == 0) snprintf(names, 16, "index");
        else snprintf(names + 16 * k, 16, "psnr_b%ld", o->bits[k - 1]);
    }
    for (size_t i = 0; st == AECL_OK && i < n; i++) {
        rows[i * cols] = (float)i;
        for (int s = 0; s < o->nbits; s++) {
            float m = r->mse_rows[(size_t)s * n + i];
            rows[i * cols + 1 + (size_t)s] = (float)aecl_psnr(m > 1e-10f ? m : 1e-10);
        }
    }
    if (st == AECL_OK) st = aecl_csv_write(ctx, path, rows, n, cols, hdr, r->d->labels, "label");
    free(rows);
    free(names);
    free(hdr);
    return st;
}

static aecl_status write_grid(run *r, const compress_opts *o, const char *weights, unsigned bits)
{
    size_t *idx, k;
    AECL_TRY(app_grid_pick(r->ctx, &o->g, r->d->n, &idx, &k));
    char which[128], title[512];
    app_grid_describe(&o->g, idx, k, r->d->n, which, sizeof which);
    snprintf(title, sizeof title, "%s: originals and restored from %u-bit codes, %s", weights, bits, which);
    const float *groups[2] = {r->d->x, r->y};
    static const char *const names[2] = {"original", "restored"};
    aecl_status st = app_draw_bands(r->ctx, r->m, o->grid, &o->g, title, groups, names, 2, idx, k);
    if (st == AECL_OK) printf("picture written to %s (%s; rows: originals above restored)\n", o->grid, which);
    free(idx);
    return st;
}

static aecl_status compress(run *r, const compress_opts *o, const app_args *a)
{
    size_t n = r->d->n;
    rd_point p[MAX_SETTINGS];
    AECL_TRY(aecl_model_encode(r->m, r->d->x, n, r->z, 0));
    AECL_TRY(app_check_finite(r->ctx, "the code", r->z, n, r->L));
    printf("%zu samples of %zu %s, codes of %zu values; rate of the whole file after zstd:\n", n, r->f,
           r->image ? "pixels" : "values", r->L);
    for (int s = 0; s < o->nbits; s++) {
        AECL_TRY(one_setting(r, (unsigned)o->bits[s], r->mse_rows + (size_t)s * n, &p[s]));
        print_point(r, (unsigned)o->bits[s], &p[s]);
    }
    AECL_TRY(aecl_model_decode(r->m, r->z, n, r->y));   /* the codes unquantized: the model's own limit */
    double m0 = app_mean_mse(r->y, r->d->x, n, r->f);
    if (r->image) printf("unquantized codes: MSE %.6f  PSNR %.2f dB (as 8-bit pixels: 8 bpp)\n", m0, aecl_psnr(m0));
    else printf("unquantized codes: MSE %.6f (data units; no PSNR for tabular data)\n", m0);
    unsigned last = (unsigned)o->bits[o->nbits - 1];
    if (o->out) AECL_TRY(aecl_write_file_atomic(r->ctx, o->out, r->file, r->file_bytes));
    if (o->out) printf("%s: %zu bytes (%u-bit codes)\n", o->out, r->file_bytes, last);
    if (o->report) AECL_TRY(write_report(r->ctx, o->report, o, p, r->image));
    if (o->report) printf("rate-distortion table written to %s\n", o->report);
    if (o->per_image) AECL_TRY(write_per_image(r->ctx, o->per_image, o, r));
    if (o->per_image) printf("per-image PSNR written to %s\n", o->per_image);
    if (o->grid) {
        AECL_TRY(one_setting(r, last, r->mse_rows, &p[0]));   /* r->y back to the last setting's restored samples */
        AECL_TRY(write_grid(r, o, a->weights, last));
    }
    return AECL_OK;
}

int cmd_compress(int argc, char **argv)
{
    const char *cmd = "compress";
    compress_opts o = {.bits = {8}, .nbits = 1};
    app_grid_init(&o.g, 8, 2);
    app_args a;
    app_args_init(&a);
    int help = 0, rc = parse(cmd, argc, argv, &a, &o, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    if (cli_check_output(cmd, o.out) || cli_check_output(cmd, o.grid) || cli_check_output(cmd, o.report) ||
        cli_check_output(cmd, o.per_image))
        return 1;
    run r = {0};
    if ((rc = app_open_model(cmd, &a, &r.ctx, &r.m))) return rc;
    r.image = app_is_image_model(r.m);
    aecl_dataset d;
    if ((rc = app_refuse_picture(cmd, r.m, a.weights, "--grid", o.grid)) ||
        (!r.image && o.per_image && (rc = app_usage_error(cmd, "--per-image: PSNR needs an image model"))) ||
        app_load_or_fail(cmd, r.ctx, r.m, &a, &d)) {
        aecl_model_free(r.m);
        aecl_ctx_free(r.ctx);
        return rc ? rc : 1;
    }
    r.d = &d;
    r.L = aecl_model_latent_size(r.m);
    r.f = d.features;
    r.z = malloc(d.n * r.L * sizeof *r.z);
    r.zq = malloc(d.n * r.L * sizeof *r.zq);
    r.y = malloc(d.n * r.f * sizeof *r.y);
    r.mse_rows = malloc((size_t)o.nbits * d.n * sizeof *r.mse_rows);
    aecl_status st = r.z && r.zq && r.y && r.mse_rows ? AECL_OK : aecl_fail(r.ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = compress(&r, &o, &a);
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, r.ctx, "compression failed");
    free(r.z); free(r.zq); free(r.y); free(r.mse_rows); free(r.file);
    aecl_dataset_free(&d);
    aecl_model_free(r.m);
    aecl_ctx_free(r.ctx);
    return rc;
}

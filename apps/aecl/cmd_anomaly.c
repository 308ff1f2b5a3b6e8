/* aecl anomaly: per-sample anomaly scores (reconstruction error, SSIM error, a
 * VAE's negative ELBO, the code's Mahalanobis distance to the normal data's codes,
 * or a combination), a threshold, and AUROC/AUPRC against labels. */
#include "cli.h"
#include "io/io.h"
#include "nn/app.h"
#include "nn/app_scores.h"
#include "nn/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(void)
{
    printf("usage: aecl anomaly WEIGHTS [options]\n\n"
           "Scores every sample of --data (higher = more anomalous). A threshold flags anomalies:\n"
           "by default the one stored in WEIGHTS (aecl train --contamination, or --fit here), else\n"
           "the one an option gives. Labels that say which samples are anomalous give AUROC and\n"
           "AUPRC (exact, ties counted as halves / grouped).\n\n"
           "  --score KIND        mse (mean squared reconstruction error per value, the score\n"
           "                      aecl_cl_model_scores gives too), loss (the training objective),\n"
           "                      elbo (VAE: negative ELBO at the mean code), ssim (images: 1 - mean\n"
           "                      SSIM of the reconstruction), mahalanobis (the code's squared\n"
           "                      distance to a Gaussian of the normal reference's codes), combined\n"
           "                      (images: log ssim + log mahalanobis, each standardised on the\n"
           "                      normal reference). Default: the model file's anomaly_score, else mse\n"
           "  --elbo              the same as --score elbo\n"
           "  --contamination F   threshold: flag the top fraction F of the scored samples\n"
           "  --quantile Q        threshold: the Q-quantile of the reference scores (see --ref-data)\n"
           "  --threshold X       threshold: X\n"
           "  --fit               with --contamination F: store that threshold (the (1-F)-quantile of\n"
           "                      these samples' scores; fit it on normal training data, e.g.\n"
           "                      --split train) in WEIGHTS, for later runs to use by default\n"
           "  --ref-data PATH     reference (normal) data for --quantile and the fit of mahalanobis\n"
           "                      and combined (default: a folder's training split, or --data itself)\n"
           "  --ref-limit N       the first N reference samples (default: 2000 for --quantile, all\n"
           "                      for the fit)\n"
           "  --normal-class K    one-class setup: label K is normal, every other label anomalous\n"
           "                      (a labelled reference keeps only class K)\n"
           "  --anomaly-class K   label K is anomalous, the others normal\n"
           "                      (without either, labels of 0/1 say anomalous = 1)\n"
           "  --scores FILE       CSV of index,score(,anomaly)(,label) per sample (--out is the same)\n%s",
           app_common_help);
}

typedef struct anomaly_args {
    aecl_score_kind score;
    int score_given, fit;
    double contamination, quantile, threshold;   /* NaN when not given */
    const char *ref_data, *out;
    long ref_limit, normal_class, anomaly_class; /* -1 when not given */
} anomaly_args;

enum { O_SCORE = CLI_OPT_FIRST, O_ELBO, O_CONTAMINATION, O_QUANTILE, O_THRESHOLD, O_FIT, O_REF_DATA, O_REF_LIMIT,
       O_NORMAL, O_ANOMALY, O_SCORES };

static const struct option opts[] = {
    APP_COMMON_LONGOPTS, CLI_HELP_LONGOPT,
    {"score", required_argument, NULL, O_SCORE}, {"elbo", no_argument, NULL, O_ELBO},
    {"contamination", required_argument, NULL, O_CONTAMINATION}, {"quantile", required_argument, NULL, O_QUANTILE},
    {"threshold", required_argument, NULL, O_THRESHOLD}, {"fit", no_argument, NULL, O_FIT},
    {"ref-data", required_argument, NULL, O_REF_DATA}, {"ref-limit", required_argument, NULL, O_REF_LIMIT},
    {"normal-class", required_argument, NULL, O_NORMAL}, {"anomaly-class", required_argument, NULL, O_ANOMALY},
    {"scores", required_argument, NULL, O_SCORES}, {"out", required_argument, NULL, O_SCORES}, {0}};

/* One of the command's own options: 1, or 0 when its value is bad. */
static int option(anomaly_args *o, int k, const char *v)
{
    switch (k) {
    case O_SCORE:
        o->score_given = 1;
        for (int i = 0; aecl_score_name((aecl_score_kind)i); i++)
            if (!strcmp(v, aecl_score_name((aecl_score_kind)i))) { o->score = (aecl_score_kind)i; return 1; }
        return 0;
    case O_ELBO: o->score_given = 1; o->score = AECL_SCORE_ELBO; return 1;
    case O_FIT: o->fit = 1; return 1;
    case O_CONTAMINATION:
        return cli_parse_double(v, 0, 1, &o->contamination) && o->contamination > 0 && o->contamination < 1;
    case O_QUANTILE: return cli_parse_double(v, 0, 1, &o->quantile);
    case O_THRESHOLD: return cli_parse_double(v, -HUGE_VAL, HUGE_VAL, &o->threshold);
    case O_REF_DATA: o->ref_data = v; return *v != 0;
    case O_SCORES: o->out = v; return *v != 0;
    case O_REF_LIMIT: return cli_parse_long(v, 1, 1000000000000L, &o->ref_limit);
    case O_NORMAL: return cli_parse_long(v, 0, 1000000000L, &o->normal_class);
    case O_ANOMALY: return cli_parse_long(v, 0, 1000000000L, &o->anomaly_class);
    }
    return 0;
}

static int parse(int argc, char **argv, app_args *a, anomaly_args *o, int *help)
{
    const char *v;
    for (int k; (k = app_next_opt("anomaly", argc, argv, opts, a, NULL, &v)) != CLI_OPT_END;) {
        if (k == CLI_OPT_BAD) return 2;
        if (k == CLI_OPT_HELP) { *help = 1; return 0; }
        if (k == CLI_OPT_ARG) {
            if (cli_positional("anomaly", v, &a->weights, 1)) return 2;
        } else if (!option(o, k, v)) {
            return cli_bad_value("anomaly", v);
        }
    }
    int thresholds = !isnan(o->contamination) + !isnan(o->quantile) + !isnan(o->threshold);
    if (thresholds > 1) return app_usage_error("anomaly", "give one of --contamination, --quantile, --threshold");
    if (o->fit && isnan(o->contamination))
        return app_usage_error("anomaly", "--fit stores the threshold of --contamination F: give F");
    if (o->normal_class >= 0 && o->anomaly_class >= 0)
        return app_usage_error("anomaly", "--normal-class and --anomaly-class exclude each other");
    return 0;
}

/* The normal reference: a folder's training split (or --ref-data, or --data
 * itself), of the normal class only in the one-class setup, at most `limit`. */
static aecl_status load_ref(aecl_ctx *ctx, aecl_model *m, const app_args *a, const anomaly_args *o, size_t limit,
                            aecl_dataset *r)
{
    const char *path = o->ref_data ? o->ref_data : a->data;
    app_args ra = *a;
    if (o->ref_data) ra.labels = NULL;   /* --labels belong to --data */
    /* A folder's training files (a file is read whole). */
    AECL_TRY(app_load_data(ctx, &ra, path, "train", o->normal_class >= 0 ? 0 : limit, aecl_model_input_size(m), r));
    size_t f = r->features, k = 0;
    if (o->normal_class >= 0 && r->labels) {
        /* Keep the normal class only (a reference without labels counts as normal). */
        for (size_t i = 0; i < r->n && k < limit; i++)
            if (r->labels[i] == o->normal_class) memmove(r->x + k++ * f, r->x + i * f, f * sizeof *r->x);
        r->n = k;
    }
    if (r->n > limit) r->n = limit;
    if (r->n) return AECL_OK;
    aecl_dataset_free(r);
    return aecl_fail(ctx, AECL_ERR_INVALID_ARG, "%s: no reference samples%s", path,
                     o->normal_class >= 0 ? " of the normal class" : "");
}

/* Reference scores for --quantile: normal samples only in the one-class setup. */
static aecl_status ref_scores(aecl_ctx *ctx, aecl_model *m, const app_args *a, const anomaly_args *o, float **out,
                              size_t *n)
{
    aecl_dataset r;
    AECL_TRY(load_ref(ctx, m, a, o, o->ref_limit > 0 ? (size_t)o->ref_limit : 2000, &r));
    float *s = malloc(r.n * sizeof *s);
    aecl_status st = s ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK) st = aecl_model_scores(m, r.x, r.n, o->score, s);
    if (st == AECL_OK) st = app_check_finite(ctx, "the reference score", s, r.n, 1);
    *n = r.n;
    aecl_dataset_free(&r);
    if (st != AECL_OK) { free(s); return st; }
    *out = s;
    return AECL_OK;
}

/* mahalanobis and combined compare with the normal reference: fit it. */
static aecl_status fit_normal(aecl_ctx *ctx, aecl_model *m, const app_args *a, const anomaly_args *o)
{
    if (o->score != AECL_SCORE_MAHALANOBIS && o->score != AECL_SCORE_COMBINED) return AECL_OK;
    aecl_dataset r;
    AECL_TRY(load_ref(ctx, m, a, o, o->ref_limit > 0 ? (size_t)o->ref_limit : (size_t)-1, &r));
    aecl_status st = aecl_model_fit_normal(m, r.x, r.n);
    const char *path = o->ref_data ? o->ref_data : a->data;
    struct stat sb;
    if (st == AECL_OK)
        printf("normal reference: %zu samples of %s%s", r.n, path,
               stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? " (its training split)" : "");
    if (st == AECL_OK && o->normal_class >= 0) printf(", class %ld", o->normal_class);
    if (st == AECL_OK) printf(" (the Gaussian of their codes)\n");
    aecl_dataset_free(&r);
    return st;
}

/* The threshold stored in the weights file, when it is of the score in use. */
static double stored_threshold(const aecl_model *m, const anomaly_args *o, char *from, size_t cap)
{
    const char *t = aecl_model_meta(m, "aecl.anomaly.threshold"), *kind = aecl_model_meta(m, "aecl.anomaly.score");
    const char *c = aecl_model_meta(m, "aecl.anomaly.contamination"), *on = aecl_model_meta(m, "aecl.anomaly.fitted_on");
    char *end = NULL;
    double thr = t ? strtod(t, &end) : NAN;
    if (!t || end == t || *end || !isfinite(thr)) return NAN;
    if (!kind || strcmp(kind, aecl_score_name(o->score))) {
        printf("the stored threshold (of the %s score) does not apply to --score %s: none used\n", kind ? kind : "?",
               aecl_score_name(o->score));
        return NAN;
    }
    snprintf(from, cap, "stored in the weights file: contamination %s of %s", c ? c : "?", on ? on : "?");
    return thr;
}

static aecl_status pick_threshold(aecl_ctx *ctx, aecl_model *m, const app_args *a, const anomaly_args *o,
                                  const float *scores, size_t n, double *thr, char *from, size_t cap)
{
    *thr = NAN;
    snprintf(from, cap, "%s", "");
    if (!isnan(o->threshold)) *thr = o->threshold;
    else if (!isnan(o->contamination)) {
        *thr = aecl_quantile(scores, n, 1.0 - o->contamination);
        snprintf(from, cap, "the %.4g-quantile of these scores", 1.0 - o->contamination);
    } else if (!isnan(o->quantile)) {
        float *ref = NULL;
        size_t nr = 0;
        AECL_TRY(ref_scores(ctx, m, a, o, &ref, &nr));
        *thr = aecl_quantile(ref, nr, o->quantile);
        printf("reference: %zu samples, %.4g-quantile of their scores %.6g\n", nr, o->quantile, *thr);
        free(ref);
    } else {
        *thr = stored_threshold(m, o, from, cap);
    }
    return AECL_OK;
}

/* --fit: the threshold goes into the weights file, with what it was fitted on. */
static aecl_status fit_store(aecl_ctx *ctx, const app_args *a, const anomaly_args *o, double thr, size_t n)
{
    char t[64], c[64], on[4200];
    snprintf(t, sizeof t, "%.9g", thr);
    snprintf(c, sizeof c, "%.9g", o->contamination);
    snprintf(on, sizeof on, "%zu samples of %s%s%s", n, a->data, strcmp(a->split, "train") ? "" : " (train split)",
             a->limit ? " (--limit)" : "");
    const char *pairs[] = {"aecl.anomaly.threshold", t, "aecl.anomaly.score", aecl_score_name(o->score),
                           "aecl.anomaly.contamination", c,
                           "aecl.anomaly.fitted_on", on};
    AECL_TRY(aecl_weights_set_meta(ctx, a->weights, pairs, 4));
    printf("threshold %.6g stored in %s (aecl anomaly uses it by default)\n", thr, a->weights);
    return AECL_OK;
}

/* Ground truth from labels: 1 anomalous, 0 normal; NULL when the labels do not say. */
static int *truth(const aecl_dataset *d, const anomaly_args *o)
{
    if (!d->labels) return NULL;
    int binary = 1;
    for (size_t i = 0; i < d->n; i++) binary &= d->labels[i] == 0 || d->labels[i] == 1;
    if (o->normal_class < 0 && o->anomaly_class < 0 && !binary) return NULL;
    int *t = malloc(d->n * sizeof *t);
    for (size_t i = 0; t && i < d->n; i++)
        t[i] = o->normal_class >= 0 ? d->labels[i] != o->normal_class
             : o->anomaly_class >= 0 ? d->labels[i] == o->anomaly_class : d->labels[i] == 1;
    return t;
}

static void report(const float *s, const int *t, size_t n, double thr, const char *from)
{
    size_t flagged = 0, tp = 0, pos = 0;
    for (size_t i = 0; i < n; i++) {
        int f = !isnan(thr) && s[i] > thr;
        flagged += f;
        if (t) { pos += t[i] != 0; tp += f && t[i]; }
    }
    if (!isnan(thr))
        printf("threshold %.6g%s%s%s: %zu of %zu samples flagged anomalous (%.2f%%)\n", thr, *from ? " (" : "", from,
               *from ? ")" : "", flagged, n, 100.0 * flagged / n);
    else
        printf("no threshold: nothing flagged (none stored in the weights file for this score: give "
               "--contamination, --quantile or --threshold)\n");
    if (!t) return;
    double auroc, auprc;
    if (aecl_auroc(s, t, n, &auroc) != AECL_OK || aecl_auprc(s, t, n, &auprc) != AECL_OK) {
        printf("AUROC/AUPRC: %s\n", aecl_ctx_last_error(NULL));
        return;
    }
    printf("%zu anomalous of %zu by the labels: AUROC %.4f  AUPRC %.4f (chance %.4f)\n", pos, n, auroc, auprc, (double)pos / n);
    if (!isnan(thr)) {
        double p = flagged ? (double)tp / flagged : 0, r = pos ? (double)tp / pos : 0;
        printf("at the threshold: precision %.4f  recall %.4f  F1 %.4f\n", p, r, p + r > 0 ? 2 * p * r / (p + r) : 0.0);
    }
}

static aecl_status write_scores(aecl_ctx *ctx, const char *path, const float *s, size_t n, double thr, const int32_t *labels)
{
    size_t cols = isnan(thr) ? 2 : 3;
    float *rows = malloc(n * cols * sizeof *rows);
    AECL_RETURN_IF(!rows, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    for (size_t i = 0; i < n; i++) {
        rows[i * cols] = (float)i;
        rows[i * cols + 1] = s[i];
        if (cols == 3) rows[i * cols + 2] = s[i] > thr ? 1.0f : 0.0f;
    }
    static const char *const names[] = {"index", "score", "anomaly"};
    aecl_status st = aecl_csv_write(ctx, path, rows, n, cols, names, labels, "label");
    free(rows);
    return st;
}

int cmd_anomaly(int argc, char **argv)
{
    const char *cmd = "anomaly";
    app_args a;
    app_args_init(&a);
    anomaly_args o = {.score = AECL_SCORE_MSE, .contamination = NAN, .quantile = NAN, .threshold = NAN,
                      .ref_limit = -1, .normal_class = -1, .anomaly_class = -1};
    char from[4400];
    int help = 0, rc = parse(argc, argv, &a, &o, &help);
    if (help) { usage(); return 0; }
    if (rc) return rc;
    if (cli_check_output(cmd, o.out) || (o.fit && cli_check_output(cmd, a.weights))) return 1;
    aecl_ctx *ctx;
    aecl_model *m;
    if ((rc = app_open_model(cmd, &a, &ctx, &m))) return rc;
    if (!o.score_given) o.score = aecl_model_spec_of(m)->train.anomaly_score;   /* the model file's */
    if (o.score == AECL_SCORE_ELBO && aecl_model_get_kind(m) != AECL_MODEL_VARIATIONAL) {
        fprintf(stderr, "aecl anomaly: --elbo needs a variational model; %s is %s\n", a.weights, aecl_model_kind_name(m));
        aecl_model_free(m);
        aecl_ctx_free(ctx);
        return 2;
    }
    aecl_dataset d;
    if (app_load_or_fail(cmd, ctx, m, &a, &d)) { aecl_model_free(m); aecl_ctx_free(ctx); return 1; }
    float *s = malloc(d.n * sizeof *s);
    int *t = NULL;
    double thr = NAN;
    aecl_status st = s ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    if (st == AECL_OK && (o.normal_class >= 0 || o.anomaly_class >= 0) && !d.labels)
        st = aecl_fail(ctx, AECL_ERR_INVALID_ARG, "%s: the data has no labels (--labels FILE)", a.data);
    if (st == AECL_OK) st = fit_normal(ctx, m, &a, &o);
    if (st == AECL_OK) st = aecl_model_scores(m, d.x, d.n, o.score, s);
    if (st == AECL_OK) st = app_check_finite(ctx, "the score", s, d.n, 1);
    if (st == AECL_OK) st = pick_threshold(ctx, m, &a, &o, s, d.n, &thr, from, sizeof from);
    if (st == AECL_OK) {
        static const char *const kinds[] = {"mean squared reconstruction error", "training loss", "negative ELBO",
                                            "SSIM error (1 - mean SSIM)", "squared Mahalanobis distance of the code",
                                            "standardised log SSIM error + log Mahalanobis distance"};
        printf("%zu samples scored by %s (--score %s%s): median %.6g\n", d.n, kinds[o.score], aecl_score_name(o.score),
               o.score_given ? "" : ", the model's default", aecl_quantile(s, d.n, 0.5));
        t = truth(&d, &o);
        report(s, t, d.n, thr, from);
        if (o.fit) st = fit_store(ctx, &a, &o, thr, d.n);
        if (st == AECL_OK && o.out) st = write_scores(ctx, o.out, s, d.n, thr, d.labels);
        if (st == AECL_OK && o.out) printf("scores written to %s\n", o.out);
    }
    rc = st == AECL_OK ? 0 : cli_error(cmd, st, ctx, "anomaly scoring failed");
    free(s);
    free(t);
    aecl_dataset_free(&d);
    aecl_model_free(m);
    aecl_ctx_free(ctx);
    return rc;
}

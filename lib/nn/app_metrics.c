/* Anomaly-detection metrics: exact AUROC and AUPRC with ties, quantiles, PSNR. */
#include "nn/app.h"
#include "rt/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct scored {
    float s;
    int pos;
} scored;

static int by_score(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

/* The pairs sorted by ascending score; counts of each class. */
static aecl_status sorted_pairs(const float *scores, const int *is_anomaly, size_t n, const char *what, scored **out,
                                size_t *n_pos)
{
    *out = NULL;
    AECL_RETURN_IF(!scores || !is_anomaly || n == 0, AECL_ERR_INVALID_ARG, NULL, "%s: no scores", what);
    scored *p = malloc(n * sizeof *p);
    AECL_RETURN_IF(!p, AECL_ERR_HOST_MEMORY, NULL, "out of host memory");
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i])) { free(p); return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "%s: score %zu is NaN", what, i); }
        p[i] = (scored){scores[i], is_anomaly[i] != 0};
        pos += p[i].pos;
    }
    if (pos == 0 || pos == n) {
        free(p);
        return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "%s: needs both normal and anomalous samples (%zu of %zu anomalous)",
                         what, pos, n);
    }
    qsort(p, n, sizeof *p, by_score);
    *out = p;
    *n_pos = pos;
    return AECL_OK;
}

/* Mann-Whitney: (sum of the anomalies' ranks - P(P+1)/2) / (P N), tied scores
 * sharing their mean rank, so a tied pair counts one half. */
aecl_status aecl_auroc(const float *scores, const int *is_anomaly, size_t n, double *out)
{
    scored *p;
    size_t P;
    AECL_TRY(sorted_pairs(scores, is_anomaly, n, "AUROC", &p, &P));
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, pos = 0;
        while (j < n && p[j].s == p[i].s) pos += p[j++].pos;
        rank_sum += (double)pos * ((double)(i + 1) + (double)j) / 2.0;   /* mean of ranks i+1 .. j */
        i = j;
    }
    double N = (double)(n - P);
    *out = (rank_sum - (double)P * ((double)P + 1) / 2.0) / ((double)P * N);
    free(p);
    return AECL_OK;
}

/* Average precision: sum over distinct thresholds, highest first, of
 * (recall gain) x precision, each group of tied scores taken at once. */
aecl_status aecl_auprc(const float *scores, const int *is_anomaly, size_t n, double *out)
{
    scored *p;
    size_t P;
    AECL_TRY(sorted_pairs(scores, is_anomaly, n, "AUPRC", &p, &P));
    double ap = 0;
    size_t tp = 0, seen = 0;
    for (size_t i = n; i > 0;) {
        size_t j = i, pos = 0;
        while (j > 0 && p[j - 1].s == p[i - 1].s) pos += p[--j].pos;
        seen += i - j;
        if (pos) {
            tp += pos;
            ap += ((double)pos / (double)P) * ((double)tp / (double)seen);
        }
        i = j;
    }
    *out = ap;
    free(p);
    return AECL_OK;
}

static int by_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double aecl_quantile(const float *v, size_t n, double q)
{
    if (n == 0 || !(q >= 0 && q <= 1)) return NAN;
    float *s = malloc(n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, by_float);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    double r = s[lo] + (pos - (double)lo) * ((double)s[hi] - s[lo]);
    free(s);
    return r;
}

double aecl_psnr(double mse)
{
    if (isnan(mse)) return NAN;   /* not a perfect reconstruction: no figure at all */
    return mse > 0 ? 10.0 * log10(1.0 / mse) : INFINITY;
}

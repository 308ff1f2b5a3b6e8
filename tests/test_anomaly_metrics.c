/* Anomaly metrics against hand-computed values (ties included) and a brute-force
 * pair count; quantiles; PCA on points of known directions; the codes file round
 * trip and its rejection of damaged files; noise parsing. No device needed. */
#include "check.h"
#include "nn/app.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static void metric_case(const float *s, const int *y, size_t n, double auroc, double auprc)
{
    double a = -1, p = -1;
    CHECK_OK(NULL, aecl_auroc(s, y, n, &a));
    CHECK_OK(NULL, aecl_auprc(s, y, n, &p));
    CHECK_NEAR(a, auroc, 1e-12);
    CHECK_NEAR(p, auprc, 1e-12);
}

static void hand_values(void)
{
    /* sklearn's documented example: AUROC 0.75, AP 0.8333. */
    metric_case((const float[]){0.1f, 0.4f, 0.35f, 0.8f}, (const int[]){0, 0, 1, 1}, 4, 0.75, 5.0 / 6.0);
    /* All ties across classes: each tied pair counts 1/2. Thresholds 2 then 1:
     * AP = 0.5 * 1/2 + 0.5 * 2/4 = 0.5. */
    metric_case((const float[]){1, 1, 2, 2}, (const int[]){0, 1, 0, 1}, 4, 0.5, 0.5);
    /* Positives {3,3}, negatives {3,1}: pairs 0.5 + 1 + 0.5 + 1 = 3 of 4.
     * One threshold group at 3 holds both positives and a negative: AP = 2/3. */
    metric_case((const float[]){3, 3, 3, 1}, (const int[]){1, 1, 0, 0}, 4, 0.75, 2.0 / 3.0);
    metric_case((const float[]){0.1f, 0.2f, 0.9f}, (const int[]){0, 0, 1}, 3, 1.0, 1.0);
    metric_case((const float[]){0.9f, 0.2f, 0.1f}, (const int[]){0, 0, 1}, 3, 0.0, 1.0 / 3.0);
    /* Only one class, or a NaN: refused with a message. */
    double v;
    CHECK(aecl_auroc((const float[]){1, 2}, (const int[]){1, 1}, 2, &v) == AECL_ERR_INVALID_ARG);
    CHECK(strstr(aecl_ctx_last_error(NULL), "both") != NULL);
    CHECK(aecl_auprc((const float[]){1, NAN}, (const int[]){0, 1}, 2, &v) == AECL_ERR_INVALID_ARG);
}

/* Random scores on a coarse grid (many ties) against the O(n^2) pair count and a
 * direct threshold sweep. */
static void brute_force(void)
{
    enum { N = 300 };
    float s[N];
    int y[N];
    unsigned st = 7;
    for (int i = 0; i < N; i++) {
        st = st * 1103515245u + 12345u;
        s[i] = (float)((st >> 16) % 13);
        st = st * 1103515245u + 12345u;
        y[i] = (int)((st >> 16) % 3 == 0) ;
        if (y[i]) s[i] += 2;   /* anomalies score higher on average */
    }
    double pairs = 0, P = 0, Nn = 0;
    for (int i = 0; i < N; i++) {
        P += y[i]; Nn += !y[i];
        for (int j = 0; j < N; j++)
            if (y[i] && !y[j]) pairs += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
    }
    double ap = 0, prev_recall = 0;
    for (int t = 30; t >= -1; t--) {   /* thresholds: score >= t, highest first */
        double tp = 0, k = 0;
        for (int i = 0; i < N; i++) if (s[i] >= (float)t) { k++; tp += y[i]; }
        if (k > 0 && tp / P > prev_recall) { ap += (tp / P - prev_recall) * tp / k; prev_recall = tp / P; }
    }
    double a, p;
    CHECK_OK(NULL, aecl_auroc(s, y, N, &a));
    CHECK_OK(NULL, aecl_auprc(s, y, N, &p));
    CHECK_NEAR(a, pairs / (P * Nn), 1e-12);
    CHECK_NEAR(p, ap, 1e-12);
    CHECK(a > 0.6 && a < 1.0);
}

static void quantiles(void)
{
    const float v[] = {4, 1, 3, 2};
    CHECK_NEAR(aecl_quantile(v, 4, 0.5), 2.5, 1e-12);
    CHECK_NEAR(aecl_quantile(v, 4, 0.9), 3.7, 1e-6);
    CHECK_NEAR(aecl_quantile(v, 4, 0.0), 1.0, 0);
    CHECK_NEAR(aecl_quantile(v, 4, 1.0), 4.0, 0);
    CHECK(isnan(aecl_quantile(v, 0, 0.5)));
    CHECK_NEAR(aecl_psnr(0.01), 20.0, 1e-12);
}

/* Grid points t (1,2,0,0)/sqrt5 + s (0,0,1,0) + 5: the first component is t (its
 * largest loading positive), the second s. */
static void pca(void)
{
    enum { N = 50, D = 4 };
    float z[N * D], xy[N * 2];
    double tm = 0, sm = 0, t[N], s[N];
    for (int i = 0; i < N; i++) {
        t[i] = 0.3 * (i % 10 - 4.5);   /* a 10 x 5 grid: t and s uncorrelated */
        s[i] = 0.2 * (i / 10 - 2);
        tm += t[i] / N; sm += s[i] / N;
        z[i * D + 0] = (float)(t[i] / sqrt(5.0) + 5);
        z[i * D + 1] = (float)(2 * t[i] / sqrt(5.0) + 5);
        z[i * D + 2] = (float)(s[i] + 5);
        z[i * D + 3] = 5;
    }
    CHECK_OK(NULL, aecl_pca2(NULL, z, N, D, xy));
    double err = 0;
    for (int i = 0; i < N; i++) err = fmax(err, fmax(fabs(xy[2 * i] - (t[i] - tm)), fabs(xy[2 * i + 1] - (s[i] - sm))));
    CHECK_MSG(err < 1e-4, "PCA projections off by %g", err);
    CHECK(aecl_pca2(NULL, z, N, 1, xy) == AECL_ERR_INVALID_ARG);
}

static void codes_file(void)
{
    enum { N = 7, L = 5 };
    float z[N * L], zq[N * L];
    unsigned st = 3;
    test_fill_uniform(z, N * L, -3, 4, &st);
    char path[] = "/tmp/aecl-codes-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    for (unsigned bits = 4; bits <= 16; bits += 4) {
        size_t bytes = 0;
        CHECK_OK(NULL, aecl_codes_write(NULL, path, z, N, L, bits, 0x1234567890abcdefull, 1, 28, 28, zq, &bytes));
        struct stat sb;
        CHECK(stat(path, &sb) == 0 && (size_t)sb.st_size == bytes && bytes > 56 + 8 * L);
        aecl_codes c;
        CHECK_OK(NULL, aecl_codes_read(NULL, path, &c));
        CHECK(c.n == N && c.latent == L && c.bits == bits && c.model_hash == 0x1234567890abcdefull && c.h == 28);
        double maxerr = 0;
        for (int i = 0; c.z && i < N * L; i++) {
            CHECK(c.z[i] == zq[i]);
            maxerr = fmax(maxerr, fabs(c.z[i] - z[i]));
        }
        CHECK_MSG(maxerr <= 7.0 / ((1 << bits) - 1) / 2 * 1.001, "quantization error %g", maxerr);
        aecl_codes_free(&c);
    }
    /* Version 1 files (raw 8-bit codes, sample by sample) are still read. */
    unsigned char v1[56 + 8 * 2 + 3 * 2] = "AECLCODE";
    float lo[2] = {-1, 0}, hi[2] = {1, 10};
    v1[8] = 1;
    v1[12] = 8;
    v1[24] = 3;
    v1[32] = 2;
    memcpy(v1 + 56, lo, 8);
    memcpy(v1 + 64, hi, 8);
    const unsigned char q1[6] = {0, 255, 255, 51, 0, 0};   /* samples (0,255), (255,51), (0,0) */
    memcpy(v1 + 72, q1, 6);
    uLong body = crc32(crc32(0L, Z_NULL, 0), v1 + 56, sizeof v1 - 56);
    for (int i = 0; i < 4; i++) v1[48 + i] = (unsigned char)(body >> (8 * i));
    uLong head = crc32(crc32(0L, Z_NULL, 0), v1, 52);
    for (int i = 0; i < 4; i++) v1[52 + i] = (unsigned char)(head >> (8 * i));
    FILE *g = fopen(path, "wb");
    CHECK(g && fwrite(v1, 1, sizeof v1, g) == sizeof v1);
    if (g) fclose(g);
    aecl_codes old;
    CHECK_OK(NULL, aecl_codes_read(NULL, path, &old));
    CHECK(old.version == 1 && old.n == 3 && old.latent == 2 && old.z);
    if (old.z) CHECK(old.z[0] == -1 && old.z[1] == 10 && old.z[2] == 1 && old.z[3] == 2 && old.z[4] == -1 && old.z[5] == 0);
    aecl_codes_free(&old);
    /* Damaged files are refused, saying how. */
    CHECK_OK(NULL, aecl_codes_write(NULL, path, z, N, L, 8, 0x1234567890abcdefull, 1, 28, 28, zq, NULL));
    aecl_codes c;
    FILE *f = fopen(path, "r+b");
    if (f) { fseek(f, 70, SEEK_SET); fputc(0x5a, f); fclose(f); }
    CHECK(aecl_codes_read(NULL, path, &c) == AECL_ERR_FORMAT && strstr(aecl_ctx_last_error(NULL), "corrupt"));
    CHECK(truncate(path, 60) == 0);
    CHECK(aecl_codes_read(NULL, path, &c) == AECL_ERR_FORMAT && strstr(aecl_ctx_last_error(NULL), "truncated"));
    CHECK(truncate(path, 5) == 0);
    CHECK(aecl_codes_read(NULL, path, &c) == AECL_ERR_FORMAT && strstr(aecl_ctx_last_error(NULL), "not an aecl codes"));
    CHECK(c.z == NULL);
    unlink(path);
}

static void noise(void)
{
    aecl_app_noise nz;
    CHECK_OK(NULL, aecl_app_noise_parse("gaussian:0.5", &nz));
    CHECK(nz.kind == AECL_APP_NOISE_GAUSSIAN && nz.level == 0.5f);
    CHECK_OK(NULL, aecl_app_noise_parse("mask:0.3", &nz));
    CHECK(aecl_app_noise_parse("mask:1.5", &nz) == AECL_ERR_INVALID_ARG);
    CHECK(aecl_app_noise_parse("pink:0.1", &nz) == AECL_ERR_INVALID_ARG);
    CHECK(aecl_app_noise_parse("gaussian", &nz) == AECL_ERR_INVALID_ARG);
    enum { N = 4, F = 1000 };
    float a[N * F], b[N * F];
    for (int i = 0; i < N * F; i++) a[i] = b[i] = 0.5f;
    CHECK_OK(NULL, aecl_app_noise_parse("saltpepper:0.2", &nz));
    aecl_app_noise_apply(&nz, a, N, F, 9);
    aecl_app_noise_apply(&nz, b, 1, F, 9);   /* sample 0's noise does not depend on n */
    int changed = 0;
    for (int i = 0; i < N * F; i++) changed += a[i] != 0.5f;
    CHECK_MSG(changed > 600 && changed < 1000, "%d of 4000 changed", changed);
    CHECK(memcmp(a, b, F * sizeof *a) == 0);
    for (int i = 0; i < F; i++) b[i] = 0.5f;
    aecl_app_noise_apply(&nz, b, 1, F, 10);
    CHECK(memcmp(a, b, F * sizeof *a) != 0);
}

/* A contamination threshold (the (1 - C)-quantile of n distinct scores, as
 * aecl train --contamination stores it) flags exactly ceil(C (n - 1)) of them:
 * those above position (1 - C)(n - 1) of the sorted scores. */
static void contamination_counts(void)
{
    enum { N = 257 };
    float s[N];
    unsigned st = 11;
    for (int i = 0; i < N; i++) {
        st = st * 1103515245u + 12345u;
        s[i] = (float)i + (float)((st >> 16) % 1000) / 2000.0f;   /* distinct, shuffled below */
    }
    for (int i = N - 1; i > 0; i--) {
        st = st * 1103515245u + 12345u;
        int j = (int)((st >> 16) % (unsigned)(i + 1));
        float t = s[i]; s[i] = s[j]; s[j] = t;
    }
    const double cs[] = {0.01, 0.05, 0.1, 0.25, 0.5, 0.9};
    const size_t ns[] = {200, 60, 257, 10};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof cs / sizeof cs[0]; b++) {
            size_t n = ns[a], flagged = 0;
            double thr = aecl_quantile(s, n, 1.0 - cs[b]);
            for (size_t i = 0; i < n; i++) flagged += s[i] > thr;
            size_t want = (size_t)ceil(cs[b] * (double)(n - 1) - 1e-9);
            CHECK_MSG(flagged == want, "n %zu, contamination %g: %zu flagged, want %zu", n, cs[b], flagged, want);
        }
}

int main(void)
{
    contamination_counts();
    hand_values();
    brute_force();
    quantiles();
    pca();
    codes_file();
    noise();
    return test_finish();
}

/* safetensors: round trip, the exact byte layout, a file laid out like the
 * reference writer's, and every corruption the reader must reject. */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "io/io.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


static uint8_t *slurp(const char *path, size_t *n)
{
    struct stat sb;
    FILE *f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &sb) != 0) {
        if (f) fclose(f);
        *n = 0;
        return NULL;
    }
    *n = (size_t)sb.st_size;
    uint8_t *b = malloc(*n + 1);
    if (fread(b, 1, *n, f) != *n) *n = 0;
    fclose(f);
    b[*n] = 0;
    return b;
}

/* A hand-made file: u64 LE length of `json` (padded with spaces to `pad`-byte
 * multiples when pad > 0), json, then data_len bytes of data. len_override
 * replaces the stored length when non-zero. */
static const char *craft(const char *name, const char *json, size_t pad, const void *data,
                         size_t data_len, uint64_t len_override)
{
    size_t n = strlen(json), padded = pad ? (n + pad - 1) / pad * pad : n;
    uint64_t stored = len_override ? len_override : padded;
    const char *p = test_path(name);
    FILE *f = fopen(p, "wb");
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)(stored >> (8 * i));
    fwrite(le, 1, 8, f);
    fwrite(json, 1, n, f);
    for (size_t i = n; i < padded; i++) fputc(' ', f);
    if (data_len) fwrite(data, 1, data_len, f);
    fclose(f);
    return p;
}

static void test_round_trip(void)
{
    float w[12], b[4], s[1] = {-7.25f};
    unsigned seed = 3;
    test_fill_uniform(w, 12, -1, 1, &seed);
    test_fill_uniform(b, 4, -1, 1, &seed);
    w[5] = -0.0f;
    w[6] = 1e-40f;   /* a denormal survives */
    aecl_st_view v[4] = {
        {"encoder.0.weight", 2, {3, 4}, w},
        {"encoder.0.bias", 1, {4}, b},
        {"scalar", 0, {0}, s},
        {"empty", 2, {0, 5}, NULL},
    };
    const char *meta[] = {"aecl.model", "kind = vae\nlatent = 2\n", "epoch", "3",
                          "odd \"key\"\\", "tab\there \xc3\xa9"};
    const char *p = test_path("model.safetensors");
    CHECK_OK(NULL, aecl_safetensors_write(NULL, p, v, 4, meta, 3));

    aecl_safetensors st;
    CHECK_OK(NULL, aecl_safetensors_read(NULL, p, &st));
    CHECK(st.n_tensors == 4 && st.n_meta == 3);
    for (size_t i = 0; i < st.n_tensors && i < 4; i++) {
        const aecl_st_tensor *t = &st.tensors[i];
        CHECK_MSG(strcmp(t->name, v[i].name) == 0, "tensor %zu is '%s'", i, t->name);
        CHECK(t->ndim == v[i].ndim);
        for (unsigned d = 0; d < t->ndim; d++) CHECK(t->shape[d] == v[i].shape[d]);
    }
    const aecl_st_tensor *tw = aecl_safetensors_find(&st, "encoder.0.weight");
    CHECK(tw && tw->count == 12 && tw->data && memcmp(tw->data, w, sizeof w) == 0);
    const aecl_st_tensor *tb = aecl_safetensors_find(&st, "encoder.0.bias");
    CHECK(tb && tb->count == 4 && tb->data && memcmp(tb->data, b, sizeof b) == 0);
    const aecl_st_tensor *ts = aecl_safetensors_find(&st, "scalar");
    CHECK(ts && ts->ndim == 0 && ts->count == 1 && ts->data && ts->data[0] == -7.25f);
    const aecl_st_tensor *te = aecl_safetensors_find(&st, "empty");
    CHECK(te && te->count == 0 && te->data == NULL);
    CHECK(aecl_safetensors_find(&st, "nope") == NULL);
    const char *m = aecl_safetensors_meta(&st, "aecl.model");
    CHECK(m && strcmp(m, meta[1]) == 0);
    m = aecl_safetensors_meta(&st, "odd \"key\"\\");
    CHECK(m && strcmp(m, meta[5]) == 0);
    CHECK(aecl_safetensors_meta(&st, "missing") == NULL);
    aecl_safetensors_free(&st);
    aecl_safetensors_free(&st);

    /* The bytes: header length a multiple of 8, JSON padded with spaces, offsets
     * packed in order, little-endian data right after. */
    size_t n;
    uint8_t *f = slurp(p, &n);
    CHECK(f && n >= 8);
    if (!f || n < 8) return;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | f[i];
    CHECK(hl % 8 == 0 && 8 + hl + (12 + 4 + 1) * 4 == n);
    CHECK(f[8] == '{');
    size_t last = 8 + hl - 1;
    while (last > 8 && f[last] == ' ') last--;
    CHECK(f[last] == '}' && 8 + hl - 1 - last < 8);
    cJSON *j = cJSON_ParseWithLength((const char *)f + 8, hl);
    CHECK(j != NULL);
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "encoder.0.bias"), "data_offsets");
    CHECK(cJSON_GetArraySize(off) == 2 && cJSON_GetArrayItem(off, 0)->valuedouble == 48 &&
          cJSON_GetArrayItem(off, 1)->valuedouble == 64);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "scalar"), "dtype");
    CHECK(cJSON_IsString(dt) && strcmp(dt->valuestring, "F32") == 0);
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(j, "__metadata__");
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(md, "epoch")));
    cJSON_Delete(j);
    /* 1.0f as little-endian bytes would be 00 00 80 3f: check the scalar's bytes. */
    const uint8_t *sd = f + 8 + hl + 64;
    CHECK(sd[0] == 0x00 && sd[1] == 0x00 && sd[2] == 0xe8 && sd[3] == 0xc0);   /* -7.25f */
    free(f);

    /* No tensors, no metadata: a valid (empty) file "{}" padded to 8. */
    CHECK_OK(NULL, aecl_safetensors_write(NULL, test_path("empty.safetensors"), NULL, 0, NULL, 0));
    CHECK_OK(NULL, aecl_safetensors_read(NULL, test_path("empty.safetensors"), &st));
    CHECK(st.n_tensors == 0 && st.n_meta == 0);
    aecl_safetensors_free(&st);
}

/* Key order and offsets as other writers produce them (not in header order). */
static void test_foreign_layout(void)
{
    const float data[5] = {1, 2, 3, 4, 5};
    const char *p = craft("foreign.safetensors",
                          "{\"b\": {\"shape\": [3], \"dtype\": \"F32\", \"data_offsets\": [8, 20]},"
                          " \"__metadata__\": {\"format\": \"pt\"},"
                          " \"a\": {\"dtype\": \"F32\", \"shape\": [2, 1], \"data_offsets\": [0, 8]}}",
                          8, data, sizeof data, 0);
    aecl_safetensors st;
    CHECK_OK(NULL, aecl_safetensors_read(NULL, p, &st));
    CHECK(st.n_tensors == 2 && strcmp(st.tensors[0].name, "a") == 0);   /* offset order */
    const aecl_st_tensor *a = aecl_safetensors_find(&st, "a"), *b = aecl_safetensors_find(&st, "b");
    CHECK(a && a->data && a->data[0] == 1 && a->data[1] == 2 && a->ndim == 2 && a->shape[1] == 1);
    CHECK(b && b->data && b->data[0] == 3 && b->data[2] == 5);
    CHECK(aecl_safetensors_meta(&st, "format") && strcmp(aecl_safetensors_meta(&st, "format"), "pt") == 0);
    aecl_safetensors_free(&st);
}

static void test_corrupt(void)
{
    const float d[4] = {1, 2, 3, 4};
    aecl_safetensors st;
    const char *p;

    CHECK_FAIL(aecl_safetensors_read(NULL, test_path("missing.safetensors"), &st), AECL_ERR_IO,
               "missing.safetensors");
    FILE *f = fopen(test_path("short.safetensors"), "wb");
    fwrite("\x10\0\0", 1, 3, f);
    fclose(f);
    CHECK_FAIL(aecl_safetensors_read(NULL, test_path("short.safetensors"), &st), AECL_ERR_FORMAT,
               "truncated: 3 bytes");
    p = craft("beyond.safetensors", "{}", 8, NULL, 0, 1000);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT,
               "header length 1000 goes beyond the file (16 bytes)");
    p = craft("huge.safetensors", "{}", 8, NULL, 0, 0xffffffffffffffffull);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "goes beyond the file");
    p = craft("json.safetensors", "{\"a\": {\"dtype\": \"F32\",", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "bad JSON header");
    p = craft("start.safetensors", "[1, 2]", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "does not start with '{'");
    p = craft("after.safetensors", "{} x", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "text after the object");

    p = craft("nodtype.safetensors", "{\"w\": {\"shape\": [4], \"data_offsets\": [0, 16]}}", 8, d,
              16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "tensor 'w' has no dtype");
    p = craft("noshape.safetensors", "{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 16]}}",
              8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "tensor 'w' has no shape");
    p = craft("nooffs.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [4]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT,
               "tensor 'w' has no data_offsets");
    p = craft("f16.safetensors",
              "{\"w\": {\"dtype\": \"F16\", \"shape\": [8], \"data_offsets\": [0, 16]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_UNSUPPORTED,
               "tensor 'w' has dtype F16");
    p = craft("negshape.safetensors",
              "{\"w\": {\"dtype\": \"F32\", \"shape\": [-4], \"data_offsets\": [0, 16]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "shape entry 0 is not a size");
    p = craft("badoffs.safetensors",
              "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "not [begin, end]");
    p = craft("overlap.safetensors",
              "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 12]},"
              " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "'a' and 'b' overlap");
    p = craft("exceed.safetensors",
              "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 20]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT,
               "end 20 exceeds the data section (16 bytes)");
    p = craft("disagree.safetensors",
              "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT,
               "[0, 8] hold 8 bytes but the shape needs 3 x 4");
    p = craft("backward.safetensors",
              "{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "end before begin");
    p = craft("dup.safetensors",
              "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
              " \"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "duplicate tensor name 'a'");
    p = craft("meta.safetensors", "{\"__metadata__\": {\"k\": 3}}", 8, NULL, 0, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "metadata 'k' is not a string");
    p = craft("entry.safetensors", "{\"a\": [1, 2]}", 8, NULL, 0, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "entry 'a' is not an object");
    CHECK(st.n_tensors == 0 && st.tensors == NULL);   /* zeroed on failure */

    /* A truncated data section: header promises 16 bytes, file holds 12. */
    p = craft("cutdata.safetensors",
              "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8, d, 12, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT,
               "the file declares 4 values but holds 12 bytes of data (tensor 'a')");
    /* A shape no file could hold, whose product overflows: said as such. */
    p = craft("hugeshape.safetensors",
              "{\"a\": {\"dtype\": \"F32\", \"shape\": [6, 444444444444444, 9999999999], \"data_offsets\": [0, 16]}}",
              8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT,
               "the file declares 2.7e25 values but holds 16 bytes of data (tensor 'a')");
    CHECK(st.n_tensors == 0 && st.tensors == NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 100000 entries, offsets in reverse header order: the reader is linear (n log n)
 * in the entries. Checking duplicates entry against entry and sorting by offset
 * by insertion took minutes here (36 s for 160000 entries). */
static void test_many_entries(void)
{
    enum { N = 100000 };
    char *json = malloc((size_t)N * 80 + 16), *w = json;
    float *data = calloc(N, sizeof *data);
    w += sprintf(w, "{");
    for (size_t i = 0; i < N; i++)
        w += sprintf(w, "%s\"t%zu\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%zu,%zu]}", i ? "," : "", i,
                     4 * (N - 1 - i), 4 * (N - i));
    sprintf(w, "}");
    const char *p = craft("many.safetensors", json, 8, data, (size_t)N * 4, 0);
    aecl_safetensors st;
    double t0 = now_s();
    CHECK_OK(NULL, aecl_safetensors_read(NULL, p, &st));
    double s = now_s() - t0;
    CHECK_MSG(s < 5, "reading %d entries took %.1f s", N, s);
    CHECK(st.n_tensors == N && !strcmp(st.tensors[0].name, "t99999") && !strcmp(st.tensors[N - 1].name, "t0"));
    aecl_safetensors_free(&st);
    /* A duplicate among them is still found, and named. */
    memcpy(strstr(json, "\"t77777\""), "\"t12345\"", 8);
    p = craft("manydup.safetensors", json, 8, data, (size_t)N * 4, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT, "duplicate tensor name 't12345'");
    free(json);
    free(data);
}

/* Bytes after the last tensor, and control characters in names quoted in messages. */
static void test_trailing_and_escapes(void)
{
    const float d[4] = {1, 2, 3, 4};
    aecl_safetensors st;
    const char *p = craft("trail.safetensors",
                          "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 12]}}", 8, d, 16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_FORMAT,
               "4 bytes after the tensors' data (the tensors end at byte 12 of a data section of 16)");
    p = craft("esc.safetensors",
              "{\"\\u001b[2Jw\": {\"dtype\": \"F16\\u0007\", \"shape\": [8], \"data_offsets\": [0, 16]}}", 8, d,
              16, 0);
    CHECK_FAIL(aecl_safetensors_read(NULL, p, &st), AECL_ERR_UNSUPPORTED,
               "tensor '\\x1b[2Jw' has dtype F16\\x07");
    CHECK(!strchr(aecl_ctx_last_error(NULL), '\x1b') && !strchr(aecl_ctx_last_error(NULL), '\x07'));
}

static void test_write_errors(void)
{
    float x[2] = {1, 2};
    aecl_st_view dup[2] = {{"a", 1, {2}, x}, {"a", 1, {2}, x}};
    const char *p = test_path("bad.safetensors");
    CHECK_FAIL(aecl_safetensors_write(NULL, p, dup, 2, NULL, 0), AECL_ERR_INVALID_ARG,
               "duplicate tensor name 'a'");
    aecl_st_view meta_name[1] = {{"__metadata__", 1, {2}, x}};
    CHECK_FAIL(aecl_safetensors_write(NULL, p, meta_name, 1, NULL, 0), AECL_ERR_INVALID_ARG,
               "bad name");
    aecl_st_view nodata[1] = {{"w", 1, {2}, NULL}};
    CHECK_FAIL(aecl_safetensors_write(NULL, p, nodata, 1, NULL, 0), AECL_ERR_INVALID_ARG,
               "tensor 'w' has no data");
    aecl_st_view deep[1] = {{"w", 9, {1}, x}};
    CHECK_FAIL(aecl_safetensors_write(NULL, p, deep, 1, NULL, 0), AECL_ERR_INVALID_ARG, "9 dims");
    const char *meta[4] = {"k", "1", "k", "2"};
    CHECK_FAIL(aecl_safetensors_write(NULL, p, dup, 1, meta, 2), AECL_ERR_INVALID_ARG,
               "duplicate metadata key 'k'");
    CHECK(access(p, F_OK) != 0);   /* nothing written */
}

int main(void)
{
    test_tmp_setup("io_st");
    test_round_trip();
    test_foreign_layout();
    test_corrupt();
    test_many_entries();
    test_trailing_and_escapes();
    test_write_errors();
    test_tmp_cleanup();
    return test_finish();
}

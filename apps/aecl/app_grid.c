/* Pictures of samples (cli.h, "pictures of samples"): the grid options, which
 * samples a grid shows, and grids in the model's input shape drawn by the
 * chart module. */
#include "chart.h"
#include "cli.h"
#include "base/error.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char app_grid_help[] =
    "  --zoom Z            each image pixel drawn as Z x Z pixels (default 4; 1..64)\n"
    "  --cols N, --rows N  samples per grid row, and rows of samples (N x N samples shown)\n"
    "  --start I           show samples from index I on (default 0)\n"
    "  --random SEED       show a random pick of samples instead (seeded: the same SEED,\n"
    "                      the same samples), in index order\n";

void app_grid_init(app_grid_opts *g, long cols, long rows)
{
    *g = (app_grid_opts){.zoom = 4, .cols = cols, .rows = rows, .start = 0, .seed = -1};
}

int app_grid_opt(const char *cmd, app_grid_opts *g, int opt, const char *v)
{
    int ok;
    switch (opt) {
    case APP_OPT_ZOOM: ok = cli_parse_long(v, 1, 64, &g->zoom); break;
    case APP_OPT_COLS: ok = cli_parse_long(v, 1, 1024, &g->cols); break;
    case APP_OPT_ROWS: ok = cli_parse_long(v, 1, 1024, &g->rows); break;
    case APP_OPT_START: ok = cli_parse_long(v, 0, LONG_MAX, &g->start); break;
    case APP_OPT_RANDOM: ok = cli_parse_long(v, 0, LONG_MAX, &g->seed); break;
    default: return 0;
    }
    return ok ? 1 : (cli_bad_value(cmd, v), -1);
}

/* splitmix64: a small seeded generator; the pick must not change between releases. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

aecl_status app_grid_pick(aecl_ctx *ctx, const app_grid_opts *g, size_t n, size_t **idx, size_t *k)
{
    *idx = NULL;
    *k = 0;
    size_t want = (size_t)g->cols * (size_t)g->rows;
    AECL_RETURN_IF(g->seed < 0 && (size_t)g->start >= n, AECL_ERR_INVALID_ARG, ctx,
                   "--start %ld: the data holds %zu samples (0..%zu)", g->start, n, n - 1);
    size_t from = g->seed < 0 ? (size_t)g->start : 0, avail = n - from, m = want < avail ? want : avail;
    size_t *v = malloc((g->seed < 0 ? m : n) * sizeof *v);
    AECL_RETURN_IF(!v, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    if (g->seed < 0) {
        for (size_t i = 0; i < m; i++) v[i] = from + i;
    } else {   /* the first m of a seeded Fisher-Yates shuffle, then in index order */
        uint64_t s = (uint64_t)g->seed;
        for (size_t i = 0; i < n; i++) v[i] = i;
        for (size_t i = 0; i < m; i++) {
            size_t j = i + (size_t)(next_random(&s) % (n - i)), t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        qsort(v, m, sizeof *v, cmp_size);
    }
    *idx = v;
    *k = m;
    return AECL_OK;
}

void app_grid_describe(const app_grid_opts *g, const size_t *idx, size_t k, size_t n, char *out, size_t cap)
{
    if (g->seed >= 0) snprintf(out, cap, "%zu samples picked at random (seed %ld) of %zu", k, g->seed, n);
    else if (k == 1) snprintf(out, cap, "sample %zu of %zu", idx[0], n);
    else snprintf(out, cap, "samples %zu-%zu of %zu", idx[0], idx[k - 1], n);
}

int app_is_image_model(const aecl_model *m) { return aecl_model_input_shape(m, NULL, NULL, NULL) == 3; }

int app_refuse_picture(const char *cmd, const aecl_model *m, const char *weights, const char *option, const char *path)
{
    if (!path || app_is_image_model(m)) return 0;
    fprintf(stderr, "aecl %s: %s takes rows of %zu features, not images: no picture for %s '%s'\n", cmd, weights,
            aecl_model_input_size(m), option, path);
    return 2;
}

aecl_status app_draw_grid(aecl_ctx *ctx, const aecl_model *m, const char *path, const float *images, size_t n,
                          size_t cols, const app_picture *p)
{
    int c, h, w;
    AECL_RETURN_IF(aecl_model_input_shape(m, &c, &h, &w) != 3, AECL_ERR_INVALID_ARG, ctx,
                   "the model takes rows of %zu features, not images: no picture", aecl_model_input_size(m));
    if (c != 1 && c != 3) { h *= c; c = 1; }   /* other channel counts: channels stacked vertically */
    chart_grid g = {.images = images, .n = n, .h = (size_t)h, .w = (size_t)w, .cols = cols < n ? cols : n, .c = c,
                    .zoom = p && p->zoom ? (int)p->zoom : 4};
    if (p) {
        g.title = p->title;
        g.row_labels = p->row_labels;
        g.col_labels = p->col_labels;
        g.xlabel = p->xlabel;
        g.xticks = p->xticks;
    }
    return chart_grid_png(ctx, path, &g);
}

aecl_status app_draw_bands(aecl_ctx *ctx, const aecl_model *m, const char *path, const app_grid_opts *g,
                           const char *title, const float *const *groups, const char *const *names, int ngroups,
                           const size_t *idx, size_t k)
{
    size_t f = aecl_model_input_size(m), cols = (size_t)g->cols < k ? (size_t)g->cols : k;
    size_t bands = (k + cols - 1) / cols, rows = bands * (size_t)ngroups;
    float *img = calloc(rows * cols * f, sizeof *img);
    const char **labels = malloc(rows * sizeof *labels);
    aecl_status st = img && labels ? AECL_OK : aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
    /* Tiles of a last, short band stay black (zeros): the grid is rectangular. */
    for (size_t b = 0; st == AECL_OK && b < bands; b++)
        for (int j = 0; j < ngroups; j++) {
            size_t row = b * (size_t)ngroups + (size_t)j;
            labels[row] = names[j];
            for (size_t i = 0; i < cols && b * cols + i < k; i++)
                memcpy(img + (row * cols + i) * f, groups[j] + idx[b * cols + i] * f, f * sizeof *img);
        }
    app_picture p = {.title = title, .row_labels = labels, .zoom = g->zoom};
    if (st == AECL_OK) st = app_draw_grid(ctx, m, path, img, rows * cols, cols, &p);
    free(img);
    free(labels);
    return st;
}

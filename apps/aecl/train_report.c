/* aecl train's progress line, epoch lines and history file. */
#include "train_report.h"
#include "base/atomic.h"
#include "base/error.h"
#include "base/buf.h"
#include "chart.h"
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- progress ------------------------------------------------------------------ */

/* Seconds left: the training steps left at the measured rate, plus one
 * validation per epoch left (this one's included) at the last validation's
 * time, or before the first one at the training rate (validation runs forward
 * only, so that guess is on the safe side). */
static double eta_seconds(const aecl_training_progress *p)
{
    double sps = p->samples_per_s;
    if (!(sps > 0)) return NAN;
    double steps_left = (double)(p->epochs - p->epoch) * (double)p->steps_per_epoch +
                        (double)(p->steps_per_epoch - p->step);
    double t = steps_left * p->batch / sps;
    if (p->val_rows) t += (isnan(p->val_seconds) ? (double)p->val_rows / sps : p->val_seconds) * (p->epochs - p->epoch + 1);
    return t;
}

static void print_eta(double eta)
{
    if (isnan(eta)) printf("ETA --");
    else if (eta >= 3600) printf("ETA %dh%02dm", (int)(eta / 3600), (int)fmod(eta / 60, 60));
    else printf("ETA %dm%02ds", (int)(eta / 60), (int)fmod(eta, 60));
}

static void print_epoch(const train_progress *s, const aecl_training_progress *p)
{
    printf("%sepoch %d/%d  train loss %.5f", s->tty ? "\r\033[K" : "", p->epoch, p->epochs, p->train_loss);
    if (!isnan(p->val_loss)) printf("  %s %.5f%s", s->val_label, p->val_loss, p->improved ? " *" : "");
    /* After the losses, so "train loss X  val loss Y" reads the same for every kind. */
    if (!isnan(p->train_kl)) printf("  (train recon %.5f, KL %.5f)", p->train_recon, p->train_kl);
    printf("  lr %.3g  %.0f samples/s  %.1fs%s%s\n", p->lr, p->samples_per_s, p->epoch_seconds,
           p->checkpointed ? "  (checkpoint)" : "", p->best_written ? "  (best weights written)" : "");
    if (p->stopping) printf("early stopping: no improvement in the last epochs\n");
}

static void print_step(const train_progress *s, const aecl_training_progress *p)
{
    if (s->tty) {
        int width = 24, filled = (int)(width * p->step / (p->steps_per_epoch ? p->steps_per_epoch : 1));
        printf("\r\033[Kepoch %d/%d [%.*s%*s] ", p->epoch, p->epochs, filled, "########################",
               width - filled, "");
    } else {
        printf("epoch %d/%d ", p->epoch, p->epochs);
    }
    printf("step %ld/%ld  loss %.5f  ", p->step, p->steps_per_epoch, p->train_loss);
    /* No rate yet at the run's first step (it builds the kernels). */
    if (isnan(p->samples_per_s)) printf("-- samples/s  ");
    else printf("%.0f samples/s  ", p->samples_per_s);
    print_eta(eta_seconds(p));
    if (!s->tty) printf("\n");
}

static void add_epoch(train_progress *s, const aecl_training_progress *p)
{
    train_history *h = &s->hist;
    while (h->n > 0 && h->rows[h->n - 1].epoch >= p->epoch) h->n--; /* repeated after a resume */
    if (!aecl_grow((void **)&h->rows, &h->cap, (size_t)h->n + 1, sizeof *h->rows, 64)) return;
    h->rows[h->n++] = (train_epoch){p->epoch, p->train_loss, p->train_recon, p->train_kl, p->val_loss, p->lr,
                                    p->samples_per_s, p->epoch_seconds, p->improved, {0}};
    if (!s->history_path || s->history_status != AECL_OK) return;
    /* Rewritten after every epoch, so a long run's curves can be read while it
     * runs; a failure is told once and does not stop training. */
    s->history_status = train_history_write(s->ctx, s->history_path, h);
    if (s->history_status != AECL_OK)
        fprintf(stderr, "%saecl train: warning: the history was not written: %s\n", s->tty ? "\r\033[K" : "",
                aecl_ctx_last_error(s->ctx));
}

/* The build: a line before it, then (on a terminal, redrawn in place) the first
 * step's count of kinds of kernel run so far, which is when a driver such as
 * PoCL compiles each; off a terminal one line when they all ran. */
static void print_building(train_progress *s, const aecl_training_progress *p)
{
    if (!p->kernels_total) {
        s->build_start = cli_now();
        printf(s->tty ? "building kernels..." : "building kernels...\n");
    } else if (s->tty) {
        printf("\r\033[Kbuilding kernels... %d/%d", p->kernels_done, p->kernels_total);
    } else if (p->kernels_done == p->kernels_total) {
        printf("kernels ready: %d in %.1f s\n", p->kernels_total, cli_now() - s->build_start);
    }
}

int train_on_progress(void *user, const aecl_training_progress *p)
{
    train_progress *s = user;
    if (p->checkpoint_error)
        fprintf(stderr, "%swarning: a checkpoint file was not written (%s); training goes on and --out will still be "
                "written\n", s->tty ? "\r\033[K" : "", p->checkpoint_error);
    if (p->building) {
        print_building(s, p);
    } else if (p->epoch_done) {
        add_epoch(s, p);
        print_epoch(s, p);
    } else if (s->tty || s->last_line == 0 || cli_now() - s->last_line >= s->plain_every) {
        /* Off a terminal: the first step's line, then one every few seconds. */
        print_step(s, p);
        s->last_line = cli_now();
    }
    fflush(stdout);
    return 0;
}

/* ---- history ------------------------------------------------------------------------ */

static aecl_status field(aecl_ctx *ctx, aecl_atomic_file *f, double v, const char *fmt)
{
    AECL_TRY(aecl_atomic_printf(ctx, f, ","));
    return isnan(v) ? AECL_OK : aecl_atomic_printf(ctx, f, fmt, v);
}

static const char history_header[] = "epoch,train_loss,train_recon,train_kl,val_loss,lr,samples_per_s,seconds,improved";

aecl_status train_history_write(aecl_ctx *ctx, const char *path, const train_history *h)
{
    aecl_atomic_file f;
    AECL_TRY(aecl_atomic_open(ctx, path, &f));
    aecl_status st = aecl_atomic_printf(ctx, &f, "%s\n", history_header);
    for (int i = 0; st == AECL_OK && i < h->n; i++) {
        const train_epoch *e = &h->rows[i];
        st = aecl_atomic_printf(ctx, &f, "%d", e->epoch);
        const double v[] = {e->loss, e->recon, e->kl, e->val, e->lr, e->samples_per_s, e->seconds};
        static const char *const fmt[] = {"%.9g", "%.9g", "%.9g", "%.9g", "%.9g", "%.1f", "%.3f"};
        for (int k = 0; st == AECL_OK && k < 7; k++) st = field(ctx, &f, v[k], fmt[k]);
        if (st == AECL_OK) st = aecl_atomic_printf(ctx, &f, ",%d\n", e->improved);
    }
    if (st != AECL_OK) { aecl_atomic_abort(&f); return st; }
    return aecl_atomic_commit(ctx, &f);
}

/* One field of a history row: empty is NaN (not measured). */
static int read_field(const char **s, double *v)
{
    char *end;
    if (**s == ',' || **s == '\n' || **s == 0) { *v = NAN; end = (char *)*s; }
    else { *v = strtod(*s, &end); if (end == *s || !isfinite(*v)) return 0; }
    *s = end;
    return 1;
}

static int parse_row(const char *s, train_epoch *e)
{
    double v[9];
    for (int k = 0; k < 9; k++) {
        if (k && *s++ != ',') return 0;
        if (!read_field(&s, &v[k])) return 0;
    }
    if (*s && *s != '\n') return 0;
    if (!(v[0] >= 1 && v[0] <= 1e9 && v[0] == floor(v[0])) || !(v[8] == 0 || v[8] == 1)) return 0;
    *e = (train_epoch){(int)v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], (int)v[8], {0}};
    return 1;
}

aecl_status train_history_read(aecl_ctx *ctx, const char *path, train_history *h)
{
    *h = (train_history){0};
    FILE *fp = fopen(path, "r");
    if (!fp && errno == ENOENT) return AECL_OK;
    char eb[128];
    AECL_RETURN_IF(!fp, AECL_ERR_IO, ctx, "--history %s: %s", path, aecl_strerror(errno, eb, sizeof eb));
    char line[512];
    aecl_status st = AECL_OK;
    for (int no = 1; st == AECL_OK && fgets(line, sizeof line, fp); no++) {
        train_epoch e;
        if (no == 1 ? strncmp(line, history_header, sizeof history_header - 1) != 0 : !parse_row(line, &e))
            st = aecl_fail(ctx, AECL_ERR_FORMAT, "--history %s:%d: not a line of an aecl train history (a resumed run "
                           "continues the history file it names; name a new file to start another)", path, no);
        else if (no > 1 && (h->n && e.epoch <= h->rows[h->n - 1].epoch))
            st = aecl_fail(ctx, AECL_ERR_FORMAT, "--history %s:%d: epoch %d does not follow epoch %d", path, no,
                           e.epoch, h->rows[h->n - 1].epoch);
        else if (no > 1 && !aecl_grow((void **)&h->rows, &h->cap, (size_t)h->n + 1, sizeof *h->rows, 64))
            st = aecl_fail(ctx, AECL_ERR_HOST_MEMORY, "out of host memory");
        else if (no > 1)
            h->rows[h->n++] = e;
    }
    if (st == AECL_OK && ferror(fp)) st = aecl_fail(ctx, AECL_ERR_IO, "--history %s: read failed", path);
    fclose(fp);
    if (st != AECL_OK) train_history_free(h);
    return st;
}

aecl_status train_history_plot(aecl_ctx *ctx, const char *path, const train_history *h, const char *title)
{
    AECL_RETURN_IF(h->n == 0, AECL_ERR_INVALID_ARG, ctx, "%s: no epoch ran: no loss curves to draw", path);
    double *x = malloc(3 * (size_t)h->n * sizeof *x);
    AECL_RETURN_IF(!x, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    double *train = x + h->n, *val = train + h->n;
    int validated = 0;
    for (int i = 0; i < h->n; i++) {
        x[i] = h->rows[i].epoch;
        train[i] = h->rows[i].loss;
        val[i] = h->rows[i].val;
        validated |= !isnan(val[i]);
    }
    chart_series s[2] = {{"train loss", x, train, (size_t)h->n}, {"val loss", x, val, (size_t)h->n}};
    chart_frame f = {.title = title, .xlabel = "epoch", .ylabel = "loss (the training objective)"};
    aecl_status st = chart_line_png(ctx, path, &f, s, validated ? 2 : 1);
    free(x);
    return st;
}

void train_history_free(train_history *h)
{
    free(h->rows);
    memset(h, 0, sizeof *h);
}

/* What `aecl train` shows and keeps besides the weights: the progress line
 * (train_report.c) and the per-epoch history (CSV and a loss-curve chart). */
#ifndef AECL_APP_TRAIN_REPORT_H
#define AECL_APP_TRAIN_REPORT_H

#include "aecl.h"

/* One epoch as the history file holds it (NaN: not measured). */
typedef aecl_training_epoch train_epoch;

typedef struct train_history {
    train_epoch *rows;
    int n;
    size_t cap;
} train_history;

/* The progress callback's state. */
typedef struct train_progress {
    int tty;                  /* stdout is a terminal: a bar redrawn in place */
    double plain_every;       /* otherwise: seconds between plain progress lines */
    double last_line;         /* when the last plain line was printed */
    double build_start;       /* when the kernel build began (the first building report) */
    const char *val_label;    /* "val loss" (what validation measures is in the header) */
    train_history hist;       /* the epochs so far */
    const char *history_path; /* rewritten after each epoch (NULL: none) */
    aecl_ctx *ctx;
    aecl_status history_status; /* the first failure to write the history, or AECL_OK */
} train_progress;

/* aecl_training_options.progress: the progress bar (or plain lines), the epoch
 * lines, the history; returns 0 (aecl train is stopped by a signal, not here). */
int train_on_progress(void *user, const aecl_training_progress *p);

/* The history as CSV: epoch,train_loss,train_recon,train_kl,val_loss,lr,samples_per_s,seconds,improved
 * (an empty field where nothing was measured), written atomically. */
aecl_status train_history_write(aecl_ctx *ctx, const char *path, const train_history *h);
/* The loss curves as a PNG line chart (train loss, and val loss when validated). */
aecl_status train_history_plot(aecl_ctx *ctx, const char *path, const train_history *h, const char *title);
void train_history_free(train_history *h);
/* A resumed run continues the history file it names: reads the rows
 * train_history_write wrote into *h (an absent file gives no rows). Anything else
 * in the file is AECL_ERR_FORMAT naming the line, so no one's file is replaced by
 * a history that lost its epochs. The first epoch the run reports drops the rows
 * from that epoch on (a run stopped between writing the history and its next
 * checkpoint repeats them). */
aecl_status train_history_read(aecl_ctx *ctx, const char *path, train_history *h);

#endif

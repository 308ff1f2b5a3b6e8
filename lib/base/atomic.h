/* Atomic file writer (base layer: knows aecl.h's types and lib/base only).
 * Writes to a temp file created (mkstemp) next to the target, then fflush +
 * fsync + rename over the target. On any failure the temp file is removed and
 * an existing target is left untouched. A new file gets mode 0644; a replaced
 * file keeps its mode. Temp files of the same target that a killed writer left
 * (ours, untouched for an hour) are removed when the target is written again. */
#ifndef AECL_BASE_ATOMIC_H
#define AECL_BASE_ATOMIC_H

#include "aecl.h"

#include <stddef.h>
#include <stdio.h>

typedef struct aecl_atomic_file {
    FILE *fp;          /* the temp file; NULL once committed or aborted */
    char *path;        /* target path (owned) */
    char *tmp_path;    /* temp file path (owned) */
    int failed;        /* a write failed: commit will refuse */
} aecl_atomic_file;

/* Whether `path` can be written atomically, before any long work: it does not
 * end in '/', it is absent or a regular file (a folder, link, device or pipe
 * would be replaced: AECL_ERR_INVALID_ARG), and its folder exists and takes a
 * new file (AECL_ERR_IO; probed by creating and removing a temp file, since
 * root passes access() on folders it cannot write). The target is not touched. */
aecl_status aecl_io_check_writable(aecl_ctx *ctx, const char *path);
/* Creates the temp file for `path`; refuses the targets aecl_io_check_writable
 * refuses. On failure *out is zeroed (abort is a no-op). */
aecl_status aecl_atomic_open(aecl_ctx *ctx, const char *path, aecl_atomic_file *out);
/* Appends n bytes. */
aecl_status aecl_atomic_write(aecl_ctx *ctx, aecl_atomic_file *f, const void *data, size_t n);
/* Appends printf-formatted text. */
aecl_status aecl_atomic_printf(aecl_ctx *ctx, aecl_atomic_file *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Flushes, syncs and renames over the target. Always releases f: on failure the
 * temp file is removed (as by aecl_atomic_abort). Refuses if a write failed. */
aecl_status aecl_atomic_commit(aecl_ctx *ctx, aecl_atomic_file *f);
/* Drops the temp file and releases f. NULL-safe; harmless after commit or abort. */
void aecl_atomic_abort(aecl_atomic_file *f);
/* open + write + commit of one buffer. */
aecl_status aecl_write_file_atomic(aecl_ctx *ctx, const char *path, const void *data, size_t n);

/* Appends n floats as little-endian float32 (swapped on a big-endian host). */
aecl_status aecl_atomic_write_f32le(aecl_ctx *ctx, aecl_atomic_file *f, const float *x, size_t n);
/* Converts n little-endian float32 read from a file to host order, in place
 * (no-op on little-endian hosts). */
void aecl_io_f32_from_le(float *x, size_t n);

#endif

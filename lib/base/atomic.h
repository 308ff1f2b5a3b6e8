/* Atomic file writer (base layer: knows aecl.h's types and lib/base only).
 * Writes to a temp file created (mkstemp) next to the target, then fflush +
 * fsync + rename over the target. On any failure the temp file is removed and
 * an existing target is left untouched. A new file gets mode 0644; a replaced
 * file keeps its mode. Temp files of the same target that a killed writer left
 * (ours, untouched for an hour) are removed when the target is written again.
 *
 * What the path names decides how it is written:
 *  - absent or a regular file: atomically, as above;
 *  - a symbolic link (or a chain of them): atomically at the file it leads to
 *    (temp file in that file's folder, renamed over it), so the link stays a
 *    link; a dangling link creates its target when the target's folder exists;
 *  - a character device or a FIFO (/dev/null, a terminal, a named pipe): opened
 *    and written in place, as a shell's `>` does; opening a FIFO waits for its
 *    reader. There is nothing to roll back: a failed write leaves what was
 *    written, and commit reports the failure;
 *  - "-": standard output; a descriptor path (/dev/stdout, /dev/fd/N,
 *    /proc/self/fd/N): that descriptor, whatever it is (a copy of it is written
 *    and closed, so the program's own stays open and keeps its offset);
 *  - a folder, a socket or a block device: refused (AECL_ERR_INVALID_ARG), the
 *    message naming the path, what it is, and the link's target if any.
 * A file named "-" is written as "./-". */
#ifndef AECL_BASE_ATOMIC_H
#define AECL_BASE_ATOMIC_H

#include "aecl.h"

#include <stddef.h>
#include <stdio.h>

typedef struct aecl_atomic_file {
    FILE *fp;          /* the temp file, device, FIFO or descriptor; NULL once committed or aborted */
    char *path;        /* the path as given (owned), for messages */
    char *target;      /* the file the temp file replaces: path, or where its links lead (owned);
                          NULL when written in place */
    char *tmp_path;    /* temp file path (owned); NULL when written in place */
    int failed;        /* a write failed: commit will refuse */
} aecl_atomic_file;

/* Whether `path` can be written, before any long work; the target is not
 * touched. Refuses what aecl_atomic_open refuses (AECL_ERR_INVALID_ARG: a path
 * ending in '/', a folder, socket or block device, also behind a link), a file
 * whose folder is missing or takes no new file (AECL_ERR_IO; probed by creating
 * and removing a temp file there, since root passes access() on folders it
 * cannot write), a device or FIFO it may not write, and a descriptor that is not
 * open for writing. A FIFO is not opened (that would wait for a reader). */
aecl_status aecl_io_check_writable(aecl_ctx *ctx, const char *path);
/* 1 when `path` is written in place: "-", a descriptor path, a character device
 * or a FIFO (also behind symbolic links). Such a target is no file of that name
 * on disk, so a check of the name's extension (.png, .csv) does not apply.
 * A refused path is no stream (the writer gives the reason later). */
int aecl_io_is_stream(const char *path);
/* Creates the temp file for `path` (or opens the device, FIFO or descriptor).
 * On failure *out is zeroed (abort is a no-op). */
aecl_status aecl_atomic_open(aecl_ctx *ctx, const char *path, aecl_atomic_file *out);
/* Appends n bytes. */
aecl_status aecl_atomic_write(aecl_ctx *ctx, aecl_atomic_file *f, const void *data, size_t n);
/* Appends printf-formatted text. */
aecl_status aecl_atomic_printf(aecl_ctx *ctx, aecl_atomic_file *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Flushes, syncs and renames over the target (in place: flushes and closes).
 * Always releases f: on failure the temp file is removed (as by
 * aecl_atomic_abort). Refuses if a write failed. */
aecl_status aecl_atomic_commit(aecl_ctx *ctx, aecl_atomic_file *f);
/* Drops the temp file (in place: closes) and releases f. NULL-safe; harmless
 * after commit or abort. */
void aecl_atomic_abort(aecl_atomic_file *f);
/* open + write + commit of one buffer. */
aecl_status aecl_write_file_atomic(aecl_ctx *ctx, const char *path, const void *data, size_t n);

/* Appends n floats as little-endian float32 (swapped on a big-endian host). */
aecl_status aecl_atomic_write_f32le(aecl_ctx *ctx, aecl_atomic_file *f, const float *x, size_t n);
/* Converts n little-endian float32 read from a file to host order, in place
 * (no-op on little-endian hosts). */
void aecl_io_f32_from_le(float *x, size_t n);

#endif

/* Program building: sources (embedded or $AECL_KERNEL_DIR), the per-context table
 * of built programs, and the on-disk binary cache. */
#ifndef AECL_RT_PROGRAM_H
#define AECL_RT_PROGRAM_H

#include "rt/ctx.h"

/* The source text of cl/<file> with its //@require files prepended (malloc'd). */
aecl_status aecl_kernel_source(aecl_ctx *ctx, const char *file, char **out);

/* 1 when cl/<file> declares `//@variants`: its kernels and functions carry the
 * suffix AECL_VARIANT, so blockings of it can share a program. */
int aecl_kernel_file_has_variants(aecl_ctx *ctx, const char *file);

/* The text of one program holding n variants: variant i is files[i] with the
 * #define lines defines[i] before it and the #undef lines undefines[i] after
 * it; the files they require are put once, before any, except those declaring
 * `//@variant` (repeated in every variant, after its #defines). malloc'd. */
aecl_status aecl_kernel_source_variants(aecl_ctx *ctx, int n, const char *const *files, const char *const *defines,
                                        const char *const *undefines, char **out);

/* The build log `log` of the program made from `src`, with every
 * "NAME:LINE:COL:" location that counts lines of the whole text (a compiler that
 * ignores #line) turned into the kernel file and line it comes from (malloc'd;
 * NULL when out of memory). Locations already naming a file are kept. */
char *aecl_build_log_locate(const char *src, const char *log);

/* Names of all kernel files (embedded, or in $AECL_KERNEL_DIR); malloc'd array of
 * malloc'd strings, freed with aecl_kernel_names_free. */
aecl_status aecl_kernel_names(aecl_ctx *ctx, char ***names, size_t *count);
void aecl_kernel_names_free(char **names, size_t count);

/* A program from generated text (fused kernels), built once per context and text
 * and kept in the disk cache like a file's; `name` is for messages and the key. */
aecl_status aecl_program_from_text(aecl_ctx *ctx, const char *name, const char *src, cl_program *out);

void aecl_programs_release(aecl_ctx *ctx);

/* 1 when the context's table has a program for (file, options). */
int aecl_program_known(aecl_ctx *ctx, const char *file, const char *options);
/* Puts (file, options) in the table as an alias of the program `target` (in the
 * table already), whose kernels for it are named with `suffix` appended. */
aecl_status aecl_program_alias(aecl_ctx *ctx, const char *file, const char *options, cl_program target,
                               const char *suffix);
/* The suffix of (file, options)'s kernel names: "" unless it is an alias. */
const char *aecl_program_suffix(aecl_ctx *ctx, const char *file, const char *options);

/* Builds the n (files[i], options[i]) not in the table yet as one program, where
 * at least two of them can share one (rt/variants.c): each then enters the
 * table as an alias. The others are left to aecl_program_get. */
aecl_status aecl_program_variants(aecl_ctx *ctx, int n, const char *const *files, const char *const *options);

/* For a caller that could not create a kernel from *p: when *p is the disk cache's
 * binary (which may be another program's), rebuilds it from source, replaces it in
 * the context's table and the cache, sets *p and *rebuilt = 1, so the caller tries
 * once more. *rebuilt = 0 (and AECL_OK) when *p was built from source: the failure
 * is the caller's to report. An error only when the rebuild fails. */
aecl_status aecl_program_rebuild_cached(aecl_ctx *ctx, cl_program *p, int *rebuilt);

/* Disk cache. `key` identifies source + options + device + driver. */
#define AECL_BINCACHE_DIR_CAP 1024
typedef struct aecl_bincache {
    int enabled;
    char dir[AECL_BINCACHE_DIR_CAP];
    /* Why a cache the environment asks for is off (its path is too long, or others
     * can write its folder), for the caller to log; "" when on or not asked for. */
    char off_because[AECL_BINCACHE_DIR_CAP + 200];
} aecl_bincache;

/* From AECL_CACHE, AECL_CACHE_DIR, XDG_CACHE_HOME and HOME; off (with
 * off_because) when the folder is there but another user could write into it. */
void aecl_bincache_init(aecl_bincache *c);
/* Path of the entry file for key (in c->dir). */
void aecl_bincache_path(const aecl_bincache *c, const char *key, char *path, size_t cap);
/* What aecl_bincache_read found: */
enum {
    AECL_BINCACHE_UNTRUSTED = -2, /* an entry another user could have written: not read */
    AECL_BINCACHE_BAD = -1,       /* unreadable, damaged, cut short, or for another key */
    AECL_BINCACHE_MISS = 0,       /* none (or the cache is off) */
    AECL_BINCACHE_HIT = 1         /* *bin (malloc'd) and *len are the payload */
};
/* Reads and validates the entry for key; `why` says what was wrong with it (for
 * the log) when the result is negative. */
int aecl_bincache_read(const aecl_bincache *c, const char *key, unsigned char **bin, size_t *len, char *why,
                       size_t cap);
/* Creates the cache folder (and its parents); 1 when it exists and the cache is on. */
int aecl_bincache_make_dir(const aecl_bincache *c);
/* Writes an entry atomically (io/atomic.c), replacing a refused one; returns 0 on
 * failure, which callers only log: the cache is an optimisation. */
int aecl_bincache_write(aecl_ctx *ctx, const aecl_bincache *c, const char *key, const unsigned char *bin, size_t len);

/* XXH3-128 (Debian's libxxhash), in its canonical byte order: entries' payloads
 * and program sources. Integrity against damage, not against an attacker: the
 * cache's ownership checks are that defence. */
void aecl_hash128(const void *data, size_t len, unsigned char out[16]);

/* 64-bit FNV-1a: names of entry files and of generated programs. */
uint64_t aecl_hash64(const void *data, size_t len, uint64_t seed);

#endif

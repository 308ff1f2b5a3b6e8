/* Program building: sources (embedded or $AECL_KERNEL_DIR), the per-context table
 * of built programs, and the on-disk binary cache. */
#ifndef AECL_RT_PROGRAM_H
#define AECL_RT_PROGRAM_H

#include "rt/ctx.h"

/* The source text of cl/<file> with its //@require files prepended (malloc'd). */
aecl_status aecl_kernel_source(aecl_ctx *ctx, const char *file, char **out);

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

/* Disk cache. `key` identifies source + options + device + driver. */
typedef struct aecl_bincache {
    int enabled;
    char dir[1024];
} aecl_bincache;

void aecl_bincache_init(aecl_bincache *c);   /* from AECL_CACHE, AECL_CACHE_DIR, XDG */
/* Path of the entry file for key (in c->dir). */
void aecl_bincache_path(const aecl_bincache *c, const char *key, char *path, size_t cap);
/* Reads and validates an entry; returns 0 when missing or bad (*bad set when the
 * entry exists but is unreadable, truncated or from another key). */
int aecl_bincache_read(const aecl_bincache *c, const char *key, unsigned char **bin, size_t *len, int *bad);
/* Creates the cache folder (and its parents); 1 when it exists and the cache is on. */
int aecl_bincache_make_dir(const aecl_bincache *c);
/* Writes an entry atomically (io/atomic.c); returns 0 on failure, which callers
 * only log: the cache is an optimisation. */
int aecl_bincache_write(aecl_ctx *ctx, const aecl_bincache *c, const char *key, const unsigned char *bin, size_t len);

/* 64-bit FNV-1a, for cache keys. */
uint64_t aecl_hash64(const void *data, size_t len, uint64_t seed);

#endif

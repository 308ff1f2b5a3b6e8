/* Kernel programs: a known result, build logs, the in-memory and disk caches,
 * corrupt cache entries, AECL_KERNEL_DIR, and variants sharing a program. */
#include "check.h"
#include "rt/program.h"
#include "rt/rt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

/* Runs selftest_axpb from the given options and returns y[5] for x[5] = 5, a=3, b=-2. */
static float run_axpb(aecl_ctx *ctx, const char *options)
{
    cl_kernel k;
    if (aecl_kernel_create(ctx, "selftest.cl", options, "selftest_axpb", &k) != AECL_OK) {
        fprintf(stderr, "%s\n", aecl_ctx_last_error(ctx));
        return -1e30f;
    }
    float x[7] = {0, 1, 2, 3, 4, 5, 6}, y[7];
    aecl_buffer *bx, *by;
    aecl_buffer_create(ctx, 7, 4, &bx);
    aecl_buffer_create(ctx, 7, 4, &by);
    aecl_buffer_upload(bx, 0, x, sizeof x);
    cl_mem mx = aecl_buffer_cl(bx), my = aecl_buffer_cl(by);
    int off = 0, n = 7;
    float a = 3, b = -2;
    clSetKernelArg(k, 0, sizeof mx, &mx);
    clSetKernelArg(k, 1, sizeof off, &off);
    clSetKernelArg(k, 2, sizeof my, &my);
    clSetKernelArg(k, 3, sizeof off, &off);
    clSetKernelArg(k, 4, sizeof a, &a);
    clSetKernelArg(k, 5, sizeof b, &b);
    clSetKernelArg(k, 6, sizeof n, &n);
    size_t g, l;
    aecl_range_1d(ctx, k, 7, &g, &l);
    clEnqueueNDRangeKernel(aecl_ctx_cl_queue(ctx), k, 1, NULL, &g, &l, 0, NULL, NULL);
    aecl_buffer_download(by, 0, y, sizeof y);
    clReleaseKernel(k);
    aecl_buffer_free(bx);
    aecl_buffer_free(by);
    return y[5];
}

static void test_known_result_and_caches(void)
{
    aecl_ctx *ctx;
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    CHECK_NEAR(run_axpb(ctx, ""), 13.0, 1e-5);
    CHECK_NEAR(run_axpb(ctx, "-DSELFTEST_SCALE=2.0f"), 26.0, 1e-5); /* -D options reach the build */
    aecl_program_stats s;
    aecl_ctx_program_stats(ctx, &s);
    CHECK(s.builds_from_source == 2 && s.loads_from_disk == 0);
    CHECK_NEAR(run_axpb(ctx, ""), 13.0, 1e-5); /* same context: the table serves it */
    aecl_ctx_program_stats(ctx, &s);
    CHECK(s.memory_hits == 1 && s.builds_from_source == 2);
    CHECK_OK(ctx, aecl_selftest(ctx));
    aecl_ctx_free(ctx);

    /* A new context (think: a new process) loads the binaries from disk. */
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    CHECK_NEAR(run_axpb(ctx, "-DSELFTEST_SCALE=2.0f"), 26.0, 1e-5);
    aecl_ctx_program_stats(ctx, &s);
    CHECK_MSG(s.loads_from_disk == 1 && s.builds_from_source == 0, "disk %u, source %u", s.loads_from_disk,
              s.builds_from_source);
    aecl_ctx_free(ctx);
}

/* Overwrites every entry in the cache folder with `how` damage. */
static int damage_entries(int how)
{
    char cmd[600];
    if (how == 0) snprintf(cmd, sizeof cmd, "for f in %s/cache/*.bin; do head -c 40 \"$f\" > \"$f.t\" && mv \"$f.t\" \"$f\"; done", tmpdir);
    else if (how == 1) snprintf(cmd, sizeof cmd, "for f in %s/cache/*.bin; do printf 'garbage' > \"$f\"; done", tmpdir);
    else snprintf(cmd, sizeof cmd, "for f in %s/cache/*.bin; do n=$(stat -c %%s \"$f\"); printf '\\377\\377\\377\\377' | dd of=\"$f\" bs=1 seek=$((n-8)) conv=notrunc 2>/dev/null; done", tmpdir);
    return system(cmd);
}

static void test_corrupt_entries(void)
{
    /* Start from one good entry: the one the checks below rebuild each time. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -f %s/cache/*.bin", tmpdir);
    CHECK(system(cmd) == 0);
    aecl_ctx *first;
    CHECK_OK(NULL, aecl_ctx_create(NULL, &first));
    CHECK_NEAR(run_axpb(first, ""), 13.0, 1e-5);
    aecl_ctx_free(first);
    for (int how = 0; how < 3; how++) {
        CHECK_MSG(damage_entries(how) == 0, "damage %d", how);
        aecl_ctx *ctx;
        CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
        CHECK_NEAR(run_axpb(ctx, ""), 13.0, 1e-5);
        aecl_program_stats s;
        aecl_ctx_program_stats(ctx, &s);
        CHECK_MSG(s.cache_rejects == 1 && s.builds_from_source == 1, "damage %d: rejects %u, source %u", how,
                  s.cache_rejects, s.builds_from_source);
        aecl_ctx_free(ctx);
        /* ... and the entry was replaced by a good one. */
        CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
        CHECK_NEAR(run_axpb(ctx, ""), 13.0, 1e-5);
        aecl_ctx_program_stats(ctx, &s);
        CHECK(s.loads_from_disk == 1 && s.cache_rejects == 0);
        aecl_ctx_free(ctx);
    }
}

static void test_cache_off(void)
{
    setenv("AECL_CACHE", "0", 1);
    aecl_ctx *ctx;
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    CHECK_NEAR(run_axpb(ctx, ""), 13.0, 1e-5);
    aecl_program_stats s;
    aecl_ctx_program_stats(ctx, &s);
    CHECK(s.builds_from_source == 1 && s.loads_from_disk == 0);
    aecl_ctx_free(ctx);
    unsetenv("AECL_CACHE");
}

static int cache_entries(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls %s/cache/*.bin 2>/dev/null | wc -l", tmpdir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f && fscanf(f, "%d", &n) != 1) n = -1;
    if (f) pclose(f);
    return n;
}

/* PoCL with its own kernel cache on (POCL_KERNEL_CACHE unset): aecl builds the
 * program and writes no entry, since making one costs PoCL a compile of every
 * kernel. (main sets POCL_KERNEL_CACHE=0 for the other cases.) */
static void test_driver_caches_itself(void)
{
    aecl_ctx *ctx;
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    if (ctx && strstr(aecl_ctx_device(ctx)->platform_name, "Portable Computing Language")) {
        int before = cache_entries();
        unsetenv("POCL_KERNEL_CACHE");
        CHECK_NEAR(run_axpb(ctx, "-DSELFTEST_SCALE=3.0f"), 39.0, 1e-5);
        aecl_program_stats s;
        aecl_ctx_program_stats(ctx, &s);
        CHECK(s.builds_from_source == 1 && before >= 0);
        CHECK_MSG(cache_entries() == before, "entries %d before, %d after", before, cache_entries());
        setenv("POCL_KERNEL_CACHE", "0", 1);
        CHECK_NEAR(run_axpb(ctx, "-DSELFTEST_SCALE=4.0f"), 52.0, 1e-5);
        CHECK_MSG(cache_entries() == before + 1, "entries %d before, %d after", before, cache_entries());
    }
    aecl_ctx_free(ctx);
}

static void test_kernel_dir(void)
{
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/kernels", tmpdir);
    CHECK(mkdir(dir, 0755) == 0);
    snprintf(path, sizeof path, "%s/selftest.cl", dir);
    /* Same kernel, different arithmetic: proves the folder's file is used. */
    test_write_text(path, "__kernel void selftest_axpb(__global const float *x, int xo, __global float *y, int yo,\n"
                     "  float a, float b, int n) { int i = get_global_id(0); if (i < n) y[yo + i] = 100.0f + x[xo + i]; }\n");
    snprintf(path, sizeof path, "%s/broken.cl", dir);
    test_write_text(path, "// a kernel with a syntax error on line 3\n\n__kernel void broken(__global float *x) { x[0] = 1.0f +; }\n");
    /* The error is on line 4 of the file, line 8 of the assembled text. */
    snprintf(path, sizeof path, "%s/helper.cl", dir);
    test_write_text(path, "// a helper\nfloat helper(float v) { return v; }\n");
    snprintf(path, sizeof path, "%s/broken_req.cl", dir);
    test_write_text(path, "//@require helper.cl\n// uses helper.cl\n\n__kernel void b(__global float *x) { x[0] = helper(; }\n");
    setenv("AECL_KERNEL_DIR", dir, 1);
    aecl_ctx *ctx;
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    CHECK_NEAR(run_axpb(ctx, ""), 105.0, 1e-5);
    cl_program p;
    CHECK(aecl_program_get(ctx, "broken.cl", "", &p) == AECL_ERR_BUILD);
    const char *msg = aecl_ctx_last_error(ctx);
    /* The file's own line, whether or not the implementation honours #line. */
    CHECK_MSG(strstr(msg, "cl/broken.cl") && strstr(msg, "error") && strstr(msg, "broken.cl:3:"), "message: %s", msg);
    CHECK(aecl_program_get(ctx, "broken_req.cl", "", &p) == AECL_ERR_BUILD);
    msg = aecl_ctx_last_error(ctx);
    CHECK_MSG(strstr(msg, "broken_req.cl:4:") && !strstr(msg, ":8:"), "message: %s", msg);
    CHECK(aecl_program_get(ctx, "missing.cl", "", &p) == AECL_ERR_IO);
    CHECK(strstr(aecl_ctx_last_error(ctx), "missing.cl") != NULL);
    CHECK(aecl_program_get(ctx, "../etc.cl", "", &p) == AECL_ERR_INVALID_ARG);
    aecl_ctx_free(ctx);
    unsetenv("AECL_KERNEL_DIR");
}

/* o[0] of kernel `name` (one float argument) of file built with options; -1e30 on failure. */
static float run_one(aecl_ctx *ctx, const char *file, const char *options, const char *name)
{
    cl_kernel k;
    if (aecl_kernel_create(ctx, file, options, name, &k) != AECL_OK) {
        fprintf(stderr, "%s\n", aecl_ctx_last_error(ctx));
        return -1e30f;
    }
    float o = -1e30f;
    aecl_buffer *b;
    aecl_buffer_create(ctx, 1, 4, &b);
    aecl_buffer_upload(b, 0, &o, sizeof o); /* poisoned: a kernel that does not run leaves it */
    cl_mem m = aecl_buffer_cl(b);
    clSetKernelArg(k, 0, sizeof m, &m);
    size_t one = 1;
    clEnqueueNDRangeKernel(aecl_ctx_cl_queue(ctx), k, 1, NULL, &one, &one, 0, NULL, NULL);
    aecl_buffer_download(b, 0, &o, sizeof o);
    clReleaseKernel(k);
    aecl_buffer_free(b);
    return o;
}

/* Option sets of a `//@variants` file in one program (rt/variants.c): each
 * kernel sees its own -D values (V, W) and the shared ones (SCALE), the shared
 * file is put once (a second copy would not compile: vb_twice defined twice),
 * the `//@variant` helper once per variant; other files, sets already built and
 * sets with other options are left to their own programs. */
static void test_variants(void)
{
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/variants", tmpdir);
    CHECK(mkdir(dir, 0755) == 0);
    snprintf(path, sizeof path, "%s/vbase.cl", dir);
    test_write_text(path, "float vb_twice(float v) { return 2.0f * v; }\n");
    snprintf(path, sizeof path, "%s/vtile.cl", dir);
    test_write_text(path, "//@require vbase.cl\n//@variant\n#ifndef AECL_VARIANT\n#define AECL_VARIANT\n#endif\n"
                          "#define VCAT_(a, b) a##b\n#define VCAT(a, b) VCAT_(a, b)\n"
                          "#define VFN(n) VCAT(n, AECL_VARIANT)\n"
                          "#undef VSCALED\n#define VSCALED (V * SCALE)\n"
                          "float VFN(vt_value)(void) { return vb_twice((float)VSCALED); }\n");
    snprintf(path, sizeof path, "%s/vk.cl", dir);
    test_write_text(path, "//@require vtile.cl\n//@variants\n"
                          "__kernel void VFN(vk)(__global float *o) { o[0] = VFN(vt_value)() + W; }\n");
    snprintf(path, sizeof path, "%s/vplain.cl", dir);
    test_write_text(path, "__kernel void vp(__global float *o) { o[0] = V; }\n");
    setenv("AECL_KERNEL_DIR", dir, 1);
    aecl_ctx *ctx;
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    const char *files[] = {"vk.cl", "vk.cl", "vk.cl", "vplain.cl", "vk.cl", "vk.cl"};
    const char *opts[] = {"-DV=1 -DSCALE=10 -DW=5", "-DV=2 -DSCALE=10 -DW=5", "-DV=3 -DSCALE=10 -DW=7", "-DV=4",
                          "-DV=1 -DSCALE=10 -DW=5", "-DV=6 -DSCALE=10 -DW=5 -cl-fast-relaxed-math"};
    aecl_program_stats s0, s1, s2;
    aecl_ctx_program_stats(ctx, &s0);
    CHECK_OK(ctx, aecl_program_variants(ctx, 6, files, opts));
    aecl_ctx_program_stats(ctx, &s1);
    CHECK_MSG(s1.variants_shared == 3 && s1.builds_from_source == s0.builds_from_source + 1,
              "%u variants shared, %u programs built", s1.variants_shared,
              s1.builds_from_source - s0.builds_from_source);
    CHECK_NEAR(run_one(ctx, "vk.cl", opts[0], "vk"), 25.0, 0);
    CHECK_NEAR(run_one(ctx, "vk.cl", opts[1], "vk"), 45.0, 0);
    CHECK_NEAR(run_one(ctx, "vk.cl", opts[2], "vk"), 67.0, 0);
    CHECK_NEAR(run_one(ctx, "vplain.cl", opts[3], "vp"), 4.0, 0);
    CHECK_NEAR(run_one(ctx, "vk.cl", opts[5], "vk"), 125.0, 0);
    /* One new set among known ones: nothing to share, built alone when asked. */
    const char *more_files[] = {"vk.cl", "vk.cl"}, *more_opts[] = {opts[1], "-DV=8 -DSCALE=10 -DW=5"};
    CHECK_OK(ctx, aecl_program_variants(ctx, 2, more_files, more_opts));
    aecl_ctx_program_stats(ctx, &s2);
    CHECK(s2.variants_shared == 3);
    CHECK_NEAR(run_one(ctx, "vk.cl", more_opts[1], "vk"), 165.0, 0);
    /* A file that declares //@variants but names its kernel without the suffix:
     * two variants in one program clash (a build error), so each is built
     * apart, with a warning and nothing shared. */
    snprintf(path, sizeof path, "%s/vbad.cl", dir);
    test_write_text(path, "//@variants\n__kernel void vbad(__global float *o) { o[0] = V; }\n");
    const char *bad_files[] = {"vbad.cl", "vbad.cl"}, *bad_opts[] = {"-DV=1", "-DV=2"};
    CHECK_OK(ctx, aecl_program_variants(ctx, 2, bad_files, bad_opts));
    aecl_ctx_program_stats(ctx, &s2);
    CHECK(s2.variants_shared == 3);
    CHECK_NEAR(run_one(ctx, "vbad.cl", bad_opts[0], "vbad"), 1.0, 0);
    CHECK_NEAR(run_one(ctx, "vbad.cl", bad_opts[1], "vbad"), 2.0, 0);
    aecl_ctx_free(ctx);
    /* A new context (a later run) that needs one variant of the set shared
     * above builds that whole set again, from the record in the cache folder:
     * the same program, which the driver's cache holds. */
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    CHECK_OK(ctx, aecl_program_variants(ctx, 1, files, opts));
    aecl_ctx_program_stats(ctx, &s2);
    CHECK_MSG(s2.variants_shared == 3, "%u variants shared from the record", s2.variants_shared);
    CHECK_NEAR(run_one(ctx, "vk.cl", opts[2], "vk"), 67.0, 0);
    aecl_ctx_free(ctx);
    unsetenv("AECL_KERNEL_DIR");
}

/* Log locations that count lines of the whole text map back into the file. */
static void test_log_locate(void)
{
    const char *src = "#line 1 \"helper.cl\"\nfloat h(void);\n\n#line 1 \"k.cl\"\n// k\n\n__kernel void k() { +; }\n";
    struct { const char *log, *want; } cases[] = {
        {"input.cl:7:20: error: expected expression\n", "k.cl:3:20: error: expected expression\n"},
        {"error: k.cl:3:20: expected expression\n", "error: k.cl:3:20: expected expression\n"}, /* honoured */
        {"1:2:7: warning: x\n<kernel>:7:1: note: y\n", "helper.cl:1:7: warning: x\nk.cl:3:1: note: y\n"},
        {"input.cl:4:1: in a directive\n", "input.cl:4:1: in a directive\n"}, /* no line there */
        {"time 12:30:45 and a:b:c: stay\n", "time 12:30:45 and a:b:c: stay\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = aecl_build_log_locate(src, cases[i].log);
        CHECK_MSG(got && !strcmp(got, cases[i].want), "log %s gave %s", cases[i].log, got ? got : "NULL");
        free(got);
    }
    /* Generated programs have no directive: their locations are kept. */
    char *got = aecl_build_log_locate("kernel void g() { +; }\n", "input.cl:1:19: error\n");
    CHECK(got && !strcmp(got, "input.cl:1:19: error\n"));
    free(got);
}

int main(void)
{
    /* aecl writes no entries for PoCL while PoCL caches its own builds. */
    setenv("POCL_KERNEL_CACHE", "0", 1);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aecl-test-programs-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", tmpdir);
    setenv("AECL_CACHE_DIR", cache, 1);
    test_known_result_and_caches();
    test_corrupt_entries();
    test_cache_off();
    test_driver_caches_itself();
    test_kernel_dir();
    test_variants();
    test_log_locate();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return test_finish();
}

/* Device listing, selection by index and name, bad selectors, adopted contexts;
 * the default choice on synthetic device lists (simulators and devices that
 * failed selftest skipped) and the record of failed devices. */
#include "check.h"
#include "rt/device.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* setenv/unsetenv that remember the old value for env_restore (the test
 * environment pins AECL_DEVICE and AECL_CACHE_DIR). */
static char saved_env[2][1024];
static int saved_set[2];
static void env_save(int slot, const char *name)
{
    const char *v = getenv(name);
    saved_set[slot] = v != NULL;
    snprintf(saved_env[slot], sizeof saved_env[slot], "%s", v ? v : "");
}
static void env_restore(int slot, const char *name)
{
    if (saved_set[slot]) setenv(name, saved_env[slot], 1);
    else unsetenv(name);
}

static void test_listing(aecl_device_info **d, size_t *n)
{
    CHECK_OK(NULL, aecl_devices_list(d, n));
    CHECK(*n >= 1);
    int defaults = 0;
    for (size_t i = 0; i < *n; i++) {
        defaults += (*d)[i].is_default;
        CHECK((*d)[i].name[0] != 0);
        CHECK((*d)[i].compute_units >= 1);
        CHECK((*d)[i].global_mem_bytes > 0 && (*d)[i].max_alloc_bytes > 0);
        CHECK((*d)[i].max_work_group_size >= 1);
        CHECK(strstr((*d)[i].opencl_c_version, "OpenCL C") != NULL);
    }
    CHECK(defaults == 1);
}

static void test_select(const aecl_device_info *d)
{
    char sel[64];
    aecl_ctx *ctx = NULL;
    snprintf(sel, sizeof sel, "%u:%u", d[0].platform_index, d[0].device_index);
    CHECK_OK(NULL, aecl_ctx_create(sel, &ctx));
    CHECK(ctx && !strcmp(aecl_ctx_device(ctx)->name, d[0].name));
    aecl_ctx_free(ctx);

    CHECK_OK(NULL, aecl_ctx_create("0", &ctx));
    CHECK(ctx && !strcmp(aecl_ctx_device(ctx)->name, d[0].name));
    aecl_ctx_free(ctx);

    /* A substring of the name, in another case. */
    char sub[8] = {0};
    memcpy(sub, d[0].name, 5);
    for (char *p = sub; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    CHECK_OK(NULL, aecl_ctx_create(sub, &ctx));
    CHECK(ctx && !strcmp(aecl_ctx_device(ctx)->name, d[0].name));
    aecl_ctx_free(ctx);

    /* AECL_DEVICE is read when no selector is given, and named as the reason. */
    env_save(0, "AECL_DEVICE");
    setenv("AECL_DEVICE", "no-such-device-xyz", 1);
    CHECK(aecl_ctx_create(NULL, &ctx) == AECL_ERR_NO_DEVICE && ctx == NULL);
    setenv("AECL_DEVICE", "0", 1);
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    CHECK_MSG(ctx && !strncmp(aecl_ctx_device(ctx)->chosen_because, "AECL_DEVICE=0", 13), "reason: %s",
              ctx ? aecl_ctx_device(ctx)->chosen_because : "");
    aecl_ctx_free(ctx);
    unsetenv("AECL_DEVICE");
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    CHECK(ctx && aecl_ctx_device(ctx)->is_default &&
          !strncmp(aecl_ctx_device(ctx)->chosen_because, "default: ", 9));
    aecl_ctx_free(ctx);
    env_restore(0, "AECL_DEVICE");
}

static void test_bad_selector(const aecl_device_info *d)
{
    aecl_ctx *ctx = (aecl_ctx *)1;
    CHECK(aecl_ctx_create("7:3", &ctx) == AECL_ERR_NO_DEVICE);
    CHECK(ctx == NULL);
    const char *msg = aecl_ctx_last_error(NULL);
    CHECK_MSG(strstr(msg, "7:3") && strstr(msg, d[0].name) && strstr(msg, "[0:0]"), "message: %s", msg);
    CHECK(aecl_ctx_create("99", &ctx) == AECL_ERR_NO_DEVICE);
    CHECK(aecl_ctx_create("quantum-gpu", &ctx) == AECL_ERR_NO_DEVICE);
    CHECK(strstr(aecl_ctx_last_error(NULL), "quantum-gpu") != NULL);
}

static cl_uint refcount_ctx(cl_context c)
{
    cl_uint r = 0;
    clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof r, &r, NULL);
    return r;
}
static cl_uint refcount_queue(cl_command_queue q)
{
    cl_uint r = 0;
    clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT, sizeof r, &r, NULL);
    return r;
}

static void test_adopt(void)
{
    cl_platform_id p;
    cl_device_id dev;
    CHECK(clGetPlatformIDs(1, &p, NULL) == CL_SUCCESS);
    CHECK(clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &dev, NULL) == CL_SUCCESS);
    cl_int err;
    cl_context c = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    cl_command_queue q = clCreateCommandQueue(c, dev, 0, &err);
    CHECK(err == CL_SUCCESS);
    cl_uint rc0 = refcount_ctx(c), rq0 = refcount_queue(q);

    aecl_ctx *ctx = NULL;
    CHECK_OK(NULL, aecl_ctx_create_from_cl(c, q, &ctx));
    CHECK(aecl_ctx_cl_context(ctx) == c && aecl_ctx_cl_queue(ctx) == q && aecl_ctx_cl_device(ctx) == dev);
    CHECK_OK(ctx, aecl_selftest(ctx)); /* aecl's work runs on the caller's queue */
    aecl_ctx_free(ctx);
    /* PoCL drops the references its finished commands held from a helper thread,
     * a moment after clFinish returns: wait for it (up to 2 s), then compare. */
    clFinish(q);
    for (int i = 0; i < 200 && (refcount_ctx(c) != rc0 || refcount_queue(q) != rq0); i++) nanosleep(&(struct timespec){0, 10000000}, NULL);
    CHECK(refcount_ctx(c) == rc0 && refcount_queue(q) == rq0);

    /* The caller's objects still work after aecl is gone. */
    float v = 42.0f, back = 0;
    cl_mem m = clCreateBuffer(c, CL_MEM_READ_WRITE, sizeof v, NULL, &err);
    CHECK(err == CL_SUCCESS);
    CHECK(clEnqueueWriteBuffer(q, m, CL_TRUE, 0, sizeof v, &v, 0, NULL, NULL) == CL_SUCCESS);
    CHECK(clEnqueueReadBuffer(q, m, CL_TRUE, 0, sizeof v, &back, 0, NULL, NULL) == CL_SUCCESS);
    CHECK(back == 42.0f);
    clReleaseMemObject(m);

    /* A queue of another context is refused. */
    cl_context c2 = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    CHECK(aecl_ctx_create_from_cl(c2, q, &ctx) == AECL_ERR_INVALID_ARG && ctx == NULL);
    CHECK(strstr(aecl_ctx_last_error(NULL), "another context") != NULL);
    CHECK(aecl_ctx_create_from_cl(NULL, q, &ctx) == AECL_ERR_INVALID_ARG);
    clReleaseContext(c2);
    clReleaseCommandQueue(q);
    clReleaseContext(c);
}

/* ---- the choice on synthetic lists ----------------------------------------- */

static aecl_device_info dev(unsigned p, unsigned d, const char *platform, const char *name, aecl_device_type t,
                            int failed)
{
    aecl_device_info i;
    memset(&i, 0, sizeof i);
    i.platform_index = p;
    i.device_index = d;
    snprintf(i.platform_name, sizeof i.platform_name, "%s", platform);
    snprintf(i.name, sizeof i.name, "%s", name);
    snprintf(i.vendor, sizeof i.vendor, "%s", strstr(platform, "Oclgrind") ? "Oclgrind" : "Vendor");
    snprintf(i.driver_version, sizeof i.driver_version, "1.0");
    i.type = t;
    i.is_simulator = aecl_device_is_simulator(&i);
    i.failed_selftest = failed;
    return i;
}

/* The default of the first n devices is want, for a reason that contains needle. */
static void check_default(const aecl_device_info *l, size_t n, size_t want, const char *needle)
{
    char why[96] = "";
    size_t got = aecl_device_default(l, n, why, sizeof why);
    CHECK_MSG(got == want && strstr(why, needle), "n=%zu: chose %zu (%s), expected %zu (%s)", n, got, why, want,
              needle);
}

static void test_choice(void)
{
    const aecl_device_type G = AECL_DEVICE_GPU, C = AECL_DEVICE_CPU;
    aecl_device_info l[] = {
        dev(0, 0, "Oclgrind", "Oclgrind Simulator", G, 0),
        dev(1, 0, "Portable Computing Language", "pthread-cpu", C, 0),
        dev(2, 0, "Some GPU Platform", "Broken GPU", G, 1),
        dev(2, 1, "Some GPU Platform", "Good GPU", G, 0),
    };
    CHECK(l[0].is_simulator && !l[1].is_simulator && !l[2].is_simulator);
    aecl_device_info shouting = dev(0, 0, "x", "y", G, 0);
    snprintf(shouting.vendor, sizeof shouting.vendor, "OCLGRIND project");
    CHECK(aecl_device_is_simulator(&shouting));

    check_default(l, 4, 3, "default: first GPU");                   /* simulator and failed GPU skipped */
    check_default(l, 3, 1, "default: first CPU (no GPU other than a simulator or one that failed selftest)");
    check_default(l, 2, 1, "default: first CPU (no GPU other than a simulator)");
    check_default(l + 1, 1, 0, "default: first CPU (no GPU)");
    check_default(l + 1, 2, 0, "default: first CPU (no GPU that passed selftest)");
    check_default(l, 1, 0, "though a simulator");                    /* nothing else there */
    check_default(l + 2, 1, 0, "though it failed selftest");
    aecl_device_info acc[] = {dev(0, 0, "P", "Failed CPU", C, 1), dev(0, 1, "P", "Accelerator", AECL_DEVICE_ACCELERATOR, 0)};
    check_default(acc, 2, 1, "default: first device (no GPU or CPU that passed selftest)");

    /* Named explicitly: used as it is, by index, P:D or name, and said so. */
    size_t i = 99;
    char why[96];
    CHECK_OK(NULL, aecl_device_choose(l, 4, "oclgrind", NULL, &i, why, sizeof why));
    CHECK_MSG(i == 0 && !strcmp(why, "selector 'oclgrind' (a simulator)"), "%zu: %s", i, why);
    CHECK_OK(NULL, aecl_device_choose(l, 4, NULL, "2:0", &i, why, sizeof why));
    CHECK_MSG(i == 2 && !strcmp(why, "AECL_DEVICE=2:0 (failed selftest)"), "%zu: %s", i, why);
    CHECK_OK(NULL, aecl_device_choose(l, 4, "1", "2:0", &i, why, sizeof why)); /* the argument wins */
    CHECK_MSG(i == 1 && !strcmp(why, "selector '1'"), "%zu: %s", i, why);
    CHECK_OK(NULL, aecl_device_choose(l, 4, "", "", &i, why, sizeof why));
    CHECK_MSG(i == 3 && !strcmp(why, "default: first GPU"), "%zu: %s", i, why);
    CHECK_FAIL(aecl_device_choose(l, 4, "tpu", NULL, &i, why, sizeof why), AECL_ERR_NO_DEVICE, "Good GPU");
    CHECK(test_msg_has("'tpu'"));
}

/* ---- the record of devices that failed selftest ----------------------------- */

static int record_lines(void)
{
    FILE *f = fopen(test_path("selftest-failures.txt"), "r");
    if (!f) return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) n += line[0] != '#';
    fclose(f);
    return n;
}

static void test_record(const aecl_device_info *real, size_t n_real)
{
    env_save(1, "AECL_CACHE_DIR");
    test_tmp_setup("devices");
    setenv("AECL_CACHE_DIR", test_tmpdir, 1);
    aecl_device_info l[] = {dev(0, 0, "P", "GPU\twith a tab", AECL_DEVICE_GPU, 0), dev(0, 1, "P", "CPU", AECL_DEVICE_CPU, 0)};
    char path[1100];
    /* A pass on an unlisted device writes nothing. */
    CHECK_OK(NULL, aecl_selftest_record(NULL, &l[0], 0, path, sizeof path));
    CHECK(!strcmp(path, test_path("selftest-failures.txt")) && record_lines() == -1);
    CHECK_OK(NULL, aecl_selftest_record(NULL, &l[0], 1, NULL, 0));
    CHECK_OK(NULL, aecl_selftest_record(NULL, &l[1], 1, NULL, 0));
    CHECK_OK(NULL, aecl_selftest_record(NULL, &l[1], 1, NULL, 0)); /* no duplicate */
    CHECK(record_lines() == 2);
    aecl_selftest_mark(l, 2);
    CHECK(l[0].failed_selftest && l[1].failed_selftest);
    /* Another driver version is another device. */
    snprintf(l[1].driver_version, sizeof l[1].driver_version, "2.0");
    aecl_selftest_mark(l, 2);
    CHECK(l[0].failed_selftest && !l[1].failed_selftest);
    CHECK_OK(NULL, aecl_selftest_record(NULL, &l[0], 0, NULL, 0));   /* passes again: cleared */
    aecl_selftest_mark(l, 2);
    CHECK(!l[0].failed_selftest && record_lines() == 1);

    /* A recorded real device is marked in the listing and is no default while
     * another device is there. */
    CHECK_OK(NULL, aecl_selftest_record(NULL, &real[0], 1, NULL, 0));
    aecl_device_info *d = NULL;
    size_t n = 0;
    CHECK_OK(NULL, aecl_devices_list(&d, &n));
    CHECK(n == n_real && d && d[0].failed_selftest && (n == 1 || !d[0].is_default));
    free(d);
    env_save(0, "AECL_DEVICE");
    unsetenv("AECL_DEVICE");
    aecl_ctx *ctx = NULL;
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    if (ctx && n_real == 1)
        CHECK_MSG(strstr(aecl_ctx_device(ctx)->chosen_because, "(every device is a simulator or failed selftest)"),
                  "reason: %s",
                  aecl_ctx_device(ctx)->chosen_because);
    aecl_ctx_free(ctx);
    env_restore(0, "AECL_DEVICE");
    CHECK_OK(NULL, aecl_selftest_record(NULL, &real[0], 0, NULL, 0));
    CHECK_OK(NULL, aecl_devices_list(&d, &n));
    CHECK(d && !d[0].failed_selftest);
    free(d);

    /* With the cache off nothing is recorded. */
    setenv("AECL_CACHE", "0", 1);
    CHECK_OK(NULL, aecl_selftest_record(NULL, &l[1], 1, path, sizeof path));
    CHECK(path[0] == 0 && record_lines() == 1);
    unsetenv("AECL_CACHE");
    test_tmp_cleanup();
    env_restore(1, "AECL_CACHE_DIR");
}

int main(void)
{
    aecl_device_info *d = NULL;
    size_t n = 0;
    test_listing(&d, &n);
    if (n) {
        test_select(d);
        test_bad_selector(d);
        test_adopt();
        test_record(d, n);
    }
    test_choice();
    free(d);
    CHECK(strcmp(aecl_status_str(AECL_ERR_DEVICE_MEMORY), "out of device memory") == 0);
    CHECK(aecl_version_number() == AECL_VERSION_NUMBER);
    return test_finish();
}

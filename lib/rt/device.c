/* Platform and device discovery, and the selector grammar of aecl_ctx_create. */
#include "rt/device.h"
#include "rt/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void info_str(cl_device_id d, cl_device_info what, char *out, size_t cap)
{
    out[0] = 0;
    if (clGetDeviceInfo(d, what, cap, out, NULL) != CL_SUCCESS) out[0] = 0;
    out[cap - 1] = 0;
}

void aecl_device_fill_info(cl_platform_id p, cl_device_id d, unsigned pi, unsigned di,
                           aecl_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->platform_index = pi;
    info->device_index = di;
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof info->platform_name, info->platform_name, NULL))
        info->platform_name[0] = 0;
    info_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    info_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    info_str(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    info_str(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version, sizeof info->opencl_c_version);
    cl_device_type t = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    info->type = (t & CL_DEVICE_TYPE_GPU) ? AECL_DEVICE_GPU
               : (t & CL_DEVICE_TYPE_CPU) ? AECL_DEVICE_CPU
               : (t & CL_DEVICE_TYPE_ACCELERATOR) ? AECL_DEVICE_ACCELERATOR : AECL_DEVICE_OTHER;
    cl_uint cu = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    info->compute_units = cu;
    cl_ulong v = 0;
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof v, &v, NULL);
    info->global_mem_bytes = v;
    v = 0;
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof v, &v, NULL);
    info->local_mem_bytes = v;
    v = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof v, &v, NULL);
    info->max_alloc_bytes = v;
    size_t wg = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    info->max_work_group_size = wg ? wg : 1;
    info->is_simulator = aecl_device_is_simulator(info);
}

void aecl_device_set_free(aecl_device_set *s)
{
    free(s->devices);
    free(s->info);
    memset(s, 0, sizeof *s);
}

aecl_status aecl_device_set_load(aecl_device_set *s)
{
    memset(s, 0, sizeof *s);
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && np == 0))
        return aecl_fail(NULL, AECL_ERR_NO_DEVICE,
                         "no OpenCL platform found (is an ICD such as pocl-opencl-icd installed?)");
    if (err != CL_SUCCESS) return aecl_fail_cl(NULL, err, "clGetPlatformIDs", __FILE__, __LINE__);
    cl_platform_id plats[16];
    if (np > 16) np = 16;
    AECL_CL_TRY(NULL, clGetPlatformIDs(np, plats, NULL));
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue; /* a platform without devices is not an error */
        cl_device_id *ds = malloc(nd * sizeof *ds);
        aecl_device_ref *grown = realloc(s->devices, (s->count + nd) * sizeof *grown);
        aecl_device_info *ginfo = realloc(s->info, (s->count + nd) * sizeof *ginfo);
        if (grown) s->devices = grown;
        if (ginfo) s->info = ginfo;
        if (!ds || !grown || !ginfo) {
            free(ds);
            aecl_device_set_free(s);
            return aecl_fail(NULL, AECL_ERR_HOST_MEMORY, "out of host memory listing devices");
        }
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ds, NULL);
        for (cl_uint d = 0; d < nd; d++) {
            s->devices[s->count].platform = plats[p];
            s->devices[s->count].device = ds[d];
            aecl_device_fill_info(plats[p], ds[d], p, d, &s->info[s->count]);
            s->count++;
        }
        free(ds);
    }
    if (s->count == 0)
        return aecl_fail(NULL, AECL_ERR_NO_DEVICE, "OpenCL platforms found, but no devices%s",
                         getenv("POCL_DEVICES") ? " (POCL_DEVICES is set: PoCL 3 names its CPU device 'pthread')" : "");
    aecl_selftest_mark(s->info, s->count);
    s->default_index = aecl_device_default(s->info, s->count, NULL, 0);
    s->info[s->default_index].is_default = 1;
    return AECL_OK;
}

/* Simulators run kernels correctly but about 1000x slower than any real device:
 * one installed beside a real platform must not take the default silently.
 * Matched, case-insensitive, in the platform name, vendor or device name. */
static const char *const simulator_names[] = {"Oclgrind"};

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return 0;
}

int aecl_device_is_simulator(const aecl_device_info *d)
{
    for (size_t i = 0; i < sizeof simulator_names / sizeof simulator_names[0]; i++)
        if (contains_nocase(d->platform_name, simulator_names[i]) || contains_nocase(d->vendor, simulator_names[i]) ||
            contains_nocase(d->name, simulator_names[i]))
            return 1;
    return 0;
}

static int usable(const aecl_device_info *d) { return !d->is_simulator && !d->failed_selftest; }

/* The first device whose type is in `types` (usable ones only when need_usable); n when none. */
static size_t first_of(const aecl_device_info *info, size_t n, unsigned types, int need_usable)
{
    for (size_t i = 0; i < n; i++)
        if ((info[i].type & types) && (!need_usable || usable(&info[i]))) return i;
    return n;
}

/* What the skipped devices of `types` were, for "(no GPU<note>)". */
static const char *skipped_note(const aecl_device_info *info, size_t n, unsigned types)
{
    int sim = 0, failed = 0;
    for (size_t i = 0; i < n; i++)
        if (info[i].type & types) {
            sim |= info[i].is_simulator;
            failed |= !info[i].is_simulator && info[i].failed_selftest;
        }
    return sim && failed ? " other than a simulator or one that failed selftest"
           : sim         ? " other than a simulator"
           : failed      ? " that passed selftest"
                         : "";
}

static const char *type_word(aecl_device_type t)
{
    return t == AECL_DEVICE_GPU ? "GPU" : t == AECL_DEVICE_CPU ? "CPU" : "device";
}

size_t aecl_device_default(const aecl_device_info *info, size_t n, char *why, size_t cap)
{
    const unsigned gpu = AECL_DEVICE_GPU, cpu = AECL_DEVICE_CPU, any = ~0u;
    size_t i;
    if ((i = first_of(info, n, gpu, 1)) < n) {
        snprintf(why, cap, "default: first GPU");
    } else if ((i = first_of(info, n, cpu, 1)) < n) {
        snprintf(why, cap, "default: first CPU (no GPU%s)", skipped_note(info, n, gpu));
    } else if ((i = first_of(info, n, any, 1)) < n) {
        snprintf(why, cap, "default: first device (no GPU or CPU%s)", skipped_note(info, n, gpu | cpu));
    } else {
        /* Nothing else is there: a slow or doubtful device beats none, and the
         * reason says so. */
        i = first_of(info, n, gpu, 0) < n ? first_of(info, n, gpu, 0)
          : first_of(info, n, cpu, 0) < n ? first_of(info, n, cpu, 0) : 0;
        snprintf(why, cap, "default: first %s, though %s (every device is a simulator or failed selftest)",
                 type_word(info[i].type),
                 info[i].is_simulator ? "a simulator" : "it failed selftest");
    }
    return i;
}

/* The decimal number at *s, moving *s past it; 0 when no digit is there (a sign
 * or a space is not a number). Too large a number saturates at ULLONG_MAX, which
 * names no device: it must not wrap round to a small index. */
static int read_number(const char **s, unsigned long long *v)
{
    if (!isdigit((unsigned char)**s)) return 0;
    char *end;
    *v = strtoull(*s, &end, 10);
    *s = end;
    return 1;
}

/* 1 when sel is "P:D" (*pair set) or "N" (into *p), digits only. */
static int parse_numbers(const char *sel, unsigned long long *p, unsigned long long *d, int *pair)
{
    const char *s = sel;
    if (!read_number(&s, p)) return 0;
    *pair = *s == ':';
    if (*pair) {
        s++;
        if (!read_number(&s, d)) return 0;
    }
    return *s == 0;
}

/* Parses "P:D" or "N"; returns 1 and the index on a well-formed selector. */
static int parse_index(const aecl_device_info *info, size_t n, const char *sel, size_t *out, int *well_formed)
{
    unsigned long long p = 0, d = 0;
    int pair = 0;
    *well_formed = parse_numbers(sel, &p, &d, &pair);
    if (!*well_formed) return 0;
    for (size_t i = 0; pair && i < n; i++)
        if (info[i].platform_index == p && info[i].device_index == d) { *out = i; return 1; }
    if (!pair && p < n) { *out = (size_t)p; return 1; }
    return 0;
}

static void list_devices(const aecl_device_info *info, size_t n)
{
    aecl_error_append(NULL, "; devices are:");
    for (size_t i = 0; i < n; i++)
        aecl_error_append(NULL, " [%u:%u] %s (%s)%s", info[i].platform_index, info[i].device_index, info[i].name,
                          info[i].platform_name, i + 1 < n ? "," : "");
}

/* The index of the device a non-empty selector names; 0 when none matches. */
static int match(const aecl_device_info *info, size_t n, const char *sel, size_t *out)
{
    int well_formed;
    if (parse_index(info, n, sel, out, &well_formed)) return 1;
    if (!well_formed)
        for (size_t i = 0; i < n; i++)
            if (contains_nocase(info[i].name, sel) || contains_nocase(info[i].vendor, sel) ||
                contains_nocase(info[i].platform_name, sel)) { *out = i; return 1; }
    return 0;
}

aecl_status aecl_device_choose(const aecl_device_info *info, size_t n, const char *sel, const char *env_sel,
                               size_t *out, char *why, size_t cap)
{
    int from_env = !(sel && *sel) && env_sel && *env_sel;
    if (from_env) sel = env_sel;
    if (!sel || !*sel) {
        *out = aecl_device_default(info, n, why, cap);
        return AECL_OK;
    }
    if (!match(info, n, sel, out)) {
        aecl_fail(NULL, AECL_ERR_NO_DEVICE, "no OpenCL device matches selector '%s'", sel);
        list_devices(info, n);
        return AECL_ERR_NO_DEVICE;
    }
    /* Named explicitly, so used as it is; the reason still warns. */
    const aecl_device_info *d = &info[*out];
    snprintf(why, cap, from_env ? "AECL_DEVICE=%s%s" : "selector '%s'%s", sel,
             d->is_simulator ? " (a simulator)" : d->failed_selftest ? " (failed selftest)" : "");
    return AECL_OK;
}

aecl_status aecl_device_select(aecl_device_set *s, const char *sel, size_t *out)
{
    aecl_device_info *info = s->info;
    char why[sizeof info[0].chosen_because];
    AECL_TRY(aecl_device_choose(info, s->count, sel, getenv("AECL_DEVICE"), out, why, sizeof why));
    snprintf(info[*out].chosen_because, sizeof info[*out].chosen_because, "%s", why);
    return AECL_OK;
}

aecl_status aecl_devices_list(aecl_device_info **out, size_t *count)
{
    if (!out || !count) return aecl_fail(NULL, AECL_ERR_INVALID_ARG, "aecl_devices_list: NULL output");
    *out = NULL;
    *count = 0;
    aecl_device_set s;
    AECL_TRY(aecl_device_set_load(&s));
    *out = s.info;
    *count = s.count;
    s.info = NULL;
    aecl_device_set_free(&s);
    return AECL_OK;
}

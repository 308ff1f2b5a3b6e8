/* The disk cache of program binaries (rt/bincache.c) under damage and attack:
 * entries other users could have written are not used, and no run fails or
 * crashes for anything found in the cache. */
#include "check.h"
#include "rt/program.h"
#include "rt/rt.h"

#include <dirent.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[200];

static void count_cache_warning(void *user, int level, const char *msg)
{
    if (level == AECL_LOG_WARN && strstr(msg, "cache")) ++*(int *)user;
}

/* The program stats of a selftest in a new context (a new process, as far as the
 * cache can tell), building `extra` more kernel files first when asked; *warnings
 * counts the cache's warnings. */
static aecl_program_stats run_selftest(int build_all, int *warnings)
{
    aecl_program_stats s = {0};
    aecl_ctx *ctx;
    int w = 0;
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    if (!ctx) return s;
    aecl_ctx_set_log(ctx, count_cache_warning, &w, AECL_LOG_WARN);
    if (build_all) CHECK_OK(ctx, aecl_build_all_kernels(ctx, NULL));
    CHECK_OK(ctx, aecl_selftest(ctx));
    aecl_ctx_program_stats(ctx, &s);
    aecl_ctx_free(ctx);
    if (warnings) *warnings = w;
    return s;
}

/* A new, empty cache folder root/name, made the one the library uses. */
static const char *use_cache(const char *name, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/%s", root, name);
    CHECK_MSG(mkdir(dir, 0755) == 0, "mkdir %s", dir);
    setenv("AECL_CACHE_DIR", dir, 1);
    return dir;
}

/* Calls fn(path) for every entry file in dir; returns how many there were. */
static int each_entry(const char *dir, void (*fn)(const char *path))
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".bin")) continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fn(path);
        n++;
    }
    if (d) closedir(d);
    return n;
}

/* A selftest that fills the cache, then one that loads from it. */
static void fill_cache(void)
{
    aecl_program_stats s = run_selftest(0, NULL);
    CHECK(s.builds_from_source == 1);
    s = run_selftest(0, NULL);
    CHECK_MSG(s.loads_from_disk == 1 && s.builds_from_source == 0, "disk %u, source %u", s.loads_from_disk,
              s.builds_from_source);
}

/* A folder others can write is not used: selftest builds from source, with one
 * warning however many programs it builds. A sticky folder is fine: others can
 * neither replace nor remove our entries there. */
static void test_folder_others_can_write(void)
{
    char dir[300];
    use_cache("open", dir, sizeof dir);
    fill_cache();
    const mode_t refused[] = {0777, 0775, 0757};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK(chmod(dir, refused[i]) == 0);
        int warnings = -1;
        aecl_program_stats s = run_selftest(i == 0, &warnings);
        CHECK_MSG(s.loads_from_disk == 0 && s.builds_from_source >= 1 && warnings == 1,
                  "mode %o: disk %u, source %u, warnings %d", (unsigned)refused[i], s.loads_from_disk,
                  s.builds_from_source, warnings);
    }
    CHECK(chmod(dir, 01777) == 0);
    int warnings = -1;
    aecl_program_stats s = run_selftest(0, &warnings);
    CHECK_MSG(s.loads_from_disk == 1 && warnings == 0, "sticky: disk %u, warnings %d", s.loads_from_disk, warnings);
    CHECK(chmod(dir, 0755) == 0);
}

static uid_t nobody_uid;

static void give_to_nobody(const char *path) { CHECK(chown(path, nobody_uid, (gid_t)-1) == 0); }
static void make_writable(const char *path) { CHECK(chmod(path, 0666) == 0); }

/* An entry that is not a regular file of ours: a link to one elsewhere. */
static void make_symlink(const char *path)
{
    char copy[700], cmd[1500];
    snprintf(copy, sizeof copy, "%s.elsewhere", path);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && ln -sf '%s' '%s'", path, copy, copy, path);
    CHECK(system(cmd) == 0);
}

/* An entry another user could have written is refused with a warning, rebuilt,
 * and replaced by one of ours that the next run loads. */
static void check_entry_refused(const char *name, void (*spoil)(const char *path))
{
    char dir[300];
    use_cache(name, dir, sizeof dir);
    fill_cache();
    CHECK_MSG(each_entry(dir, spoil) == 1, "%s: one entry", name);
    int warnings = -1;
    aecl_program_stats s = run_selftest(0, &warnings);
    CHECK_MSG(s.loads_from_disk == 0 && s.builds_from_source == 1 && s.cache_rejects == 1 && warnings == 1,
              "%s: disk %u, source %u, rejects %u, warnings %d", name, s.loads_from_disk, s.builds_from_source,
              s.cache_rejects, warnings);
    s = run_selftest(0, &warnings);
    CHECK_MSG(s.loads_from_disk == 1 && s.cache_rejects == 0 && warnings == 0, "%s replaced: disk %u, rejects %u",
              name, s.loads_from_disk, s.cache_rejects);
}

static void test_entries_others_could_write(void)
{
    check_entry_refused("writable", make_writable);
    check_entry_refused("symlink", make_symlink);
    struct passwd *pw = getpwnam("nobody");
    if (geteuid() != 0 || !pw) {
        fprintf(stderr, "note: not root (or no user nobody): entries of another user not tried\n");
        return;
    }
    nobody_uid = pw->pw_uid;
    check_entry_refused("nobody", give_to_nobody);
}

/* XXH3-128 against xxhsum -H2's values ("" and "abc"), in canonical order. */
static void test_hash128_vectors(void)
{
    static const struct { const char *msg, *hex; } v[] = {
        {"", "99aa06d3014798d86001c324468d497f"}, {"abc", "06b05ab6733a618578af5f94892f3950"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unsigned char out[16];
        char hex[33];
        aecl_hash128(v[i].msg, strlen(v[i].msg), out);
        for (int j = 0; j < 16; j++) snprintf(hex + 2 * j, 3, "%02x", out[j]);
        CHECK_MSG(!strcmp(hex, v[i].hex), "\"%s\": %s", v[i].msg, hex);
    }
}

/* Cuts an entry's payload to a third and fixes its length field, as a crash or a
 * careless tool might: everything but the payload's hash still fits. (The old
 * format's CRC, recomputed like this, let PoCL crash on the binary.) */
static void cut_payload(const char *path)
{
    FILE *f = fopen(path, "rb");
    static unsigned char buf[1 << 24];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    uint32_t klen;
    uint64_t plen;
    memcpy(&klen, buf + 8, 4);
    size_t at = 12 + (size_t)klen;
    memcpy(&plen, buf + at, 8);
    CHECK_MSG(n > at + 24 && plen == n - at - 24, "%s: an AECLBIN3 entry", path);
    plen /= 3;
    memcpy(buf + at, &plen, 8);
    f = fopen(path, "wb");
    CHECK(f && fwrite(buf, 1, at + 24 + plen, f) == at + 24 + plen);
    if (f) fclose(f);
}

static void test_cut_payload(void)
{
    char dir[300];
    use_cache("cut", dir, sizeof dir);
    fill_cache();
    CHECK(each_entry(dir, cut_payload) == 1);
    int warnings = -1;
    aecl_program_stats s = run_selftest(0, &warnings);
    CHECK_MSG(s.loads_from_disk == 0 && s.builds_from_source == 1 && s.cache_rejects == 1 && warnings == 0,
              "disk %u, source %u, rejects %u, warnings %d", s.loads_from_disk, s.builds_from_source, s.cache_rejects,
              warnings);
    s = run_selftest(0, NULL);
    CHECK(s.loads_from_disk == 1 && s.cache_rejects == 0);
}

static char entry_key[8192];

/* Keeps the key text stored in the entry at path (in entry_key). */
static void read_key(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[12];
    uint32_t klen = 0;
    if (f && fread(head, 1, 12, f) == 12) memcpy(&klen, head + 8, 4);
    int ok = f && klen < sizeof entry_key && fread(entry_key, 1, klen, f) == klen;
    CHECK_MSG(ok, "key of %s", path);
    entry_key[ok ? klen : 0] = 0;
    if (f) fclose(f);
}

/* The binary of a valid program that is not selftest.cl (malloc'd). */
static unsigned char *other_binary(size_t *len)
{
    aecl_ctx *ctx;
    cl_program p;
    unsigned char *bin = NULL;
    *len = 0;
    CHECK_OK(NULL, aecl_ctx_create(NULL, &ctx));
    if (!ctx) return NULL;
    if (aecl_program_from_text(ctx, "other", "__kernel void other(__global float *x) { x[0] = 1.0f; }\n", &p) ==
            AECL_OK &&
        clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof *len, len, NULL) == CL_SUCCESS && *len &&
        (bin = malloc(*len)) && clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS) {
        free(bin);
        bin = NULL;
    }
    aecl_ctx_free(ctx);
    CHECK(bin != NULL);
    return bin;
}

/* Another program's valid binary stored under selftest.cl's key, with the right
 * key text and hash: the driver takes it, but it has no selftest_axpb. Creating
 * that kernel fails, so the program is rebuilt from source and the entry replaced;
 * the run works. */
static void test_other_programs_binary(void)
{
    char dir[300];
    use_cache("other", dir, sizeof dir);
    fill_cache();
    CHECK(each_entry(dir, read_key) == 1);
    size_t len;
    unsigned char *bin = other_binary(&len);
    aecl_bincache c;
    aecl_bincache_init(&c);
    CHECK(bin && aecl_bincache_write(NULL, &c, entry_key, bin, len));
    free(bin);
    aecl_program_stats s = run_selftest(0, NULL);
    CHECK_MSG(s.builds_from_source == 1 && s.cache_rejects == 1, "source %u, rejects %u", s.builds_from_source,
              s.cache_rejects);
    s = run_selftest(0, NULL);
    CHECK(s.loads_from_disk == 1 && s.builds_from_source == 0 && s.cache_rejects == 0);
}

/* A cache path too long for the library is refused with a message, not cut short
 * into another folder. */
static void test_path_too_long(void)
{
    char dir[1400], part[221];
    memset(part, 'd', 220);
    part[220] = 0;
    snprintf(dir, sizeof dir, "%s/%s/%s/%s/%s/%s", root, part, part, part, part, part);
    setenv("AECL_CACHE_DIR", dir, 1);
    int warnings = -1;
    aecl_program_stats s = run_selftest(0, &warnings);
    CHECK_MSG(s.builds_from_source == 1 && s.loads_from_disk == 0 && warnings == 1, "source %u, disk %u, warnings %d",
              s.builds_from_source, s.loads_from_disk, warnings);
    char first[500];
    snprintf(first, sizeof first, "%s/%s", root, part);
    struct stat sb;
    CHECK_MSG(stat(first, &sb) != 0, "%s was made", first);
}

int main(void)
{
    /* aecl writes no entries for PoCL while PoCL caches its own builds. */
    setenv("POCL_KERNEL_CACHE", "0", 1);
    snprintf(root, sizeof root, "/tmp/aecl-test-bincache-XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    test_hash128_vectors();
    test_cut_payload();
    test_other_programs_binary();
    test_folder_others_can_write();
    test_entries_others_could_write();
    test_path_too_long();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return test_finish();
}

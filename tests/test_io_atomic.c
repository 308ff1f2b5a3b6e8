/* The atomic file writer every io writer uses (lib/base/atomic.h): regular
 * files replaced in one step, symbolic links written through to their target,
 * devices and FIFOs written in place, "-" and /dev/stdout as standard output,
 * folders, sockets and block devices refused, a folder that takes no file
 * refused before anything is written. */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "io/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Files in folder `dir` whose name starts with '.' (temp files left behind). */
static int temps_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static int leftover_temps(void) { return temps_in(test_tmpdir); }

static int is_type(const char *path, mode_t type, int follow)
{
    struct stat sb;
    int r = follow ? stat(path, &sb) : lstat(path, &sb);
    return r == 0 && (sb.st_mode & S_IFMT) == type;
}

/* ---- regular files --------------------------------------------------------- */

static void test_regular(void)
{
    char buf[256];
    const char *p = test_path("a.txt");
    struct stat sb;
    CHECK_OK(NULL, aecl_write_file_atomic(NULL, p, "first", 5));
    CHECK(test_read_file(p, buf, sizeof buf) == 5 && strcmp(buf, "first") == 0);
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0644);

    /* Streaming: the target keeps its old content until commit. */
    chmod(p, 0600);
    aecl_atomic_file f;
    CHECK_OK(NULL, aecl_atomic_open(NULL, p, &f));
    CHECK_OK(NULL, aecl_atomic_write(NULL, &f, "sec", 3));
    CHECK_OK(NULL, aecl_atomic_printf(NULL, &f, "ond %d", 2));
    CHECK(test_read_file(p, buf, sizeof buf) == 5 && strcmp(buf, "first") == 0);
    CHECK(leftover_temps() == 1);
    CHECK_OK(NULL, aecl_atomic_commit(NULL, &f));
    CHECK(test_read_file(p, buf, sizeof buf) == 8 && strcmp(buf, "second 2") == 0);
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);   /* mode kept */
    CHECK(leftover_temps() == 0);
    CHECK_FAIL(aecl_atomic_write(NULL, &f, "x", 1), AECL_ERR_STATE, "not open");
    aecl_atomic_abort(&f);   /* harmless after commit */

    /* Abort: old file untouched, temp file gone. */
    CHECK_OK(NULL, aecl_atomic_open(NULL, p, &f));
    CHECK_OK(NULL, aecl_atomic_write(NULL, &f, "garbage", 7));
    aecl_atomic_abort(&f);
    aecl_atomic_abort(&f);
    aecl_atomic_abort(NULL);
    CHECK(test_read_file(p, buf, sizeof buf) == 8 && strcmp(buf, "second 2") == 0);
    CHECK(leftover_temps() == 0);

    /* A failed write makes commit refuse: old file untouched, temp removed. */
    CHECK_OK(NULL, aecl_atomic_open(NULL, p, &f));
    CHECK_OK(NULL, aecl_atomic_write(NULL, &f, "partial", 7));
    f.failed = 1;   /* as after a disk-full error */
    CHECK_FAIL(aecl_atomic_commit(NULL, &f), AECL_ERR_IO, "an earlier write failed");
    CHECK(test_read_file(p, buf, sizeof buf) == 8 && strcmp(buf, "second 2") == 0);
    CHECK(leftover_temps() == 0 && f.fp == NULL);

    /* The up-front check: nothing is written, a folder that takes no file is found
     * (by a probe: as root, access() passes on /proc). */
    CHECK_OK(NULL, aecl_io_check_writable(NULL, p));
    CHECK(test_read_file(p, buf, sizeof buf) == 8 && strcmp(buf, "second 2") == 0 && leftover_temps() == 0);
    CHECK_FAIL(aecl_io_check_writable(NULL, "/proc/aecl-test.bin"), AECL_ERR_IO, "folder '/proc'");
    CHECK_FAIL(aecl_io_check_writable(NULL, "out/"), AECL_ERR_INVALID_ARG, "names a folder");
    CHECK_FAIL(aecl_io_check_writable(NULL, ""), AECL_ERR_INVALID_ARG, "no name");

    /* No such folder; a path that names a folder. */
    char missing[1100];
    snprintf(missing, sizeof missing, "%s/no/such/file.bin", test_tmpdir);
    CHECK_FAIL(aecl_write_file_atomic(NULL, missing, "x", 1), AECL_ERR_IO, "no/such/file.bin");
    CHECK_FAIL(aecl_atomic_open(NULL, "somewhere/", &f), AECL_ERR_INVALID_ARG, "names a folder");
    CHECK(f.fp == NULL && f.path == NULL);

    /* Relative path in the current folder; a file named "-" is "./-". */
    char cwd[1024];
    if (getcwd(cwd, sizeof cwd) && chdir(test_tmpdir) == 0) {
        CHECK_OK(NULL, aecl_write_file_atomic(NULL, "rel.bin", "rel", 3));
        CHECK(test_read_file("rel.bin", buf, sizeof buf) == 3);
        CHECK_OK(NULL, aecl_write_file_atomic(NULL, "./-", "dash", 4));
        CHECK(test_read_file("-", buf, sizeof buf) == 4 && is_type("-", S_IFREG, 0));
        unlink("-");
        CHECK(leftover_temps() == 0);
        CHECK(chdir(cwd) == 0);
    }
}

/* Temp files that a killed writer left: those of this target, ours and older
 * than an hour go when it is written again; a fresh one (a writer at work),
 * another target's and a folder of the same name stay. */
static void test_stale_temps(void)
{
    const char *p = test_path("a.txt");
    const char *stale = test_path(".a.txt.tmp-Ab12Cd"), *fresh = test_path(".a.txt.tmp-Ef34Gh");
    const char *other = test_path(".b.txt.tmp-Ij56Kl"), *sub = test_path(".a.txt.tmp-Mn78Op");
    test_write_file(stale, "x", 1);
    test_write_file(fresh, "x", 1);
    test_write_file(other, "x", 1);
    mkdir(sub, 0755);
    struct timespec two_hours_ago[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
    CHECK(utimensat(AT_FDCWD, stale, two_hours_ago, 0) == 0 && utimensat(AT_FDCWD, other, two_hours_ago, 0) == 0);
    CHECK(utimensat(AT_FDCWD, sub, two_hours_ago, 0) == 0);
    CHECK_OK(NULL, aecl_write_file_atomic(NULL, p, "third", 5));
    CHECK(access(stale, F_OK) != 0);
    CHECK(access(fresh, F_OK) == 0 && access(other, F_OK) == 0 && access(sub, F_OK) == 0);
    unlink(fresh);
    unlink(other);
    rmdir(sub);
    CHECK(leftover_temps() == 0);
}

/* ---- symbolic links: written through, atomically at the target -------------- */

static void test_links(void)
{
    char buf[256], dir[1100], target[1100], inner[1100];
    snprintf(dir, sizeof dir, "%s/data", test_tmpdir);
    snprintf(target, sizeof target, "%s/data/t.csv", test_tmpdir);
    CHECK(mkdir(dir, 0755) == 0);
    test_write_text(target, "old");
    chmod(target, 0640);

    /* A relative link in another folder: the target gets the data (its mode
     * kept), the link stays a link, no temp file is left in either folder. */
    const char *link = test_path("link.csv");
    CHECK(symlink("data/t.csv", link) == 0);
    CHECK_OK(NULL, aecl_io_check_writable(NULL, link));
    aecl_atomic_file f;
    CHECK_OK(NULL, aecl_atomic_open(NULL, link, &f));
    CHECK(temps_in(dir) == 1 && leftover_temps() == 0);   /* the temp file is beside the target */
    CHECK_OK(NULL, aecl_atomic_write(NULL, &f, "new", 3));
    CHECK(test_read_file(target, buf, sizeof buf) == 3 && strcmp(buf, "old") == 0);
    CHECK_OK(NULL, aecl_atomic_commit(NULL, &f));
    CHECK(test_read_file(target, buf, sizeof buf) == 3 && strcmp(buf, "new") == 0);
    CHECK(is_type(link, S_IFLNK, 0) && is_type(target, S_IFREG, 0));
    struct stat sb;
    CHECK(stat(target, &sb) == 0 && (sb.st_mode & 0777) == 0640);
    CHECK(temps_in(dir) == 0 && leftover_temps() == 0);

    /* A chain of links (absolute, then relative) ends at the same file. */
    const char *chain = test_path("chain.csv");
    CHECK(symlink(link, chain) == 0);
    CHECK_OK(NULL, aecl_write_file_atomic(NULL, chain, "chained", 7));
    CHECK(test_read_file(target, buf, sizeof buf) == 7 && strcmp(buf, "chained") == 0);
    CHECK(is_type(chain, S_IFLNK, 0) && is_type(link, S_IFLNK, 0));

    /* A dangling link whose target's folder exists creates the target (as a
     * shell's `>` does); one into a missing folder fails naming that folder. */
    const char *dangling = test_path("dangling.csv");
    snprintf(inner, sizeof inner, "%s/data/new.csv", test_tmpdir);
    CHECK(symlink(inner, dangling) == 0);
    CHECK_OK(NULL, aecl_io_check_writable(NULL, dangling));
    CHECK(access(inner, F_OK) != 0);   /* the check creates nothing */
    CHECK_OK(NULL, aecl_write_file_atomic(NULL, dangling, "made", 4));
    CHECK(test_read_file(inner, buf, sizeof buf) == 4 && strcmp(buf, "made") == 0 && is_type(dangling, S_IFLNK, 0));
    CHECK(stat(inner, &sb) == 0 && (sb.st_mode & 0777) == 0644);
    unlink(inner);
    const char *nowhere = test_path("nowhere.csv");
    CHECK(symlink("no/such/folder/x.csv", nowhere) == 0);
    CHECK_FAIL(aecl_io_check_writable(NULL, nowhere), AECL_ERR_IO, "folder '");
    CHECK(test_msg_has("no/such/folder' does not exist") && test_msg_has("(the target of '"));
    CHECK_FAIL(aecl_write_file_atomic(NULL, nowhere, "x", 1), AECL_ERR_IO, "no/such/folder");
    CHECK(is_type(nowhere, S_IFLNK, 0));

    /* A link to a folder is refused, naming both; so is a loop. */
    const char *to_dir = test_path("to_dir");
    CHECK(symlink("data", to_dir) == 0);
    CHECK_FAIL(aecl_write_file_atomic(NULL, to_dir, "x", 1), AECL_ERR_INVALID_ARG, "which is a folder");
    CHECK(test_msg_has("to_dir") && test_msg_has("a symbolic link to"));
    CHECK_FAIL(aecl_io_check_writable(NULL, to_dir), AECL_ERR_INVALID_ARG, "which is a folder");
    CHECK(is_type(to_dir, S_IFLNK, 0) && is_type(dir, S_IFDIR, 0) && temps_in(dir) == 0);
    const char *loop_a = test_path("loop_a"), *loop_b = test_path("loop_b");
    CHECK(symlink("loop_b", loop_a) == 0 && symlink("loop_a", loop_b) == 0);
    CHECK_FAIL(aecl_write_file_atomic(NULL, loop_a, "x", 1), AECL_ERR_IO, "symbolic link");
    CHECK(is_type(loop_a, S_IFLNK, 0));

    unlink(loop_a);
    unlink(loop_b);
    unlink(to_dir);
    unlink(nowhere);
    unlink(dangling);
    unlink(chain);
    unlink(link);
    unlink(target);
    rmdir(dir);
    CHECK(leftover_temps() == 0);
}

/* ---- devices, FIFOs, standard output: written in place ------------------------ */

/* Temp files of /dev/null (the old writer made one and renamed it over the device). */
static int null_temps(void)
{
    DIR *d = opendir("/dev");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) n += strncmp(e->d_name, ".null.tmp-", 10) == 0;
    if (d) closedir(d);
    return n;
}

static void test_dev_null(void)
{
    aecl_atomic_file f;
    CHECK_OK(NULL, aecl_io_check_writable(NULL, "/dev/null"));
    CHECK_OK(NULL, aecl_write_file_atomic(NULL, "/dev/null", "abc", 3));
    CHECK(is_type("/dev/null", S_IFCHR, 0));
    CHECK(null_temps() == 0);
    /* A link to it (as /dev/stdout links to a descriptor) is written in place too. */
    const char *link = test_path("null_link");
    CHECK(symlink("/dev/null", link) == 0);
    CHECK_OK(NULL, aecl_write_file_atomic(NULL, link, "abc", 3));
    CHECK(is_type("/dev/null", S_IFCHR, 0) && is_type(link, S_IFLNK, 0));
    unlink(link);
    /* A failed write still makes commit refuse; the device is left as it is. */
    CHECK_OK(NULL, aecl_atomic_open(NULL, "/dev/null", &f));
    CHECK(f.tmp_path == NULL && f.target == NULL);
    f.failed = 1;
    CHECK_FAIL(aecl_atomic_commit(NULL, &f), AECL_ERR_IO, "an earlier write failed");
    CHECK(f.fp == NULL && is_type("/dev/null", S_IFCHR, 0));
    CHECK_OK(NULL, aecl_atomic_open(NULL, "/dev/null", &f));
    aecl_atomic_abort(&f);
    CHECK(is_type("/dev/null", S_IFCHR, 0));
}

/* A child reads the FIFO to its end and sends back what it got through a pipe. */
static void test_fifo(void)
{
    const char *fifo = test_path("fifo");
    char buf[256];
    CHECK(mkfifo(fifo, 0644) == 0);
    CHECK_OK(NULL, aecl_io_check_writable(NULL, fifo));   /* no reader yet: must not wait */
    int back[2];
    CHECK(pipe(back) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(60);   /* never outlive a failed test */
        close(back[0]);
        FILE *r = fopen(fifo, "rb");
        size_t n = r ? fread(buf, 1, sizeof buf, r) : 0;
        if (r) fclose(r);
        _exit(write(back[1], buf, n) == (ssize_t)n ? 0 : 1);
    }
    close(back[1]);
    aecl_atomic_file f;
    aecl_status st = aecl_atomic_open(NULL, fifo, &f);   /* waits for the child to open it */
    CHECK_OK(NULL, st);
    if (st == AECL_OK) {
        CHECK_OK(NULL, aecl_atomic_printf(NULL, &f, "to the %s", "reader"));
        CHECK_OK(NULL, aecl_atomic_commit(NULL, &f));
    } else {
        /* Release the child: an O_RDWR open of a FIFO never waits, and its close
         * is the end of the data. */
        int w = open(fifo, O_RDWR);
        if (w >= 0) close(w);
    }
    ssize_t n = read(back[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    close(back[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(n == 13 && strcmp(buf, "to the reader") == 0, "the reader got '%s'", buf);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(is_type(fifo, S_IFIFO, 0) && leftover_temps() == 0);
    unlink(fifo);
}

/* "-" and /dev/stdout write to standard output, after what the program printed
 * before and before what it prints after; standard output stays open. */
static void test_stdout(void)
{
    char buf[256];
    const char *out = test_path("stdout.txt");
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(saved >= 0 && fd >= 0 && dup2(fd, STDOUT_FILENO) == STDOUT_FILENO);
    close(fd);
    printf("before\n");
    CHECK_OK(NULL, aecl_io_check_writable(NULL, "-"));
    CHECK_OK(NULL, aecl_write_file_atomic(NULL, "-", "dash\n", 5));
    CHECK_OK(NULL, aecl_io_check_writable(NULL, "/dev/stdout"));
    CHECK_OK(NULL, aecl_write_file_atomic(NULL, "/dev/stdout", "dev\n", 4));
    aecl_atomic_file f;
    CHECK_OK(NULL, aecl_atomic_open(NULL, "/dev/fd/1", &f));
    CHECK_OK(NULL, aecl_atomic_printf(NULL, &f, "fd %d\n", 1));
    CHECK_OK(NULL, aecl_atomic_commit(NULL, &f));
    printf("after\n");
    fflush(stdout);
    CHECK(dup2(saved, STDOUT_FILENO) == STDOUT_FILENO);
    close(saved);
    CHECK_MSG(test_read_file(out, buf, sizeof buf) == 27 && strcmp(buf, "before\ndash\ndev\nfd 1\nafter\n") == 0,
              "standard output got '%s'", buf);
    CHECK(is_type(out, S_IFREG, 0) && leftover_temps() == 0);
    unlink(out);

    /* A descriptor open for reading only is refused up front. */
    int rd = open("/dev/null", O_RDONLY);
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", rd);
    CHECK_FAIL(aecl_io_check_writable(NULL, fdpath), AECL_ERR_IO, "not open for writing");
    CHECK_FAIL(aecl_write_file_atomic(NULL, fdpath, "x", 1), AECL_ERR_IO, "not open for writing");
    close(rd);
}

/* ---- refused: folders, sockets ------------------------------------------------ */

static void test_refused(void)
{
    aecl_atomic_file f;
    struct stat sb;
    const char *dir = test_path("sub");
    mkdir(dir, 0755);
    char inner[1100];
    snprintf(inner, sizeof inner, "%s/x", dir);
    test_write_file(inner, "x", 1);
    CHECK_FAIL(aecl_atomic_open(NULL, dir, &f), AECL_ERR_INVALID_ARG, "it is a folder");
    CHECK(test_msg_has(dir));
    CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && access(inner, F_OK) == 0);
    CHECK(leftover_temps() == 0 && f.fp == NULL);
    CHECK_FAIL(aecl_io_check_writable(NULL, dir), AECL_ERR_INVALID_ARG, "it is a folder");
    unlink(inner);
    rmdir(dir);

    const char *sock = test_path("sock");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
    CHECK(s >= 0 && strlen(sock) < sizeof a.sun_path && bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK_FAIL(aecl_io_check_writable(NULL, sock), AECL_ERR_INVALID_ARG, "it is a socket");
    CHECK_FAIL(aecl_write_file_atomic(NULL, sock, "x", 1), AECL_ERR_INVALID_ARG, "it is a socket");
    CHECK(is_type(sock, S_IFSOCK, 0) && leftover_temps() == 0);
    close(s);
    unlink(sock);
}

/* ---- a folder that takes no file ------------------------------------------------
 * Root writes into a 0555 folder all the same, so the writer runs in a child
 * that drops to user nobody when it is root; the child sends back its statuses
 * and message through a pipe. */
typedef struct ro_result {
    int check_st, write_st;
    char msg[512];
} ro_result;

static void test_read_only_folder(void)
{
    char dir[1100], file[1100], buf[64];
    snprintf(dir, sizeof dir, "%s/ro", test_tmpdir);
    snprintf(file, sizeof file, "%s/ro/keep.csv", test_tmpdir);
    CHECK(mkdir(dir, 0755) == 0);
    test_write_text(file, "kept");
    CHECK(chmod(dir, 0555) == 0 && chmod(test_tmpdir, 0755) == 0);
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        ro_result r = {0, 0, ""};
        close(p[0]);
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
        r.check_st = aecl_io_check_writable(NULL, file);
        snprintf(r.msg, sizeof r.msg, "%s", aecl_ctx_last_error(NULL));
        r.write_st = aecl_write_file_atomic(NULL, file, "lost", 4);
        _exit(write(p[1], &r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
    }
    close(p[1]);
    ro_result r;
    ssize_t n = read(p[0], &r, sizeof r);
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
        printf("read-only folder: skipped (root that cannot become nobody)\n");
    } else {
        CHECK(n == (ssize_t)sizeof r);
        CHECK_MSG(r.check_st == AECL_ERR_IO && strstr(r.msg, file) && strstr(r.msg, "Permission denied"),
                  "status %d, message '%s'", r.check_st, r.msg);
        CHECK(r.write_st == AECL_ERR_IO);
    }
    CHECK(test_read_file(file, buf, sizeof buf) == 4 && strcmp(buf, "kept") == 0 && temps_in(dir) == 0);
    chmod(dir, 0755);
    unlink(file);
    rmdir(dir);
}

/* Which paths are streams: no file of that name on disk, so a name check (.png)
 * does not apply to them. */
static void test_is_stream(void)
{
    const char *fifo = test_path("s_fifo"), *link = test_path("s_link"), *reg = test_path("s_reg.png");
    CHECK(mkfifo(fifo, 0644) == 0 && symlink("/dev/null", link) == 0);
    test_write_text(reg, "x");
    CHECK(aecl_io_is_stream("-") && aecl_io_is_stream("/dev/null") && aecl_io_is_stream("/dev/stdout"));
    CHECK(aecl_io_is_stream(fifo) && aecl_io_is_stream(link));
    CHECK(!aecl_io_is_stream(reg) && !aecl_io_is_stream(test_path("absent.png")) && !aecl_io_is_stream(test_tmpdir));
    CHECK(!aecl_io_is_stream(NULL) && !aecl_io_is_stream("") && !aecl_io_is_stream("./-"));
    CHECK(is_type(fifo, S_IFIFO, 0));   /* not opened: no reader was waited for */
    unlink(fifo);
    unlink(link);
    unlink(reg);
}

static void test_f32le(void)
{
    char buf[64];
    const float v[2] = {1.0f, -2.0f};
    aecl_atomic_file f;
    CHECK_OK(NULL, aecl_atomic_open(NULL, test_path("f.bin"), &f));
    CHECK_OK(NULL, aecl_atomic_write_f32le(NULL, &f, v, 2));
    CHECK_OK(NULL, aecl_atomic_commit(NULL, &f));
    CHECK(test_read_file(test_path("f.bin"), buf, sizeof buf) == 8 &&
          memcmp(buf, "\x00\x00\x80\x3f\x00\x00\x00\xc0", 8) == 0);
}

int main(void)
{
    test_tmp_setup("io_atomic");
    test_regular();
    test_stale_temps();
    test_links();
    test_dev_null();
    test_fifo();
    test_stdout();
    test_refused();
    test_read_only_folder();
    test_is_stream();
    test_f32le();
    test_tmp_cleanup();
    return test_finish();
}

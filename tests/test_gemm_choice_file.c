/* The GEMM choice file under concurrent writers: several processes and several
 * threads each add their own decisions to one file at the same time, and every
 * decision must be there at the end (a read-modify-rename without the lock loses
 * some). Also: a line is replaced, not duplicated, and the device fields are
 * matched with their tabs made spaces. No device needed. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "ops/gemm_choice_file.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { PROCS = 6, THREADS = 4, EACH = 12 };

static char file[600];

/* Writer w's i-th decision: a key of its own, a path that depends on both. */
static aecl_gemm_choice_line line_of(int w, int i)
{
    aecl_gemm_choice_line l = {"test device", "drv 1.0", {100 * (w + 1) + i, 7, 9, i & 1, 0, w & 1},
                               (w + i) % 2 ? AECL_GEMM_CLBLAST : AECL_GEMM_OWN, 10.0 + i, 20.0 + w};
    return l;
}

static int add_all(int w)
{
    int failures = 0;
    for (int i = 0; i < EACH; i++) {
        aecl_gemm_choice_line l = line_of(w, i);
        failures += aecl_gemm_choice_file_add(NULL, file, &l) != AECL_OK;
    }
    return failures;
}

static void *thread_main(void *arg)
{
    int *w = arg;
    *w = add_all(*w);   /* the writer's number in, its failures out */
    return NULL;
}

/* Every writer's decisions are in the file, each with its own path. */
static int count_missing(int writers)
{
    int missing = 0;
    for (int w = 0; w < writers; w++)
        for (int i = 0; i < EACH; i++) {
            aecl_gemm_choice_line l = line_of(w, i);
            aecl_gemm_path p;
            if (!aecl_gemm_choice_file_find(file, l.device, l.driver, &l.key, &p) || p != l.path) missing++;
        }
    return missing;
}

static void test_processes(void)
{
    pid_t pid[PROCS];
    fflush(NULL);
    for (int w = 0; w < PROCS; w++) {
        pid[w] = fork();
        if (pid[w] == 0) _exit(add_all(w) ? 1 : 0);
        CHECK(pid[w] > 0);
    }
    for (int w = 0; w < PROCS; w++) {
        int status = 0;
        if (pid[w] > 0) CHECK(waitpid(pid[w], &status, 0) == pid[w] && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    int missing = count_missing(PROCS);
    CHECK_MSG(missing == 0, "%d of %d decisions from %d processes lost", missing, PROCS * EACH, PROCS);
}

/* Threads of one process: the file lock alone would not order them. */
static void test_threads(void)
{
    pthread_t t[THREADS];
    int arg[THREADS];
    for (int k = 0; k < THREADS; k++) {
        arg[k] = PROCS + k;
        CHECK(pthread_create(&t[k], NULL, thread_main, &arg[k]) == 0);
    }
    for (int k = 0; k < THREADS; k++) {
        pthread_join(t[k], NULL);
        CHECK(arg[k] == 0);
    }
    int missing = count_missing(PROCS + THREADS);
    CHECK_MSG(missing == 0, "%d of %d decisions lost after %d more threads", missing, (PROCS + THREADS) * EACH,
              THREADS);
}

static int count_lines(void)
{
    FILE *fp = fopen(file, "rb");
    int n = 0, c;
    while (fp && (c = fgetc(fp)) != EOF) n += c == '\n';
    if (fp) fclose(fp);
    return n;
}

static void test_replace(void)
{
    int before = count_lines();
    CHECK(before == 1 + (PROCS + THREADS) * EACH);
    aecl_gemm_choice_line l = line_of(0, 0);
    l.path = l.path == AECL_GEMM_OWN ? AECL_GEMM_CLBLAST : AECL_GEMM_OWN;
    CHECK(aecl_gemm_choice_file_add(NULL, file, &l) == AECL_OK);
    aecl_gemm_path p;
    CHECK(aecl_gemm_choice_file_find(file, l.device, l.driver, &l.key, &p) && p == l.path);
    CHECK(count_lines() == before);
    /* A tab in the device name is written as a space, and found either way. */
    aecl_gemm_choice_line t = line_of(0, 1);
    t.device = "tab\tdevice";
    CHECK(aecl_gemm_choice_file_add(NULL, file, &t) == AECL_OK);
    CHECK(aecl_gemm_choice_file_find(file, "tab\tdevice", t.driver, &t.key, &p) && p == t.path);
    CHECK(aecl_gemm_choice_file_find(file, "tab device", t.driver, &t.key, &p) && p == t.path);
    CHECK(count_lines() == before + 1);
}

int main(void)
{
    test_tmp_setup("gemm_choice_file");
    snprintf(file, sizeof file, "%s", test_path(AECL_GEMM_CHOICE_FILE));
    test_processes();
    test_threads();
    test_replace();
    test_tmp_cleanup();
    return test_finish();
}

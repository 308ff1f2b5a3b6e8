/* A communicator of threads (comm_threads.h). */
#include "nn/comm_threads.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct member {
    aecl_comm_threads *t;
    int rank;
} member;

struct aecl_comm_threads {
    int size;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived, gen, broken;
    void **ptr;               /* each rank's buffer of the current collective */
    member *members;
    aecl_comm *comms;
};

/* 0 when every rank arrived; 1 when the communicator broke. */
static int barrier(aecl_comm_threads *t)
{
    pthread_mutex_lock(&t->mu);
    int g = t->gen, broken = t->broken;
    if (!broken && ++t->arrived == t->size) {
        t->arrived = 0;
        t->gen++;
        pthread_cond_broadcast(&t->cv);
    } else {
        while (!broken && t->gen == g) {
            pthread_cond_wait(&t->cv, &t->mu);
            broken = t->broken && t->gen == g;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return broken;
}

void aecl_comm_threads_break(aecl_comm_threads *t)
{
    pthread_mutex_lock(&t->mu);
    t->broken = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* data = the sum over ranks in rank order; the second barrier keeps every
 * buffer in place until all ranks have read it. */
#define ALLREDUCE(NAME, T)                                                       \
    static aecl_status NAME(void *user, T *data, size_t n)                       \
    {                                                                            \
        member *m = user;                                                        \
        aecl_comm_threads *t = m->t;                                             \
        t->ptr[m->rank] = data;                                                  \
        if (barrier(t)) return AECL_ERR_IO;                                      \
        T *sum = malloc((n ? n : 1) * sizeof *sum);                              \
        for (size_t i = 0; sum && i < n; i++) {                                  \
            T a = 0;                                                             \
            for (int k = 0; k < t->size; k++) a += ((const T *)t->ptr[k])[i];    \
            sum[i] = a;                                                          \
        }                                                                        \
        if (!sum) aecl_comm_threads_break(t);                                    \
        int broken = barrier(t);                                                 \
        if (sum && !broken) memcpy(data, sum, n * sizeof *sum);                  \
        free(sum);                                                               \
        return broken || !sum ? AECL_ERR_IO : AECL_OK;                           \
    }
ALLREDUCE(sum_f32, float)
ALLREDUCE(sum_f64, double)

static aecl_status bcast(void *user, void *data, size_t bytes, int root)
{
    member *m = user;
    aecl_comm_threads *t = m->t;
    t->ptr[m->rank] = data;
    if (barrier(t)) return AECL_ERR_IO;
    if (m->rank != root) memcpy(data, t->ptr[root], bytes);
    return barrier(t) ? AECL_ERR_IO : AECL_OK;
}

aecl_status aecl_comm_threads_create(int size, aecl_comm_threads **out)
{
    *out = NULL;
    if (size < 1) return AECL_ERR_INVALID_ARG;
    aecl_comm_threads *t = calloc(1, sizeof *t);
    if (!t) return AECL_ERR_HOST_MEMORY;
    t->size = size;
    t->ptr = calloc((size_t)size, sizeof *t->ptr);
    t->members = calloc((size_t)size, sizeof *t->members);
    t->comms = calloc((size_t)size, sizeof *t->comms);
    if (!t->ptr || !t->members || !t->comms) {
        free(t->ptr); free(t->members); free(t->comms); free(t);
        return AECL_ERR_HOST_MEMORY;
    }
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    for (int r = 0; r < size; r++) {
        t->members[r] = (member){t, r};
        t->comms[r] = (aecl_comm){.rank = r, .size = size, .allreduce_f32 = sum_f32, .allreduce_f64 = sum_f64,
                                  .broadcast = bcast, .user = &t->members[r]};
    }
    *out = t;
    return AECL_OK;
}

aecl_comm *aecl_comm_threads_rank(aecl_comm_threads *t, int rank) { return &t->comms[rank]; }

void aecl_comm_threads_free(aecl_comm_threads *t)
{
    if (!t) return;
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t->ptr);
    free(t->members);
    free(t->comms);
    free(t);
}

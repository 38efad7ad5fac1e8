/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The worker pool of the HTTP server (see work.h): a ring of jobs under a
 * mutex, workers waiting on a condition variable.
 */
#include "http/work.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define THREADS_MAX 16u
#define QUEUE_MAX 4096u

struct job {
    reel_http_work_fn *fn;
    void *arg;
};

struct reel_http_work {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *ring;
    size_t cap, head, n;
    bool stopping, joined;
    pthread_t threads[THREADS_MAX];
    unsigned nthreads;
};

static void *worker(void *opaque)
{
    struct reel_http_work *w = opaque;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->n == 0 && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->n == 0)
            break;  /* stopping and drained */
        struct job j = w->ring[w->head];
        w->head = (w->head + 1) % w->cap;
        w->n--;
        pthread_mutex_unlock(&w->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int reel_http_work_new(struct reel_http_work **ret, unsigned nthreads, size_t queue_max)
{
    if (nthreads < 1 || nthreads > THREADS_MAX || queue_max < 1 || queue_max > QUEUE_MAX)
        return -EINVAL;
    struct reel_http_work *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->ring = calloc(queue_max, sizeof(*w->ring));
    if (!w->ring) {
        free(w);
        return -ENOMEM;
    }
    w->cap = queue_max;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    for (unsigned i = 0; i < nthreads; i++) {
        int e = pthread_create(&w->threads[i], NULL, worker, w);
        if (e != 0) {
            reel_http_work_free(w);
            return -e;
        }
        w->nthreads++;
    }
    *ret = w;
    return 0;
}

int reel_http_work_submit(struct reel_http_work *w, reel_http_work_fn *fn, void *arg)
{
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    if (w->stopping)
        rc = -ESHUTDOWN;
    else if (w->n >= w->cap)
        rc = -EAGAIN;
    else {
        w->ring[(w->head + w->n) % w->cap] = (struct job){ fn, arg };
        w->n++;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

size_t reel_http_work_queued(struct reel_http_work *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->n;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void reel_http_work_stop(struct reel_http_work *w)
{
    if (!w || w->joined)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    w->joined = true;
}

void reel_http_work_free(struct reel_http_work *w)
{
    if (!w)
        return;
    reel_http_work_stop(w);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->ring);
    free(w);
}

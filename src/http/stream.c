/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Endless responses (see stream.h): one epoll set, one thread.
 *
 * A waiter is armed (EPOLLONESHOT) only while its connection is suspended,
 * under mu, and disarmed under mu by exactly one resume: so a connection
 * is resumed once per suspension and never after its response is freed
 * (forget unlinks it under mu; the thread checks membership under mu
 * before it touches an event's waiter).
 */
#include "http/stream.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define KEYS_MAX 1024

struct key_count {
    int64_t key;
    unsigned n;
};

struct reel_http_streams {
    pthread_mutex_t mu;
    int ep;
    pthread_t thread;
    bool started, stopping;
    struct reel_http_stream_waiter *list;
    unsigned max_all, max_per_key, n_all;
    struct key_count keys[KEYS_MAX];
    size_t nkeys;
};

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static bool listed(struct reel_http_streams *s, const struct reel_http_stream_waiter *w)
{
    for (struct reel_http_stream_waiter *p = s->list; p; p = p->next)
        if (p == w)
            return true;
    return false;
}

/* mu held. */
static void wake(struct reel_http_stream_waiter *w)
{
    if (!w->armed)
        return;
    w->armed = false;
    MHD_resume_connection(w->conn);
}

static void *run(void *arg)
{
    struct reel_http_streams *s = arg;
    struct epoll_event ev[32];
    for (;;) {
        int n = epoll_wait(s->ep, ev, 32, 500);
        pthread_mutex_lock(&s->mu);
        if (s->stopping) {
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            struct reel_http_stream_waiter *w = ev[i].data.ptr;
            if (listed(s, w))
                wake(w);
        }
        int64_t now = mono_ns();
        for (struct reel_http_stream_waiter *w = s->list; w; w = w->next)
            if (w->armed && now - w->armed_ns > (int64_t)REEL_HTTP_STREAM_POKE_S * 1000000000)
                wake(w);
        pthread_mutex_unlock(&s->mu);
    }
}

int reel_http_streams_new(struct reel_http_streams **ret, unsigned max_all, unsigned max_per_key)
{
    struct reel_http_streams *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->ep < 0) {
        int e = errno;
        free(s);
        return -e;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->max_all = max_all;
    s->max_per_key = max_per_key;
    int r = pthread_create(&s->thread, NULL, run, s);
    if (r != 0) {
        close(s->ep);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return -r;
    }
    s->started = true;
    *ret = s;
    return 0;
}

void reel_http_streams_stop(struct reel_http_streams *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    bool join = s->started && !s->stopping;
    s->stopping = true;
    for (struct reel_http_stream_waiter *w = s->list; w; w = w->next)
        wake(w);
    pthread_mutex_unlock(&s->mu);
    if (join)
        pthread_join(s->thread, NULL);
}

void reel_http_streams_free(struct reel_http_streams *s)
{
    if (!s)
        return;
    reel_http_streams_stop(s);
    close(s->ep);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int reel_http_streams_acquire(struct reel_http_streams *s, int64_t key)
{
    int r = -EBUSY;
    pthread_mutex_lock(&s->mu);
    size_t i = 0;
    while (i < s->nkeys && s->keys[i].key != key)
        i++;
    if (s->n_all < s->max_all && (i < s->nkeys ? s->keys[i].n < s->max_per_key : s->max_per_key > 0) &&
        (i < s->nkeys || s->nkeys < KEYS_MAX)) {
        if (i == s->nkeys)
            s->keys[s->nkeys++] = (struct key_count){ key, 0 };
        s->keys[i].n++;
        s->n_all++;
        r = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

void reel_http_streams_release(struct reel_http_streams *s, int64_t key)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].key == key) {
            s->n_all--;
            if (--s->keys[i].n == 0)
                s->keys[i] = s->keys[--s->nkeys];
            break;
        }
    pthread_mutex_unlock(&s->mu);
}

int reel_http_stream_wait(struct reel_http_streams *s, struct reel_http_stream_waiter *w)
{
    int r = 0;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        r = -ESHUTDOWN;
        goto out;
    }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = w };
    if (epoll_ctl(s->ep, w->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, w->fd, &ev) < 0) {
        r = -errno;
        goto out;
    }
    if (!w->added) {
        w->added = true;
        w->next = s->list;
        s->list = w;
    }
    MHD_suspend_connection(w->conn);
    w->armed = true;
    w->armed_ns = mono_ns();
out:
    pthread_mutex_unlock(&s->mu);
    return r;
}

void reel_http_stream_forget(struct reel_http_streams *s, struct reel_http_stream_waiter *w)
{
    pthread_mutex_lock(&s->mu);
    if (w->added) {
        epoll_ctl(s->ep, EPOLL_CTL_DEL, w->fd, NULL);
        for (struct reel_http_stream_waiter **p = &s->list; *p; p = &(*p)->next)
            if (*p == w) {
                *p = w->next;
                break;
            }
        w->added = false;
    }
    w->armed = false;
    pthread_mutex_unlock(&s->mu);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The resolver (see resolve.h): getaddrinfo() on detached worker threads,
 * results queued under a mutex and signalled through an eventfd that the
 * loop watches. The state the workers share (struct core) is reference
 * counted: the resolver holds one reference, each running worker one.
 */
#include "ingest/resolve.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

enum req_state { REQ_QUEUED, REQ_RUNNING, REQ_DONE };

struct core {
    pthread_mutex_t mu;
    int efd;
    unsigned refs;
    bool closed;
    unsigned running, max;
    struct reel_resolve_req *queue, *queue_tail;   /* waiting for a slot */
    struct reel_resolve_req *done, *done_tail;     /* results for the loop */
};

struct reel_resolve_req {
    struct core *core;
    enum req_state st;
    bool cancelled;
    char host[256];
    uint16_t port;
    void (*cb)(void *opaque, const struct reel_resolved *res);
    void *opaque;
    struct reel_resolved res;
    struct reel_resolve_req *next;
};

struct reel_resolver {
    struct reel_loop *loop;
    struct reel_io io;
    struct core *core;
};

static void core_unref_locked(struct core *c, bool *ret_freed)
{
    *ret_freed = --c->refs == 0;
}

static void core_free(struct core *c)
{
    pthread_mutex_destroy(&c->mu);
    close(c->efd);
    free(c);
}

static void list_push(struct reel_resolve_req **head, struct reel_resolve_req **tail, struct reel_resolve_req *q)
{
    q->next = NULL;
    if (*tail)
        (*tail)->next = q;
    else
        *head = q;
    *tail = q;
}

static bool list_remove(struct reel_resolve_req **head, struct reel_resolve_req **tail, struct reel_resolve_req *q)
{
    struct reel_resolve_req *prev = NULL;
    for (struct reel_resolve_req *x = *head; x; prev = x, x = x->next) {
        if (x != q)
            continue;
        if (prev)
            prev->next = x->next;
        else
            *head = x->next;
        if (*tail == x)
            *tail = prev;
        return true;
    }
    return false;
}

static void lookup(struct reel_resolve_req *q)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", q->port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(q->host, port, &hints, &ai);
    if (g == 0 && (!ai || ai->ai_addrlen > sizeof(q->res.addr)))
        g = EAI_FAIL;
    q->res.gai_error = g;
    if (g == 0) {
        memcpy(&q->res.addr, ai->ai_addr, ai->ai_addrlen);
        q->res.addr_len = ai->ai_addrlen;
    }
    if (ai)
        freeaddrinfo(ai);
}

/* With c->mu held: hands q's result to the loop (or drops it). */
static void finish_locked(struct core *c, struct reel_resolve_req *q)
{
    if (q->cancelled || c->closed) {
        free(q);
        return;
    }
    q->st = REQ_DONE;
    list_push(&c->done, &c->done_tail, q);
    uint64_t one = 1;
    ssize_t w = write(c->efd, &one, sizeof(one));
    (void)w;   /* the counter cannot overflow in practice; the loop drains it */
}

static void *worker(void *arg);

/* With c->mu held: starts queued lookups while slots are free. */
static void pump_locked(struct core *c)
{
    while (c->queue && c->running < c->max && !c->closed) {
        struct reel_resolve_req *q = c->queue;
        c->queue = q->next;
        if (!c->queue)
            c->queue_tail = NULL;
        q->st = REQ_RUNNING;
        c->running++;
        c->refs++;
        pthread_t t;
        pthread_attr_t at;
        int e = pthread_attr_init(&at);
        if (e == 0) {
            pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
            e = pthread_create(&t, &at, worker, q);
            pthread_attr_destroy(&at);
        }
        if (e != 0) {
            c->running--;
            c->refs--;
            q->res.gai_error = EAI_AGAIN;
            finish_locked(c, q);
        }
    }
}

static void *worker(void *arg)
{
    struct reel_resolve_req *q = arg;
    struct core *c = q->core;
    lookup(q);                       /* may block for a long time: no lock held */
    pthread_mutex_lock(&c->mu);
    c->running--;
    finish_locked(c, q);
    pump_locked(c);
    bool freed;
    core_unref_locked(c, &freed);
    pthread_mutex_unlock(&c->mu);
    if (freed)
        core_free(c);
    return NULL;
}

static void on_event(struct reel_io *io, uint32_t events)
{
    (void)events;
    struct reel_resolver *r = io->opaque;
    struct core *c = r->core;
    uint64_t v;
    ssize_t n = read(c->efd, &v, sizeof(v));
    (void)n;
    /* One at a time: a callback may cancel or start lookups. */
    for (;;) {
        pthread_mutex_lock(&c->mu);
        struct reel_resolve_req *q = c->done;
        if (q) {
            c->done = q->next;
            if (!c->done)
                c->done_tail = NULL;
        }
        pthread_mutex_unlock(&c->mu);
        if (!q)
            break;
        q->cb(q->opaque, &q->res);
        free(q);
    }
}

int reel_resolver_new(struct reel_resolver **ret, struct reel_loop *loop, unsigned max_threads)
{
    if (max_threads < 1 || max_threads > 64)
        return -EINVAL;
    struct reel_resolver *r = calloc(1, sizeof(*r));
    struct core *c = calloc(1, sizeof(*c));
    if (!r || !c) {
        free(r);
        free(c);
        return -ENOMEM;
    }
    c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->efd < 0) {
        int e = errno;
        free(r);
        free(c);
        return -e;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->refs = 1;
    c->max = max_threads;
    r->core = c;
    r->loop = loop;
    r->io.fd = c->efd;
    r->io.cb = on_event;
    r->io.opaque = r;
    int e = reel_loop_io_add(loop, &r->io, EPOLLIN);
    if (e < 0) {
        core_free(c);
        free(r);
        return e;
    }
    *ret = r;
    return 0;
}

void reel_resolver_free(struct reel_resolver *r)
{
    if (!r)
        return;
    struct core *c = r->core;
    reel_loop_io_del(r->loop, &r->io);
    pthread_mutex_lock(&c->mu);
    c->closed = true;
    struct reel_resolve_req *lists[2] = { c->queue, c->done };
    c->queue = c->queue_tail = c->done = c->done_tail = NULL;
    bool freed;
    core_unref_locked(c, &freed);
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < 2; i++)
        for (struct reel_resolve_req *q = lists[i], *nx; q; q = nx) {
            nx = q->next;
            free(q);
        }
    if (freed)
        core_free(c);
    free(r);
}

int reel_resolve_numeric(const char *host, uint16_t port, struct reel_resolved *ret)
{
    char p[8];
    snprintf(p, sizeof(p), "%u", port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host, p, &hints, &ai) != 0 || !ai)
        return -EAGAIN;
    if (ai->ai_addrlen > sizeof(ret->addr)) {
        freeaddrinfo(ai);
        return -EINVAL;
    }
    memset(ret, 0, sizeof(*ret));
    memcpy(&ret->addr, ai->ai_addr, ai->ai_addrlen);
    ret->addr_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int reel_resolve_start(struct reel_resolver *r, const char *host, uint16_t port,
                       void (*cb)(void *opaque, const struct reel_resolved *res), void *opaque,
                       struct reel_resolve_req **ret)
{
    struct reel_resolve_req *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    if (snprintf(q->host, sizeof(q->host), "%s", host) >= (int)sizeof(q->host) || !host[0]) {
        free(q);
        return -EINVAL;
    }
    q->core = r->core;
    q->port = port;
    q->cb = cb;
    q->opaque = opaque;
    q->st = REQ_QUEUED;
    struct core *c = r->core;
    pthread_mutex_lock(&c->mu);
    list_push(&c->queue, &c->queue_tail, q);
    pump_locked(c);
    pthread_mutex_unlock(&c->mu);
    *ret = q;
    return 0;
}

void reel_resolve_cancel(struct reel_resolve_req *q)
{
    if (!q)
        return;
    struct core *c = q->core;
    pthread_mutex_lock(&c->mu);
    bool do_free = false;
    if (q->st == REQ_QUEUED)
        do_free = list_remove(&c->queue, &c->queue_tail, q);
    else if (q->st == REQ_DONE)
        do_free = list_remove(&c->done, &c->done_tail, q);
    else
        q->cancelled = true;         /* the worker frees it when getaddrinfo returns */
    pthread_mutex_unlock(&c->mu);
    if (do_free)
        free(q);
}

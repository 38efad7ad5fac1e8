/* SPDX-License-Identifier: GPL-3.0-or-later
 * epoll + a binary min-heap of timers; see loop.h. */
#include "reel/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 512
#define DEFAULT_MAX_TIMERS (1u << 20)

struct reel_loop {
    int epfd;
    bool stop;
    const struct reel_clock *clock;
    struct reel_timer **heap;
    size_t nheap, aheap;
    int64_t coalesce_ns;
    size_t max_timers;
    /* The events of the epoll round being dispatched: reel_loop_io_del()
     * clears those of the descriptor it removes, so that a reel_io deleted
     * (and perhaps freed) by an earlier callback of the round is not called. */
    struct epoll_event *round;
    int round_next, round_n;
};

int reel_loop_new(struct reel_loop **ret, const struct reel_clock *clock)
{
    struct reel_loop *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->clock = clock ? clock : reel_clock_system();
    l->max_timers = DEFAULT_MAX_TIMERS;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        int e = errno;
        reel_loop_free(l);
        return -e;
    }
    *ret = l;
    return 0;
}

void reel_loop_free(struct reel_loop *l)
{
    if (!l)
        return;
    if (l->epfd >= 0)
        close(l->epfd);
    free(l->heap);
    free(l);
}

const struct reel_clock *reel_loop_clock(const struct reel_loop *l) { return l->clock; }
int64_t reel_loop_now(const struct reel_loop *l) { return reel_clock_mono(l->clock); }
void reel_loop_stop(struct reel_loop *l) { l->stop = true; }
void reel_loop_set_coalesce(struct reel_loop *l, int64_t ns)
{
    /* Only with the system clock: a test's simulated clock does not move
     * while the loop sleeps in real time. */
    l->coalesce_ns = ns > 0 && l->clock == reel_clock_system() ? ns : 0;
}

/* Sleeps (real time) until polled + coalesce_ns, or the next timer if sooner. */
static void coalesce_wait(struct reel_loop *l, int64_t polled)
{
    int64_t now = reel_loop_now(l);
    int64_t until = polled + l->coalesce_ns;
    if (l->nheap > 0 && l->heap[0]->deadline < until)
        until = l->heap[0]->deadline;
    int64_t d = until - now;
    if (d <= 0)
        return;
    if (d > l->coalesce_ns)
        d = l->coalesce_ns;
    struct timespec ts = { .tv_sec = d / REEL_NS_PER_SEC, .tv_nsec = d % REEL_NS_PER_SEC };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int reel_loop_io_add(struct reel_loop *l, struct reel_io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = io };
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0 ? -errno : 0;
}

int reel_loop_io_mod(struct reel_loop *l, struct reel_io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = io };
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

void reel_loop_io_del(struct reel_loop *l, struct reel_io *io)
{
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    for (int i = l->round_next; i < l->round_n; i++)
        if (l->round[i].data.ptr == io)
            l->round[i].data.ptr = NULL;
}

void reel_loop_set_max_timers(struct reel_loop *l, size_t n) { l->max_timers = n; }

void reel_timer_init(struct reel_timer *t, void (*cb)(struct reel_timer *t), void *opaque)
{
    t->deadline = 0;
    t->cb = cb;
    t->opaque = opaque;
    t->heap_idx = SIZE_MAX;
}

static void heap_swap(struct reel_loop *l, size_t a, size_t b)
{
    struct reel_timer *t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->heap_idx = a;
    l->heap[b]->heap_idx = b;
}

static void heap_up(struct reel_loop *l, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (l->heap[p]->deadline <= l->heap[i]->deadline)
            break;
        heap_swap(l, p, i);
        i = p;
    }
}

static void heap_down(struct reel_loop *l, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1, m = i;
        if (c < l->nheap && l->heap[c]->deadline < l->heap[m]->deadline)
            m = c;
        if (c + 1 < l->nheap && l->heap[c + 1]->deadline < l->heap[m]->deadline)
            m = c + 1;
        if (m == i)
            return;
        heap_swap(l, i, m);
        i = m;
    }
}

void reel_loop_timer_cancel(struct reel_loop *l, struct reel_timer *t)
{
    size_t i = t->heap_idx;
    if (i == SIZE_MAX)
        return;
    t->heap_idx = SIZE_MAX;
    l->nheap--;
    if (i == l->nheap)
        return;
    l->heap[i] = l->heap[l->nheap];
    l->heap[i]->heap_idx = i;
    heap_up(l, i);
    heap_down(l, l->heap[i]->heap_idx);
}

int reel_loop_timer_set(struct reel_loop *l, struct reel_timer *t, int64_t deadline)
{
    reel_loop_timer_cancel(l, t);
    if (l->nheap >= l->max_timers)
        return -ENOSPC;
    if (l->nheap == l->aheap) {
        size_t na = l->aheap ? l->aheap * 2 : 64;
        struct reel_timer **h = realloc(l->heap, na * sizeof(*h));
        if (!h)
            return -ENOMEM;
        l->heap = h;
        l->aheap = na;
    }
    t->deadline = deadline;
    t->heap_idx = l->nheap;
    l->heap[l->nheap++] = t;
    heap_up(l, t->heap_idx);
    return 0;
}

int reel_loop_run(struct reel_loop *l)
{
    struct epoll_event evs[MAX_EVENTS];
    l->stop = false;
    while (!l->stop) {
        int timeout = -1;
        int64_t now = reel_loop_now(l);
        if (l->nheap > 0) {
            int64_t d = l->heap[0]->deadline - now;
            int64_t ms = d <= 0 ? 0 : (d + 999999) / 1000000;
            timeout = ms > INT32_MAX / 2 ? INT32_MAX / 2 : (int)ms;
        }
        int n = epoll_wait(l->epfd, evs, MAX_EVENTS, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        int64_t polled = reel_loop_now(l);
        bool all_bulk = true;
        l->round = evs;
        l->round_n = n;
        for (int i = 0; i < n && !l->stop; i++) {
            l->round_next = i + 1;
            struct reel_io *io = evs[i].data.ptr;
            if (!io)
                continue;                 /* deleted by an earlier callback */
            if (!io->bulk)
                all_bulk = false;
            io->cb(io, evs[i].events);
        }
        l->round = NULL;
        l->round_n = l->round_next = 0;
        now = reel_loop_now(l);
        while (!l->stop && l->nheap > 0 && l->heap[0]->deadline <= now) {
            struct reel_timer *t = l->heap[0];
            reel_loop_timer_cancel(l, t);
            t->cb(t);
        }
        /* A full event array means more is ready: poll again at once. */
        if (l->coalesce_ns > 0 && n > 0 && n < MAX_EVENTS && all_bulk && !l->stop)
            coalesce_wait(l, polled);
    }
    return 0;
}

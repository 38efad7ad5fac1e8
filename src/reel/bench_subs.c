/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Benchmark subscribers (`reel run --bench-subscribers N`): N threads, each
 * subscribed to the access units of every camera the recorder runs at
 * start, reading every message as a live-view or upload consumer would
 * (waiting in epoll on the subscriptions' eventfds, touching each access
 * unit's first and last byte). They let bench/ measure what the hub costs
 * the recorder when it has readers; they are never started otherwise. At
 * the stop each thread's totals are logged.
 */
#include "reel/bench_subs.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define BENCH_SUBS_MAX 64
#define BENCH_CAMS_MAX 4096

struct bench_reader {
    struct reel_bench_subs *b;
    pthread_t thread;
    bool started;
    int ep;
    struct reel_hub_sub **subs;
    size_t nsubs;
    uint64_t aus, bytes, lost;
    unsigned sink;                      /* keeps the touched bytes alive */
};

struct reel_bench_subs {
    atomic_bool stop;
    int stop_fd;                        /* eventfd: wakes every reader */
    struct bench_reader *readers;
    unsigned nreaders;
};

static void drain(struct bench_reader *rd, struct reel_hub_sub *s)
{
    struct reel_hub_msg m;
    while (reel_hub_sub_read(s, &m, 0) == 0) {
        if (m.kind == REEL_HUB_AU) {
            rd->aus++;
            rd->bytes += m.au.len;
            rd->lost += m.lost;
            if (m.au.len)
                rd->sink += m.au.data[0] + m.au.data[m.au.len - 1];
        }
        reel_hub_msg_release(&m);
    }
}

static void *reader_main(void *arg)
{
    struct bench_reader *rd = arg;
    struct epoll_event ev[64];
    while (!atomic_load(&rd->b->stop)) {
        int n = epoll_wait(rd->ep, ev, 64, 1000);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == NULL)
                continue;                   /* the stop eventfd */
            drain(rd, ev[i].data.ptr);
        }
    }
    return NULL;
}

static void reader_free(struct bench_reader *rd)
{
    for (size_t i = 0; i < rd->nsubs; i++)
        reel_hub_unsubscribe(rd->subs[i]);
    free(rd->subs);
    if (rd->ep >= 0)
        close(rd->ep);
}

static int reader_init(struct bench_reader *rd, struct reel_hub *hub, const int64_t *ids, size_t n, int stop_fd)
{
    rd->ep = epoll_create1(EPOLL_CLOEXEC);
    if (rd->ep < 0)
        return -errno;
    struct epoll_event sev = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl(rd->ep, EPOLL_CTL_ADD, stop_fd, &sev) < 0)
        return -errno;
    rd->subs = calloc(n ? n : 1, sizeof(*rd->subs));
    if (!rd->subs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct reel_hub_sub_cfg sc = { .camera_id = ids[i], .kinds = REEL_HUB_AU };
        int r = reel_hub_subscribe(hub, &sc, &rd->subs[rd->nsubs]);
        if (r < 0)
            return r;
        struct reel_hub_sub *s = rd->subs[rd->nsubs++];
        int fd = reel_hub_sub_fd(s);
        if (fd < 0)
            return fd;
        struct epoll_event e = { .events = EPOLLIN, .data.ptr = s };
        if (epoll_ctl(rd->ep, EPOLL_CTL_ADD, fd, &e) < 0)
            return -errno;
    }
    return 0;
}

int reel_bench_subs_start(struct reel_bench_subs **ret, struct reel_hub *hub, unsigned nreaders)
{
    if (nreaders == 0 || nreaders > BENCH_SUBS_MAX)
        return -EINVAL;
    struct reel_hub_state *st = NULL;
    size_t n = 0;
    int r = reel_hub_status_list(hub, &st, &n);
    if (r < 0)
        return r;
    if (n > BENCH_CAMS_MAX)
        n = BENCH_CAMS_MAX;
    int64_t *ids = calloc(n ? n : 1, sizeof(*ids));
    struct reel_bench_subs *b = calloc(1, sizeof(*b));
    if (!ids || !b) {
        free(st);
        free(ids);
        free(b);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = st[i].camera_id;
    free(st);
    atomic_init(&b->stop, false);
    b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    b->readers = calloc(nreaders, sizeof(*b->readers));
    r = b->stop_fd < 0 ? -errno : b->readers ? 0 : -ENOMEM;
    for (unsigned i = 0; r == 0 && i < nreaders; i++) {
        struct bench_reader *rd = &b->readers[i];
        rd->b = b;
        rd->ep = -1;
        b->nreaders++;
        r = reader_init(rd, hub, ids, n, b->stop_fd);
        if (r == 0) {
            r = -pthread_create(&rd->thread, NULL, reader_main, rd);
            rd->started = r == 0;
        }
    }
    free(ids);
    if (r < 0) {
        reel_bench_subs_stop(b, NULL);
        return r;
    }
    *ret = b;
    return 0;
}

void reel_bench_subs_stop(struct reel_bench_subs *b, const struct reel_logger *log)
{
    if (!b)
        return;
    atomic_store(&b->stop, true);
    if (b->stop_fd >= 0) {
        uint64_t one = 1;
        ssize_t w = write(b->stop_fd, &one, sizeof(one));
        (void)w;
    }
    for (unsigned i = 0; i < b->nreaders; i++) {
        struct bench_reader *rd = &b->readers[i];
        if (rd->started)
            pthread_join(rd->thread, NULL);
        if (log && rd->started)
            reel_log(log, REEL_LOG_INFO,
                     "bench subscriber %u: %zu cameras, %" PRIu64 " access units (%" PRIu64 " bytes) read, %" PRIu64
                     " lost", i, rd->nsubs, rd->aus, rd->bytes, rd->lost);
        reader_free(rd);
    }
    free(b->readers);
    if (b->stop_fd >= 0)
        close(b->stop_fd);
    free(b);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The event loop: one thread, epoll for file descriptors, a binary heap of
 * timers. Every camera of the recorder is served from one loop; nothing here
 * blocks except epoll_wait (and the coalescing wait, see below).
 *
 * Ownership: the caller allocates struct reel_io and struct reel_timer and
 * keeps them alive while registered; the loop only links them.
 */
#ifndef REEL_REEL_LOOP_H
#define REEL_REEL_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"

struct reel_loop;

struct reel_io {
    int fd;
    void (*cb)(struct reel_io *io, uint32_t events);   /* EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP */
    void *opaque;
    bool bulk;      /* streaming data: may wait for the coalescing interval */
};

struct reel_timer {
    int64_t deadline;                /* monotonic ns */
    void (*cb)(struct reel_timer *t);
    void *opaque;
    size_t heap_idx;                 /* SIZE_MAX when not armed */
};

/* *ret owned by the caller: reel_loop_free(). */
int reel_loop_new(struct reel_loop **ret, const struct reel_clock *clock);
void reel_loop_free(struct reel_loop *l);
const struct reel_clock *reel_loop_clock(const struct reel_loop *l);
int64_t reel_loop_now(const struct reel_loop *l);

/* 0 or the negative errno of epoll_ctl (the descriptor is then not
 * watched: the caller must handle it, e.g. close it and fail). */
int reel_loop_io_add(struct reel_loop *l, struct reel_io *io, uint32_t events);
int reel_loop_io_mod(struct reel_loop *l, struct reel_io *io, uint32_t events);
/* Stops watching io. Events of io still pending in the epoll round being
 * dispatched are dropped, so a callback may delete (and free) other
 * reel_io's of the same round. Call before closing io->fd. */
void reel_loop_io_del(struct reel_loop *l, struct reel_io *io);

void reel_timer_init(struct reel_timer *t, void (*cb)(struct reel_timer *t), void *opaque);
/* Arms (or re-arms) t at deadline (monotonic ns). 0, or -ENOMEM / -ENOSPC
 * (more than the cap of armed timers) with t left unarmed: the caller
 * must handle it (a camera fails and retries, for instance). */
int reel_loop_timer_set(struct reel_loop *l, struct reel_timer *t, int64_t deadline);
/* Caps the number of armed timers (default 2^20). */
void reel_loop_set_max_timers(struct reel_loop *l, size_t n);
void reel_loop_timer_cancel(struct reel_loop *l, struct reel_timer *t);
static inline bool reel_timer_armed(const struct reel_timer *t) { return t->heap_idx != SIZE_MAX; }

/* Coalescing: when every descriptor a round of polling found ready is marked
 * bulk (io->bulk, e.g. a camera streaming media), the loop waits until ns
 * after that poll (or until the next timer, if sooner) before polling again,
 * so that busy sockets accumulate data and each wakeup reads more per system
 * call (fewer recv()s, fewer TCP ACKs, fewer timer re-arms). Rounds with any
 * other descriptor ready (RTSP handshakes, signals) poll again at once, so
 * only bulk data waits, by at most ns. 0 (the default) never waits. Only
 * takes effect with the system clock (the wait is in real time). */
void reel_loop_set_coalesce(struct reel_loop *l, int64_t ns);

/* Runs until reel_loop_stop() is called from a callback. */
int reel_loop_run(struct reel_loop *l);
void reel_loop_stop(struct reel_loop *l);

#endif

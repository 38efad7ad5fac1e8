/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A deadline for each HTTP request, against slow clients (slowloris).
 * libmicrohttpd times out only inactivity, so a client that sends its
 * request head one byte every few seconds would keep its connection slot
 * for ever. Here each connection is in one of two phases:
 *   - waiting: from the connection's start, or from the end of its previous
 *     response (keep-alive), its next request (head and body) must be
 *     complete within the deadline;
 *   - responding: the request is complete and the response is being sent
 *     (a view.mp4 download may take hours): no deadline, only
 *     libmicrohttpd's inactivity timeout.
 * A connection past its deadline is shut down (shutdown(2), SHUT_RDWR):
 * its event loop then sees the end of the stream and closes it the usual
 * way, on its own thread. Nothing here knows libmicrohttpd; server.c calls
 * these functions from its callbacks.
 *
 * The table has a fixed size (no allocation after reel_http_deadline_new),
 * so the cost is bounded: one scan of at most max slots per sweep, and a
 * sweep at most every second (sooner when a deadline falls due). All
 * functions are thread safe. The caller must call reel_http_deadline_remove()
 * before it closes the fd, which is what makes shutdown() safe: a slot's fd
 * is never shut down after the connection let it go (and the number reused).
 */
#ifndef REEL_HTTP_DEADLINE_H
#define REEL_HTTP_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"

struct reel_http_deadline;

/* Called by the watchdog thread after a sweep that shut down n > 0
 * connections (outside the table's lock). */
typedef void reel_http_deadline_cb(void *opaque, unsigned n);

/* A table of max connections, each allowed deadline_ns to complete a
 * request, on clock (NULL = the system clock; must outlive the table): every
 * deadline is read from it, and the watchdog's sleeps are relative to it.
 * *ret owned by the caller: reel_http_deadline_free(). -EINVAL, -ENOMEM,
 * -EMFILE (no eventfd). */
int reel_http_deadline_new(struct reel_http_deadline **ret, size_t max, int64_t deadline_ns,
                           const struct reel_clock *clock, reel_http_deadline_cb *cb, void *opaque);
/* Starts the watchdog thread that sweeps the table. -errno when the thread
 * cannot start. Without it, sweeps happen only through
 * reel_http_deadline_sweep() (tests). */
int reel_http_deadline_start(struct reel_http_deadline *d);
/* Stops the thread (if started) and frees. NULL ok. */
void reel_http_deadline_free(struct reel_http_deadline *d);

/* A new connection on fd, now waiting for its first request. Returns its
 * slot (>= 0), or -ENOSPC when the table is full (the caller should refuse
 * the connection). */
int reel_http_deadline_add(struct reel_http_deadline *d, int fd);
/* The slot's request is complete: no deadline while it is answered. */
void reel_http_deadline_responding(struct reel_http_deadline *d, int slot);
/* The slot's response is done: the next request must be complete within the
 * deadline from now. */
void reel_http_deadline_waiting(struct reel_http_deadline *d, int slot);
/* Forgets the slot; must be called before its fd is closed. */
void reel_http_deadline_remove(struct reel_http_deadline *d, int slot);

/* Shuts down every waiting connection whose deadline has passed (each
 * once). Returns how many; *ret_next_ns (may be NULL) gets the earliest
 * deadline still pending on the clock, or INT64_MAX when there is none. */
unsigned reel_http_deadline_sweep(struct reel_http_deadline *d, int64_t *ret_next_ns);

#endif

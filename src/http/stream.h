/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Endless responses (live view) without holding libmicrohttpd's threads:
 * a response's content reader that has nothing to send calls
 * reel_http_stream_wait(), which suspends the connection and arms the
 * source's descriptor (an eventfd, e.g. reel_hub_sub_fd()) in one epoll
 * set; the streams' own thread resumes the connection when the descriptor
 * becomes readable, or after REEL_HTTP_STREAM_POKE_S at the latest (so a
 * stream whose source went quiet still notices a closed client or a
 * stopping server). The reader never sleeps or spins.
 *
 * Also the viewer caps: per key (a camera) and in all.
 *
 * Threads: any. Ownership: reel_http_streams_new() -> _stop() (before the
 * daemon stops: resumes every waiting connection, later waits fail) ->
 * _free() (after the daemon: every waiter forgotten).
 */
#ifndef REEL_HTTP_STREAM_H
#define REEL_HTTP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

struct MHD_Connection;
struct reel_http_streams;

#define REEL_HTTP_STREAM_POKE_S 2

/* One response's waiting state, owned by the response (zeroed). */
struct reel_http_stream_waiter {
    struct MHD_Connection *conn;
    int fd;
    bool added, armed;
    int64_t armed_ns;
    struct reel_http_stream_waiter *next;   /* in the streams' list */
};

int reel_http_streams_new(struct reel_http_streams **ret, unsigned max_all, unsigned max_per_key);
void reel_http_streams_stop(struct reel_http_streams *s);
void reel_http_streams_free(struct reel_http_streams *s);

/* A viewer of key: 0, or -EBUSY over a cap (per key, in all). */
int reel_http_streams_acquire(struct reel_http_streams *s, int64_t key);
void reel_http_streams_release(struct reel_http_streams *s, int64_t key);

/* From the content reader: suspends w->conn until w->fd is readable (or
 * the poke); the reader then returns 0. -ESHUTDOWN when stopping (the
 * reader ends the response), -errno of epoll_ctl. */
int reel_http_stream_wait(struct reel_http_streams *s, struct reel_http_stream_waiter *w);
/* The response is freed: w is forgotten (not waiting: the connection runs). */
void reel_http_stream_forget(struct reel_http_streams *s, struct reel_http_stream_waiter *w);

#endif

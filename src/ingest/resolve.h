/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Name resolution off the event loop. The loop thread never calls a blocking
 * getaddrinfo(): numeric addresses are resolved inline (AI_NUMERICHOST,
 * which never blocks) by reel_resolve_numeric(); names go to a resolver, one
 * per recorder, which runs each lookup on a worker thread of its own, at
 * most max_threads at once (further lookups wait in a queue), and hands the
 * result back to the loop through an eventfd registered with the loop: the
 * callback runs on the loop thread.
 *
 * Deadlines are the caller's (the camera's timer): it cancels a lookup that
 * takes too long. A cancelled lookup's callback is never called; its worker
 * thread may still be blocked in getaddrinfo() and keeps its slot until it
 * returns, then its result is discarded. The resolver's shared state lives
 * until the last worker has finished, so reel_resolver_free() never waits
 * for a hung lookup and nothing is used after it is freed.
 *
 * Ownership: reel_resolver_new() -> reel_resolver_free() (after every
 * lookup was cancelled or completed). A struct reel_resolve_req is owned by
 * the resolver; the caller's pointer is valid until the callback ran or
 * reel_resolve_cancel() returned.
 */
#ifndef REEL_INGEST_RESOLVE_H
#define REEL_INGEST_RESOLVE_H

#include <stdint.h>
#include <sys/socket.h>

#include "reel/loop.h"

struct reel_resolver;
struct reel_resolve_req;

struct reel_resolved {
    int gai_error;                  /* 0 = found; else an EAI_* code (gai_strerror) */
    struct sockaddr_storage addr;   /* the first address (port set) */
    socklen_t addr_len;
};

/* max_threads: lookups running at once (1..64). */
int reel_resolver_new(struct reel_resolver **ret, struct reel_loop *loop, unsigned max_threads);
void reel_resolver_free(struct reel_resolver *r);   /* NULL ok */

/* Numeric host (IPv4, IPv6, with or without brackets stripped by the URL
 * parser): 0 and *ret filled; -EAGAIN when host is a name (use a lookup). */
int reel_resolve_numeric(const char *host, uint16_t port, struct reel_resolved *ret);

/* Starts a lookup of host (a name, up to 255 bytes). cb runs later on the
 * loop thread, once, unless cancelled first. 0, -ENOMEM, -EINVAL. */
int reel_resolve_start(struct reel_resolver *r, const char *host, uint16_t port,
                       void (*cb)(void *opaque, const struct reel_resolved *res), void *opaque,
                       struct reel_resolve_req **ret);
/* The callback will not be called; q must not be used after. NULL ok. */
void reel_resolve_cancel(struct reel_resolve_req *q);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One camera's connection: the name lookup (inline for numeric addresses,
 * else on the shared resolver), the non-blocking TCP connect, the RTSP
 * socket's and the UDP port pair's registrations with the loop, and the
 * source filter on the UDP sockets. It makes no decision: it reports what
 * happened to its owner (the streamer, src/reel/camera.c), which tells the
 * policy (policy.h). Every registration failure is reported as a failure
 * with a reason, never left as a dead connection.
 *
 * Ownership: the caller embeds struct reel_transport, keeps it alive while
 * open, and closes it with reel_transport_close() (idempotent). Callbacks
 * run on the loop thread and may call reel_transport_close().
 */
#ifndef REEL_INGEST_TRANSPORT_H
#define REEL_INGEST_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/log.h"
#include "ingest/resolve.h"
#include "reel/loop.h"

struct reel_transport_cbs {
    void (*on_connected)(void *opaque, int family);         /* TCP up */
    void (*on_fail)(void *opaque, const char *reason);     /* lookup or connect failed: t is closed */
    void (*on_tcp)(void *opaque, uint32_t events);          /* after on_connected */
    void (*on_udp)(void *opaque, int idx);                  /* 0 = RTP, 1 = RTCP readable */
    void *opaque;
};

struct reel_transport {             /* fields read-only for the owner */
    struct reel_loop *loop;
    struct reel_resolver *resolver;
    const struct reel_transport_cbs *cbs;
    int fd;
    struct reel_io io;
    uint32_t events;
    bool connecting;
    int udp_fd[2];
    struct reel_io udp_io[2];
    struct reel_resolve_req *lookup;
    char host[256];
    uint16_t port;
    /* UDP source filter: the camera's address (the TCP peer's) and the
     * server ports it announced (0 = any port of that address). */
    bool udp_peer_set;
    struct sockaddr_storage udp_peer;
    uint16_t udp_peer_port[2];
};

#define REEL_TRANSPORT_ADDR_MAX 64  /* "[v6 address]:port" */

void reel_transport_init(struct reel_transport *t, struct reel_loop *loop, struct reel_resolver *resolver,
                         const struct reel_transport_cbs *cbs);
/* Resolves host and starts the TCP connect: 0 = connecting, 1 = looking the
 * name up (on_connected or on_fail follows), negative errno with err. */
int reel_transport_open(struct reel_transport *t, const char *host, uint16_t port, struct reel_err *err);
void reel_transport_close(struct reel_transport *t);
/* Watch for writability too (data queued) or not. */
int reel_transport_want_write(struct reel_transport *t, bool on);
/* Binds an even/odd UDP port pair of the TCP connection's family and
 * registers both; *ret_port = the even one. */
int reel_transport_udp_open(struct reel_transport *t, int family, uint32_t seed, uint16_t *ret_port);
/* Narrows the UDP source filter to the ports the camera announced in the
 * SETUP reply (server_port=RTP-RTCP; rtcp 0 = rtp + 1; rtp 0 = none
 * announced: any port of the camera's address). Until then, from
 * reel_transport_udp_open() on, the filter is the camera's address. */
void reel_transport_udp_peer(struct reel_transport *t, uint16_t server_rtp_port, uint16_t server_rtcp_port);
/* Whether a datagram from `from` on socket idx (0 RTP, 1 RTCP) passes the
 * filter. Datagrams from anyone else must be dropped (and counted) by the
 * caller: RTP over UDP is easy to inject. */
bool reel_transport_udp_from_peer(const struct reel_transport *t, int idx, const struct sockaddr_storage *from,
                                  socklen_t len);
/* "1.2.3.4:5" or "[::1]:5" into out (cap bytes). */
void reel_transport_addr_str(const struct sockaddr_storage *a, char *out, size_t cap);

#endif

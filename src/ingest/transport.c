/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One camera's sockets and their loop registrations (see transport.h).
 * The UDP source filter is checked on each datagram (recvfrom's source)
 * rather than by connect(2), so that what it drops can be counted.
 */
#include "ingest/transport.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void io_cb(struct reel_io *io, uint32_t events);
static void udp_cb(struct reel_io *io, uint32_t events);

void reel_transport_init(struct reel_transport *t, struct reel_loop *loop, struct reel_resolver *resolver,
                         const struct reel_transport_cbs *cbs)
{
    memset(t, 0, sizeof(*t));
    t->loop = loop;
    t->resolver = resolver;
    t->cbs = cbs;
    t->fd = -1;
    t->udp_fd[0] = t->udp_fd[1] = -1;
}

void reel_transport_close(struct reel_transport *t)
{
    reel_resolve_cancel(t->lookup);
    t->lookup = NULL;
    if (t->fd >= 0) {
        reel_loop_io_del(t->loop, &t->io);
        close(t->fd);
        t->fd = -1;
    }
    for (int i = 0; i < 2; i++) {
        if (t->udp_fd[i] >= 0) {
            reel_loop_io_del(t->loop, &t->udp_io[i]);
            close(t->udp_fd[i]);
            t->udp_fd[i] = -1;
        }
    }
    t->connecting = false;
    t->io.bulk = false;
    t->udp_peer_set = false;
}

static int start_connect(struct reel_transport *t, const struct reel_resolved *a, struct reel_err *err)
{
    int fd = socket(a->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return reel_err_set(err, errno, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rcv = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if (connect(fd, (const struct sockaddr *)&a->addr, a->addr_len) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return reel_err_set(err, e, "cannot connect to %s:%u: %s", t->host, t->port, strerror(e));
    }
    t->fd = fd;
    t->io.fd = fd;
    t->io.cb = io_cb;
    t->io.opaque = t;
    t->io.bulk = false;
    t->events = EPOLLIN | EPOLLOUT;
    int r = reel_loop_io_add(t->loop, &t->io, t->events);
    if (r < 0) {
        close(fd);
        t->fd = -1;
        return reel_err_set(err, -r, "cannot watch the connection to %s:%u: %s", t->host, t->port, strerror(-r));
    }
    t->connecting = true;
    return 0;
}

static void on_resolved(void *opaque, const struct reel_resolved *res)
{
    struct reel_transport *t = opaque;
    t->lookup = NULL;
    char reason[512];
    if (res->gai_error) {
        snprintf(reason, sizeof(reason), "cannot resolve %s: %s", t->host, gai_strerror(res->gai_error));
        reel_transport_close(t);
        t->cbs->on_fail(t->cbs->opaque, reason);
        return;
    }
    struct reel_err err = { "" };
    if (start_connect(t, res, &err) < 0) {
        reel_transport_close(t);
        t->cbs->on_fail(t->cbs->opaque, err.msg);
    }
}

int reel_transport_open(struct reel_transport *t, const char *host, uint16_t port, struct reel_err *err)
{
    reel_transport_close(t);
    snprintf(t->host, sizeof(t->host), "%s", host);
    t->port = port;
    struct reel_resolved a;
    if (reel_resolve_numeric(host, port, &a) == 0)
        return start_connect(t, &a, err);
    if (!t->resolver)
        return reel_err_set(err, EINVAL, "cannot resolve %s: no resolver", host);
    int r = reel_resolve_start(t->resolver, host, port, on_resolved, t, &t->lookup);
    if (r < 0)
        return reel_err_set(err, -r, "cannot resolve %s: %s", host, strerror(-r));
    return 1;
}

int reel_transport_want_write(struct reel_transport *t, bool on)
{
    uint32_t ev = EPOLLIN | (on ? EPOLLOUT : 0);
    if (t->fd < 0 || ev == t->events)
        return 0;
    int r = reel_loop_io_mod(t->loop, &t->io, ev);
    if (r == 0)
        t->events = ev;
    return r;
}

static void io_cb(struct reel_io *io, uint32_t events)
{
    struct reel_transport *t = io->opaque;
    if (t->connecting) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (!soerr && !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        if (soerr) {
            char reason[512];
            snprintf(reason, sizeof(reason), "cannot connect to %s:%u: %s", t->host, t->port, strerror(soerr));
            reel_transport_close(t);
            t->cbs->on_fail(t->cbs->opaque, reason);
            return;
        }
        /* Not connected yet (an event for a descriptor closed earlier in
         * the same round, whose number this socket reuses): wait. */
        struct sockaddr_storage ss;
        socklen_t al = sizeof(ss);
        if (getpeername(t->fd, (struct sockaddr *)&ss, &al) < 0)
            return;
        t->connecting = false;
        t->cbs->on_connected(t->cbs->opaque, ss.ss_family);
        return;
    }
    t->cbs->on_tcp(t->cbs->opaque, events);
}

static void udp_cb(struct reel_io *io, uint32_t events)
{
    (void)events;
    struct reel_transport *t = io->opaque;
    t->cbs->on_udp(t->cbs->opaque, io == &t->udp_io[0] ? 0 : 1);
}

int reel_transport_udp_open(struct reel_transport *t, int family, uint32_t seed, uint16_t *ret_port)
{
    for (int attempt = 0; attempt < 32; attempt++) {
        uint16_t port = (uint16_t)(20000 + ((seed + (uint32_t)attempt * 7919u) % 20000u) * 2u);
        int fds[2] = { -1, -1 };
        bool ok = true;
        for (int i = 0; i < 2 && ok; i++) {
            fds[i] = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            struct sockaddr_storage ss;
            memset(&ss, 0, sizeof(ss));
            socklen_t sl;
            if (family == AF_INET6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t)(port + i));
                sl = sizeof(*a);
            } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t)(port + i));
                sl = sizeof(*a);
            }
            if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&ss, sl) < 0)
                ok = false;
        }
        if (!ok) {
            for (int i = 0; i < 2; i++)
                if (fds[i] >= 0)
                    close(fds[i]);
            continue;
        }
        int rcv = 4 << 20;
        setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        for (int i = 0; i < 2; i++) {
            t->udp_fd[i] = fds[i];
            t->udp_io[i].fd = fds[i];
            t->udp_io[i].cb = udp_cb;
            t->udp_io[i].opaque = t;
            t->udp_io[i].bulk = false;
        }
        for (int i = 0; i < 2; i++) {
            int r = reel_loop_io_add(t->loop, &t->udp_io[i], EPOLLIN);
            if (r < 0) {
                if (i == 1)
                    reel_loop_io_del(t->loop, &t->udp_io[0]);
                for (int k = 0; k < 2; k++) {
                    close(t->udp_fd[k]);
                    t->udp_fd[k] = -1;
                }
                return r;
            }
        }
        /* until the SETUP reply's ports are known: the camera's address */
        socklen_t pl = sizeof(t->udp_peer);
        t->udp_peer_set = t->fd >= 0 && getpeername(t->fd, (struct sockaddr *)&t->udp_peer, &pl) == 0;
        t->udp_peer_port[0] = t->udp_peer_port[1] = 0;
        *ret_port = port;
        return 0;
    }
    return -EADDRINUSE;
}

void reel_transport_udp_peer(struct reel_transport *t, uint16_t server_rtp_port, uint16_t server_rtcp_port)
{
    t->udp_peer_port[0] = server_rtp_port;
    t->udp_peer_port[1] = server_rtp_port ? (server_rtcp_port ? server_rtcp_port : (uint16_t)(server_rtp_port + 1)) : 0;
}

bool reel_transport_udp_from_peer(const struct reel_transport *t, int idx, const struct sockaddr_storage *from,
                                  socklen_t len)
{
    if (!t->udp_peer_set || from->ss_family != t->udp_peer.ss_family)
        return false;
    uint16_t want = t->udp_peer_port[idx ? 1 : 0], port;
    if (from->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)from, *b = (const struct sockaddr_in *)&t->udp_peer;
        if (len < sizeof(*a) || a->sin_addr.s_addr != b->sin_addr.s_addr)
            return false;
        port = ntohs(a->sin_port);
    } else if (from->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from, *b = (const struct sockaddr_in6 *)&t->udp_peer;
        if (len < sizeof(*a) || memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) != 0)
            return false;
        port = ntohs(a->sin6_port);
    } else {
        return false;
    }
    return want == 0 || port == want;
}

void reel_transport_addr_str(const struct sockaddr_storage *a, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *v = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &v->sin_addr, host, sizeof(host));
        port = ntohs(v->sin_port);
        snprintf(out, cap, "%s:%u", host, port);
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &v->sin6_addr, host, sizeof(host));
        port = ntohs(v->sin6_port);
        snprintf(out, cap, "[%s]:%u", host, port);
    } else {
        snprintf(out, cap, "(family %d)", (int)a->ss_family);
    }
}

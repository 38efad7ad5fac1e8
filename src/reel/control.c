/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The control socket (see control.h): a poll() loop on its own thread over
 * the listening socket, a stop eventfd and up to REEL_CONTROL_CLIENTS
 * connections, each with a capped line buffer and a deadline; and the
 * client used by the CLI.
 */
#include "reel/control.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_DEADLINE_NS (5 * INT64_C(1000000000))
#define REPLY_DEADLINE_NS (5 * INT64_C(1000000000))
#define REPLY_MAX (64u << 20)
#define CLIENT_LINE_MAX 8192

struct client {
    int fd;
    int64_t deadline;
    size_t len;
    char buf[REEL_CONTROL_LINE_MAX + 1];
};

struct reel_control {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int lfd, stopfd;
    pthread_t th;
    const struct reel_control_ops *ops;
    const struct reel_logger *log;
    struct client clients[REEL_CONTROL_CLIENTS];
    size_t nclients;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Writes all of p to a non-blocking socket before the deadline. */
static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        int64_t left = deadline - mono_ns();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pf = { .fd = fd, .events = POLLOUT };
        poll(&pf, 1, (int)(left / 1000000 + 1));
    }
    return 0;
}

static void client_close(struct reel_control *c, size_t i)
{
    /* Unread input would turn the close into a reset that can destroy the
     * reply before the client reads it: drain what is there (bounded). */
    int fd = c->clients[i].fd;
    shutdown(fd, SHUT_WR);
    char scratch[4096];
    for (int k = 0; k < 16 && recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0; k++)
        ;
    close(fd);
    c->clients[i] = c->clients[--c->nclients];
}

static void reply(struct client *cl, const char *p, size_t n)
{
    send_all(cl->fd, p, n, mono_ns() + REPLY_DEADLINE_NS);
}

static void handle_line(struct reel_control *c, struct client *cl, char *line)
{
    char out[REEL_CONTROL_LINE_MAX + 64];
    if (strncmp(line, "camera ", 7) == 0 && line[7]) {
        struct reel_err err = { "" };
        int r = c->ops->camera_changed(c->ops->opaque, line + 7, &err);
        int n = r < 0 ? snprintf(out, sizeof(out), "error %s\n", err.msg[0] ? err.msg : strerror(-r))
                      : snprintf(out, sizeof(out), "ok\n");
        for (char *p = out; *p && p < out + n - 1; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        reply(cl, out, (size_t)n);
        return;
    }
    if (strcmp(line, "status") == 0) {
        struct reel_buf b;
        reel_buf_init(&b, REPLY_MAX);
        int r = c->ops->status(c->ops->opaque, &b);
        if (r == 0)
            r = reel_buf_append(&b, "end\n", 4);
        if (r < 0) {
            int n = snprintf(out, sizeof(out), "error %s\n", strerror(-r));
            reply(cl, out, (size_t)n);
        } else {
            reply(cl, (const char *)b.data, b.len);
        }
        reel_buf_free(&b);
        return;
    }
    static const char bad[] = "error unknown request (expected: camera NAME, status)\n";
    reply(cl, bad, sizeof(bad) - 1);
}

/* Reads what the client sent; true when the connection is done with. */
static bool client_read(struct reel_control *c, struct client *cl)
{
    ssize_t n = recv(cl->fd, cl->buf + cl->len, REEL_CONTROL_LINE_MAX + 1 - cl->len, MSG_DONTWAIT);
    if (n == 0)
        return true;
    if (n < 0)
        return errno != EAGAIN && errno != EINTR;
    cl->len += (size_t)n;
    char *nl = memchr(cl->buf, '\n', cl->len);
    if (!nl) {
        if (cl->len > REEL_CONTROL_LINE_MAX) {
            static const char msg[] = "error line too long\n";
            reply(cl, msg, sizeof(msg) - 1);
            return true;
        }
        return false;
    }
    *nl = '\0';
    if (nl > cl->buf && nl[-1] == '\r')
        nl[-1] = '\0';
    handle_line(c, cl, cl->buf);
    return true;
}

static void *control_main(void *arg)
{
    struct reel_control *c = arg;
    struct pollfd pf[2 + REEL_CONTROL_CLIENTS];
    for (;;) {
        int64_t now = mono_ns();
        /* Drop the clients past their deadline (a request that arrived
         * while another was served is still taken). */
        for (size_t i = 0; i < c->nclients;) {
            if (c->clients[i].deadline <= now && client_read(c, &c->clients[i])) {
                client_close(c, i);
            } else if (c->clients[i].deadline <= now) {
                static const char msg[] = "error timed out waiting for the request\n";
                send(c->clients[i].fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                client_close(c, i);
            } else {
                i++;
            }
        }
        int timeout = -1;
        for (size_t i = 0; i < c->nclients; i++) {
            int64_t ms = (c->clients[i].deadline - now) / 1000000 + 1;
            if (timeout < 0 || ms < timeout)
                timeout = (int)ms;
        }
        pf[0] = (struct pollfd){ .fd = c->stopfd, .events = POLLIN };
        pf[1] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
        for (size_t i = 0; i < c->nclients; i++)
            pf[2 + i] = (struct pollfd){ .fd = c->clients[i].fd, .events = POLLIN };
        size_t nc = c->nclients;
        int n = poll(pf, 2 + nc, timeout);
        if (n < 0 && errno != EINTR) {
            reel_log(c->log, REEL_LOG_ERROR, "control socket: poll: %s; control socket closed", strerror(errno));
            break;
        }
        if (n <= 0)
            continue;
        if (pf[0].revents)
            break;
        /* Clients first (indices stay valid: closing moves the last one). */
        for (size_t i = nc; i-- > 0;) {
            if (!pf[2 + i].revents)
                continue;
            if (client_read(c, &c->clients[i]))
                client_close(c, i);
        }
        if (pf[1].revents & POLLIN) {
            int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                if (c->nclients == REEL_CONTROL_CLIENTS) {
                    static const char msg[] = "error busy\n";
                    send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                    close(fd);
                } else {
                    struct client *cl = &c->clients[c->nclients++];
                    cl->fd = fd;
                    cl->len = 0;
                    cl->deadline = mono_ns() + REQUEST_DEADLINE_NS;
                }
            }
        }
    }
    for (size_t i = c->nclients; i-- > 0;)
        client_close(c, i);
    return NULL;
}

static int socket_path(const char *datadir, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", datadir, REEL_CONTROL_SOCKET);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int reel_control_start(struct reel_control **ret, const char *datadir, const struct reel_control_ops *ops,
                       const struct reel_logger *log, struct reel_err *err)
{
    struct reel_control *c = calloc(1, sizeof(*c));
    if (!c)
        return reel_err_set(err, ENOMEM, "out of memory");
    c->ops = ops;
    c->log = log;
    c->lfd = c->stopfd = -1;
    int r;
    if (socket_path(datadir, c->path, sizeof(c->path)) < 0) {
        r = reel_err_set(err, ENAMETOOLONG, "%s/%s: path too long for a socket", datadir, REEL_CONTROL_SOCKET);
        goto fail;
    }
    c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->lfd < 0 || c->stopfd < 0) {
        r = reel_err_set(err, errno, "control socket: %s", strerror(errno));
        goto fail;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    /* A socket file left by a recorder that crashed: we hold the data
     * directory's lock, so nobody else serves it. */
    unlink(c->path);
    if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r = reel_err_set(err, errno, "control socket %s: %s", c->path, strerror(errno));
        goto fail;
    }
    /* Nobody can connect before listen(): set the mode first. */
    if (chmod(c->path, 0600) < 0 || listen(c->lfd, 16) < 0) {
        r = reel_err_set(err, errno, "control socket %s: %s", c->path, strerror(errno));
        unlink(c->path);
        goto fail;
    }
    r = -pthread_create(&c->th, NULL, control_main, c);
    if (r < 0) {
        reel_err_set(err, -r, "control socket: cannot start its thread: %s", strerror(-r));
        unlink(c->path);
        goto fail;
    }
    *ret = c;
    return 0;
fail:
    if (c->lfd >= 0)
        close(c->lfd);
    if (c->stopfd >= 0)
        close(c->stopfd);
    free(c);
    return r;
}

void reel_control_stop(struct reel_control *c)
{
    if (!c)
        return;
    uint64_t one = 1;
    if (write(c->stopfd, &one, sizeof(one)) != sizeof(one)) { /* the thread also sees EOF of nothing: join anyway */ }
    pthread_join(c->th, NULL);
    unlink(c->path);
    close(c->lfd);
    close(c->stopfd);
    free(c);
}

/* ---- client ---- */

int reel_control_request(const char *datadir, const char *line, int64_t timeout_ns,
                         void (*on_line)(void *opaque, const char *line), void *opaque, char *errbuf,
                         size_t errcap)
{
    if (errcap)
        errbuf[0] = '\0';
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (socket_path(datadir, sa.sun_path, sizeof(sa.sun_path)) < 0)
        return -ENAMETOOLONG;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    int64_t deadline = mono_ns() + timeout_ns;
    char req[REEL_CONTROL_LINE_MAX + 2];
    int n = snprintf(req, sizeof(req), "%s\n", line);
    int r = n < 0 || (size_t)n >= sizeof(req) ? -EMSGSIZE : send_all(fd, req, (size_t)n, deadline);
    char *buf = r == 0 ? malloc(CLIENT_LINE_MAX) : NULL;
    if (r == 0 && !buf)
        r = -ENOMEM;
    size_t len = 0;
    while (r == 0) {
        char *nl = memchr(buf, '\n', len);
        if (nl) {
            *nl = '\0';
            if (strcmp(buf, "ok") == 0 || strcmp(buf, "end") == 0)
                break;
            if (strncmp(buf, "error ", 6) == 0) {
                snprintf(errbuf, errcap, "%s", buf + 6);
                r = -EREMOTEIO;
                break;
            }
            if (on_line)
                on_line(opaque, buf);
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, nl + 1, len - used);
            len -= used;
            continue;
        }
        if (len == CLIENT_LINE_MAX) {
            r = -EPROTO;
            break;
        }
        int64_t left = deadline - mono_ns();
        if (left <= 0) {
            r = -ETIMEDOUT;
            break;
        }
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        if (poll(&pf, 1, (int)(left / 1000000 + 1)) <= 0)
            continue;
        ssize_t k = recv(fd, buf + len, CLIENT_LINE_MAX - len, MSG_DONTWAIT);
        if (k == 0)
            r = -EPROTO;                  /* closed before a final line */
        else if (k < 0 && errno != EAGAIN && errno != EINTR)
            r = -errno;
        else if (k > 0)
            len += (size_t)k;
    }
    free(buf);
    close(fd);
    return r;
}

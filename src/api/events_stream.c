/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/events/stream (issue 15): the event notifications as they come,
 * as Server-Sent Events (text/event-stream): each note "event: start|end|
 * instant" + "data: {"type":..,"event":{..}}", a comment heartbeat every
 * REEL_SSE_HEARTBEAT_S, filtered by the caller's camera list (copied at
 * the start: a response lasts at most REEL_SSE_LIFETIME_S, then the
 * browser's EventSource reconnects and the session and the list are
 * checked again). At most REEL_SSE_STREAMS_MAX streams at once (503).
 *
 * Like live.mp4: never blocks libmicrohttpd's threads; with nothing to
 * send, the reader suspends the connection until the stream's eventfd is
 * readable or the streams' poke (http/stream.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api.h"
#include "http/access.h"
#include "http/sse.h"
#include "http/stream.h"

#define REEL_SSE_HEARTBEAT_S 15
#define REEL_SSE_LIFETIME_S 600
#define BLOCK (16 * 1024)
#define BUSY_RETRY_S 5

static const char HELLO[] = "retry: 3000\n: reel events\n\n";
static const char HEARTBEAT[] = ": heartbeat\n\n";

struct evstream {
    struct reel_http_streams *streams;
    struct reel_http_stream_waiter w;
    struct reel_http_sse_client *c;
    const struct reel_clock *clock;
    int64_t opened_ns, last_ns;     /* mono: the start, the last bytes sent */
    size_t hello_off;
};

/* Whether the client closed its end (the stream only writes, so a closed
 * client would otherwise hold its place until the next heartbeat). */
static bool peer_gone(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    char b;
    ssize_t n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0;
}

static ssize_t evstream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct evstream *e = cls;
    int64_t now = reel_clock_mono(e->clock);
    if (e->hello_off < sizeof(HELLO) - 1) {
        size_t n = sizeof(HELLO) - 1 - e->hello_off;
        n = n < max ? n : max;
        memcpy(buf, HELLO + e->hello_off, n);
        e->hello_off += n;
        e->last_ns = now;
        return (ssize_t)n;
    }
    bool lost = false;
    size_t n = reel_http_sse_take(e->c, buf, max, &lost);
    if (n > 0) {
        e->last_ns = now;
        return (ssize_t)n;
    }
    if (lost || now - e->opened_ns >= REEL_SSE_LIFETIME_S * REEL_NS_PER_SEC)
        return MHD_CONTENT_READER_END_OF_STREAM;   /* the client reconnects */
    if (peer_gone(e->w.conn))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (now - e->last_ns >= REEL_SSE_HEARTBEAT_S * REEL_NS_PER_SEC && max >= sizeof(HEARTBEAT) - 1) {
        memcpy(buf, HEARTBEAT, sizeof(HEARTBEAT) - 1);
        e->last_ns = now;
        return (ssize_t)(sizeof(HEARTBEAT) - 1);
    }
    return reel_http_stream_wait(e->streams, &e->w) < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : 0;
}

static void evstream_free(void *cls)
{
    struct evstream *e = cls;
    reel_http_stream_forget(e->streams, &e->w);
    reel_http_sse_close(e->c);
    free(e);
}

enum MHD_Result reel_api_events_stream(struct reel_http_req *r)
{
    struct reel_http_sse *sse = reel_http_sse_of(r);
    if (!sse)
        return reel_http_send_busy(r, BUSY_RETRY_S, "the event stream needs the recorder (reel run)");
    /* the caller's camera list, loaded now (an administrator's is "all") */
    (void)reel_http_camera_visible(r, "~");
    const struct reel_http_acl *acl = reel_http_acl_of(r);
    struct reel_http_acl none = { 0 };
    struct evstream *e = calloc(1, sizeof(*e));
    if (!e)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    int rc = reel_http_sse_open(sse, r->auth->user_id, r->auth->role, acl ? acl : &none, &e->c);
    if (rc == -EBUSY) {
        free(e);
        return reel_http_send_busy(r, BUSY_RETRY_S, "too many event streams: try again later");
    }
    if (rc < 0) {
        free(e);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "event stream: out of resources");
    }
    e->streams = reel_http_streams_of(r);
    e->clock = r->clock;
    e->opened_ns = e->last_ns = reel_clock_mono(r->clock);
    e->w.conn = r->conn;
    e->w.fd = reel_http_sse_fd(e->c);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK, evstream_read, e,
                                                                  evstream_free);
    if (!resp) {
        reel_http_sse_close(e->c);
        free(e);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "event stream: out of resources");
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return reel_http_queue(r, MHD_HTTP_OK, resp);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The live event stream's fan-out (issue 15, GET /api/events/stream): one
 * listener on the event bus (events.h) formats each notification once as a
 * Server-Sent Event ("event: <type>\ndata: <json>\n\n") and appends it to
 * the queue of every open stream whose user may see the event's camera
 * (site-wide events: every stream), then makes the stream's eventfd
 * readable. The response's content reader takes the text (src/api/
 * events_stream.c). Never blocks the bus: a stream whose queue is over
 * REEL_SSE_QUEUE_BYTES is marked lost (its response ends; the browser's
 * EventSource reconnects and the page reloads the list).
 *
 * Caps: REEL_SSE_STREAMS_MAX streams in all, REEL_SSE_STREAMS_PER_USER of
 * one user (-EBUSY beyond: 503).
 *
 * Threads: any. Ownership: reel_http_sse_new() -> reel_http_sse_free()
 * (after every stream is closed; stops listening first). A stream:
 * reel_http_sse_open() -> reel_http_sse_close().
 */
#ifndef REEL_HTTP_SSE_H
#define REEL_HTTP_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/access.h"

struct reel_events;
struct reel_http_sse;
struct reel_http_sse_client;

#define REEL_SSE_STREAMS_MAX 32
#define REEL_SSE_STREAMS_PER_USER 8
#define REEL_SSE_QUEUE_BYTES (256u * 1024)

/* Listens on events (which must outlive the fan-out). */
int reel_http_sse_new(struct reel_http_sse **ret, struct reel_events *events);
void reel_http_sse_free(struct reel_http_sse *s);

/* A stream for user_id with role and a copy of acl (loaded; the names are
 * copied). -EBUSY over a cap, -ENOMEM. */
int reel_http_sse_open(struct reel_http_sse *s, int64_t user_id, const char *role, const struct reel_http_acl *acl,
                       struct reel_http_sse_client **ret);
/* Readable while text is queued (or the stream is lost). */
int reel_http_sse_fd(const struct reel_http_sse_client *c);
/* Moves up to max queued bytes into buf; the count (0: none). *lost: the
 * queue overflowed (end the response once the count is 0). */
size_t reel_http_sse_take(struct reel_http_sse_client *c, char *buf, size_t max, bool *lost);
void reel_http_sse_close(struct reel_http_sse_client *c);

/* Pure: the SSE text of a notification's JSON: "event: TYPE\ndata: JSON\n\n"
 * into out (NUL-terminated); its length, or 0 when it does not fit or
 * TYPE/JSON hold a line break. */
size_t reel_http_sse_format(const char *type, const char *json, char *out, size_t cap);

#endif

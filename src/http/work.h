/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A small pool of worker threads with a bounded queue, for the requests
 * that must not run on libmicrohttpd's threads: password hashing (login,
 * password change) and building an MP4 header (view.mp4). The server
 * suspends such a connection, submits a job here and resumes the
 * connection when the job is done (server.c); one slow request then holds
 * a worker, never the threads that serve every other client.
 *
 * Lifetime: reel_http_work_new(), reel_http_work_submit() from any thread,
 * reel_http_work_stop() runs the jobs still queued and joins the threads
 * (submit then fails with -ESHUTDOWN), reel_http_work_free() (no submit may
 * be running or come after it).
 */
#ifndef REEL_HTTP_WORK_H
#define REEL_HTTP_WORK_H

#include <stddef.h>

struct reel_http_work;

typedef void reel_http_work_fn(void *arg);

/* nthreads workers (1..16), at most queue_max jobs waiting (1..4096).
 * -EINVAL, -ENOMEM, or the error of pthread_create. *ret owned by the
 * caller: reel_http_work_free(). */
int reel_http_work_new(struct reel_http_work **ret, unsigned nthreads, size_t queue_max);
/* Queues fn(arg) to run on a worker. -EAGAIN when queue_max jobs already
 * wait (the caller answers 503), -ESHUTDOWN after reel_http_work_free()
 * has begun. On success fn will run exactly once. */
int reel_http_work_submit(struct reel_http_work *w, reel_http_work_fn *fn, void *arg);
/* Jobs waiting in the queue now (for logs and tests). */
size_t reel_http_work_queued(struct reel_http_work *w);
/* Runs what is queued and joins the workers; idempotent, from one thread
 * (the owner's). NULL ok. */
void reel_http_work_stop(struct reel_http_work *w);
/* reel_http_work_stop(), then frees. NULL ok. */
void reel_http_work_free(struct reel_http_work *w);

#endif

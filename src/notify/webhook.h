/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Webhook delivery (issue 15; docs/alerts.md). A listener of the event
 * bus (reel_webhooks_on_note) copies each notification into a bounded
 * queue in memory and returns; the webhooks' own thread, with its own
 * reel.db connection, turns each queued note into outbox rows (one per
 * webhook whose kinds take it; whdb.h) before anything is sent, then
 * POSTs due rows with libcurl: signed (sign.h), no redirects followed,
 * connect and total timeouts, the answer's body read up to a cap and
 * dropped. A 2xx deletes the row; anything else sets it due again after
 * a backoff of 1 s doubling per attempt up to 10 min. Rows older than the
 * setting webhook.expire_hours (default 24) are dropped unsent. Rows are
 * read from the table each time, so deliveries outlive a restart and a
 * test delivery queued by the API (another connection) goes out within a
 * second.
 *
 * A dead or slow receiver delays only other deliveries (one at a time,
 * each at most REEL_WEBHOOK_TIMEOUT_S; a failure makes all of that
 * webhook's waiting rows wait the backoff, so a dead receiver costs one
 * attempt per backoff however many notes wait for it); the bus and
 * recording never wait: a full queue drops the oldest note (counted and
 * logged).
 *
 * Ownership: reel_webhooks_new() -> reel_webhooks_free() (stops the
 * thread; stop the bus from calling the listener first).
 */
#ifndef REEL_NOTIFY_WEBHOOK_H
#define REEL_NOTIFY_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"
#include "events/events.h"

#define REEL_WEBHOOK_TIMEOUT_S 10        /* a delivery, connection included */
#define REEL_WEBHOOK_CONNECT_S 5
#define REEL_WEBHOOK_ANSWER_MAX 4096     /* bytes of an answer read (then the rest is refused) */
#define REEL_WEBHOOK_BACKOFF_MAX_S 600
#define REEL_WEBHOOK_EXPIRE_DEFAULT_H 24

struct reel_webhooks;

struct reel_webhooks_cfg {
    const char *datadir;             /* copied */
    const struct reel_clock *clock;  /* NULL = system; wall time for rows and signatures */
    const struct reel_logger *log;   /* borrowed; must outlive the object */
    size_t queue_max;                /* 0 = 1024 notes */
};

int reel_webhooks_new(struct reel_webhooks **ret, const struct reel_webhooks_cfg *cfg, struct reel_err *err);
void reel_webhooks_free(struct reel_webhooks *w);

/* The bus's listener (opaque = the struct reel_webhooks). Never blocks. */
void reel_webhooks_on_note(void *opaque, const struct reel_event_note *n);

/* Backoff after the attempts-th failed attempt (1..): seconds. Pure. */
int64_t reel_webhook_backoff_s(int attempts);

#endif

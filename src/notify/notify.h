/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Alerts (issue 15; docs/alerts.md): webhooks (webhook.h) and MQTT
 * (mqtt.h), started together by `reel run` and registered as listeners of
 * the event bus. A part that cannot start is logged and left out;
 * recording goes on.
 *
 * Ownership: reel_notify_new() -> reel_notify_free() (unlistens first,
 * then stops both threads; before the bus is freed).
 */
#ifndef REEL_NOTIFY_NOTIFY_H
#define REEL_NOTIFY_NOTIFY_H

#include "base/clock.h"
#include "base/log.h"

struct reel_alerts_status;
struct reel_events;
struct reel_hub;
struct reel_notify;

struct reel_notify_cfg {
    const char *datadir;
    const struct reel_clock *clock;  /* NULL = system */
    const struct reel_logger *log;   /* borrowed */
    struct reel_events *events;      /* NULL: no notes (test deliveries and hub status only) */
    struct reel_hub *hub;            /* NULL: MQTT status from events only */
    struct reel_alerts_status *status; /* NULL: none; written by MQTT (status.h); must outlive */
};

/* Never fails for want of a part: *ret may hold neither. -ENOMEM. */
int reel_notify_new(struct reel_notify **ret, const struct reel_notify_cfg *cfg, struct reel_err *err);
void reel_notify_free(struct reel_notify *n);

#endif

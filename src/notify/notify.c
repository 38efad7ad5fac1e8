/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Webhooks and MQTT started together and hung on the bus (notify.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "events/events.h"
#include "notify/mqtt.h"
#include "notify/notify.h"
#include "notify/webhook.h"

struct reel_notify {
    struct reel_events *events;
    struct reel_webhooks *webhooks;
    struct reel_mqtt *mqtt;
};

int reel_notify_new(struct reel_notify **ret, const struct reel_notify_cfg *cfg, struct reel_err *err)
{
    struct reel_notify *n = calloc(1, sizeof(*n));
    if (!n)
        return reel_err_set(err, ENOMEM, "alerts: out of memory");
    n->events = cfg->events;
    struct reel_err e = { "" };
    const struct reel_webhooks_cfg wcfg = { .datadir = cfg->datadir, .clock = cfg->clock, .log = cfg->log };
    if (reel_webhooks_new(&n->webhooks, &wcfg, &e) < 0) {
        reel_log(cfg->log, REEL_LOG_ERROR, "%s; no webhooks", e.msg);
        n->webhooks = NULL;
    }
    const struct reel_mqtt_cfg mcfg = { .datadir = cfg->datadir, .clock = cfg->clock, .log = cfg->log,
                                        .hub = cfg->hub, .status = cfg->status };
    if (reel_mqtt_new(&n->mqtt, &mcfg, &e) < 0) {
        reel_log(cfg->log, REEL_LOG_ERROR, "%s; no MQTT", e.msg);
        n->mqtt = NULL;
    }
    if (n->events && n->webhooks && reel_events_listen(n->events, reel_webhooks_on_note, n->webhooks) < 0)
        reel_log(cfg->log, REEL_LOG_ERROR, "webhooks: cannot listen to the event bus; no event deliveries");
    if (n->events && n->mqtt && reel_events_listen(n->events, reel_mqtt_on_note, n->mqtt) < 0)
        reel_log(cfg->log, REEL_LOG_ERROR, "mqtt: cannot listen to the event bus; no events over MQTT");
    *ret = n;
    return 0;
}

void reel_notify_free(struct reel_notify *n)
{
    if (!n)
        return;
    if (n->events && n->webhooks)
        reel_events_unlisten(n->events, reel_webhooks_on_note, n->webhooks);
    if (n->events && n->mqtt)
        reel_events_unlisten(n->events, reel_mqtt_on_note, n->mqtt);
    reel_webhooks_free(n->webhooks);
    reel_mqtt_free(n->mqtt);
    free(n);
}

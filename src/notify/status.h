/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the alerts are doing, for the Alerts page (GET /api/alerts/status):
 * the MQTT connection's state, broker and last error, written by the MQTT
 * thread and read by the web server. A small object with its own mutex;
 * `reel run` makes it and hands it to both.
 *
 * Ownership: reel_alerts_status_new() -> reel_alerts_status_free() (after
 * both users are gone). Every function takes NULL (does nothing / gives
 * "off").
 */
#ifndef REEL_NOTIFY_STATUS_H
#define REEL_NOTIFY_STATUS_H

#include <stdint.h>

#define REEL_ALERTS_STATE_MAX 16
#define REEL_ALERTS_BROKER_MAX 280
#define REEL_ALERTS_ERROR_MAX 160

struct reel_alerts_status;

struct reel_alerts_mqtt_view {
    char state[REEL_ALERTS_STATE_MAX];     /* "off", "connecting", "connected", "error" */
    char broker[REEL_ALERTS_BROKER_MAX];   /* "host:port" ("" when off) */
    char error[REEL_ALERTS_ERROR_MAX];     /* the last failure ("" none) */
    int64_t since_ns;                      /* wall time of the last change of state */
    int64_t cameras;                       /* cameras announced at the last connection */
};

int reel_alerts_status_new(struct reel_alerts_status **ret);
void reel_alerts_status_free(struct reel_alerts_status *s);
/* Sets the MQTT view; error NULL keeps the last one, "" clears it. since_ns
 * changes only when state does. */
void reel_alerts_status_mqtt(struct reel_alerts_status *s, const char *state, const char *broker, const char *error,
                             int64_t now_ns, int64_t cameras);
void reel_alerts_status_get(struct reel_alerts_status *s, struct reel_alerts_mqtt_view *ret);

#endif

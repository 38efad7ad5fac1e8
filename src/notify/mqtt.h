/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * MQTT (issue 15; docs/alerts.md), with libmosquitto: the broker named by
 * the setting mqtt.url (mqtt://host[:port] or mqtts://host[:port]; ""
 * = off) with mqtt.user / mqtt.password, topics under mqtt.prefix
 * (default "reel"):
 *   <prefix>/availability      online / offline (retained; offline is the last will)
 *   <prefix>/<camera>/motion   ON / OFF (retained)
 *   <prefix>/<camera>/status   online / offline (retained)
 *   <prefix>/events            each notification's JSON (reel_event_note_json())
 * and Home Assistant discovery (retained) under mqtt.discovery_prefix
 * (default "homeassistant"): binary_sensor/reel_<camera>/motion/config
 * (device_class motion) and .../connectivity/config (connectivity).
 *
 * Its own thread reads the settings and the camera table from its own
 * reel.db connection every 2 s (a change of settings reconnects, a change
 * of cameras re-announces: discovery for new cameras, an empty retained
 * config for removed ones) and the cameras' status from the hub; libmosquitto's
 * thread (mosquitto_loop_start) keeps the connection and reconnects with
 * backoff (1 s doubling to 60 s). Every (re)connection announces
 * everything again. The bus's listener (reel_mqtt_on_note) only queues.
 *
 * Ownership: reel_mqtt_new() -> reel_mqtt_free() (publishes "offline",
 * disconnects; stop the bus from calling the listener first).
 */
#ifndef REEL_NOTIFY_MQTT_H
#define REEL_NOTIFY_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"
#include "events/events.h"

#define REEL_MQTT_HOST_MAX 256
#define REEL_MQTT_URL_MAX 512
#define REEL_MQTT_USER_MAX 128
#define REEL_MQTT_PASSWORD_MAX 256
#define REEL_MQTT_PREFIX_MAX 64
#define REEL_MQTT_CAMERAS_MAX 256

struct reel_alerts_status;
struct reel_hub;
struct reel_mqtt;

struct reel_mqtt_cfg {
    const char *datadir;             /* copied */
    const struct reel_clock *clock;  /* NULL = system */
    const struct reel_logger *log;   /* borrowed; must outlive the object */
    struct reel_hub *hub;            /* NULL: camera status only from camera.offline events */
    struct reel_alerts_status *status; /* NULL: none; else written (notify/status.h), must outlive */
    size_t queue_max;                /* 0 = 1024 notes */
};

int reel_mqtt_new(struct reel_mqtt **ret, const struct reel_mqtt_cfg *cfg, struct reel_err *err);
void reel_mqtt_free(struct reel_mqtt *m);

/* The bus's listener (opaque = the struct reel_mqtt). Never blocks. */
void reel_mqtt_on_note(void *opaque, const struct reel_event_note *n);

/* ---- pure (tests/unit/test_notify.c; the settings' checks) ---- */

/* mqtt://host[:port] or mqtts://host[:port] (port 1..65535; default 1883 /
 * 8883; an IPv6 host in brackets; no path, no credentials). 0 or -EINVAL. */
int reel_mqtt_url_parse(const char *url, char *host, size_t host_cap, int *ret_port, bool *ret_tls);
/* A topic prefix: 1..63 bytes of [A-Za-z0-9_-] and '/' between levels. */
bool reel_mqtt_prefix_valid(const char *p);

#endif

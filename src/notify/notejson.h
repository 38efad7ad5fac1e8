/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A bus notification as the JSON that webhooks and MQTT send
 * (CONTRACTS15.md, docs/alerts.md): {"type":"start"|"end"|"instant",
 * "event":{"id","camera","kind","source","start","start90k","end","end90k",
 * "zones":[..],"peak","detail"}}. Pure; tests/unit/test_notify.c.
 */
#ifndef REEL_NOTIFY_NOTEJSON_H
#define REEL_NOTIFY_NOTEJSON_H

#include <jansson.h>

#include "events/events.h"

/* A new reference (NULL: out of memory). */
json_t *reel_notify_event_json(const struct reel_event *ev);
/* The note as compact text (malloc'd, free(); NULL: out of memory). */
char *reel_notify_note_json(const struct reel_event_note *n);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Events (issue 15): things an operator must hear about. Motion (from
 * src/motion/ or a camera's ONVIF PullPoint), a camera offline and back,
 * storage write errors, a disk nearly full, retention unable to make room,
 * evidence locks blocking retention. Reel reports change in the picture and
 * the state of the recorder; never who (no classes, faces or tracking).
 *
 * The bus: any thread reports an event with reel_events_begin() /
 * reel_events_end() (events that last) or reel_events_instant(); none of
 * them waits for I/O. The bus's own thread writes the table `event` in
 * reel.db and hands each notification to the listeners (webhooks, MQTT, the
 * page's live stream) in order. A listener's callback runs on that thread
 * and must not block (it queues for its own thread). A full queue drops the
 * oldest notification and counts it; recording never waits for the bus.
 *
 * Ids are given by reel_events_begin() at once (the next after the
 * table's largest at start), so an event can be ended before its row is
 * written. Events left open by a crash are closed at the next start (end =
 * the start of that run, detail says "closed at restart").
 *
 * Ownership: reel_events_new() -> reel_events_free() (after the listeners
 * are gone; writes what is queued first). Strings in struct reel_event are
 * copied.
 */
#ifndef REEL_EVENTS_EVENTS_H
#define REEL_EVENTS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/log.h"

struct reel_events;

#define REEL_EVENT_KIND_MAX 32     /* "motion", "camera.offline", ... */
#define REEL_EVENT_ZONES_MAX 512   /* zone names, comma-separated */
#define REEL_EVENT_DETAIL_MAX 512

/* kinds (event.kind) */
#define REEL_EVENT_MOTION "motion"                     /* source "motion" or "onvif" */
#define REEL_EVENT_CAMERA_OFFLINE "camera.offline"     /* lasts until the camera is back; detail: the reason */
#define REEL_EVENT_STORAGE_ERROR "storage.error"       /* instant; detail: what failed where */
#define REEL_EVENT_DISK_FULL "disk.full"               /* lasts while a storage dir is nearly full */
#define REEL_EVENT_RETENTION_BLOCKED "retention.blocked" /* instant: could not make room */
#define REEL_EVENT_LOCK_BLOCKING "lock.blocking"       /* instant: locks keep footage retention wanted gone */

struct reel_event {
    int64_t id;                    /* set by the bus */
    int64_t camera_id;             /* 0: site-wide */
    char camera[64];               /* the camera's name ("" site-wide); filled by the bus when empty */
    char kind[REEL_EVENT_KIND_MAX];
    char source[16];               /* "motion", "onvif", "recorder", "store" */
    int64_t start90k;              /* 90 kHz since the epoch */
    int64_t end90k;                /* 0 while it lasts */
    char zones[REEL_EVENT_ZONES_MAX]; /* motion: zones that moved, comma-separated ("" = whole picture) */
    int peak;                      /* motion: peak share of the analysed area that moved, 0..100 */
    char detail[REEL_EVENT_DETAIL_MAX];
};

/* What a listener is told: an event began (type "start"; ev.end90k 0),
 * ended ("end"; ev complete) or happened at once ("instant"). */
struct reel_event_note {
    const char *type;
    const struct reel_event *ev;
};

typedef void (*reel_events_listener_fn)(void *opaque, const struct reel_event_note *n);

struct reel_events_cfg {
    const char *datadir;           /* copied */
    const struct reel_clock *clock; /* NULL = system clock */
    const struct reel_logger *log; /* NULL = silent */
    size_t queue_max;              /* 0 = 4096 notifications */
};

int reel_events_new(struct reel_events **ret, const struct reel_events_cfg *cfg, struct reel_err *err);
void reel_events_free(struct reel_events *e);

/* Any thread, never blocks on I/O. *ret_id: the event's id, for _end.
 * -EINVAL without a kind, -ENOSPC with 1024 events open (ev-core). */
int reel_events_begin(struct reel_events *e, const struct reel_event *ev, int64_t *ret_id);
/* Ends event id at end90k; zones/peak (motion) replace the begin's when
 * non-NULL / >= 0. -ENOENT when the id is not open. */
int reel_events_end(struct reel_events *e, int64_t id, int64_t end90k, const char *zones, int peak);
int reel_events_instant(struct reel_events *e, const struct reel_event *ev);

/* Listeners: called on the bus's thread, in order, for every note. At
 * most 16. remove waits for a callback in progress to return. */
int reel_events_listen(struct reel_events *e, reel_events_listener_fn fn, void *opaque);
void reel_events_unlisten(struct reel_events *e, reel_events_listener_fn fn, void *opaque);

/* ---- additions by ev-core (see docs/events.md) ---- */

/* Waits until every note queued before the call is written and handed to
 * the listeners (tests, and `reel run` before it stops). Not from a
 * listener. */
void reel_events_sync(struct reel_events *e);
/* Notes dropped from a full queue since start. */
uint64_t reel_events_dropped(struct reel_events *e);
/* Whether id is an open event (begun, not yet ended). */
bool reel_events_is_open(struct reel_events *e, int64_t id);

/* The event's JSON (docs/events.md): {"id","camera","kind","source",
 * "start","start90k","end","end90k","zones":[..],"peak","detail"}; a new
 * reference (NULL without memory). */
json_t *reel_event_json(const struct reel_event *ev);
/* "door,gate" -> ["door","gate"]; a new reference. */
json_t *reel_event_zones_json(const char *zones);
/* A notification as compact JSON {"type":..,"event":{..}}; malloc'd
 * (free()), NULL without memory. */
char *reel_event_note_json(const struct reel_event_note *n);

#endif

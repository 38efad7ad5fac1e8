/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reading the table `event` (issue 15): the list behind GET /api/events
 * and `reel events` (newest first, by id, with a before_id cursor) and the
 * spans of one camera for the timeline. On any connection to reel.db (the
 * caller's thread; the functions keep no state).
 */
#ifndef REEL_EVENTS_QUERY_H
#define REEL_EVENTS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "events/events.h"

#define REEL_EVENT_QUERY_MAX 5000      /* rows of one call at most */
#define REEL_EVENT_SPANS_MAX 2000      /* a camera's timeline events at most */

/* One row with the name whose visibility governs it: the camera's, its
 * main camera's for a sub-stream's event, "" for a site-wide event. */
struct reel_event_row {
    struct reel_event ev;
    char visible_as[64];
};

struct reel_event_filter {
    const char *camera;            /* NULL/"": any; else this camera and its streams (by name) */
    const char *kind;              /* NULL/"": any */
    int64_t from90k, to90k;        /* 0: unbounded; else events overlapping [from, to) */
    int64_t before_id;             /* > 0: ids below it */
    size_t limit;                  /* 1..REEL_EVENT_QUERY_MAX */
};

/* Events matching f, newest (largest id) first, into *ret (malloc'd, the
 * caller's: free(); NULL when none). 0 or a negative errno with err. */
int reel_event_query(sqlite3 *db, const struct reel_event_filter *f, struct reel_event_row **ret, size_t *ret_n,
                     struct reel_err *err);

/* Events of camera_id (and its sub-streams) overlapping [from90k, to90k),
 * by start, at most REEL_EVENT_SPANS_MAX. An event that began more than a
 * day before from90k is found only when it is not a motion event (motion
 * events are short; the bound keeps the index scan short). */
int reel_event_spans(sqlite3 *db, int64_t camera_id, int64_t from90k, int64_t to90k, struct reel_event_row **ret,
                     size_t *ret_n, struct reel_err *err);

/* Whether kind is one of the kinds of events.h. */
bool reel_event_kind_known(const char *kind);

#endif

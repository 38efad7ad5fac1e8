/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The timeline's span cache: for each camera (stream row), its footage as a
 * sorted array of merged spans (recordings of one run that follow each other
 * within REEL_TL_JOIN90K, or that overlap, are one span), kept in memory by
 * the web server so that GET /api/timeline costs a binary search per camera
 * however many recordings there are (31 days of 60 s recordings are 44,640
 * rows per camera; their spans are a handful).
 *
 * It is a cache of the database, not a second truth: each query brings it
 * up to date in the caller's read snapshot, cheaply.
 *  - A camera is seeded on first use by one scan of its recordings.
 *  - New footage: the recordings of the camera starting at or after its
 *    "tail" (the start of its oldest recording seen open, or of its newest,
 *    less REEL_TLCACHE_TAIL90K for rows a syncer inserts late) are read
 *    again and merged in; merging a recording twice changes nothing.
 *  - Deleted footage: the store records every deletion (retention, disk
 *    full) as a range in the deletion table; when its signature
 *    (reel_store_deletions_sig) changes, every range is subtracted again.
 *  - A camera whose name no longer matches its id (removed and another
 *    added) is seeded again.
 * Footage removed otherwise (a camera's footage deleted with the camera:
 * it is gone; `reel check --repair` on a live database) shows until the
 * server restarts or reel_tlcache_forget() is called.
 *
 * Thread safe (one mutex; the work under it is small). Ownership: the
 * server owns the cache; reel_tlcache_spans() hands out a malloc'd copy.
 */
#ifndef REEL_HTTP_TLCACHE_H
#define REEL_HTTP_TLCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* How far before a camera's tail the refresh reads again. */
#define REEL_TLCACHE_TAIL90K (600 * REEL_90K)
/* Cameras cached at most (more are dropped, least recently used first). */
#define REEL_TLCACHE_CAMERAS_MAX 1024
/* Spans per camera at most (a camera that reconnects every minute for a
 * year has about 500,000): the oldest go first past this, with a log line
 * from the caller. */
#define REEL_TLCACHE_SPANS_MAX 2000000

struct reel_tlcache;

int reel_tlcache_new(struct reel_tlcache **ret);
void reel_tlcache_free(struct reel_tlcache *c);  /* NULL ok */

/* The spans of camera cam (id and name) overlapping [from90k, to90k),
 * oldest first, not clipped, as reel_span values (id 0, run_id the span's
 * index, wall_duration90k its length) that reel_timeline_build() takes.
 * Brings the cache up to date from s first: call it inside a read snapshot
 * (reel_store_read_begin) shared with the gaps' query. *ret malloc'd
 * (free(); NULL when none). -ENOMEM, or the store's errors. */
int reel_tlcache_spans(struct reel_tlcache *c, struct reel_store *s, int64_t cam_id, const char *cam_name,
                       int64_t from90k, int64_t to90k, struct reel_span **ret, size_t *ret_n, struct reel_err *err);

/* Drops everything (the next query seeds again). */
void reel_tlcache_forget(struct reel_tlcache *c);

/* ---- the merge, pure (tests/unit/test_timeline_cache.c) ---- */
struct reel_tlspan {
    int64_t start90k, end90k;
    int64_t run_id;                      /* the run of its last recording */
};
struct reel_tlspans {
    struct reel_tlspan *v;               /* malloc'd, sorted by start, disjoint */
    size_t n, alloc;
};
/* Adds [start90k, end90k) of run run_id: joined to a neighbour it overlaps
 * or touches, or that is of the same run and within REEL_TL_JOIN90K.
 * Idempotent. -ENOMEM. */
int reel_tlspans_add(struct reel_tlspans *t, int64_t start90k, int64_t end90k, int64_t run_id);
/* Removes [start90k, end90k) (a span may be cut in two). -ENOMEM. */
int reel_tlspans_sub(struct reel_tlspans *t, int64_t start90k, int64_t end90k);
/* Index of the first span ending after t90k (n when none). */
size_t reel_tlspans_find(const struct reel_tlspans *t, int64_t t90k);
void reel_tlspans_clear(struct reel_tlspans *t);

#endif

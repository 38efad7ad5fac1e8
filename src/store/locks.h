/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Evidence locks (tables evidence_lock, evidence_lock_camera; issue 14):
 * cameras x a time range, with a case name, a reason and an expiry. While a
 * lock is active (no expiry, or expiry still ahead of the store's clock) no
 * recording of its cameras overlapping its range is deleted: not by
 * retention (age or bytes), not when a disk is full (see syncer.c). A lock on
 * a camera also holds its sub-stream and audio rows. Locked bytes do not
 * count against a camera's byte retention: they are held outside it.
 *
 * And the site-wide retention cap (setting retention.max_days): no camera
 * may be given an age limit above it, and retention deletes by
 * min(camera's limit, cap), a camera with no age limit included.
 *
 * Who may lock and unlock, and the audit of it, are the callers' (the API
 * and the CLI). Caller's thread only, like the rest of the store.
 */
#ifndef REEL_STORE_LOCKS_H
#define REEL_STORE_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define REEL_LOCK_CAMERAS_MAX 64
#define REEL_LOCK_CASE_MAX 128      /* bytes with the NUL: 127 of text */
#define REEL_LOCK_REASON_MAX 1024
#define REEL_LOCK_USER_MAX 64
#define REEL_LOCK_LIST_MAX 10000    /* at most this many locks are listed */

struct reel_lock {
    int64_t id;
    int64_t start90k, end90k;       /* [start, end) wall time */
    char case_name[REEL_LOCK_CASE_MAX];
    char reason[REEL_LOCK_REASON_MAX];
    char created_by[REEL_LOCK_USER_MAX];
    int64_t created_ns;
    int64_t expires_ns;             /* 0 = never */
    bool active;                    /* not expired (at the store's clock); set by get/list */
    size_t ncameras;
    char cameras[REEL_LOCK_CAMERAS_MAX][REEL_NAME_MAX];
    int64_t held_bytes;             /* bytes of recordings it holds now (0 once expired); get/list */
};

/* Adds l (l->id, created_ns and active set on return; created_by is the
 * caller's). Cameras by name, main cameras only, 1..REEL_LOCK_CAMERAS_MAX of
 * them, no duplicates: -ENOENT (err names it) for an unknown one, -EINVAL for
 * an empty case or reason, a range with end <= start, an expiry in the past,
 * text with control characters. Needs a store opened for writing. */
int reel_store_lock_add(struct reel_store *s, struct reel_lock *l, struct reel_err *err);
/* One lock by id; -ENOENT when none. */
int reel_store_lock_get(struct reel_store *s, int64_t id, struct reel_lock *ret, struct reel_err *err);
/* All locks, newest first (at most REEL_LOCK_LIST_MAX). *ret malloc'd (free()). */
int reel_store_lock_list(struct reel_store *s, struct reel_lock **ret, size_t *ret_n, struct reel_err *err);
/* Changes a lock's case name (NULL keeps it) and, with set_expires, its
 * expiry (0 = never). -ENOENT, -EINVAL as for add. */
int reel_store_lock_change(struct reel_store *s, int64_t id, const char *case_name, bool set_expires,
                           int64_t expires_ns, struct reel_err *err);
/* Removes a lock (its footage goes back to retention). -ENOENT when none. */
int reel_store_lock_remove(struct reel_store *s, int64_t id, struct reel_err *err);
/* Bytes of camera_id's recordings (its streams' included) held by active
 * locks now. */
int reel_store_locked_bytes(struct reel_store *s, int64_t camera_id, int64_t *ret, struct reel_err *err);

/* The active locks on camera_id (or on the camera it is a stream of)
 * overlapping [from90k, to90k), oldest start first, at most
 * REEL_LOCK_SPANS_MAX: id, range and case only (the timeline). Reads only,
 * so it may run inside a read snapshot. *ret malloc'd (free()). */
#define REEL_LOCK_SPANS_MAX 1000
struct reel_lock_span {
    int64_t id, start90k, end90k;
    char case_name[REEL_LOCK_CASE_MAX];
};
int reel_store_lock_spans(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                          struct reel_lock_span **ret, size_t *ret_n, struct reel_err *err);

/* The retention cap in days (0 = none); a malformed setting reads as 0
 * with -EINVAL. */
#define REEL_RETENTION_CAP_KEY "retention.max_days"
#define REEL_RETENTION_CAP_MAX_DAYS 36500
int reel_store_retention_cap(struct reel_store *s, int64_t *ret_days, struct reel_err *err);
/* Sets it (0 removes it): -EINVAL outside 0..REEL_RETENTION_CAP_MAX_DAYS. */
int reel_store_retention_cap_set(struct reel_store *s, int64_t days, struct reel_err *err);
/* -EINVAL with a message naming the cap when retain_seconds is above it. */
int reel_store_retention_cap_check(struct reel_store *s, int64_t retain_seconds, struct reel_err *err);

/* The text a disk-full error carries when only locked footage is left in a
 * directory (status and the storage API look for it). */
#define REEL_STORE_FULL_LOCKED "only footage under evidence lock is left"

#endif

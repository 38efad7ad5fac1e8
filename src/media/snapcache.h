/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The snapshot route's cache: per hub camera, the JPEG of its latest cached
 * key frame (reel_hub_keyframe_get + reel_hub_entry_get +
 * reel_media_snapshot_jpeg), decoded at most once per REEL_SNAPCACHE_TTL_NS:
 * a request within that time gets the stored JPEG, and requests arriving
 * while a camera's picture is being decoded wait for that one decode
 * instead of starting their own. At most REEL_SNAPCACHE_CAMERAS cameras
 * are kept (the least recently used goes first), each JPEG at most
 * REEL_SNAPCACHE_JPEG_MAX bytes.
 *
 * Threads: any (the HTTP worker pool). Ownership: reel_snapcache_new() ->
 * reel_snapcache_free() (the hub and clock must outlive it).
 */
#ifndef REEL_MEDIA_SNAPCACHE_H
#define REEL_MEDIA_SNAPCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"

struct reel_hub;
struct reel_snapcache;

#define REEL_SNAPCACHE_TTL_NS (5 * REEL_NS_PER_SEC)
#define REEL_SNAPCACHE_CAMERAS 256
#define REEL_SNAPCACHE_JPEG_MAX (4u << 20)
#define REEL_SNAPCACHE_WIDTH 1280   /* pictures are scaled to at most this wide */

/* clock NULL = the system clock. -ENOMEM. */
int reel_snapcache_new(struct reel_snapcache **ret, struct reel_hub *hub,
                       const struct reel_clock *clock, struct reel_err *err);
void reel_snapcache_free(struct reel_snapcache *c);

/* The JPEG of hub camera camera_id: *jpeg malloc'd (free()), *cached true
 * when no decode was needed. -ENOENT (no key frame cached in the hub: the
 * camera is offline or the GOP cache is off), or the errors of
 * reel_media_snapshot_jpeg, with err filled. */
int reel_snapcache_get(struct reel_snapcache *c, int64_t camera_id, uint8_t **jpeg, size_t *len,
                       bool *cached, struct reel_err *err);

/* Decodes done so far (tests). */
uint64_t reel_snapcache_decodes(struct reel_snapcache *c);

#endif

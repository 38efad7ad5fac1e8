/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On-demand H.265 -> H.264 transcodes for live viewers whose browser cannot
 * play H.265. One thread per transcoded camera subscribes to the camera's
 * access units in the hub (starting at the cached GOP's key frame),
 * transcodes them with reel_xcode (xcode.h: <= 1280x720, libx264
 * ultrafast/zerolatency, key frames where the source has them) and
 * publishes the H.264 access units to hub camera
 * REEL_HUB_TRANSCODE_ID(camera_id) with its own sample entries (ids 1, 2,
 * ... set with reel_hub_cam_set_entry), where the live route subscribes like
 * to any camera; the camera's state events are passed on to it too (a
 * viewer's stream ends when the camera stops).
 *
 * Viewers are counted: reel_transcode_acquire() starts the camera's
 * transcode or joins the running one, reel_transcode_release() leaves it;
 * the thread stops `linger` after the last viewer left (default 10 s, so a
 * reconnecting player finds it running). At most `max` transcodes exist at
 * once (lingering ones count until they stop; a lingering one is stopped to
 * make room): over it, -EBUSY. The recording path is never touched: the
 * transcode reads through its own bounded hub subscription, so a transcode
 * slower than the camera only loses its own access units (the hub drops it
 * to the next key frame).
 *
 * Threads: every function may be called from any thread.
 * Ownership: reel_transcoders_new() -> reel_transcoders_free() (stops and
 * joins every thread; before the hub is freed).
 */
#ifndef REEL_MEDIA_TRANSCODE_H
#define REEL_MEDIA_TRANSCODE_H

#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"

struct reel_hub;
struct reel_transcoders;

#define REEL_TRANSCODE_MAX_DEFAULT 2
#define REEL_TRANSCODE_MAX_LIMIT 64
#define REEL_TRANSCODE_LINGER_NS (10 * REEL_NS_PER_SEC)
#define REEL_TRANSCODE_WIDTH 1280
#define REEL_TRANSCODE_HEIGHT 720

/* max in 1..REEL_TRANSCODE_MAX_LIMIT (else -EINVAL); log (may be NULL)
 * gets one line per transcode started and stopped and per error; hub and
 * log must outlive the transcoders. -ENOMEM. */
int reel_transcoders_new(struct reel_transcoders **ret, struct reel_hub *hub, unsigned max,
                         const struct reel_logger *log, struct reel_err *err);
/* Stops every transcode and joins its thread. NULL ok. */
void reel_transcoders_free(struct reel_transcoders *t);
/* Before the first acquire: the linger after the last viewer (ns >= 0) and
 * the clock measuring it (NULL = system clock; must outlive t). */
void reel_transcoders_set_linger(struct reel_transcoders *t, int64_t linger_ns,
                                 const struct reel_clock *clock);

/* One more viewer of camera_id's transcode (camera_id > 0), starting it if
 * needed; *hub_camera_id = REEL_HUB_TRANSCODE_ID(camera_id). -EBUSY over
 * the cap, -EINVAL, -ENOMEM, -EAGAIN (thread creation), with err filled.
 * Each success is paired with one reel_transcode_release(). */
int reel_transcode_acquire(struct reel_transcoders *t, int64_t camera_id, int64_t *hub_camera_id,
                           struct reel_err *err);
void reel_transcode_release(struct reel_transcoders *t, int64_t camera_id);
/* One transcode done by the caller itself (a recorded fragment with
 * ?h264=1, src/api/fragments.c), counted against the same cap as the live
 * transcodes (a lingering one is stopped to make room). -EBUSY over it.
 * Each success is paired with one reel_transcode_slot_give(). */
int reel_transcode_slot_take(struct reel_transcoders *t, struct reel_err *err);
void reel_transcode_slot_give(struct reel_transcoders *t);

struct reel_transcode_stats {
    unsigned running;          /* threads alive (lingering included) */
    uint64_t started, stopped; /* since reel_transcoders_new */
    uint64_t frames;           /* frames encoded by every transcode */
    uint64_t errors;           /* decode/encode errors */
};
void reel_transcoders_stats(struct reel_transcoders *t, struct reel_transcode_stats *ret);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One camera's streamer: connects to the camera over RTSP, depacketises the
 * video, and hands access units to the store as a run of recordings. On any
 * failure it logs one line naming the camera and the cause, records an outage
 * with that reason, keeps every frame already received, and reconnects with a
 * capped exponential backoff. Cameras never affect each other: they share
 * only the loop and the store.
 *
 * Ownership: reel_cam_new() copies what it needs from the camera row and the
 * password; the recorder owns the struct reel_cam and frees it with
 * reel_cam_free() after reel_cam_stop().
 */
#ifndef REEL_REEL_CAMERA_H
#define REEL_REEL_CAMERA_H

#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"
#include "reel/loop.h"
#include "store/store.h"

struct reel_cam;

struct reel_cam_opts {
    int64_t media_timeout_ns;       /* no frame for this long = stalled (default 10 s) */
    int64_t connect_timeout_ns;     /* TCP connect + each RTSP request (default 10 s) */
    int64_t backoff_min_ns;         /* first retry delay (default 1 s) */
    int64_t backoff_max_ns;         /* cap (default 30 s) */
    int64_t udp_silence_ns;         /* UDP without packets -> fall back to TCP (default 5 s) */
};

int reel_cam_new(struct reel_cam **ret, struct reel_loop *loop, struct reel_store *store,
                 const struct reel_logger *log, const struct reel_camera *cfg,
                 const char *password, const struct reel_cam_opts *opts);
/* Starts connecting (now). */
void reel_cam_start(struct reel_cam *c);
/* Tears the session down (best effort TEARDOWN), ends the run durably, and
 * records the outage "recorder stopped". */
void reel_cam_stop(struct reel_cam *c);
void reel_cam_free(struct reel_cam *c);

/* Writes the camera's live status row (fps/bitrate over the last window). */
void reel_cam_report_status(struct reel_cam *c);

#endif

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
struct reel_video_params;

struct reel_cam_au {               /* one access unit as handed to the store */
    const uint8_t *data;           /* length-prefixed NAL units; valid only during the call */
    size_t len;
    int64_t ts90k;                 /* media timestamp after fix-ups (as stored) */
    int64_t wall90k;               /* wall time of arrival, 90 kHz since the epoch */
    bool key;
    int64_t sample_entry_id;
    const struct reel_video_params *params;   /* codec/size/sample entry in effect (rtp/depack.h) */
};
struct reel_cam_hooks {            /* all called on the loop thread; each may be NULL */
    void (*on_au)(void *opaque, int64_t camera_id, const struct reel_cam_au *au);
    void (*on_state)(void *opaque, const struct reel_camera_status *st);  /* at every state change */
    void *opaque;
};

struct reel_cam_opts {
    int64_t media_timeout_ns;       /* no frame for this long = stalled (default 10 s) */
    int64_t connect_timeout_ns;     /* TCP connect + each RTSP request (default 10 s) */
    int64_t backoff_min_ns;         /* first retry delay (default 1 s) */
    int64_t backoff_max_ns;         /* cap (default 30 s) */
    int64_t udp_silence_ns;         /* UDP without packets -> fall back to TCP (default 5 s) */
    const struct reel_cam_hooks *hooks;   /* NULL = none; must outlive the camera */
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

/* Fills *ret from memory, no I/O: state, last error, fps/bitrate over the
 * window since the previous call (which it restarts). */
void reel_cam_status(struct reel_cam *c, struct reel_camera_status *ret);

#endif

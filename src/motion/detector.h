/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The motion detector of `reel run` (issue 15): for every enabled camera
 * whose camera_events.motion is 'decode', a hub subscription to its
 * sub-stream's access units (its main stream when it has none), decoded
 * with libavcodec on a small pool of worker threads (never the recorder's
 * loop), analysed at the configured rate by the model (model.h), stored as
 * the per-second grid one row per minute (table motion_minute, grid.h) and
 * reported as events (kind "motion", source "motion") on the bus.
 *
 * Decoding is cheap on purpose: one thread per decoder, the deblocking
 * filter skipped, non-reference frames skipped (AVDISCARD_NONREF), only
 * the luma plane read; frames between analysis times are decoded (later
 * frames need them) but not analysed. A worker that falls behind never
 * slows recording: the hub drops its queued access units (bounded queue)
 * and it starts again at the next key frame.
 *
 * Events: a start when some zone moved in 2 analysed frames in a row (the
 * start is the first of them); an end when no zone moved for
 * REEL_MOTION_QUIET_S seconds (the end is the last frame that moved), or
 * when the detector stops (camera removed, motion turned off, Reel
 * stopping). The rolls (pre_roll_s, post_roll_s) are applied by retention
 * and playback, not here.
 *
 * Configuration: the control thread reads the rows every
 * REEL_MOTION_POLL_NS and at once after reel_motion_changed() (the config
 * route calls it), and starts, stops or restarts the cameras' detectors
 * whose row, name or stream changed, while recording goes on.
 *
 * Threads: the control thread (configuration, and reel.db writes through
 * its own connection: the minutes' grid rows) and cfg.workers workers.
 * Ownership: reel_motion_new() -> reel_motion_free() (before the hub and
 * the bus are freed; ends open events and writes the last minutes).
 */
#ifndef REEL_MOTION_DETECTOR_H
#define REEL_MOTION_DETECTOR_H

#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"

struct reel_hub;
struct reel_events;
struct reel_motion;

#define REEL_MOTION_WORKERS_MAX 16
#define REEL_MOTION_CAMERAS_MAX 256
#define REEL_MOTION_POLL_NS (2 * REEL_NS_PER_SEC)
#define REEL_MOTION_QUIET_S 2
#define REEL_MOTION_WRITES_MAX 1024      /* minutes queued for the writer */

struct reel_motion_run_cfg {
    const char *datadir;             /* copied */
    struct reel_hub *hub;            /* must outlive the detector */
    struct reel_events *events;      /* NULL: no events (grid only) */
    const struct reel_clock *clock;  /* NULL: the system clock */
    const struct reel_logger *log;   /* NULL: silent */
    unsigned workers;                /* 0 = 2, at most REEL_MOTION_WORKERS_MAX */
};

struct reel_motion_stats {
    unsigned cameras;                /* detectors running */
    uint64_t aus;                    /* access units read */
    uint64_t decoded;                /* pictures out of the decoders */
    uint64_t analysed;
    uint64_t recalibrations;
    uint64_t lost;                   /* access units the hub dropped (a worker behind) */
    uint64_t decode_errors;
    uint64_t events;
    uint64_t minutes_written;
    uint64_t writes_dropped;
};

int reel_motion_new(struct reel_motion **ret, const struct reel_motion_run_cfg *cfg, struct reel_err *err);
/* Stops the threads: open events end, the last minutes are written; the
 * stats stay readable until reel_motion_free() (which stops too). */
void reel_motion_stop(struct reel_motion *m);
void reel_motion_free(struct reel_motion *m);
/* Any thread: re-read the configuration now (returns at once). */
void reel_motion_changed(struct reel_motion *m);
void reel_motion_get_stats(struct reel_motion *m, struct reel_motion_stats *ret);

#endif

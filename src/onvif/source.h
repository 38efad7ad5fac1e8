/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The ONVIF motion source (issue 15): for each enabled camera whose
 * camera_events row says motion = 'onvif' with an onvif_xaddr, a worker
 * thread holds a PullPoint subscription on the camera and turns its motion
 * notes (tns1:VideoSource/MotionAlarm State, tns1:RuleEngine/
 * CellMotionDetector/Motion IsMotion) into events on the bus: kind
 * "motion", source "onvif". The robustness list (ANCHORS, ZoneMinder's
 * options): PullMessages with a 5 s timeout in a loop; Renew once less than
 * a third of the lifetime (at most 20 s) is left, a new subscription when
 * that fails; WS-Security time corrected by the device's clock skew
 * (GetSystemDateAndTime, re-read at each new subscription); failures
 * retried `retries` times `retry_ns` apart, then a cool-down; a camera that
 * never says "off" has its event ended motion_max_ns after its last "on".
 *
 * A manager thread re-reads the table every poll_ns (own read-only reel.db
 * connection) or at once after reel_onvif_source_reload(), and starts,
 * restarts (the address or credentials changed) or stops workers. Stopping
 * cancels a call in progress (curl's progress callback) and ends an open
 * event. Credentials are read from reel.db, held in memory only while the
 * worker runs (wiped at its end), and never logged.
 *
 * Ownership: _start -> _stop (NULL ok), which joins every thread. cfg's
 * pointers must outlive the source; the bus must be freed after it.
 */
#ifndef REEL_ONVIF_SOURCE_H
#define REEL_ONVIF_SOURCE_H

#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"

struct reel_events;
struct reel_onvif_source;

#define REEL_ONVIF_SOURCE_CAMERAS_MAX 256

struct reel_onvif_source_cfg {
    const char *datadir;               /* copied */
    struct reel_events *events;        /* required */
    const struct reel_clock *clock;    /* NULL = system */
    const struct reel_logger *log;     /* NULL = silent */
    int64_t poll_ns;                   /* 0 = 5 s */
    int64_t motion_max_ns;             /* 0 = 60 s */
    int64_t retry_ns;                  /* 0 = 2 s */
    int64_t cooldown_ns;               /* 0 = 30 s */
    int retries;                       /* 0 = 3 */
    int pull_timeout_s;                /* 0 = 5 */
    int term_s;                        /* the subscription lifetime asked for; 0 = 60 */
};

int reel_onvif_source_start(struct reel_onvif_source **ret, const struct reel_onvif_source_cfg *cfg,
                            struct reel_err *err);
/* Any thread, never blocks: re-read camera_events now (after a change to a
 * camera or its motion settings). NULL ok. */
void reel_onvif_source_reload(struct reel_onvif_source *s);
void reel_onvif_source_stop(struct reel_onvif_source *s);

#endif

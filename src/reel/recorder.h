/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The recorder of `reel run`: the store (opened for recording), the event
 * loop, the set of running cameras keyed by id, the hub that publishes
 * their access units, states and recording events, and the control socket.
 * Cameras are added, changed and removed while the others record: reel.db
 * stays the single source of truth for configuration; whoever changes a
 * camera's row (the CLI through the control socket, the HTTP API through
 * struct reel_http_recorder) then calls camera_changed, which reads the row
 * on its own database connection (never on the loop), hands it to the loop
 * through a command queue (mutex + eventfd), and waits at most 5 s for the
 * loop to apply it. See docs/recorder.md.
 *
 * Threads: reel_recorder_new/run/free on the main thread; the loop thread
 * is the one that calls reel_recorder_run(). camera_changed and
 * camera_status from any other thread.
 *
 * Ownership: reel_recorder_new() -> reel_recorder_free(); cfg's strings and
 * logger must outlive the recorder.
 */
#ifndef REEL_REEL_RECORDER_H
#define REEL_REEL_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "http/http.h"
#include "hub/hub.h"
#include "reel/camera.h"
#include "reel/loop.h"
#include "store/store.h"

#define REEL_RECORDER_APPLY_TIMEOUT_NS (5 * REEL_NS_PER_SEC)

struct reel_recorder;
struct reel_events;

struct reel_recorder_cfg {
    /* datadir, checkpoint_ns, rotate_ns, buffered_io, no_io_uring; the
     * recorder sets mode, on_event, on_recording and opaque. */
    struct reel_store_cfg store;
    struct reel_cam_opts cam_opts;    /* hooks and resolver are the recorder's */
    const struct reel_logger *log;
    bool no_control;                  /* no control socket (tests) */
};

/* Opens the store for recording (recovery, syncer), the loop, the hub, a
 * read connection for the control thread, and creates the enabled cameras
 * (not started). */
int reel_recorder_new(struct reel_recorder **ret, const struct reel_recorder_cfg *cfg, struct reel_err *err);
struct reel_loop *reel_recorder_loop(struct reel_recorder *r);
struct reel_hub *reel_recorder_hub(struct reel_recorder *r);
/* For the HTTP server's cfg; valid while the recorder lives. */
const struct reel_http_recorder *reel_recorder_http(struct reel_recorder *r);
size_t reel_recorder_ncams(const struct reel_recorder *r);

/* Starts the cameras and the control socket, runs the loop until
 * reel_loop_stop(), then stops the control socket and every camera (each
 * run closed durably). Returns reel_loop_run()'s result. */
int reel_recorder_run(struct reel_recorder *r);

/* The event bus (issue 15, events.h) the recorder reports camera.offline
 * and the store's trouble to; NULL: none. Before reel_recorder_run() only;
 * the bus must outlive the recorder. It is given after reel_recorder_new()
 * so that the bus is made only once the store holds the data directory's
 * lock (a second `reel run` must not close the first one's open events). */
void reel_recorder_set_events(struct reel_recorder *r, struct reel_events *events);
struct reel_events *reel_recorder_events(struct reel_recorder *r);

/* Any thread but the loop's: see struct reel_http_recorder. -ESHUTDOWN
 * when the loop is not running. */
int reel_recorder_camera_changed(struct reel_recorder *r, const char *name, struct reel_err *err);
int reel_recorder_camera_status(struct reel_recorder *r, int64_t camera_id, struct reel_camera_status *ret);

/* Closes the store (runs still open are closed durably). NULL ok. */
void reel_recorder_free(struct reel_recorder *r);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The control socket of `reel run`: DATADIR/control.sock (AF_UNIX stream,
 * mode 0600), through which the CLI on the same machine tells the running
 * recorder that a camera's row changed and asks for live status. One
 * request per connection, one line each way (docs/recorder.md):
 *
 *   camera NAME\n   ->  ok\n  |  error TEXT\n     (after the recorder applied the row)
 *   status\n        ->  one JSON object per line, one per camera, then end\n
 *
 * The server runs on its own thread (never the recorder's loop). Limits:
 * a request line of at most REEL_CONTROL_LINE_MAX bytes (longer: "error
 * line too long" and the connection is closed), REEL_CONTROL_CLIENTS
 * connections at once (more are told "error busy" and closed), a request
 * must arrive within 5 s of the connection, and a reply that the client
 * does not read within 5 s is abandoned. Requests are served one at a time.
 *
 * Ownership: reel_control_start() -> reel_control_stop() (joins the thread,
 * removes the socket file).
 */
#ifndef REEL_REEL_CONTROL_H
#define REEL_REEL_CONTROL_H

#include <stdint.h>

#include "base/buf.h"
#include "base/log.h"

#define REEL_CONTROL_LINE_MAX 512
#define REEL_CONTROL_CLIENTS 16
#define REEL_CONTROL_SOCKET "control.sock"

struct reel_control;

struct reel_control_ops {
    /* Called on the control thread; blocks until applied (bounded). */
    int (*camera_changed)(void *opaque, const char *name, struct reel_err *err);
    /* Appends the status lines (each ending in '\n', without "end"). */
    int (*status)(void *opaque, struct reel_buf *out);
    void *opaque;
};

/* Binds DATADIR/control.sock (a stale socket file left by a crashed
 * recorder is removed first: the data directory's lock guarantees one
 * recorder) and starts the thread. ops and log must outlive the server. */
int reel_control_start(struct reel_control **ret, const char *datadir, const struct reel_control_ops *ops,
                       const struct reel_logger *log, struct reel_err *err);
/* Stops the thread and removes the socket. NULL ok. */
void reel_control_stop(struct reel_control *c);

/* Client side (the CLI): sends line (without '\n') to the recorder of
 * datadir and reads its reply. Each reply line but the last is passed to
 * on_line (may be NULL). Returns 0 for "ok"/"end"; -EREMOTEIO for "error
 * TEXT" (TEXT in errbuf); -ENOENT or -ECONNREFUSED when no recorder runs;
 * -ETIMEDOUT after timeout_ns; -EPROTO for anything else. */
int reel_control_request(const char *datadir, const char *line, int64_t timeout_ns,
                         void (*on_line)(void *opaque, const char *line), void *opaque, char *errbuf,
                         size_t errcap);

#endif

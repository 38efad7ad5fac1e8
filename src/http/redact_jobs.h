/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The redacted-export jobs of a server (issue 14, "Disclosure";
 * src/api/redactions.c is the HTTP side). A job re-encodes one camera's
 * range with the user's rectangles painted in (src/media/redact.h) on its
 * own thread, never on the recorder's loop or a libmicrohttpd thread. One
 * job runs at a time (a second start gets -EBUSY: the caller answers 503):
 * an encode takes a core.
 *
 * Jobs are kept in memory, the newest REEL_REDACT_JOBS_KEEP of them (the
 * oldest finished one is dropped, its files deleted, when a new one would
 * pass that); the files live in DATADIR/redactions/<id>/ (0700 directory,
 * 0600 files). At server start the directory's leftovers of an earlier run
 * are deleted: a redacted copy is made to be downloaded and handed over,
 * not kept (the disclosure log keeps the record).
 *
 * Thread safe (one mutex). Ownership: reel_redact_jobs_new() ->
 * reel_redact_jobs_free() (cancels a running job and joins its thread).
 */
#ifndef REEL_HTTP_REDACT_JOBS_H
#define REEL_HTTP_REDACT_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/log.h"
#include "media/redact_boxes.h"

#define REEL_REDACT_JOBS_KEEP 32
#define REEL_REDACT_RANGE_MAX90K (INT64_C(10) * 60 * 90000)   /* 10 minutes */
#define REEL_REDACT_REASON_MAX 1000

struct reel_redact_jobs;

int reel_redact_jobs_new(struct reel_redact_jobs **ret, const char *datadir, const struct reel_clock *clock,
                         const struct reel_logger *log, struct reel_err *err);
void reel_redact_jobs_free(struct reel_redact_jobs *j);

struct reel_redact_request {
    int64_t user_id;
    const char *user;
    const char *camera;
    int64_t camera_id;
    int64_t from90k, to90k;
    const char *reason;
    const struct reel_redact_spec *spec;   /* copied */
};

/* Starts a job; its id (16 hex digits) into id. -EBUSY when one runs,
 * -ENOMEM, -EIO (the directory) with err. */
int reel_redact_jobs_start(struct reel_redact_jobs *j, const struct reel_redact_request *req, char id[17],
                           struct reel_err *err);

/* The jobs as a JSON array, newest first: all of them when all, else only
 * user_id's. A new reference (NULL: out of memory). */
json_t *reel_redact_jobs_list(struct reel_redact_jobs *j, bool all, int64_t user_id);

/* One job as JSON (with its rectangles), or NULL when there is no job id
 * or it is not user_id's and !all. */
json_t *reel_redact_jobs_get(struct reel_redact_jobs *j, const char *id, bool all, int64_t user_id);

/* The finished file of a job: its path and download name. -ENOENT (no such
 * job, or not the caller's), -EAGAIN (not done). */
int reel_redact_jobs_file(struct reel_redact_jobs *j, const char *id, bool all, int64_t user_id, char *path,
                          size_t path_cap, char *name, size_t name_cap);

#endif

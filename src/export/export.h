/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Export jobs (POST /api/exports, docs/exports.md): a range of one or more
 * cameras written to a file under DATADIR/exports/<id>/ by a thread of the
 * job's own, never on the recorder's loop or an HTTP thread. One camera
 * gives one MP4 (src/mp4's range builder, as view.mp4 and `reel export`);
 * several give one zip (libzip, stored, not compressed) of one MP4 per
 * camera. Each MP4 goes through reel_export_sign_hook() before it is
 * published. Jobs and their state are rows of table `export` (progress
 * written at most twice a second); a job does not survive a restart: at
 * reel_exports_new() a row still "running" becomes "failed". Exports older
 * than keep_days are deleted (rows and files) at start and then at most
 * once an hour when the list is read.
 *
 * Threads: every function may be called from any thread; the manager holds
 * one database connection behind a mutex. Files: the directory 0700, files
 * 0600, opened with O_NOFOLLOW|O_EXCL.
 */
#ifndef REEL_EXPORT_EXPORT_H
#define REEL_EXPORT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"
#include "export/name.h"

#define REEL_EXPORT_CAMERAS_MAX 16
#define REEL_EXPORT_RANGE_MAX (24 * 3600 * REEL_90K)   /* longest range */
#define REEL_EXPORT_REASON_MAX 500                     /* bytes of a reason */
#define REEL_EXPORT_RUNNING_MAX 4                      /* jobs running in all (default) */
#define REEL_EXPORT_USER_MAX 2                         /* jobs running per user (default) */
#define REEL_EXPORT_KEEP_DAYS 7
#define REEL_EXPORT_LIST_MAX 500                       /* rows a list returns */

struct reel_exports;

struct reel_exports_cfg {
    const char *datadir;            /* copied */
    const struct reel_clock *clock; /* NULL = system; must outlive the manager */
    const struct reel_logger *log;  /* NULL = silent; must outlive the manager */
    unsigned keep_days;             /* 0 = REEL_EXPORT_KEEP_DAYS */
    unsigned running_max;           /* 0 = REEL_EXPORT_RUNNING_MAX */
    unsigned user_max;              /* 0 = REEL_EXPORT_USER_MAX */
};

/* Opens the manager (its own connection to reel.db), marks interrupted jobs
 * failed and deletes expired exports. *ret owned by the caller. */
int reel_exports_new(struct reel_exports **ret, const struct reel_exports_cfg *cfg, struct reel_err *err);
/* Cancels the running jobs, joins their threads, frees. NULL ok. */
void reel_exports_free(struct reel_exports *x);

/* A new job: everything borrowed for the call (copied). Cameras must be
 * known main-stream names the caller may see (the API checks). */
struct reel_export_req {
    const char *const *cameras;
    size_t ncameras;                /* 1..REEL_EXPORT_CAMERAS_MAX */
    int64_t start90k, end90k;       /* 0 < end - start <= REEL_EXPORT_RANGE_MAX */
    const char *reason;             /* "" ok */
    bool audio;                     /* the cameras' audio tracks when recorded */
    int64_t user_id;
    const char *user;
};

struct reel_export_info {
    char id[17];                    /* 16 hex digits */
    int64_t user_id;
    char user[64];
    char cameras[REEL_EXPORT_CAMERAS_MAX][72];
    size_t ncameras;
    int64_t start90k, end90k, created_ns;
    char reason[REEL_EXPORT_REASON_MAX + 1];
    char status[12];                /* running, done, failed */
    double progress;                /* 0..1 */
    int64_t bytes;
    char file[REEL_EXPORT_NAME_MAX];
    char error[256];                /* "" when none */
    char sha256[65];                /* "" when unknown */
    bool sign;                      /* signed */
};

/* Starts a job: 0 and *ret filled (status running). -EUSERS when user_id
 * has user_max jobs running, -EAGAIN when running_max run in all, -EINVAL
 * for a bad request, other negative errno with err. */
int reel_exports_create(struct reel_exports *x, const struct reel_export_req *req, struct reel_export_info *ret,
                        struct reel_err *err);
/* Newest first, at most REEL_EXPORT_LIST_MAX; user_id 0 = everyone's.
 * *ret malloc'd (free()). */
int reel_exports_list(struct reel_exports *x, int64_t user_id, struct reel_export_info **ret, size_t *ret_n,
                      struct reel_err *err);
/* One export; -ENOENT when unknown. */
int reel_exports_get(struct reel_exports *x, const char *id, struct reel_export_info *ret, struct reel_err *err);
/* Opens a done export's file for reading (O_NOFOLLOW); the caller closes
 * it. -ENOENT unknown, -EBUSY not done (running or failed). */
int reel_exports_open(struct reel_exports *x, const char *id, int *ret_fd, uint64_t *ret_size,
                      struct reel_err *err);
/* Deletes an export (cancels it when running; its thread removes what it
 * wrote). -ENOENT when unknown. */
int reel_exports_delete(struct reel_exports *x, const char *id, struct reel_err *err);

#endif

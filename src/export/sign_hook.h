/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The point where an export job hands each MP4 it has written to the
 * signing code (issue 14, ac-proof) before the job zips or publishes it.
 * The export job (export.c) calls reel_export_sign_hook() once per camera,
 * on the job's thread, after the MP4 is complete and synced. sign_hook.c is
 * a no-op until signing lands; the struct is what the signer needs.
 */
#ifndef REEL_EXPORT_SIGN_HOOK_H
#define REEL_EXPORT_SIGN_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

/* Everything is borrowed from the job for the duration of the call. */
struct reel_export_job_file {
    const char *camera;             /* the camera's name */
    const char *path;               /* the MP4 (absolute); the hook may rewrite it in place
                                     * and add files named path + suffix next to it */
    int64_t start90k, end90k;       /* the range asked for */
    const int64_t *recordings;      /* ids of the source recordings, oldest first */
    size_t nrecordings;
    uint32_t frames;                /* video frames in the MP4 */
    const char *user;               /* who asked for the export */
    const char *reason;             /* the reason given ("" when none) */
    int64_t created_ns;             /* when the export was asked for (wall ns) */
    const char *datadir;            /* the data directory (site keys live there) */
};

/* 0, or a negative errno with err filled (the job then fails with it). */
int reel_export_sign_hook(const struct reel_export_job_file *f, struct reel_err *err);

#endif

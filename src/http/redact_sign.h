/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Marks a finished redacted MP4 as a derived copy and signs it like any
 * export (ac-proof's reel_proof_sign_mp4: manifest box + sidecar), with
 * derived_from = the original range's recordings (ids and hashes) and the
 * rectangles applied. Called on the job's thread.
 */
#ifndef REEL_HTTP_REDACT_SIGN_H
#define REEL_HTTP_REDACT_SIGN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"
#include "media/redact_boxes.h"

struct reel_redact_sign_in {
    const char *datadir;
    const char *path;                  /* the MP4, signed in place */
    const char *camera;
    int64_t camera_id;
    int64_t from90k, to90k;
    uint64_t frames;
    const char *user;
    int64_t created_ns;
    const char *reason;
    const struct reel_redact_spec *spec;
};

/* 0 and *signed_ true when signed; 0 and false when signing is not built
 * in; a negative errno with err otherwise. */
int reel_redact_sign(const struct reel_redact_sign_in *in, bool *signed_, struct reel_err *err);

#endif

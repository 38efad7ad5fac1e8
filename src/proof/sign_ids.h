/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Signing an export made from recording ids: the source recordings' hashes
 * are read from the site's index (reel.db, read-only, its own connection:
 * callable from any thread, e.g. an export job's). For the web export jobs'
 * sign hook (src/export/sign_hook.c) and redacted exports.
 */
#ifndef REEL_PROOF_SIGN_IDS_H
#define REEL_PROOF_SIGN_IDS_H

#include "proof/sign.h"

/* out[i] = recording ids[i] with its stored BLAKE2b hex ("" when the
 * recording has no hash: still open, not hashed yet, or gone). n at most
 * REEL_PROOF_MANIFEST_RECS_MAX. */
int reel_proof_recordings_lookup(const char *datadir, const int64_t *ids, size_t n,
                                 struct reel_proof_recording *out, struct reel_err *err);

/* Looks the hashes up and signs path (reel_proof_sign_mp4) with a manifest
 * of these facts. user/reason may be NULL or "" (none). */
int reel_proof_sign_export(const char *datadir, const char *path, const char *camera, int64_t start90k,
                           int64_t end90k, const int64_t *ids, size_t n, uint32_t frames, const char *user,
                           const char *reason, int64_t created_ns, struct reel_err *err);

#endif

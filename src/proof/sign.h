/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Signing an exported MP4 with the site key (key.h): the signed manifest says
 * what the file is (site, camera, range, the source recordings' BLAKE2b
 * hashes, frame count, who exported it, when and why, what it was derived
 * from) and binds it to the file's own hash. Format: format.h.
 */
#ifndef REEL_PROOF_SIGN_H
#define REEL_PROOF_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

#define REEL_PROOF_HASH_LEN 32           /* BLAKE2b-256 */
#define REEL_PROOF_MANIFEST_RECS_MAX 100000

/* A source recording: its id and its sample file's BLAKE2b-256 (lowercase
 * hex, "" when the index has no hash for it yet). */
struct reel_proof_recording {
    int64_t id;
    char blake2b[2 * REEL_PROOF_HASH_LEN + 1];
};

/* For a derived copy (a redacted export): the original range's recordings
 * and a JSON text of what was applied (the redaction's rectangles...). */
struct reel_proof_derived {
    const struct reel_proof_recording *recordings;
    size_t nrecordings;
    const char *redaction_json;         /* must parse as JSON; NULL = null */
};

struct reel_proof_manifest {
    const char *site;                   /* NULL or "": the host name */
    const char *camera;
    int64_t start90k, end90k;           /* the exported range */
    const struct reel_proof_recording *recordings;  /* the source recordings, oldest first */
    size_t nrecordings;                 /* at most REEL_PROOF_MANIFEST_RECS_MAX */
    uint64_t frames;                    /* video frames in the MP4 */
    const char *exported_by;            /* user name ("" or NULL: unknown) */
    int64_t exported_ns;                /* wall clock, ns since the epoch */
    const char *reason;                 /* NULL = none given */
    const struct reel_proof_derived *derived_from;  /* NULL for an original export */
};

/* Signs the MP4 at path in place (adds a top-level box that players ignore
 * holding the signed manifest) and writes path + ".sig.json" (the same
 * manifest, signed). m's fields are copied. Makes the site key pair in
 * datadir when it has none. -EEXIST when the file is already signed,
 * -EBADMSG when it is not a sequence of MP4 boxes. The file is fsynced. */
int reel_proof_sign_mp4(const char *datadir, const char *path, const struct reel_proof_manifest *m,
                        struct reel_err *err);

#endif

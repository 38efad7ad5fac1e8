/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Signing from recording ids: see sign_ids.h.
 */
#include "proof/sign_ids.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proof/key.h"
#include "store/store.h"

int reel_proof_recordings_lookup(const char *datadir, const int64_t *ids, size_t n,
                                 struct reel_proof_recording *out, struct reel_err *err)
{
    if (n > REEL_PROOF_MANIFEST_RECS_MAX)
        return reel_err_set(err, E2BIG, "%zu recordings: at most %d in a manifest", n, REEL_PROOF_MANIFEST_RECS_MAX);
    struct reel_store *s;
    struct reel_store_cfg cfg = { .datadir = datadir, .mode = REEL_STORE_READ };
    int r = reel_store_open(&s, &cfg, err);
    if (r < 0)
        return r;
    r = reel_store_read_begin(s, err);
    for (size_t i = 0; r == 0 && i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].id = ids[i];
        struct reel_recording_hash h;
        int k = reel_store_recording_hash(s, ids[i], &h, err);
        if (k == 0 && h.state == REEL_HASH_OK)
            reel_proof_hex(h.blake2b, 32, out[i].blake2b);
        else if (k < 0 && k != -ENOENT)
            r = k;
    }
    reel_store_read_end(s);
    reel_store_close(s);
    return r;
}

int reel_proof_sign_export(const char *datadir, const char *path, const char *camera, int64_t start90k,
                           int64_t end90k, const int64_t *ids, size_t n, uint32_t frames, const char *user,
                           const char *reason, int64_t created_ns, struct reel_err *err)
{
    struct reel_proof_recording *recs = calloc(n ? n : 1, sizeof(*recs));
    if (!recs)
        return reel_err_set(err, ENOMEM, "out of memory");
    int r = reel_proof_recordings_lookup(datadir, ids, n, recs, err);
    if (r == 0) {
        struct reel_proof_manifest m = {
            .camera = camera, .start90k = start90k, .end90k = end90k, .recordings = recs, .nrecordings = n,
            .frames = frames, .exported_by = user, .exported_ns = created_ns,
            .reason = reason && *reason ? reason : NULL,
        };
        r = reel_proof_sign_mp4(datadir, path, &m, err);
    }
    free(recs);
    return r;
}

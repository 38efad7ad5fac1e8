/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Signing of a redacted export (redact_sign.h): the manifest of an export
 * (src/proof/sign.h) whose recordings are the original range's, with
 * derived_from filled: the same recordings (ids and stored BLAKE2b hashes)
 * and a JSON text of the redaction applied (the rectangles with their key
 * points, how fill and blur paint, the encoder and its settings).
 */
#include "http/redact_sign.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "media/redact.h"
#include "proof/sign_ids.h"
#include "store/store.h"

/* The recordings overlapping the range, oldest first. */
static int source_ids(const struct reel_redact_sign_in *in, int64_t **ids, size_t *n, struct reel_err *err)
{
    struct reel_store *s;
    struct reel_store_cfg cfg = { .datadir = in->datadir, .mode = REEL_STORE_READ };
    int r = reel_store_open(&s, &cfg, err);
    if (r < 0)
        return r;
    struct reel_span *sp = NULL;
    size_t ns = 0;
    r = reel_store_spans(s, in->camera_id, in->from90k, in->to90k, &sp, &ns, err);
    reel_store_close(s);
    if (r < 0)
        return r;
    if (ns > REEL_PROOF_MANIFEST_RECS_MAX) {
        free(sp);
        return reel_err_set(err, E2BIG, "too many recordings in the range");
    }
    *ids = calloc(ns ? ns : 1, sizeof(**ids));
    if (!*ids) {
        free(sp);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ns; i++)
        (*ids)[i] = sp[i].id;
    *n = ns;
    free(sp);
    return 0;
}

static char *redaction_text(const struct reel_redact_spec *spec)
{
    json_t *o = json_pack("{s:o,s:s,s:s,s:{s:s,s:s,s:s},s:s}", "boxes", reel_redact_spec_json(spec), "fill",
                          "solid black (Y 16, or 0 full range; U V 128)", "blur",
                          "area averaged into at most 4 cells across its shorter side (cells >= 8 px), "
                          "stretched back bilinearly",
                          "encoder", "name", "libx264", "preset", REEL_REDACT_PRESET, "crf", REEL_REDACT_CRF,
                          "motion", "linear between key points, held before the first and after the last");
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return t;
}

int reel_redact_sign(const struct reel_redact_sign_in *in, bool *signed_, struct reel_err *err)
{
    *signed_ = false;
    int64_t *ids = NULL;
    size_t n = 0;
    int r = source_ids(in, &ids, &n, err);
    if (r < 0)
        return r;
    struct reel_proof_recording *recs = calloc(n ? n : 1, sizeof(*recs));
    char *text = redaction_text(in->spec);
    if (!recs || !text) {
        free(ids);
        free(recs);
        free(text);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    r = reel_proof_recordings_lookup(in->datadir, ids, n, recs, err);
    if (r == 0) {
        struct reel_proof_derived d = { .recordings = recs, .nrecordings = n, .redaction_json = text };
        struct reel_proof_manifest m = {
            .camera = in->camera, .start90k = in->from90k, .end90k = in->to90k, .recordings = recs,
            .nrecordings = n, .frames = in->frames, .exported_by = in->user, .exported_ns = in->created_ns,
            .reason = in->reason && *in->reason ? in->reason : NULL, .derived_from = &d,
        };
        r = reel_proof_sign_mp4(in->datadir, in->path, &m, err);
        if (r == 0)
            *signed_ = true;
    }
    free(ids);
    free(recs);
    free(text);
    return r;
}

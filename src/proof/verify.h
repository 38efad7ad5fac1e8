/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Verifying a signed export (format.h) with nothing but the file, libsodium
 * and a public key: used by `reel verify` and by the standalone `reel-verify`.
 * Checks, in order: the top-level boxes tile the file (a cut or stray bytes
 * fail), exactly one manifest box and nothing after it (a join or splice
 * fails), or else the sidecar's box; the key (the one given, or the embedded
 * one only when the caller trusts it, which proves integrity and not origin);
 * the signature over the manifest and the file's length and hash; the file's
 * length and BLAKE2b-256 without the box.
 */
#ifndef REEL_PROOF_VERIFY_H
#define REEL_PROOF_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"
#include "proof/key.h"

enum reel_proof_verdict {
    REEL_PROOF_VERIFIED = 0,
    REEL_PROOF_DAMAGED,          /* boxes do not tile the file: cut, stray or changed box sizes */
    REEL_PROOF_MISSING,          /* no manifest box and no sidecar */
    REEL_PROOF_SPLICED,          /* two manifest boxes, or data after the manifest box */
    REEL_PROOF_BAD_BOX,          /* the manifest box is not one Reel writes */
    REEL_PROOF_NO_KEY,           /* no key given and the embedded one not trusted */
    REEL_PROOF_WRONG_KEY,        /* signed by another key than the one given */
    REEL_PROOF_BAD_SIGNATURE,    /* the manifest (or the length/hash it signs) was changed */
    REEL_PROOF_OTHER_FILE,       /* the manifest describes a file of another length */
    REEL_PROOF_HASH_MISMATCH,    /* same length, other bytes: the video or its index changed */
};

struct reel_proof_result {
    enum reel_proof_verdict verdict;
    char problem[512];           /* one line: what does not match ("" when verified) */
    bool from_sidecar;           /* the manifest came from the sidecar (the file had none) */
    bool embedded_key_trusted;   /* no key given: the embedded one was used */
    uint8_t pk[REEL_PROOF_PK_LEN];  /* the signing key (embedded) */
    char fingerprint[REEL_PROOF_FPR_MAX];
    uint64_t file_bytes;         /* the MP4 without the manifest box */
    char *manifest;              /* the manifest's JSON text (malloc'd, free()) when the signature held */
};

/* Verifies path. pk: the key to trust (NULL: none given); trust_embedded:
 * without pk, accept the file's own key (res says so). sidecar: the sidecar
 * to use when the file carries no manifest box (NULL: path + ".sig.json" if
 * present). Returns 0 when the check ran (res->verdict says how it ended) or
 * a negative errno when the file cannot be read. */
int reel_proof_verify(const char *path, const uint8_t *pk, bool trust_embedded, const char *sidecar,
                      struct reel_proof_result *res, struct reel_err *err);
const char *reel_proof_verdict_name(enum reel_proof_verdict v);

#endif

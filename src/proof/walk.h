/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The top-level boxes of an MP4 file, as a signer and a verifier see them:
 * sizes that must tile the file exactly, and where the Reel manifest boxes
 * (format.h) are. Private to src/proof.
 */
#ifndef REEL_PROOF_WALK_H
#define REEL_PROOF_WALK_H

#include <stddef.h>
#include <stdint.h>

#define REEL_PROOF_WALK_MAX 4096   /* top-level boxes looked at: more is not an export */

struct reel_proof_walk {
    uint64_t size;                 /* the file's */
    size_t nboxes;
    size_t nproof;                 /* manifest boxes found */
    uint64_t proof_off, proof_len; /* the first one */
    size_t proof_index;            /* its position among the boxes */
    char problem[300];             /* "" when the boxes tile the file */
};

/* Walks fd's top-level boxes. 0 (problem says whether they tile the file) or
 * a negative errno for a read error. */
int reel_proof_walk(int fd, struct reel_proof_walk *w);
/* BLAKE2b-256 of bytes [0, n) of fd. 0 or -errno. */
int reel_proof_hash_prefix(int fd, uint64_t n, uint8_t out[32]);

#endif

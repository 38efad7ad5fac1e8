/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The site key pair (Ed25519, libsodium crypto_sign): DATADIR/site.key holds
 * the secret key (64 bytes as 128 lowercase hex digits and a newline, mode
 * 0600), DATADIR/site.pub the public key (64 hex digits and a newline, 0644).
 * Made by `reel init`, and by `reel run` / `reel export` for a data directory
 * made before keys existed. A public key is written and read as lowercase hex;
 * its fingerprint is the first 16 bytes of BLAKE2b-256 of the key, in groups
 * of four hex digits ("3f2a 9c01 ...").
 */
#ifndef REEL_PROOF_KEY_H
#define REEL_PROOF_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

#define REEL_PROOF_PK_LEN 32
#define REEL_PROOF_SK_LEN 64
#define REEL_PROOF_SIG_LEN 64
#define REEL_PROOF_FPR_MAX 48        /* 8 groups of 4 hex digits, 7 spaces, NUL */
#define REEL_PROOF_KEY_FILE "site.key"
#define REEL_PROOF_PUB_FILE "site.pub"

/* Makes the key pair in datadir when site.key is missing (O_EXCL, O_NOFOLLOW,
 * written to a temporary name, fsynced, renamed), and site.pub from site.key
 * when only that is missing. *ret_created (may be NULL) = whether a new pair
 * was made. */
int reel_proof_key_ensure(const char *datadir, bool *ret_created, struct reel_err *err);
/* Reads the secret key (sk, 64 bytes) and its public half (pk). -ENOENT when
 * there is no site.key; -EBADMSG when it is not a key. Wipe sk after use
 * (sodium_memzero). */
int reel_proof_key_load_secret(const char *datadir, uint8_t sk[REEL_PROOF_SK_LEN],
                               uint8_t pk[REEL_PROOF_PK_LEN], struct reel_err *err);
/* A public key from text: 64 hex digits (surrounding white space ignored).
 * -EINVAL otherwise. */
int reel_proof_pub_parse(const char *text, uint8_t pk[REEL_PROOF_PK_LEN]);
/* A public key from a file holding that text (at most 4 KiB read). */
int reel_proof_pub_load(const char *path, uint8_t pk[REEL_PROOF_PK_LEN], struct reel_err *err);
/* The public key from --pub's argument: a file name, else the key itself. */
int reel_proof_pub_arg(const char *arg, uint8_t pk[REEL_PROOF_PK_LEN], struct reel_err *err);
void reel_proof_fingerprint(const uint8_t pk[REEL_PROOF_PK_LEN], char out[REEL_PROOF_FPR_MAX]);
/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void reel_proof_hex(const uint8_t *in, size_t n, char *out);

#endif

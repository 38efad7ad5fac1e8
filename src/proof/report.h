/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The words `reel verify` and `reel-verify` print for a result (verify.h),
 * and their shared command line.
 */
#ifndef REEL_PROOF_REPORT_H
#define REEL_PROOF_REPORT_H

#include <stdio.h>

#include "proof/verify.h"

/* "FILE: verified" and the facts (key, where the manifest came from, the
 * manifest), or "FILE: NOT VERIFIED (<verdict>): <what does not match>". */
void reel_proof_report(FILE *out, const char *path, const struct reel_proof_result *res);

/* Options of both commands, parsed from argv (argc after the command name):
 * FILE.mp4 [--pub FILE|HEX] [--trust-embedded-key] [--sidecar FILE] [--quiet].
 * 0, or 2 with a message on stderr (prog names the command). */
struct reel_proof_cli {
    const char *file, *pub, *sidecar, *datadir;
    int trust_embedded, quiet;
};
int reel_proof_cli_parse(const char *prog, int argc, char **argv, struct reel_proof_cli *c);
/* Runs the check and prints; 0 verified, 1 not, 2 error. pk_default: the key
 * when --pub is absent (NULL: none). *res is left for the caller (free
 * res->manifest). */
int reel_proof_cli_run(const char *prog, const struct reel_proof_cli *c, const uint8_t *pk_default,
                       struct reel_proof_result *res);

#endif

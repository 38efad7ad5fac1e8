/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel-verify: checks a signed Reel export with no database, only the file,
 * libsodium and the site's public key (a file or the key itself, --pub), or
 * the key the file carries when told to trust it (--trust-embedded-key; it
 * says so). Exit status 0 verified, 1 not verified, 2 usage or read error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "proof/report.h"

int main(int argc, char **argv)
{
    struct reel_proof_cli c;
    int rc = reel_proof_cli_parse("reel-verify", argc - 1, argv + 1, &c);
    if (rc)
        return rc;
    if (c.datadir) {
        fprintf(stderr, "reel-verify: --data needs the site's database: use `reel -d DATADIR verify`\n");
        return 2;
    }
    struct reel_proof_result res;
    rc = reel_proof_cli_run("reel-verify", &c, NULL, &res);
    free(res.manifest);
    return rc;
}

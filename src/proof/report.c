/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Printing a verification result: see report.h.
 */
#include "proof/report.h"

#include <string.h>

void reel_proof_report(FILE *out, const char *path, const struct reel_proof_result *res)
{
    if (res->verdict != REEL_PROOF_VERIFIED) {
        fprintf(out, "%s: NOT VERIFIED (%s): %s\n", path, reel_proof_verdict_name(res->verdict), res->problem);
        return;
    }
    fprintf(out, "%s: verified\n", path);
    fprintf(out, "  signed by key %s%s\n", res->fingerprint,
            res->embedded_key_trusted ? " (the file's own key, trusted as told: this proves the file is unchanged "
                                        "since signing, not who signed it)" : " (the site key given)");
    fprintf(out, "  %llu bytes of MP4 match the signed BLAKE2b hash%s\n", (unsigned long long)res->file_bytes,
            res->from_sidecar ? "; the manifest came from the sidecar (the file carries none)" : "");
    if (res->manifest)
        fprintf(out, "  manifest:\n%s\n", res->manifest);
}

int reel_proof_cli_parse(const char *prog, int argc, char **argv, struct reel_proof_cli *c)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--pub") == 0 || strcmp(a, "--sidecar") == 0 || strcmp(a, "--data") == 0) && i + 1 < argc) {
            const char **dst = a[2] == 'p' ? &c->pub : a[2] == 's' ? &c->sidecar : &c->datadir;
            *dst = argv[++i];
        } else if (strcmp(a, "--trust-embedded-key") == 0) {
            c->trust_embedded = 1;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            c->quiet = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "%s: unknown or incomplete option '%s'\n", prog, a);
            return 2;
        } else if (!c->file) {
            c->file = a;
        } else {
            fprintf(stderr, "%s: one file at a time ('%s')\n", prog, a);
            return 2;
        }
    }
    if (!c->file) {
        fprintf(stderr, "usage: %s FILE.mp4 [--pub SITE.pub|HEX] [--trust-embedded-key] [--sidecar FILE.sig.json] "
                "[--quiet]\n", prog);
        return 2;
    }
    return 0;
}

int reel_proof_cli_run(const char *prog, const struct reel_proof_cli *c, const uint8_t *pk_default,
                       struct reel_proof_result *res)
{
    uint8_t pk[REEL_PROOF_PK_LEN];
    const uint8_t *use = pk_default;
    struct reel_err err = { "" };
    if (c->pub) {
        if (reel_proof_pub_arg(c->pub, pk, &err) < 0) {
            fprintf(stderr, "%s: --pub %s: %s\n", prog, c->pub, err.msg);
            return 2;
        }
        use = pk;
    }
    if (reel_proof_verify(c->file, use, c->trust_embedded, c->sidecar, res, &err) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return 2;
    }
    if (!c->quiet || res->verdict != REEL_PROOF_VERIFIED)
        reel_proof_report(stdout, c->file, res);
    else
        printf("%s: verified\n", c->file);
    return res->verdict == REEL_PROOF_VERIFIED ? 0 : 1;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Proof sub-commands (issue 14): `key show`, `verify`, the site key made at
 * init / first start, and the signing step of `reel export`.
 */
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/timefmt.h"
#include "proof/key.h"
#include "proof/report.h"
#include "proof/sign.h"
#include "reel/cli.h"

int reel_cli_site_key(struct reel_cli *cli)
{
    struct reel_err err = { "" };
    bool made = false;
    if (reel_proof_key_ensure(cli->datadir, &made, &err) < 0)
        return reel_cli_fail("site key: %s", err.msg);
    if (made) {
        uint8_t sk[REEL_PROOF_SK_LEN], pk[REEL_PROOF_PK_LEN];
        char fpr[REEL_PROOF_FPR_MAX];
        if (reel_proof_key_load_secret(cli->datadir, sk, pk, &err) < 0)
            return reel_cli_fail("site key: %s", err.msg);
        explicit_bzero(sk, sizeof(sk));
        reel_proof_fingerprint(pk, fpr);
        printf("made the site key pair for signed exports: %s/%s (secret, keep it) and %s/%s (public), "
               "fingerprint %s\n", cli->datadir, REEL_PROOF_KEY_FILE, cli->datadir, REEL_PROOF_PUB_FILE, fpr);
        fflush(stdout);
    }
    return 0;
}

int reel_cmd_key(struct reel_cli *cli)
{
    if (cli->argc < 1 || strcmp(cli->argv[0], "show") != 0)
        return reel_cli_usage("key: show");
    cli->argc--;
    cli->argv++;
    if (reel_cli_no_more_opts(cli) || cli->argc > 0)
        return reel_cli_usage("key show takes no arguments");
    if (reel_cli_site_key(cli))
        return 1;
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", cli->datadir, REEL_PROOF_PUB_FILE);
    uint8_t pk[REEL_PROOF_PK_LEN];
    struct reel_err err = { "" };
    if (reel_proof_pub_load(path, pk, &err) < 0)
        return reel_cli_fail("%s", err.msg);
    char hex[2 * REEL_PROOF_PK_LEN + 1], fpr[REEL_PROOF_FPR_MAX];
    reel_proof_hex(pk, sizeof(pk), hex);
    reel_proof_fingerprint(pk, fpr);
    printf("site public key (Ed25519): %s\nfingerprint: %s\nfile: %s\n", hex, fpr, path);
    return 0;
}

/* The manifest's source recordings against the index: 0 when each one the
 * index still has carries the same hash. Prints one line per finding. */
static int check_sources(struct reel_store *s, const char *manifest)
{
    json_error_t je;
    json_t *m = json_loads(manifest, 0, &je);
    json_t *lists[2] = { NULL, NULL };
    if (m) {
        lists[0] = json_object_get(m, "recordings");
        json_t *d = json_object_get(m, "derived_from");
        lists[1] = json_is_object(d) ? json_object_get(d, "recordings") : NULL;
    }
    if (!m || !json_is_array(lists[0])) {
        json_decref(m);
        printf("  index: the manifest lists no source recordings\n");
        return 1;
    }
    int bad = 0;
    size_t same = 0, gone = 0, unhashed = 0;
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *e;
        json_array_foreach(lists[l], i, e) {
            json_int_t id = json_integer_value(json_object_get(e, "id"));
            const char *want = json_string_value(json_object_get(e, "blake2b"));
            struct reel_recording_hash h;
            struct reel_err err = { "" };
            int r = reel_store_recording_hash(s, id, &h, &err);
            if (r == -ENOENT) {
                gone++;
                continue;
            }
            if (r < 0) {
                printf("  index: recording %lld: %s\n", (long long)id, err.msg);
                bad = 1;
                continue;
            }
            if (h.state != REEL_HASH_OK || !want) {
                unhashed++;
                continue;
            }
            char hex[65];
            reel_proof_hex(h.blake2b, 32, hex);
            if (strcmp(hex, want) != 0) {
                printf("  index: MISMATCH: source recording %lld has BLAKE2b %.16s... in this site's index, the "
                       "manifest says %.16s...\n", (long long)id, hex, want);
                bad = 1;
            } else {
                same++;
            }
        }
    }
    json_decref(m);
    printf("  index: %zu source recording(s) match this site's index, %zu no longer in it (retention), %zu "
           "without a hash to compare\n", same, gone, unhashed);
    return bad;
}

int reel_cmd_verify(struct reel_cli *cli)
{
    struct reel_proof_cli c;
    int rc = reel_proof_cli_parse("reel verify", cli->argc, cli->argv, &c);
    if (rc)
        return rc;
    if (c.datadir)
        cli->datadir = c.datadir;
    /* the site's own key when none is given */
    uint8_t pk[REEL_PROOF_PK_LEN];
    const uint8_t *def = NULL;
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", cli->datadir, REEL_PROOF_PUB_FILE);
    struct reel_err err = { "" };
    if (!c.pub && !c.trust_embedded && reel_proof_pub_load(path, pk, &err) == 0)
        def = pk;
    struct reel_proof_result res;
    rc = reel_proof_cli_run("reel verify", &c, def, &res);
    if (rc == 0 && res.manifest && access(cli->datadir, F_OK) == 0) {
        struct reel_store *s;
        struct reel_store_cfg cfg = { .datadir = cli->datadir, .mode = REEL_STORE_READ };
        if (reel_store_open(&s, &cfg, &err) == 0) {
            if (check_sources(s, res.manifest))
                rc = 1;
            reel_store_close(s);
        }
    }
    free(res.manifest);
    return rc;
}

int reel_cli_sign_export(struct reel_cli *cli, const char *path, const char *camera, int64_t from90k, int64_t to90k,
                         const struct reel_recording *recs, size_t nrecs, uint32_t frames, const char *by,
                         const char *reason)
{
    struct reel_proof_recording *pr = calloc(nrecs ? nrecs : 1, sizeof(*pr));
    if (!pr)
        return reel_cli_fail("out of memory");
    for (size_t i = 0; i < nrecs; i++) {
        pr[i].id = recs[i].id;
        if (recs[i].hash_len == 32)
            reel_proof_hex(recs[i].blake2b, 32, pr[i].blake2b);
    }
    char who[200];
    if (!by) {
        struct passwd *pw = getpwuid(getuid());
        snprintf(who, sizeof(who), "%s (command line)", pw ? pw->pw_name : "?");
        by = who;
    }
    struct reel_proof_manifest m = {
        .camera = camera, .start90k = from90k, .end90k = to90k, .recordings = pr, .nrecordings = nrecs,
        .frames = frames, .exported_by = by, .exported_ns = reel_clock_wall(reel_clock_system()),
        .reason = reason,
    };
    struct reel_err err = { "" };
    int r = reel_proof_sign_mp4(cli->datadir, path, &m, &err);
    free(pr);
    if (r < 0)
        return reel_cli_fail("export: signing %s failed: %s", path, err.msg);
    return 0;
}

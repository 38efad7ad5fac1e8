/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel_proof_sign_mp4: see sign.h; the format is format.h's.
 */
#include "proof/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/timefmt.h"
#include "proof/format.h"
#include "proof/key.h"
#include "proof/walk.h"

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static json_t *time_str(int64_t t90k)
{
    char buf[40];
    reel_time_format(t90k, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *recs_json(const struct reel_proof_recording *r, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack("{s:I,s:o}", "id", (json_int_t)r[i].id, "blake2b",
                                           r[i].blake2b[0] ? json_string(r[i].blake2b) : json_null()));
    return a;
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The manifest as an object; NULL with err set. */
static json_t *manifest_json(const struct reel_proof_manifest *m, const uint8_t pk[32], uint64_t bytes,
                             const uint8_t hash[32], struct reel_err *err)
{
    if (!m->camera || m->nrecordings > REEL_PROOF_MANIFEST_RECS_MAX ||
        (m->derived_from && m->derived_from->nrecordings > REEL_PROOF_MANIFEST_RECS_MAX)) {
        reel_err_set(err, EINVAL, "manifest: no camera, or too many recordings");
        return NULL;
    }
    char host[256] = "";
    const char *site = m->site;
    if (!site || !*site) {
        if (gethostname(host, sizeof(host) - 1) < 0)
            strcpy(host, "unknown");
        site = host;
    }
    char fpr[REEL_PROOF_FPR_MAX], hex[65];
    reel_proof_fingerprint(pk, fpr);
    reel_proof_hex(hash, 32, hex);
    json_t *derived = json_null();
    if (m->derived_from) {
        json_t *red = json_null();
        if (m->derived_from->redaction_json) {
            json_error_t je;
            red = json_loads(m->derived_from->redaction_json, JSON_DECODE_ANY, &je);
            if (!red) {
                reel_err_set(err, EINVAL, "manifest: the redaction is not JSON: %s", je.text);
                return NULL;
            }
        }
        derived = json_pack("{s:o,s:o}", "recordings",
                            recs_json(m->derived_from->recordings, m->derived_from->nrecordings), "redaction", red);
    }
    json_t *o = json_pack("{s:s,s:{s:s,s:s},s:s,s:o,s:o,s:I,s:I,s:o,s:I,s:o,s:o,s:I,s:o,s:o,s:{s:I,s:s}}",
                          "format", "reel-export-manifest/1",
                          "site", "name", site, "key_fingerprint", fpr,
                          "camera", m->camera,
                          "start", time_str(m->start90k), "end", time_str(m->end90k),
                          "start90k", (json_int_t)m->start90k, "end90k", (json_int_t)m->end90k,
                          "recordings", recs_json(m->recordings, m->nrecordings),
                          "frames", (json_int_t)m->frames,
                          "exported_by", opt_str(m->exported_by && *m->exported_by ? m->exported_by : NULL),
                          "exported", time_str(reel_ns_to_90k(m->exported_ns)),
                          "exported_ns", (json_int_t)m->exported_ns,
                          "reason", opt_str(m->reason),
                          "derived_from", derived,
                          "mp4", "bytes", (json_int_t)bytes, "blake2b", hex);
    if (!o)
        reel_err_set(err, EINVAL, "manifest: a text field is not UTF-8, or out of memory");
    return o;
}

/* Writes the sidecar through a temporary name (0600, O_EXCL, O_NOFOLLOW). */
static int write_sidecar(const char *path, const char *text, struct reel_err *err)
{
    char out[PATH_MAX], tmp[PATH_MAX];
    if (snprintf(out, sizeof(out), "%s%s", path, REEL_PROOF_SIDECAR) >= (int)sizeof(out) ||
        snprintf(tmp, sizeof(tmp), "%s%s.partial", path, REEL_PROOF_SIDECAR) >= (int)sizeof(tmp))
        return reel_err_set(err, ENAMETOOLONG, "export path too long for its sidecar");
    if (unlink(tmp) < 0 && errno != ENOENT)
        return reel_err_set(err, errno, "cannot remove stale %s: %s", tmp, strerror(errno));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return reel_err_set(err, errno, "cannot create %s: %s", tmp, strerror(errno));
    size_t len = strlen(text), off = 0;
    int e = 0;
    while (e == 0 && off < len) {
        ssize_t k = write(fd, text + off, len - off);
        if (k < 0 && errno != EINTR)
            e = errno;
        else if (k > 0)
            off += (size_t)k;
    }
    if (e == 0 && fsync(fd) < 0)
        e = errno;
    if (close(fd) < 0 && e == 0)
        e = errno;
    struct stat st;
    if (e == 0 && lstat(out, &st) == 0 && !S_ISREG(st.st_mode))
        e = EEXIST;
    if (e == 0 && rename(tmp, out) < 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return reel_err_set(err, e, "cannot write %s: %s", out, e == EEXIST ? "exists and is no file" : strerror(e));
    }
    return 0;
}

int reel_proof_sign_mp4(const char *datadir, const char *path, const struct reel_proof_manifest *m,
                        struct reel_err *err)
{
    if (sodium_init() < 0)
        return reel_err_set(err, EIO, "libsodium cannot start");
    int r = reel_proof_key_ensure(datadir, NULL, err);
    if (r < 0)
        return r;
    uint8_t sk[REEL_PROOF_SK_LEN], pk[REEL_PROOF_PK_LEN];
    r = reel_proof_key_load_secret(datadir, sk, pk, err);
    if (r < 0)
        return r;
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        sodium_memzero(sk, sizeof(sk));
        return reel_err_set(err, errno, "cannot open %s: %s", path, strerror(errno));
    }
    struct reel_proof_walk w;
    uint8_t hash[32];
    json_t *man = NULL;
    char *text = NULL, *sidecar = NULL, *b64 = NULL;
    uint8_t *box = NULL;
    size_t boxlen = 0;
    r = reel_proof_walk(fd, &w);
    if (r < 0) {
        reel_err_set(err, -r, "reading %s: %s", path, strerror(-r));
        goto out;
    }
    if (w.problem[0] || w.nboxes == 0) {
        r = reel_err_set(err, EBADMSG, "%s is not an MP4: %s", path, w.problem[0] ? w.problem : "empty");
        goto out;
    }
    if (w.nproof > 0) {
        r = reel_err_set(err, EEXIST, "%s is already signed", path);
        goto out;
    }
    r = reel_proof_hash_prefix(fd, w.size, hash);
    if (r < 0) {
        reel_err_set(err, -r, "reading %s: %s", path, strerror(-r));
        goto out;
    }
    man = manifest_json(m, pk, w.size, hash, err);
    if (!man) {
        r = -EINVAL;
        goto out;
    }
    text = json_dumps(man, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (!text) {
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    size_t tlen = strlen(text);
    boxlen = REEL_PROOF_HDR + REEL_PROOF_FIXED + REEL_PROOF_SIGNED_FIXED + tlen;
    if (boxlen > REEL_PROOF_BOX_MAX) {
        r = reel_err_set(err, EFBIG, "manifest of %zu bytes is over the %u cap", tlen, REEL_PROOF_BOX_MAX);
        goto out;
    }
    box = malloc(boxlen);
    if (!box) {
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    put_be(box, boxlen, 4);
    memcpy(box + 4, "uuid", 4);
    memcpy(box + 8, REEL_PROOF_UUID, 16);
    uint8_t *p = box + REEL_PROOF_HDR;
    memcpy(p, REEL_PROOF_MAGIC, 4);
    memcpy(p + 4, pk, 32);
    uint8_t *sig = p + 36, *signed_part = p + REEL_PROOF_FIXED;
    memcpy(signed_part, REEL_PROOF_CONTEXT, REEL_PROOF_CONTEXT_LEN);
    put_be(signed_part + REEL_PROOF_CONTEXT_LEN, w.size, 8);
    memcpy(signed_part + REEL_PROOF_CONTEXT_LEN + 8, hash, 32);
    memcpy(signed_part + REEL_PROOF_SIGNED_FIXED, text, tlen);
    crypto_sign_detached(sig, NULL, signed_part, REEL_PROOF_SIGNED_FIXED + tlen, sk);

    /* the sidecar: the same box (what a verifier uses) and a copy of the
     * manifest for people */
    size_t b64cap = sodium_base64_ENCODED_LEN(boxlen, sodium_base64_VARIANT_ORIGINAL);
    b64 = malloc(b64cap);
    if (!b64) {
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    sodium_bin2base64(b64, b64cap, box, boxlen, sodium_base64_VARIANT_ORIGINAL);
    char pkhex[65], fpr[REEL_PROOF_FPR_MAX];
    reel_proof_hex(pk, 32, pkhex);
    reel_proof_fingerprint(pk, fpr);
    const char *base = strrchr(path, '/');
    json_t *sc = json_pack("{s:s,s:s,s:s,s:s,s:O,s:s}", "format", "reel-proof/1", "file", base ? base + 1 : path,
                           "public_key", pkhex, "key_fingerprint", fpr, "manifest", man, "box", b64);
    if (sc) {
        sidecar = json_dumps(sc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        json_decref(sc);
    }
    if (!sidecar) {
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto out;
    }

    /* append the box: all of it or nothing */
    size_t off = 0;
    while (off < boxlen) {
        ssize_t k = pwrite(fd, box + off, boxlen - off, (off_t)(w.size + off));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            if (ftruncate(fd, (off_t)w.size) < 0) {
                /* nothing more to do: the error below says the file is not signed */
            }
            r = reel_err_set(err, e, "cannot write the manifest into %s: %s", path, strerror(e));
            goto out;
        }
        off += (size_t)k;
    }
    if (fsync(fd) < 0) {
        r = reel_err_set(err, errno, "cannot sync %s: %s", path, strerror(errno));
        goto out;
    }
    r = write_sidecar(path, sidecar, err);
out:
    sodium_memzero(sk, sizeof(sk));
    close(fd);
    json_decref(man);
    free(text);
    free(sidecar);
    free(b64);
    free(box);
    return r;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel_proof_verify: see verify.h. Needs only libc and libsodium, so that
 * reel-verify can be built and read alone.
 */
#include "proof/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proof/format.h"
#include "proof/walk.h"

#define SIDECAR_MAX (2 * REEL_PROOF_BOX_MAX)

const char *reel_proof_verdict_name(enum reel_proof_verdict v)
{
    static const char *const names[] = { "verified", "damaged", "missing box", "spliced", "bad box",
                                         "no key", "wrong key", "bad signature", "manifest of another file",
                                         "file hash mismatch" };
    return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static int fail(struct reel_proof_result *res, enum reel_proof_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct reel_proof_result *res, enum reel_proof_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->problem, sizeof(res->problem), fmt, ap);
    va_end(ap);
    res->verdict = v;
    return 0;
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The box from a sidecar file: its "box" field (base64). NULL with *e set
 * (-ENOENT: no sidecar). */
static uint8_t *sidecar_box(const char *path, size_t *ret_len, int *e, char *msg, size_t cap)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *e = -errno;
        snprintf(msg, cap, "cannot open the sidecar %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SIDECAR_MAX) {
        close(fd);
        *e = -EFBIG;
        snprintf(msg, cap, "the sidecar %s is no regular file of at most %u bytes", path, SIDECAR_MAX);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    char *text = malloc(n + 1);
    uint8_t *box = NULL;
    *e = -ENOMEM;
    if (!text)
        goto out;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, text + got, n - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    text[got] = '\0';
    *e = -EBADMSG;
    snprintf(msg, cap, "the sidecar %s has no \"box\" field", path);
    char *p = strstr(text, "\"box\"");
    if (!p)
        goto out;
    p += 5;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == ':')
        p++;
    if (*p != '"')
        goto out;
    char *q = strchr(++p, '"');
    if (!q)
        goto out;
    box = malloc((size_t)(q - p));
    if (!box) {
        *e = -ENOMEM;
        goto out;
    }
    size_t blen;
    if (sodium_base642bin(box, (size_t)(q - p), p, (size_t)(q - p), NULL, &blen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        snprintf(msg, cap, "the sidecar %s: \"box\" is not base64", path);
        free(box);
        box = NULL;
        goto out;
    }
    *ret_len = blen;
    *e = 0;
out:
    free(text);
    close(fd);
    return box;
}

int reel_proof_verify(const char *path, const uint8_t *pk, bool trust_embedded, const char *sidecar,
                      struct reel_proof_result *res, struct reel_err *err)
{
    memset(res, 0, sizeof(*res));
    if (sodium_init() < 0)
        return reel_err_set(err, EIO, "libsodium cannot start");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return reel_err_set(err, errno, "cannot open %s: %s", path, strerror(errno));
    struct reel_proof_walk w;
    int r = reel_proof_walk(fd, &w);
    uint8_t *box = NULL;
    size_t boxlen = 0;
    if (r < 0) {
        reel_err_set(err, -r, "reading %s: %s", path, strerror(-r));
        goto out;
    }
    if (w.problem[0]) {
        fail(res, REEL_PROOF_DAMAGED, "%s", w.problem);
        goto out;
    }
    if (w.nproof > 1) {
        fail(res, REEL_PROOF_SPLICED, "%zu manifest boxes: signed files were joined (spliced)", w.nproof);
        goto out;
    }
    if (w.nproof == 1) {
        if (w.proof_index + 1 != w.nboxes) {
            fail(res, REEL_PROOF_SPLICED, "%zu box(es) after the manifest box: something was appended or spliced",
                 w.nboxes - w.proof_index - 1);
            goto out;
        }
        if (w.proof_len > REEL_PROOF_BOX_MAX) {
            fail(res, REEL_PROOF_BAD_BOX, "the manifest box is over %u bytes", REEL_PROOF_BOX_MAX);
            goto out;
        }
        boxlen = (size_t)w.proof_len;
        box = malloc(boxlen);
        if (!box) {
            r = reel_err_set(err, ENOMEM, "out of memory");
            goto out;
        }
        if (pread(fd, box, boxlen, (off_t)w.proof_off) != (ssize_t)boxlen) {
            r = reel_err_set(err, EIO, "reading %s's manifest box failed", path);
            goto out;
        }
        res->file_bytes = w.proof_off;
    } else {
        char sc[4200], msg[512];
        bool named = sidecar != NULL;
        if (!named) {
            if (snprintf(sc, sizeof(sc), "%s%s", path, REEL_PROOF_SIDECAR) >= (int)sizeof(sc))
                sc[0] = '\0';
            sidecar = sc;
        }
        int e = 0;
        box = sidecar[0] ? sidecar_box(sidecar, &boxlen, &e, msg, sizeof(msg)) : NULL;
        if (!box) {
            if (e == -ENOENT && !named)
                fail(res, REEL_PROOF_MISSING, "missing box: the file carries no Reel manifest and there is no "
                     "sidecar %s", sidecar);
            else
                fail(res, e == -ENOENT ? REEL_PROOF_MISSING : REEL_PROOF_BAD_BOX, "%s", msg);
            goto out;
        }
        res->from_sidecar = true;
        res->file_bytes = w.size;
    }
    /* the box: header, magic, key, signature, signed part */
    if (boxlen < REEL_PROOF_HDR + REEL_PROOF_FIXED + REEL_PROOF_SIGNED_FIXED ||
        ((uint64_t)box[0] << 24 | (uint64_t)box[1] << 16 | (uint64_t)box[2] << 8 | box[3]) != boxlen ||
        memcmp(box + 4, "uuid", 4) != 0 || memcmp(box + 8, REEL_PROOF_UUID, 16) != 0 ||
        memcmp(box + REEL_PROOF_HDR, REEL_PROOF_MAGIC, 4) != 0) {
        fail(res, REEL_PROOF_BAD_BOX, "the manifest box is not one Reel writes (unknown format or damaged header)");
        goto out;
    }
    const uint8_t *p = box + REEL_PROOF_HDR;
    memcpy(res->pk, p + 4, 32);
    reel_proof_fingerprint(res->pk, res->fingerprint);
    const uint8_t *sig = p + 36, *sp = p + REEL_PROOF_FIXED;
    size_t splen = boxlen - REEL_PROOF_HDR - REEL_PROOF_FIXED;
    if (pk) {
        if (sodium_memcmp(pk, res->pk, 32) != 0) {
            char want[REEL_PROOF_FPR_MAX];
            reel_proof_fingerprint(pk, want);
            fail(res, REEL_PROOF_WRONG_KEY, "signed by another key: the file's key has fingerprint %s, the site key "
                 "given has %s", res->fingerprint, want);
            goto out;
        }
    } else if (trust_embedded) {
        res->embedded_key_trusted = true;
    } else {
        fail(res, REEL_PROOF_NO_KEY, "no public key given to check against (the file's key has fingerprint %s): "
             "give the site's key, or trust the embedded one explicitly", res->fingerprint);
        goto out;
    }
    if (crypto_sign_verify_detached(sig, sp, splen, res->pk) != 0) {
        fail(res, REEL_PROOF_BAD_SIGNATURE, "bad signature: the manifest box was changed after signing");
        goto out;
    }
    if (memcmp(sp, REEL_PROOF_CONTEXT, REEL_PROOF_CONTEXT_LEN) != 0) {
        fail(res, REEL_PROOF_BAD_BOX, "the signed part is not a Reel export manifest");
        goto out;
    }
    uint64_t want_bytes = be64(sp + REEL_PROOF_CONTEXT_LEN);
    const uint8_t *want_hash = sp + REEL_PROOF_CONTEXT_LEN + 8;
    size_t mlen = splen - REEL_PROOF_SIGNED_FIXED;
    res->manifest = malloc(mlen + 1);
    if (!res->manifest) {
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    memcpy(res->manifest, sp + REEL_PROOF_SIGNED_FIXED, mlen);
    res->manifest[mlen] = '\0';
    if (want_bytes != res->file_bytes) {
        fail(res, REEL_PROOF_OTHER_FILE, "manifest of another file: it signs an MP4 of %" PRIu64 " bytes, this one "
             "has %" PRIu64 " without its manifest box", want_bytes, res->file_bytes);
        goto out;
    }
    uint8_t hash[32];
    r = reel_proof_hash_prefix(fd, res->file_bytes, hash);
    if (r < 0) {
        reel_err_set(err, -r, "reading %s: %s", path, strerror(-r));
        goto out;
    }
    if (sodium_memcmp(hash, want_hash, 32) != 0) {
        char a[65], b[65];
        reel_proof_hex(want_hash, 32, a);
        reel_proof_hex(hash, 32, b);
        fail(res, REEL_PROOF_HASH_MISMATCH, "file hash mismatch: the MP4 was changed after signing (or the manifest "
             "is another file's): signed BLAKE2b %.16s..., file %.16s...", a, b);
        goto out;
    }
    res->verdict = REEL_PROOF_VERIFIED;
out:
    free(box);
    close(fd);
    return r;
}

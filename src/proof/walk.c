/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Walking an MP4's top-level boxes, hashing a prefix: see walk.h.
 */
#include "proof/walk.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proof/format.h"

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return -ENODATA;
        got += (size_t)k;
    }
    return 0;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int reel_proof_walk(int fd, struct reel_proof_walk *w)
{
    memset(w, 0, sizeof(*w));
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    w->size = (uint64_t)st.st_size;
    uint64_t off = 0;
    while (off < w->size) {
        if (w->nboxes >= REEL_PROOF_WALK_MAX) {
            snprintf(w->problem, sizeof(w->problem), "more than %d top-level boxes: not an export",
                     REEL_PROOF_WALK_MAX);
            return 0;
        }
        uint8_t h[32];
        uint64_t left = w->size - off;
        if (left < 8) {
            snprintf(w->problem, sizeof(w->problem),
                     "the file is cut or has stray bytes: %" PRIu64 " bytes at offset %" PRIu64 " are no box", left,
                     off);
            return 0;
        }
        size_t hn = left < sizeof(h) ? (size_t)left : sizeof(h);
        int r = pread_all(fd, h, hn, off);
        if (r < 0)
            return r;
        uint64_t len = be(h, 4), hdr = 8;
        char type[5];
        for (int i = 0; i < 4; i++)
            type[i] = (char)(h[4 + i] >= 32 && h[4 + i] < 127 ? h[4 + i] : '?');
        type[4] = '\0';
        if (len == 1) {
            if (hn < 16) {
                snprintf(w->problem, sizeof(w->problem), "the file is cut: box '%s' at offset %" PRIu64
                         " has no room for its 64-bit size", type, off);
                return 0;
            }
            len = be(h + 8, 8);
            hdr = 16;
        } else if (len == 0) {
            len = left;
        }
        if (len < hdr) {
            snprintf(w->problem, sizeof(w->problem), "box '%s' at offset %" PRIu64 " has an impossible size %" PRIu64
                     ": the file is damaged", type, off, len);
            return 0;
        }
        if (len > left) {
            snprintf(w->problem, sizeof(w->problem),
                     "the file is cut: box '%s' at offset %" PRIu64 " claims %" PRIu64 " bytes but only %" PRIu64
                     " are left", type, off, len, left);
            return 0;
        }
        if (memcmp(h + 4, "uuid", 4) == 0 && hdr == 8 && hn >= REEL_PROOF_HDR &&
            memcmp(h + 8, REEL_PROOF_UUID, 16) == 0) {
            if (w->nproof == 0) {
                w->proof_off = off;
                w->proof_len = len;
                w->proof_index = w->nboxes;
            }
            w->nproof++;
        }
        w->nboxes++;
        off += len;
    }
    return 0;
}

int reel_proof_hash_prefix(int fd, uint64_t n, uint8_t out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    size_t cap = 1 << 20;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    uint64_t off = 0;
    int r = 0;
    while (off < n) {
        size_t want = n - off < cap ? (size_t)(n - off) : cap;
        r = pread_all(fd, buf, want, off);
        if (r < 0)
            break;
        crypto_generichash_update(&st, buf, want);
        off += want;
    }
    free(buf);
    if (r == 0)
        crypto_generichash_final(&st, out, 32);
    return r;
}

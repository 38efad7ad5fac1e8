/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Annex-B splitting (used by the RTP depacketiser for payloads that carry
 * start codes, and by tests, the simulator and tools) and the VCL digest that
 * tests use to compare frames sent with frames stored.
 */
#include "codec/annexb.h"

#include <errno.h>
#include <openssl/evp.h>

#include "base/buf.h"

/* Offset of the next 00 00 01 at or after from, or len. */
static size_t find_start(const uint8_t *buf, size_t len, size_t from)
{
    for (size_t i = from; i + 3 <= len; i++) {
        if (buf[i + 2] > 1) {
            i += 2;               /* no start code can begin at i, i+1 or i+2 */
            continue;
        }
        if (buf[i] == 0 && buf[i + 1] == 0 && buf[i + 2] == 1)
            return i;
    }
    return len;
}

int reel_annexb_next(const uint8_t *buf, size_t len, size_t *pos, struct reel_nal *ret)
{
    size_t p = *pos;
    while (p < len) {
        size_t sc = find_start(buf, len, p);
        size_t end = sc;
        while (end > p && buf[end - 1] == 0)
            end--;                /* zero bytes before a start code, or trailing */
        size_t next = sc < len ? sc + 3 : len;
        if (end > p) {
            ret->p = buf + p;
            ret->len = end - p;
            *pos = next;
            return 1;
        }
        p = next;
    }
    *pos = len;
    return 0;
}

int reel_annexb_split(const uint8_t *buf, size_t len, struct reel_nal *ret, size_t max)
{
    size_t pos = 0, n = 0;
    struct reel_nal nal;
    while (reel_annexb_next(buf, len, &pos, &nal)) {
        if (n == max)
            return -EMSGSIZE;
        ret[n++] = nal;
    }
    return n > INT32_MAX ? -EMSGSIZE : (int)n;
}

static int is_vcl(enum reel_codec codec, uint8_t b0)
{
    if (codec == REEL_CODEC_H264) {
        unsigned t = reel_h264_nal_type(b0);
        return t >= 1 && t <= 5;
    }
    return reel_h265_nal_type(b0) <= 31;
}

int reel_vcl_digest(enum reel_codec codec, const uint8_t *au, size_t len,
                    uint8_t ret[REEL_VCL_DIGEST_LEN])
{
    for (size_t pos = 0; pos < len;) {            /* validate before hashing */
        if (len - pos < 4 || reel_rd_be32(au + pos) > len - pos - 4)
            return -EBADMSG;
        pos += 4 + reel_rd_be32(au + pos);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    int ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (size_t pos = 0; ok && pos < len;) {
        uint32_t n = reel_rd_be32(au + pos);
        /* Trailing zero bytes belong to the byte stream, not the NAL unit
         * (trailing_zero_8bits); packagers differ in keeping them, so the
         * digest leaves them out. */
        uint32_t m = n;
        while (m > 1 && au[pos + 4 + m - 1] == 0)
            m--;
        if (n > 0 && is_vcl(codec, au[pos + 4])) {
            uint8_t be[4];
            reel_wr_be32(be, m);
            ok = EVP_DigestUpdate(ctx, be, 4) && EVP_DigestUpdate(ctx, au + pos + 4, m);
        }
        pos += 4 + (size_t)n;
    }
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (ok)
        ok = EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == REEL_VCL_DIGEST_LEN;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -EIO;
    for (unsigned i = 0; i < REEL_VCL_DIGEST_LEN; i++)
        ret[i] = md[i];
    return 0;
}

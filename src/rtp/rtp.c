/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RTP fixed header parsing and validation (RFC 3550 5.1): version, CSRC
 * list, header extension (5.3.1) and padding, all checked against the
 * packet length before the payload is handed out.
 */
#include "rtp/depack.h"

#include <errno.h>

#include "base/buf.h"

int reel_rtp_parse(const uint8_t *p, size_t len, struct reel_rtp_pkt *ret, struct reel_err *err)
{
    if (len < 12)
        return reel_err_set(err, EBADMSG, "RTP: packet of %zu bytes is shorter than the header",
                            len);
    if (p[0] >> 6 != 2)
        return reel_err_set(err, EBADMSG, "RTP: version %u, expected 2", p[0] >> 6);
    size_t off = 12 + (size_t)(p[0] & 0x0f) * 4;
    if (off > len)
        return reel_err_set(err, EBADMSG, "RTP: %u CSRCs run past the end of a %zu-byte packet",
                            p[0] & 0x0f, len);
    if (p[0] & 0x10) {
        if (len - off < 4)
            return reel_err_set(err, EBADMSG, "RTP: extension header past the end of a "
                                "%zu-byte packet", len);
        size_t ext = (size_t)reel_rd_be16(p + off + 2) * 4;
        if (ext > len - off - 4)
            return reel_err_set(err, EBADMSG, "RTP: extension of %zu bytes runs past the end of "
                                "a %zu-byte packet", ext, len);
        off += 4 + ext;
    }
    size_t end = len;
    if (p[0] & 0x20) {
        uint8_t pad = p[len - 1];
        if (pad == 0 || pad > len - off)
            return reel_err_set(err, EBADMSG, "RTP: padding of %u bytes with %zu bytes of payload",
                                pad, len - off);
        end -= pad;
    }
    ret->pt = p[1] & 0x7f;
    ret->marker = (p[1] & 0x80) != 0;
    ret->seq = reel_rd_be16(p + 2);
    ret->ts = reel_rd_be32(p + 4);
    ret->ssrc = reel_rd_be32(p + 8);
    ret->payload = p + off;
    ret->payload_len = end - off;
    return 0;
}

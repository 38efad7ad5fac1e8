/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * H.264 RTP payloads (RFC 6184): single NAL unit packets, STAP-A and FU-A,
 * accepted whatever packetization-mode the SDP declared. STAP-B, MTAP and
 * FU-B (interleaved mode) are refused. NAL type rules for access units
 * (ITU-T H.264 7.4.1.2.3) live here too.
 */
#include <errno.h>

#include "rtp/depack_int.h"

static unsigned h264_type(const uint8_t *nal) { return reel_h264_nal_type(nal[0]); }
static bool h264_is_vcl(unsigned t) { return t >= 1 && t <= 5; }
static bool h264_is_key(unsigned t) { return t == 5; }

/* SEI, SPS, PPS, AUD and 14..18 after a picture's slices begin the next AU. */
static bool h264_starts_au(unsigned t) { return (t >= 6 && t <= 9) || (t >= 14 && t <= 18); }

static int h264_ps_slot(unsigned t) { return t == 7 ? 1 : t == 8 ? 2 : -1; }

static int h264_payload(struct reel_depack *d, const uint8_t *p, size_t len, struct reel_err *err)
{
    if (len == 0) {
        reel_depack__oddity(d);
        return 0;
    }
    if (reel_depack__is_annexb(p, len))
        return reel_depack__nal(d, p, len);
    unsigned t = reel_h264_nal_type(p[0]);
    if (t >= 1 && t <= 23)
        return reel_depack__nal(d, p, len);
    if (p[0] & 0x80)
        reel_depack__oddity(d);                      /* forbidden_zero_bit (Longse) */
    if (t == 24)
        return reel_depack__aggregate(d, p + 1, len - 1, "H.264 STAP-A", err);
    if (t == 28) {
        if (len < 2) {
            d->au_broken = true;
            return reel_err_set(err, EBADMSG, "H.264 FU-A: %zu-byte payload has no FU header",
                                len);
        }
        uint8_t fh = p[1];
        if (fh & 0x20)
            reel_depack__oddity(d);                  /* reserved bit */
        uint8_t hdr = (uint8_t)((p[0] & 0xe0) | (fh & 0x1f));
        return reel_depack__fu(d, &hdr, fh & 0x1f, fh & 0x80, fh & 0x40, p + 2, len - 2);
    }
    d->au_broken = true;
    return reel_err_set(err, EBADMSG, "H.264 RTP: unsupported payload type %u "
                        "(STAP-B, MTAP, FU-B or reserved)", t);
}

const struct reel_depack__codec reel_depack__h264 = {
    .hdr_len = 1,
    .type = h264_type,
    .is_vcl = h264_is_vcl,
    .is_key = h264_is_key,
    .starts_au = h264_starts_au,
    .ps_slot = h264_ps_slot,
    .payload = h264_payload,
};

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * H.265 RTP payloads (RFC 7798): single NAL unit packets, aggregation
 * packets (AP) and fragmentation units (FU), without DONL fields (we never
 * ask for sprop-max-don-diff > 0). PACI is refused. NAL type rules for access
 * units (ITU-T H.265 7.4.2.4.4) live here too.
 */
#include <errno.h>

#include "rtp/depack_int.h"

static unsigned h265_type(const uint8_t *nal) { return reel_h265_nal_type(nal[0]); }
static bool h265_is_vcl(unsigned t) { return t <= 31; }
static bool h265_is_key(unsigned t) { return t >= 16 && t <= 23; }

/* VPS, SPS, PPS, AUD, prefix SEI and 41..44 after a picture begin the next AU. */
static bool h265_starts_au(unsigned t) { return (t >= 32 && t <= 35) || t == 39 || (t >= 41 && t <= 44); }

static int h265_ps_slot(unsigned t) { return t >= 32 && t <= 34 ? (int)t - 32 : -1; }

static int h265_payload(struct reel_depack *d, const uint8_t *p, size_t len, struct reel_err *err)
{
    if (len == 0) {
        reel_depack__oddity(d);
        return 0;
    }
    if (reel_depack__is_annexb(p, len))
        return reel_depack__nal(d, p, len);
    if (len < 2) {
        d->au_broken = true;
        return reel_err_set(err, EBADMSG, "H.265 RTP: 1-byte payload");
    }
    unsigned t = reel_h265_nal_type(p[0]);
    if (t < 48)
        return reel_depack__nal(d, p, len);
    if (p[0] & 0x80)
        reel_depack__oddity(d);                      /* forbidden_zero_bit */
    if (t == 48)
        return reel_depack__aggregate(d, p + 2, len - 2, "H.265 AP", err);
    if (t == 49) {
        if (len < 3) {
            d->au_broken = true;
            return reel_err_set(err, EBADMSG, "H.265 FU: %zu-byte payload has no FU header", len);
        }
        uint8_t fh = p[2];
        unsigned ft = fh & 0x3f;
        uint8_t hdr[2] = {(uint8_t)((p[0] & 0x81) | ft << 1), p[1]};
        return reel_depack__fu(d, hdr, ft, fh & 0x80, fh & 0x40, p + 3, len - 3);
    }
    d->au_broken = true;
    return reel_err_set(err, EBADMSG, "H.265 RTP: unsupported payload type %u (PACI or reserved)",
                        t);
}

const struct reel_depack__codec reel_depack__h265 = {
    .hdr_len = 2,
    .type = h265_type,
    .is_vcl = h265_is_vcl,
    .is_key = h265_is_key,
    .starts_au = h265_starts_au,
    .ps_slot = h265_ps_slot,
    .payload = h265_payload,
};

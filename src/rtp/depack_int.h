/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Internals shared by depack.c (packet flow, sequence, SSRC, access unit
 * assembly, parameter sets) and the per-codec payload parsers h264.c and
 * h265.c. Not a public header: only src/rtp includes it.
 */
#ifndef REEL_RTP_DEPACK_INT_H
#define REEL_RTP_DEPACK_INT_H

#include "base/buf.h"
#include "rtp/depack.h"

struct reel_depack;

/* What differs between H.264 and H.265: a small vtable. */
struct reel_depack__codec {
    size_t hdr_len;                                   /* NAL header bytes: 1 or 2 */
    unsigned (*type)(const uint8_t *nal);
    bool (*is_vcl)(unsigned type);
    bool (*is_key)(unsigned type);
    bool (*starts_au)(unsigned type);                 /* non-VCL that opens a new AU */
    int (*ps_slot)(unsigned type);                    /* 0 VPS, 1 SPS, 2 PPS, -1 other */
    /* Parses one RTP payload, calling reel_depack__nal/__fu/__aggregate. */
    int (*payload)(struct reel_depack *d, const uint8_t *p, size_t len, struct reel_err *err);
};

extern const struct reel_depack__codec reel_depack__h264;
extern const struct reel_depack__codec reel_depack__h265;

enum reel_depack__fu_state { FU_NONE, FU_ACTIVE, FU_DISCARD };

#define REEL_DEPACK_HANDOVER 4          /* packets of a new SSRC in a row to accept it */

/* A packet held for reordering: a copy of the raw RTP packet. */
struct reel_depack__held {
    uint8_t *p;
    size_t len, alloc;
    uint16_t seq;
    bool used;
};

struct reel_depack {
    const struct reel_depack__codec *ops;
    enum reel_codec codec;
    uint8_t pt;
    int (*on_au)(void *opaque, const struct reel_au *au);
    void *opaque;
    struct reel_depack_stats st;

    /* SSRC: learnt from the first packet; a new one that keeps coming for
     * REEL_DEPACK_HANDOVER packets in a row takes over (its packets are kept
     * in cand and replayed so its first access unit is not lost). */
    bool have_ssrc;
    uint32_t ssrc, cand_ssrc;
    unsigned cand_n;
    bool cand_overflow;
    struct reel_buf cand;              /* [be32 len][packet] ... */

    /* Sequence numbers (RFC 3550 A.1 style). */
    bool have_seq;
    uint16_t max_seq;
    uint32_t bad_seq;                  /* > 0xffff: none */
    bool loss;                         /* a gap before the packet being handled */

    /* Reordering (cfg.reorder_window > 0): packets ahead of ro_next are held
     * in ro[seq % ro_win] until the missing ones come or fall out of the
     * window. */
    unsigned ro_win, ro_n;
    bool ro_have;
    uint16_t ro_next;
    struct reel_depack__held *ro;

    /* Timestamps. */
    bool have_ts;
    uint32_t last_ts;
    int64_t last_ts64;
    uint32_t pkt_ts;
    int64_t pkt_ts64;

    /* The access unit being assembled: 4-byte length-prefixed NAL units. */
    struct reel_buf au;
    bool au_open, au_broken, au_vcl, au_key, au_oversized;
    uint32_t au_ts;
    int64_t au_ts64;
    bool pkt_vcl;                      /* the current packet carried VCL data */
    enum reel_depack__fu_state fu;
    size_t fu_off;                     /* offset of the FU's length prefix in au */
    unsigned fu_type;

    /* Latest parameter sets and the params built from them. */
    uint8_t ps[3][REEL_PARAM_SET_MAX];
    size_t ps_len[3];
    bool ps_dirty;
    bool have_params;
    struct reel_video_params params;
    uint64_t params_gen, delivered_gen;
    bool cb_stopped;                   /* the last on_au call returned non-zero */
};

static inline void reel_depack__oddity(struct reel_depack *d) { d->st.oddities++; }

/* A complete NAL unit (start codes inside are split off). 0 or the on_au
 * callback's non-zero return. */
int reel_depack__nal(struct reel_depack *d, const uint8_t *nal, size_t len);
/* One fragment of a fragmentation unit; hdr is the reconstructed NAL header. */
int reel_depack__fu(struct reel_depack *d, const uint8_t *hdr, unsigned type, bool start,
                    bool end, const uint8_t *frag, size_t frag_len);
/* STAP-A / AP body: (16-bit size, NAL unit)*. -EBADMSG with err on a bad size. */
int reel_depack__aggregate(struct reel_depack *d, const uint8_t *p, size_t len,
                           const char *what, struct reel_err *err);
/* Whether p starts with an Annex-B start code. */
static inline bool reel_depack__is_annexb(const uint8_t *p, size_t len)
{
    return (len >= 3 && p[0] == 0 && p[1] == 0 && p[2] == 1) ||
           (len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 1);
}

#endif

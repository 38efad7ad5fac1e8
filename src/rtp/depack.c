/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The depacketiser's packet flow: payload type and SSRC filtering (with
 * handover to a new SSRC), sequence tracking (RFC 3550 A.1 style: loss,
 * duplicates, late packets, big jumps), timestamp unwrapping, access unit
 * assembly and delivery, and in-band parameter set tracking. The per-codec
 * payload formats are in h264.c and h265.c.
 *
 * Access unit boundaries: an AU is all NAL units with one RTP timestamp; it
 * ends when the timestamp changes, on the marker bit of a packet that carried
 * VCL data, or when a non-VCL NAL that can only start an AU (SPS, PPS, AUD,
 * SEI...) follows the picture. An AU with no picture yet (parameter sets sent
 * with the previous frame's timestamp) is carried into the next one. Any loss
 * inside an AU, or an unfinished fragment, drops the whole AU.
 *
 * Reordering (RTP over UDP, cfg.reorder_window): in front of the sequence
 * check sits a small reorder buffer. A packet ahead of the next expected
 * sequence number is copied and held; when the missing one comes, the held
 * ones follow it in order. A packet W or more ahead slides the window: the
 * holes it leaves behind are losses, handled by the sequence check as
 * before. In order (always, over TCP) nothing is copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/annexb.h"
#include "rtp/depack_int.h"

#define DEFAULT_MAX_AU (4u * 1024 * 1024)
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define NO_BAD_SEQ 0x10000u
#define CAND_CAP ((size_t)REEL_DEPACK_HANDOVER * (65536 + 4))

/* ---- parameter sets ---- */

static void track_param_set(struct reel_depack *d, int slot, const uint8_t *nal, size_t len)
{
    if (len > REEL_PARAM_SET_MAX) {
        reel_depack__oddity(d);
        return;
    }
    if (d->ps_len[slot] == len && memcmp(d->ps[slot], nal, len) == 0)
        return;
    memcpy(d->ps[slot], nal, len);
    d->ps_len[slot] = len;
    d->ps_dirty = true;
}

/* Builds params from the sets in d->ps. Returns whether they built. */
static bool build_params(struct reel_depack *d, struct reel_video_params *ret)
{
    const uint8_t *nals[3];
    size_t lens[3], n = 0;
    for (int i = d->codec == REEL_CODEC_H264 ? 1 : 0; i < 3; i++) {
        if (d->ps_len[i] == 0)
            return false;
        nals[n] = d->ps[i];
        lens[n++] = d->ps_len[i];
    }
    struct reel_err err;
    return reel_video_params_build(d->codec, nals, lens, n, ret, &err) == 0;
}

static void rebuild_params(struct reel_depack *d)
{
    struct reel_video_params np;
    d->ps_dirty = false;
    if (build_params(d, &np)) {
        reel_video_params_clear(&d->params);
        d->params = np;
        d->have_params = true;
        d->params_gen++;
    } else if (d->have_params) {
        /* The sets in effect no longer make sense together: better no
         * params (the caller waits) than wrong ones. */
        reel_video_params_clear(&d->params);
        d->have_params = false;
        d->params_gen++;
        reel_depack__oddity(d);
    }
}

/* ---- access units ---- */

static void start_au(struct reel_depack *d)
{
    d->au_open = true;
    d->au_broken = d->au_vcl = d->au_key = d->au_oversized = false;
    d->au_ts = d->pkt_ts;
    d->au_ts64 = d->pkt_ts64;
    d->fu = FU_NONE;
    reel_buf_reset(&d->au);
}

/* Ends the open AU: delivers it, or drops it (counted) if it is broken. */
static int finish_au(struct reel_depack *d)
{
    if (!d->au_open)
        return 0;
    d->au_open = false;
    if (d->fu == FU_ACTIVE) {                 /* a fragmented NAL that never ended */
        d->au.len = d->fu_off;
        d->au_broken = true;
        reel_depack__oddity(d);
    }
    d->fu = FU_NONE;
    if (d->au_broken) {
        d->st.dropped_aus++;
        if (d->au_oversized)
            d->st.oversized_aus++;
        reel_buf_reset(&d->au);
        return 0;
    }
    if (!d->au_vcl) {                         /* no picture: nothing to deliver */
        reel_buf_reset(&d->au);
        return 0;
    }
    if (d->ps_dirty)
        rebuild_params(d);
    struct reel_au au = {
        .data = d->au.data,
        .len = d->au.len,
        .ts90k = d->au_ts64,
        .key = d->au_key,
        .params = d->have_params ? &d->params : NULL,
        .params_changed = d->params_gen != d->delivered_gen,
    };
    d->delivered_gen = d->params_gen;
    int rc = d->on_au(d->opaque, &au);
    reel_buf_reset(&d->au);
    d->cb_stopped = rc != 0;
    return rc;
}

static void au_overflow(struct reel_depack *d)
{
    d->au_broken = true;                      /* counted in dropped_aus when it ends */
    d->au_oversized = true;
}

/* Called before a NAL of this type is added: a parameter set, SEI or AUD
 * after the picture's slices opens the next AU (same timestamp). */
static int begin_nal(struct reel_depack *d, unsigned type)
{
    if (d->au_open && d->au_vcl && d->fu != FU_ACTIVE && d->ops->starts_au(type)) {
        int rc = finish_au(d);
        if (rc)
            return rc;
    }
    if (!d->au_open)
        start_au(d);
    return 0;
}

/* Bookkeeping for a NAL unit now complete in the AU buffer. */
static void end_nal(struct reel_depack *d, const uint8_t *nal, size_t len)
{
    unsigned t = d->ops->type(nal);
    if (d->ops->is_vcl(t)) {
        d->au_vcl = true;
        d->pkt_vcl = true;
        if (d->ops->is_key(t))
            d->au_key = true;
    }
    int slot = d->ops->ps_slot(t);
    if (slot >= 0)
        track_param_set(d, slot, nal, len);
}

static int emit_one(struct reel_depack *d, const uint8_t *nal, size_t len)
{
    if (len < d->ops->hdr_len) {
        reel_depack__oddity(d);
        return 0;
    }
    if (nal[0] & 0x80)
        reel_depack__oddity(d);               /* forbidden_zero_bit set: keep going */
    if (d->fu == FU_ACTIVE) {
        /* A whole NAL unit while a fragmented one is unfinished: that one
         * never ended. Drop what it had (a NAL appended after it would be
         * cut off with it later) and the AU it was in, as when a new
         * fragmented NAL unit starts (reel_depack__fu). */
        d->au.len = d->fu_off;
        d->au_broken = true;
        reel_depack__oddity(d);
    }
    d->fu = FU_NONE;                          /* a discarded one is over too */
    int rc = begin_nal(d, d->ops->type(nal));
    if (rc)
        return rc;
    if (len > UINT32_MAX || reel_buf_reserve(&d->au, 4 + len) < 0) {
        au_overflow(d);
        if (d->ops->is_vcl(d->ops->type(nal)))
            d->pkt_vcl = true;
        return 0;
    }
    reel_buf_append_be32(&d->au, (uint32_t)len);
    reel_buf_append(&d->au, nal, len);
    end_nal(d, nal, len);
    return 0;
}

static bool has_start_code(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 3 <= len; i++)
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
            return true;
    return false;
}

int reel_depack__nal(struct reel_depack *d, const uint8_t *nal, size_t len)
{
    if (len == 0) {
        reel_depack__oddity(d);
        return 0;
    }
    if (!has_start_code(nal, len))
        return emit_one(d, nal, len);
    reel_depack__oddity(d);                   /* Annex-B inside an RTP payload (V380) */
    size_t pos = 0;
    struct reel_nal n;
    while (reel_annexb_next(nal, len, &pos, &n)) {
        int rc = emit_one(d, n.p, n.len);
        if (rc)
            return rc;
    }
    return 0;
}

int reel_depack__aggregate(struct reel_depack *d, const uint8_t *p, size_t len,
                           const char *what, struct reel_err *err)
{
    size_t pos = 0;
    if (len == 0) {
        reel_depack__oddity(d);
        return 0;
    }
    while (pos < len) {
        if (len - pos < 2) {
            d->au_broken = true;
            return reel_err_set(err, EBADMSG, "%s: truncated size field at offset %zu", what, pos);
        }
        size_t n = reel_rd_be16(p + pos);
        pos += 2;
        if (n == 0 || n > len - pos) {
            d->au_broken = true;
            return reel_err_set(err, EBADMSG, "%s: NAL unit of %zu bytes at offset %zu, "
                                "%zu bytes left", what, n, pos - 2, len - pos);
        }
        int rc = reel_depack__nal(d, p + pos, n);
        if (rc)
            return rc;
        pos += n;
    }
    return 0;
}

int reel_depack__fu(struct reel_depack *d, const uint8_t *hdr, unsigned type, bool start,
                    bool end, const uint8_t *frag, size_t frag_len)
{
    size_t hl = d->ops->hdr_len;
    if (d->ops->is_vcl(type))
        d->pkt_vcl = true;
    if (frag_len == 0)
        reel_depack__oddity(d);               /* empty fragment: tolerated */
    if (start) {
        if (d->fu == FU_ACTIVE) {             /* the previous one never ended */
            d->au.len = d->fu_off;
            d->au_broken = true;
            reel_depack__oddity(d);
        }
        d->fu = FU_NONE;
        int rc = begin_nal(d, type);
        if (rc)
            return rc;
        d->fu_off = d->au.len;
        d->fu_type = type;
        d->fu = FU_DISCARD;
        if (reel_buf_reserve(&d->au, 4 + hl) == 0) {
            reel_buf_append_be32(&d->au, 0);
            reel_buf_append(&d->au, hdr, hl);
            d->fu = FU_ACTIVE;
        } else {
            au_overflow(d);
        }
    } else if (d->fu == FU_NONE) {
        /* A middle or end fragment without its start: lost packets already
         * broke this AU, or the camera sent it without a start. */
        if (!d->au_open)
            start_au(d);
        if (!d->au_broken) {
            d->au_broken = true;
            reel_depack__oddity(d);
        }
        return 0;
    } else if (d->fu == FU_ACTIVE && type != d->fu_type) {
        d->au.len = d->fu_off;                /* NAL type changed mid-FU (Tiandy): drop it */
        d->fu = FU_DISCARD;
        reel_depack__oddity(d);
    }
    if (d->fu == FU_ACTIVE && reel_buf_append(&d->au, frag, frag_len) < 0) {
        d->au.len = d->fu_off;
        d->fu = FU_DISCARD;
        au_overflow(d);
    }
    if (end) {
        if (d->fu == FU_ACTIVE) {
            size_t n = d->au.len - d->fu_off - 4;
            if (n > UINT32_MAX) {
                d->au.len = d->fu_off;
                au_overflow(d);
            } else {
                reel_wr_be32(d->au.data + d->fu_off, (uint32_t)n);
                end_nal(d, d->au.data + d->fu_off + 4, n);
            }
        }
        d->fu = FU_NONE;
    }
    return 0;
}

/* ---- packets ---- */

/* RFC 3550 A.1-style sequence check. Returns whether to process the packet. */
static bool seq_accept(struct reel_depack *d, uint16_t seq)
{
    if (!d->have_seq) {
        d->have_seq = true;
        d->max_seq = seq;
        d->bad_seq = NO_BAD_SEQ;
        return true;
    }
    uint16_t udelta = (uint16_t)(seq - d->max_seq);
    if (udelta == 0) {                        /* duplicate */
        d->st.reordered++;
        return false;
    }
    if (udelta < MAX_DROPOUT) {
        if (udelta > 1) {
            d->st.lost += udelta - 1u;
            d->loss = true;
        }
        d->max_seq = seq;
        d->bad_seq = NO_BAD_SEQ;
        return true;
    }
    if (udelta <= 65536 - MAX_MISORDER) {     /* a big jump: believe it if it continues */
        if (seq == d->bad_seq) {
            d->max_seq = seq;
            d->bad_seq = NO_BAD_SEQ;
            d->loss = true;
            return true;
        }
        d->bad_seq = (uint16_t)(seq + 1);
        reel_depack__oddity(d);
        return false;
    }
    d->st.reordered++;                        /* late: its AU is gone, drop it */
    return false;
}

static int64_t ts_unwrap(struct reel_depack *d, uint32_t ts)
{
    int64_t t = d->have_ts ? d->last_ts64 + (int32_t)(ts - d->last_ts) : (int64_t)ts;
    d->have_ts = true;
    d->last_ts = ts;
    d->last_ts64 = t;
    return t;
}

static int process(struct reel_depack *d, const struct reel_rtp_pkt *pkt, struct reel_err *err)
{
    if (!seq_accept(d, pkt->seq))
        return 0;
    d->pkt_ts = pkt->ts;
    d->pkt_ts64 = ts_unwrap(d, pkt->ts);
    int rc;
    if (d->loss && d->fu == FU_ACTIVE) {
        d->au.len = d->fu_off;
        d->fu = FU_DISCARD;
    }
    if (d->au_open && d->loss)
        d->au_broken = true;                  /* the gap may have held its tail */
    if (d->au_open && pkt->ts != d->au_ts) {
        if (d->au_vcl || d->au_broken || d->fu != FU_NONE) {
            rc = finish_au(d);
            if (rc)
                return rc;
        } else {                              /* only non-VCL so far: carry it over */
            d->au_ts = d->pkt_ts;
            d->au_ts64 = d->pkt_ts64;
        }
    }
    if (!d->au_open)
        start_au(d);
    if (d->loss) {
        d->au_broken = true;                  /* ... or its head */
        d->loss = false;
    }
    d->pkt_vcl = false;
    rc = d->ops->payload(d, pkt->payload, pkt->payload_len, err);
    if (rc)
        return rc;
    if (pkt->marker && d->pkt_vcl && d->fu != FU_ACTIVE)
        return finish_au(d);
    return 0;
}

/* ---- reordering ---- */

/* Passes a held packet on. Returns process()'s result. */
static int ro_release(struct reel_depack *d, struct reel_depack__held *h, struct reel_err *err)
{
    h->used = false;
    d->ro_n--;
    struct reel_rtp_pkt pkt;
    if (reel_rtp_parse(h->p, h->len, &pkt, NULL) < 0)
        return 0;                             /* cannot happen: it parsed when it came */
    return process(d, &pkt, err);
}

/* Passes on the held packet with sequence number seq, if there is one. A
 * malformed payload's error is kept in *saved and the caller goes on; a
 * non-zero return means the on_au callback stopped us. */
static int ro_release_seq(struct reel_depack *d, uint16_t seq, int *saved, struct reel_err *err)
{
    struct reel_depack__held *h = &d->ro[seq % d->ro_win];
    if (!h->used || h->seq != seq)
        return 0;
    int rc = ro_release(d, h, err);
    if (rc && d->cb_stopped)
        return rc;
    if (rc)
        *saved = rc;
    return 0;
}

/* Passes on the held packets that follow ro_next without a hole. */
static int ro_drain(struct reel_depack *d, int *saved, struct reel_err *err)
{
    while (d->ro_n) {
        struct reel_depack__held *h = &d->ro[d->ro_next % d->ro_win];
        if (!h->used || h->seq != d->ro_next)
            break;
        int rc = ro_release_seq(d, d->ro_next++, saved, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Passes on every held packet in order (holes count as loss) and forgets
 * the expected sequence number. */
static int ro_flush(struct reel_depack *d, struct reel_err *err)
{
    int saved = 0;
    for (unsigned i = 0; i < d->ro_win && d->ro_n; i++) {
        int rc = ro_release_seq(d, (uint16_t)(d->ro_next + i), &saved, err);
        if (rc)
            return rc;
    }
    d->ro_have = false;
    return saved;
}

static int ro_hold(struct reel_depack *d, const uint8_t *raw, size_t len, uint16_t seq)
{
    struct reel_depack__held *h = &d->ro[seq % d->ro_win];
    if (h->alloc < len) {
        uint8_t *p = realloc(h->p, len);
        if (!p)
            return -ENOMEM;
        h->p = p;
        h->alloc = len;
    }
    memcpy(h->p, raw, len);
    h->len = len;
    h->seq = seq;
    h->used = true;
    d->ro_n++;
    return 0;
}

/* The reorder buffer in front of process() (see the top of this file). */
static int ro_push(struct reel_depack *d, const uint8_t *raw, size_t len, const struct reel_rtp_pkt *pkt,
                   struct reel_err *err)
{
    if (!d->ro_win)
        return process(d, pkt, err);
    if (!d->ro_have) {
        d->ro_have = true;
        d->ro_next = pkt->seq;
    }
    uint16_t ahead = (uint16_t)(pkt->seq - d->ro_next);
    if (ahead >= 0x8000)                      /* behind: late or a duplicate */
        return process(d, pkt, err);          /* the sequence check drops and counts it */
    int saved = 0, rc;
    if (ahead >= d->ro_win) {
        /* Slide: what was missing before the new window start is lost. At
         * most ro_win packets are held, all within ro_win of ro_next. */
        uint16_t start = (uint16_t)(pkt->seq - (d->ro_win - 1));
        for (unsigned i = 0; i < d->ro_win && d->ro_n && d->ro_next != start; i++)
            if ((rc = ro_release_seq(d, d->ro_next++, &saved, err)) != 0)
                return rc;
        d->ro_next = start;
        if ((rc = ro_drain(d, &saved, err)) != 0)
            return rc;
        ahead = (uint16_t)(pkt->seq - d->ro_next);
    }
    if (ahead == 0) {
        d->ro_next++;
        rc = process(d, pkt, err);
        if (rc && d->cb_stopped)
            return rc;
        int rc2 = ro_drain(d, &saved, err);
        return rc2 ? rc2 : rc ? rc : saved;
    }
    struct reel_depack__held *h = &d->ro[pkt->seq % d->ro_win];
    if (h->used && h->seq == pkt->seq) {      /* a duplicate of a held packet */
        d->st.reordered++;
        return saved;
    }
    if (ro_hold(d, raw, len, pkt->seq) < 0) {
        rc = process(d, pkt, err);            /* no memory to hold it: the gap is a loss */
        return rc ? rc : saved;
    }
    return saved;
}

static void cand_reset(struct reel_depack *d)
{
    d->cand_n = 0;
    d->cand_overflow = false;
    reel_buf_reset(&d->cand);
}

/* Handles a packet from an SSRC other than the current one. Returns 1 if the
 * packet was consumed (kept as a candidate or replayed), else <= 0. */
static int foreign_ssrc(struct reel_depack *d, const uint8_t *raw, size_t len,
                        const struct reel_rtp_pkt *pkt, struct reel_err *err)
{
    if (d->cand_n == 0 || pkt->ssrc != d->cand_ssrc) {
        cand_reset(d);
        d->cand_ssrc = pkt->ssrc;
    }
    if (++d->cand_n < REEL_DEPACK_HANDOVER) {
        if (reel_buf_append_be32(&d->cand, (uint32_t)len) < 0 ||
            reel_buf_append(&d->cand, raw, len) < 0)
            d->cand_overflow = true;
        return 1;
    }
    /* Handover: the old SSRC has stopped. Finish its last AU as at the end
     * of a stream, then replay the new one's packets from the start. */
    int rc = d->ro_win ? ro_flush(d, err) : 0;
    if (rc && d->cb_stopped)
        return rc;
    rc = finish_au(d);
    if (rc)
        return rc;
    d->st.ssrc_changes++;
    d->ssrc = pkt->ssrc;
    d->have_seq = false;
    d->loss = d->cand_overflow;
    size_t pos = 0;
    while (pos + 4 <= d->cand.len) {
        size_t n = reel_rd_be32(d->cand.data + pos);
        struct reel_rtp_pkt old;
        if (reel_rtp_parse(d->cand.data + pos + 4, n, &old, NULL) == 0) {
            d->cb_stopped = false;
            rc = process(d, &old, err);       /* a malformed one was reported when it came */
            if (d->cb_stopped) {
                cand_reset(d);
                return rc;
            }
        }
        pos += 4 + n;
    }
    cand_reset(d);
    return 0;
}

int reel_depack_push(struct reel_depack *d, const uint8_t *raw, size_t len, struct reel_err *err)
{
    struct reel_rtp_pkt pkt;
    int rc = reel_rtp_parse(raw, len, &pkt, err);
    if (rc < 0)
        return rc;
    if (pkt.pt != d->pt)
        return 0;
    d->st.packets++;
    d->st.bytes += len;
    if (!d->have_ssrc) {
        d->have_ssrc = true;
        d->ssrc = pkt.ssrc;
    } else if (pkt.ssrc != d->ssrc) {
        rc = foreign_ssrc(d, raw, len, &pkt, err);
        if (rc != 0)
            return rc > 0 ? 0 : rc;
    } else if (d->cand_n) {
        cand_reset(d);                        /* the old one is still alive */
    }
    return ro_push(d, raw, len, &pkt, err);
}

int reel_depack_flush(struct reel_depack *d)
{
    if (d->ro_win && d->ro_n) {
        struct reel_err err;
        int rc = ro_flush(d, &err);
        if (rc && d->cb_stopped)
            return rc;
    }
    return finish_au(d);
}

void reel_depack_get_stats(const struct reel_depack *d, struct reel_depack_stats *ret)
{
    *ret = d->st;
}

/* Loads the SDP's parameter sets as the initial hint; all of them are
 * ignored unless together they build params. */
static void load_sprops(struct reel_depack *d, const struct reel_depack_cfg *cfg)
{
    for (size_t i = 0; i < cfg->sprop_n; i++) {
        if (!cfg->sprop_nals[i] || !cfg->sprop_lens)
            continue;
        size_t pos = 0;
        struct reel_nal n;
        while (reel_annexb_next(cfg->sprop_nals[i], cfg->sprop_lens[i], &pos, &n)) {
            if (n.len < d->ops->hdr_len)
                continue;
            int slot = d->ops->ps_slot(d->ops->type(n.p));
            if (slot >= 0 && n.len <= REEL_PARAM_SET_MAX) {
                memcpy(d->ps[slot], n.p, n.len);
                d->ps_len[slot] = n.len;
            }
        }
    }
    if (build_params(d, &d->params)) {
        d->have_params = true;
        d->params_gen = 1;
    } else {
        memset(d->ps_len, 0, sizeof(d->ps_len));
    }
}

int reel_depack_new(struct reel_depack **ret, const struct reel_depack_cfg *cfg)
{
    if (!cfg || !cfg->on_au || (cfg->codec != REEL_CODEC_H264 && cfg->codec != REEL_CODEC_H265) ||
        (cfg->sprop_n && !cfg->sprop_nals))
        return -EINVAL;
    struct reel_depack *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->codec = cfg->codec;
    d->ops = cfg->codec == REEL_CODEC_H264 ? &reel_depack__h264 : &reel_depack__h265;
    d->pt = cfg->payload_type;
    d->on_au = cfg->on_au;
    d->opaque = cfg->opaque;
    if (cfg->reorder_window) {
        /* A power of two, so that seq % ro_win stays distinct across the
         * 16-bit wrap within one window. */
        d->ro_win = 2;
        while (d->ro_win < cfg->reorder_window && d->ro_win < REEL_DEPACK_REORDER_MAX)
            d->ro_win <<= 1;
        d->ro = calloc(d->ro_win, sizeof(*d->ro));
        if (!d->ro) {
            free(d);
            return -ENOMEM;
        }
    }
    reel_buf_init(&d->au, cfg->max_au_bytes ? cfg->max_au_bytes : DEFAULT_MAX_AU);
    reel_buf_init(&d->cand, CAND_CAP);
    d->bad_seq = NO_BAD_SEQ;
    load_sprops(d, cfg);
    *ret = d;
    return 0;
}

void reel_depack_free(struct reel_depack *d)
{
    if (!d)
        return;
    reel_buf_free(&d->au);
    reel_buf_free(&d->cand);
    for (unsigned i = 0; d->ro && i < d->ro_win; i++)
        free(d->ro[i].p);
    free(d->ro);
    reel_video_params_clear(&d->params);
    free(d);
}

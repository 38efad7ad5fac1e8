/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RTP audio depacketisers (AAC-hbr, G.711, Opus) with drift-free timestamp
 * rescaling. See audio.h for the behaviour and the caps.
 */
#include "rtp/audio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "rtp/depack.h"

struct reel_audio_depack {
    struct reel_audio_depack_cfg cfg;
    struct reel_audio_depack_stats st;
    bool started;
    uint16_t last_seq;
    uint32_t last_ts;
    uint32_t ssrc;
    int64_t ext_ts;                 /* unwrapped RTP timestamp of the last packet */
    int32_t last_step;              /* the last forward step between packets (ticks) */
    /* AAC fragment being reassembled (its AU-size known from the first part) */
    bool frag;
    uint32_t frag_ts;
    size_t frag_size;
    uint8_t *buf;
    size_t buf_len;
};

int64_t reel_audio_ts90k(int64_t ticks, uint32_t rate)
{
    int64_t q = ticks / rate, r = ticks % rate;
    return q * 90000 + (r * 90000 + rate / 2) / rate;
}

int reel_audio_depack_new(struct reel_audio_depack **ret, const struct reel_audio_depack_cfg *cfg)
{
    if (cfg->clock_rate == 0)
        return -EINVAL;
    switch (cfg->codec) {
    case REEL_AUDIO_AAC:
        if (cfg->size_length < 1 || cfg->size_length > 16 || cfg->index_length > 16 ||
            cfg->index_delta_length > 16)
            return -EINVAL;
        break;
    case REEL_AUDIO_PCMU:
    case REEL_AUDIO_PCMA:
    case REEL_AUDIO_OPUS:
        break;
    default:
        return -EINVAL;
    }
    struct reel_audio_depack *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->cfg = *cfg;
    if (d->cfg.max_au_bytes == 0 || d->cfg.max_au_bytes > REEL_AUDIO_AU_MAX)
        d->cfg.max_au_bytes = REEL_AUDIO_AU_MAX;
    if (d->cfg.samples_per_au == 0)
        d->cfg.samples_per_au = 1024;
    if (cfg->codec == REEL_AUDIO_AAC) {
        d->buf = malloc(d->cfg.max_au_bytes);
        if (!d->buf) {
            free(d);
            return -ENOMEM;
        }
    }
    *ret = d;
    return 0;
}

void reel_audio_depack_free(struct reel_audio_depack *d)
{
    if (!d)
        return;
    free(d->buf);
    free(d);
}

void reel_audio_depack_get_stats(const struct reel_audio_depack *d,
                                 struct reel_audio_depack_stats *ret)
{
    *ret = d->st;
}

static int deliver(struct reel_audio_depack *d, const uint8_t *p, size_t n, int64_t ticks)
{
    if (n == 0 || n > d->cfg.max_au_bytes || ticks < 0) {
        d->st.dropped_aus++;
        return 0;
    }
    struct reel_audio_au au = { p, n, reel_audio_ts90k(ticks, d->cfg.clock_rate) };
    d->st.aus++;
    return d->cfg.on_au ? d->cfg.on_au(d->cfg.opaque, &au) : 0;
}

/* MSB-first bit reader over the AU header section (bounded by bits). */
struct bits {
    const uint8_t *p;
    size_t pos, end;
};

static uint32_t take(struct bits *b, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++, b->pos++)
        v = v << 1 | ((b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1u);
    return v;
}

static int malformed(struct reel_audio_depack *d, struct reel_err *err, const char *what)
{
    d->st.malformed++;
    d->frag = false;
    return reel_err_set(err, EBADMSG, "AAC RTP: %s", what);
}

static int push_aac(struct reel_audio_depack *d, const struct reel_rtp_pkt *pk, struct reel_err *err)
{
    const uint8_t *p = pk->payload;
    size_t n = pk->payload_len;
    if (n < 2)
        return malformed(d, err, "payload shorter than the AU-headers-length");
    size_t hbits = reel_rd_be16(p);
    size_t hbytes = (hbits + 7) / 8;
    if (hbytes > n - 2)
        return malformed(d, err, "AU headers run past the end of the packet");
    unsigned first = d->cfg.size_length + d->cfg.index_length;
    unsigned next = d->cfg.size_length + d->cfg.index_delta_length;
    struct bits b = { p + 2, 0, hbits };
    uint32_t sizes[REEL_AUDIO_AUS_PER_PKT];
    uint32_t offs[REEL_AUDIO_AUS_PER_PKT];   /* in AUs from the first */
    size_t nau = 0;
    uint32_t off = 0;
    while (b.end - b.pos >= (nau ? next : first)) {
        if (nau == REEL_AUDIO_AUS_PER_PKT)
            return malformed(d, err, "more AU headers than the cap");
        sizes[nau] = take(&b, d->cfg.size_length);
        if (nau == 0) {
            (void)take(&b, d->cfg.index_length);   /* AU-index: the RTP timestamp is the first AU's */
        } else {
            uint32_t delta = take(&b, d->cfg.index_delta_length);
            off += delta + 1;
        }
        offs[nau++] = off;
    }
    if (nau == 0)
        return malformed(d, err, "no AU header");
    const uint8_t *data = p + 2 + hbytes;
    size_t avail = n - 2 - hbytes;
    int64_t ext = d->ext_ts;

    /* A fragment continues: same timestamp, one header with the full size. */
    if (d->frag) {
        if (pk->ts != d->frag_ts || nau != 1 || sizes[0] != d->frag_size) {
            d->st.dropped_aus++;          /* the rest never came: drop what we had */
            d->frag = false;
        } else {
            if (avail > d->frag_size - d->buf_len) {
                d->st.dropped_aus++;
                return malformed(d, err, "fragment longer than its AU-size");
            }
            memcpy(d->buf + d->buf_len, data, avail);
            d->buf_len += avail;
            if (d->buf_len < d->frag_size) {
                if (pk->marker) {          /* ended short */
                    d->st.dropped_aus++;
                    return malformed(d, err, "fragmented AU ended short of its AU-size");
                }
                return 0;
            }
            d->frag = false;
            return deliver(d, d->buf, d->buf_len, ext);
        }
    }
    if (nau == 1 && sizes[0] > avail) {
        /* The first part of a fragmented AU. */
        if (sizes[0] > d->cfg.max_au_bytes) {
            d->st.dropped_aus++;
            return malformed(d, err, "fragmented AU over the size cap");
        }
        if (pk->marker)
            return malformed(d, err, "AU-size larger than the packet");
        memcpy(d->buf, data, avail);
        d->buf_len = avail;
        d->frag = true;
        d->frag_ts = pk->ts;
        d->frag_size = sizes[0];
        return 0;
    }
    size_t total = 0;
    for (size_t i = 0; i < nau; i++)
        total += sizes[i];
    if (total > avail)
        return malformed(d, err, "AU sizes run past the end of the packet");
    size_t at = 0;
    for (size_t i = 0; i < nau; i++) {
        int r = deliver(d, data + at, sizes[i], ext + (int64_t)offs[i] * d->cfg.samples_per_au);
        if (r != 0)
            return r;
        at += sizes[i];
    }
    return 0;
}

int reel_audio_depack_push(struct reel_audio_depack *d, const uint8_t *pkt, size_t len,
                           struct reel_err *err)
{
    struct reel_rtp_pkt pk;
    int r = reel_rtp_parse(pkt, len, &pk, err);
    if (r < 0) {
        d->st.malformed++;
        return r;
    }
    if (pk.pt != d->cfg.payload_type) {
        d->st.other_pt++;
        return 0;
    }
    d->st.packets++;
    if (!d->started) {
        d->started = true;
        d->ext_ts = pk.ts;
        d->ssrc = pk.ssrc;
    } else if (pk.ssrc != d->ssrc) {
        /* A new source (the camera's encoder restarted): its sequence
         * numbers and timestamps start anywhere. Time goes on from the old
         * source's by one packet's step, so it never goes back. */
        d->ssrc = pk.ssrc;
        if (d->frag) {
            d->frag = false;
            d->st.dropped_aus++;
        }
        d->ext_ts += d->last_step > 0 ? d->last_step : 1;
    } else {
        uint16_t gap = (uint16_t)(pk.seq - d->last_seq);
        if (gap == 0 || gap > 0x8000)
            return 0;                       /* duplicate or late: dropped */
        if (gap != 1) {
            d->st.lost += gap - 1u;
            if (d->frag) {
                d->frag = false;
                d->st.dropped_aus++;
            }
        }
        int32_t step = (int32_t)(pk.ts - d->last_ts);
        d->ext_ts += step;
        if (step > 0)
            d->last_step = step;
    }
    d->last_seq = pk.seq;
    d->last_ts = pk.ts;
    switch (d->cfg.codec) {
    case REEL_AUDIO_AAC:
        return push_aac(d, &pk, err);
    default:
        return deliver(d, pk.payload, pk.payload_len, d->ext_ts);
    }
}

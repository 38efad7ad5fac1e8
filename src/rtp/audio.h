/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RTP audio depacketisers: AAC (RFC 3640 mpeg4-generic, mode AAC-hbr: AU
 * headers, several AUs per packet, one AU fragmented over packets ending at
 * the marker bit), G.711 µ-law/A-law (RFC 3551: the payload is the samples)
 * and Opus (RFC 7587: the payload is one Opus packet). RTP packets in, one
 * audio access unit at a time out, as stored (CONTRACTS section 5): AAC =
 * one raw AU, Opus = one packet, G.711 = the samples of one RTP packet.
 *
 * Timestamps: the 32-bit RTP timestamp is unwrapped into a 64-bit sample
 * count (signed steps between packets, so a wrap is seamless) and rescaled
 * to 90 kHz from that exact count, rounded to nearest, so no drift can
 * accumulate however long the run. A new SSRC (an encoder restart) takes
 * over at once; its time goes on from the old source's by one packet's step. AAC AUs after the first in a packet are
 * placed samples_per_au ticks (1024 or 960 samples) apart, shifted by their
 * AU-index-delta.
 *
 * Hostile input: every length is checked against the packet; an AU header
 * section longer than the packet, AU sizes that do not tile the data, more
 * than REEL_AUDIO_AUS_PER_PKT headers, a fragment growing past the declared
 * AU size or max_au_bytes: the packet (or the fragmented AU) is dropped and
 * counted, and the depacketiser stays usable. A sequence gap drops the AU
 * being reassembled. Not thread safe; no I/O; intended for RTP over TCP
 * (packets in order; no reordering window).
 */
#ifndef REEL_RTP_AUDIO_H
#define REEL_RTP_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "codec/audio_entry.h"

#define REEL_AUDIO_AUS_PER_PKT 64
#define REEL_AUDIO_AU_MAX (64 * 1024)   /* default and largest max_au_bytes */

struct reel_audio_au {
    const uint8_t *data;                /* valid only during the callback */
    size_t len;
    int64_t ts90k;                      /* from the unwrapped RTP timestamp (see above) */
};

struct reel_audio_depack_cfg {
    enum reel_audio_codec codec;
    uint8_t payload_type;               /* packets with another PT are ignored */
    uint32_t clock_rate;                /* RTP clock (Hz), > 0 */
    /* AAC-hbr only (from the fmtp): AU-size, AU-index and AU-index-delta
     * field widths in bits (13, 3, 3 for AAC-hbr), and the AU duration in
     * RTP clock ticks (reel_audio_params.samples_per_au, rescaled when the
     * RTP clock differs from the config's sample rate; 0 = 1024). */
    unsigned size_length, index_length, index_delta_length;
    uint32_t samples_per_au;
    size_t max_au_bytes;                /* 0 = REEL_AUDIO_AU_MAX; capped to it; a larger AU is dropped */
    /* Called for each AU; a non-zero return stops the push and is returned. */
    int (*on_au)(void *opaque, const struct reel_audio_au *au);
    void *opaque;
};

struct reel_audio_depack_stats {
    uint64_t packets, aus, malformed, lost, dropped_aus, other_pt;
};

struct reel_audio_depack;

/* -EINVAL for an unsupported codec or field widths (size_length 1..16,
 * index lengths 0..16), a zero clock rate; -ENOMEM. *ret owned by the
 * caller: reel_audio_depack_free(). */
int reel_audio_depack_new(struct reel_audio_depack **ret, const struct reel_audio_depack_cfg *cfg);
void reel_audio_depack_free(struct reel_audio_depack *d);   /* NULL ok */

/* Feeds one RTP packet. 0 (also for packets dropped and counted), a negative
 * errno with err filled for a malformed packet (the depacketiser stays
 * usable), or the callback's non-zero return. */
int reel_audio_depack_push(struct reel_audio_depack *d, const uint8_t *pkt, size_t len,
                           struct reel_err *err);

void reel_audio_depack_get_stats(const struct reel_audio_depack *d,
                                 struct reel_audio_depack_stats *ret);

/* RTP clock ticks (an unwrapped sample count) to 90 kHz, rounded to nearest,
 * exact for any count >= 0 (no intermediate overflow). */
int64_t reel_audio_ts90k(int64_t ticks, uint32_t rate);

#endif

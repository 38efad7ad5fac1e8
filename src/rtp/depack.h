/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RTP packets in, access units out: the H.264 (RFC 6184: single NAL, STAP-A,
 * FU-A) and H.265 (RFC 7798: single, AP, FU) depacketisers, RTP header
 * parsing, sequence tracking and timestamp unwrapping.
 *
 * One struct reel_depack per video stream; not thread safe; no I/O.
 */
#ifndef REEL_RTP_DEPACK_H
#define REEL_RTP_DEPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "codec/params.h"


/* A parsed RTP header (RFC 3550 5.1); payload points into the packet. */
struct reel_rtp_pkt {
    uint8_t pt;
    bool marker;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    const uint8_t *payload;
    size_t payload_len;
};

/* Parses and validates an RTP header (version 2, CSRCs, extension, padding).
 * 0 or -EBADMSG with err filled. */
int reel_rtp_parse(const uint8_t *p, size_t len, struct reel_rtp_pkt *ret, struct reel_err *err);

/* One complete access unit. Valid only during the callback (params too: its
 * sample_entry is freed when the parameter sets change; copy what you keep).
 *
 * Behaviour (see depack.c): an AU is the NAL units of one RTP timestamp; it
 * ends on a timestamp change, on the marker bit of a packet carrying VCL
 * data, or when a parameter set/AUD/SEI follows the picture; never on the
 * marker of a non-VCL packet. Parameter sets sent ahead of the picture with
 * the previous timestamp join the next AU. A gap in sequence numbers drops
 * the AU it falls in (and the next one when the gap is at a boundary: its
 * head may be missing); late and duplicate packets are dropped (reordered).
 * With cfg.reorder_window W (for RTP over UDP), a packet that arrives ahead
 * of a missing one is held, up to W-1 sequence numbers ahead, so that the
 * missing one can still come: packets reordered by less than W places are
 * put back in order; a hole older than that counts as loss.
 * A new SSRC takes over after 4 packets in a row, which are replayed so its
 * first AU survives; ts90k continues across the change as a signed step. */
struct reel_au {
    const uint8_t *data;      /* NAL units, each prefixed by its 4-byte big-endian length,
                                 exactly as received (parameter sets and SEI included) */
    size_t len;
    int64_t ts90k;            /* unwrapped 64-bit RTP timestamp (first one maps to its 32-bit value) */
    bool key;                 /* H.264 IDR / H.265 IRAP */
    const struct reel_video_params *params;  /* in effect for this AU; NULL until known */
    bool params_changed;      /* params differ from those of the previous AU delivered */
};

struct reel_depack_stats {
    uint64_t packets, bytes, lost, reordered, dropped_aus, ssrc_changes, oddities;
    uint64_t oversized_aus;            /* of dropped_aus: over max_au_bytes */
};

struct reel_depack_cfg {
    enum reel_codec codec;
    uint8_t payload_type;              /* packets with another PT are ignored */
    size_t max_au_bytes;               /* cap; a larger AU is dropped (0 = 4 MiB) */
    unsigned reorder_window;           /* 0: none (TCP); else 2..REEL_DEPACK_REORDER_MAX */
    /* Parameter sets from the SDP (may be absent, wrong or garbage: hints only). */
    const uint8_t *const *sprop_nals;
    const size_t *sprop_lens;
    size_t sprop_n;
    /* Called for each complete AU. A non-zero return stops reel_depack_push
     * and is returned from it. */
    int (*on_au)(void *opaque, const struct reel_au *au);
    void *opaque;
};

struct reel_depack;

#define REEL_DEPACK_REORDER_MAX 64

/* 0, -ENOMEM, -EINVAL. *ret owned by the caller: reel_depack_free(). */
int reel_depack_new(struct reel_depack **ret, const struct reel_depack_cfg *cfg);
void reel_depack_free(struct reel_depack *d);   /* NULL is fine */

/* Feeds one RTP packet. Returns 0 (including for packets that were dropped and
 * counted), a negative errno with err filled for a malformed packet (the
 * caller logs and carries on: the depacketiser stays usable), or the
 * callback's non-zero return. */
int reel_depack_push(struct reel_depack *d, const uint8_t *pkt, size_t len, struct reel_err *err);

/* Delivers a pending AU, if complete enough (end of stream); packets held
 * for reordering are let through first (a hole among them is a loss). */
int reel_depack_flush(struct reel_depack *d);

void reel_depack_get_stats(const struct reel_depack *d, struct reel_depack_stats *ret);

#endif

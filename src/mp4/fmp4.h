/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fragmented MP4 for live view (GET /api/cameras/{camera}/live.mp4): an
 * init segment (ftyp + moov with mvex/trex, one video track, timescale
 * 90 kHz) and one fragment per access unit: prft (the NTP wall time the
 * recorder received the AU, so a client can measure its delay) + moof
 * (mfhd, traf: tfhd default-base-is-moof, tfdt, trun of one sample) + mdat.
 *
 * Pure functions, no I/O. Ownership: the caller owns every output buffer
 * (reel_buf_free(); reel_fmp4_fragment_head writes into the caller's array).
 */
#ifndef REEL_MP4_FMP4_H
#define REEL_MP4_FMP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define REEL_FMP4_TIMESCALE 90000
#define REEL_FMP4_INIT_MAX (128u << 10)  /* init segment cap (entry box <= 64 KiB) */
#define REEL_FMP4_HEAD_MAX 160u          /* prft + moof + mdat header */
#define REEL_FMP4_AU_MAX (64u << 20)     /* one access unit */

/* The init segment for the sample entry box (avc1/hvc1 with its
 * avcC/hvcC) of width x height into *out (initialised here, cap
 * REEL_FMP4_INIT_MAX). -EINVAL (no entry, bad size), -ENOMEM, -EMSGSIZE. */
int reel_fmp4_init(const uint8_t *entry, size_t entry_len, int width, int height, struct reel_buf *out);

struct reel_fmp4_frag {
    uint32_t seq;                        /* mfhd sequence number, from 1 */
    uint64_t base_decode90k;             /* tfdt */
    size_t au_len;                       /* length-prefixed NALs (as in the hub) */
    uint32_t duration90k;
    bool key;
    int64_t wall90k;                     /* arrival, 90 kHz since the Unix epoch (prft) */
};

/* prft + moof + the mdat header of fragment f into head (at least
 * REEL_FMP4_HEAD_MAX bytes); the AU's au_len bytes follow it as the mdat's
 * payload. The header length, or -EINVAL (au_len 0 or over REEL_FMP4_AU_MAX,
 * wall time before 1900). */
int reel_fmp4_fragment_head(const struct reel_fmp4_frag *f, uint8_t *head, size_t cap);

/* The whole fragment (head + au) into *out (initialised here). */
int reel_fmp4_fragment(const struct reel_fmp4_frag *f, const uint8_t *au, struct reel_buf *out);

/* ---- recorded footage: one fragment of many samples (the timeline's player) ---- */
struct reel_fmp4_sample {
    uint32_t size;                       /* bytes in the mdat */
    uint32_t duration90k;
    bool key;
};
#define REEL_FMP4_RUN_MAX 200000u        /* samples in one fragment */
/* moof (mfhd seq; traf: tfhd default-base-is-moof, tfdt base_decode90k,
 * trun of the n samples: data offset, duration, size, flags) + the mdat
 * header for the samples' bytes (the sum of their sizes), which the caller
 * sends after it, into *out (initialised here). -EINVAL (n 0 or over
 * REEL_FMP4_RUN_MAX), -ENOMEM. */
int reel_fmp4_run_head(uint32_t seq, uint64_t base_decode90k, const struct reel_fmp4_sample *s, size_t n,
                       struct reel_buf *out);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The transcoding core of the on-demand H.265 -> H.264 transcode (used by
 * transcode.c's threads): source access units (4-byte length-prefixed NAL
 * units) with their sample entry in, H.264 access units (length-prefixed,
 * no parameter sets) with an 'avc1' sample entry built by src/codec from
 * x264's SPS/PPS out. Decodes H.265 or H.264 with libavcodec (one thread),
 * scales with libswscale to fit max_width x max_height (aspect kept, never
 * enlarged), encodes with libx264 (preset ultrafast, tune zerolatency, no
 * B-frames, CRF 26 under a 3 Mbit/s VBV): an output key frame (IDR) exactly
 * where the source has one, so the GOP is the source's.
 *
 * Caps: source AUs over REEL_SNAPSHOT_AU_MAX and pictures over
 * REEL_SNAPSHOT_DIM_MAX are refused; an output AU over 16 MiB is an error.
 * Not thread-safe: one thread per reel_xcode. Ownership: reel_xcode_new()
 * -> reel_xcode_free().
 */
#ifndef REEL_MEDIA_XCODE_H
#define REEL_MEDIA_XCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

struct reel_xcode;

/* One output access unit; pointers valid during the call only. entry_gen
 * starts at 1 and grows whenever the output entry changes (new size or
 * new source entry): the entry bytes then differ from the previous ones. */
struct reel_xcode_out {
    const uint8_t *entry;
    size_t entry_len;
    int64_t entry_gen;
    int width, height;
    const uint8_t *data;
    size_t len;
    int64_t ts90k, wall90k;
    bool key;
};

typedef void (*reel_xcode_out_fn)(void *arg, const struct reel_xcode_out *out);

/* -EINVAL (max sizes under 16 or over REEL_SNAPSHOT_DIM_MAX), -ENOMEM. */
int reel_xcode_new(struct reel_xcode **ret, int max_width, int max_height, struct reel_err *err);
void reel_xcode_free(struct reel_xcode *x);

/* Feeds one source access unit; calls out for each output AU (zero or one
 * with these settings). Until the first key frame (and after an error,
 * until the next key frame) non-key AUs are skipped. A different entry box
 * than the previous AU's reopens the decoder. Returns 0, or a negative
 * errno with err filled (bad entry, a decode or encode error: the caller
 * may go on feeding; the next key frame starts afresh). */
int reel_xcode_feed(struct reel_xcode *x, const uint8_t *entry, size_t entry_len, const uint8_t *au,
                    size_t au_len, int64_t ts90k, int64_t wall90k, bool key, reel_xcode_out_fn out,
                    void *arg, struct reel_err *err);

/* Frames decoded and encoded so far (for tests and benches). */
uint64_t reel_xcode_frames(const struct reel_xcode *x);

#endif

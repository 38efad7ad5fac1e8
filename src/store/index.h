/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The compact per-frame index stored with each recording: for every frame its
 * byte size, its duration (90 kHz) and whether it is a key frame, encoded as
 * zigzag varint deltas (about 2 bytes a frame). See docs/storage.md.
 */
#ifndef REEL_STORE_INDEX_H
#define REEL_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/log.h"

struct reel_frame_info {
    uint32_t size;
    int32_t duration90k;
    bool key;
};

/* Encoder state; the encoded bytes accumulate in enc->out (capped buffer). */
struct reel_index_enc {
    struct reel_buf out;
    uint32_t prev_size[2];          /* [key] */
    int32_t prev_dur;
    uint32_t frames;
};
void reel_index_enc_init(struct reel_index_enc *e, size_t cap);
int reel_index_enc_add(struct reel_index_enc *e, const struct reel_frame_info *f);
void reel_index_enc_free(struct reel_index_enc *e);

/* Decodes exactly n frames from blob into out[0..n). -EBADMSG with err filled
 * on truncated/overlong/trailing data or values out of range. */
int reel_index_decode(const uint8_t *blob, size_t len, uint32_t n, struct reel_frame_info *out,
                      struct reel_err *err);

#endif

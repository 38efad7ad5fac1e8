/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The frames of one playback fragment of a recording (GET .../frag.m4s,
 * src/api/fragments.c): from the last key frame at or before `from` to just
 * before the first key frame at or after `to`, cut before a key frame once
 * REEL_FMP4_PLAN_CUT bytes are held; with keys, only the key frames, each
 * lasting until the next one. Offsets are 90 kHz media ticks since the
 * recording's first frame (sums of frame durations). Pure; unit tested in
 * tests/unit/test_timeline.c. Ownership: reel_fmp4_plan_free().
 */
#ifndef REEL_MP4_FMP4_PLAN_H
#define REEL_MP4_FMP4_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mp4/fmp4.h"
#include "store/index.h"

#define REEL_FMP4_PLAN_CUT (4u << 20)    /* cut before a key frame past this */
#define REEL_FMP4_PLAN_MAX (64u << 20)   /* never more in one fragment (cut even off a key frame) */

struct reel_fmp4_plan {
    size_t first, end;                   /* frames [first, end) */
    int64_t from_off, to_off;            /* the first sample's offset, the end of the last one */
    struct reel_fmp4_sample *samples;    /* malloc'd, n of them */
    uint64_t *offs;                      /* each sample's offset in the sample file, malloc'd */
    size_t n;
    uint64_t bytes;                      /* sum of the samples' sizes */
};

/* Plans the fragment of frames f[0..nf) for [from, to). -ERANGE when from
 * is at or past the end of the frames, -ENOMEM. */
int reel_fmp4_plan(const struct reel_frame_info *f, size_t nf, int64_t from, int64_t to, bool keys,
                   struct reel_fmp4_plan *p);
void reel_fmp4_plan_free(struct reel_fmp4_plan *p);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The MP4 for a camera and a wall-time range: picks the recordings from the
 * store, walks their frame indexes to find the key frame at or before the
 * start and the frame covering the end, and builds a virtual MP4 whose edit
 * list starts playback exactly at `from` and ends at `to`.
 */
#ifndef REEL_MP4_RANGE_H
#define REEL_MP4_RANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"
#include "mp4/mp4.h"

struct reel_store;

/* Longest range served: 7 days. */
#define REEL_MP4_RANGE_MAX90K (INT64_C(7) * 86400 * 90000)

/* Builds the MP4 of camera_id's footage in [from90k, to90k) (90 kHz wall
 * time since the Unix epoch). Recordings on either side of a gap are simply
 * concatenated (the gap is squeezed out of the timeline). Errors, with err:
 * -EINVAL for to90k <= from90k, -EFBIG for a range over
 * REEL_MP4_RANGE_MAX90K, -ENOENT when the camera has no footage in the range,
 * -EBADMSG for a corrupt frame index, and whatever the store or
 * reel_mp4_build() return. *ret owned by the caller: reel_mp4_free(). The
 * store is only used during the call. */
int reel_mp4_for_range(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                       struct reel_mp4 **ret, struct reel_err *err);

/* Options of reel_mp4_for_range_opts(); NULL or all zero = video only. */
struct reel_mp4_range_opts {
    /* Add the camera's audio: the recordings of its "<camera>~audio" row
     * (parent_id = camera_id, kind REEL_STREAM_AUDIO) that overlap the
     * video's shown span, cut to it and aligned to it by wall time (see
     * docs/mp4.md). Without such a row, or without audio in the range, the
     * MP4 is the video-only one. */
    bool audio;
};

/* reel_mp4_for_range() with options; the same errors, plus those of reading
 * the audio row's recordings (a corrupt audio index fails the build: ask
 * again without audio), and -EFBIG when the header with audio would pass
 * its cap (about 5 days of 30 fps video with AAC). */
int reel_mp4_for_range_opts(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                            const struct reel_mp4_range_opts *o, struct reel_mp4 **ret,
                            struct reel_err *err);

#endif

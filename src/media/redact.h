/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The re-encode of a redacted export: an MP4 in (Reel's own view MP4 of the
 * range, read through a callback), the user's rectangles painted into every
 * decoded picture (redact_boxes.h), an H.264 MP4 out.
 *
 * libavformat demuxes the input (so that the edit list that cuts the range
 * to [from, to) is honoured exactly as players honour it) and muxes the
 * output (a fast-start MP4: moov first); libavcodec decodes H.264 or H.265
 * (one thread) and encodes with libx264 (preset REEL_REDACT_PRESET, CRF
 * REEL_REDACT_CRF, one thread, a key frame at least every 4 s, yuv420p at
 * the source's size). Audio is left out: a redacted copy is for pictures,
 * and speech would need its own redaction.
 *
 * The time of a picture is from90k + its presentation time in the input
 * (the range's view MP4 squeezes gaps out, so after a gap this runs behind
 * wall time; the editor uses the same clock, since it plays the same MP4).
 *
 * Runs synchronously on the caller's thread; progress() is called about
 * once a second of video with a fraction 0..1; cancel (may be NULL) is
 * polled per picture (-ECANCELED). Caps: pictures over
 * REEL_SNAPSHOT_DIM_MAX a side are refused; REEL_REDACT_FRAMES_MAX
 * pictures at most.
 */
#ifndef REEL_MEDIA_REDACT_H
#define REEL_MEDIA_REDACT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/log.h"
#include "media/redact_boxes.h"

#define REEL_REDACT_PRESET "veryfast"
#define REEL_REDACT_CRF "20"
#define REEL_REDACT_FRAMES_MAX (10u * 60u * 120u)   /* 10 minutes at 120 fps */

/* The input: read len bytes at off (short only at the end; negative errno). */
typedef ssize_t (*reel_redact_read_fn)(void *arg, uint64_t off, void *buf, size_t len);

struct reel_redact_in {
    reel_redact_read_fn read;
    void *arg;
    uint64_t size;
    int64_t from90k, to90k;             /* the range: presentation time 0 is from90k */
};

struct reel_redact_result {
    uint64_t frames;                    /* pictures written */
    int width, height;
    int64_t duration90k;
};

/* Writes the redacted MP4 to out_path (created 0600 with O_EXCL|O_NOFOLLOW;
 * removed again on failure). Errors with err: -ENOENT (no video in the
 * input), -ENOSYS (no decoder or no libx264), -E2BIG, -EIO,
 * -ECANCELED, -ENOMEM, -EEXIST. */
int reel_redact_run(const struct reel_redact_in *in, const struct reel_redact_spec *spec, const char *out_path,
                    void (*progress)(void *arg, double fraction), void *progress_arg, const atomic_bool *cancel,
                    struct reel_redact_result *res, struct reel_err *err);

#endif

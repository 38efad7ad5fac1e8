/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One key frame to a JPEG picture (the snapshot route, the camera test):
 * decodes an H.264 or H.265 access unit given as 4-byte big-endian
 * length-prefixed NAL units with the parameter sets of its ISO BMFF sample
 * entry ('avc1'/'avc3' with 'avcC', 'hvc1'/'hev1' with 'hvcC', as built by
 * reel_video_params_build and stored in reel.db), scales it to at most
 * max_width pixels wide (aspect kept, never enlarged) and encodes a baseline
 * JPEG with libavcodec's mjpeg encoder.
 *
 * Caps: an access unit over REEL_SNAPSHOT_AU_MAX, an entry over
 * REEL_SNAPSHOT_ENTRY_MAX and a picture over REEL_SNAPSHOT_DIM_MAX in either
 * dimension are refused (-EMSGSIZE / -E2BIG) before anything large is
 * allocated; the decoder runs single-threaded. Every libav error becomes one
 * line in err. Thread-safe (no shared state); a call costs one decode.
 */
#ifndef REEL_MEDIA_SNAPSHOT_H
#define REEL_MEDIA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

#define REEL_SNAPSHOT_AU_MAX (16u << 20)     /* bytes of one access unit */
#define REEL_SNAPSHOT_ENTRY_MAX (64u << 10)  /* bytes of the sample entry box */
#define REEL_SNAPSHOT_DIM_MAX 8192           /* pixels, width and height */

/* Returns 0 and sets *jpeg (malloc'd, the caller frees it with free()) and
 * *jpeg_len; or -EINVAL (bad entry, max_width < 16), -EMSGSIZE (AU or entry
 * too large), -E2BIG (picture too large), -EBADMSG (the decoder gave no
 * picture), -ENOMEM, -ENOSYS (no decoder/encoder in libavcodec), -EIO (other
 * libav errors), with err filled. */
int reel_media_snapshot_jpeg(const uint8_t *entry_box, size_t entry_len, const uint8_t *au,
                             size_t au_len, int max_width, uint8_t **jpeg, size_t *jpeg_len,
                             struct reel_err *err);

/* Finds the decoder configuration inside a sample entry box: sets *codec to
 * 1 (H.264, avcC) or 2 (H.265, hvcC) and *cfg, *cfg_len to the configuration
 * record (the child box's payload, pointing into entry_box). Returns 0 or
 * -EINVAL with err filled. */
int reel_media_entry_config(const uint8_t *entry_box, size_t entry_len, int *codec,
                            const uint8_t **cfg, size_t *cfg_len, struct reel_err *err);

#endif

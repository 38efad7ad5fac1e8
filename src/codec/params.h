/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Video parameters derived from H.264 SPS/PPS or H.265 VPS/SPS/PPS: picture
 * size, the RFC 6381 codec string, and the ISO BMFF VisualSampleEntry box
 * ('avc1' with 'avcC', or 'hvc1' with 'hvcC') that an MP4 needs to decode
 * the samples. The storage layer keeps the sample entry as an opaque blob.
 */
#ifndef REEL_CODEC_PARAMS_H
#define REEL_CODEC_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

enum reel_codec { REEL_CODEC_H264 = 1, REEL_CODEC_H265 = 2 };

#define REEL_PARAM_SET_MAX 4096   /* cap on one parameter set NAL, bytes */

struct reel_video_params {
    enum reel_codec codec;
    uint16_t width, height;       /* cropped picture size from the SPS */
    char codec_string[48];        /* e.g. "avc1.640028", "hvc1.1.6.L120.90" */
    uint8_t *sample_entry;        /* whole 'avc1'/'hvc1' box; owned, malloc'd */
    size_t sample_entry_len;
};

/* Builds params from parameter set NAL units (no start codes, no length
 * prefixes): H.264 needs one SPS and one or more PPS; H.265 needs VPS, SPS
 * and PPS. Returns 0, or -EINVAL with err filled (unparseable SPS, missing
 * set, unsupported profile), -ENOMEM. On failure *ret is untouched.
 * On success the caller owns ret->sample_entry (reel_video_params_clear). */
int reel_video_params_build(enum reel_codec codec, const uint8_t *const nals[],
                            const size_t lens[], size_t n,
                            struct reel_video_params *ret, struct reel_err *err);
void reel_video_params_clear(struct reel_video_params *p);

/* NAL unit type helpers. */
static inline unsigned reel_h264_nal_type(uint8_t b0) { return b0 & 0x1f; }
static inline unsigned reel_h265_nal_type(uint8_t b0) { return (b0 >> 1) & 0x3f; }

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What Reel needs from an H.264 or H.265 sequence parameter set: profile,
 * level and constraint flags (for the codec string and decoder configuration
 * records), chroma format, bit depth, and the cropped picture size. Used by
 * params.c; exposed for tests and tools. Parsers take the whole NAL unit
 * (header included, emulation prevention still in), never read past it, and
 * reject anything out of range with -EINVAL and a message in err.
 */
#ifndef REEL_CODEC_SPS_H
#define REEL_CODEC_SPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

struct reel_h264_sps {
    uint8_t profile_idc, constraint_flags, level_idc;
    uint8_t sps_id;
    uint8_t chroma_format_idc;          /* 0..3 */
    bool separate_colour_plane;
    uint8_t bit_depth_luma_minus8, bit_depth_chroma_minus8;
    bool frame_mbs_only;
    uint16_t width, height;             /* after frame cropping */
};

struct reel_h265_ptl {                  /* general part of profile_tier_level */
    uint8_t profile_space, tier, profile_idc;
    uint32_t compat_flags;
    uint8_t constraint[6];              /* the 48 bits after the compat flags */
    uint8_t level_idc;
};

struct reel_h265_sps {
    uint8_t vps_id, max_sub_layers_minus1;
    bool temporal_id_nesting;
    struct reel_h265_ptl ptl;
    uint8_t sps_id;
    uint8_t chroma_format_idc;
    bool separate_colour_plane;
    uint8_t bit_depth_luma_minus8, bit_depth_chroma_minus8;
    uint16_t width, height;             /* after the conformance window */
};

/* 0 and *ret filled, or -EINVAL with err filled (*ret untouched). */
int reel_h264_sps_parse(const uint8_t *nal, size_t len, struct reel_h264_sps *ret,
                        struct reel_err *err);
int reel_h265_sps_parse(const uint8_t *nal, size_t len, struct reel_h265_sps *ret,
                        struct reel_err *err);

#endif

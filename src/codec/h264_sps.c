/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * H.264 sequence parameter set parser (ITU-T H.264 7.3.2.1.1), up to the
 * frame cropping fields; the VUI is not needed and not read.
 */
#include "codec/sps.h"

#include <errno.h>

#include "codec/bitreader.h"
#include "codec/params.h"

#define MAX_DIM 16384u

static bool has_chroma_info(unsigned profile_idc)
{
    switch (profile_idc) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86:
    case 118: case 128: case 138: case 139: case 134: case 135:
        return true;
    default:
        return false;
    }
}

static void skip_scaling_list(struct reel_bitreader *br, unsigned size, bool *bad)
{
    int last = 8, next = 8;
    for (unsigned j = 0; j < size && reel_br_ok(br); j++) {
        if (next != 0) {
            int32_t delta = reel_br_se(br);
            if (delta < -128 || delta > 127) {
                *bad = true;
                return;
            }
            next = (last + delta + 256) % 256;
        }
        last = next == 0 ? last : next;
    }
}

int reel_h264_sps_parse(const uint8_t *nal, size_t len, struct reel_h264_sps *ret,
                        struct reel_err *err)
{
    uint8_t rbsp[REEL_PARAM_SET_MAX];
    struct reel_h264_sps s = {0};

    if (len < 4)
        return reel_err_set(err, EINVAL, "H.264 SPS: %zu bytes is too short", len);
    if (len > REEL_PARAM_SET_MAX)
        return reel_err_set(err, EINVAL, "H.264 SPS: %zu bytes is over the %d-byte cap",
                            len, REEL_PARAM_SET_MAX);
    if ((nal[0] & 0x80) || reel_h264_nal_type(nal[0]) != 7)
        return reel_err_set(err, EINVAL, "H.264 SPS: bad NAL header 0x%02x", nal[0]);
    int n = reel_rbsp_unescape(nal + 1, len - 1, rbsp, sizeof(rbsp));
    if (n < 0)
        return reel_err_set(err, EINVAL, "H.264 SPS: RBSP too large");

    struct reel_bitreader br;
    reel_br_init(&br, rbsp, (size_t)n);
    s.profile_idc = (uint8_t)reel_br_u(&br, 8);
    s.constraint_flags = (uint8_t)reel_br_u(&br, 8);
    s.level_idc = (uint8_t)reel_br_u(&br, 8);
    uint32_t id = reel_br_ue(&br);
    if (!reel_br_ok(&br) || id > 31)
        return reel_err_set(err, EINVAL, "H.264 SPS: bad seq_parameter_set_id");
    s.sps_id = (uint8_t)id;
    s.chroma_format_idc = 1;
    if (has_chroma_info(s.profile_idc)) {
        uint32_t cf = reel_br_ue(&br);
        if (cf > 3)
            return reel_err_set(err, EINVAL, "H.264 SPS: chroma_format_idc %u out of range", cf);
        s.chroma_format_idc = (uint8_t)cf;
        if (cf == 3)
            s.separate_colour_plane = reel_br_flag(&br);
        uint32_t bdl = reel_br_ue(&br), bdc = reel_br_ue(&br);
        if (bdl > 6 || bdc > 6)
            return reel_err_set(err, EINVAL, "H.264 SPS: bit depth out of range");
        s.bit_depth_luma_minus8 = (uint8_t)bdl;
        s.bit_depth_chroma_minus8 = (uint8_t)bdc;
        reel_br_skip(&br, 1);                                 /* qpprime_y_zero_transform_bypass */
        if (reel_br_flag(&br)) {                              /* seq_scaling_matrix_present */
            unsigned lists = s.chroma_format_idc != 3 ? 8 : 12;
            bool bad = false;
            for (unsigned i = 0; i < lists && !bad; i++)
                if (reel_br_flag(&br))
                    skip_scaling_list(&br, i < 6 ? 16 : 64, &bad);
            if (bad)
                return reel_err_set(err, EINVAL, "H.264 SPS: bad scaling list");
        }
    }
    if (reel_br_ue(&br) > 12)
        return reel_err_set(err, EINVAL, "H.264 SPS: log2_max_frame_num_minus4 out of range");
    uint32_t poc_type = reel_br_ue(&br);
    if (poc_type == 0) {
        if (reel_br_ue(&br) > 12)
            return reel_err_set(err, EINVAL, "H.264 SPS: log2_max_pic_order_cnt_lsb out of range");
    } else if (poc_type == 1) {
        reel_br_skip(&br, 1);
        reel_br_se(&br);
        reel_br_se(&br);
        uint32_t cycle = reel_br_ue(&br);
        if (cycle > 255)
            return reel_err_set(err, EINVAL, "H.264 SPS: num_ref_frames_in_pic_order_cnt_cycle %u",
                                cycle);
        for (uint32_t i = 0; i < cycle && reel_br_ok(&br); i++)
            reel_br_se(&br);
    } else if (poc_type != 2) {
        return reel_err_set(err, EINVAL, "H.264 SPS: pic_order_cnt_type %u out of range", poc_type);
    }
    reel_br_ue(&br);                                          /* max_num_ref_frames */
    reel_br_skip(&br, 1);                                     /* gaps_in_frame_num_allowed */
    uint32_t w_mbs = reel_br_ue(&br), h_units = reel_br_ue(&br);
    s.frame_mbs_only = reel_br_flag(&br);
    if (!s.frame_mbs_only)
        reel_br_skip(&br, 1);                                 /* mb_adaptive_frame_field */
    reel_br_skip(&br, 1);                                     /* direct_8x8_inference */
    uint32_t crop[4] = {0};
    if (reel_br_flag(&br))
        for (int i = 0; i < 4; i++)
            crop[i] = reel_br_ue(&br);
    if (!reel_br_ok(&br))
        return reel_err_set(err, EINVAL, "H.264 SPS: truncated");

    unsigned field_mul = s.frame_mbs_only ? 1 : 2;
    if (w_mbs >= MAX_DIM / 16 || h_units >= MAX_DIM / 16 / field_mul)
        return reel_err_set(err, EINVAL, "H.264 SPS: picture size out of range");
    uint32_t w = (w_mbs + 1) * 16, h = (h_units + 1) * 16 * field_mul;
    unsigned cx = 1, cy = field_mul;
    unsigned cat = s.separate_colour_plane ? 0 : s.chroma_format_idc;
    if (cat == 1 || cat == 2)
        cx = 2;
    if (cat == 1)
        cy *= 2;
    /* crop values bounded by MAX_DIM before multiplying: no overflow. */
    if (crop[0] > MAX_DIM || crop[1] > MAX_DIM || crop[2] > MAX_DIM || crop[3] > MAX_DIM ||
        (crop[0] + crop[1]) * cx >= w || (crop[2] + crop[3]) * cy >= h)
        return reel_err_set(err, EINVAL, "H.264 SPS: cropping larger than the picture");
    s.width = (uint16_t)(w - (crop[0] + crop[1]) * cx);
    s.height = (uint16_t)(h - (crop[2] + crop[3]) * cy);
    *ret = s;
    return 0;
}

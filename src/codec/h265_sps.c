/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * H.265 sequence parameter set parser (ITU-T H.265 7.3.2.2): profile_tier_level
 * with its sub-layers, picture size with the conformance window, bit depths,
 * and the scaling list data skipped field by field (Reolink cameras send it),
 * up to the PCM fields. Nothing after that (short-term reference picture
 * sets, VUI) is needed.
 */
#include "codec/sps.h"

#include <errno.h>

#include "codec/bitreader.h"
#include "codec/params.h"

#define MAX_DIM 16888u

static void read_ptl(struct reel_bitreader *br, unsigned max_sub_layers_minus1,
                     struct reel_h265_ptl *ptl)
{
    ptl->profile_space = (uint8_t)reel_br_u(br, 2);
    ptl->tier = (uint8_t)reel_br_u(br, 1);
    ptl->profile_idc = (uint8_t)reel_br_u(br, 5);
    ptl->compat_flags = reel_br_u(br, 32);
    for (int i = 0; i < 6; i++)
        ptl->constraint[i] = (uint8_t)reel_br_u(br, 8);
    ptl->level_idc = (uint8_t)reel_br_u(br, 8);

    bool profile_present[8] = {0}, level_present[8] = {0};
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        profile_present[i] = reel_br_flag(br);
        level_present[i] = reel_br_flag(br);
    }
    if (max_sub_layers_minus1 > 0)
        for (unsigned i = max_sub_layers_minus1; i < 8; i++)
            reel_br_skip(br, 2);                  /* reserved_zero_2bits */
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        if (profile_present[i])
            reel_br_skip(br, 88);                 /* space, tier, idc, compat, 48 flags */
        if (level_present[i])
            reel_br_skip(br, 8);
    }
}

/* scaling_list_data() (7.3.4); returns false on an out-of-range value. */
static bool skip_scaling_list_data(struct reel_bitreader *br)
{
    for (unsigned size_id = 0; size_id < 4; size_id++) {
        for (unsigned matrix_id = 0; matrix_id < 6; matrix_id += size_id == 3 ? 3 : 1) {
            if (!reel_br_flag(br)) {              /* scaling_list_pred_mode_flag */
                uint32_t delta = reel_br_ue(br);
                if (delta > (size_id == 3 ? matrix_id / 3 : matrix_id))
                    return false;
                continue;
            }
            unsigned coefs = 1u << (4 + (size_id << 1));
            if (coefs > 64)
                coefs = 64;
            if (size_id > 1) {
                int32_t dc = reel_br_se(br);
                if (dc < -7 || dc > 247)
                    return false;
            }
            for (unsigned i = 0; i < coefs && reel_br_ok(br); i++) {
                int32_t d = reel_br_se(br);
                if (d < -128 || d > 127)
                    return false;
            }
        }
    }
    return true;
}

int reel_h265_sps_parse(const uint8_t *nal, size_t len, struct reel_h265_sps *ret,
                        struct reel_err *err)
{
    uint8_t rbsp[REEL_PARAM_SET_MAX];
    struct reel_h265_sps s = {0};

    if (len < 5)
        return reel_err_set(err, EINVAL, "H.265 SPS: %zu bytes is too short", len);
    if (len > REEL_PARAM_SET_MAX)
        return reel_err_set(err, EINVAL, "H.265 SPS: %zu bytes is over the %d-byte cap",
                            len, REEL_PARAM_SET_MAX);
    if ((nal[0] & 0x80) || reel_h265_nal_type(nal[0]) != 33)
        return reel_err_set(err, EINVAL, "H.265 SPS: bad NAL header 0x%02x%02x", nal[0], nal[1]);
    int n = reel_rbsp_unescape(nal + 2, len - 2, rbsp, sizeof(rbsp));
    if (n < 0)
        return reel_err_set(err, EINVAL, "H.265 SPS: RBSP too large");

    struct reel_bitreader br;
    reel_br_init(&br, rbsp, (size_t)n);
    s.vps_id = (uint8_t)reel_br_u(&br, 4);
    s.max_sub_layers_minus1 = (uint8_t)reel_br_u(&br, 3);
    s.temporal_id_nesting = reel_br_flag(&br);
    if (s.max_sub_layers_minus1 > 6)
        return reel_err_set(err, EINVAL, "H.265 SPS: sps_max_sub_layers_minus1 %u out of range",
                            s.max_sub_layers_minus1);
    read_ptl(&br, s.max_sub_layers_minus1, &s.ptl);
    uint32_t id = reel_br_ue(&br);
    if (!reel_br_ok(&br))
        return reel_err_set(err, EINVAL, "H.265 SPS: truncated in profile_tier_level");
    if (id > 15)
        return reel_err_set(err, EINVAL, "H.265 SPS: sps_seq_parameter_set_id %u out of range", id);
    s.sps_id = (uint8_t)id;
    uint32_t cf = reel_br_ue(&br);
    if (cf > 3)
        return reel_err_set(err, EINVAL, "H.265 SPS: chroma_format_idc %u out of range", cf);
    s.chroma_format_idc = (uint8_t)cf;
    if (cf == 3)
        s.separate_colour_plane = reel_br_flag(&br);
    uint32_t w = reel_br_ue(&br), h = reel_br_ue(&br);
    uint32_t win[4] = {0};
    if (reel_br_flag(&br))                                    /* conformance_window_flag */
        for (int i = 0; i < 4; i++)
            win[i] = reel_br_ue(&br);
    uint32_t bdl = reel_br_ue(&br), bdc = reel_br_ue(&br);
    if (bdl > 8 || bdc > 8)
        return reel_err_set(err, EINVAL, "H.265 SPS: bit depth out of range");
    s.bit_depth_luma_minus8 = (uint8_t)bdl;
    s.bit_depth_chroma_minus8 = (uint8_t)bdc;
    if (reel_br_ue(&br) > 12)
        return reel_err_set(err, EINVAL, "H.265 SPS: log2_max_pic_order_cnt_lsb out of range");
    bool ordering_all = reel_br_flag(&br);
    for (unsigned i = ordering_all ? 0 : s.max_sub_layers_minus1;
         i <= s.max_sub_layers_minus1 && reel_br_ok(&br); i++) {
        reel_br_ue(&br);                                      /* max_dec_pic_buffering_minus1 */
        reel_br_ue(&br);                                      /* max_num_reorder_pics */
        reel_br_ue(&br);                                      /* max_latency_increase_plus1 */
    }
    for (int i = 0; i < 6; i++)                               /* block sizes, hierarchy depths */
        reel_br_ue(&br);
    if (reel_br_flag(&br) && reel_br_flag(&br)) {             /* scaling_list_enabled, data_present */
        if (!skip_scaling_list_data(&br) && reel_br_ok(&br))
            return reel_err_set(err, EINVAL, "H.265 SPS: bad scaling list data");
    }
    reel_br_skip(&br, 2);                                     /* amp, sample_adaptive_offset */
    if (reel_br_flag(&br)) {                                  /* pcm_enabled */
        reel_br_skip(&br, 8);
        reel_br_ue(&br);
        reel_br_ue(&br);
        reel_br_skip(&br, 1);
    }
    reel_br_ue(&br);                                          /* num_short_term_ref_pic_sets */
    if (!reel_br_ok(&br))
        return reel_err_set(err, EINVAL, "H.265 SPS: truncated");

    if (w == 0 || h == 0 || w > MAX_DIM || h > MAX_DIM)
        return reel_err_set(err, EINVAL, "H.265 SPS: picture size %ux%u out of range", w, h);
    unsigned cat = s.separate_colour_plane ? 0 : cf;
    unsigned sx = (cat == 1 || cat == 2) ? 2 : 1, sy = cat == 1 ? 2 : 1;
    if (win[0] > MAX_DIM || win[1] > MAX_DIM || win[2] > MAX_DIM || win[3] > MAX_DIM ||
        (win[0] + win[1]) * sx >= w || (win[2] + win[3]) * sy >= h)
        return reel_err_set(err, EINVAL, "H.265 SPS: conformance window larger than the picture");
    w -= (win[0] + win[1]) * sx;
    h -= (win[2] + win[3]) * sy;
    if (w > UINT16_MAX || h > UINT16_MAX)
        return reel_err_set(err, EINVAL, "H.265 SPS: picture size out of range");
    s.width = (uint16_t)w;
    s.height = (uint16_t)h;
    *ret = s;
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/codec: RBSP bit reader, H.264/H.265 SPS parsing,
 * avcC/hvcC sample entries (golden bytes taken from what ffmpeg's mp4 muxer
 * writes for the same parameter sets), codec strings, Annex-B splitting and
 * the VCL digest. Parameter sets come from ffmpeg/libx264/libx265 output:
 * x264/x265 = testsrc2 640x360, clip* = tests/data clips 320x180 (cropped),
 * cqm264 = x264 cqm=jvt (SPS scaling matrices), sl265 = x265 with a custom
 * scaling-list file (SPS scaling_list_data present, as Reolink sends). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "codec/annexb.h"
#include "codec/bitreader.h"
#include "codec/params.h"
#include "codec/sps.h"

static const uint8_t x264_sps[] = {
    0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11,
    0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x0f, 0x16,
    0x2d, 0x96,
};
static const uint8_t x264_pps[] = {
    0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0,
};
static const uint8_t x265_vps[] = {
    0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00,
    0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0x95, 0x98, 0x09,
};
static const uint8_t x265_sps[] = {
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0xa0, 0x05, 0x02, 0x01, 0x69, 0x65,
    0x95, 0x9a, 0x49, 0x32, 0xbc, 0x05, 0xa0, 0x20, 0x00, 0x00, 0x03, 0x00,
    0x20, 0x00, 0x00, 0x03, 0x03, 0xc1,
};
static const uint8_t x265_pps[] = {
    0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40,
};
/* x264.mp4 sample entry as written by ffmpeg -c copy (pasp, btrt removed) */
static const uint8_t x264_entry[] = {
    0x00, 0x00, 0x00, 0x8d, 0x61, 0x76, 0x63, 0x31, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x01, 0x68,
    0x00, 0x48, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18,
    0xff, 0xff, 0x00, 0x00, 0x00, 0x37, 0x61, 0x76, 0x63, 0x43, 0x01, 0x64,
    0x00, 0x1e, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9,
    0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
    0x00, 0x03, 0x00, 0x3c, 0x0f, 0x16, 0x2d, 0x96, 0x01, 0x00, 0x06, 0x68,
    0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};
/* x265.mp4 sample entry as written by ffmpeg -c copy (pasp, btrt removed) */
static const uint8_t x265_entry[] = {
    0x00, 0x00, 0x00, 0xcd, 0x68, 0x76, 0x63, 0x31, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x01, 0x68,
    0x00, 0x48, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18,
    0xff, 0xff, 0x00, 0x00, 0x00, 0x77, 0x68, 0x76, 0x63, 0x43, 0x01, 0x01,
    0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0xf0,
    0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01,
    0x00, 0x18, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0x95,
    0x98, 0x09, 0xa1, 0x00, 0x01, 0x00, 0x2a, 0x42, 0x01, 0x01, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00,
    0x3f, 0xa0, 0x05, 0x02, 0x01, 0x69, 0x65, 0x95, 0x9a, 0x49, 0x32, 0xbc,
    0x05, 0xa0, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x03, 0x03,
    0xc1, 0xa2, 0x00, 0x01, 0x00, 0x07, 0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62,
    0x40,
};

static const uint8_t cqm264_sps[] = {
    0x67, 0x64, 0x00, 0x0c, 0xac, 0xd9, 0x41, 0x60, 0x96, 0xc0, 0x44, 0x00,
    0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0x50, 0x3c, 0x50, 0xa6,
    0x58,
};

static const uint8_t cqm264_pps[] = {
    0x68, 0xeb, 0xe3, 0xcb, 0x30, 0x02, 0xc0,
};

static const uint8_t sl265_vps[] = {
    0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00,
    0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x95, 0x98, 0x09,
};

static const uint8_t sl265_sps[] = {
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0b, 0x08, 0x04, 0x85, 0x96,
    0x56, 0x69, 0x24, 0xf8, 0x41, 0x56, 0xba, 0xd5, 0x42, 0x4a, 0xb5, 0xd6,
    0xaa, 0x14, 0x55, 0xae, 0xb5, 0x50, 0xb2, 0xad, 0x75, 0xaa, 0x86, 0x15,
    0x6b, 0xad, 0x54, 0x34, 0xab, 0x5d, 0x6a, 0xa1, 0x05, 0x5a, 0xeb, 0xd7,
    0xd7, 0xeb, 0xfa, 0xfd, 0x7d, 0x7a, 0xeb, 0x55, 0x09, 0x2a, 0xd7, 0x5e,
    0xbe, 0xbf, 0x5f, 0xd7, 0xeb, 0xeb, 0xd7, 0x5a, 0xa8, 0x51, 0x56, 0xba,
    0xf5, 0xf5, 0xfa, 0xfe, 0xbf, 0x5f, 0x5e, 0xba, 0xd5, 0x42, 0xca, 0xb5,
    0xd7, 0xaf, 0xaf, 0xd7, 0xf5, 0xfa, 0xfa, 0xf5, 0xd6, 0xaa, 0x18, 0x55,
    0xae, 0xbd, 0x7d, 0x7e, 0xbf, 0xaf, 0xd7, 0xd7, 0xae, 0xb5, 0x50, 0xd2,
    0xad, 0x75, 0xeb, 0xeb, 0xf5, 0xfd, 0x7e, 0xbe, 0xbd, 0x75, 0xaa, 0x85,
    0x0a, 0xab, 0x5d, 0x7a, 0xfa, 0xfd, 0x7f, 0x5f, 0xaf, 0xaf, 0x5d, 0x6a,
    0xa1, 0x46, 0xab, 0x5d, 0x7a, 0xfa, 0xfd, 0x7f, 0x5f, 0xaf, 0xaf, 0x5d,
    0x6a, 0xa1, 0x4a, 0xad, 0x75, 0xeb, 0xeb, 0xf5, 0xfd, 0x7e, 0xbe, 0xbd,
    0x75, 0xaa, 0x85, 0x12, 0xad, 0x75, 0xeb, 0xeb, 0xf5, 0xfd, 0x7e, 0xbe,
    0xbd, 0x75, 0xaa, 0x85, 0x08, 0xab, 0x5d, 0x7a, 0xfa, 0xfd, 0x7f, 0x5f,
    0xaf, 0xaf, 0x5d, 0x6a, 0xa1, 0x43, 0x2a, 0xd7, 0x5e, 0xbe, 0xbf, 0x5f,
    0xd7, 0xeb, 0xeb, 0xd7, 0x5a, 0xa8, 0x50, 0xaa, 0xb5, 0xd7, 0xaf, 0xaf,
    0xd7, 0xf5, 0xfa, 0xfa, 0xf5, 0xd6, 0xaa, 0x14, 0x4a, 0xb5, 0xd7, 0xaf,
    0xaf, 0xd7, 0xf5, 0xfa, 0xfa, 0xf5, 0xd6, 0xa9, 0x5e, 0x02, 0xd0, 0x10,
    0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x00, 0xa0, 0x80,
};

static const uint8_t sl265_pps[] = {
    0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40,
};

static const uint8_t clip264_sps[] = {
    0x67, 0x64, 0x00, 0x0b, 0xac, 0xb4, 0x0a, 0x0c, 0xfc, 0xf8, 0x08, 0x80,
    0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x0a, 0x07, 0x8a, 0x15, 0x50,
};

static const uint8_t clip264_pps[] = {
    0x68, 0xef, 0x0f, 0xcb,
};

static const uint8_t clip265_vps[] = {
    0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00,
    0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xba, 0x02, 0x40,
};

static const uint8_t clip265_sps[] = {
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0b, 0x9f, 0x79,
    0x6e, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02,
    0x00, 0x00, 0x03, 0x00, 0x14, 0x10,
};

static const uint8_t clip265_pps[] = {
    0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40,
};

/* ---- bit reader ---- */

static void test_unescape(void **state)
{
    (void)state;
    static const uint8_t in[] = {0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00, 0x03};
    uint8_t out[16];
    int n = reel_rbsp_unescape(in, sizeof(in), out, sizeof(out));
    /* 00 00 03 -> 00 00; 00 00 03 -> 00 00, then 00 03 (one zero only) kept,
     * the final 03 after two zeros dropped. */
    static const uint8_t want[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00};
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(reel_rbsp_unescape(in, sizeof(in), out, 3), -EMSGSIZE);
}

static void test_bitreader(void **state)
{
    (void)state;
    /* 1 | 010 | 011 | 00100 | 00101 | 00110 | 1000 0000 | 00 */
    /* ue: 0, 1, 2, 3; se of 00101 (ue 4) = -2, 00110 (ue 5) = 3 */
    static const uint8_t d[] = {0xa6, 0x42, 0x9a, 0x00};
    struct reel_bitreader br;
    reel_br_init(&br, d, sizeof(d));
    assert_int_equal(reel_br_ue(&br), 0);
    assert_int_equal(reel_br_ue(&br), 1);
    assert_int_equal(reel_br_ue(&br), 2);
    assert_int_equal(reel_br_ue(&br), 3);
    assert_int_equal(reel_br_se(&br), -2);
    assert_int_equal(reel_br_se(&br), 3);
    assert_true(reel_br_ok(&br));
    assert_int_equal(reel_br_left(&br), 32 - 22);
    assert_int_equal(reel_br_u(&br, 8), 0x80);
    assert_int_equal(reel_br_u(&br, 2), 0);
    assert_true(reel_br_ok(&br));
    assert_int_equal(reel_br_u(&br, 1), 0);          /* past the end */
    assert_false(reel_br_ok(&br));
    assert_int_equal(reel_br_ue(&br), 0);            /* sticky */
    assert_false(reel_br_ok(&br));

    /* 32-bit reads and the largest legal ue: 31 zeros, 1, 31 ones = 2^32-2 */
    static const uint8_t big[] = {0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe};
    reel_br_init(&br, big, sizeof(big));
    assert_int_equal(reel_br_ue(&br), 0xfffffffeu);
    assert_true(reel_br_ok(&br));
    /* 32 leading zeros: overflow, rejected */
    static const uint8_t over[] = {0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00};
    reel_br_init(&br, over, sizeof(over));
    reel_br_ue(&br);
    assert_false(reel_br_ok(&br));
    /* se extremes: ue 2^32-2 -> -(2^31-1) */
    reel_br_init(&br, big, sizeof(big));
    assert_int_equal(reel_br_se(&br), -2147483647);
    /* a ue whose suffix is cut off */
    static const uint8_t cut[] = {0x00, 0x01};
    reel_br_init(&br, cut, sizeof(cut));
    reel_br_ue(&br);
    assert_false(reel_br_ok(&br));
    reel_br_init(&br, cut, sizeof(cut));
    assert_int_equal(reel_br_u(&br, 16), 1);
    reel_br_skip(&br, 1);
    assert_false(reel_br_ok(&br));
    reel_br_init(&br, NULL, 0);
    reel_br_u(&br, 0);
    assert_true(reel_br_ok(&br));
    reel_br_ue(&br);
    assert_false(reel_br_ok(&br));
}

/* ---- SPS ---- */

static void test_h264_sps(void **state)
{
    (void)state;
    struct reel_h264_sps s;
    struct reel_err err = {{0}};
    assert_int_equal(reel_h264_sps_parse(x264_sps, sizeof(x264_sps), &s, &err), 0);
    assert_int_equal(s.profile_idc, 100);
    assert_int_equal(s.constraint_flags, 0);
    assert_int_equal(s.level_idc, 30);
    assert_int_equal(s.chroma_format_idc, 1);
    assert_int_equal(s.bit_depth_luma_minus8, 0);
    assert_true(s.frame_mbs_only);
    assert_int_equal(s.width, 640);
    assert_int_equal(s.height, 360);                  /* 368 cropped by 8 */

    assert_int_equal(reel_h264_sps_parse(clip264_sps, sizeof(clip264_sps), &s, &err), 0);
    assert_int_equal(s.width, 320);
    assert_int_equal(s.height, 180);

    assert_int_equal(reel_h264_sps_parse(cqm264_sps, sizeof(cqm264_sps), &s, &err), 0);
    assert_int_equal(s.profile_idc, 100);
    assert_int_equal(s.width, 352);
    assert_int_equal(s.height, 288);
}

static void test_h265_sps(void **state)
{
    (void)state;
    struct reel_h265_sps s;
    struct reel_err err = {{0}};
    assert_int_equal(reel_h265_sps_parse(x265_sps, sizeof(x265_sps), &s, &err), 0);
    assert_int_equal(s.ptl.profile_space, 0);
    assert_int_equal(s.ptl.tier, 0);
    assert_int_equal(s.ptl.profile_idc, 1);
    assert_int_equal(s.ptl.compat_flags, 0x60000000);
    assert_int_equal(s.ptl.constraint[0], 0x90);
    assert_int_equal(s.ptl.level_idc, 63);
    assert_int_equal(s.max_sub_layers_minus1, 0);
    assert_true(s.temporal_id_nesting);
    assert_int_equal(s.chroma_format_idc, 1);
    assert_int_equal(s.width, 640);
    assert_int_equal(s.height, 360);

    assert_int_equal(reel_h265_sps_parse(clip265_sps, sizeof(clip265_sps), &s, &err), 0);
    assert_int_equal(s.width, 320);
    assert_int_equal(s.height, 180);                  /* conformance window */

    assert_int_equal(reel_h265_sps_parse(sl265_sps, sizeof(sl265_sps), &s, &err), 0);
    assert_int_equal(s.width, 352);
    assert_int_equal(s.height, 288);
}

/* A hand-made H.265 SPS with two sub-layers, sub-layer profile and level
 * present, to walk the sub-layer part of profile_tier_level. */
static void test_h265_sps_sublayers(void **state)
{
    (void)state;
    /* bits: vps_id 0000, max_sub_layers_minus1 001, nesting 1 |
     * general: 00 0 00001, compat 0x60000000, 48 bits 0x900000000000, level 0x5d |
     * sub_layer_profile_present 1, level_present 1, reserved 2 bits x 7 |
     * sub-layer: 88 bits of profile (all 0x11), 8 bits level 0x5a |
     * sps_id ue 0 (1), chroma ue 1 (010), width ue 63 (00000 1 000000) ... */
    uint8_t sps[64] = {0x42, 0x01};
    size_t n = 2;
    uint64_t acc = 0;
    unsigned bits = 0;
#define PUT(v, nb) do { acc = acc << (nb) | (uint64_t)(v); bits += (nb); \
        while (bits >= 8) { sps[n++] = (uint8_t)(acc >> (bits - 8)); bits -= 8; } } while (0)
    PUT(0, 4); PUT(1, 3); PUT(1, 1);
    PUT(0, 2); PUT(0, 1); PUT(1, 5); PUT(0x6000, 16); PUT(0x0000, 16);
    PUT(0x9000, 16); PUT(0, 16); PUT(0, 16); PUT(0x5d, 8);
    PUT(1, 1); PUT(1, 1); PUT(0, 14);
    for (int i = 0; i < 11; i++) PUT(0x11, 8);
    PUT(0x5a, 8);
    PUT(1, 1);                       /* sps_id 0 */
    PUT(2, 3);                       /* chroma 1 */
    PUT(1, 7); PUT(0, 6);            /* width ue 63 */
    PUT(1, 7); PUT(1, 6);            /* height ue 64 */
    PUT(0, 1);                       /* no conformance window */
    PUT(1, 1); PUT(1, 1);            /* bit depths 0 */
    PUT(1, 1);                       /* log2_max_poc_lsb_minus4 0 */
    PUT(1, 1);                       /* ordering info for all sub-layers */
    for (int i = 0; i < 6; i++) PUT(1, 1);
    for (int i = 0; i < 6; i++) PUT(1, 1);   /* block sizes */
    PUT(0, 1);                       /* no scaling list */
    PUT(0, 2); PUT(0, 1);            /* amp, sao, pcm */
    PUT(1, 1);                       /* num_short_term_ref_pic_sets 0 */
    PUT(1, 1);                       /* stop bit */
    while (bits) PUT(0, 1);
#undef PUT
    struct reel_h265_sps s;
    struct reel_err err = {{0}};
    assert_int_equal(reel_h265_sps_parse(sps, n, &s, &err), 0);
    assert_int_equal(s.max_sub_layers_minus1, 1);
    assert_int_equal(s.ptl.level_idc, 0x5d);
    assert_int_equal(s.width, 63);
    assert_int_equal(s.height, 64);
    /* every truncation fails cleanly */
    for (size_t i = 0; i + 1 < n; i++)
        assert_int_equal(reel_h265_sps_parse(sps, i, &s, &err), -EINVAL);
    /* max_sub_layers_minus1 = 7 is out of range */
    sps[2] = (uint8_t)(sps[2] | 0x0e);
    assert_int_equal(reel_h265_sps_parse(sps, n, &s, &err), -EINVAL);
}

static void test_sps_hostile(void **state)
{
    (void)state;
    struct reel_h264_sps s4, keep4;
    struct reel_h265_sps s5;
    struct reel_err err = {{0}};
    uint8_t buf[REEL_PARAM_SET_MAX + 8];

    /* every truncation is rejected (the stop bit is last: parsing ends earlier,
     * so only cut the bytes the parser needs) */
    memset(&keep4, 0x5a, sizeof(keep4));
    s4 = keep4;
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(reel_h264_sps_parse(x264_sps, i, &s4, &err), -EINVAL);
        assert_memory_equal(&s4, &keep4, sizeof(s4));          /* untouched */
    }
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(reel_h265_sps_parse(x265_sps, i, &s5, &err), -EINVAL);
    /* The parser reads up to num_short_term_ref_pic_sets, which ends in byte
     * 237 of 251: the scaling lists (most of this SPS) were walked exactly. */
    for (size_t i = 0; i < 237; i++)
        assert_int_equal(reel_h265_sps_parse(sl265_sps, i, &s5, &err), -EINVAL);
    assert_int_equal(reel_h265_sps_parse(sl265_sps, 237, &s5, &err), 0);
    /* wrong NAL type, forbidden bit */
    assert_int_equal(reel_h264_sps_parse(x264_pps, sizeof(x264_pps), &s4, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "H.264 SPS"));
    memcpy(buf, x264_sps, sizeof(x264_sps));
    buf[0] |= 0x80;
    assert_int_equal(reel_h264_sps_parse(buf, sizeof(x264_sps), &s4, &err), -EINVAL);
    assert_int_equal(reel_h265_sps_parse(x265_vps, sizeof(x265_vps), &s5, &err), -EINVAL);
    /* oversize */
    memset(buf, 0xff, sizeof(buf));
    buf[0] = 0x67;
    assert_int_equal(reel_h264_sps_parse(buf, sizeof(buf), &s4, &err), -EINVAL);
    /* all-ones bodies: for H.264 every ue is 0, a legal 16x16 picture */
    assert_int_equal(reel_h264_sps_parse(buf, 64, &s4, &err), 0);
    assert_int_equal(s4.width, 16);
    buf[0] = 0x42; buf[1] = 0x01;
    assert_int_equal(reel_h265_sps_parse(buf, 64, &s5, &err), -EINVAL);
    /* all-zero bodies: Exp-Golomb overflow */
    memset(buf + 1, 0, 100);
    buf[0] = 0x67; buf[1] = 100;
    assert_int_equal(reel_h264_sps_parse(buf, 100, &s4, &err), -EINVAL);
    /* deterministic random mutations of real SPSs never crash */
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        const uint8_t *src = (round & 1) ? sl265_sps : cqm264_sps;
        size_t len = (round & 1) ? sizeof(sl265_sps) : sizeof(cqm264_sps);
        memcpy(buf, src, len);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = 2 + (seed >> 8) % (len - 2);
            buf[at] ^= (uint8_t)(1u << ((seed >> 4) & 7));
        }
        if (round & 1)
            (void)reel_h265_sps_parse(buf, len, &s5, &err);
        else
            (void)reel_h264_sps_parse(buf, len, &s4, &err);
    }
}

/* ---- params ---- */

static void test_params_h264(void **state)
{
    (void)state;
    const uint8_t *nals[] = {x264_sps, x264_pps};
    size_t lens[] = {sizeof(x264_sps), sizeof(x264_pps)};
    struct reel_video_params p;
    struct reel_err err = {{0}};
    assert_int_equal(reel_video_params_build(REEL_CODEC_H264, nals, lens, 2, &p, &err), 0);
    assert_int_equal(p.codec, REEL_CODEC_H264);
    assert_int_equal(p.width, 640);
    assert_int_equal(p.height, 360);
    assert_string_equal(p.codec_string, "avc1.64001e");
    assert_int_equal(p.sample_entry_len, sizeof(x264_entry));
    assert_memory_equal(p.sample_entry, x264_entry, sizeof(x264_entry));
    reel_video_params_clear(&p);
    assert_null(p.sample_entry);
    reel_video_params_clear(NULL);

    /* Constrained baseline: no high-profile tail; two PPS. */
    static const uint8_t sps_cb[] = {0x67, 0x42, 0xc0, 0x16, 0xd9, 0x00, 0xa0, 0x2f, 0xf9,
                                     0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00,
                                     0x03, 0x00, 0x14, 0x0f, 0x16, 0x2e, 0x48};
    static const uint8_t pps2[] = {0x68, 0xcb, 0x83, 0xcb, 0x20};
    const uint8_t *nb[] = {sps_cb, x264_pps, pps2};
    size_t lb[] = {sizeof(sps_cb), sizeof(x264_pps), sizeof(pps2)};
    assert_int_equal(reel_video_params_build(REEL_CODEC_H264, nb, lb, 3, &p, &err), 0);
    assert_string_equal(p.codec_string, "avc1.42c016");
    assert_int_equal(p.width, 640);
    assert_int_equal(p.height, 360);
    const uint8_t *avcc = p.sample_entry + 86;
    size_t avcc_len = 8 + 6 + 2 + sizeof(sps_cb) + 1 + 2 + sizeof(x264_pps) + 2 + sizeof(pps2);
    assert_int_equal(p.sample_entry_len, 86 + avcc_len);
    assert_int_equal(avcc[3], avcc_len);
    assert_memory_equal(avcc + 4, "avcC", 4);
    assert_int_equal(avcc[8 + 5], 0xe1);
    assert_int_equal(avcc[8 + 6 + 2 + sizeof(sps_cb)], 2);      /* numOfPictureParameterSets */
    reel_video_params_clear(&p);

    /* the clip (cropped 320x180) and the scaling-matrix SPS */
    const uint8_t *nc[] = {clip264_sps, clip264_pps};
    size_t lc[] = {sizeof(clip264_sps), sizeof(clip264_pps)};
    assert_int_equal(reel_video_params_build(REEL_CODEC_H264, nc, lc, 2, &p, &err), 0);
    assert_int_equal(p.width, 320);
    assert_int_equal(p.height, 180);
    assert_int_equal(reel_rd_be16(p.sample_entry + 32), 320);
    assert_int_equal(reel_rd_be16(p.sample_entry + 34), 180);
    reel_video_params_clear(&p);
    const uint8_t *nq[] = {cqm264_sps, cqm264_pps};
    size_t lq[] = {sizeof(cqm264_sps), sizeof(cqm264_pps)};
    assert_int_equal(reel_video_params_build(REEL_CODEC_H264, nq, lq, 2, &p, &err), 0);
    assert_string_equal(p.codec_string, "avc1.64000c");
    reel_video_params_clear(&p);
}

static void test_params_h265(void **state)
{
    (void)state;
    const uint8_t *nals[] = {x265_vps, x265_sps, x265_pps};
    size_t lens[] = {sizeof(x265_vps), sizeof(x265_sps), sizeof(x265_pps)};
    struct reel_video_params p;
    struct reel_err err = {{0}};
    assert_int_equal(reel_video_params_build(REEL_CODEC_H265, nals, lens, 3, &p, &err), 0);
    assert_int_equal(p.codec, REEL_CODEC_H265);
    assert_int_equal(p.width, 640);
    assert_int_equal(p.height, 360);
    assert_string_equal(p.codec_string, "hvc1.1.6.L63.90");
    assert_int_equal(p.sample_entry_len, sizeof(x265_entry));
    assert_memory_equal(p.sample_entry, x265_entry, sizeof(x265_entry));
    reel_video_params_clear(&p);

    /* order does not matter; scaling-list SPS builds */
    const uint8_t *n2[] = {sl265_pps, sl265_sps, sl265_vps};
    size_t l2[] = {sizeof(sl265_pps), sizeof(sl265_sps), sizeof(sl265_vps)};
    assert_int_equal(reel_video_params_build(REEL_CODEC_H265, n2, l2, 3, &p, &err), 0);
    assert_int_equal(p.width, 352);
    assert_int_equal(p.height, 288);
    assert_memory_equal(p.sample_entry + 4, "hvc1", 4);
    reel_video_params_clear(&p);

    const uint8_t *n3[] = {clip265_vps, clip265_sps, clip265_pps};
    size_t l3[] = {sizeof(clip265_vps), sizeof(clip265_sps), sizeof(clip265_pps)};
    assert_int_equal(reel_video_params_build(REEL_CODEC_H265, n3, l3, 3, &p, &err), 0);
    assert_int_equal(p.width, 320);
    assert_int_equal(p.height, 180);
    assert_int_equal(reel_rd_be32(p.sample_entry), p.sample_entry_len);
    reel_video_params_clear(&p);
}

static void test_params_errors(void **state)
{
    (void)state;
    struct reel_video_params p, keep;
    struct reel_err err = {{0}};
    memset(&keep, 0x33, sizeof(keep));
    p = keep;
    {   /* no PPS */
        const uint8_t *n[] = {x264_sps};
        size_t l[] = {sizeof(x264_sps)};
        assert_int_equal(reel_video_params_build(REEL_CODEC_H264, n, l, 1, &p, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "PPS"));
    }
    {   /* no SPS; two SPS */
        const uint8_t *n[] = {x264_pps, x264_sps, x264_sps};
        size_t l[] = {sizeof(x264_pps), sizeof(x264_sps), sizeof(x264_sps)};
        assert_int_equal(reel_video_params_build(REEL_CODEC_H264, n, l, 1, &p, &err), -EINVAL);
        assert_int_equal(reel_video_params_build(REEL_CODEC_H264, n, l, 3, &p, &err), -EINVAL);
    }
    {   /* H.265 without VPS; H.264 sets given as H.265 */
        const uint8_t *n[] = {x265_sps, x265_pps};
        size_t l[] = {sizeof(x265_sps), sizeof(x265_pps)};
        assert_int_equal(reel_video_params_build(REEL_CODEC_H265, n, l, 2, &p, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "VPS"));
        const uint8_t *m[] = {x264_sps, x264_pps};
        size_t ml[] = {sizeof(x264_sps), sizeof(x264_pps)};
        assert_int_equal(reel_video_params_build(REEL_CODEC_H265, m, ml, 2, &p, &err), -EINVAL);
    }
    {   /* not a parameter set; empty; oversize; NULL */
        static const uint8_t idr[] = {0x65, 0x88, 0x84};
        static uint8_t big[REEL_PARAM_SET_MAX + 1] = {0x68};
        const uint8_t *n[] = {x264_sps, x264_pps, idr};
        size_t l[] = {sizeof(x264_sps), sizeof(x264_pps), sizeof(idr)};
        assert_int_equal(reel_video_params_build(REEL_CODEC_H264, n, l, 3, &p, &err), -EINVAL);
        l[1] = 0;
        assert_int_equal(reel_video_params_build(REEL_CODEC_H264, n, l, 2, &p, &err), -EINVAL);
        n[1] = big;
        l[1] = sizeof(big);
        assert_int_equal(reel_video_params_build(REEL_CODEC_H264, n, l, 2, &p, &err), -EINVAL);
        n[1] = NULL;
        l[1] = 4;
        assert_int_equal(reel_video_params_build(REEL_CODEC_H264, n, l, 2, &p, &err), -EINVAL);
    }
    {   /* garbage SPS */
        static const uint8_t bad[] = {0x67, 0x64, 0x00, 0x1e, 0x00, 0x00, 0x00};
        const uint8_t *n[] = {bad, x264_pps};
        size_t l[] = {sizeof(bad), sizeof(x264_pps)};
        assert_int_equal(reel_video_params_build(REEL_CODEC_H264, n, l, 2, &p, &err), -EINVAL);
        assert_int_equal(reel_video_params_build(7, n, l, 2, &p, &err), -EINVAL);
    }
    assert_memory_equal(&p, &keep, sizeof(p));
}

/* ---- Annex-B, digest ---- */

static void test_annexb(void **state)
{
    (void)state;
    static const uint8_t s[] = {
        0x00, 0x00, 0x00, 0x01, 0x67, 0xaa,             /* 4-byte start code */
        0x00, 0x00, 0x01, 0x68, 0xbb, 0x00,             /* 3-byte, trailing zero */
        0x00, 0x00, 0x01, 0x00, 0x00, 0x01,             /* empty NAL skipped */
        0x65, 0x00, 0x00, 0x03, 0x01, 0xcc,             /* emulation prevention kept */
        0x00, 0x00, 0x00, 0x00,                         /* trailing zeros */
    };
    struct reel_nal n[4];
    assert_int_equal(reel_annexb_split(s, sizeof(s), n, 4), 3);
    assert_int_equal(n[0].len, 2);
    assert_memory_equal(n[0].p, "\x67\xaa", 2);
    assert_int_equal(n[1].len, 2);
    assert_memory_equal(n[1].p, "\x68\xbb", 2);
    assert_int_equal(n[2].len, 6);
    assert_int_equal(n[2].p[0], 0x65);
    assert_int_equal(reel_annexb_split(s, sizeof(s), n, 2), -EMSGSIZE);
    /* bytes before the first start code are a NAL unit */
    static const uint8_t t[] = {0x41, 0x9a, 0x00, 0x00, 0x01, 0x41, 0x9b};
    assert_int_equal(reel_annexb_split(t, sizeof(t), n, 4), 2);
    assert_int_equal(n[0].len, 2);
    assert_int_equal(n[1].p, t + 5);
    /* degenerate inputs */
    assert_int_equal(reel_annexb_split(t, 0, n, 4), 0);
    assert_int_equal(reel_annexb_split((const uint8_t *)"\0\0\1", 3, n, 4), 0);
    assert_int_equal(reel_annexb_split((const uint8_t *)"\0\0", 2, n, 4), 0);
    assert_int_equal(reel_annexb_split((const uint8_t *)"\0\0\1\x09", 4, n, 4), 1);
    assert_int_equal(n[0].len, 1);
}

static void test_vcl_digest(void **state)
{
    (void)state;
    static const uint8_t au[] = {
        0, 0, 0, 3, 0x67, 1, 2,
        0, 0, 0, 4, 0x65, 0xaa, 0xbb, 0xcc,
        0, 0, 0, 2, 0x06, 5,
        0, 0, 0, 2, 0x41, 0x9a,
    };
    static const uint8_t want[32] = {
        0x5c, 0x15, 0xfe, 0xc2, 0xd3, 0xe6, 0x20, 0x4f, 0x8d, 0x6f, 0x07, 0x70, 0xa7, 0xe8, 0x5d, 0x86,
        0xe5, 0xec, 0xf7, 0x31, 0x5e, 0xd2, 0x13, 0xe8, 0x23, 0x2a, 0xf0, 0x2b, 0x65, 0xa7, 0x2f, 0x71,
    };
    uint8_t d[32], d2[32];
    assert_int_equal(reel_vcl_digest(REEL_CODEC_H264, au, sizeof(au), d), 0);
    assert_memory_equal(d, want, 32);
    /* non-VCL NAL units don't matter */
    assert_int_equal(reel_vcl_digest(REEL_CODEC_H264, au + 7, 8, d2), 0);
    assert_memory_not_equal(d, d2, 32);
    assert_int_equal(reel_vcl_digest(REEL_CODEC_H264, au + 7, sizeof(au) - 7, d2), 0);
    assert_memory_equal(d, d2, 32);
    /* bad lengths */
    assert_int_equal(reel_vcl_digest(REEL_CODEC_H264, au, sizeof(au) - 1, d2), -EBADMSG);
    assert_int_equal(reel_vcl_digest(REEL_CODEC_H264, au, 2, d2), -EBADMSG);
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x65};
    assert_int_equal(reel_vcl_digest(REEL_CODEC_H264, huge, sizeof(huge), d2), -EBADMSG);
    /* H.265: IDR_W_RADL (19) is VCL, VPS (32) is not */
    static const uint8_t au5[] = {0, 0, 0, 2, 0x40, 0x01, 0, 0, 0, 3, 0x26, 0x01, 0xaf};
    assert_int_equal(reel_vcl_digest(REEL_CODEC_H265, au5, sizeof(au5), d), 0);
    assert_int_equal(reel_vcl_digest(REEL_CODEC_H265, au5 + 6, sizeof(au5) - 6, d2), 0);
    assert_memory_equal(d, d2, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_bitreader),
        cmocka_unit_test(test_h264_sps),
        cmocka_unit_test(test_h265_sps),
        cmocka_unit_test(test_h265_sps_sublayers),
        cmocka_unit_test(test_sps_hostile),
        cmocka_unit_test(test_params_h264),
        cmocka_unit_test(test_params_h265),
        cmocka_unit_test(test_params_errors),
        cmocka_unit_test(test_annexb),
        cmocka_unit_test(test_vcl_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel_video_params_build(): from parameter sets to the picture size, the
 * RFC 6381 codec string and the ISO BMFF VisualSampleEntry ('avc1' + 'avcC'
 * per ISO/IEC 14496-15 5.3.3, 'hvc1' + 'hvcC' per 8.3.3, codec strings per
 * Annex E). Output matches what FFmpeg's mp4 muxer writes for the same
 * parameter sets, minus its optional 'pasp'/'btrt' boxes.
 */
#include "codec/params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "codec/sps.h"

#define MAX_SETS 16           /* per type, in one call */
#define ENTRY_CAP (64 * 1024)

struct sets {
    const uint8_t *p[3][MAX_SETS];   /* H.265: VPS, SPS, PPS; H.264: -, SPS, PPS */
    uint16_t len[3][MAX_SETS];
    unsigned n[3];
};

static int classify(enum reel_codec codec, const uint8_t *const nals[], const size_t lens[],
                    size_t n, struct sets *s, struct reel_err *err)
{
    const char *cname = codec == REEL_CODEC_H264 ? "H.264" : "H.265";
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < n; i++) {
        size_t hdr = codec == REEL_CODEC_H264 ? 1 : 2;
        if (!nals[i] || lens[i] <= hdr || lens[i] > REEL_PARAM_SET_MAX)
            return reel_err_set(err, EINVAL, "%s parameter set %zu: bad length %zu",
                                cname, i, lens[i]);
        int k;
        if (codec == REEL_CODEC_H264) {
            unsigned t = reel_h264_nal_type(nals[i][0]);
            k = t == 7 ? 1 : t == 8 ? 2 : -1;
        } else {
            unsigned t = reel_h265_nal_type(nals[i][0]);
            k = t >= 32 && t <= 34 ? (int)(t - 32) : -1;
        }
        if (k < 0)
            return reel_err_set(err, EINVAL, "%s parameter set %zu: NAL header 0x%02x is not "
                                "a parameter set", cname, i, nals[i][0]);
        if (s->n[k] == MAX_SETS)
            return reel_err_set(err, EINVAL, "%s: more than %d parameter sets of one type",
                                cname, MAX_SETS);
        s->p[k][s->n[k]] = nals[i];
        s->len[k][s->n[k]] = (uint16_t)lens[i];
        s->n[k]++;
    }
    if (codec == REEL_CODEC_H265 && s->n[0] == 0)
        return reel_err_set(err, EINVAL, "H.265: no VPS");
    if (s->n[1] != 1)
        return reel_err_set(err, EINVAL, "%s: need exactly one SPS, got %u", cname, s->n[1]);
    if (s->n[2] == 0)
        return reel_err_set(err, EINVAL, "%s: no PPS", cname);
    return 0;
}

/* VisualSampleEntry fields up to and including pre_defined = -1
 * (ISO/IEC 14496-12 12.1.3); the box size is patched by the caller. */
static int put_visual_entry(struct reel_buf *b, const char *type, uint16_t w, uint16_t h)
{
    static const uint8_t zeros[32];
    int r = 0;
    r |= reel_buf_append_be32(b, 0);               /* size, patched */
    r |= reel_buf_append(b, type, 4);
    r |= reel_buf_append(b, zeros, 6);             /* reserved */
    r |= reel_buf_append_be16(b, 1);               /* data_reference_index */
    r |= reel_buf_append(b, zeros, 16);            /* pre_defined, reserved, pre_defined[3] */
    r |= reel_buf_append_be16(b, w);
    r |= reel_buf_append_be16(b, h);
    r |= reel_buf_append_be32(b, 0x00480000);      /* 72 dpi */
    r |= reel_buf_append_be32(b, 0x00480000);
    r |= reel_buf_append_be32(b, 0);               /* reserved */
    r |= reel_buf_append_be16(b, 1);               /* frame_count */
    r |= reel_buf_append(b, zeros, 32);            /* compressorname */
    r |= reel_buf_append_be16(b, 0x0018);          /* depth */
    r |= reel_buf_append_be16(b, 0xffff);          /* pre_defined = -1 */
    return r;
}

static void patch_size(struct reel_buf *b, size_t at)
{
    reel_wr_be32(b->data + at, (uint32_t)(b->len - at));
}

/* Both builders return an SPS parse error, or -ENOMEM: appends are OR-ed and
 * checked once; sizes are bounded by MAX_SETS * REEL_PARAM_SET_MAX, well
 * under ENTRY_CAP, so a failed append can only be an allocation failure. */
static int build_h264(const struct sets *s, struct reel_video_params *p, struct reel_buf *b,
                      struct reel_err *err)
{
    struct reel_h264_sps sps;
    int r = reel_h264_sps_parse(s->p[1][0], s->len[1][0], &sps, err);
    if (r < 0)
        return r;
    p->width = sps.width;
    p->height = sps.height;
    snprintf(p->codec_string, sizeof(p->codec_string), "avc1.%02x%02x%02x",
             sps.profile_idc, sps.constraint_flags, sps.level_idc);

    r = put_visual_entry(b, "avc1", sps.width, sps.height);
    size_t at = b->len;
    r |= reel_buf_append_be32(b, 0);
    r |= reel_buf_append(b, "avcC", 4);
    r |= reel_buf_append_u8(b, 1);                            /* configurationVersion */
    r |= reel_buf_append(b, s->p[1][0] + 1, 3);               /* profile, compat, level */
    r |= reel_buf_append_u8(b, 0xfc | 3);                     /* lengthSizeMinusOne */
    r |= reel_buf_append_u8(b, (uint8_t)(0xe0 | s->n[1]));
    for (unsigned i = 0; i < s->n[1]; i++) {
        r |= reel_buf_append_be16(b, s->len[1][i]);
        r |= reel_buf_append(b, s->p[1][i], s->len[1][i]);
    }
    r |= reel_buf_append_u8(b, (uint8_t)s->n[2]);
    for (unsigned i = 0; i < s->n[2]; i++) {
        r |= reel_buf_append_be16(b, s->len[2][i]);
        r |= reel_buf_append(b, s->p[2][i], s->len[2][i]);
    }
    if (sps.profile_idc == 100 || sps.profile_idc == 110 || sps.profile_idc == 122 ||
        sps.profile_idc == 144) {
        r |= reel_buf_append_u8(b, (uint8_t)(0xfc | sps.chroma_format_idc));
        r |= reel_buf_append_u8(b, (uint8_t)(0xf8 | sps.bit_depth_luma_minus8));
        r |= reel_buf_append_u8(b, (uint8_t)(0xf8 | sps.bit_depth_chroma_minus8));
        r |= reel_buf_append_u8(b, 0);                        /* numOfSequenceParameterSetExt */
    }
    if (r != 0)
        return reel_err_set(err, ENOMEM, "video params: out of memory building the sample entry");
    patch_size(b, at);
    return 0;
}

static uint32_t reverse_bits32(uint32_t v)
{
    uint32_t o = 0;
    for (int i = 0; i < 32; i++, v >>= 1)
        o = o << 1 | (v & 1);
    return o;
}

static void h265_codec_string(const struct reel_h265_ptl *ptl, char *out, size_t cap)
{
    static const char *const space[4] = {"", "A", "B", "C"};
    int n = snprintf(out, cap, "hvc1.%s%u.%X.%c%u", space[ptl->profile_space & 3],
                     ptl->profile_idc, reverse_bits32(ptl->compat_flags),
                     ptl->tier ? 'H' : 'L', ptl->level_idc);
    int last = 5;
    while (last >= 0 && ptl->constraint[last] == 0)
        last--;
    for (int i = 0; i <= last && n > 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, ".%02X", ptl->constraint[i]);
}

static int build_h265(const struct sets *s, struct reel_video_params *p, struct reel_buf *b,
                      struct reel_err *err)
{
    struct reel_h265_sps sps;
    int r = reel_h265_sps_parse(s->p[1][0], s->len[1][0], &sps, err);
    if (r < 0)
        return r;
    p->width = sps.width;
    p->height = sps.height;
    h265_codec_string(&sps.ptl, p->codec_string, sizeof(p->codec_string));

    r = put_visual_entry(b, "hvc1", sps.width, sps.height);
    size_t at = b->len;
    r |= reel_buf_append_be32(b, 0);
    r |= reel_buf_append(b, "hvcC", 4);
    r |= reel_buf_append_u8(b, 1);                            /* configurationVersion */
    r |= reel_buf_append_u8(b, (uint8_t)(sps.ptl.profile_space << 6 | sps.ptl.tier << 5 |
                                         sps.ptl.profile_idc));
    r |= reel_buf_append_be32(b, sps.ptl.compat_flags);
    r |= reel_buf_append(b, sps.ptl.constraint, 6);
    r |= reel_buf_append_u8(b, sps.ptl.level_idc);
    r |= reel_buf_append_be16(b, 0xf000);                     /* min_spatial_segmentation 0 */
    r |= reel_buf_append_u8(b, 0xfc);                         /* parallelismType 0 */
    r |= reel_buf_append_u8(b, (uint8_t)(0xfc | sps.chroma_format_idc));
    r |= reel_buf_append_u8(b, (uint8_t)(0xf8 | sps.bit_depth_luma_minus8));
    r |= reel_buf_append_u8(b, (uint8_t)(0xf8 | sps.bit_depth_chroma_minus8));
    r |= reel_buf_append_be16(b, 0);                          /* avgFrameRate */
    r |= reel_buf_append_u8(b, (uint8_t)((sps.max_sub_layers_minus1 + 1) << 3 |
                                         (sps.temporal_id_nesting ? 4 : 0) | 3));
    r |= reel_buf_append_u8(b, 3);                            /* numOfArrays */
    for (unsigned k = 0; k < 3; k++) {
        r |= reel_buf_append_u8(b, (uint8_t)(0x80 | (32 + k)));   /* array_completeness */
        r |= reel_buf_append_be16(b, (uint16_t)s->n[k]);
        for (unsigned i = 0; i < s->n[k]; i++) {
            r |= reel_buf_append_be16(b, s->len[k][i]);
            r |= reel_buf_append(b, s->p[k][i], s->len[k][i]);
        }
    }
    if (r != 0)
        return reel_err_set(err, ENOMEM, "video params: out of memory building the sample entry");
    patch_size(b, at);
    return 0;
}

int reel_video_params_build(enum reel_codec codec, const uint8_t *const nals[],
                            const size_t lens[], size_t n,
                            struct reel_video_params *ret, struct reel_err *err)
{
    if (codec != REEL_CODEC_H264 && codec != REEL_CODEC_H265)
        return reel_err_set(err, EINVAL, "video params: unknown codec %d", (int)codec);
    struct sets s;
    int r = classify(codec, nals, lens, n, &s, err);
    if (r < 0)
        return r;
    struct reel_video_params p = {.codec = codec};
    struct reel_buf b;
    reel_buf_init(&b, ENTRY_CAP);
    r = codec == REEL_CODEC_H264 ? build_h264(&s, &p, &b, err) : build_h265(&s, &p, &b, err);
    if (r < 0) {
        reel_buf_free(&b);
        return r;
    }
    patch_size(&b, 0);
    p.sample_entry = b.data;
    p.sample_entry_len = b.len;
    *ret = p;
    return 0;
}

void reel_video_params_clear(struct reel_video_params *p)
{
    if (!p)
        return;
    free(p->sample_entry);
    memset(p, 0, sizeof(*p));
}

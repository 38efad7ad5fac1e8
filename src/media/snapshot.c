/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One key frame to JPEG with libavcodec/libswscale (snapshot.h).
 */
#include "media/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>

#define VISUAL_ENTRY_LEN 86   /* box header + VisualSampleEntry fields (ISO/IEC 14496-12 12.1.3) */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int reel_media_entry_config(const uint8_t *entry_box, size_t entry_len, int *codec,
                            const uint8_t **cfg, size_t *cfg_len, struct reel_err *err)
{
    if (entry_box == NULL || entry_len < VISUAL_ENTRY_LEN || rd32(entry_box) != entry_len)
        return reel_err_set(err, EINVAL, "sample entry: bad box size");
    const char *want;
    if (memcmp(entry_box + 4, "avc1", 4) == 0 || memcmp(entry_box + 4, "avc3", 4) == 0) {
        *codec = 1;
        want = "avcC";
    } else if (memcmp(entry_box + 4, "hvc1", 4) == 0 || memcmp(entry_box + 4, "hev1", 4) == 0) {
        *codec = 2;
        want = "hvcC";
    } else {
        return reel_err_set(err, EINVAL, "sample entry: not an H.264/H.265 visual entry");
    }
    size_t pos = VISUAL_ENTRY_LEN;
    while (entry_len - pos >= 8) {
        uint32_t sz = rd32(entry_box + pos);
        if (sz < 8 || sz > entry_len - pos)
            return reel_err_set(err, EINVAL, "sample entry: bad child box size");
        if (memcmp(entry_box + pos + 4, want, 4) == 0) {
            *cfg = entry_box + pos + 8;
            *cfg_len = sz - 8;
            return 0;
        }
        pos += sz;
    }
    return reel_err_set(err, EINVAL, "sample entry: no %s box", want);
}

/* One line for a libav error code; returns the negative errno for it. */
static int av_fail(struct reel_err *err, int averr, const char *what)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, buf, sizeof buf);
    int e = EIO;
    if (averr == AVERROR(ENOMEM))
        e = ENOMEM;
    else if (averr == AVERROR_INVALIDDATA || averr == AVERROR(EINVAL))
        e = EBADMSG;
    return reel_err_set(err, e, "snapshot: %s: %s", what, buf);
}

struct snap {
    AVCodecContext *dec, *enc;
    AVPacket *pkt;
    AVFrame *pic, *scaled;
    struct SwsContext *sws;
};

static void snap_free(struct snap *s)
{
    avcodec_free_context(&s->dec);
    avcodec_free_context(&s->enc);
    av_packet_free(&s->pkt);
    av_frame_free(&s->pic);
    av_frame_free(&s->scaled);
    sws_freeContext(s->sws);
}

static int open_decoder(struct snap *s, int codec, const uint8_t *cfg, size_t cfg_len,
                        struct reel_err *err)
{
    const AVCodec *c = avcodec_find_decoder(codec == 1 ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC);
    if (c == NULL)
        return reel_err_set(err, ENOSYS, "snapshot: libavcodec has no %s decoder",
                            codec == 1 ? "H.264" : "H.265");
    s->dec = avcodec_alloc_context3(c);
    if (s->dec == NULL)
        return reel_err_set(err, ENOMEM, "snapshot: out of memory");
    s->dec->extradata = av_mallocz(cfg_len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (s->dec->extradata == NULL)
        return reel_err_set(err, ENOMEM, "snapshot: out of memory");
    memcpy(s->dec->extradata, cfg, cfg_len);
    s->dec->extradata_size = (int)cfg_len;
    s->dec->thread_count = 1;
    s->dec->max_pixels = (int64_t)REEL_SNAPSHOT_DIM_MAX * REEL_SNAPSHOT_DIM_MAX;
    s->dec->flags2 |= AV_CODEC_FLAG2_SHOW_ALL;   /* a lone key frame is output even if "broken" */
    int r = avcodec_open2(s->dec, c, NULL);
    if (r < 0)
        return av_fail(err, r, "opening the decoder");
    return 0;
}

static int decode_one(struct snap *s, const uint8_t *au, size_t au_len, struct reel_err *err)
{
    s->pkt = av_packet_alloc();
    s->pic = av_frame_alloc();
    if (s->pkt == NULL || s->pic == NULL || av_new_packet(s->pkt, (int)au_len) < 0)
        return reel_err_set(err, ENOMEM, "snapshot: out of memory");
    memcpy(s->pkt->data, au, au_len);
    s->pkt->flags |= AV_PKT_FLAG_KEY;
    int r = avcodec_send_packet(s->dec, s->pkt);
    if (r < 0 && r != AVERROR(EAGAIN))
        return av_fail(err, r, "decoding");
    r = avcodec_send_packet(s->dec, NULL);   /* drain: the one picture comes out now */
    if (r < 0 && r != AVERROR_EOF)
        return av_fail(err, r, "decoding");
    r = avcodec_receive_frame(s->dec, s->pic);
    if (r == AVERROR_EOF || r == AVERROR(EAGAIN))
        return reel_err_set(err, EBADMSG, "snapshot: the access unit decoded to no picture");
    if (r < 0)
        return av_fail(err, r, "decoding");
    if (s->pic->width <= 0 || s->pic->height <= 0 || s->pic->width > REEL_SNAPSHOT_DIM_MAX ||
        s->pic->height > REEL_SNAPSHOT_DIM_MAX)
        return reel_err_set(err, E2BIG, "snapshot: picture %dx%d over the %dx%d cap",
                            s->pic->width, s->pic->height, REEL_SNAPSHOT_DIM_MAX,
                            REEL_SNAPSHOT_DIM_MAX);
    return 0;
}

static int scale(struct snap *s, int max_width, struct reel_err *err)
{
    int w = s->pic->width, h = s->pic->height;
    int ow = w < max_width ? w : max_width;
    int oh = (int)((int64_t)h * ow / w);
    ow &= ~1;
    oh &= ~1;
    if (ow < 2)
        ow = 2;
    if (oh < 2)
        oh = 2;
    s->sws = sws_getContext(w, h, (enum AVPixelFormat)s->pic->format, ow, oh, AV_PIX_FMT_YUVJ420P,
                            SWS_BICUBIC, NULL, NULL, NULL);
    if (s->sws == NULL)
        return reel_err_set(err, EIO, "snapshot: cannot scale %dx%d pixel format %d", w, h,
                            s->pic->format);
    s->scaled = av_frame_alloc();
    if (s->scaled == NULL)
        return reel_err_set(err, ENOMEM, "snapshot: out of memory");
    s->scaled->format = AV_PIX_FMT_YUVJ420P;
    s->scaled->width = ow;
    s->scaled->height = oh;
    int r = av_frame_get_buffer(s->scaled, 0);
    if (r < 0)
        return av_fail(err, r, "allocating the picture");
    r = sws_scale(s->sws, (const uint8_t *const *)s->pic->data, s->pic->linesize, 0, h,
                  s->scaled->data, s->scaled->linesize);
    if (r <= 0)
        return reel_err_set(err, EIO, "snapshot: scaling failed");
    return 0;
}

static int encode(struct snap *s, uint8_t **jpeg, size_t *jpeg_len, struct reel_err *err)
{
    const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (c == NULL)
        return reel_err_set(err, ENOSYS, "snapshot: libavcodec has no mjpeg encoder");
    s->enc = avcodec_alloc_context3(c);
    if (s->enc == NULL)
        return reel_err_set(err, ENOMEM, "snapshot: out of memory");
    s->enc->width = s->scaled->width;
    s->enc->height = s->scaled->height;
    s->enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    s->enc->color_range = AVCOL_RANGE_JPEG;
    s->enc->time_base = (AVRational){1, 25};
    s->enc->flags |= AV_CODEC_FLAG_QSCALE;
    s->enc->global_quality = FF_QP2LAMBDA * 4;
    s->enc->thread_count = 1;
    int r = avcodec_open2(s->enc, c, NULL);
    if (r < 0)
        return av_fail(err, r, "opening the JPEG encoder");
    s->scaled->quality = s->enc->global_quality;
    s->scaled->pts = 0;
    r = avcodec_send_frame(s->enc, s->scaled);
    if (r < 0)
        return av_fail(err, r, "encoding JPEG");
    av_packet_unref(s->pkt);
    r = avcodec_receive_packet(s->enc, s->pkt);
    if (r == AVERROR(EAGAIN)) {
        avcodec_send_frame(s->enc, NULL);
        r = avcodec_receive_packet(s->enc, s->pkt);
    }
    if (r < 0)
        return av_fail(err, r, "encoding JPEG");
    uint8_t *out = malloc((size_t)s->pkt->size);
    if (out == NULL)
        return reel_err_set(err, ENOMEM, "snapshot: out of memory");
    memcpy(out, s->pkt->data, (size_t)s->pkt->size);
    *jpeg = out;
    *jpeg_len = (size_t)s->pkt->size;
    return 0;
}

int reel_media_snapshot_jpeg(const uint8_t *entry_box, size_t entry_len, const uint8_t *au,
                             size_t au_len, int max_width, uint8_t **jpeg, size_t *jpeg_len,
                             struct reel_err *err)
{
    if (entry_len > REEL_SNAPSHOT_ENTRY_MAX)
        return reel_err_set(err, EMSGSIZE, "snapshot: sample entry of %zu bytes over the cap",
                            entry_len);
    if (au_len > REEL_SNAPSHOT_AU_MAX)
        return reel_err_set(err, EMSGSIZE, "snapshot: access unit of %zu bytes over the %u cap",
                            au_len, REEL_SNAPSHOT_AU_MAX);
    if (au == NULL || au_len == 0)
        return reel_err_set(err, EINVAL, "snapshot: empty access unit");
    if (max_width < 16)
        return reel_err_set(err, EINVAL, "snapshot: max width %d under 16", max_width);
    int codec;
    const uint8_t *cfg;
    size_t cfg_len;
    int r = reel_media_entry_config(entry_box, entry_len, &codec, &cfg, &cfg_len, err);
    if (r < 0)
        return r;
    struct snap s = {0};
    r = open_decoder(&s, codec, cfg, cfg_len, err);
    if (r == 0)
        r = decode_one(&s, au, au_len, err);
    if (r == 0)
        r = scale(&s, max_width, err);
    if (r == 0)
        r = encode(&s, jpeg, jpeg_len, err);
    snap_free(&s);
    return r;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * H.265/H.264 -> scaled H.264 with libavcodec, libswscale and libx264
 * (xcode.h).
 */
#include "media/xcode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "base/buf.h"
#include "codec/annexb.h"
#include "codec/params.h"
#include "media/snapshot.h"

#define OUT_AU_MAX (16u << 20)
#define WALL_RING 64          /* pts -> wall time of frames inside the codecs */
#define MAX_PS 16

struct reel_xcode {
    int max_w, max_h;
    AVCodecContext *dec, *enc;
    AVPacket *pkt;
    AVFrame *pic, *scaled;
    struct SwsContext *sws;
    int sws_w, sws_h, sws_fmt;
    uint8_t *src_entry;       /* the entry the decoder was opened with */
    size_t src_entry_len;
    bool need_key;            /* skip until a key frame */
    bool force_key;           /* the next encoded frame is an IDR */
    struct reel_video_params out_params;   /* the output entry, once the encoder is open */
    int64_t entry_gen;
    struct reel_buf au;       /* output AU, length-prefixed */
    int64_t ring_pts[WALL_RING], ring_wall[WALL_RING];
    unsigned ring_i;
    uint64_t frames;
};

static int av_fail(struct reel_err *err, int averr, const char *what)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, buf, sizeof buf);
    return reel_err_set(err, averr == AVERROR(ENOMEM) ? ENOMEM : EIO, "transcode: %s: %s", what,
                        buf);
}

int reel_xcode_new(struct reel_xcode **ret, int max_width, int max_height, struct reel_err *err)
{
    if (max_width < 16 || max_height < 16 || max_width > REEL_SNAPSHOT_DIM_MAX ||
        max_height > REEL_SNAPSHOT_DIM_MAX)
        return reel_err_set(err, EINVAL, "transcode: bad size %dx%d", max_width, max_height);
    struct reel_xcode *x = calloc(1, sizeof *x);
    if (x == NULL)
        return reel_err_set(err, ENOMEM, "transcode: out of memory");
    x->max_w = max_width;
    x->max_h = max_height;
    x->need_key = true;
    for (unsigned i = 0; i < WALL_RING; i++)
        x->ring_pts[i] = INT64_MIN;
    x->pkt = av_packet_alloc();
    x->pic = av_frame_alloc();
    reel_buf_init(&x->au, OUT_AU_MAX);
    if (x->pkt == NULL || x->pic == NULL) {
        reel_xcode_free(x);
        return reel_err_set(err, ENOMEM, "transcode: out of memory");
    }
    *ret = x;
    return 0;
}

static void close_encoder(struct reel_xcode *x)
{
    avcodec_free_context(&x->enc);
    reel_video_params_clear(&x->out_params);
    sws_freeContext(x->sws);
    x->sws = NULL;
    av_frame_free(&x->scaled);
}

static void close_decoder(struct reel_xcode *x)
{
    avcodec_free_context(&x->dec);
    free(x->src_entry);
    x->src_entry = NULL;
    x->src_entry_len = 0;
}

void reel_xcode_free(struct reel_xcode *x)
{
    if (x == NULL)
        return;
    close_encoder(x);
    close_decoder(x);
    av_packet_free(&x->pkt);
    av_frame_free(&x->pic);
    reel_buf_free(&x->au);
    free(x);
}

uint64_t reel_xcode_frames(const struct reel_xcode *x)
{
    return x->frames;
}

static int open_decoder(struct reel_xcode *x, const uint8_t *entry, size_t entry_len,
                        struct reel_err *err)
{
    int codec;
    const uint8_t *cfg;
    size_t cfg_len;
    int r = reel_media_entry_config(entry, entry_len, &codec, &cfg, &cfg_len, err);
    if (r < 0)
        return r;
    const AVCodec *c = avcodec_find_decoder(codec == 1 ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC);
    if (c == NULL)
        return reel_err_set(err, ENOSYS, "transcode: libavcodec has no decoder for the source");
    x->dec = avcodec_alloc_context3(c);
    x->src_entry = malloc(entry_len);
    if (x->dec == NULL || x->src_entry == NULL)
        return reel_err_set(err, ENOMEM, "transcode: out of memory");
    memcpy(x->src_entry, entry, entry_len);
    x->src_entry_len = entry_len;
    x->dec->extradata = av_mallocz(cfg_len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (x->dec->extradata == NULL)
        return reel_err_set(err, ENOMEM, "transcode: out of memory");
    memcpy(x->dec->extradata, cfg, cfg_len);
    x->dec->extradata_size = (int)cfg_len;
    x->dec->thread_count = 1;
    x->dec->max_pixels = (int64_t)REEL_SNAPSHOT_DIM_MAX * REEL_SNAPSHOT_DIM_MAX;
    x->dec->pkt_timebase = (AVRational){1, 90000};
    r = avcodec_open2(x->dec, c, NULL);
    if (r < 0)
        return av_fail(err, r, "opening the decoder");
    return 0;
}

/* The output size: fits max_w x max_h, aspect kept, even, never enlarged. */
static void fit(const struct reel_xcode *x, int w, int h, int *ow, int *oh)
{
    int64_t tw = w, th = h;
    if (tw > x->max_w) {
        th = th * x->max_w / tw;
        tw = x->max_w;
    }
    if (th > x->max_h) {
        tw = tw * x->max_h / th;
        th = x->max_h;
    }
    *ow = tw < 2 ? 2 : (int)tw & ~1;
    *oh = th < 2 ? 2 : (int)th & ~1;
}

static int open_encoder(struct reel_xcode *x, int w, int h, struct reel_err *err)
{
    const AVCodec *c = avcodec_find_encoder_by_name("libx264");
    if (c == NULL)
        return reel_err_set(err, ENOSYS, "transcode: libavcodec has no libx264 encoder");
    x->enc = avcodec_alloc_context3(c);
    if (x->enc == NULL)
        return reel_err_set(err, ENOMEM, "transcode: out of memory");
    x->enc->width = w;
    x->enc->height = h;
    x->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    x->enc->time_base = (AVRational){1, 90000};
    x->enc->gop_size = 100000;       /* IDRs only where the source has key frames */
    x->enc->max_b_frames = 0;
    x->enc->thread_count = 1;
    x->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    x->enc->rc_max_rate = 3000000;
    x->enc->rc_buffer_size = 3000000;
    av_opt_set(x->enc->priv_data, "preset", "ultrafast", 0);
    av_opt_set(x->enc->priv_data, "tune", "zerolatency", 0);
    av_opt_set(x->enc->priv_data, "crf", "26", 0);
    av_opt_set(x->enc->priv_data, "forced-idr", "1", 0);
    int r = avcodec_open2(x->enc, c, NULL);
    if (r < 0)
        return av_fail(err, r, "opening libx264");
    /* x264's SPS and PPS (Annex-B) -> the avc1 entry. */
    struct reel_nal nals[MAX_PS];
    int n = reel_annexb_split(x->enc->extradata, (size_t)x->enc->extradata_size, nals, MAX_PS);
    if (n <= 0)
        return reel_err_set(err, EIO, "transcode: libx264 gave no parameter sets");
    const uint8_t *ps[MAX_PS];
    size_t pslen[MAX_PS], nps = 0;
    for (int i = 0; i < n; i++) {
        unsigned t = reel_h264_nal_type(nals[i].p[0]);
        if (t == 7 || t == 8) {
            ps[nps] = nals[i].p;
            pslen[nps++] = nals[i].len;
        }
    }
    r = reel_video_params_build(REEL_CODEC_H264, ps, pslen, nps, &x->out_params, err);
    if (r < 0)
        return r;
    x->entry_gen++;
    x->scaled = av_frame_alloc();
    if (x->scaled == NULL)
        return reel_err_set(err, ENOMEM, "transcode: out of memory");
    x->scaled->format = AV_PIX_FMT_YUV420P;
    x->scaled->width = w;
    x->scaled->height = h;
    r = av_frame_get_buffer(x->scaled, 0);
    if (r < 0)
        return av_fail(err, r, "allocating the picture");
    x->force_key = true;
    return 0;
}

static int emit(struct reel_xcode *x, reel_xcode_out_fn out, void *arg, struct reel_err *err)
{
    for (;;) {
        int r = avcodec_receive_packet(x->enc, x->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            return 0;
        if (r < 0)
            return av_fail(err, r, "encoding");
        reel_buf_reset(&x->au);
        size_t pos = 0;
        struct reel_nal nal;
        r = 0;
        while (reel_annexb_next(x->pkt->data, (size_t)x->pkt->size, &pos, &nal)) {
            unsigned t = reel_h264_nal_type(nal.p[0]);
            if (t == 7 || t == 8 || t == 9)
                continue;   /* parameter sets live in the entry; no AUDs */
            r |= reel_buf_append_be32(&x->au, (uint32_t)nal.len);
            r |= reel_buf_append(&x->au, nal.p, nal.len);
        }
        int64_t wall = 0;
        for (unsigned k = 1; k <= WALL_RING; k++) {   /* newest first */
            unsigned i = (x->ring_i + WALL_RING - k) % WALL_RING;
            if (x->ring_pts[i] == x->pkt->pts) {
                wall = x->ring_wall[i];
                break;
            }
        }
        struct reel_xcode_out o = {
            .entry = x->out_params.sample_entry, .entry_len = x->out_params.sample_entry_len,
            .entry_gen = x->entry_gen, .width = x->enc->width, .height = x->enc->height,
            .data = x->au.data, .len = x->au.len, .ts90k = x->pkt->pts, .wall90k = wall,
            .key = (x->pkt->flags & AV_PKT_FLAG_KEY) != 0,
        };
        av_packet_unref(x->pkt);
        if (r != 0)
            return reel_err_set(err, EMSGSIZE, "transcode: output access unit over the cap");
        if (o.len > 0)
            out(arg, &o);
    }
}

static int encode_picture(struct reel_xcode *x, reel_xcode_out_fn out, void *arg,
                          struct reel_err *err)
{
    AVFrame *p = x->pic;
    if (p->width > REEL_SNAPSHOT_DIM_MAX || p->height > REEL_SNAPSHOT_DIM_MAX)
        return reel_err_set(err, E2BIG, "transcode: picture %dx%d over the cap", p->width,
                            p->height);
    int ow, oh;
    fit(x, p->width, p->height, &ow, &oh);
    if (x->enc != NULL && (x->enc->width != ow || x->enc->height != oh))
        close_encoder(x);
    if (x->enc == NULL) {
        int r = open_encoder(x, ow, oh, err);
        if (r < 0) {
            close_encoder(x);
            return r;
        }
    }
    if (x->sws == NULL || x->sws_w != p->width || x->sws_h != p->height || x->sws_fmt != p->format) {
        sws_freeContext(x->sws);
        x->sws = sws_getContext(p->width, p->height, (enum AVPixelFormat)p->format, ow, oh,
                                AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
        if (x->sws == NULL)
            return reel_err_set(err, EIO, "transcode: cannot scale %dx%d pixel format %d",
                                p->width, p->height, p->format);
        x->sws_w = p->width;
        x->sws_h = p->height;
        x->sws_fmt = p->format;
    }
    int r = av_frame_make_writable(x->scaled);
    if (r < 0)
        return av_fail(err, r, "allocating the picture");
    if (sws_scale(x->sws, (const uint8_t *const *)p->data, p->linesize, 0, p->height,
                  x->scaled->data, x->scaled->linesize) <= 0)
        return reel_err_set(err, EIO, "transcode: scaling failed");
    x->scaled->pts = p->best_effort_timestamp != AV_NOPTS_VALUE ? p->best_effort_timestamp : p->pts;
    x->scaled->pict_type = x->force_key || p->key_frame ? AV_PICTURE_TYPE_I
                                                                          : AV_PICTURE_TYPE_NONE;
    x->force_key = false;
    r = avcodec_send_frame(x->enc, x->scaled);
    if (r < 0)
        return av_fail(err, r, "encoding");
    x->frames++;
    return emit(x, out, arg, err);
}

int reel_xcode_feed(struct reel_xcode *x, const uint8_t *entry, size_t entry_len, const uint8_t *au,
                    size_t au_len, int64_t ts90k, int64_t wall90k, bool key, reel_xcode_out_fn out,
                    void *arg, struct reel_err *err)
{
    if (au_len == 0 || au_len > REEL_SNAPSHOT_AU_MAX || au_len > INT32_MAX - 64)
        return reel_err_set(err, EMSGSIZE, "transcode: access unit of %zu bytes refused", au_len);
    if (x->dec == NULL || x->src_entry_len != entry_len ||
        memcmp(x->src_entry, entry, entry_len) != 0) {
        close_decoder(x);
        x->need_key = true;
        int r = open_decoder(x, entry, entry_len, err);
        if (r < 0) {
            close_decoder(x);
            return r;
        }
    }
    if (x->need_key && !key)
        return 0;
    x->need_key = false;
    x->ring_pts[x->ring_i] = ts90k;
    x->ring_wall[x->ring_i] = wall90k;
    x->ring_i = (x->ring_i + 1) % WALL_RING;
    av_packet_unref(x->pkt);
    int r = av_new_packet(x->pkt, (int)au_len);
    if (r < 0)
        return av_fail(err, r, "allocating a packet");
    memcpy(x->pkt->data, au, au_len);
    x->pkt->pts = x->pkt->dts = ts90k;
    if (key)
        x->pkt->flags |= AV_PKT_FLAG_KEY;
    r = avcodec_send_packet(x->dec, x->pkt);
    av_packet_unref(x->pkt);
    if (r < 0 && r != AVERROR(EAGAIN)) {
        x->need_key = true;
        avcodec_flush_buffers(x->dec);
        return av_fail(err, r, "decoding");
    }
    for (;;) {
        r = avcodec_receive_frame(x->dec, x->pic);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            return 0;
        if (r < 0) {
            x->need_key = true;
            avcodec_flush_buffers(x->dec);
            return av_fail(err, r, "decoding");
        }
        if (key)
            x->pic->key_frame = 1;
        r = encode_picture(x, out, arg, err);
        av_frame_unref(x->pic);
        if (r < 0)
            return r;
    }
}

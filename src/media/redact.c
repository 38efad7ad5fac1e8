/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Decode, paint the rectangles, encode with libx264, mux to MP4
 * (redact.h).
 */
#include "media/redact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "media/snapshot.h"

#define IO_BUF (64 * 1024)
#define KEY_EVERY_S 4

struct job {
    const struct reel_redact_in *in;
    uint64_t pos;
    AVFormatContext *ic, *oc;
    AVCodecContext *dec, *enc;
    AVStream *ist, *ost;
    AVPacket *pkt, *opkt;
    AVFrame *pic;
    int64_t len90k;
    int64_t frame_dur90k;
    int64_t last_progress;
    void (*progress)(void *, double);
    void *progress_arg;
    const struct reel_redact_spec *spec;
    const char *out_path;
    bool header_written;
    struct reel_redact_result *res;
};

static int av_fail(struct reel_err *err, int averr, const char *what)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, buf, sizeof buf);
    return reel_err_set(err, averr == AVERROR(ENOMEM) ? ENOMEM : EIO, "redaction: %s: %s", what, buf);
}

static int io_read(void *opaque, uint8_t *buf, int size)
{
    struct job *j = opaque;
    ssize_t n = j->in->read(j->in->arg, j->pos, buf, (size_t)size);
    if (n < 0)
        return AVERROR(EIO);
    if (n == 0)
        return AVERROR_EOF;
    j->pos += (uint64_t)n;
    return (int)n;
}

static int64_t io_seek(void *opaque, int64_t off, int whence)
{
    struct job *j = opaque;
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE)
        return (int64_t)j->in->size;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)j->pos : (int64_t)j->in->size;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return AVERROR(EINVAL);
    if (base + off < 0)
        return AVERROR(EINVAL);
    j->pos = (uint64_t)(base + off);
    return (int64_t)j->pos;
}

static int open_input(struct job *j, struct reel_err *err)
{
    uint8_t *iobuf = av_malloc(IO_BUF);
    if (!iobuf)
        return reel_err_set(err, ENOMEM, "redaction: out of memory");
    AVIOContext *pb = avio_alloc_context(iobuf, IO_BUF, 0, j, io_read, NULL, io_seek);
    if (!pb) {
        av_free(iobuf);
        return reel_err_set(err, ENOMEM, "redaction: out of memory");
    }
    j->ic = avformat_alloc_context();
    if (!j->ic) {
        av_free(pb->buffer);
        avio_context_free(&pb);
        return reel_err_set(err, ENOMEM, "redaction: out of memory");
    }
    j->ic->pb = pb;
    j->ic->flags |= AVFMT_FLAG_CUSTOM_IO;
    int r = avformat_open_input(&j->ic, NULL, av_find_input_format("mov"), NULL);
    if (r < 0) {
        /* avformat_open_input frees ic on failure, not the custom pb. */
        av_free(pb->buffer);
        avio_context_free(&pb);
        return av_fail(err, r, "reading the source MP4");
    }
    r = avformat_find_stream_info(j->ic, NULL);
    if (r < 0)
        return av_fail(err, r, "reading the source MP4");
    int si = av_find_best_stream(j->ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (si < 0)
        return reel_err_set(err, ENOENT, "redaction: no video in the range");
    j->ist = j->ic->streams[si];
    for (unsigned i = 0; i < j->ic->nb_streams; i++)
        if ((int)i != si)
            j->ic->streams[i]->discard = AVDISCARD_ALL;
    const AVCodecParameters *par = j->ist->codecpar;
    if (par->width > REEL_SNAPSHOT_DIM_MAX || par->height > REEL_SNAPSHOT_DIM_MAX)
        return reel_err_set(err, E2BIG, "redaction: picture %dx%d over the cap", par->width, par->height);
    const AVCodec *c = avcodec_find_decoder(par->codec_id);
    if (!c || (par->codec_id != AV_CODEC_ID_H264 && par->codec_id != AV_CODEC_ID_HEVC))
        return reel_err_set(err, ENOSYS, "redaction: the source is neither H.264 nor H.265");
    j->dec = avcodec_alloc_context3(c);
    if (!j->dec)
        return reel_err_set(err, ENOMEM, "redaction: out of memory");
    r = avcodec_parameters_to_context(j->dec, par);
    if (r < 0)
        return av_fail(err, r, "opening the decoder");
    j->dec->thread_count = 1;
    j->dec->max_pixels = (int64_t)REEL_SNAPSHOT_DIM_MAX * REEL_SNAPSHOT_DIM_MAX;
    j->dec->pkt_timebase = j->ist->time_base;
    r = avcodec_open2(j->dec, c, NULL);
    if (r < 0)
        return av_fail(err, r, "opening the decoder");
    AVRational fr = j->ist->avg_frame_rate;
    j->frame_dur90k = fr.num > 0 && fr.den > 0 ? av_rescale(90000, fr.den, fr.num) : 3000;
    if (j->frame_dur90k <= 0)
        j->frame_dur90k = 3000;
    return 0;
}

static int open_output(struct job *j, const AVFrame *f, struct reel_err *err)
{
    const AVCodec *c = avcodec_find_encoder_by_name("libx264");
    if (!c)
        return reel_err_set(err, ENOSYS, "redaction: libavcodec has no libx264 encoder");
    j->enc = avcodec_alloc_context3(c);
    if (!j->enc)
        return reel_err_set(err, ENOMEM, "redaction: out of memory");
    j->enc->width = f->width;
    j->enc->height = f->height;
    j->enc->pix_fmt = (enum AVPixelFormat)f->format;
    j->enc->color_range = f->color_range;
    j->enc->colorspace = f->colorspace;
    j->enc->color_primaries = f->color_primaries;
    j->enc->color_trc = f->color_trc;
    j->enc->sample_aspect_ratio = f->sample_aspect_ratio;
    j->enc->time_base = (AVRational){ 1, 90000 };
    AVRational fr = j->ist->avg_frame_rate;
    if (fr.num > 0 && fr.den > 0)
        j->enc->framerate = fr;
    int fps = fr.num > 0 && fr.den > 0 ? (fr.num + fr.den - 1) / fr.den : 30;
    j->enc->gop_size = (fps > 0 ? fps : 30) * KEY_EVERY_S;
    j->enc->thread_count = 1;
    if (j->oc->oformat->flags & AVFMT_GLOBALHEADER)
        j->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(j->enc->priv_data, "preset", REEL_REDACT_PRESET, 0);
    av_opt_set(j->enc->priv_data, "crf", REEL_REDACT_CRF, 0);
    int r = avcodec_open2(j->enc, c, NULL);
    if (r < 0)
        return av_fail(err, r, "opening libx264");
    j->ost = avformat_new_stream(j->oc, NULL);
    if (!j->ost)
        return reel_err_set(err, ENOMEM, "redaction: out of memory");
    r = avcodec_parameters_from_context(j->ost->codecpar, j->enc);
    if (r < 0)
        return av_fail(err, r, "setting up the MP4");
    j->ost->time_base = (AVRational){ 1, 90000 };
    if (fr.num > 0 && fr.den > 0)
        j->ost->avg_frame_rate = fr;
    /* oc->url ("file:" + the path) is also what the fast-start pass reopens. */
    r = avio_open(&j->oc->pb, j->oc->url, AVIO_FLAG_WRITE);
    if (r < 0)
        return av_fail(err, r, "opening the output");
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "movflags", "+faststart", 0);
    r = avformat_write_header(j->oc, &opts);
    av_dict_free(&opts);
    if (r < 0)
        return av_fail(err, r, "writing the MP4 header");
    j->header_written = true;
    j->res->width = f->width;
    j->res->height = f->height;
    return 0;
}

static int drain(struct job *j, struct reel_err *err)
{
    for (;;) {
        int r = avcodec_receive_packet(j->enc, j->opkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            return 0;
        if (r < 0)
            return av_fail(err, r, "encoding");
        if (j->opkt->duration <= 0)
            j->opkt->duration = j->frame_dur90k;
        av_packet_rescale_ts(j->opkt, j->enc->time_base, j->ost->time_base);
        j->opkt->stream_index = j->ost->index;
        r = av_interleaved_write_frame(j->oc, j->opkt);
        av_packet_unref(j->opkt);
        if (r < 0)
            return av_fail(err, r, "writing the MP4");
    }
}

static void paint(struct job *j, AVFrame *f, int64_t t90k)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)f->format);
    bool full = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P;
    for (size_t bi = 0; bi < j->spec->nboxes; bi++) {
        const struct reel_redact_box *b = &j->spec->boxes[bi];
        double x, y, w, h;
        reel_redact_box_at(b, t90k, &x, &y, &w, &h);
        for (int pl = 0; pl < 3; pl++) {
            int cw = pl ? AV_CEIL_RSHIFT(f->width, d->log2_chroma_w) : f->width;
            int ch = pl ? AV_CEIL_RSHIFT(f->height, d->log2_chroma_h) : f->height;
            struct reel_redact_plane p = { f->data[pl], f->linesize[pl], cw, ch };
            reel_redact_paint_plane(&p, b->mode, pl ? 128 : full ? 0 : 16, x, y, w, h);
        }
    }
}

static bool format_ok(int fmt)
{
    return fmt == AV_PIX_FMT_YUV420P || fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUV422P ||
           fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUV444P || fmt == AV_PIX_FMT_YUVJ444P;
}

static int picture(struct job *j, const atomic_bool *cancel, struct reel_err *err)
{
    AVFrame *f = j->pic;
    if (cancel && atomic_load(cancel))
        return reel_err_set(err, ECANCELED, "redaction: cancelled");
    int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    if (pts == AV_NOPTS_VALUE)
        return 0;
    int64_t t = av_rescale_q(pts, j->ist->time_base, (AVRational){ 1, 90000 });
    if (t < 0 || t >= j->len90k)
        return 0;   /* before the range's start (the edit list's pre-roll) or after its end */
    if (!format_ok(f->format))
        return reel_err_set(err, ENOTSUP, "redaction: pixel format %s not handled",
                            av_get_pix_fmt_name((enum AVPixelFormat)f->format) ?: "?");
    if (j->res->frames >= REEL_REDACT_FRAMES_MAX)
        return reel_err_set(err, E2BIG, "redaction: more than %u pictures", REEL_REDACT_FRAMES_MAX);
    if (!j->enc) {
        int r = open_output(j, f, err);
        if (r < 0)
            return r;
    } else if (f->width != j->enc->width || f->height != j->enc->height || f->format != j->enc->pix_fmt) {
        return reel_err_set(err, ENOTSUP, "redaction: the picture size changes inside the range");
    }
    int r = av_frame_make_writable(f);
    if (r < 0)
        return av_fail(err, r, "painting");
    paint(j, f, j->in->from90k + t);
    f->pts = t;
    f->pict_type = AV_PICTURE_TYPE_NONE;
    r = avcodec_send_frame(j->enc, f);
    if (r < 0)
        return av_fail(err, r, "encoding");
    j->res->frames++;
    j->res->duration90k = t + j->frame_dur90k;
    if (j->progress && t - j->last_progress >= 90000) {
        j->last_progress = t;
        j->progress(j->progress_arg, (double)t / (double)j->len90k);
    }
    return drain(j, err);
}

static int decode(struct job *j, const AVPacket *pkt, const atomic_bool *cancel, struct reel_err *err)
{
    int r = avcodec_send_packet(j->dec, pkt);
    if (r < 0 && r != AVERROR_EOF)
        return av_fail(err, r, "decoding");
    for (;;) {
        r = avcodec_receive_frame(j->dec, j->pic);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            return 0;
        if (r < 0)
            return av_fail(err, r, "decoding");
        r = picture(j, cancel, err);
        av_frame_unref(j->pic);
        if (r < 0)
            return r;
    }
}

static int run(struct job *j, const atomic_bool *cancel, struct reel_err *err)
{
    int r = open_input(j, err);
    if (r < 0)
        return r;
    char url[4200];
    if ((size_t)snprintf(url, sizeof(url), "file:%s", j->out_path) >= sizeof(url))
        return reel_err_set(err, ENAMETOOLONG, "redaction: output path too long");
    r = avformat_alloc_output_context2(&j->oc, NULL, "mp4", url);
    if (r < 0 || !j->oc)
        return reel_err_set(err, ENOMEM, "redaction: cannot set up the MP4 muxer");
    j->pkt = av_packet_alloc();
    j->opkt = av_packet_alloc();
    j->pic = av_frame_alloc();
    if (!j->pkt || !j->opkt || !j->pic)
        return reel_err_set(err, ENOMEM, "redaction: out of memory");
    while ((r = av_read_frame(j->ic, j->pkt)) >= 0) {
        if (j->pkt->stream_index == j->ist->index)
            r = decode(j, j->pkt, cancel, err);
        else
            r = 0;
        av_packet_unref(j->pkt);
        if (r < 0)
            return r;
    }
    if (r != AVERROR_EOF)
        return av_fail(err, r, "reading the source MP4");
    r = decode(j, NULL, cancel, err);
    if (r < 0)
        return r;
    if (!j->enc)
        return reel_err_set(err, ENOENT, "redaction: no picture in the range");
    r = avcodec_send_frame(j->enc, NULL);
    if (r < 0)
        return av_fail(err, r, "encoding");
    r = drain(j, err);
    if (r < 0)
        return r;
    r = av_write_trailer(j->oc);
    if (r < 0)
        return av_fail(err, r, "finishing the MP4");
    if (j->progress)
        j->progress(j->progress_arg, 1.0);
    return 0;
}

int reel_redact_run(const struct reel_redact_in *in, const struct reel_redact_spec *spec, const char *out_path,
                    void (*progress)(void *arg, double fraction), void *progress_arg, const atomic_bool *cancel,
                    struct reel_redact_result *res, struct reel_err *err)
{
    memset(res, 0, sizeof(*res));
    if (in->to90k <= in->from90k || spec->nboxes == 0)
        return reel_err_set(err, EINVAL, "redaction: empty range or no boxes");
    /* The file is made here, private and new; libavformat then opens it by name. */
    int fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return reel_err_set(err, errno, "redaction: creating %s: %s", out_path, strerror(errno));
    close(fd);
    struct job j = { .in = in, .len90k = in->to90k - in->from90k, .progress = progress,
                     .progress_arg = progress_arg, .spec = spec, .out_path = out_path, .res = res };
    int r = run(&j, cancel, err);
    if (j.ic) {
        AVIOContext *pb = j.ic->pb;
        avformat_close_input(&j.ic);
        if (pb) {
            av_freep(&pb->buffer);
            avio_context_free(&pb);
        }
    }
    if (j.oc) {
        if (j.oc->pb)
            avio_closep(&j.oc->pb);
        avformat_free_context(j.oc);
    }
    avcodec_free_context(&j.dec);
    avcodec_free_context(&j.enc);
    av_packet_free(&j.pkt);
    av_packet_free(&j.opkt);
    av_frame_free(&j.pic);
    if (r < 0)
        unlink(out_path);
    return r;
}

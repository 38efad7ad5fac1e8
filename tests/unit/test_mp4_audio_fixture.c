/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A data directory with cameras that have audio, recorded through the real
 * store (reel_run_* on a fake clock) the way CONTRACTS.md section 5 says
 * the recorder stores audio: each camera's video run (a real H.264 clip made
 * by ffmpeg, length-prefixed, parameter sets in the sample entry) and an
 * audio run of its "<camera>~audio" row (kind REEL_STREAM_AUDIO), one stored
 * frame per audio access unit, ts in 90 kHz rounded from the exact sample
 * count, the complete audio sample entry box in the sample entry row.
 *
 *   camera  audio                                  audio starts
 *   aac     AAC-LC 44.1 kHz mono (ffmpeg, ADTS     0.4 s before the video
 *           split here, headers stripped; 'mp4a'+'esds' built here)
 *   ulaw    G.711 µ-law 8 kHz, 20 ms packets       0.25 s after the video
 *           (a 440 Hz tone encoded here)
 *   alaw    G.711 A-law 8 kHz, 20 ms packets       with the video
 *   opus    Opus 48 kHz (ffmpeg libopus, Ogg pages 0.1 s after the video
 *           parsed here; 'Opus'+'dOps')            (left out without libopus)
 *   noaudio no audio row
 *   gap     µ-law as ulaw, but both runs end 3 s in; the audio comes back
 *           2 s later, the video 2.6 s later (as after a reconnection that
 *           waits for a key frame)
 *
 * Each camera's footage is 6 s of video; the cameras are recorded one after
 * another, 20 s apart. Used by tests/unit/test_mp4_audio.c (linked in) and,
 * built with -DFIXTURE_MAIN as the program `mp4-audio-fixture DATADIR
 * FFMPEG`, by tests/browser/audio-test.mjs; the program prints one line per
 * camera: "NAME VIDEO_START90K VIDEO_END90K AUDIO_CODEC".
 */
#include "test_mp4_audio_fixture.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "codec/annexb.h"
#include "codec/params.h"
#include "store/store.h"

#define VIDEO_FPS 30
#define VIDEO_FRAMES 180
#define VIDEO_DUR 3000
#define MAX_NALS 20000
#define MAX_AUS 4096
#define T_WALL0 (INT64_C(1700000000) * REEL_NS_PER_SEC)
/* The "gap" camera: both runs end 3 s in; the audio is back 2 s later, the
 * video 2.6 s later. */
#define GAP_AT_NS (INT64_C(3) * REEL_NS_PER_SEC)
#define GAP_NS (INT64_C(2) * REEL_NS_PER_SEC)
#define GAP_VIDEO_NS (INT64_C(2600) * 1000000)

struct au {
    uint32_t off, len;
    int64_t ts90k;          /* relative to the stream's first unit */
    bool key;
};

struct stream {
    uint8_t *data;          /* concatenated units */
    size_t len;
    struct au aus[MAX_AUS];
    uint32_t n;
    uint8_t entry[512];     /* sample entry box */
    size_t entry_len;
    uint16_t width, height;
    char codec_string[48];
};

static int fail(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int sh(const char *cmd, char *msg, size_t cap)
{
    char full[2048];
    snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
    int st = system(full);
    return st == 0 ? 0 : fail(msg, cap, "command failed (%d): %s", st, cmd);
}

static uint8_t *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *ret_len = (size_t)n;
    return p;
}

static int add_unit(struct stream *s, const uint8_t *p, size_t len, int64_t ts90k, bool key)
{
    if (s->n >= MAX_AUS)
        return -1;
    uint8_t *d = realloc(s->data, s->len + len);
    if (!d)
        return -1;
    s->data = d;
    memcpy(d + s->len, p, len);
    s->aus[s->n++] = (struct au){ (uint32_t)s->len, (uint32_t)len, ts90k, key };
    s->len += len;
    return 0;
}

/* ---- video: a real H.264 clip ---- */

static int make_video(struct stream *v, const char *ffmpeg, const char *dir, char *msg, size_t cap)
{
    char es[600], cmd[1400];
    snprintf(es, sizeof(es), "%s/video.264", dir);
    snprintf(cmd, sizeof(cmd), "'%s' -v error -y -f lavfi -i testsrc2=size=320x180:rate=%d -frames:v %d "
             "-g 30 -bf 0 -pix_fmt yuv420p -c:v libx264 -f h264 '%s'", ffmpeg, VIDEO_FPS, VIDEO_FRAMES, es);
    if (sh(cmd, msg, cap) < 0)
        return -1;
    size_t len;
    uint8_t *buf = slurp(es, &len);
    struct reel_nal *nals = calloc(MAX_NALS, sizeof(*nals));
    uint8_t *frame = malloc(len + 4 * MAX_NALS);
    if (!buf || !nals || !frame) {
        free(buf);
        free(nals);
        free(frame);
        return fail(msg, cap, "cannot read %s", es);
    }
    int n = reel_annexb_split(buf, len, nals, MAX_NALS);
    const uint8_t *ps[8];
    size_t pslen[8], nps = 0, flen = 0;
    bool key = false, have_vcl = false;
    int rc = 0;
    for (int i = 0; i <= n && rc == 0; i++) {
        unsigned t = i < n ? reel_h264_nal_type(nals[i].p[0]) : 0;
        bool vcl = i < n && t >= 1 && t <= 5;
        bool starts = vcl && nals[i].len > 1 && (nals[i].p[1] & 0x80);
        /* A picture ends at the next picture's first slice, at a non-VCL
         * unit after slices, and at the end. */
        if (have_vcl && (i == n || starts || !vcl)) {
            rc = add_unit(v, frame, flen, (int64_t)v->n * VIDEO_DUR, key);
            flen = 0;
            key = false;
            have_vcl = false;
        }
        if (i == n)
            break;
        if (t == 7 || t == 8) {
            if (v->n == 0 && nps < 8) {
                ps[nps] = nals[i].p;
                pslen[nps++] = nals[i].len;
            }
            continue;
        }
        if (t == 9)
            continue;
        reel_wr_be32(frame + flen, (uint32_t)nals[i].len);
        memcpy(frame + flen + 4, nals[i].p, nals[i].len);
        flen += 4 + nals[i].len;
        if (vcl) {
            have_vcl = true;
            key |= t == 5;
        }
    }
    struct reel_video_params params;
    struct reel_err err = { { 0 } };
    if (rc == 0 && reel_video_params_build(REEL_CODEC_H264, ps, pslen, nps, &params, &err) < 0)
        rc = fail(msg, cap, "video params: %s", err.msg);
    else if (rc == 0) {
        memcpy(v->entry, params.sample_entry, params.sample_entry_len);
        v->entry_len = params.sample_entry_len;
        v->width = params.width;
        v->height = params.height;
        snprintf(v->codec_string, sizeof(v->codec_string), "%s", params.codec_string);
        reel_video_params_clear(&params);
    }
    free(buf);
    free(nals);
    free(frame);
    if (rc == 0 && (v->n != VIDEO_FRAMES || !v->aus[0].key))
        rc = fail(msg, cap, "video: %u frames", v->n);
    return rc;
}

/* ---- audio sample entries ---- */

/* The AudioSampleEntry fields after the 8-byte header; returns the length. */
static size_t sound_fields(uint8_t *p, uint16_t channels, uint32_t rate)
{
    memset(p, 0, 28);
    reel_wr_be16(p + 6, 1);             /* data_reference_index */
    reel_wr_be16(p + 16, channels);
    reel_wr_be16(p + 18, 16);           /* samplesize */
    reel_wr_be32(p + 24, rate << 16);
    return 28;
}

static void g711_entry(struct stream *a, const char *type)
{
    reel_wr_be32(a->entry, 36);
    memcpy(a->entry + 4, type, 4);
    sound_fields(a->entry + 8, 1, 8000);
    a->entry_len = 36;
    a->width = 1;
    snprintf(a->codec_string, sizeof(a->codec_string), "%s", type);
}

static uint8_t ulaw_enc(int pcm)
{
    int sign = pcm < 0 ? 0x80 : 0;
    int s = pcm < 0 ? -pcm : pcm;
    if (s > 32635)
        s = 32635;
    s += 0x84;
    int exp = 7;
    for (int m = 0x4000; (s & m) == 0 && exp > 0; m >>= 1)
        exp--;
    int mant = (s >> (exp + 3)) & 0x0f;
    return (uint8_t)~(sign | (exp << 4) | mant);
}

static uint8_t alaw_enc(int pcm)
{
    int mask, s = pcm >> 3;
    if (s >= 0) {
        mask = 0xd5;
    } else {
        mask = 0x55;
        s = -s - 1;
    }
    int seg = 0;
    while (seg < 8 && s > (0x1f << seg) + ((1 << seg) - 1))
        seg++;
    if (seg >= 8)
        return (uint8_t)(0x7f ^ mask);
    int aval = seg << 4;
    aval |= seg < 2 ? (s >> 1) & 0x0f : (s >> seg) & 0x0f;
    return (uint8_t)(aval ^ mask);
}

/* A 440 Hz tone, 20 ms (160-sample) packets, as G.711. */
static int make_g711(struct stream *a, bool ulaw, double seconds)
{
    g711_entry(a, ulaw ? "ulaw" : "alaw");
    uint32_t packets = (uint32_t)(seconds * 50);
    for (uint32_t k = 0; k < packets; k++) {
        uint8_t pkt[160];
        for (int i = 0; i < 160; i++) {
            double t = (double)(k * 160 + (uint32_t)i) / 8000.0;
            int pcm = (int)lround(12000.0 * sin(2 * M_PI * 440.0 * t));
            pkt[i] = ulaw ? ulaw_enc(pcm) : alaw_enc(pcm);
        }
        if (add_unit(a, pkt, sizeof(pkt), (int64_t)k * 1800, true) < 0)
            return -1;
    }
    return 0;
}

/* ts90k of sample number n at rate, rounded from the exact count. */
static int64_t ts_of(uint64_t n, uint32_t rate)
{
    return (int64_t)((n * 90000 + rate / 2) / rate);
}

static int make_aac(struct stream *a, const char *ffmpeg, const char *dir, double seconds, char *msg,
                    size_t cap)
{
    char path[600], cmd[1400];
    snprintf(path, sizeof(path), "%s/audio.aac", dir);
    snprintf(cmd, sizeof(cmd), "'%s' -v error -y -f lavfi -i sine=frequency=440:sample_rate=44100 -t %.3f "
             "-ac 1 -c:a aac -b:a 48k -f adts '%s'", ffmpeg, seconds, path);
    if (sh(cmd, msg, cap) < 0)
        return -1;
    size_t len;
    uint8_t *b = slurp(path, &len);
    if (!b)
        return fail(msg, cap, "cannot read %s", path);
    static const uint32_t rates[13] = { 96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050,
                                        16000, 12000, 11025, 8000, 7350 };
    unsigned profile = 0, sfi = 0, chan = 0;
    uint64_t samples = 0;
    for (size_t at = 0; at + 7 <= len;) {
        const uint8_t *h = b + at;
        if (h[0] != 0xff || (h[1] & 0xf0) != 0xf0)
            break;
        bool crc = !(h[1] & 1);
        profile = h[2] >> 6;
        sfi = (h[2] >> 2) & 0x0f;
        chan = ((h[2] & 1) << 2) | (h[3] >> 6);
        size_t flen = ((size_t)(h[3] & 3) << 11) | ((size_t)h[4] << 3) | (h[5] >> 5);
        size_t hl = crc ? 9 : 7;
        if (flen <= hl || at + flen > len || sfi >= 13)
            break;
        if (add_unit(a, h + hl, flen - hl, ts_of(samples, rates[sfi]), true) < 0)
            break;
        samples += 1024;
        at += flen;
    }
    free(b);
    if (a->n < 10)
        return fail(msg, cap, "AAC: only %u frames parsed", a->n);
    /* 'mp4a' + 'esds' (ES_Descriptor, DecoderConfigDescriptor with the
     * AudioSpecificConfig, SLConfigDescriptor). */
    uint8_t asc[2] = { (uint8_t)(((profile + 1) << 3) | (sfi >> 1)), (uint8_t)(((sfi & 1) << 7) | (chan << 3)) };
    uint8_t *p = a->entry;
    size_t n = 8 + sound_fields(p + 8, (uint16_t)chan, rates[sfi]);
    size_t esds = n;
    n += 4;                             /* size */
    memcpy(p + n, "esds", 4);
    n += 4;
    reel_wr_be32(p + n, 0);             /* version, flags */
    n += 4;
    p[n++] = 0x03;                      /* ES_Descriptor */
    p[n++] = 3 + 2 + 13 + 2 + sizeof(asc) + 3;
    reel_wr_be16(p + n, 1);             /* ES_ID */
    n += 2;
    p[n++] = 0;                         /* flags */
    p[n++] = 0x04;                      /* DecoderConfigDescriptor */
    p[n++] = 13 + 2 + sizeof(asc);
    p[n++] = 0x40;                      /* Audio ISO/IEC 14496-3 */
    p[n++] = 0x15;                      /* audio stream */
    p[n++] = 0;                         /* bufferSizeDB (24 bits) */
    p[n++] = 0x03;
    p[n++] = 0x00;
    reel_wr_be32(p + n, 64000);         /* maxBitrate */
    n += 4;
    reel_wr_be32(p + n, 48000);         /* avgBitrate */
    n += 4;
    p[n++] = 0x05;                      /* DecSpecificInfo */
    p[n++] = sizeof(asc);
    memcpy(p + n, asc, sizeof(asc));
    n += sizeof(asc);
    p[n++] = 0x06;                      /* SLConfigDescriptor */
    p[n++] = 1;
    p[n++] = 0x02;
    reel_wr_be32(p + esds, (uint32_t)(n - esds));
    reel_wr_be32(p, (uint32_t)n);
    memcpy(p + 4, "mp4a", 4);
    a->entry_len = n;
    a->width = (uint16_t)chan;
    snprintf(a->codec_string, sizeof(a->codec_string), "mp4a.40.%u", profile + 1);
    return 0;
}

/* Samples (48 kHz) in an Opus packet, from its TOC byte (RFC 6716 3.1). */
static uint32_t opus_samples(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    unsigned config = p[0] >> 3, c = p[0] & 3;
    static const uint32_t silk[4] = { 480, 960, 1920, 2880 };
    static const uint32_t celt[4] = { 120, 240, 480, 960 };
    uint32_t per = config < 12 ? silk[config & 3] : config < 16 ? (config & 1 ? 960 : 480) : celt[config & 3];
    uint32_t frames = c == 0 ? 1 : c < 3 ? 2 : len > 1 ? p[1] & 0x3f : 0;
    return per * frames;
}

/* 1: made; 0: ffmpeg has no libopus (left out); -1: error. */
static int make_opus(struct stream *a, const char *ffmpeg, const char *dir, double seconds, char *msg,
                     size_t cap)
{
    char path[600], cmd[1400];
    snprintf(path, sizeof(path), "%s/audio.ogg", dir);
    snprintf(cmd, sizeof(cmd), "'%s' -v error -y -f lavfi -i sine=frequency=440:sample_rate=48000 -t %.3f "
             "-ac 1 -c:a libopus -b:a 32k -f ogg '%s'", ffmpeg, seconds, path);
    if (sh(cmd, msg, cap) < 0)
        return 0;
    size_t len;
    uint8_t *b = slurp(path, &len);
    if (!b)
        return fail(msg, cap, "cannot read %s", path);
    uint8_t *pkt = malloc(len);
    size_t plen = 0;
    uint32_t npkt = 0;
    uint64_t samples = 0;
    uint16_t preskip = 0;
    uint8_t channels = 1;
    for (size_t at = 0; pkt && at + 27 <= len && memcmp(b + at, "OggS", 4) == 0;) {
        unsigned nseg = b[at + 26];
        const uint8_t *lace = b + at + 27;
        const uint8_t *body = lace + nseg;
        if (at + 27 + nseg > len)
            break;
        size_t pos = 0;
        for (unsigned k = 0; k < nseg; k++) {
            memcpy(pkt + plen, body + pos, lace[k]);
            plen += lace[k];
            pos += lace[k];
            if (lace[k] == 255)
                continue;           /* the packet goes on */
            if (npkt == 0 && plen >= 19 && memcmp(pkt, "OpusHead", 8) == 0) {
                channels = pkt[9];
                preskip = (uint16_t)(pkt[10] | pkt[11] << 8);
            } else if (npkt >= 2 && plen > 0) {
                if (add_unit(a, pkt, plen, ts_of(samples, 48000), true) < 0)
                    break;
                samples += opus_samples(pkt, plen);
            }
            npkt++;
            plen = 0;
        }
        at = (size_t)(body - b) + pos;
    }
    free(pkt);
    free(b);
    if (a->n < 10)
        return fail(msg, cap, "Opus: only %u packets parsed", a->n);
    uint8_t *p = a->entry;
    size_t n = 8 + sound_fields(p + 8, channels, 48000);
    reel_wr_be32(p + n, 19);
    memcpy(p + n + 4, "dOps", 4);
    p[n + 8] = 0;                       /* Version */
    p[n + 9] = channels;
    reel_wr_be16(p + n + 10, preskip);
    reel_wr_be32(p + n + 12, 48000);    /* InputSampleRate */
    reel_wr_be16(p + n + 16, 0);        /* OutputGain */
    p[n + 18] = 0;                      /* ChannelMappingFamily */
    n += 19;
    reel_wr_be32(p, (uint32_t)n);
    memcpy(p + 4, "Opus", 4);
    a->entry_len = n;
    a->width = channels;
    snprintf(a->codec_string, sizeof(a->codec_string), "opus");
    return 1;
}

/* ---- recording ---- */

/* Records video (from wall offset 0) and audio (from audio_ms, negative =
 * before the video) interleaved in time through the store, with the fake
 * clock at each unit's arrival. Audio units are fed from the one playing at
 * the video's start - 0.4 s to the video's end + 0.3 s. */
static int record_camera(struct reel_store *s, struct reel_clock_fake *clk, const char *name,
                         const struct stream *v, const struct stream *a, int audio_ms, bool gap, bool disabled,
                         int64_t *ret_start90k, int64_t *ret_end90k, char *msg, size_t cap)
{
    struct reel_err err = { { 0 } };
    struct reel_camera cam = { 0 };
    snprintf(cam.name, sizeof(cam.name), "%s", name);
    snprintf(cam.url, sizeof(cam.url), "rtsp://camera.example/%s", name);
    cam.audio = a != NULL;
    cam.disabled = disabled;
    if (reel_store_camera_add(s, &cam, NULL, &err) < 0)
        return fail(msg, cap, "camera %s: %s", name, err.msg);
    int64_t ve, ae = 0;
    if (reel_store_sample_entry_put(s, v->entry, v->entry_len, v->width, v->height, v->codec_string, &ve, &err) < 0)
        return fail(msg, cap, "video entry: %s", err.msg);
    struct reel_camera acam = { 0 };
    if (a) {
        snprintf(acam.name, sizeof(acam.name), "%s~audio", name);
        snprintf(acam.url, sizeof(acam.url), "rtsp://camera.example/%s", name);
        acam.parent_id = cam.id;
        acam.kind = REEL_STREAM_AUDIO;
        acam.disabled = disabled;
        if (reel_store_camera_add(s, &acam, NULL, &err) < 0)
            return fail(msg, cap, "camera %s: %s", acam.name, err.msg);
        if (reel_store_sample_entry_put(s, a->entry, a->entry_len, a->width, 0, a->codec_string, &ae, &err) < 0)
            return fail(msg, cap, "audio entry: %s", err.msg);
    }
    /* Times in ns relative to the video's first frame. */
    int64_t t0 = audio_ms < 0 ? (int64_t)audio_ms * 1000000 : 0;
    int64_t now = t0;
    struct reel_run *vr = NULL, *ar = NULL;
    bool vr_b = false, ar_b = false;
    uint32_t i = 0, k = 0;
    int64_t v_end = (int64_t)v->n * VIDEO_DUR * 1000000 / 90 + (gap ? GAP_VIDEO_NS : 0);
    int64_t a_last = v_end + 300000000;
    *ret_start90k = 0;
    for (;;) {
        int64_t tv = i < v->n ? v->aus[i].ts90k * 1000000 / 90 : INT64_MAX;
        int64_t ta = a && k < a->n ? (int64_t)audio_ms * 1000000 + a->aus[k].ts90k * 1000000 / 90 : INT64_MAX;
        /* With a gap: both runs end at GAP_AT_NS; the audio comes back
         * GAP_NS later, the video (waiting for a key frame) later still. */
        bool vb = gap && tv != INT64_MAX && tv >= GAP_AT_NS;
        bool ab = gap && ta != INT64_MAX && ta >= GAP_AT_NS;
        if (vb)
            tv += GAP_VIDEO_NS;
        if (ab)
            ta += GAP_NS;
        if (ta > a_last)
            ta = INT64_MAX;
        if (tv == INT64_MAX && ta == INT64_MAX)
            break;
        int64_t t = tv <= ta ? tv : ta;
        if (t > now) {
            reel_clock_fake_advance(clk, t - now);
            now = t;
        }
        bool video = tv <= ta;
        const struct stream *st = video ? v : a;
        const struct au *u = video ? &v->aus[i] : &a->aus[k];
        struct reel_run **run = video ? &vr : &ar;
        bool *run_b = video ? &vr_b : &ar_b;
        if (*run && *run_b != (video ? vb : ab)) {
            reel_run_close(*run);
            *run = NULL;
        }
        if (!*run) {
            *run_b = video ? vb : ab;
            if (video && !*ret_start90k)
                *ret_start90k = reel_ns_to_90k(reel_clock_wall(&clk->clock));
            if (reel_run_open(s, video ? cam.id : acam.id, run, &err) < 0)
                return fail(msg, cap, "run %s: %s", name, err.msg);
        }
        struct reel_frame_in in = { st->data + u->off, u->len, 1000 + u->ts90k, u->key, video ? ve : ae };
        if (reel_run_frame(*run, &in, &err) < 0)
            return fail(msg, cap, "%s %s frame: %s", name, video ? "video" : "audio", err.msg);
        if (video) {
            i++;
            *ret_end90k = reel_ns_to_90k(reel_clock_wall(&clk->clock)) + VIDEO_DUR;
        } else {
            k++;
        }
    }
    reel_run_close(vr);
    reel_run_close(ar);
    reel_clock_fake_advance(clk, 20 * REEL_NS_PER_SEC - (now - t0));
    return 0;
}

static void stream_free(struct stream *s)
{
    if (s) {
        free(s->data);
        free(s);
    }
}

int mp4_audio_fixture(const char *ffmpeg, const char *datadir, const char *workdir, bool disabled,
                      struct mp4_audio_fixture_cam cams[MP4_AUDIO_FIXTURE_CAMS], char *msg, size_t cap)
{
    static const struct {
        const char *name;
        int audio_ms;
        int stream;             /* index into as[] (-1: no audio) */
        bool gap;
    } table[MP4_AUDIO_FIXTURE_CAMS] = { { "aac", -400, 0, false }, { "ulaw", 250, 1, false },
                                        { "alaw", 0, 2, false }, { "opus", 100, 3, false },
                                        { "noaudio", 0, -1, false }, { "gap", 0, 1, true } };
    struct stream *v = calloc(1, sizeof(*v));
    struct stream *as[MP4_AUDIO_FIXTURE_CAMS] = { 0 };
    for (int c = 0; c < 4; c++)
        as[c] = calloc(1, sizeof(*as[c]));
    struct reel_store *s = NULL;
    int rc = v && as[0] && as[1] && as[2] && as[3] ? 0 : fail(msg, cap, "out of memory");
    double secs = (double)VIDEO_FRAMES / VIDEO_FPS + 1.5;
    if (rc == 0)
        rc = make_video(v, ffmpeg, workdir, msg, cap);
    if (rc == 0)
        rc = make_aac(as[0], ffmpeg, workdir, secs, msg, cap);
    if (rc == 0)
        rc = make_g711(as[1], true, secs);
    if (rc == 0)
        rc = make_g711(as[2], false, secs);
    int opus = rc == 0 ? make_opus(as[3], ffmpeg, workdir, secs, msg, cap) : -1;
    if (rc == 0 && opus < 0)
        rc = -1;
    struct reel_err err = { { 0 } };
    struct reel_clock_fake clk;
    reel_clock_fake_init(&clk, INT64_C(1000000000), T_WALL0);
    if (rc == 0 && reel_store_init(datadir, &err) < 0)
        rc = fail(msg, cap, "init %s: %s", datadir, err.msg);
    /* The fake clock jumps seconds between calls while the writer thread
     * works in real time: a stall bound on the fake clock would call a
     * writer that is merely slower than the jumps "not answering" (seen on
     * a loaded machine), so it is out of reach here. */
    struct reel_store_cfg cfg = { .datadir = datadir, .mode = REEL_STORE_RECORD, .clock = &clk.clock,
                                  .rotate_ns = 2 * REEL_NS_PER_SEC, .stall_ns = INT64_C(365) * 86400 * REEL_NS_PER_SEC };
    if (rc == 0 && reel_store_open(&s, &cfg, &err) < 0)
        rc = fail(msg, cap, "open %s: %s", datadir, err.msg);
    for (int c = 0; c < MP4_AUDIO_FIXTURE_CAMS && rc == 0; c++) {
        struct mp4_audio_fixture_cam *fc = &cams[c];
        memset(fc, 0, sizeof(*fc));
        snprintf(fc->name, sizeof(fc->name), "%s", table[c].name);
        int si = table[c].stream;
        bool has = si >= 0 && (si != 3 || opus > 0);
        if (has)
            snprintf(fc->codec, sizeof(fc->codec), "%s", as[si]->codec_string);
        fc->audio_offset90k = (int64_t)table[c].audio_ms * 90;
        rc = record_camera(s, &clk, table[c].name, v, has ? as[si] : NULL, table[c].audio_ms, table[c].gap,
                           disabled, &fc->video_start90k, &fc->video_end90k, msg, cap);
    }
    if (s && reel_store_sync(s, &err) < 0 && rc == 0)
        rc = fail(msg, cap, "sync: %s", err.msg);
    reel_store_close(s);
    stream_free(v);
    for (int c = 0; c < MP4_AUDIO_FIXTURE_CAMS; c++)
        stream_free(as[c]);
    return rc;
}

#ifdef FIXTURE_MAIN
int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mp4-audio-fixture DATADIR FFMPEG\n");
        return 2;
    }
    char work[4200], msg[1024] = "";
    snprintf(work, sizeof(work), "%s.work", argv[1]);
    if (mkdir(work, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s\n", work);
        return 1;
    }
    struct mp4_audio_fixture_cam cams[MP4_AUDIO_FIXTURE_CAMS];
    /* Disabled: `reel run` on this directory serves it without trying to
     * reach the cameras. */
    int rc = mp4_audio_fixture(argv[2], argv[1], work, true, cams, msg, sizeof(msg));
    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", work);
    if (rc < 0) {
        fprintf(stderr, "mp4-audio-fixture: %s\n", msg);
        return 1;
    }
    for (int c = 0; c < MP4_AUDIO_FIXTURE_CAMS; c++)
        printf("%s %lld %lld %s\n", cams[c].name, (long long)cams[c].video_start90k,
               (long long)cams[c].video_end90k, cams[c].codec[0] ? cams[c].codec : "-");
    return 0;
}
#endif

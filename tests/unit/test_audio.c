/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for audio: SDP audio lines, the RTP audio depacketisers (AAC-hbr,
 * G.711, Opus) with hand-made and hostile packets, drift-free timestamps, and
 * the MP4 audio sample entries (golden bytes). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codec/audio_entry.h"
#include "rtp/audio.h"
#include "rtsp/sdp.h"

/* ---- SDP ---- */

static const struct reel_sdp_media *audio_of(const char *text, struct reel_sdp **s)
{
    assert_int_equal(reel_sdp_parse(text, strlen(text), s, NULL), 0);
    int i = reel_sdp_find_audio(*s);
    assert_true(i >= 0);
    return &(*s)->media[i];
}

static void test_sdp_audio(void **state)
{
    (void)state;
    struct reel_sdp *s;
    const struct reel_sdp_media *m = audio_of(
        "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/48000/2\r\n"
        "a=fmtp:97 streamtype=5; profile-level-id=15; mode=AAC-hbr; config=1190; SizeLength=13; "
        "IndexLength=3; IndexDeltaLength=3\r\na=control:track2\r\n", &s);
    assert_int_equal(m->audio_codec, REEL_AUDIO_AAC);
    assert_int_equal(m->pt, 97);
    assert_int_equal(m->clock_rate, 48000);
    assert_int_equal(m->channels, 2);
    assert_int_equal(m->size_length, 13);
    assert_int_equal(m->index_length, 3);
    assert_int_equal(m->index_delta_length, 3);
    assert_int_equal(m->aac_config_len, 2);
    assert_int_equal(m->aac_config[0], 0x11);
    assert_int_equal(m->aac_config[1], 0x90);
    assert_string_equal(m->control, "track2");
    reel_sdp_free(s);

    /* static payload types 0 and 8, no rtpmap */
    m = audio_of("v=0\r\nm=audio 0 RTP/AVP 0\r\n", &s);
    assert_int_equal(m->audio_codec, REEL_AUDIO_PCMU);
    assert_int_equal(m->clock_rate, 8000);
    reel_sdp_free(s);
    m = audio_of("v=0\r\nm=audio 0 RTP/AVP 8\r\n", &s);
    assert_int_equal(m->audio_codec, REEL_AUDIO_PCMA);
    reel_sdp_free(s);
    /* the first supported of several payload types */
    m = audio_of("v=0\r\nm=audio 0 RTP/AVP 101 0\r\na=rtpmap:101 telephone-event/8000\r\n", &s);
    assert_int_equal(m->pt, 0);
    assert_int_equal(m->audio_codec, REEL_AUDIO_PCMU);
    reel_sdp_free(s);
    m = audio_of("v=0\r\nm=audio 0 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
                 "a=fmtp:111 sprop-stereo=0\r\n", &s);
    assert_int_equal(m->audio_codec, REEL_AUDIO_OPUS);
    assert_int_equal(m->clock_rate, 48000);
    assert_int_equal(m->channels, 2);
    reel_sdp_free(s);
    m = audio_of("v=0\r\nm=audio 0 RTP/AVP 98\r\na=rtpmap:98 MP4A-LATM/16000/1\r\n"
                 "a=fmtp:98 cpresent=0;config=400028103fc0\r\n", &s);
    assert_int_equal(m->audio_codec, REEL_AUDIO_NONE);
    assert_true(m->latm);
    reel_sdp_free(s);
    /* AAC without AAC-hbr, without a config, with an odd or oversized config,
     * with a sizelength out of range: not usable */
    static const char *const bad[] = {
        "a=fmtp:97 mode=AAC-lbr;config=1408;sizelength=6;indexlength=2;indexdeltalength=2",
        "a=fmtp:97 mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3",
        "a=fmtp:97 mode=AAC-hbr;config=140;sizelength=13;indexlength=3;indexdeltalength=3",
        "a=fmtp:97 mode=AAC-hbr;config=14zz;sizelength=13;indexlength=3;indexdeltalength=3",
        "a=fmtp:97 mode=AAC-hbr;config=1408;sizelength=40;indexlength=3;indexdeltalength=3",
        "a=fmtp:97 mode=AAC-hbr;config=1408;indexlength=3;indexdeltalength=3",
    };
    char buf[8192];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "v=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/16000\r\n%s\r\n",
                 bad[i]);
        m = audio_of(buf, &s);
        if (m->audio_codec != REEL_AUDIO_NONE)
            fail_msg("case %zu accepted", i);
        assert_true(m->aac);
        reel_sdp_free(s);
    }
    /* a config over the cap (65 bytes) */
    int n = snprintf(buf, sizeof(buf), "v=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/16000\r\n"
                     "a=fmtp:97 mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=");
    for (int i = 0; i < 65; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "14");
    snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n");
    m = audio_of(buf, &s);
    assert_int_equal(m->aac_config_len, 0);
    assert_int_equal(m->audio_codec, REEL_AUDIO_NONE);
    reel_sdp_free(s);
    assert_int_equal(reel_sdp_parse("v=0\r\nm=video 0 RTP/AVP 96\r\n", 27, &s, NULL), 0);
    assert_int_equal(reel_sdp_find_audio(s), -ENOENT);
    reel_sdp_free(s);
}

/* ---- depacketisers ---- */

#define MAX_GOT 64
struct got {
    int n;
    size_t len[MAX_GOT];
    int64_t ts[MAX_GOT];
    uint8_t first[MAX_GOT];
    uint8_t data[MAX_GOT][2048];
};

static int on_au(void *opaque, const struct reel_audio_au *au)
{
    struct got *g = opaque;
    if (g->n < MAX_GOT) {
        g->len[g->n] = au->len;
        g->ts[g->n] = au->ts90k;
        g->first[g->n] = au->len ? au->data[0] : 0;
        memcpy(g->data[g->n], au->data, au->len < 2048 ? au->len : 2048);
    }
    g->n++;
    return 0;
}

static size_t rtp(uint8_t *out, uint8_t pt, bool marker, uint16_t seq, uint32_t ts, const uint8_t *pl,
                  size_t n)
{
    out[0] = 0x80;
    out[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
    out[2] = (uint8_t)(seq >> 8);
    out[3] = (uint8_t)seq;
    out[4] = (uint8_t)(ts >> 24);
    out[5] = (uint8_t)(ts >> 16);
    out[6] = (uint8_t)(ts >> 8);
    out[7] = (uint8_t)ts;
    memset(out + 8, 0x11, 4);
    memcpy(out + 12, pl, n);
    return 12 + n;
}

static struct reel_audio_depack *aac_depack(struct got *g, size_t cap)
{
    struct reel_audio_depack_cfg cfg = {
        .codec = REEL_AUDIO_AAC, .payload_type = 97, .clock_rate = 16000,
        .size_length = 13, .index_length = 3, .index_delta_length = 3, .samples_per_au = 1024,
        .max_au_bytes = cap, .on_au = on_au, .opaque = g,
    };
    struct reel_audio_depack *d;
    assert_int_equal(reel_audio_depack_new(&d, &cfg), 0);
    return d;
}

/* AAC-hbr payload: AU headers (13-bit size, 3-bit index/delta) then data. */
static size_t aac_payload(uint8_t *out, const size_t *sizes, const unsigned *idx, size_t n, uint8_t fill,
                          size_t data_len)
{
    out[0] = (uint8_t)((n * 16) >> 8);
    out[1] = (uint8_t)(n * 16);
    for (size_t i = 0; i < n; i++) {
        uint16_t h = (uint16_t)(sizes[i] << 3 | (idx ? idx[i] : 0));
        out[2 + 2 * i] = (uint8_t)(h >> 8);
        out[3 + 2 * i] = (uint8_t)h;
    }
    size_t off = 2 + 2 * n;
    for (size_t i = 0; i < data_len; i++)
        out[off + i] = (uint8_t)(fill + i);
    return off + data_len;
}

static void test_aac(void **state)
{
    (void)state;
    static struct got g;
    memset(&g, 0, sizeof(g));
    struct reel_audio_depack *d = aac_depack(&g, 0);
    uint8_t pl[4096], pkt[4200];
    /* three AUs in one packet: 10, 20, 5 bytes */
    size_t sizes[3] = { 10, 20, 5 };
    size_t n = aac_payload(pl, sizes, NULL, 3, 1, 35);
    size_t len = rtp(pkt, 97, true, 100, 16000, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.len[0], 10);
    assert_int_equal(g.len[1], 20);
    assert_int_equal(g.len[2], 5);
    assert_int_equal(g.first[1], 11);
    assert_int_equal(g.ts[0], 90000);                 /* 16000 ticks at 16 kHz */
    assert_int_equal(g.ts[1], 90000 + 5760);          /* + 1024 samples */
    assert_int_equal(g.ts[2], 90000 + 11520);
    /* an AU-index-delta of 1 skips one AU's time */
    size_t s2[2] = { 4, 4 };
    unsigned idx[2] = { 0, 1 };
    n = aac_payload(pl, s2, idx, 2, 0, 8);
    len = rtp(pkt, 97, true, 101, 16000 + 3072, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    assert_int_equal(g.n, 5);
    assert_int_equal(g.ts[4] - g.ts[3], 2 * 5760);
    /* a fragmented AU of 1500 bytes in three packets, marker on the last */
    size_t big = 1500;
    g.n = 0;
    n = aac_payload(pl, &big, NULL, 1, 0, 600);
    len = rtp(pkt, 97, false, 102, 30000, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    n = aac_payload(pl, &big, NULL, 1, (uint8_t)600, 600);
    len = rtp(pkt, 97, false, 103, 30000, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    assert_int_equal(g.n, 0);
    n = aac_payload(pl, &big, NULL, 1, (uint8_t)1200, 300);
    len = rtp(pkt, 97, true, 104, 30000, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.len[0], 1500);
    for (size_t i = 0; i < 1500; i++)
        if (g.data[0][i] != (uint8_t)i)
            fail_msg("reassembled byte %zu is %u", i, g.data[0][i]);
    /* a fragment whose middle is lost: dropped, the next AU is fine */
    g.n = 0;
    n = aac_payload(pl, &big, NULL, 1, 0, 600);
    len = rtp(pkt, 97, false, 105, 40000, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    n = aac_payload(pl, &big, NULL, 1, 0, 300);
    len = rtp(pkt, 97, true, 107, 40000, pl, n);
    reel_audio_depack_push(d, pkt, len, NULL);
    assert_int_equal(g.n, 0);
    n = aac_payload(pl, sizes, NULL, 1, 0, 10);
    len = rtp(pkt, 97, true, 108, 41024, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    assert_int_equal(g.n, 1);
    struct reel_audio_depack_stats st;
    reel_audio_depack_get_stats(d, &st);
    assert_int_equal(st.lost, 1);
    assert_true(st.dropped_aus >= 1);
    /* another payload type: ignored */
    len = rtp(pkt, 96, true, 109, 42048, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    assert_int_equal(g.n, 1);
    reel_audio_depack_free(d);
}

static void test_aac_hostile(void **state)
{
    (void)state;
    static struct got g;
    memset(&g, 0, sizeof(g));
    struct reel_audio_depack *d = aac_depack(&g, 2000);
    uint8_t pl[8192], pkt[8400];
    uint16_t seq = 1;
    struct reel_err err;
    /* AU-headers-length larger than the packet */
    uint8_t p1[] = { 0xff, 0xff, 0x00, 0x50, 1, 2, 3 };
    size_t len = rtp(pkt, 97, true, seq++, 0, p1, sizeof(p1));
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), -EBADMSG);
    /* a payload of one byte, and none */
    len = rtp(pkt, 97, true, seq++, 1024, p1, 1);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), -EBADMSG);
    len = rtp(pkt, 97, true, seq++, 2048, p1, 0);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), -EBADMSG);
    /* AU-headers-length 0: no header */
    uint8_t p0[] = { 0, 0, 1, 2 };
    len = rtp(pkt, 97, true, seq++, 3072, p0, sizeof(p0));
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), -EBADMSG);
    /* sizes that do not fit the data (several AUs: not a fragment) */
    size_t sizes[2] = { 100, 100 };
    size_t n = aac_payload(pl, sizes, NULL, 2, 0, 150);
    len = rtp(pkt, 97, true, seq++, 4096, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), -EBADMSG);
    /* zero sizes: nothing delivered */
    size_t zero[2] = { 0, 0 };
    n = aac_payload(pl, zero, NULL, 2, 0, 0);
    len = rtp(pkt, 97, true, seq++, 5120, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), 0);
    /* a single AU larger than the packet with the marker set */
    size_t one = 500;
    n = aac_payload(pl, &one, NULL, 1, 0, 100);
    len = rtp(pkt, 97, true, seq++, 6144, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), -EBADMSG);
    /* a fragment over the cap (2000) */
    size_t huge = 5000;
    n = aac_payload(pl, &huge, NULL, 1, 0, 1000);
    len = rtp(pkt, 97, false, seq++, 7168, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), -EBADMSG);
    /* a fragment that grows past its AU-size */
    size_t fs = 1200;
    n = aac_payload(pl, &fs, NULL, 1, 0, 1000);
    len = rtp(pkt, 97, false, seq++, 8192, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), 0);
    n = aac_payload(pl, &fs, NULL, 1, 0, 1000);
    len = rtp(pkt, 97, true, seq++, 8192, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), -EBADMSG);
    /* more headers than the cap: 100 headers of size 0 */
    pl[0] = (uint8_t)((100 * 16) >> 8);
    pl[1] = (uint8_t)(100 * 16);
    memset(pl + 2, 0, 200);
    len = rtp(pkt, 97, true, seq++, 9216, pl, 202);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), -EBADMSG);
    /* huge index deltas: timestamps far ahead, still no overflow */
    size_t s3[2] = { 1, 1 };
    unsigned idx[2] = { 7, 7 };
    n = aac_payload(pl, s3, idx, 2, 0, 2);
    len = rtp(pkt, 97, true, seq++, 10240, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.ts[1] - g.ts[0], 8 * 5760);
    /* not RTP */
    assert_int_equal(reel_audio_depack_push(d, p1, sizeof(p1), &err), -EBADMSG);
    /* still usable */
    n = aac_payload(pl, s3, NULL, 1, 0, 1);
    len = rtp(pkt, 97, true, seq++, 11264, pl, n);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, &err), 0);
    assert_int_equal(g.n, 3);
    reel_audio_depack_free(d);
    /* bad configurations */
    struct reel_audio_depack_cfg bad = { .codec = REEL_AUDIO_AAC, .clock_rate = 16000, .size_length = 0 };
    assert_int_equal(reel_audio_depack_new(&d, &bad), -EINVAL);
    bad.size_length = 17;
    assert_int_equal(reel_audio_depack_new(&d, &bad), -EINVAL);
    bad = (struct reel_audio_depack_cfg){ .codec = REEL_AUDIO_PCMU, .clock_rate = 0 };
    assert_int_equal(reel_audio_depack_new(&d, &bad), -EINVAL);
    bad = (struct reel_audio_depack_cfg){ .codec = REEL_AUDIO_NONE, .clock_rate = 8000 };
    assert_int_equal(reel_audio_depack_new(&d, &bad), -EINVAL);
}

static void test_g711_opus_timestamps(void **state)
{
    (void)state;
    static struct got g;
    memset(&g, 0, sizeof(g));
    struct reel_audio_depack_cfg cfg = {
        .codec = REEL_AUDIO_PCMA, .payload_type = 8, .clock_rate = 8000, .on_au = on_au, .opaque = &g,
    };
    struct reel_audio_depack *d;
    assert_int_equal(reel_audio_depack_new(&d, &cfg), 0);
    uint8_t pl[160], pkt[200];
    memset(pl, 0xd5, sizeof(pl));
    /* 20 ms packets across the 32-bit wrap */
    uint32_t ts = UINT32_MAX - 320 + 1;
    for (int i = 0; i < 5; i++) {
        size_t len = rtp(pkt, 8, false, (uint16_t)(65534 + i), ts, pl, 160);
        assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
        ts += 160;
    }
    assert_int_equal(g.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(g.len[i], 160);
        assert_int_equal(g.first[i], 0xd5);
        if (i)
            assert_int_equal(g.ts[i] - g.ts[i - 1], 1800);
    }
    /* a duplicate and a late packet are dropped */
    size_t len = rtp(pkt, 8, false, 2, ts - 160, pl, 160);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    len = rtp(pkt, 8, false, 1, ts - 480, pl, 160);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    assert_int_equal(g.n, 5);
    /* an empty payload delivers nothing */
    len = rtp(pkt, 8, false, 3, ts, pl, 0);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    assert_int_equal(g.n, 5);
    reel_audio_depack_free(d);

    /* a new SSRC with timestamps and sequence numbers anywhere: taken at
     * once, time goes on by one packet's step */
    memset(&g, 0, sizeof(g));
    assert_int_equal(reel_audio_depack_new(&d, &cfg), 0);
    size_t l2 = rtp(pkt, 8, false, 500, 80000, pl, 160);
    assert_int_equal(reel_audio_depack_push(d, pkt, l2, NULL), 0);
    l2 = rtp(pkt, 8, false, 501, 80160, pl, 160);
    assert_int_equal(reel_audio_depack_push(d, pkt, l2, NULL), 0);
    l2 = rtp(pkt, 8, false, 7, 5, pl, 160);
    pkt[8] = 0x22;                                    /* another SSRC */
    assert_int_equal(reel_audio_depack_push(d, pkt, l2, NULL), 0);
    l2 = rtp(pkt, 8, false, 8, 165, pl, 160);
    pkt[8] = 0x22;
    assert_int_equal(reel_audio_depack_push(d, pkt, l2, NULL), 0);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.ts[1] - g.ts[0], 1800);
    assert_int_equal(g.ts[2] - g.ts[1], 1800);
    assert_int_equal(g.ts[3] - g.ts[2], 1800);
    reel_audio_depack_free(d);

    /* Opus: one packet per AU at 48 kHz */
    memset(&g, 0, sizeof(g));
    cfg = (struct reel_audio_depack_cfg){
        .codec = REEL_AUDIO_OPUS, .payload_type = 111, .clock_rate = 48000, .on_au = on_au, .opaque = &g,
    };
    assert_int_equal(reel_audio_depack_new(&d, &cfg), 0);
    uint8_t op[3] = { 0xfc, 0xff, 0xfe };
    len = rtp(pkt, 111, true, 7, 960, op, 3);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    len = rtp(pkt, 111, true, 8, 1920, op, 3);
    assert_int_equal(reel_audio_depack_push(d, pkt, len, NULL), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.len[0], 3);
    assert_int_equal(g.ts[0], 1800);
    assert_int_equal(g.ts[1], 3600);
    reel_audio_depack_free(d);

    /* No drift: 44.1 kHz AUs of 1024 samples (23.22 ms, not a whole number
     * of 90 kHz ticks): after a day the time is the exact sample count's. */
    int64_t samples = 0;
    int64_t prev = 0;
    for (int i = 0; i < 4000000; i++) {
        samples += 1024;
        int64_t t = reel_audio_ts90k(samples, 44100);
        assert_true(t > prev);
        prev = t;
    }
    assert_int_equal(prev, (samples * 90000 + 22050) / 44100);
    assert_int_equal(reel_audio_ts90k(INT64_C(1) << 50, 8000), INT64_C(45) << 48);   /* exact, no overflow */
}

/* ---- sample entries ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_entries(void **state)
{
    (void)state;
    struct reel_audio_params p;
    struct reel_err err;
    /* AAC-LC 16 kHz mono: ASC 0x14 0x08 */
    const uint8_t asc[] = { 0x14, 0x08 };
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_AAC, 16000, 1, asc, 2, &p, &err), 0);
    assert_string_equal(p.codec_string, "mp4a.40.2");
    assert_int_equal(p.sample_rate, 16000);
    assert_int_equal(p.channels, 1);
    assert_int_equal(p.samples_per_au, 1024);
    static const uint8_t want_mp4a[] = {
        0, 0, 0, 0x4b, 'm', 'p', '4', 'a', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 1, 0, 16, 0, 0, 0, 0, 0x3e, 0x80, 0, 0,
        0, 0, 0, 0x27, 'e', 's', 'd', 's', 0, 0, 0, 0,
        0x03, 0x19, 0, 0, 0,
        0x04, 0x11, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x05, 0x02, 0x14, 0x08,
        0x06, 0x01, 0x02,
    };
    assert_int_equal(p.sample_entry_len, sizeof(want_mp4a));
    assert_memory_equal(p.sample_entry, want_mp4a, sizeof(want_mp4a));
    assert_int_equal(be32(p.sample_entry), p.sample_entry_len);
    /* 960-sample frames, 48 kHz stereo: ASC 0x11 0x94 (frameLengthFlag set) */
    const uint8_t asc960[] = { 0x11, 0x94 };
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_AAC, 0, 0, asc960, 2, &p, &err), 0);
    assert_int_equal(p.samples_per_au, 960);
    assert_int_equal(p.sample_rate, 48000);
    assert_int_equal(p.channels, 2);
    /* HE-AAC object type 5 in the codec string */
    const uint8_t he[] = { 0x2b, 0x08, 0x80 };
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_AAC, 0, 0, he, 3, &p, &err), 0);
    assert_string_equal(p.codec_string, "mp4a.40.5");
    /* bad configs */
    const uint8_t bad0[] = { 0x00, 0x00 }, badrate[] = { 0x17, 0x88 }, badch[] = { 0x14, 0x00 };
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_AAC, 0, 0, bad0, 2, &p, &err), -EINVAL);
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_AAC, 0, 0, badrate, 2, &p, &err), -EINVAL);
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_AAC, 0, 0, badch, 2, &p, &err), -EINVAL);
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_AAC, 0, 0, asc, 1, &p, &err), -EINVAL);
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_AAC, 0, 0, NULL, 0, &p, &err), -EINVAL);
    /* 96 kHz does not fit the 16.16 field */
    const uint8_t r96[] = { 0x10, 0x08 };
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_AAC, 0, 0, r96, 2, &p, &err), -EINVAL);

    /* Opus */
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_OPUS, 48000, 2, NULL, 0, &p, &err), 0);
    static const uint8_t want_opus[] = {
        0, 0, 0, 0x37, 'O', 'p', 'u', 's', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 2, 0, 16, 0, 0, 0, 0, 0xbb, 0x80, 0, 0,
        0, 0, 0, 0x13, 'd', 'O', 'p', 's', 0, 2, 0, 0, 0, 0, 0xbb, 0x80, 0, 0, 0,
    };
    assert_int_equal(p.sample_entry_len, sizeof(want_opus));
    assert_memory_equal(p.sample_entry, want_opus, sizeof(want_opus));
    assert_string_equal(p.codec_string, "opus");

    /* G.711 */
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_PCMU, 8000, 0, NULL, 0, &p, &err), 0);
    static const uint8_t want_ulaw[] = {
        0, 0, 0, 0x24, 'u', 'l', 'a', 'w', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 1, 0, 16, 0, 0, 0, 0, 0x1f, 0x40, 0, 0,
    };
    assert_int_equal(p.sample_entry_len, sizeof(want_ulaw));
    assert_memory_equal(p.sample_entry, want_ulaw, sizeof(want_ulaw));
    assert_string_equal(p.codec_string, "ulaw");
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_PCMA, 8000, 1, NULL, 0, &p, &err), 0);
    assert_memory_equal(p.sample_entry + 4, "alaw", 4);
    assert_string_equal(p.codec_string, "alaw");
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_PCMA, 8000, 9, NULL, 0, &p, &err), -EINVAL);
    assert_int_equal(reel_audio_params_build(REEL_AUDIO_NONE, 8000, 1, NULL, 0, &p, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdp_audio),
        cmocka_unit_test(test_aac),
        cmocka_unit_test(test_aac_hostile),
        cmocka_unit_test(test_g711_opus_timestamps),
        cmocka_unit_test(test_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

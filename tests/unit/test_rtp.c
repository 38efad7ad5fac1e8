/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/rtp: RTP header parsing and the H.264/H.265
 * depacketisers, with hand-built packets for every packetisation mode and
 * the camera oddities of /work/shared/CAMERA-QUIRKS.md (items 2, 3, 4, 11 and
 * "Packetisation oddities"), plus a round trip of real clips
 * (tests/data/clip320x180.26[45], 10 frames, GOP 5, made with
 *  ffmpeg -f lavfi -i testsrc2=size=320x180:rate=10 -frames:v 10 -c:v libx264
 *  -preset veryfast -bf 0 -g 5 -f h264, and libx265 with bframes=0:keyint=5)
 * through a simple packetiser in this file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "codec/annexb.h"
#include "rtp/depack.h"

/* Parameter sets of the clips (320x180) and of a 640x360 H.264 stream. */
static const uint8_t h264_sps[] = {
    0x67, 0x64, 0x00, 0x0b, 0xac, 0xb4, 0x0a, 0x0c, 0xfc, 0xf8, 0x08, 0x80,
    0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x0a, 0x07, 0x8a, 0x15, 0x50,
};

static const uint8_t h264_pps[] = {
    0x68, 0xef, 0x0f, 0xcb,
};

static const uint8_t h265_vps[] = {
    0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00,
    0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xba, 0x02, 0x40,
};

static const uint8_t h265_sps[] = {
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0b, 0x9f, 0x79,
    0x6e, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02,
    0x00, 0x00, 0x03, 0x00, 0x14, 0x10,
};

static const uint8_t h265_pps[] = {
    0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40,
};

static const uint8_t big264_sps[] = {
    0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11,
    0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x0f, 0x16,
    0x2d, 0x96,
};

static const uint8_t big264_pps[] = {
    0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0,
};

/* ---- helpers ---- */

#define MAX_GOT 64

struct got {
    int n;
    uint8_t *data[MAX_GOT];
    size_t len[MAX_GOT];
    int64_t ts[MAX_GOT];
    bool key[MAX_GOT], changed[MAX_GOT], has_params[MAX_GOT];
    uint16_t w[MAX_GOT], h[MAX_GOT];
    int ret;                      /* what on_au returns */
};

static int on_au(void *opaque, const struct reel_au *au)
{
    struct got *g = opaque;
    assert_true(g->n < MAX_GOT);
    g->data[g->n] = malloc(au->len);
    assert_non_null(g->data[g->n]);
    memcpy(g->data[g->n], au->data, au->len);
    g->len[g->n] = au->len;
    g->ts[g->n] = au->ts90k;
    g->key[g->n] = au->key;
    g->changed[g->n] = au->params_changed;
    g->has_params[g->n] = au->params != NULL;
    if (au->params) {
        g->w[g->n] = au->params->width;
        g->h[g->n] = au->params->height;
    }
    g->n++;
    return g->ret;
}

static void got_free(struct got *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->data[i]);
    g->n = 0;
}

struct tx {
    struct reel_depack *d;
    struct got got;
    uint16_t seq;
    uint32_t ssrc;
    uint8_t pt;
    struct reel_err err;
};

static void tx_open(struct tx *t, enum reel_codec codec, size_t max_au,
                    const uint8_t *const *sprops, const size_t *sprop_lens, size_t sprop_n)
{
    memset(t, 0, sizeof(*t));
    t->pt = 96;
    t->ssrc = 0x11223344;
    t->seq = 1000;
    struct reel_depack_cfg cfg = {
        .codec = codec, .payload_type = 96, .max_au_bytes = max_au,
        .sprop_nals = sprops, .sprop_lens = sprop_lens, .sprop_n = sprop_n,
        .on_au = on_au, .opaque = &t->got,
    };
    assert_int_equal(reel_depack_new(&t->d, &cfg), 0);
}

static void tx_close(struct tx *t)
{
    reel_depack_free(t->d);
    got_free(&t->got);
}

static size_t mkpkt(uint8_t *out, uint8_t pt, uint16_t seq, uint32_t ts, bool marker, uint32_t ssrc,
                    const uint8_t *pl, size_t n)
{
    out[0] = 0x80;
    out[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
    reel_wr_be16(out + 2, seq);
    reel_wr_be32(out + 4, ts);
    reel_wr_be32(out + 8, ssrc);
    memcpy(out + 12, pl, n);
    return 12 + n;
}

static int tx_send(struct tx *t, uint32_t ts, bool marker, const uint8_t *pl, size_t n)
{
    static uint8_t pkt[70000];
    assert_true(n + 12 <= sizeof(pkt));
    size_t len = mkpkt(pkt, t->pt, t->seq++, ts, marker, t->ssrc, pl, n);
    return reel_depack_push(t->d, pkt, len, &t->err);
}

#define SEND(t, ts, m, ...) do { \
        static const uint8_t pl_[] = {__VA_ARGS__}; \
        assert_int_equal(tx_send((t), (ts), (m), pl_, sizeof(pl_)), 0); \
    } while (0)

static struct reel_depack_stats stats(struct tx *t)
{
    struct reel_depack_stats s;
    reel_depack_get_stats(t->d, &s);
    return s;
}

/* Length-prefixed concatenation of NAL units, for expected AU data. */
static size_t lp(uint8_t *out, int n, ...)
{
    va_list ap;
    size_t o = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const uint8_t *p = va_arg(ap, const uint8_t *);
        size_t l = va_arg(ap, size_t);
        reel_wr_be32(out + o, (uint32_t)l);
        memcpy(out + o + 4, p, l);
        o += 4 + l;
    }
    va_end(ap);
    return o;
}

static void fill(uint8_t *p, size_t n, uint8_t hdr, uint8_t seed)
{
    p[0] = hdr;
    for (size_t i = 1; i < n; i++)
        p[i] = (uint8_t)(0x10 + (i * 7 + seed) % 0xe0);      /* never 00 00 01 */
}

/* Sends a NAL as FU-A fragments of at most frag bytes. */
static void send_fua(struct tx *t, uint32_t ts, bool marker, const uint8_t *nal, size_t n, size_t frag)
{
    uint8_t pl[2048];
    size_t pos = 1;
    while (pos < n) {
        size_t k = n - pos < frag ? n - pos : frag;
        pl[0] = (uint8_t)((nal[0] & 0xe0) | 28);
        pl[1] = (uint8_t)((pos == 1 ? 0x80 : 0) | (pos + k == n ? 0x40 : 0) | (nal[0] & 0x1f));
        memcpy(pl + 2, nal + pos, k);
        pos += k;
        assert_int_equal(tx_send(t, ts, marker && pos == n, pl, k + 2), 0);
    }
}

static void send_fu265(struct tx *t, uint32_t ts, bool marker, const uint8_t *nal, size_t n, size_t frag)
{
    uint8_t pl[2048];
    size_t pos = 2;
    unsigned type = (nal[0] >> 1) & 0x3f;
    while (pos < n) {
        size_t k = n - pos < frag ? n - pos : frag;
        pl[0] = (uint8_t)((nal[0] & 0x81) | 49 << 1);
        pl[1] = nal[1];
        pl[2] = (uint8_t)((pos == 2 ? 0x80 : 0) | (pos + k == n ? 0x40 : 0) | type);
        memcpy(pl + 3, nal + pos, k);
        pos += k;
        assert_int_equal(tx_send(t, ts, marker && pos == n, pl, k + 3), 0);
    }
}

/* ---- RTP header ---- */

static void test_rtp_parse(void **state)
{
    (void)state;
    struct reel_rtp_pkt p, keep;
    struct reel_err err = {{0}};
    uint8_t b[64] = {0x80, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x65, 0x66};
    assert_int_equal(reel_rtp_parse(b, 14, &p, &err), 0);
    assert_int_equal(p.pt, 96);
    assert_true(p.marker);
    assert_int_equal(p.seq, 0x1234);
    assert_int_equal(p.ts, 0xdeadbeef);
    assert_int_equal(p.ssrc, 0x01020304);
    assert_ptr_equal(p.payload, b + 12);
    assert_int_equal(p.payload_len, 2);
    assert_int_equal(reel_rtp_parse(b, 12, &p, &err), 0);   /* empty payload */
    assert_int_equal(p.payload_len, 0);

    /* 2 CSRCs, extension of 1 word, 3 bytes of padding */
    uint8_t c[40] = {0xb2, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                     1, 1, 1, 1, 2, 2, 2, 2,                 /* CSRCs */
                     0xbe, 0xde, 0x00, 0x01, 9, 9, 9, 9,     /* extension */
                     0x41, 0x42, 0x43, 0, 0, 3};              /* payload + padding */
    assert_int_equal(reel_rtp_parse(c, 34, &p, &err), 0);
    assert_ptr_equal(p.payload, c + 28);
    assert_int_equal(p.payload_len, 3);
    assert_false(p.marker);

    memset(&keep, 0x77, sizeof(keep));
    p = keep;
    for (size_t i = 0; i < 12; i++)                          /* truncated header */
        assert_int_equal(reel_rtp_parse(b, i, &p, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "RTP"));
    b[0] = 0x40;                                             /* version 1 */
    assert_int_equal(reel_rtp_parse(b, 14, &p, &err), -EBADMSG);
    b[0] = 0x8f;                                             /* 15 CSRCs, 2 bytes left */
    assert_int_equal(reel_rtp_parse(b, 14, &p, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "CSRC"));
    for (size_t i = 12; i < 28; i++)                         /* CSRCs / extension cut */
        assert_int_equal(reel_rtp_parse(c, i, &p, &err), -EBADMSG);
    c[22] = 0x40;                                            /* extension length past end */
    assert_int_equal(reel_rtp_parse(c, 34, &p, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "extension"));
    c[22] = 0;
    c[23] = 1;
    c[33] = 7;                                               /* padding longer than payload */
    assert_int_equal(reel_rtp_parse(c, 34, &p, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "padding"));
    c[33] = 0;                                               /* padding of 0 */
    assert_int_equal(reel_rtp_parse(c, 34, &p, &err), -EBADMSG);
    c[33] = 6;                                               /* exactly the payload: ok */
    assert_int_equal(reel_rtp_parse(c, 34, &p, &err), 0);
    assert_int_equal(p.payload_len, 0);
    c[0] = 0xa0;                                             /* padding bit, header only */
    c[11] = 1;
    assert_int_equal(reel_rtp_parse(c, 12, &p, &err), -EBADMSG);
    p = keep;
    assert_int_equal(reel_rtp_parse(c, 3, &p, &err), -EBADMSG);
    assert_memory_equal(&p, &keep, sizeof(p));               /* untouched on failure */
}

/* ---- H.264 ---- */

static void test_h264_single_stap_fua(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H264, 0, NULL, NULL, 0);
    uint8_t idr[3000], p1[200], exp[4000];
    fill(idr, sizeof(idr), 0x65, 1);
    fill(p1, sizeof(p1), 0x41, 2);

    /* AU 1: STAP-A (SPS, PPS), IDR in FU-A, marker on the last fragment */
    uint8_t stap[64];
    size_t o = 0;
    stap[o++] = 0x78;
    reel_wr_be16(stap + o, sizeof(h264_sps)); o += 2;
    memcpy(stap + o, h264_sps, sizeof(h264_sps)); o += sizeof(h264_sps);
    reel_wr_be16(stap + o, sizeof(h264_pps)); o += 2;
    memcpy(stap + o, h264_pps, sizeof(h264_pps)); o += sizeof(h264_pps);
    assert_int_equal(tx_send(&t, 1000, false, stap, o), 0);
    send_fua(&t, 1000, true, idr, sizeof(idr), 1000);
    assert_int_equal(t.got.n, 1);
    size_t el = lp(exp, 3, h264_sps, sizeof(h264_sps), h264_pps, sizeof(h264_pps), idr, sizeof(idr));
    assert_int_equal(t.got.len[0], el);
    assert_memory_equal(t.got.data[0], exp, el);
    assert_true(t.got.key[0]);
    assert_int_equal(t.got.ts[0], 1000);
    assert_true(t.got.has_params[0]);
    assert_true(t.got.changed[0]);
    assert_int_equal(t.got.w[0], 320);
    assert_int_equal(t.got.h[0], 180);

    /* AU 2: single NAL with marker */
    assert_int_equal(tx_send(&t, 4000, true, p1, sizeof(p1)), 0);
    assert_int_equal(t.got.n, 2);
    el = lp(exp, 1, p1, sizeof(p1));
    assert_memory_equal(t.got.data[1], exp, el);
    assert_false(t.got.key[1]);
    assert_false(t.got.changed[1]);
    assert_true(t.got.has_params[1]);

    /* AU 3: two slices, no marker at all: ends on the timestamp change */
    assert_int_equal(tx_send(&t, 7000, false, p1, 100), 0);
    assert_int_equal(tx_send(&t, 7000, false, p1, 50), 0);
    assert_int_equal(t.got.n, 2);
    assert_int_equal(tx_send(&t, 10000, true, p1, 10), 0);
    assert_int_equal(t.got.n, 4);
    assert_int_equal(t.got.len[2], 4 + 100 + 4 + 50);
    assert_int_equal(t.got.ts[2], 7000);
    assert_int_equal(t.got.ts[3], 10000);
    struct reel_depack_stats s = stats(&t);
    assert_int_equal(s.lost, 0);
    assert_int_equal(s.dropped_aus, 0);
    assert_int_equal(s.oddities, 0);
    assert_int_equal(s.packets, 8);
    tx_close(&t);
}

static void test_h264_fu_oddities(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H264, 0, NULL, NULL, 0);
    uint8_t exp[256];

    /* FU-A with start and end both set */
    SEND(&t, 100, true, 0x7c, 0xc5, 0xaa, 0xbb);
    assert_int_equal(t.got.n, 1);
    static const uint8_t n1[] = {0x65, 0xaa, 0xbb};
    size_t el = lp(exp, 1, n1, sizeof(n1));
    assert_int_equal(t.got.len[0], el);
    assert_memory_equal(t.got.data[0], exp, el);
    assert_true(t.got.key[0]);
    assert_false(t.got.has_params[0]);                      /* none known yet */

    /* empty fragments: start empty, middle empty, end with data */
    SEND(&t, 200, false, 0x5c, 0x81);
    SEND(&t, 200, false, 0x5c, 0x01);
    SEND(&t, 200, false, 0x5c, 0x01, 0x11);
    SEND(&t, 200, true, 0x5c, 0x41, 0x22);
    assert_int_equal(t.got.n, 2);
    static const uint8_t n2[] = {0x41, 0x11, 0x22};
    el = lp(exp, 1, n2, sizeof(n2));
    assert_memory_equal(t.got.data[1], exp, el);
    assert_int_equal(stats(&t).oddities, 2);

    /* NAL type changes mid-FU: that NAL is dropped, the AU keeps the rest */
    SEND(&t, 300, false, 0x06, 0x05, 0x01, 0x80);           /* SEI, single */
    SEND(&t, 300, false, 0x7c, 0x81, 0x31);                 /* FU start, type 1 */
    SEND(&t, 300, false, 0x7c, 0x05, 0x32);                 /* type 5 now */
    SEND(&t, 300, false, 0x7c, 0x45, 0x33);                 /* end */
    SEND(&t, 300, true, 0x41, 0x9a);                        /* another slice, marker */
    assert_int_equal(t.got.n, 3);
    static const uint8_t sei[] = {0x06, 0x05, 0x01, 0x80}, sl[] = {0x41, 0x9a};
    el = lp(exp, 2, sei, sizeof(sei), sl, sizeof(sl));
    assert_int_equal(t.got.len[2], el);
    assert_memory_equal(t.got.data[2], exp, el);
    assert_int_equal(stats(&t).oddities, 3);

    /* reserved bit in the FU header and forbidden bit: counted, kept */
    SEND(&t, 400, true, 0x7c, 0xe1, 0x44);
    SEND(&t, 500, true, 0xc1, 0x55);
    assert_int_equal(t.got.n, 5);
    assert_int_equal(t.got.len[3], 4 + 2);
    assert_int_equal(t.got.data[4][4], 0xc1);
    assert_int_equal(stats(&t).oddities, 5);

    /* a middle fragment with no start: that AU is dropped */
    SEND(&t, 600, false, 0x7c, 0x01, 0x66);
    SEND(&t, 600, true, 0x7c, 0x41, 0x67);
    assert_int_equal(t.got.n, 5);
    assert_int_equal(stats(&t).dropped_aus, 1);
    /* a start with no end before the next AU: dropped */
    SEND(&t, 700, false, 0x7c, 0x81, 0x66);
    SEND(&t, 800, true, 0x41, 0x01);
    assert_int_equal(t.got.n, 6);
    assert_int_equal(t.got.ts[5], 800);
    assert_int_equal(stats(&t).dropped_aus, 2);
    /* a second start while a fragmented NAL is open: that AU is dropped */
    SEND(&t, 900, false, 0x7c, 0x81, 0x01);
    SEND(&t, 900, false, 0x7c, 0x81, 0x02);
    SEND(&t, 900, true, 0x7c, 0x41, 0x03);
    SEND(&t, 1000, true, 0x41, 0x04);
    assert_int_equal(t.got.n, 7);
    assert_int_equal(t.got.ts[6], 1000);
    assert_int_equal(stats(&t).dropped_aus, 3);
    /* a whole NAL while a fragmented one is open, then a fragment of another
     * type (found by fuzzing with the reorder window): that AU is dropped; it
     * was delivered empty, the whole NAL cut off with the unfinished one */
    SEND(&t, 1100, false, 0x7c, 0x85, 0x01);                /* FU start, IDR */
    SEND(&t, 1100, false, 0x65, 0x02);                      /* a whole IDR slice */
    SEND(&t, 1100, false, 0x7c, 0x01, 0x03);                /* FU middle, type 1 */
    SEND(&t, 1200, true, 0x41, 0x05);
    assert_int_equal(t.got.n, 8);
    assert_int_equal(t.got.ts[7], 1200);
    assert_int_equal(t.got.len[7], 4 + 2);
    assert_int_equal(stats(&t).dropped_aus, 4);
    assert_int_equal(stats(&t).lost, 0);
    tx_close(&t);
}

static void test_h264_annexb_in_payload(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H264, 0, NULL, NULL, 0);
    uint8_t pl[128], exp[256];
    size_t o = 0;
    static const uint8_t sc4[] = {0, 0, 0, 1}, sc3[] = {0, 0, 1};
    memcpy(pl + o, sc4, 4); o += 4;
    memcpy(pl + o, h264_sps, sizeof(h264_sps)); o += sizeof(h264_sps);
    memcpy(pl + o, sc3, 3); o += 3;
    memcpy(pl + o, h264_pps, sizeof(h264_pps)); o += sizeof(h264_pps);
    memcpy(pl + o, sc4, 4); o += 4;
    static const uint8_t idr[] = {0x65, 0x88, 0x80, 0x40};
    memcpy(pl + o, idr, sizeof(idr)); o += sizeof(idr);
    assert_int_equal(tx_send(&t, 5, true, pl, o), 0);
    /* and a bare NAL followed by a start code inside a single-NAL packet */
    static const uint8_t two[] = {0x41, 0x9a, 0x00, 0x00, 0x01, 0x41, 0x9b};
    assert_int_equal(tx_send(&t, 10, true, two, sizeof(two)), 0);
    assert_int_equal(t.got.n, 2);
    size_t el = lp(exp, 3, h264_sps, sizeof(h264_sps), h264_pps, sizeof(h264_pps), idr, sizeof(idr));
    assert_int_equal(t.got.len[0], el);
    assert_memory_equal(t.got.data[0], exp, el);
    assert_true(t.got.key[0]);
    assert_true(t.got.has_params[0]);
    assert_int_equal(t.got.len[1], 12);
    assert_int_equal(t.got.data[1][10], 0x41);
    assert_int_equal(stats(&t).oddities, 2);
    tx_close(&t);
}

static void test_seq_wrap_and_loss(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H264, 0, NULL, NULL, 0);
    t.seq = 65533;
    uint8_t nal[2500];
    fill(nal, sizeof(nal), 0x41, 3);
    send_fua(&t, 1, true, nal, sizeof(nal), 1000);          /* 65533, 65534, 65535 */
    send_fua(&t, 2, true, nal, sizeof(nal), 1000);          /* 0, 1, 2 */
    assert_int_equal(t.got.n, 2);
    assert_int_equal(stats(&t).lost, 0);
    assert_int_equal(t.seq, 3);

    /* lose the middle fragment of an FU: that AU is dropped, the next comes */
    uint8_t pl[1100];
    pl[0] = 0x5c;
    pl[1] = 0x81;
    memcpy(pl + 2, nal + 1, 1000);
    assert_int_equal(tx_send(&t, 3, false, pl, 1002), 0);
    t.seq++;                                                /* lost */
    pl[1] = 0x41;
    assert_int_equal(tx_send(&t, 3, true, pl, 500), 0);
    assert_int_equal(t.got.n, 2);
    send_fua(&t, 4, true, nal, sizeof(nal), 1000);
    assert_int_equal(t.got.n, 3);
    assert_int_equal(t.got.ts[2], 4);
    assert_int_equal(t.got.len[2], 4 + sizeof(nal));
    struct reel_depack_stats s = stats(&t);
    assert_int_equal(s.lost, 1);
    assert_int_equal(s.dropped_aus, 1);

    /* late and duplicate packets are dropped and counted */
    uint16_t late = (uint16_t)(t.seq - 2);
    t.seq = late;
    SEND(&t, 4, true, 0x41, 0x01);
    t.seq = (uint16_t)(late + 1);
    SEND(&t, 4, true, 0x41, 0x01);                          /* the last one again */
    t.seq = (uint16_t)(late + 2);
    assert_int_equal(stats(&t).reordered, 2);
    SEND(&t, 5, true, 0x41, 0x02);
    assert_int_equal(t.got.n, 4);
    assert_int_equal(stats(&t).lost, 1);

    /* a jump of 30000: dropped once, believed when the next one follows */
    t.seq = (uint16_t)(t.seq + 30000);
    SEND(&t, 6, true, 0x41, 0x03);
    assert_int_equal(t.got.n, 4);
    SEND(&t, 7, true, 0x41, 0x04);
    SEND(&t, 8, true, 0x41, 0x05);
    assert_int_equal(t.got.n, 5);                           /* 7 is broken by the jump */
    assert_int_equal(t.got.ts[4], 8);
    tx_close(&t);
}

static void test_ts_wrap(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H264, 0, NULL, NULL, 0);
    SEND(&t, 0xfffff000u, true, 0x41, 0x01);
    SEND(&t, 0xfffffc00u, true, 0x41, 0x02);
    SEND(&t, 0x00000800u, true, 0x41, 0x03);                /* wrapped */
    SEND(&t, 0x00000400u, true, 0x41, 0x04);                /* a small step back */
    SEND(&t, 0xfffffe00u, true, 0x41, 0x05);                /* back over the wrap */
    SEND(&t, 0x00001000u, true, 0x41, 0x06);
    assert_int_equal(t.got.n, 6);
    assert_int_equal(t.got.ts[0], INT64_C(0xfffff000));
    assert_int_equal(t.got.ts[1], INT64_C(0xfffffc00));
    assert_int_equal(t.got.ts[2], INT64_C(0x100000800));
    assert_int_equal(t.got.ts[3], INT64_C(0x100000400));
    assert_int_equal(t.got.ts[4], INT64_C(0xfffffe00));
    assert_int_equal(t.got.ts[5], INT64_C(0x100001000));
    tx_close(&t);
}

static void test_ssrc_change(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H264, 0, NULL, NULL, 0);
    SEND(&t, 100, true, 0x41, 0x01);
    SEND(&t, 200, true, 0x41, 0x02);
    /* a stale foreign session interleaved with ours: ignored */
    uint32_t ours = t.ssrc;
    uint16_t our_seq = t.seq;
    t.ssrc = 0xdeadbeef;
    t.seq = 5;
    SEND(&t, 777, true, 0x41, 0x77);
    SEND(&t, 778, true, 0x41, 0x78);
    t.ssrc = ours;
    t.seq = our_seq;
    SEND(&t, 300, true, 0x41, 0x03);
    t.ssrc = 0xdeadbeef;
    our_seq = t.seq;
    t.seq = 7;
    SEND(&t, 779, true, 0x41, 0x79);
    t.ssrc = ours;
    t.seq = our_seq;
    SEND(&t, 400, true, 0x41, 0x04);
    assert_int_equal(t.got.n, 4);
    assert_int_equal(stats(&t).ssrc_changes, 0);

    /* the camera switches SSRC (Uniview: every GOP), new seq and ts: the new
     * one's first AU, split over packets, is not lost */
    t.ssrc = 0x55667788;
    t.seq = 40000;
    SEND(&t, 90000, false, 0x67, 0x42);                     /* not a real SPS */
    SEND(&t, 90000, false, 0x7c, 0x85, 0x01);
    SEND(&t, 90000, true, 0x7c, 0x45, 0x02);
    assert_int_equal(t.got.n, 4);
    SEND(&t, 93000, true, 0x41, 0x05);
    assert_int_equal(t.got.n, 6);
    assert_int_equal(stats(&t).ssrc_changes, 1);
    assert_int_equal(t.got.ts[4], 90000);
    assert_int_equal(t.got.len[4], 4 + 2 + 4 + 3);
    assert_true(t.got.key[4]);
    assert_int_equal(t.got.ts[5], 93000);
    assert_int_equal(stats(&t).lost, 0);
    assert_int_equal(stats(&t).dropped_aus, 0);
    /* the old SSRC is now foreign */
    uint16_t new_seq = t.seq;
    t.ssrc = ours;
    SEND(&t, 500, true, 0x41, 0x06);
    assert_int_equal(t.got.n, 6);
    /* other payload types are ignored, even with our sequence numbers (Geovision) */
    t.ssrc = 0x55667788;
    t.seq = new_seq;
    t.pt = 97;
    SEND(&t, 96000, true, 0x41, 0x07);
    t.seq = new_seq;
    t.pt = 96;
    SEND(&t, 99000, true, 0x41, 0x08);
    assert_int_equal(t.got.n, 7);
    assert_int_equal(t.got.ts[6], 99000);
    tx_close(&t);
}

static void test_marker_on_parameter_sets(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H264, 0, NULL, NULL, 0);
    uint8_t exp[256];
    static const uint8_t aud[] = {0x09, 0xf0}, idr[] = {0x65, 0x11, 0x22}, p[] = {0x41, 0x33};
    /* marker set on SPS, PPS and AUD (Tapo, Reolink) */
    assert_int_equal(tx_send(&t, 3000, true, aud, sizeof(aud)), 0);
    assert_int_equal(tx_send(&t, 3000, true, h264_sps, sizeof(h264_sps)), 0);
    assert_int_equal(tx_send(&t, 3000, true, h264_pps, sizeof(h264_pps)), 0);
    assert_int_equal(t.got.n, 0);
    assert_int_equal(tx_send(&t, 3000, true, idr, sizeof(idr)), 0);
    assert_int_equal(t.got.n, 1);
    size_t el = lp(exp, 4, aud, sizeof(aud), h264_sps, sizeof(h264_sps), h264_pps, sizeof(h264_pps),
                   idr, sizeof(idr));
    assert_int_equal(t.got.len[0], el);
    assert_memory_equal(t.got.data[0], exp, el);
    assert_true(t.got.has_params[0]);

    /* parameter sets with the previous frame's timestamp (H264DVR), then
     * the IDR with its own: all in one AU, with the IDR's timestamp */
    assert_int_equal(tx_send(&t, 6000, true, p, sizeof(p)), 0);
    assert_int_equal(tx_send(&t, 6000, false, h264_sps, sizeof(h264_sps)), 0);
    assert_int_equal(tx_send(&t, 6000, false, h264_pps, sizeof(h264_pps)), 0);
    assert_int_equal(tx_send(&t, 9000, true, idr, sizeof(idr)), 0);
    assert_int_equal(t.got.n, 3);
    assert_int_equal(t.got.ts[1], 6000);
    assert_int_equal(t.got.len[1], 4 + sizeof(p));
    assert_int_equal(t.got.ts[2], 9000);
    el = lp(exp, 3, h264_sps, sizeof(h264_sps), h264_pps, sizeof(h264_pps), idr, sizeof(idr));
    assert_int_equal(t.got.len[2], el);
    assert_memory_equal(t.got.data[2], exp, el);
    assert_false(t.got.changed[2]);                         /* same sets, byte for byte */

    /* same, but the frame before had no marker: the SPS still opens a new AU */
    assert_int_equal(tx_send(&t, 12000, false, p, sizeof(p)), 0);
    assert_int_equal(tx_send(&t, 12000, false, h264_sps, sizeof(h264_sps)), 0);
    assert_int_equal(t.got.n, 4);
    assert_int_equal(tx_send(&t, 15000, true, idr, sizeof(idr)), 0);
    assert_int_equal(t.got.n, 5);
    el = lp(exp, 2, h264_sps, sizeof(h264_sps), idr, sizeof(idr));
    assert_memory_equal(t.got.data[4], exp, el);
    assert_int_equal(stats(&t).dropped_aus, 0);
    tx_close(&t);
}

static void test_params_change_and_sprops(void **state)
{
    (void)state;
    struct tx t;
    static const uint8_t idr[] = {0x65, 0x11, 0x22}, p[] = {0x41, 0x33};

    /* good sprops (with an Annex-B start code in one, as some cameras send) */
    uint8_t sc_sps[64] = {0, 0, 0, 1};
    memcpy(sc_sps + 4, h264_sps, sizeof(h264_sps));
    const uint8_t *sp[] = {sc_sps, h264_pps};
    size_t sl[] = {4 + sizeof(h264_sps), sizeof(h264_pps)};
    tx_open(&t, REEL_CODEC_H264, 0, sp, sl, 2);
    assert_int_equal(tx_send(&t, 1, true, idr, sizeof(idr)), 0);
    assert_true(t.got.has_params[0]);
    assert_true(t.got.changed[0]);
    assert_int_equal(t.got.w[0], 320);
    /* in-band, identical: no change */
    assert_int_equal(tx_send(&t, 2, false, h264_sps, sizeof(h264_sps)), 0);
    assert_int_equal(tx_send(&t, 2, true, idr, sizeof(idr)), 0);
    assert_false(t.got.changed[1]);
    /* a new SPS mid-stream: params rebuilt, flagged on that AU only */
    assert_int_equal(tx_send(&t, 3, false, big264_sps, sizeof(big264_sps)), 0);
    assert_int_equal(tx_send(&t, 3, false, big264_pps, sizeof(big264_pps)), 0);
    assert_int_equal(tx_send(&t, 3, true, idr, sizeof(idr)), 0);
    assert_int_equal(tx_send(&t, 4, true, p, sizeof(p)), 0);
    assert_int_equal(t.got.n, 4);
    assert_true(t.got.changed[2]);
    assert_int_equal(t.got.w[2], 640);
    assert_int_equal(t.got.h[2], 360);
    assert_false(t.got.changed[3]);
    assert_int_equal(t.got.w[3], 640);
    /* a garbage SPS: no params rather than wrong ones */
    static const uint8_t bad_sps[] = {0x67, 0x64, 0x00, 0x1e, 0x00, 0x00, 0x00};
    assert_int_equal(tx_send(&t, 5, false, bad_sps, sizeof(bad_sps)), 0);
    assert_int_equal(tx_send(&t, 5, true, idr, sizeof(idr)), 0);
    assert_true(t.got.changed[4]);
    assert_false(t.got.has_params[4]);
    tx_close(&t);

    /* garbage sprops are ignored: params only once they come in-band */
    static const uint8_t junk[] = {0x67, 0xff, 0xff};
    const uint8_t *jp[] = {junk, h264_pps, NULL};
    size_t jl[] = {sizeof(junk), sizeof(h264_pps), 3};
    tx_open(&t, REEL_CODEC_H264, 0, jp, jl, 3);
    assert_int_equal(tx_send(&t, 1, true, p, sizeof(p)), 0);
    assert_false(t.got.has_params[0]);
    assert_false(t.got.changed[0]);
    assert_int_equal(tx_send(&t, 2, false, h264_sps, sizeof(h264_sps)), 0);
    assert_int_equal(tx_send(&t, 2, true, idr, sizeof(idr)), 0);
    assert_false(t.got.has_params[1]);                      /* the junk PPS was dropped too */
    assert_int_equal(tx_send(&t, 3, false, h264_pps, sizeof(h264_pps)), 0);
    assert_int_equal(tx_send(&t, 3, true, idr, sizeof(idr)), 0);
    assert_true(t.got.has_params[2]);
    assert_true(t.got.changed[2]);
    tx_close(&t);
}

static void test_oversize_and_malformed(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H264, 1000, NULL, NULL, 0);
    uint8_t big[1500];
    fill(big, sizeof(big), 0x41, 4);
    send_fua(&t, 1, true, big, sizeof(big), 400);           /* over the cap: dropped */
    assert_int_equal(tx_send(&t, 2, true, big, 900), 0);    /* fits */
    assert_int_equal(tx_send(&t, 3, false, big, 600), 0);   /* two single NALs: over */
    assert_int_equal(tx_send(&t, 3, true, big, 600), 0);
    assert_int_equal(tx_send(&t, 4, true, big, 10), 0);
    assert_int_equal(t.got.n, 2);
    assert_int_equal(t.got.ts[0], 2);
    assert_int_equal(t.got.ts[1], 4);
    assert_int_equal(stats(&t).dropped_aus, 2);
    assert_int_equal(stats(&t).oversized_aus, 2);

    /* malformed STAP-A: a size past the end; the AU is dropped, the next comes */
    SEND(&t, 5, false, 0x41, 0x01);
    static const uint8_t stap[] = {0x78, 0x00, 0x02, 0x41, 0x02, 0x00, 0x09, 0x41};
    assert_int_equal(tx_send(&t, 5, true, stap, sizeof(stap)), -EBADMSG);
    assert_non_null(strstr(t.err.msg, "STAP-A"));
    static const uint8_t stap1[] = {0x78, 0x00};             /* truncated size field */
    assert_int_equal(tx_send(&t, 6, true, stap1, sizeof(stap1)), -EBADMSG);
    static const uint8_t stap0[] = {0x78, 0x00, 0x00, 0x41}; /* zero-size NAL */
    assert_int_equal(tx_send(&t, 7, true, stap0, sizeof(stap0)), -EBADMSG);
    static const uint8_t fu1[] = {0x7c};                     /* FU-A without header */
    assert_int_equal(tx_send(&t, 8, true, fu1, sizeof(fu1)), -EBADMSG);
    static const uint8_t mtap[] = {0x1a, 0x00, 0x00, 0x00};   /* MTAP16: unsupported */
    assert_int_equal(tx_send(&t, 9, true, mtap, sizeof(mtap)), -EBADMSG);
    SEND(&t, 10, true, 0x41, 0x0a);
    assert_int_equal(t.got.n, 3);
    assert_int_equal(t.got.ts[2], 10);
    /* malformed RTP header: error, nothing else changes */
    uint8_t hdr[12] = {0x90, 96, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44};
    assert_int_equal(reel_depack_push(t.d, hdr, sizeof(hdr), &t.err), -EBADMSG);
    assert_int_equal(reel_depack_push(t.d, hdr, 5, &t.err), -EBADMSG);
    SEND(&t, 11, true, 0x41, 0x0b);
    assert_int_equal(t.got.n, 4);
    /* empty payload: counted, harmless */
    assert_int_equal(tx_send(&t, 12, true, hdr, 0), 0);
    SEND(&t, 12, true, 0x41, 0x0c);
    assert_int_equal(t.got.n, 5);
    assert_int_equal(stats(&t).lost, 0);
    tx_close(&t);
}

static void test_callback_stop_and_flush(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H264, 0, NULL, NULL, 0);
    t.got.ret = 42;
    SEND(&t, 1, false, 0x41, 0x01);
    /* the AU at ts 1 ends: on_au says stop, push returns at once */
    assert_int_equal(tx_send(&t, 2, false, (const uint8_t[]){0x41, 0x02}, 2), 42);
    assert_int_equal(t.got.n, 1);
    t.got.ret = 0;
    SEND(&t, 3, false, 0x41, 0x03);                         /* still usable */
    assert_int_equal(reel_depack_flush(t.d), 0);
    assert_int_equal(t.got.n, 2);
    assert_int_equal(t.got.ts[1], 3);
    assert_int_equal(reel_depack_flush(t.d), 0);            /* nothing pending */
    assert_int_equal(t.got.n, 2);
    /* flush leaves an unfinished FU out */
    SEND(&t, 3, false, 0x7c, 0x81, 0x01);
    assert_int_equal(reel_depack_flush(t.d), 0);
    assert_int_equal(t.got.n, 2);
    assert_int_equal(stats(&t).dropped_aus, 1);
    tx_close(&t);

    struct reel_depack *d;
    struct reel_depack_cfg bad = {.codec = REEL_CODEC_H264};
    assert_int_equal(reel_depack_new(&d, &bad), -EINVAL);   /* no callback */
    bad.on_au = on_au;
    bad.codec = 9;
    assert_int_equal(reel_depack_new(&d, &bad), -EINVAL);
    assert_int_equal(reel_depack_new(&d, NULL), -EINVAL);
    reel_depack_free(NULL);
}

/* ---- H.265 ---- */

/* RTP over UDP (cfg.reorder_window): packets reordered within the window
 * are put back in order; a hole older than the window is a loss. */
#define RO_AUS 6
#define RO_PER_AU 3
static void ro_packets(uint8_t pk[][1100], size_t *len, uint16_t seq0, uint32_t ts0, const uint8_t *nal, size_t n)
{
    for (int a = 0; a < RO_AUS; a++)
        for (int k = 0; k < RO_PER_AU; k++) {
            size_t pos = 1 + (size_t)k * 1000, m = n - pos < 1000 ? n - pos : 1000;
            uint8_t pl[1002];
            pl[0] = (uint8_t)((nal[0] & 0xe0) | 28);
            pl[1] = (uint8_t)((k == 0 ? 0x80 : 0) | (k == RO_PER_AU - 1 ? 0x40 : 0) | (nal[0] & 0x1f));
            memcpy(pl + 2, nal + pos, m);
            int i = a * RO_PER_AU + k;
            len[i] = mkpkt(pk[i], 96, (uint16_t)(seq0 + i), ts0 + (uint32_t)(a + 1) * 3000, k == RO_PER_AU - 1,
                           0x11223344, pl, m + 2);
        }
}

static void test_reorder_window(void **state)
{
    (void)state;
    static uint8_t pk[RO_AUS * RO_PER_AU][1100];
    size_t len[RO_AUS * RO_PER_AU];
    uint8_t nal[2500];
    fill(nal, sizeof(nal), 0x41, 9);
    /* after the first (which sets where the sequence starts), packets swapped
     * in pairs or moved by up to 7 places (window 8), across the 16-bit wrap */
    static const int order[] = {0, 2, 3, 4, 5, 6, 7, 8, 1, 10, 9, 12, 11, 14, 13, 17, 16, 15};
    for (int with = 0; with < 2; with++) {
        struct tx t;
        memset(&t, 0, sizeof(t));
        struct reel_depack_cfg cfg = {.codec = REEL_CODEC_H264, .payload_type = 96,
                                      .reorder_window = with ? 8 : 0, .on_au = on_au, .opaque = &t.got};
        assert_int_equal(reel_depack_new(&t.d, &cfg), 0);
        ro_packets(pk, len, 65530, 0, nal, sizeof(nal));
        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
            assert_int_equal(reel_depack_push(t.d, pk[order[i]], len[order[i]], &t.err), 0);
            if (with && i == 3)
                assert_int_equal(reel_depack_push(t.d, pk[3], len[3], &t.err), 0);   /* duplicate, held */
        }
        if (!with) {                         /* without the window, each swap costs its AU */
            assert_int_equal(t.got.n, 2);      /* AUs 2 and 3 only */
            tx_close(&t);
            continue;
        }
        assert_int_equal(t.got.n, RO_AUS);
        for (int a = 0; a < RO_AUS; a++) {
            assert_int_equal(t.got.ts[a], (a + 1) * 3000);
            assert_int_equal(t.got.len[a], 4 + sizeof(nal));
            assert_memory_equal(t.got.data[a] + 4, nal, sizeof(nal));
        }
        struct reel_depack_stats s = stats(&t);
        assert_int_equal(s.lost, 0);
        assert_int_equal(s.dropped_aus, 0);
        assert_int_equal(s.reordered, 1);    /* the duplicate */

        /* a real loss: packet 0 never comes; the 8th packet after it gives up on it */
        got_free(&t.got);
        ro_packets(pk, len, 12, 100000, nal, sizeof(nal));     /* right after the first part */
        for (int i = 1; i <= 7; i++)
            assert_int_equal(reel_depack_push(t.d, pk[i], len[i], &t.err), 0);
        assert_int_equal(t.got.n, 0);        /* held: 0 may still come */
        assert_int_equal(reel_depack_push(t.d, pk[8], len[8], &t.err), 0);
        assert_int_equal(t.got.n, 2);        /* AUs 2 and 3 (1 lost its head) */
        assert_int_equal(t.got.ts[0], 100000 + 2 * 3000);
        assert_int_equal(reel_depack_push(t.d, pk[0], len[0], &t.err), 0);   /* too late */
        s = stats(&t);
        assert_int_equal(s.lost, 1);
        assert_int_equal(s.dropped_aus, 1);
        assert_int_equal(s.reordered, 2);
        /* held packets go through at the end of the stream (a hole is a loss) */
        assert_int_equal(reel_depack_push(t.d, pk[9], len[9], &t.err), 0);
        assert_int_equal(reel_depack_push(t.d, pk[11], len[11], &t.err), 0);   /* 10 missing */
        assert_int_equal(t.got.n, 2);
        assert_int_equal(reel_depack_flush(t.d), 0);
        assert_int_equal(t.got.n, 2);        /* AU 4 lost its middle */
        assert_int_equal(stats(&t).lost, 2);
        tx_close(&t);
    }
    struct reel_depack *d;
    struct reel_depack_cfg big = {.codec = REEL_CODEC_H264, .reorder_window = 1000, .on_au = on_au};
    assert_int_equal(reel_depack_new(&d, &big), 0);   /* capped at REEL_DEPACK_REORDER_MAX */
    reel_depack_free(d);
}

static void test_h265_modes(void **state)
{
    (void)state;
    struct tx t;
    tx_open(&t, REEL_CODEC_H265, 0, NULL, NULL, 0);
    uint8_t idr[2500], trail[300], exp[4000];
    fill(idr, sizeof(idr), 0x26, 5);                        /* IDR_W_RADL (19) */
    idr[1] = 0x01;
    fill(trail, sizeof(trail), 0x02, 6);                    /* TRAIL_R (1) */
    trail[1] = 0x01;

    /* AP with VPS, SPS, PPS; IDR in FUs */
    uint8_t ap[128];
    size_t o = 0;
    ap[o++] = 48 << 1;
    ap[o++] = 0x01;
    const uint8_t *ps[] = {h265_vps, h265_sps, h265_pps};
    size_t pl[] = {sizeof(h265_vps), sizeof(h265_sps), sizeof(h265_pps)};
    for (int i = 0; i < 3; i++) {
        reel_wr_be16(ap + o, (uint16_t)pl[i]);
        memcpy(ap + o + 2, ps[i], pl[i]);
        o += 2 + pl[i];
    }
    assert_int_equal(tx_send(&t, 100, false, ap, o), 0);
    send_fu265(&t, 100, true, idr, sizeof(idr), 1000);
    assert_int_equal(t.got.n, 1);
    size_t el = lp(exp, 4, h265_vps, sizeof(h265_vps), h265_sps, sizeof(h265_sps),
                   h265_pps, sizeof(h265_pps), idr, sizeof(idr));
    assert_int_equal(t.got.len[0], el);
    assert_memory_equal(t.got.data[0], exp, el);
    assert_true(t.got.key[0]);
    assert_true(t.got.has_params[0]);
    assert_int_equal(t.got.w[0], 320);
    assert_int_equal(t.got.h[0], 180);

    /* single NAL, not key */
    assert_int_equal(tx_send(&t, 200, true, trail, sizeof(trail)), 0);
    assert_int_equal(t.got.n, 2);
    assert_false(t.got.key[1]);
    assert_int_equal(t.got.len[1], 4 + sizeof(trail));

    /* marker on the parameter sets, sent singly: no early end */
    for (int i = 0; i < 3; i++)
        assert_int_equal(tx_send(&t, 300, true, ps[i], pl[i]), 0);
    assert_int_equal(t.got.n, 2);
    /* FU with S and E set, empty middle fragment, type change mid-FU */
    SEND(&t, 300, false, 0x62, 0x01, 0xd5, 0xaa);           /* CRA (21), S+E */
    SEND(&t, 300, false, 0x62, 0x01, 0x81, 0xbb);           /* TRAIL_R start */
    SEND(&t, 300, false, 0x62, 0x01, 0x01);                 /* empty */
    SEND(&t, 300, false, 0x62, 0x01, 0x02, 0xcc);           /* type 2 now: dropped */
    SEND(&t, 300, true, 0x62, 0x01, 0x42, 0xdd);
    assert_int_equal(t.got.n, 3);
    static const uint8_t cra[] = {0x2a, 0x01, 0xaa};
    el = lp(exp, 4, h265_vps, sizeof(h265_vps), h265_sps, sizeof(h265_sps),
            h265_pps, sizeof(h265_pps), cra, sizeof(cra));
    assert_int_equal(t.got.len[2], el);
    assert_memory_equal(t.got.data[2], exp, el);
    assert_true(t.got.key[2]);
    assert_false(t.got.changed[2]);
    assert_int_equal(stats(&t).oddities, 2);

    /* malformed: AP with a size past the end, FU without header, PACI */
    static const uint8_t bad_ap[] = {0x60, 0x01, 0x00, 0x05, 0x02, 0x01};
    assert_int_equal(tx_send(&t, 400, true, bad_ap, sizeof(bad_ap)), -EBADMSG);
    assert_non_null(strstr(t.err.msg, "AP"));
    static const uint8_t bad_fu[] = {0x62, 0x01};
    assert_int_equal(tx_send(&t, 500, true, bad_fu, sizeof(bad_fu)), -EBADMSG);
    static const uint8_t paci[] = {0x64, 0x01, 0x00, 0x00};
    assert_int_equal(tx_send(&t, 600, true, paci, sizeof(paci)), -EBADMSG);
    static const uint8_t one[] = {0x02};
    assert_int_equal(tx_send(&t, 700, true, one, sizeof(one)), -EBADMSG);
    assert_int_equal(tx_send(&t, 800, true, trail, sizeof(trail)), 0);
    assert_int_equal(t.got.n, 4);
    assert_int_equal(t.got.ts[3], 800);
    tx_close(&t);

    /* sprops without a VPS are not enough for H.265 */
    const uint8_t *sp[] = {h265_sps, h265_pps};
    size_t sl[] = {sizeof(h265_sps), sizeof(h265_pps)};
    tx_open(&t, REEL_CODEC_H265, 0, sp, sl, 2);
    assert_int_equal(tx_send(&t, 1, true, idr, sizeof(idr)), 0);
    assert_false(t.got.has_params[0]);
    tx_close(&t);
    const uint8_t *sp3[] = {h265_vps, h265_sps, h265_pps};
    size_t sl3[] = {sizeof(h265_vps), sizeof(h265_sps), sizeof(h265_pps)};
    tx_open(&t, REEL_CODEC_H265, 0, sp3, sl3, 3);
    assert_int_equal(tx_send(&t, 1, true, idr, sizeof(idr)), 0);
    assert_true(t.got.has_params[0]);
    assert_true(t.got.changed[0]);
    tx_close(&t);
}

/* ---- real clips ---- */

static uint8_t *read_file(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", REEL_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[65536];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(*len > 0 && *len < sizeof(buf));
    return buf;
}

/* Groups the clip's NAL units into AUs (a new AU at a parameter set, AUD or
 * prefix SEI after a picture, or at a slice whose first_mb_in_slice /
 * first_slice_segment_in_pic_flag says it starts a picture), packetises them
 * (small NALs single, big ones FU, the parameter sets of H.264 in a
 * STAP-A) and checks that exactly those AUs come back. */
static void clip_round_trip(enum reel_codec codec, const char *name)
{
    size_t len;
    const uint8_t *buf = read_file(name, &len);
    struct reel_nal nals[64];
    int n = reel_annexb_split(buf, len, nals, 64);
    assert_true(n > 10);

    struct tx t;
    tx_open(&t, codec, 0, NULL, NULL, 0);
    t.seq = 65530;
    static uint8_t exp[MAX_GOT][20000];
    size_t exp_len[MAX_GOT] = {0};
    bool exp_key[MAX_GOT] = {0};
    int aus = -1;
    bool have_vcl = false;
    for (int i = 0; i < n; i++) {
        const uint8_t *p = nals[i].p;
        size_t l = nals[i].len;
        unsigned type = codec == REEL_CODEC_H264 ? p[0] & 0x1f : (p[0] >> 1) & 0x3f;
        bool vcl = codec == REEL_CODEC_H264 ? type >= 1 && type <= 5 : type <= 31;
        bool first = codec == REEL_CODEC_H264 ? (p[1] & 0x80) : (p[2] & 0x80);
        if (aus < 0 || (have_vcl && (!vcl || first))) {
            aus++;
            have_vcl = false;
        }
        have_vcl |= vcl;
        assert_true(exp_len[aus] + 4 + l <= sizeof(exp[0]));
        reel_wr_be32(exp[aus] + exp_len[aus], (uint32_t)l);
        memcpy(exp[aus] + exp_len[aus] + 4, p, l);
        exp_len[aus] += 4 + l;
        exp_key[aus] |= codec == REEL_CODEC_H264 ? type == 5 : (type >= 16 && type <= 23);
    }
    aus++;
    assert_int_equal(aus, 10);

    for (int a = 0; a < aus; a++) {
        uint32_t ts = 0xffffe000u + (uint32_t)a * 9000;
        size_t pos = 0;
        while (pos < exp_len[a]) {
            size_t l = reel_rd_be32(exp[a] + pos);
            const uint8_t *p = exp[a] + pos + 4;
            bool last = pos + 4 + l == exp_len[a];
            if (codec == REEL_CODEC_H264 && (p[0] & 0x1f) == 7) {
                /* SPS + PPS in one STAP-A */
                size_t l2 = reel_rd_be32(exp[a] + pos + 4 + l);
                uint8_t stap[256];
                stap[0] = 0x78;
                reel_wr_be16(stap + 1, (uint16_t)l);
                memcpy(stap + 3, p, l);
                reel_wr_be16(stap + 3 + l, (uint16_t)l2);
                memcpy(stap + 5 + l, p + l + 4, l2);
                assert_int_equal(tx_send(&t, ts, false, stap, 5 + l + l2), 0);
                pos += 8 + l + l2;
                continue;
            }
            if (l <= 1200)
                assert_int_equal(tx_send(&t, ts, last, p, l), 0);
            else if (codec == REEL_CODEC_H264)
                send_fua(&t, ts, last, p, l, 1200);
            else
                send_fu265(&t, ts, last, p, l, 1200);
            pos += 4 + l;
        }
    }
    assert_int_equal(t.got.n, aus);
    for (int a = 0; a < aus; a++) {
        assert_int_equal(t.got.len[a], exp_len[a]);
        assert_memory_equal(t.got.data[a], exp[a], exp_len[a]);
        assert_int_equal(t.got.key[a], exp_key[a]);
        assert_int_equal(t.got.ts[a], INT64_C(0xffffe000) + a * 9000);
        assert_true(t.got.has_params[a]);
        assert_int_equal(t.got.changed[a], a == 0);
        assert_int_equal(t.got.w[a], 320);
        assert_int_equal(t.got.h[a], 180);
        uint8_t d1[32], d2[32];
        assert_int_equal(reel_vcl_digest(codec, t.got.data[a], t.got.len[a], d1), 0);
        assert_int_equal(reel_vcl_digest(codec, exp[a], exp_len[a], d2), 0);
        assert_memory_equal(d1, d2, 32);
    }
    assert_true(exp_key[0] && exp_key[5]);
    struct reel_depack_stats s = stats(&t);
    assert_int_equal(s.lost, 0);
    assert_int_equal(s.dropped_aus, 0);
    assert_int_equal(s.oddities, 0);
    assert_int_equal(s.reordered, 0);
    tx_close(&t);
}

static void test_clip_h264(void **state)
{
    (void)state;
    clip_round_trip(REEL_CODEC_H264, "clip320x180.264");
}

static void test_clip_h265(void **state)
{
    (void)state;
    clip_round_trip(REEL_CODEC_H265, "clip320x180.265");
}

/* Random garbage and random mutations of valid packets: no crash, no leak,
 * the depacketiser stays usable. */
static void test_fuzz_smoke(void **state)
{
    (void)state;
    for (int codec = 1; codec <= 2; codec++) {
        struct tx t;
        tx_open(&t, (enum reel_codec)codec, 4096, NULL, NULL, 0);
        unsigned seed = 99;
        uint8_t pkt[600];
        for (int i = 0; i < 50000; i++) {
            seed = seed * 1103515245u + 12345u;
            size_t len = 12 + (seed >> 16) % 300;
            for (size_t k = 0; k < len; k++) {
                seed = seed * 1103515245u + 12345u;
                pkt[k] = (uint8_t)(seed >> 16);
            }
            pkt[0] = (uint8_t)(0x80 | (pkt[0] & 0x3f & (i % 3 ? 0 : 0x3f)));
            pkt[1] = (uint8_t)(96 | (pkt[1] & 0x80));
            pkt[2] = (uint8_t)(i >> 8);
            pkt[3] = (uint8_t)i;
            memcpy(pkt + 8, (i % 50) ? "\x11\x22\x33\x44" : "\x55\x66\x77\x88", 4);
            pkt[12] = (uint8_t)((pkt[12] & 0x9f) | (i % 4 == 0 ? 0x1c : i % 4 == 1 ? 0x18 : 0));
            (void)reel_depack_push(t.d, pkt, len, &t.err);
            got_free(&t.got);
        }
        (void)reel_depack_flush(t.d);
        tx_close(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtp_parse),
        cmocka_unit_test(test_h264_single_stap_fua),
        cmocka_unit_test(test_h264_fu_oddities),
        cmocka_unit_test(test_h264_annexb_in_payload),
        cmocka_unit_test(test_seq_wrap_and_loss),
        cmocka_unit_test(test_ts_wrap),
        cmocka_unit_test(test_ssrc_change),
        cmocka_unit_test(test_marker_on_parameter_sets),
        cmocka_unit_test(test_params_change_and_sprops),
        cmocka_unit_test(test_oversize_and_malformed),
        cmocka_unit_test(test_callback_stop_and_flush),
        cmocka_unit_test(test_reorder_window),
        cmocka_unit_test(test_h265_modes),
        cmocka_unit_test(test_clip_h264),
        cmocka_unit_test(test_clip_h265),
        cmocka_unit_test(test_fuzz_smoke),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unit tests for the simulator's pieces: the Annex-B splitter, access-unit
 * grouping and RTP packetiser (sim/clip.c) and the RTSP request parser,
 * URI/Transport interpretation and Basic/Digest checks (sim/rtspreq.c),
 * including malformed and hostile input, and the pure parts of two faults
 * (sim/fault.c): the reorder permutation and the oversized SEI NAL unit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/clip.h"
#include "sim/fault.h"
#include "sim/rtspreq.h"

/* ---- helpers ---- */

struct bld {
    uint8_t *p;
    size_t len;
};

static void put(struct bld *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->len + n);
    assert_non_null(b->p);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* Appends a start code (4 bytes if long) and a NAL: hdr bytes then n filler bytes. */
static void nal(struct bld *b, bool long_sc, const uint8_t *hdr, size_t hn, size_t n)
{
    static const uint8_t sc[] = {0, 0, 0, 1};
    put(b, long_sc ? sc : sc + 1, long_sc ? 4 : 3);
    put(b, hdr, hn);
    for (size_t i = 0; i < n; i++) {
        uint8_t x = (uint8_t)(0x10 + i % 200);   /* never forms a start code */
        put(b, &x, 1);
    }
}

struct seen {
    size_t n;
    const uint8_t *p[16];
    size_t len[16];
};

static void on_nal(void *ctx, const uint8_t *p, size_t n)
{
    struct seen *s = ctx;
    if (s->n < 16) {
        s->p[s->n] = p;
        s->len[s->n] = n;
    }
    s->n++;
}

/* Reassembles the NAL units of one AU from its packets and compares. */
static void check_au_roundtrip(const struct reel_sim_clip *c, size_t au, const uint8_t *const *nals,
                               const size_t *lens, size_t nn)
{
    const struct reel_sim_au *a = &c->aus[au];
    size_t k = a->first_pkt, end = a->first_pkt + a->npkt;
    for (size_t i = 0; i < nn; i++) {
        assert_true(k < end);
        const struct reel_sim_pkt *p = &c->pkts[k];
        if (p->pre_len == 0) {
            assert_int_equal(p->len, lens[i]);
            assert_memory_equal(p->data, nals[i], lens[i]);
            assert_int_equal(p->marker, k + 1 == end);
            k++;
            continue;
        }
        uint8_t *re = malloc(lens[i]);
        size_t rl = 0;
        bool h264 = c->codec == REEL_SIM_H264;
        uint8_t fuh = h264 ? p->pre[1] : p->pre[2];
        assert_true(fuh & 0x80);                           /* S bit */
        if (h264) {
            assert_int_equal(p->pre[0] & 0x1f, 28);
            re[0] = (uint8_t)((p->pre[0] & 0xe0) | (fuh & 0x1f));
            rl = 1;
        } else {
            assert_int_equal((p->pre[0] >> 1) & 0x3f, 49);
            re[0] = (uint8_t)((p->pre[0] & 0x81) | ((fuh & 0x3f) << 1));
            re[1] = p->pre[1];
            rl = 2;
        }
        for (;;) {
            p = &c->pkts[k];
            assert_true(p->pre_len + p->len <= REEL_SIM_MAX_PAYLOAD);
            assert_true(rl + p->len <= lens[i]);
            memcpy(re + rl, p->data, p->len);
            rl += p->len;
            uint8_t h = h264 ? p->pre[1] : p->pre[2];
            assert_int_equal(p->marker, k + 1 == end && (h & 0x40));
            k++;
            if (h & 0x40)
                break;
            assert_false(p->marker);
            assert_true(k < end);
            assert_false((h264 ? c->pkts[k].pre[1] : c->pkts[k].pre[2]) & 0x80);
        }
        assert_int_equal(rl, lens[i]);
        assert_memory_equal(re, nals[i], lens[i]);
        free(re);
    }
    assert_int_equal(k, end);
}

/* ---- Annex B ---- */

static void test_split(void **st)
{
    (void)st;
    struct bld b = {0};
    put(&b, "\x55\x66", 2);                              /* junk before the first start code */
    nal(&b, true, (const uint8_t *)"\x67", 1, 5);
    put(&b, "\x00\x00", 2);                              /* trailing_zero_8bits */
    nal(&b, false, (const uint8_t *)"\x68", 1, 2);
    put(&b, "\x00\x00\x01", 3);                          /* empty NAL */
    nal(&b, false, (const uint8_t *)"\x65", 1, 0);
    struct seen s = {0};
    assert_int_equal(reel_sim_annexb_split(b.p, b.len, on_nal, &s), 3);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.len[0], 6);
    assert_int_equal(s.p[0][0], 0x67);
    assert_int_equal(s.len[1], 3);
    assert_int_equal(s.len[2], 1);
    assert_int_equal(s.p[2][0], 0x65);

    struct seen z = {0};
    assert_int_equal(reel_sim_annexb_split(b.p, 0, on_nal, &z), 0);
    assert_int_equal(reel_sim_annexb_split((const uint8_t *)"\x00\x00", 2, on_nal, &z), 0);
    assert_int_equal(reel_sim_annexb_split((const uint8_t *)"\x00\x00\x01", 3, on_nal, &z), 0);
    assert_int_equal(reel_sim_annexb_split((const uint8_t *)"\x00\x00\x01\x00\x00", 5, on_nal, &z), 0);
    free(b.p);
}

static void test_h264_clip(void **st)
{
    (void)st;
    struct bld b = {0};
    static const uint8_t sps[] = {0x67, 0x64, 0x00, 0x1f, 0xac};
    static const uint8_t pps[] = {0x68, 0xee, 0x3c, 0x80};
    nal(&b, true, sps, sizeof(sps), 0);
    nal(&b, true, pps, sizeof(pps), 0);
    nal(&b, true, (const uint8_t *)"\x65\x88", 2, 3000);      /* IDR, first_mb 0, needs FU-A */
    nal(&b, true, (const uint8_t *)"\x41\x9a", 2, 100);       /* P, first_mb 0: new AU */
    nal(&b, true, (const uint8_t *)"\x41\x1a", 2, 100);       /* second slice of the same picture */
    nal(&b, true, (const uint8_t *)"\x06\x05", 2, 10);        /* SEI after VCL: new AU */
    nal(&b, true, (const uint8_t *)"\x41\x9a", 2, 1397);      /* exactly 1400 bytes: single NAL */
    nal(&b, true, (const uint8_t *)"\x41\x9a", 2, 1399);      /* 1401 bytes: two FU-A */
    size_t len = b.len;
    uint8_t *copy = malloc(len);
    memcpy(copy, b.p, len);

    struct reel_sim_clip c;
    struct reel_err err;
    assert_int_equal(reel_sim_clip_parse(b.p, b.len, REEL_SIM_H264, &c, &err), 0);
    assert_int_equal(c.naus, 4);
    assert_true(c.aus[0].key);
    assert_false(c.aus[1].key);
    assert_int_equal(c.sps_len, sizeof(sps));
    assert_memory_equal(c.sps, sps, sizeof(sps));
    assert_memory_equal(c.pps, pps, sizeof(pps));
    assert_int_equal(c.aus[0].bytes, 5 + 4 + 3002);
    /* AU 0: SPS, PPS (single), IDR of 3002 bytes in ceil(3001/1398) = 3 FU-A. */
    assert_int_equal(c.aus[0].npkt, 5);
    assert_int_equal(c.aus[1].npkt, 2);
    assert_int_equal(c.aus[2].npkt, 2);     /* SEI + 1400-byte slice */
    assert_int_equal(c.aus[3].npkt, 2);

    struct seen s = {0};
    reel_sim_annexb_split(copy, len, on_nal, &s);
    assert_int_equal(s.n, 8);
    check_au_roundtrip(&c, 0, s.p, s.len, 3);
    check_au_roundtrip(&c, 1, s.p + 3, s.len + 3, 2);
    check_au_roundtrip(&c, 2, s.p + 5, s.len + 5, 2);
    check_au_roundtrip(&c, 3, s.p + 7, s.len + 7, 1);

    char fmtp[1024];
    assert_true(reel_sim_clip_fmtp(&c, fmtp, sizeof(fmtp)) > 0);
    assert_non_null(strstr(fmtp, "packetization-mode=1"));
    assert_non_null(strstr(fmtp, "profile-level-id=64001f"));
    assert_non_null(strstr(fmtp, "sprop-parameter-sets=Z2QAH6w=,aO48gA=="));
    assert_int_equal(reel_sim_clip_fmtp(&c, fmtp, 20), -EMSGSIZE);
    reel_sim_clip_free(&c);
    reel_sim_clip_free(&c);     /* zeroed: harmless */
    reel_sim_clip_free(NULL);
    free(copy);
}

static void test_h265_clip(void **st)
{
    (void)st;
    struct bld b = {0};
    nal(&b, true, (const uint8_t *)"\x40\x01\x0c\x01", 4, 10);  /* VPS */
    nal(&b, true, (const uint8_t *)"\x42\x01\x01\x01", 4, 20);  /* SPS */
    nal(&b, true, (const uint8_t *)"\x44\x01\xc1\x72", 4, 2);   /* PPS */
    nal(&b, true, (const uint8_t *)"\x26\x01\xaf", 3, 5000);    /* IDR_W_RADL, first slice */
    nal(&b, true, (const uint8_t *)"\x50\x01\x01", 3, 3);       /* suffix SEI stays in the AU */
    nal(&b, true, (const uint8_t *)"\x02\x01\xd0", 3, 50);      /* TRAIL_R, first slice: new AU */
    nal(&b, true, (const uint8_t *)"\x02\x01\x50", 3, 50);      /* same picture */
    size_t len = b.len;
    uint8_t *copy = malloc(len);
    memcpy(copy, b.p, len);
    struct reel_sim_clip c;
    assert_int_equal(reel_sim_clip_parse(b.p, b.len, REEL_SIM_H265, &c, NULL), 0);
    assert_int_equal(c.naus, 2);
    assert_true(c.aus[0].key);
    assert_false(c.aus[1].key);
    assert_int_equal(c.vps_len, 14);
    struct seen s = {0};
    reel_sim_annexb_split(copy, len, on_nal, &s);
    check_au_roundtrip(&c, 0, s.p, s.len, 5);
    check_au_roundtrip(&c, 1, s.p + 5, s.len + 5, 2);
    /* 5003-byte IDR: (5003-2)/1397 -> 4 FUs */
    assert_int_equal(c.aus[0].npkt, 3 + 4 + 1);
    char fmtp[1024];
    assert_true(reel_sim_clip_fmtp(&c, fmtp, sizeof(fmtp)) > 0);
    assert_non_null(strstr(fmtp, "sprop-vps="));
    assert_non_null(strstr(fmtp, ";sprop-sps="));
    assert_non_null(strstr(fmtp, ";sprop-pps="));
    reel_sim_clip_free(&c);
    free(copy);
}

static int parse_copy(const void *p, size_t n, enum reel_sim_codec codec)
{
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, p, n);
    struct reel_sim_clip c = {0};
    struct reel_err err = {{0}};
    int r = reel_sim_clip_parse(buf, n, codec, &c, &err);   /* takes buf either way */
    if (r == 0)
        reel_sim_clip_free(&c);
    else
        assert_true(err.msg[0] != 0);
    return r;
}

static void test_clip_bad(void **st)
{
    (void)st;
    struct reel_sim_clip untouched = {.naus = 77};
    assert_int_equal(parse_copy("", 0, REEL_SIM_H264), -EINVAL);
    assert_int_equal(parse_copy("garbage without start codes", 27, REEL_SIM_H264), -EINVAL);
    /* Parameter sets but no picture. */
    struct bld b = {0};
    nal(&b, true, (const uint8_t *)"\x67\x64\x00\x1f", 4, 2);
    nal(&b, true, (const uint8_t *)"\x68\xee\x3c\x80", 4, 0);
    assert_int_equal(parse_copy(b.p, b.len, REEL_SIM_H264), -EINVAL);
    /* A picture but no PPS. */
    struct bld b2 = {0};
    nal(&b2, true, (const uint8_t *)"\x67\x64\x00\x1f", 4, 2);
    nal(&b2, true, (const uint8_t *)"\x65\x88", 2, 10);
    assert_int_equal(parse_copy(b2.p, b2.len, REEL_SIM_H264), -EINVAL);
    /* Oversized SPS. */
    struct bld b3 = {0};
    nal(&b3, true, (const uint8_t *)"\x67\x64\x00\x1f", 4, REEL_SIM_MAX_PSET);
    nal(&b3, true, (const uint8_t *)"\x68\xee\x3c\x80", 4, 0);
    nal(&b3, true, (const uint8_t *)"\x65\x88", 2, 10);
    assert_int_equal(parse_copy(b3.p, b3.len, REEL_SIM_H264), -EINVAL);
    /* Truncated NAL units (1 byte VCL; H.265 header cut) must not be read past. */
    struct bld b4 = {0};
    nal(&b4, true, (const uint8_t *)"\x67\x64\x00\x1f", 4, 0);
    nal(&b4, true, (const uint8_t *)"\x68\xee\x3c\x80", 4, 0);
    nal(&b4, true, (const uint8_t *)"\x65", 1, 0);
    nal(&b4, true, (const uint8_t *)"\x41", 1, 0);
    assert_int_equal(parse_copy(b4.p, b4.len, REEL_SIM_H264), 0);
    assert_int_equal(parse_copy(b4.p, b4.len, REEL_SIM_H265), -EINVAL);   /* no VPS/SPS/PPS for H.265 */
    /* Missing file. */
    struct reel_err err;
    assert_int_equal(reel_sim_clip_load("/nonexistent/clip.264", REEL_SIM_H264, &untouched, &err), -ENOENT);
    assert_int_equal(untouched.naus, 77);
    free(b.p);
    free(b2.p);
    free(b3.p);
    free(b4.p);
}

/* ---- RTSP requests ---- */

static int parse_str(const char *s, struct reel_sim_req *r, size_t *used)
{
    struct reel_err err;
    return reel_sim_req_parse((const uint8_t *)s, strlen(s), r, used, &err);
}

static void test_req_ok(void **st)
{
    (void)st;
    const char *m = "SETUP rtsp://127.0.0.1:8554/cam/3/trackID=0 RTSP/1.0\r\n"
                    "CSeq: 7\r\n"
                    "transport:  RTP/AVP/TCP;unicast;interleaved=0-1 \r\n"
                    "Session: abcdef;timeout=60\r\n"
                    "Authorization: Basic YTpi\r\n"
                    "User-Agent: test\r\n\r\n"
                    "OPTIONS";
    struct reel_sim_req r;
    size_t used = 0;
    assert_int_equal(parse_str(m, &r, &used), 1);
    assert_int_equal(used, strlen(m) - 7);
    assert_int_equal(r.cseq, 7);
    assert_int_equal(r.method.n, 5);
    assert_memory_equal(r.method.p, "SETUP", 5);
    assert_int_equal(r.uri.n, strlen("rtsp://127.0.0.1:8554/cam/3/trackID=0"));
    assert_int_equal(r.transport.n, strlen("RTP/AVP/TCP;unicast;interleaved=0-1"));
    assert_int_equal(r.session.n, 6);
    assert_memory_equal(r.session.p, "abcdef", 6);
    assert_int_equal(r.authorization.n, 10);

    /* Every strict prefix needs more bytes. */
    size_t whole = used;
    for (size_t n = 0; n < whole; n++) {
        struct reel_err err;
        assert_int_equal(reel_sim_req_parse((const uint8_t *)m, n, &r, &used, &err), 0);
    }

    /* Body: waits for it, then consumes it. */
    const char *wb = "SET_PARAMETER rtsp://h/cam/0 RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nab";
    assert_int_equal(parse_str(wb, &r, &used), 0);
    const char *fb = "SET_PARAMETER rtsp://h/cam/0 RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nabcde";
    assert_int_equal(parse_str(fb, &r, &used), 1);
    assert_int_equal(used, strlen(fb));
    assert_false(r.response);

    /* A client's reply to something it took for a server request: parsed so that it can be skipped. */
    const char *rs = "RTSP/1.0 501 Not Implemented\r\nCSeq: 0\r\n\r\n";
    assert_int_equal(parse_str(rs, &r, &used), 1);
    assert_true(r.response);
    assert_int_equal(used, strlen(rs));
    assert_memory_equal(r.method.p, "501", 3);
    assert_int_equal(parse_str("RTSP/1.0 200\r\n\r\n", &r, &used), 1);
    assert_true(r.response);
    assert_true(parse_str("RTSP/1.0 20x OK\r\n\r\n", &r, &used) < 0);
    assert_true(parse_str("RTSP/1.0 2000 OK\r\n\r\n", &r, &used) < 0);
    assert_true(parse_str("RTSP/1.1 200 OK\r\n\r\n", &r, &used) < 0);
    assert_int_equal(parse_str("RTSP", &r, &used), 0);
}

static void test_req_bad(void **st)
{
    (void)st;
    struct reel_sim_req r;
    size_t used = 12345;
    static const char *const bad[] = {
        "\x01\x02\x03garbage",
        "options rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "OPTIONS rtsp://h/ RTSP/2.0\r\nCSeq: 1\r\n\r\n",
        "OPTIONS rtsp://h/ RTSP/1.0\r\n\r\n",                        /* no CSeq */
        "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: x\r\n\r\n",
        "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: -1\r\n\r\n",
        "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 99999999999999\r\n\r\n",
        "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq 1\r\n\r\n",              /* no colon */
        "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nBad Name: 1\r\n\r\n",
        "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\n continued\r\n\r\n",
        "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1\nX: y\r\n\r\n",        /* bare LF */
        "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 4097\r\n\r\n",
        "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -3\r\n\r\n",
        "OPTIONS  RTSP/1.0\r\nCSeq: 1\r\n\r\n",                       /* empty URI */
        "OPTIONS\r\nCSeq: 1\r\n\r\n",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA rtsp://h/ RTSP/1.0\r\n\r\n",
        "OPTIONS rtsp://h/\x7f RTSP/1.0\r\nCSeq: 1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct reel_err err = {{0}};
        int rc = reel_sim_req_parse((const uint8_t *)bad[i], strlen(bad[i]), &r, &used, &err);
        if (rc >= 0)
            fail_msg("case %zu accepted: %s", i, bad[i]);
        assert_true(err.msg[0]);
        assert_int_equal(used, 12345);
    }
    /* A NUL in the head. */
    static const char nul[] = "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nX: a\0b\r\n\r\n";
    struct reel_err err;
    assert_true(reel_sim_req_parse((const uint8_t *)nul, sizeof(nul) - 1, &r, &used, &err) < 0);

    /* Oversized head: 8 KiB without a blank line. */
    size_t n = REEL_SIM_REQ_MAX_HEAD + 10;
    char *big = malloc(n);
    memcpy(big, "OPTIONS rtsp://h/ RTSP/1.0\r\nX: ", 31);
    memset(big + 31, 'a', n - 31);
    assert_int_equal(reel_sim_req_parse((const uint8_t *)big, n, &r, &used, &err), -EMSGSIZE);
    assert_int_equal(reel_sim_req_parse((const uint8_t *)big, 4000, &r, &used, &err), 0);
    free(big);

    /* Too many headers. */
    char many[4096];
    size_t k = (size_t)snprintf(many, sizeof(many), "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\n");
    for (int i = 0; i < REEL_SIM_REQ_MAX_HEADERS + 1; i++)
        k += (size_t)snprintf(many + k, sizeof(many) - k, "X: %d\r\n", i);
    k += (size_t)snprintf(many + k, sizeof(many) - k, "\r\n");
    assert_int_equal(reel_sim_req_parse((const uint8_t *)many, k, &r, &used, &err), -EPROTO);
}

static struct reel_sim_str S(const char *s) { return (struct reel_sim_str){s, strlen(s)}; }

static void test_uri(void **st)
{
    (void)st;
    unsigned cam = 99;
    bool track = true;
    assert_int_equal(reel_sim_uri_camera(S("rtsp://127.0.0.1:8554/cam/0"), 4, &cam, &track), 0);
    assert_int_equal(cam, 0);
    assert_false(track);
    assert_int_equal(reel_sim_uri_camera(S("rtsp://h/cam/3/"), 4, &cam, &track), 0);
    assert_int_equal(cam, 3);
    assert_int_equal(reel_sim_uri_camera(S("RTSP://u:p@h:1/cam/12/trackID=0"), 13, &cam, &track), 0);
    assert_int_equal(cam, 12);
    assert_true(track);
    cam = 99;
    static const char *const bad[] = {
        "rtsp://h/cam/4", "rtsp://h/cam/", "rtsp://h/cam/01", "rtsp://h/cam/1x", "rtsp://h/cam/1/trackID=1",
        "rtsp://h/cam/-1", "http://h/cam/1", "rtsp://h", "rtsp:///cam/1", "rtsp://h/cam/1//", "rtsp://h/cam/99999999999999999999",
        "rtsp://h/camera/1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (reel_sim_uri_camera(S(bad[i]), 4, &cam, &track) != -EINVAL)
            fail_msg("accepted %s", bad[i]);
    assert_int_equal(cam, 99);
}

static void test_transport(void **st)
{
    (void)st;
    struct reel_sim_transport t;
    assert_int_equal(reel_sim_transport_parse(S("RTP/AVP/TCP;unicast;interleaved=2-3"), &t), 0);
    assert_true(t.tcp);
    assert_int_equal(t.ch[0], 2);
    assert_int_equal(t.ch[1], 3);
    assert_int_equal(reel_sim_transport_parse(S("RTP/AVP/TCP;unicast"), &t), 0);
    assert_int_equal(t.ch[0], 0);
    assert_int_equal(reel_sim_transport_parse(S("RTP/AVP;unicast;client_port=5000-5001"), &t), 0);
    assert_false(t.tcp);
    assert_int_equal(t.port[0], 5000);
    assert_int_equal(t.port[1], 5001);
    assert_int_equal(reel_sim_transport_parse(S("RTP/AVP;multicast,RTP/AVP/UDP;unicast;client_port=7000"), &t), 0);
    assert_int_equal(t.port[0], 7000);
    assert_int_equal(t.port[1], 7001);
    static const char *const bad[] = {
        "", "RTP/SAVP;unicast;client_port=1-2", "RTP/AVP;unicast", "RTP/AVP;client_port=0-1",
        "RTP/AVP;client_port=70000-70001", "RTP/AVP/TCP;interleaved=256-257", "RTP/AVP/TCP;interleaved=x",
        "RTP/AVP;client_port=65535",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (reel_sim_transport_parse(S(bad[i]), &t) != -EINVAL)
            fail_msg("accepted %s", bad[i]);
    assert_int_equal(reel_sim_transport_parse((struct reel_sim_str){NULL, 0}, &t), -EINVAL);
}

static void test_auth(void **st)
{
    (void)st;
    struct reel_sim_str none = {NULL, 0};
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_NONE, none, S("DESCRIBE"), S("u"), NULL, NULL, "r", "n"), 1);
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_BASIC, none, S("DESCRIBE"), S("u"), "a", "b", "r", "n"), 0);
    /* "admin:s3cret" */
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_BASIC, S("Basic YWRtaW46czNjcmV0"), S("DESCRIBE"), S("u"),
                                         "admin", "s3cret", "r", "n"), 1);
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_BASIC, S("Basic YWRtaW46czNjcmV1"), S("DESCRIBE"), S("u"),
                                         "admin", "s3cret", "r", "n"), 0);
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_BASIC, S("Basic !!!!"), S("DESCRIBE"), S("u"), "admin",
                                         "s3cret", "r", "n"), 0);
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_DIGEST, S("Basic YWRtaW46czNjcmV0"), S("DESCRIBE"), S("u"),
                                         "admin", "s3cret", "r", "n"), 0);

    /* RFC 2617 section 3.5 example (qop=auth). */
    const char *rfc = "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, "
                      "nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", "
                      "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_DIGEST, S(rfc), S("GET"), S("/dir/index.html"), "Mufasa",
                                         "Circle Of Life", "testrealm@host.com",
                                         "dcd98b7102dd2f0e8b11d0f600bfb0c093"), 1);
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_DIGEST, S(rfc), S("GET"), S("/dir/index.html"), "Mufasa",
                                         "Circle of Life", "testrealm@host.com",
                                         "dcd98b7102dd2f0e8b11d0f600bfb0c093"), 0);
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_DIGEST, S(rfc), S("GET"), S("/dir/other.html"), "Mufasa",
                                         "Circle Of Life", "testrealm@host.com",
                                         "dcd98b7102dd2f0e8b11d0f600bfb0c093"), 0);
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_DIGEST, S(rfc), S("GET"), S("/dir/index.html"), "Mufasa",
                                         "Circle Of Life", "testrealm@host.com", "othernonce"), 0);

    /* Without qop: response = MD5(HA1:nonce:HA2), computed here independently. */
    char ha1[33], ha2[33], resp[33], hdr[512];
    struct reel_sim_str p1[] = {S("admin:reel-sim:s3cret")}, p2[] = {S("DESCRIBE:rtsp://h/cam/0")};
    assert_int_equal(reel_sim_md5_hex(ha1, p1, 1), 0);
    assert_int_equal(reel_sim_md5_hex(ha2, p2, 1), 0);
    struct reel_sim_str p3[] = {S(ha1), S(":abc:"), S(ha2)};
    assert_int_equal(reel_sim_md5_hex(resp, p3, 3), 0);
    snprintf(hdr, sizeof(hdr), "Digest username=\"admin\", realm=\"reel-sim\", nonce=\"abc\", "
             "uri=\"rtsp://h/cam/0\", response=\"%s\"", resp);
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_DIGEST, S(hdr), S("DESCRIBE"), S("rtsp://h/cam/0"), "admin",
                                         "s3cret", "reel-sim", "abc"), 1);
    assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_DIGEST, S(hdr), S("SETUP"), S("rtsp://h/cam/0"), "admin",
                                         "s3cret", "reel-sim", "abc"), 0);
    /* Truncated / hostile headers. */
    static const char *const bad[] = {
        "Digest", "Digest ", "Digest username=\"admin", "Digest username=admin, response=", "Digest ,,,,===",
        "Digest username=\"admin\", realm=\"reel-sim\", nonce=\"abc\", uri=\"rtsp://h/cam/0\", response=\"00\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(reel_sim_auth_check(REEL_SIM_AUTH_DIGEST, S(bad[i]), S("DESCRIBE"), S("rtsp://h/cam/0"),
                                             "admin", "s3cret", "reel-sim", "abc"), 0);
}

/* ---- faults ---- */

static void test_reorder_perm(void **st)
{
    (void)st;
    static const unsigned windows[] = {0, 1, 2, 3, 4, 8, 64};
    static const size_t sizes[] = {0, 1, 2, 3, 5, 17, 100, 1000};
    static uint32_t perm[1000];
    static bool seen[1000];
    uint64_t rng = 0x1234567;
    for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
        unsigned win = windows[w];
        for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
            size_t n = sizes[z];
            for (int round = 0; round < 50; round++) {
                reel_sim_reorder_perm(perm, n, win, &rng);
                memset(seen, 0, sizeof(seen));
                for (size_t i = 0; i < n; i++) {
                    assert_true(perm[i] < n);
                    assert_false(seen[perm[i]]);           /* a permutation */
                    seen[perm[i]] = true;
                    if (win < 2)
                        assert_int_equal(perm[i], i);      /* off: identity */
                    else
                        assert_int_equal(perm[i] / win, i / win);   /* stays in its window */
                }
                for (size_t b = 0; win >= 2 && b + 1 < n; b += win) {
                    size_t m = n - b < win ? n - b : win;
                    bool moved = false;                    /* every window of 2+ is out of order */
                    for (size_t i = b; i < b + m; i++)
                        moved |= perm[i] != i;
                    assert_true(moved);
                }
            }
        }
    }
    /* all 23 orders of a window of 4 other than the identity come up */
    bool orders[256] = {false};
    for (int round = 0; round < 5000; round++) {
        reel_sim_reorder_perm(perm, 4, 4, &rng);
        orders[perm[0] << 6 | perm[1] << 4 | perm[2] << 2 | perm[3]] = true;
    }
    int distinct = 0;
    for (int i = 0; i < 256; i++)
        distinct += orders[i];
    assert_int_equal(distinct, 23);
    assert_false(orders[0 << 6 | 1 << 4 | 2 << 2 | 3]);
}

/* Reassembles a NAL unit from single-NAL or FU payloads; returns its length. */
static size_t reassemble(enum reel_sim_codec codec, const struct reel_sim_pkt *pk, size_t np, uint8_t *out,
                         size_t cap)
{
    if (np == 1 && pk[0].pre_len == 0) {
        assert_true(pk[0].len <= cap);
        memcpy(out, pk[0].data, pk[0].len);
        return pk[0].len;
    }
    bool h264 = codec == REEL_SIM_H264;
    size_t o = 0;
    for (size_t k = 0; k < np; k++) {
        const struct reel_sim_pkt *p = &pk[k];
        assert_int_equal(p->pre_len, h264 ? 2 : 3);
        assert_true(p->pre_len + p->len <= REEL_SIM_MAX_PAYLOAD);
        assert_false(p->marker);
        uint8_t fuh = p->pre[h264 ? 1 : 2];
        assert_int_equal(!!(fuh & 0x80), k == 0);           /* S on the first only */
        assert_int_equal(!!(fuh & 0x40), k + 1 == np);      /* E on the last only */
        if (k == 0) {
            if (h264) {
                assert_int_equal(p->pre[0] & 0x1f, 28);
                out[o++] = (uint8_t)((p->pre[0] & 0xe0) | (fuh & 0x1f));
            } else {
                assert_int_equal((p->pre[0] >> 1) & 0x3f, 49);
                out[o++] = (uint8_t)((p->pre[0] & 0x81) | ((fuh & 0x3f) << 1));
                out[o++] = p->pre[1];
            }
        }
        assert_true(o + p->len <= cap);
        memcpy(out + o, p->data, p->len);
        o += p->len;
    }
    return o;
}

static void test_bignal(void **st)
{
    (void)st;
    static const size_t payloads[] = {16, 17, 254, 255, 256, 509, 510, 5000, 3u << 20};
    for (int codec = 0; codec < 2; codec++) {
        enum reel_sim_codec cd = codec ? REEL_SIM_H265 : REEL_SIM_H264;
        size_t hl = codec ? 2 : 1;
        for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
            size_t pl = payloads[i];
            struct reel_sim_bignal b;
            assert_int_equal(reel_sim_bignal_make(cd, pl, &b), 0);
            assert_int_equal(b.len, reel_sim_bignal_len(cd, pl));
            assert_int_equal(b.len, hl + 1 + pl / 255 + 1 + pl + 1);
            /* a prefix SEI: H.264 type 6, H.265 type 39 with TemporalId 0 */
            if (codec) {
                assert_int_equal(b.nal[0], 39 << 1);
                assert_int_equal(b.nal[1], 1);
            } else {
                assert_int_equal(b.nal[0], 6);
            }
            const uint8_t *p = b.nal + hl;
            assert_int_equal(*p++, 5);                      /* user_data_unregistered */
            size_t size = 0;
            while (*p == 0xff)
                size += *p++;
            size += *p++;
            assert_int_equal(size, pl);
            assert_memory_equal(p, REEL_SIM_BIGNAL_UUID, 16);
            p += 16;
            for (size_t k = 0; k < pl - 16; k++)
                if (p[k] != reel_sim_bignal_byte(k))
                    fail_msg("pattern byte %zu of payload %zu", k, pl);
            assert_int_equal(p[pl - 16], 0x80);             /* rbsp trailing bits, last byte */
            assert_ptr_equal(p + pl - 16 + 1, b.nal + b.len);
            for (size_t k = 0; k + 2 < b.len; k++)         /* no start code, nothing to escape */
                if (b.nal[k] == 0 && b.nal[k + 1] == 0 && b.nal[k + 2] <= 3)
                    fail_msg("00 00 %02x at %zu", b.nal[k + 2], k);
            /* its packets put back together give the NAL unit */
            assert_int_equal(b.npkts, reel_sim_npackets(cd, b.len));
            uint8_t *re = malloc(b.len);
            assert_non_null(re);
            assert_int_equal(reassemble(cd, b.pkts, b.npkts, re, b.len), b.len);
            assert_memory_equal(re, b.nal, b.len);
            free(re);
            for (size_t k = 0; k < b.npkts; k++)
                assert_false(reel_sim_pkt_is_vcl(cd, &b.pkts[k]));
            reel_sim_bignal_free(&b);
            assert_null(b.nal);
        }
        struct reel_sim_bignal b = {0};
        assert_int_equal(reel_sim_bignal_make(cd, REEL_SIM_BIGNAL_MIN - 1, &b), -EINVAL);
        assert_int_equal(reel_sim_bignal_make(cd, (size_t)REEL_SIM_BIGNAL_MAX + 1, &b), -EINVAL);
        assert_null(b.nal);
        reel_sim_bignal_free(&b);
        reel_sim_bignal_free(NULL);
    }
    /* pattern: never 0, not periodic at the FU fragment size */
    for (size_t k = 0; k < 100000; k++)
        assert_true(reel_sim_bignal_byte(k) != 0);
    assert_true(memcmp((uint8_t[]){reel_sim_bignal_byte(0), reel_sim_bignal_byte(1), reel_sim_bignal_byte(2)},
                       (uint8_t[]){reel_sim_bignal_byte(1397), reel_sim_bignal_byte(1398),
                                   reel_sim_bignal_byte(1399)}, 3) != 0);
}

static void test_pkt_is_vcl(void **st)
{
    (void)st;
    struct bld b = {0};
    static const uint8_t sps[] = {0x67, 0x64, 0x00, 0x1f, 0xac};
    static const uint8_t pps[] = {0x68, 0xee, 0x3c, 0x80};
    nal(&b, true, sps, sizeof(sps), 0);
    nal(&b, true, pps, sizeof(pps), 0);
    nal(&b, true, (const uint8_t *)"\x06\x05", 2, 10);        /* SEI */
    nal(&b, true, (const uint8_t *)"\x65\x88", 2, 3000);      /* IDR in 3 FU-A */
    struct reel_sim_clip c;
    assert_int_equal(reel_sim_clip_parse(b.p, b.len, REEL_SIM_H264, &c, NULL), 0);
    assert_int_equal(c.naus, 1);
    assert_int_equal(c.aus[0].npkt, 6);
    for (size_t k = 0; k < 6; k++)
        assert_int_equal(reel_sim_pkt_is_vcl(REEL_SIM_H264, &c.pkts[k]), k >= 3);
    reel_sim_clip_free(&c);

    struct bld h = {0};
    nal(&h, true, (const uint8_t *)"\x40\x01\x0c\x01", 4, 10);  /* VPS */
    nal(&h, true, (const uint8_t *)"\x42\x01\x01\x01", 4, 20);  /* SPS */
    nal(&h, true, (const uint8_t *)"\x44\x01\xc1\x72", 4, 2);   /* PPS */
    nal(&h, true, (const uint8_t *)"\x4e\x01\x05", 3, 10);       /* prefix SEI */
    nal(&h, true, (const uint8_t *)"\x26\x01\xaf", 3, 3000);     /* IDR_W_RADL in 3 FUs */
    nal(&h, true, (const uint8_t *)"\x50\x01\x01", 3, 3);        /* suffix SEI */
    assert_int_equal(reel_sim_clip_parse(h.p, h.len, REEL_SIM_H265, &c, NULL), 0);
    assert_int_equal(c.aus[0].npkt, 8);
    for (size_t k = 0; k < 8; k++)
        assert_int_equal(reel_sim_pkt_is_vcl(REEL_SIM_H265, &c.pkts[k]), k >= 4 && k < 7);
    reel_sim_clip_free(&c);
    struct reel_sim_pkt empty = {0};
    assert_false(reel_sim_pkt_is_vcl(REEL_SIM_H264, &empty));
    assert_false(reel_sim_pkt_is_vcl(REEL_SIM_H265, &empty));
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_split),     cmocka_unit_test(test_h264_clip), cmocka_unit_test(test_h265_clip),
        cmocka_unit_test(test_clip_bad),  cmocka_unit_test(test_req_ok),    cmocka_unit_test(test_req_bad),
        cmocka_unit_test(test_uri),       cmocka_unit_test(test_transport), cmocka_unit_test(test_auth),
        cmocka_unit_test(test_reorder_perm), cmocka_unit_test(test_bignal), cmocka_unit_test(test_pkt_is_vcl),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}

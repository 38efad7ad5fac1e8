/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for the RTSP parsers: URL, message stream, auth, SDP, Transport
 * / RTP-Info / Session. Good input, input split byte by byte, hostile input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rtsp/auth.h"
#include "rtsp/msg.h"
#include "rtsp/sdp.h"
#include "rtsp/transport.h"
#include "rtsp/url.h"

/* ---- URL ---- */

static int parse_url(const char *s, struct reel_rtsp_url *u)
{
    return reel_rtsp_url_parse(s, strlen(s), u, NULL);
}

static void test_url_parse(void **state)
{
    (void)state;
    struct reel_rtsp_url u;
    char out[REEL_RTSP_URL_MAX + 64];
    assert_int_equal(parse_url("rtsp://admin:p%40ss%3Aw@10.0.0.5:8554/live/ch0?subtype=1", &u), 0);
    assert_true(u.has_userinfo);
    assert_string_equal(u.user, "admin");
    assert_string_equal(u.password, "p@ss:w");
    assert_string_equal(u.host, "10.0.0.5");
    assert_int_equal(u.port, 8554);
    assert_string_equal(u.path, "/live/ch0?subtype=1");
    assert_true(reel_rtsp_url_format(&u, out, sizeof(out)) > 0);
    assert_string_equal(out, "rtsp://10.0.0.5:8554/live/ch0?subtype=1");

    assert_int_equal(parse_url("RTSP://cam.local", &u), 0);
    assert_int_equal(u.port, 554);
    assert_string_equal(u.path, "/");
    assert_false(u.has_userinfo);
    reel_rtsp_url_format(&u, out, sizeof(out));
    assert_string_equal(out, "rtsp://cam.local/");

    assert_int_equal(parse_url("rtsp://[fe80::1]:1554/s", &u), 0);
    assert_true(u.ipv6);
    assert_string_equal(u.host, "fe80::1");
    assert_int_equal(u.port, 1554);
    reel_rtsp_url_format(&u, out, sizeof(out));
    assert_string_equal(out, "rtsp://[fe80::1]:1554/s");

    assert_int_equal(parse_url("rtsp://rtsp://10.1.1.1/x", &u), 0);
    assert_string_equal(u.host, "10.1.1.1");
    assert_int_equal(parse_url("rtsp://u@h?q=1", &u), 0);
    assert_string_equal(u.path, "/?q=1");
    assert_string_equal(u.user, "u");
}

static void test_url_hostile(void **state)
{
    (void)state;
    struct reel_rtsp_url u;
    memset(&u, 0x5a, sizeof(u));
    struct reel_rtsp_url before = u;
    struct reel_err err;
    const char *bad[] = {
        "", "rtsp://", "http://h/x", "rtsp://:554/x", "rtsp://h:0/x", "rtsp://h:65536/",
        "rtsp://h:12a/", "rtsp://[fe80::1/x", "rtsp://[]/x", "rtsp://[::1]x/",
        "rtsp://h/a b", "rtsp://u:%zz@h/", "rtsp://u:%00@h/", "rtsp://u:%4@h/",
        "rtsp://ho st/", "rtsp://h:-1/", "rtsp://h/\x01",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_true(reel_rtsp_url_parse(bad[i], strlen(bad[i]), &u, &err) < 0);
        assert_memory_equal(&u, &before, sizeof(u));
    }
    static char longp[REEL_RTSP_URL_MAX + 100];
    memcpy(longp, "rtsp://h/", 9);
    memset(longp + 9, 'a', REEL_RTSP_URL_MAX + 90);
    longp[REEL_RTSP_URL_MAX + 99] = '\0';
    assert_int_equal(reel_rtsp_url_parse(longp, strlen(longp), &u, &err), -EMSGSIZE);
    /* truncations of a good URL never crash */
    const char *good = "rtsp://user:pw@[2001:db8::1]:554/a/b?c=d";
    for (size_t i = 0; i <= strlen(good); i++)
        (void)reel_rtsp_url_parse(good, i, &u, NULL);
    assert_int_equal(reel_rtsp_url_fuzz((const uint8_t *)good, strlen(good)), 0);
}

/* Issue 11: URLs in messages show scheme://host:port only. */
static void test_url_origin_redact(void **state)
{
    (void)state;
    char out[512];
    reel_rtsp_url_origin("rtsp://u:p@Cam.Example:8554/a/b?user=x&password=y", out, sizeof(out));
    assert_string_equal(out, "rtsp://Cam.Example:8554");
    reel_rtsp_url_origin("rtsp://[fe80::1]/x", out, sizeof(out));
    assert_string_equal(out, "rtsp://[fe80::1]:554");
    reel_rtsp_url_origin("http://u:p@evil.example:8080/x?password=y", out, sizeof(out));
    assert_string_equal(out, "http://evil.example:8080");
    reel_rtsp_url_origin("no url", out, sizeof(out));
    assert_string_equal(out, "(unparsable URL)");

    reel_rtsp_url_redact("stream not found: DESCRIBE rtsp://admin:pw@10.0.0.5/cam?password=secret: 404 Not Found",
                         out, sizeof(out));
    assert_string_equal(out, "stream not found: DESCRIBE rtsp://10.0.0.5:554: 404 Not Found");
    reel_rtsp_url_redact("a rtsp://h/x, then http://h2:81/y?q=1. and \"rtsp://h3:9/z\"", out, sizeof(out));
    assert_string_equal(out, "a rtsp://h:554, then http://h2:81. and \"rtsp://h3:9\"");
    reel_rtsp_url_redact("no URL here: just text", out, sizeof(out));
    assert_string_equal(out, "no URL here: just text");
    /* a control byte ends the URL; what follows is kept (and escaped later) */
    reel_rtsp_url_redact("SETUP rtsp://h/t\x1b[2J: x", out, sizeof(out));
    assert_string_equal(out, "SETUP rtsp://h:554\x1b[2J: x");
    /* truncation keeps the output a NUL-terminated prefix */
    assert_int_equal(reel_rtsp_url_redact("ab rtsp://host/path", out, 8), 7);
    assert_string_equal(out, "ab rtsp");

    assert_true(reel_rtsp_url_same_host("rtsp://CAM.example/a", "rtsp://u:p@cam.example:8554/b"));
    assert_false(reel_rtsp_url_same_host("rtsp://cam.example/a", "rtsp://cam.example.evil/a"));
    assert_false(reel_rtsp_url_same_host("rtsp://10.0.0.5/a", "rtsp://10.0.0.6/a"));
    assert_false(reel_rtsp_url_same_host("rtsp://10.0.0.5/a", "http://10.0.0.5/a"));
}

static void test_url_join_base(void **state)
{
    (void)state;
    char out[256];
    assert_true(reel_rtsp_url_join("rtsp://h/s", "trackID=1", out, sizeof(out)) > 0);
    assert_string_equal(out, "rtsp://h/s/trackID=1");
    reel_rtsp_url_join("rtsp://h/s/", "trackID=1", out, sizeof(out));
    assert_string_equal(out, "rtsp://h/s/trackID=1");
    reel_rtsp_url_join("rtsp://h/av0_0", "track0", out, sizeof(out));
    assert_string_equal(out, "rtsp://h/av0_0/track0");
    reel_rtsp_url_join("rtsp://h/s", "*", out, sizeof(out));
    assert_string_equal(out, "rtsp://h/s");
    reel_rtsp_url_join("rtsp://h/s", "", out, sizeof(out));
    assert_string_equal(out, "rtsp://h/s");
    reel_rtsp_url_join("rtsp://h/s", "rtsp://other/t", out, sizeof(out));
    assert_string_equal(out, "rtsp://other/t");
    reel_rtsp_url_join("rtsp://h/s/", "/x", out, sizeof(out));
    assert_string_equal(out, "rtsp://h/s/x");
    assert_int_equal(reel_rtsp_url_join("rtsp://h/s", "track", out, 10), -EMSGSIZE);

    const char *req = "rtsp://u:p@10.0.0.5/stream";
    reel_rtsp_url_base("rtsp://10.0.0.5/stream/", "rtsp://x/y", req, out, sizeof(out));
    assert_string_equal(out, "rtsp://10.0.0.5/stream/");
    reel_rtsp_url_base(NULL, "rtsp://10.0.0.5/loc", req, out, sizeof(out));
    assert_string_equal(out, "rtsp://10.0.0.5/loc");
    reel_rtsp_url_base("garbage with spaces", NULL, req, out, sizeof(out));
    assert_string_equal(out, "rtsp://10.0.0.5/stream");   /* userinfo dropped */
    reel_rtsp_url_base("10.0.0.6/base/", NULL, req, out, sizeof(out));
    assert_string_equal(out, "rtsp://10.0.0.6/base/");
    reel_rtsp_url_base("/other/", NULL, req, out, sizeof(out));
    assert_string_equal(out, "rtsp://10.0.0.5/other/");
    reel_rtsp_url_base("rtsp://rtsp://10.0.0.5/s/", NULL, req, out, sizeof(out));
    assert_string_equal(out, "rtsp://10.0.0.5/s/");
    assert_int_equal(reel_rtsp_url_base(NULL, NULL, "nope", out, sizeof(out)), -EINVAL);
}

/* ---- message stream ---- */

struct collected {
    int n;
    enum reel_rtsp_msg_kind kind[16];
    int status[16];
    char text[16][64];         /* reason / method / first payload bytes */
    size_t len[16];            /* body or payload length */
    char cseq[16][16];
};

static void collect(struct reel_rtsp_parser *p, const uint8_t *d, size_t n, struct collected *c,
                    int *errors)
{
    while (n > 0) {
        struct reel_rtsp_msg m;
        size_t used = 0;
        int r = reel_rtsp_parser_feed(p, d, n, &used, &m, NULL);
        assert_true(used <= n);
        d += used;
        n -= used;
        if (r < 0) {
            (*errors)++;
            continue;
        }
        if (r == 0) {
            assert_int_equal(n, 0);
            break;
        }
        assert_true(c->n < 16);
        int i = c->n++;
        c->kind[i] = m.kind;
        c->status[i] = m.status;
        const char *t = m.kind == REEL_RTSP_MSG_RESPONSE ? m.reason
                      : m.kind == REEL_RTSP_MSG_REQUEST ? m.method : "";
        snprintf(c->text[i], sizeof(c->text[i]), "%s", t);
        c->len[i] = m.kind == REEL_RTSP_MSG_FRAME ? m.payload_len : m.body_len;
        const char *cs = m.kind == REEL_RTSP_MSG_FRAME ? NULL : reel_rtsp_msg_header(&m, "cseq");
        snprintf(c->cseq[i], sizeof(c->cseq[i]), "%s", cs ? cs : "");
        if (m.kind == REEL_RTSP_MSG_FRAME && m.payload_len)
            snprintf(c->text[i], sizeof(c->text[i]), "%c%u", m.payload[0], m.channel);
    }
}

static const char stream[] =
    "$\x01\x00\x03" "abc"
    "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n"
    "X-Folded: one\r\n two\r\n\r\nv=0\r\n"
    "\r\n"
    "GET_PARAMETER rtsp://h/s RTSP/1.0\r\nCSeq: 9\r\n\r\n"
    "\x17\x03junk\x01"
    "$\x00\x00\x00"
    "RTSP/1.0 401 Unauthorized\nCSeq:3\nWWW-Authenticate: Basic realm=\"a\"\n\n";

static void check_stream(const struct collected *c)
{
    assert_int_equal(c->n, 5);
    assert_int_equal(c->kind[0], REEL_RTSP_MSG_FRAME);
    assert_string_equal(c->text[0], "a1");
    assert_int_equal(c->len[0], 3);
    assert_int_equal(c->kind[1], REEL_RTSP_MSG_RESPONSE);
    assert_int_equal(c->status[1], 200);
    assert_string_equal(c->text[1], "OK");
    assert_int_equal(c->len[1], 5);
    assert_string_equal(c->cseq[1], "2");
    assert_int_equal(c->kind[2], REEL_RTSP_MSG_REQUEST);
    assert_string_equal(c->text[2], "GET_PARAMETER");
    assert_string_equal(c->cseq[2], "9");
    assert_int_equal(c->kind[3], REEL_RTSP_MSG_FRAME);
    assert_int_equal(c->len[3], 0);
    assert_int_equal(c->kind[4], REEL_RTSP_MSG_RESPONSE);
    assert_int_equal(c->status[4], 401);
    assert_string_equal(c->cseq[4], "3");
}

static void test_msg_stream(void **state)
{
    (void)state;
    struct reel_rtsp_parser p;
    struct collected c;
    int errors = 0;
    memset(&c, 0, sizeof(c));
    reel_rtsp_parser_init(&p);
    collect(&p, (const uint8_t *)stream, sizeof(stream) - 1, &c, &errors);
    assert_int_equal(errors, 0);
    check_stream(&c);
    assert_int_equal(p.skipped, 7);
    reel_rtsp_parser_free(&p);

    /* byte by byte */
    memset(&c, 0, sizeof(c));
    reel_rtsp_parser_init(&p);
    for (size_t i = 0; i < sizeof(stream) - 1; i++)
        collect(&p, (const uint8_t *)stream + i, 1, &c, &errors);
    assert_int_equal(errors, 0);
    check_stream(&c);
    assert_int_equal(p.skipped, 7);
    reel_rtsp_parser_free(&p);
}

/* Once channels are known, a '$' that announces another channel (or a
 * payload that is not RTP version 2) is garbage: it must not swallow the
 * real frames behind it. */
static void test_msg_bogus_dollar(void **state)
{
    (void)state;
    struct reel_rtsp_parser p;
    reel_rtsp_parser_init(&p);
    reel_rtsp_parser_allow_channel(&p, 0);
    reel_rtsp_parser_allow_channel(&p, 1);
    uint8_t in[64];
    size_t n = 0;
    memcpy(in + n, "$\x05\xff\xf0", 4);            /* channel 5, 65520 bytes */
    n += 4;
    memcpy(in + n, "$\x00\x10\x00\x11", 5);        /* channel 0, not version 2 */
    n += 5;
    in[n++] = '$';                                  /* the real frame */
    in[n++] = 0;
    in[n++] = 0;
    in[n++] = 12;
    in[n++] = 0x80;
    for (int i = 0; i < 11; i++)
        in[n++] = (uint8_t)i;
    size_t used, off = 0;
    struct reel_rtsp_msg m;
    int frames = 0;
    while (off < n) {
        int r = reel_rtsp_parser_feed(&p, in + off, n - off, &used, &m, NULL);
        assert_true(r >= 0);
        off += used;
        if (r == 1) {
            assert_int_equal(m.kind, REEL_RTSP_MSG_FRAME);
            assert_int_equal(m.channel, 0);
            assert_int_equal(m.payload_len, 12);
            assert_int_equal(m.payload[0], 0x80);
            frames++;
        }
    }
    assert_int_equal(frames, 1);
    reel_rtsp_parser_free(&p);
}

static void test_msg_headers(void **state)
{
    (void)state;
    static const char in[] = "RTSP/1.0 200 OK\r\nSession:   abc;timeout=30  \r\n"
                             "WWW-Authenticate: Digest realm=\"x\"\r\nnocolon\r\n"
                             "www-authenticate: Basic realm=\"y\"\r\n\r\n";
    struct reel_rtsp_parser p;
    struct reel_rtsp_msg m;
    size_t used;
    reel_rtsp_parser_init(&p);
    assert_int_equal(reel_rtsp_parser_feed(&p, (const uint8_t *)in, sizeof(in) - 1, &used, &m, NULL), 1);
    assert_int_equal(used, sizeof(in) - 1);
    assert_string_equal(reel_rtsp_msg_header(&m, "SESSION"), "abc;timeout=30");
    size_t idx = 0;
    assert_string_equal(reel_rtsp_msg_header_next(&m, "WWW-Authenticate", &idx), "Digest realm=\"x\"");
    assert_string_equal(reel_rtsp_msg_header_next(&m, "WWW-Authenticate", &idx), "Basic realm=\"y\"");
    assert_null(reel_rtsp_msg_header_next(&m, "WWW-Authenticate", &idx));
    assert_null(reel_rtsp_msg_header(&m, "Content-Length"));
    assert_int_equal(m.body_len, 0);
    reel_rtsp_parser_free(&p);
}

static int feed_all(struct reel_rtsp_parser *p, const char *s, size_t n, int *msgs)
{
    int errors = 0;
    const uint8_t *d = (const uint8_t *)s;
    while (n > 0) {
        struct reel_rtsp_msg m;
        size_t used = 0;
        int r = reel_rtsp_parser_feed(p, d, n, &used, &m, NULL);
        d += used;
        n -= used;
        if (r < 0)
            errors++;
        else if (r == 1)
            (*msgs)++;
        else
            break;
    }
    return errors;
}

static void test_msg_hostile(void **state)
{
    (void)state;
    struct reel_rtsp_parser p;
    struct reel_err err;
    int msgs = 0;
    /* body over the cap, negative and junk Content-Length */
    const char *bad_len[] = {
        "RTSP/1.0 200 OK\r\nContent-Length: 70000\r\n\r\n",
        "RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        "RTSP/1.0 200 OK\r\nContent-Length: 12x\r\n\r\n",
        "RTSP/1.0 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    };
    for (size_t i = 0; i < 4; i++) {
        reel_rtsp_parser_init(&p);
        struct reel_rtsp_msg m;
        size_t used;
        int r = reel_rtsp_parser_feed(&p, (const uint8_t *)bad_len[i], strlen(bad_len[i]), &used,
                                      &m, &err);
        assert_true(r == -EMSGSIZE || r == -EBADMSG);
        reel_rtsp_parser_free(&p);
    }
    /* header block over 16 KiB */
    size_t big = REEL_RTSP_HDR_BLOCK_MAX + 100;
    char *s = malloc(big + 64);
    assert_non_null(s);
    strcpy(s, "RTSP/1.0 200 OK\r\nX: ");
    memset(s + strlen(s), 'a', big);
    s[big] = '\0';
    reel_rtsp_parser_init(&p);
    msgs = 0;
    assert_true(feed_all(&p, s, strlen(s), &msgs) >= 1);
    assert_int_equal(msgs, 0);
    /* the parser recovers afterwards */
    const char ok[] = "\r\nRTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n";
    assert_int_equal(feed_all(&p, ok, sizeof(ok) - 1, &msgs), 0);
    assert_int_equal(msgs, 1);
    reel_rtsp_parser_free(&p);
    free(s);
    /* more than 64 headers */
    char *h = malloc(8192);
    assert_non_null(h);
    strcpy(h, "RTSP/1.0 200 OK\r\n");
    for (int i = 0; i < 70; i++)
        sprintf(h + strlen(h), "H%d: v\r\n", i);
    strcat(h, "\r\n");
    reel_rtsp_parser_init(&p);
    msgs = 0;
    assert_int_equal(feed_all(&p, h, strlen(h), &msgs), 1);
    assert_int_equal(msgs, 0);
    reel_rtsp_parser_free(&p);
    free(h);
    /* bad start lines are skipped, not fatal */
    const char junk[] = "HTTP/1.1 200 OK\r\nRTSP/1.0 20 OK\r\nRTSP/1.0 200 OK\r\n\r\n";
    reel_rtsp_parser_init(&p);
    msgs = 0;
    assert_int_equal(feed_all(&p, junk, sizeof(junk) - 1, &msgs), 0);
    assert_int_equal(msgs, 1);
    assert_true(p.skipped > 0);
    reel_rtsp_parser_free(&p);
    /* truncated frame and message: no output, no crash */
    reel_rtsp_parser_init(&p);
    msgs = 0;
    assert_int_equal(feed_all(&p, "$\x00\xff\xff" "abc", 7, &msgs), 0);
    assert_int_equal(msgs, 0);
    reel_rtsp_parser_free(&p);
    /* every truncation of the mixed stream, and the fuzz entry point */
    for (size_t i = 0; i < sizeof(stream) - 1; i++)
        reel_rtsp_msg_fuzz((const uint8_t *)stream, i);
    reel_rtsp_parser_free(NULL);
}

static void test_msg_write(void **state)
{
    (void)state;
    struct reel_buf b;
    reel_buf_init(&b, 4096);
    struct reel_rtsp_req r = {
        .method = "PLAY", .url = "rtsp://h/s", .cseq = 4, .user_agent = "Reel/0.1",
        .session = "12345", .authorization = "Basic QQ==", .range_npt0 = true,
    };
    assert_int_equal(reel_rtsp_req_write(&b, &r), 0);
    const char want[] = "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 4\r\nUser-Agent: Reel/0.1\r\n"
                        "Session: 12345\r\nAuthorization: Basic QQ==\r\nRange: npt=0.000-\r\n\r\n";
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(b.data, want, b.len);
    r.session = "x\r\nEvil: 1";
    assert_int_equal(reel_rtsp_req_write(&b, &r), -EINVAL);
    assert_int_equal(b.len, sizeof(want) - 1);
    reel_buf_reset(&b);
    assert_int_equal(reel_rtsp_resp_write(&b, 501, "Not Implemented", "7", NULL), 0);
    const char want2[] = "RTSP/1.0 501 Not Implemented\r\nCSeq: 7\r\n\r\n";
    assert_memory_equal(b.data, want2, sizeof(want2) - 1);
    reel_buf_free(&b);
    struct reel_buf tiny;
    reel_buf_init(&tiny, 10);
    r.session = NULL;
    assert_int_equal(reel_rtsp_req_write(&tiny, &r), -EMSGSIZE);
    assert_int_equal(tiny.len, 0);
    reel_buf_free(&tiny);
}

/* ---- auth ---- */

static void test_auth_vectors(void **state)
{
    (void)state;
    char out[REEL_AUTH_HEADER_MAX];
    struct reel_auth_challenge ch[REEL_AUTH_CHALLENGES_MAX];
    size_t n = 0;
    /* RFC 7616 section 3.9.1: both challenges in one header. */
    const char *hdr = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                      "algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                      "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", "
                      "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                      "algorithm=MD5, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                      "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    assert_int_equal(reel_auth_parse(hdr, ch, REEL_AUTH_CHALLENGES_MAX, &n), 2);
    assert_int_equal(n, 2);
    assert_int_equal(ch[0].scheme, REEL_AUTH_DIGEST_SHA256);
    assert_int_equal(ch[1].scheme, REEL_AUTH_DIGEST_MD5);
    assert_true(ch[0].qop_auth);
    assert_int_equal(reel_auth_choose(ch, n), 0);
    const char *cn = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    assert_true(reel_auth_header(&ch[1], "Mufasa", "Circle of Life", "GET", "/dir/index.html", 1,
                                 cn, out, sizeof(out), NULL) > 0);
    assert_non_null(strstr(out, "response=\"8ca523f5e9506fed4657c9700eebdbec\""));
    assert_non_null(strstr(out, "nc=00000001"));
    assert_non_null(strstr(out, "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""));
    assert_true(reel_auth_header(&ch[0], "Mufasa", "Circle of Life", "GET", "/dir/index.html", 1,
                                 cn, out, sizeof(out), NULL) > 0);
    assert_non_null(strstr(out,
        "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""));
    assert_non_null(strstr(out, "algorithm=SHA-256"));

    /* RFC 2617 section 3.5 */
    n = 0;
    assert_int_equal(reel_auth_parse("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                                     "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                                     "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
                                     ch, REEL_AUTH_CHALLENGES_MAX, &n), 1);
    assert_true(reel_auth_header(&ch[0], "Mufasa", "Circle Of Life", "GET", "/dir/index.html", 1,
                                 "0a4f113b", out, sizeof(out), NULL) > 0);
    assert_non_null(strstr(out, "response=\"6629fae49393a05397450978507c4ef1\""));
    assert_null(strstr(out, "algorithm"));

    /* RFC 2069 style (no qop): response = MD5(HA1:nonce:HA2) */
    n = 0;
    reel_auth_parse("Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"",
                    ch, REEL_AUTH_CHALLENGES_MAX, &n);
    assert_false(ch[0].qop_auth);
    assert_true(reel_auth_header(&ch[0], "Mufasa", "CircleOfLife", "GET", "/dir/index.html", 0,
                                 NULL, out, sizeof(out), NULL) > 0);
    assert_non_null(strstr(out, "response=\"1949323746fe6a43ef61f9606e7febea\""));
    assert_null(strstr(out, "cnonce"));

    /* RFC 7617 Basic */
    n = 0;
    reel_auth_parse("Basic realm=\"WallyWorld\"", ch, REEL_AUTH_CHALLENGES_MAX, &n);
    assert_int_equal(ch[0].scheme, REEL_AUTH_BASIC);
    assert_true(reel_auth_header(&ch[0], "Aladdin", "open sesame", "GET", "/", 0, NULL, out,
                                 sizeof(out), NULL) > 0);
    assert_string_equal(out, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

static void test_auth_parse_dialects(void **state)
{
    (void)state;
    struct reel_auth_challenge ch[REEL_AUTH_CHALLENGES_MAX];
    size_t n = 0;
    /* several headers: Basic first, then Digest with escapes and stale */
    assert_int_equal(reel_auth_parse("Basic realm=\"cam\"", ch, REEL_AUTH_CHALLENGES_MAX, &n), 1);
    assert_int_equal(reel_auth_parse("Digest realm=\"a \\\"q\\\" b\",nonce=abc,stale=TRUE",
                                     ch, REEL_AUTH_CHALLENGES_MAX, &n), 1);
    assert_int_equal(n, 2);
    assert_string_equal(ch[1].realm, "a \"q\" b");
    assert_string_equal(ch[1].nonce, "abc");
    assert_true(ch[1].stale);
    assert_int_equal(reel_auth_choose(ch, n), 1);
    /* the escaped quote in the realm must not be echoed raw */
    char out[REEL_AUTH_HEADER_MAX];
    assert_int_equal(reel_auth_header(&ch[1], "u", "p", "DESCRIBE", "rtsp://h/", 1, NULL, out,
                                      sizeof(out), NULL), -EINVAL);
    /* unsupported: auth-int only, SHA-512-256, unknown scheme, no nonce */
    n = 0;
    reel_auth_parse("Digest realm=r, nonce=n, qop=auth-int", ch, 8, &n);
    reel_auth_parse("Digest realm=r, nonce=n, algorithm=SHA-512-256", ch, 8, &n);
    reel_auth_parse("Negotiate abcdef==, NTLM", ch, 8, &n);
    reel_auth_parse("Digest realm=r", ch, 8, &n);
    assert_int_equal(n, 5);
    assert_int_equal(reel_auth_choose(ch, n), -ENOENT);
    /* hostile: empty, garbage, unterminated quote, over-long nonce, many challenges */
    n = 0;
    assert_int_equal(reel_auth_parse("", ch, 8, &n), 0);
    reel_auth_parse("=,,=\"", ch, 8, &n);
    reel_auth_parse("Digest nonce=\"unterminated", ch, 8, &n);
    char longv[1200] = "Digest realm=r, nonce=\"";
    memset(longv + strlen(longv), 'n', 1000);
    strcat(longv, "\"");
    size_t before = n;
    reel_auth_parse(longv, ch, 8, &n);
    if (n > before)
        assert_int_equal(ch[n - 1].scheme, REEL_AUTH_NONE);
    n = 0;
    assert_int_equal(reel_auth_parse("Basic a, Basic b, Basic c, Basic d, Basic e, Basic f, "
                                     "Basic g, Basic h, Basic i, Basic j", ch, 8, &n), 10);
    assert_int_equal(n, 8);
    /* no credentials */
    assert_int_equal(reel_auth_header(&ch[0], NULL, NULL, "OPTIONS", "rtsp://h/", 1, NULL, out,
                                      sizeof(out), NULL), -EINVAL);
    reel_auth_fuzz((const uint8_t *)longv, strlen(longv));
}

/* ---- SDP ---- */

static const char sdp_text[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 0.0.0.0\r\n"
    "s=Session\r\n"
    "s=Second\r\n"
    "a=tool:LIVE555 Streaming Media v2013.04.08 \r\n"
    "a=control:*\r\n"
    "m=application 0 RTP/AVP 107\r\n"
    "a=rtpmap:107 vnd.onvif.metadata/90000\r\n"
    "a=fmtp:96 packetization-mode=0\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "  a=fmtp:96 packetization-mode=1; profile-level-id=64001F;"
    " sprop-parameter-sets=Z2QAH6wrUCgC3IA=,AAAAAWjuPLA=,!!bad!!,;\r\n"
    "a=rtpmap:96 h264/90000\r\n"
    "a=control:trackID=1\r\n"
    "m=audio 0 RTP/AVP 0\r\n"
    "a=control:trackID=2\r\n";

static void test_sdp_good(void **state)
{
    (void)state;
    struct reel_sdp *s = NULL;
    assert_int_equal(reel_sdp_parse(sdp_text, sizeof(sdp_text) - 1, &s, NULL), 0);
    assert_string_equal(s->tool, "LIVE555 Streaming Media v2013.04.08");
    assert_string_equal(s->control, "*");
    assert_int_equal(s->n_media, 3);
    assert_int_equal(reel_sdp_find_video(s), 1);
    const struct reel_sdp_media *v = &s->media[1];
    assert_string_equal(v->type, "video");
    assert_int_equal(v->pt, 96);
    assert_int_equal(v->codec, REEL_CODEC_H264);
    assert_int_equal(v->clock_rate, 90000);
    assert_int_equal(v->packetization_mode, 1);
    assert_true(v->has_profile_level_id);
    assert_int_equal(v->profile_level_id, 0x64001f);
    assert_string_equal(v->control, "trackID=1");
    assert_int_equal(v->n_sprop, 2);
    assert_int_equal(v->sprop[0][0], 0x67);
    assert_int_equal(v->sprop_len[1], 4);   /* Annex-B start code stripped */
    assert_int_equal(v->sprop[1][0], 0x68);
    /* fmtp of the application media named PT 96: ignored there */
    assert_string_equal(s->media[0].fmtp, "");
    assert_int_equal(s->media[0].codec, 0);
    /* static payload type 0 */
    assert_string_equal(s->media[2].encoding, "PCMU");
    assert_int_equal(s->media[2].clock_rate, 8000);
    assert_false(s->media[2].has_rtpmap);
    reel_sdp_free(s);
}

static void test_sdp_h265_and_overrides(void **state)
{
    (void)state;
    struct reel_sdp *s = NULL;
    const char t1[] = "v=0\nm=video 0 RTP/AVP 26 98\na=rtpmap:98 H265/90000\n"
                      "a=fmtp:98 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ;"
                      "sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAQAAAAwBAAAAHgg==;"
                      "sprop-pps=RAHBcrRiQA==\n"
                      "m=video 0 RTP/AVP 98\na=rtpmap:98 H265/90000\na=fmtp:98 sprop-vps=QAEMAf8=;"
                      "sprop-pps=RAHBcrRiQA==\n"
                      "m=audio 0 RTP/AVP 0\na=rtpmap:0 L16/16000\n";
    assert_int_equal(reel_sdp_parse(t1, sizeof(t1) - 1, &s, NULL), 0);
    assert_int_equal(s->n_media, 3);
    assert_int_equal(s->media[0].pt, 98);   /* H265 beats static JPEG */
    assert_int_equal(s->media[0].codec, REEL_CODEC_H265);
    assert_int_equal(s->media[0].n_sprop, 3);
    assert_int_equal(s->media[0].sprop[0][0] >> 1, 32);
    assert_int_equal(s->media[1].n_sprop, 0);   /* no SPS: no sprops at all */
    assert_string_equal(s->media[2].encoding, "L16");   /* explicit rtpmap beats static */
    assert_int_equal(s->media[2].clock_rate, 16000);
    reel_sdp_free(s);
}

static void test_sdp_hostile(void **state)
{
    (void)state;
    struct reel_sdp *s = NULL;
    struct reel_err err;
    assert_int_equal(reel_sdp_parse("", 0, &s, &err), -EINVAL);
    assert_null(s);
    assert_int_equal(reel_sdp_parse("hello\nworld", 11, &s, &err), -EINVAL);
    /* unparseable media skipped; empty fmtp and sprop; no v= line */
    const char t[] = "m=video\nm=video x RTP/AVP 96\nm=video 0 RTP/AVP abc\n"
                     "m=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96\n"
                     "m=video 0 RTP/AVP 97\na=rtpmap:97 H264/90000\n"
                     "a=fmtp:97 sprop-parameter-sets=;packetization-mode=9\n"
                     "a=rtpmap:300 H264/90000\na=rtpmap:\na=fmtp:";
    assert_int_equal(reel_sdp_parse(t, sizeof(t) - 1, &s, &err), 0);
    assert_int_equal(s->n_media, 2);
    assert_int_equal(s->skipped_media, 3);
    assert_int_equal(s->media[0].n_sprop, 0);
    assert_int_equal(s->media[1].packetization_mode, -1);
    reel_sdp_free(s);
    /* too many media; an over-long line */
    size_t cap = 64 * 1024;
    char *big = malloc(cap);
    assert_non_null(big);
    big[0] = '\0';
    for (int i = 0; i < 40; i++)
        strcat(big, "m=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\n");
    strcat(big, "a=control:");
    size_t l = strlen(big);
    memset(big + l, 'c', REEL_SDP_LINE_MAX + 10);
    big[l + REEL_SDP_LINE_MAX + 10] = '\0';
    assert_int_equal(reel_sdp_parse(big, strlen(big), &s, &err), 0);
    assert_int_equal(s->n_media, REEL_SDP_MEDIA_MAX);
    assert_string_equal(s->media[REEL_SDP_MEDIA_MAX - 1].control, "");
    reel_sdp_free(s);
    free(big);
    for (size_t i = 0; i < sizeof(sdp_text) - 1; i++)
        reel_sdp_fuzz((const uint8_t *)sdp_text, i);
    reel_sdp_free(NULL);
}

/* ---- Transport, RTP-Info, Session ---- */

static void test_transport(void **state)
{
    (void)state;
    struct reel_rtsp_transport t;
    assert_int_equal(reel_rtsp_transport_parse("RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=1A2b3C4d;"
                                               "mode=\"PLAY\"", &t, NULL), 0);
    assert_true(t.tcp);
    assert_true(t.has_interleaved);
    assert_int_equal(t.rtp_channel, 2);
    assert_int_equal(t.rtcp_channel, 3);
    assert_true(t.has_ssrc);
    assert_int_equal(t.ssrc, 0x1a2b3c4d);
    assert_string_equal(t.mode, "PLAY");
    assert_int_equal(reel_rtsp_transport_parse("RTP/AVP;unicast;interleaved=4", &t, NULL), 0);
    assert_true(t.tcp);
    assert_int_equal(t.rtcp_channel, 5);
    assert_int_equal(reel_rtsp_transport_parse("RTP/AVP;unicast;client_port=5000-5001;"
                                               "server_port=6970-6971;source=127.0.0.1;ssrc=0",
                                               &t, NULL), 0);
    assert_false(t.tcp);
    assert_int_equal(t.server_rtp_port, 6970);
    assert_int_equal(t.server_rtcp_port, 6971);
    assert_int_equal(t.client_rtp_port, 5000);
    assert_string_equal(t.source, "127.0.0.1");
    assert_true(t.has_ssrc);
    /* hostile */
    assert_int_equal(reel_rtsp_transport_parse("RTP/AVP;interleaved=;ssrc=123456789;server_port=x",
                                               &t, NULL), 0);
    assert_false(t.has_interleaved);
    assert_false(t.has_ssrc);
    assert_false(t.has_server_port);
    assert_int_equal(reel_rtsp_transport_parse("RTP/AVP/TCP;interleaved=255", &t, NULL), 0);
    assert_false(t.has_interleaved);
    assert_int_equal(reel_rtsp_transport_parse("RAW/RAW/UDP;unicast", &t, NULL), -EINVAL);
    assert_int_equal(reel_rtsp_transport_parse("", &t, NULL), -EINVAL);
}

static void test_rtpinfo_session(void **state)
{
    (void)state;
    struct reel_rtsp_rtpinfo ri;
    reel_rtsp_rtpinfo_parse("url=rtsp://h/s/trackID=1;seq=17;rtptime=-1;, url=rtsp://h/t;seq=x;"
                            "rtptime=4294967295", &ri);
    assert_int_equal(ri.n, 2);
    assert_string_equal(ri.e[0].url, "rtsp://h/s/trackID=1");
    assert_true(ri.e[0].has_seq);
    assert_int_equal(ri.e[0].seq, 17);
    assert_false(ri.e[0].has_rtptime);
    assert_false(ri.e[1].has_seq);
    assert_true(ri.e[1].has_rtptime);
    assert_int_equal(ri.e[1].rtptime, 4294967295u);
    reel_rtsp_rtpinfo_parse("", &ri);
    assert_int_equal(ri.n, 0);
    reel_rtsp_rtpinfo_parse(",,;;=,seq=70000", &ri);
    assert_int_equal(ri.n, 0);

    struct reel_rtsp_session s;
    assert_int_equal(reel_rtsp_session_parse(" 12345678;timeout=30", &s, NULL), 0);
    assert_string_equal(s.id, "12345678");
    assert_int_equal(s.timeout_s, 30);
    assert_int_equal(reel_rtsp_session_parse("abc", &s, NULL), 0);
    assert_int_equal(s.timeout_s, 60);
    assert_int_equal(reel_rtsp_session_parse("abc;timeout=0", &s, NULL), 0);
    assert_int_equal(s.timeout_s, 60);
    assert_int_equal(reel_rtsp_session_parse("abc; timeout = junk", &s, NULL), 0);
    assert_int_equal(s.timeout_s, 60);
    assert_int_equal(reel_rtsp_session_parse(";timeout=5", &s, NULL), -EINVAL);
    char longid[400];
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(reel_rtsp_session_parse(longid, &s, NULL), -EINVAL);
    reel_rtsp_transport_fuzz((const uint8_t *)longid, sizeof(longid));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_msg_bogus_dollar),
        cmocka_unit_test(test_url_hostile),
        cmocka_unit_test(test_url_join_base),
        cmocka_unit_test(test_url_origin_redact),
        cmocka_unit_test(test_msg_stream),
        cmocka_unit_test(test_msg_headers),
        cmocka_unit_test(test_msg_hostile),
        cmocka_unit_test(test_msg_write),
        cmocka_unit_test(test_auth_vectors),
        cmocka_unit_test(test_auth_parse_dialects),
        cmocka_unit_test(test_sdp_good),
        cmocka_unit_test(test_sdp_h265_and_overrides),
        cmocka_unit_test(test_sdp_hostile),
        cmocka_unit_test(test_transport),
        cmocka_unit_test(test_rtpinfo_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

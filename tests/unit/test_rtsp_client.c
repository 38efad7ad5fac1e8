/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for the RTSP client session: whole sessions driven in memory
 * against scripted server replies, asserting the requests written. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/clock.h"
#include "rtsp/client.h"

#define SEC REEL_NS_PER_SEC

struct sink {
    int n;
    uint8_t channels[16];
    size_t lens[16];
};

static int on_rtp(void *opaque, uint8_t channel, const uint8_t *pkt, size_t len)
{
    struct sink *s = opaque;
    (void)pkt;
    if (s->n < 16) {
        s->channels[s->n] = channel;
        s->lens[s->n] = len;
    }
    s->n++;
    return 0;
}

/* Takes what the client wants to send as a string. */
static char *take(struct reel_rtsp_client *c)
{
    size_t len;
    const uint8_t *p = reel_rtsp_client_pending(c, &len);
    char *s = malloc(len + 1);
    assert_non_null(s);
    assert_non_null(s);
    if (len)
        memcpy(s, p, len);
    s[len] = '\0';
    reel_rtsp_client_sent(c, len);
    return s;
}

static void expect_req(struct reel_rtsp_client *c, const char *start, const char *const *has,
                       const char *const *lacks)
{
    char *s = take(c);
    if (strncmp(s, start, strlen(start)) != 0)
        fail_msg("request \"%s\" does not start with \"%s\"", s, start);
    assert_non_null(strstr(s, "User-Agent: "));
    for (; has && *has; has++)
        if (!strstr(s, *has))
            fail_msg("request \"%s\" lacks \"%s\"", s, *has);
    for (; lacks && *lacks; lacks++)
        if (strstr(s, *lacks))
            fail_msg("request \"%s\" has \"%s\"", s, *lacks);
    free(s);
}

static int feed(struct reel_rtsp_client *c, const char *s, size_t n, int64_t now)
{
    struct reel_err err;
    return reel_rtsp_client_feed(c, (const uint8_t *)s, n, now, &err);
}

static int feed_str(struct reel_rtsp_client *c, const char *s, int64_t now)
{
    return feed(c, s, strlen(s), now);
}

static const char sdp[] =
    "v=0\r\no=- 0 0 IN IP4 10.0.0.5\r\ns=cam\r\na=tool:LIVE555 Streaming Media v2013.04.08\r\n"
    "a=control:*\r\nm=audio 0 RTP/AVP 0\r\na=control:trackID=0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QAH6wrUCgC3IA=,aO48sA==\r\n"
    "a=control:trackID=1\r\n";

static void test_full_session(void **state)
{
    (void)state;
    struct sink sink = { 0 };
    struct reel_rtsp_client_cfg cfg = {
        .url = "rtsp://admin:secret@10.0.0.5/stream",
        .on_rtp = on_rtp,
        .opaque = &sink,
    };
    struct reel_rtsp_client *c;
    struct reel_err err;
    char buf[2048];
    assert_int_equal(reel_rtsp_client_new(&c, &cfg, &err), 0);
    assert_string_equal(reel_rtsp_client_host(c), "10.0.0.5");
    assert_int_equal(reel_rtsp_client_port(c), 554);
    assert_int_equal(reel_rtsp_client_deadline(c), INT64_MAX);
    int64_t now = 1000 * SEC;
    assert_int_equal(reel_rtsp_client_start(c, now), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_OPTIONS);
    expect_req(c, "OPTIONS rtsp://10.0.0.5/stream RTSP/1.0\r\nCSeq: 1\r\n", NULL,
               (const char *const[]){ "Authorization", "admin", "secret", NULL });
    assert_int_equal(reel_rtsp_client_deadline(c), now + 10 * SEC);

    /* Digest challenge (SHA-256 and MD5 offered, in two headers). */
    assert_int_equal(feed_str(c, "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n"
                                 "WWW-Authenticate: Digest realm=\"cam\", nonce=\"n1\", algorithm=MD5\r\n"
                                 "WWW-Authenticate: Digest realm=\"cam\", nonce=\"n1\", "
                                 "algorithm=SHA-256, qop=\"auth\"\r\n\r\n", now), 0);
    expect_req(c, "OPTIONS rtsp://10.0.0.5/stream RTSP/1.0\r\nCSeq: 2\r\n",
               (const char *const[]){ "Authorization: Digest username=\"admin\"", "algorithm=SHA-256",
                                      "nc=00000001", "uri=\"rtsp://10.0.0.5/stream\"", NULL },
               (const char *const[]){ "secret", NULL });
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 2\r\n"
                                 "Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN\r\n\r\n",
                              now), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_DESCRIBE);
    expect_req(c, "DESCRIBE rtsp://10.0.0.5/stream RTSP/1.0\r\nCSeq: 3\r\n",
               (const char *const[]){ "Authorization: Digest", "nc=00000002",
                                      "Accept: application/sdp", NULL }, NULL);

    /* DESCRIBE reply fed byte by byte, a stray RTCP frame before it. */
    memcpy(buf, "$\x01\x00\x02zz", 6);
    int n = 6 + snprintf(buf + 6, sizeof(buf) - 6, "RTSP/1.0 200 OK\r\nCSeq: 3\r\n"
                         "Content-Base: rtsp://10.0.0.5/stream/\r\nContent-Length: %zu\r\n\r\n%s",
                         sizeof(sdp) - 1, sdp);
    for (int i = 0; i < n; i++)
        assert_int_equal(feed(c, buf + i, 1, now), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_SETUP);
    expect_req(c, "SETUP rtsp://10.0.0.5/stream/trackID=1 RTSP/1.0\r\nCSeq: 4\r\n",
               (const char *const[]){ "Transport: RTP/AVP/TCP;unicast;interleaved=0-1",
                                      "Authorization: Digest", NULL },
               (const char *const[]){ "Session:", NULL });

    /* SETUP reply with other channels than asked, then a server request and
     * frames before PLAY's reply, all in one feed. */
    const char setup_reply[] =
        "RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 9876;timeout=20\r\n"
        "Transport: RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=DEADBEEF\r\n\r\n";
    assert_int_equal(feed(c, setup_reply, sizeof(setup_reply) - 1, now), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_PLAY);
    expect_req(c, "PLAY rtsp://10.0.0.5/stream/ RTSP/1.0\r\nCSeq: 5\r\n",
               (const char *const[]){ "Session: 9876\r\n", "Range: npt=0.000-",
                                      "Authorization: Digest", NULL }, NULL);
    /* The '$' on channel 0 (not set up) is garbage once channels are known:
     * it is skipped and the request after it still parsed. */
    const char mixed[] = "$\x02\x00\x04\x80tp1$\x00\x00\x01x"
                         "OPTIONS * RTSP/1.0\r\nCSeq: 77\r\n\r\n"
                         "$\x03\x00\x03\x80tc"
                         "RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: 9876\r\n"
                         "RTP-Info: url=rtsp://elsewhere/x;seq=100;rtptime=-1\r\n\r\n"
                         "$\x02\x00\x05\x80tp22";
    assert_int_equal(feed(c, mixed, sizeof(mixed) - 1, now), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_PLAYING);
    assert_int_equal(sink.n, 3);
    assert_int_equal(sink.channels[0], 2);
    assert_int_equal(sink.lens[0], 4);
    assert_int_equal(sink.channels[1], 3);
    assert_int_equal(sink.lens[2], 5);
    char *answer = take(c);
    assert_string_equal(answer, "RTSP/1.0 200 OK\r\nCSeq: 77\r\nSession: 9876\r\n\r\n");
    free(answer);
    struct reel_rtsp_client_stats st;
    reel_rtsp_client_stats(c, &st);
    assert_int_equal(st.frames_dropped, 1);   /* channel 1 before SETUP */
    assert_int_equal(st.frames_delivered, 3);
    assert_int_equal(st.server_requests, 1);

    const struct reel_rtsp_video *v = reel_rtsp_client_video(c);
    assert_non_null(v);
    assert_int_equal(v->codec, REEL_CODEC_H264);
    assert_int_equal(v->payload_type, 96);
    assert_int_equal(v->clock_rate, 90000);
    assert_int_equal(v->sprop_n, 2);
    assert_int_equal(v->sprop_nals[0][0], 0x67);
    assert_int_equal(v->rtp_channel, 2);
    assert_int_equal(v->rtcp_channel, 3);
    assert_true(v->has_ssrc);
    assert_int_equal(v->ssrc, 0xdeadbeef);
    assert_string_equal(v->tool, "LIVE555 Streaming Media v2013.04.08");
    assert_true(v->has_rtpinfo_seq);
    assert_int_equal(v->rtpinfo_seq, 100);
    assert_false(v->has_rtpinfo_rtptime);

    /* Keep-alive every min(20/2, 30) = 10 s, GET_PARAMETER as Public lists it. */
    assert_int_equal(reel_rtsp_client_deadline(c), now + 10 * SEC);
    assert_int_equal(reel_rtsp_client_tick(c, now + 5 * SEC, &err), 0);
    assert_int_equal(reel_rtsp_client_pending(c, &(size_t){ 0 }), NULL);
    now += 10 * SEC;
    assert_int_equal(reel_rtsp_client_tick(c, now, &err), 0);
    expect_req(c, "GET_PARAMETER rtsp://10.0.0.5/stream/ RTSP/1.0\r\nCSeq: 6\r\n",
               (const char *const[]){ "Session: 9876", "Authorization: Digest", NULL }, NULL);
    /* A non-2xx keep-alive reply is not fatal. */
    assert_int_equal(feed_str(c, "RTSP/1.0 451 Parameter Not Understood\r\nCSeq: 6\r\n\r\n", now), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_PLAYING);
    /* An unanswered one is not fatal either. */
    now += 10 * SEC;
    assert_int_equal(reel_rtsp_client_tick(c, now, &err), 0);
    free(take(c));
    now += 10 * SEC;
    assert_int_equal(reel_rtsp_client_tick(c, now, &err), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_PLAYING);
    expect_req(c, "GET_PARAMETER", (const char *const[]){ "CSeq: 8\r\n", NULL }, NULL);
    reel_rtsp_client_stats(c, &st);
    assert_int_equal(st.keepalives_sent, 3);
    assert_int_equal(st.keepalive_failures, 2);

    assert_int_equal(reel_rtsp_client_stop(c, now), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_TEARDOWN);
    expect_req(c, "TEARDOWN rtsp://10.0.0.5/stream/ RTSP/1.0\r\nCSeq: 9\r\n",
               (const char *const[]){ "Session: 9876", "Authorization", NULL }, NULL);
    /* the late reply to keep-alive 8 is ignored, then TEARDOWN's */
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 8\r\n\r\n", now), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_TEARDOWN);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 9\r\n\r\n", now), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_DONE);
    assert_null(reel_rtsp_client_video(c));
    assert_int_equal(reel_rtsp_client_deadline(c), INT64_MAX);
    reel_rtsp_client_free(c);
    reel_rtsp_client_free(NULL);
}

static struct reel_rtsp_client *new_client(const char *url, const char *user, const char *pass,
                                           bool udp)
{
    struct reel_rtsp_client_cfg cfg = {
        .url = url, .user = user, .password = pass, .udp = udp, .client_rtp_port = 5000,
        .user_agent = "Test/1",
    };
    struct reel_rtsp_client *c;
    assert_int_equal(reel_rtsp_client_new(&c, &cfg, NULL), 0);
    assert_int_equal(reel_rtsp_client_start(c, 0), 0);
    free(take(c));
    return c;
}

/* Answers OPTIONS (CSeq cseq) and DESCRIBE (cseq + 1) with sdp_body. */
static void to_setup(struct reel_rtsp_client *c, int cseq, const char *body)
{
    char buf[2048];
    snprintf(buf, sizeof(buf), "RTSP/1.0 200 OK\r\nCSeq: %d\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n", cseq);
    assert_int_equal(feed_str(c, buf, 0), 0);
    free(take(c));
    snprintf(buf, sizeof(buf), "RTSP/1.0 200 OK\r\nCSeq: %d\r\nContent-Length: %zu\r\n\r\n%s",
             cseq + 1, strlen(body), body);
    feed_str(c, buf, 0);
}

static void test_auth_rejected_and_stale(void **state)
{
    (void)state;
    struct reel_rtsp_client *c = new_client("rtsp://10.0.0.5/s", "u", "wrong", false);
    const char ch[] = "RTSP/1.0 401 Unauthorized\r\nCSeq: %d\r\n"
                      "WWW-Authenticate: Digest realm=\"r\", nonce=\"%s\"%s\r\n\r\n";
    char buf[512];
    snprintf(buf, sizeof(buf), ch, 1, "n1", "");
    assert_int_equal(feed_str(c, buf, 0), 0);
    expect_req(c, "OPTIONS", (const char *const[]){ "CSeq: 2", "Authorization: Digest", NULL }, NULL);
    /* stale=true: one more try with the new nonce */
    snprintf(buf, sizeof(buf), ch, 2, "n2", ", stale=true");
    assert_int_equal(feed_str(c, buf, 0), 0);
    expect_req(c, "OPTIONS", (const char *const[]){ "CSeq: 3", "nonce=\"n2\"", NULL }, NULL);
    snprintf(buf, sizeof(buf), ch, 3, "n3", "");
    struct reel_err err;
    assert_true(reel_rtsp_client_feed(c, (const uint8_t *)buf, strlen(buf), 0, &err) < 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_FAILED);
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_AUTH);
    assert_non_null(strstr(err.msg, "OPTIONS rtsp://10.0.0.5/s: 401"));
    assert_string_equal(err.msg, reel_rtsp_client_error(c));
    reel_rtsp_client_free(c);

    /* no credentials at all */
    c = new_client("rtsp://10.0.0.5/s", NULL, NULL, false);
    snprintf(buf, sizeof(buf), ch, 1, "n1", "");
    assert_true(feed_str(c, buf, 0) < 0);
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_AUTH);
    reel_rtsp_client_free(c);

    /* Basic when only Basic is offered */
    c = new_client("rtsp://10.0.0.5/s", "Aladdin", "open sesame", false);
    assert_int_equal(feed_str(c, "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n"
                                 "WWW-Authenticate: Basic realm=\"cam\"\r\n\r\n", 0), 0);
    expect_req(c, "OPTIONS", (const char *const[]){ "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                                                    "User-Agent: Test/1", NULL }, NULL);
    reel_rtsp_client_free(c);
}

static void test_redirect(void **state)
{
    (void)state;
    struct reel_rtsp_client *c = new_client("rtsp://10.0.0.5/s", NULL, NULL, false);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n", 0), 0);
    free(take(c));
    assert_int_equal(feed_str(c, "RTSP/1.0 302 Moved\r\nCSeq: 2\r\n"
                                 "Location: rtsp://user:pw@10.0.0.9:8554/real\r\n\r\n", 0), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_REDIRECT);
    assert_string_equal(reel_rtsp_client_redirect_url(c), "rtsp://10.0.0.9:8554/real");
    assert_string_equal(reel_rtsp_client_host(c), "10.0.0.9");
    assert_int_equal(reel_rtsp_client_port(c), 8554);
    reel_rtsp_client_free(c);

    c = new_client("rtsp://10.0.0.5/s", NULL, NULL, false);
    assert_true(feed_str(c, "RTSP/1.0 301 Moved\r\nCSeq: 1\r\n\r\n", 0) < 0);
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_PROTOCOL);
    reel_rtsp_client_free(c);
}

/* Issue 11: a camera that offered Digest never gets the password in Basic
 * (not in this session, nor in a later one told digest_seen), unless
 * allow_basic; Basic still works for a camera that never offered Digest. */
static void test_no_basic_after_digest(void **state)
{
    (void)state;
    const char basic[] = "RTSP/1.0 401 Unauthorized\r\nCSeq: %d\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n";
    char buf[512];
    struct reel_err err;
    /* same session: Digest first, then a Basic-only challenge */
    struct reel_rtsp_client *c = new_client("rtsp://10.0.0.5/s", "admin", "secret", false);
    assert_false(reel_rtsp_client_offered_digest(c));
    assert_int_equal(feed_str(c, "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n"
                                 "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\"\r\n\r\n", 0), 0);
    assert_true(reel_rtsp_client_offered_digest(c));
    expect_req(c, "OPTIONS", (const char *const[]){ "Authorization: Digest", NULL }, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n", 0), 0);
    free(take(c));                                   /* DESCRIBE, CSeq 3 */
    snprintf(buf, sizeof(buf), basic, 3);
    assert_true(reel_rtsp_client_feed(c, (const uint8_t *)buf, strlen(buf), 0, &err) < 0);
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_AUTH);
    assert_non_null(strstr(err.msg, "only Basic after the camera offered Digest: password not sent"));
    size_t n;
    assert_null(reel_rtsp_client_pending(c, &n));    /* nothing queued: no Authorization: Basic */
    reel_rtsp_client_free(c);

    /* a later session of the same camera (the caller remembers it) */
    struct reel_rtsp_client_cfg cfg = {
        .url = "rtsp://10.0.0.5/s", .user = "admin", .password = "secret", .user_agent = "Test/1",
        .digest_seen = true,
    };
    assert_int_equal(reel_rtsp_client_new(&c, &cfg, NULL), 0);
    assert_int_equal(reel_rtsp_client_start(c, 0), 0);
    free(take(c));
    snprintf(buf, sizeof(buf), basic, 1);
    assert_true(feed_str(c, buf, 0) < 0);
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_AUTH);
    assert_null(reel_rtsp_client_pending(c, &n));
    reel_rtsp_client_free(c);

    /* allowed by the user */
    cfg.allow_basic = true;
    assert_int_equal(reel_rtsp_client_new(&c, &cfg, NULL), 0);
    assert_int_equal(reel_rtsp_client_start(c, 0), 0);
    free(take(c));
    assert_int_equal(feed_str(c, buf, 0), 0);
    expect_req(c, "OPTIONS", (const char *const[]){ "Authorization: Basic ", NULL }, NULL);
    reel_rtsp_client_free(c);
}

/* Issue 11: a Location of another scheme is refused, naming only its origin. */
static void test_redirect_other_scheme(void **state)
{
    (void)state;
    const char *const locs[] = { "http://evil.example:8080/x?password=p", "rtsps://10.0.0.5/s", "HTTPS://u:p@h/" };
    for (size_t i = 0; i < 3; i++) {
        struct reel_rtsp_client *c = new_client("rtsp://10.0.0.5/s", "admin", "secret", false);
        char buf[256];
        snprintf(buf, sizeof(buf), "RTSP/1.0 302 Found\r\nCSeq: 1\r\nLocation: %s\r\n\r\n", locs[i]);
        assert_true(feed_str(c, buf, 0) < 0);
        assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_FAILED);
        const char *e = reel_rtsp_client_error(c);
        assert_non_null(strstr(e, "redirect to another scheme refused"));
        assert_null(strstr(e, "password"));
        assert_null(strstr(e, "u:p"));
        assert_null(reel_rtsp_client_redirect_url(c));
        reel_rtsp_client_free(c);
    }
}

static void test_errors(void **state)
{
    (void)state;
    struct reel_err err;
    /* timeout */
    struct reel_rtsp_client *c = new_client("rtsp://10.0.0.5/stream", NULL, NULL, false);
    assert_int_equal(reel_rtsp_client_tick(c, 9 * SEC, &err), 0);
    assert_true(reel_rtsp_client_tick(c, 10 * SEC, &err) < 0);
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_TIMEOUT);
    assert_non_null(strstr(err.msg, "OPTIONS rtsp://10.0.0.5/stream"));
    reel_rtsp_client_free(c);

    /* 404 */
    c = new_client("rtsp://10.0.0.5/stream", NULL, NULL, false);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n", 0), 0);
    free(take(c));
    assert_true(reel_rtsp_client_feed(c, (const uint8_t *)"RTSP/1.0 404 Not Found\r\nCSeq: 2\r\n\r\n",
                                      36, 0, &err) < 0);
    assert_string_equal(err.msg, "DESCRIBE rtsp://10.0.0.5/stream: 404 Not Found");
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_NOT_FOUND);
    reel_rtsp_client_free(c);

    /* no video */
    c = new_client("rtsp://10.0.0.5/stream", NULL, NULL, false);
    to_setup(c, 1, "v=0\r\nm=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 26\r\n");
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_FAILED);
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_NO_VIDEO);
    reel_rtsp_client_free(c);

    /* UDP refused: ERR_TRANSPORT so the caller can fall back to TCP */
    c = new_client("rtsp://10.0.0.5/stream", NULL, NULL, true);
    to_setup(c, 1, "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\na=control:rtsp://10.0.0.5/abs\r\n");
    expect_req(c, "SETUP rtsp://10.0.0.5/abs RTSP/1.0",
               (const char *const[]){ "Transport: RTP/AVP;unicast;client_port=5000-5001", NULL }, NULL);
    assert_true(feed_str(c, "RTSP/1.0 461 Unsupported Transport\r\nCSeq: 3\r\n\r\n", 0) < 0);
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_TRANSPORT);
    reel_rtsp_client_free(c);

    /* garbage over the header cap is a protocol failure */
    c = new_client("rtsp://10.0.0.5/stream", NULL, NULL, false);
    char *big = malloc(20000);
    assert_non_null(big);
    memcpy(big, "RTSP/1.0 200 OK\r\nX: ", 20);
    memset(big + 20, 'a', 19980);
    assert_true(feed(c, big, 20000, 0) < 0);
    assert_int_equal(reel_rtsp_client_errkind(c), REEL_RTSP_ERR_PROTOCOL);
    free(big);
    reel_rtsp_client_free(c);

    /* bad URL */
    struct reel_rtsp_client_cfg cfg = { .url = "http://x/" };
    assert_int_equal(reel_rtsp_client_new(&c, &cfg, &err), -EINVAL);
    /* the fuzz entry point with a scripted start */
    const char script[] = "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n$\x00\x00\x01xRTSP/1.0 401 X\r\n"
                          "CSeq: 2\r\nWWW-Authenticate: Digest nonce=a, realm=b\r\n\r\n";
    for (size_t i = 0; i < sizeof(script); i++)
        reel_rtsp_client_fuzz((const uint8_t *)script, i);
}

static void test_udp_session_no_public(void **state)
{
    (void)state;
    struct reel_rtsp_client *c = new_client("rtsp://cam/s", NULL, NULL, true);
    to_setup(c, 1, "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n");
    expect_req(c, "SETUP rtsp://cam/s/track1 RTSP/1.0", NULL, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: abc\r\n"
                                 "Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971\r\n\r\n",
                              0), 0);
    expect_req(c, "PLAY rtsp://cam/s RTSP/1.0", (const char *const[]){ "Session: abc", NULL }, NULL);
    /* a Session id that changes is ignored: keep the first */
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: other\r\n\r\n", 100), 0);
    const struct reel_rtsp_video *v = reel_rtsp_client_video(c);
    assert_non_null(v);
    assert_int_equal(v->server_rtp_port, 6970);
    assert_int_equal(v->session_timeout_s, 60);
    /* keep-alive at min(60/2, 30) = 30 s, OPTIONS as Public lacks GET_PARAMETER */
    assert_int_equal(reel_rtsp_client_deadline(c), 100 + 30 * SEC);
    assert_int_equal(reel_rtsp_client_tick(c, 100 + 30 * SEC, NULL), 0);
    expect_req(c, "OPTIONS rtsp://cam/s RTSP/1.0", (const char *const[]){ "Session: abc", NULL },
               (const char *const[]){ "Authorization", NULL });
    /* interleaved data over a UDP session is dropped */
    assert_int_equal(feed(c, "$\x00\x00\x01x", 5, 0), 0);
    struct reel_rtsp_client_stats st;
    reel_rtsp_client_stats(c, &st);
    assert_int_equal(st.frames_dropped, 1);
    reel_rtsp_client_free(c);
}

static struct reel_rtsp_client *new_audio_client(bool audio, bool udp, struct sink *sink)
{
    struct reel_rtsp_client_cfg cfg = {
        .url = "rtsp://cam/s", .udp = udp, .client_rtp_port = 5000, .audio = audio,
        .on_rtp = on_rtp, .opaque = sink,
    };
    struct reel_rtsp_client *c;
    assert_int_equal(reel_rtsp_client_new(&c, &cfg, NULL), 0);
    assert_int_equal(reel_rtsp_client_start(c, 0), 0);
    free(take(c));
    return c;
}

static const char sdp_av[] =
    "v=0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n"
    "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/16000/1\r\n"
    "a=fmtp:97 streamtype=5;profile-level-id=15;mode=AAC-hbr;config=1408;sizelength=13;"
    "indexlength=3;indexdeltalength=3\r\na=control:a\r\n";

/* Audio on: SETUP video (0-1), then audio (2-3) in the same session, then
 * PLAY; frames on channels 2 and 3 are delivered. */
static void test_audio_setup(void **state)
{
    (void)state;
    struct sink sink = { 0 };
    struct reel_rtsp_client *c = new_audio_client(true, false, &sink);
    to_setup(c, 1, sdp_av);
    expect_req(c, "SETUP rtsp://cam/s/v RTSP/1.0", (const char *const[]){ "interleaved=0-1", NULL }, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: abc;timeout=60\r\n"
                                 "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n", 0), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_SETUP);
    expect_req(c, "SETUP rtsp://cam/s/a RTSP/1.0",
               (const char *const[]){ "interleaved=2-3", "Session: abc", NULL }, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: abc\r\n"
                                 "Transport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n\r\n", 0), 0);
    expect_req(c, "PLAY rtsp://cam/s RTSP/1.0", (const char *const[]){ "Session: abc", NULL }, NULL);
    assert_null(reel_rtsp_client_audio(c));
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 5\r\n"
                                 "RTP-Info: url=rtsp://cam/s/a;seq=9;rtptime=9,url=rtsp://cam/s/v;seq=5;rtptime=7\r\n\r\n", 0), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_PLAYING);
    const struct reel_rtsp_video *v = reel_rtsp_client_video(c);
    assert_int_equal(v->rtpinfo_seq, 5);           /* the video's entry, not the audio's */
    const struct reel_rtsp_audio *a = reel_rtsp_client_audio(c);
    assert_non_null(a);
    assert_int_equal(a->codec, REEL_AUDIO_AAC);
    assert_int_equal(a->payload_type, 97);
    assert_int_equal(a->clock_rate, 16000);
    assert_int_equal(a->channels, 1);
    assert_int_equal(a->aac_config_len, 2);
    assert_int_equal(a->aac_config[0], 0x14);
    assert_int_equal(a->size_length, 13);
    assert_int_equal(a->index_length, 3);
    assert_int_equal(a->index_delta_length, 3);
    assert_int_equal(a->rtp_channel, 2);
    assert_int_equal(a->rtcp_channel, 3);
    assert_string_equal(reel_rtsp_client_audio_note(c), "");
    assert_int_equal(feed(c, "$\x02\x00\x01\x80$\x03\x00\x01\x80$\x00\x00\x01\x80$\x04\x00\x01\x80", 20, 0), 0);
    assert_int_equal(sink.n, 3);
    assert_int_equal(sink.channels[0], 2);
    assert_int_equal(sink.channels[1], 3);
    assert_int_equal(sink.channels[2], 0);
    reel_rtsp_client_free(c);
}

/* Audio off (the default): the audio stream is never set up, its channels
 * are dropped. */
static void test_audio_off(void **state)
{
    (void)state;
    struct sink sink = { 0 };
    struct reel_rtsp_client *c = new_audio_client(false, false, &sink);
    to_setup(c, 1, sdp_av);
    expect_req(c, "SETUP rtsp://cam/s/v RTSP/1.0", NULL, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: abc\r\n"
                                 "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n", 0), 0);
    expect_req(c, "PLAY rtsp://cam/s RTSP/1.0", NULL, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 4\r\n\r\n$\x02\x00\x01\x80", 0), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_PLAYING);
    assert_null(reel_rtsp_client_audio(c));
    assert_int_equal(sink.n, 0);
    reel_rtsp_client_free(c);
}

/* Audio on but unusable: no audio, LATM, UDP, or the audio SETUP refused:
 * video plays alone and the note says why. */
static void test_audio_unusable(void **state)
{
    (void)state;
    static const struct {
        const char *sdp;
        bool udp;
        const char *note;
    } cases[] = {
        { "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n", false, "no audio" },
        { "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n"
          "m=audio 0 RTP/AVP 98\r\na=rtpmap:98 MP4A-LATM/16000\r\na=control:a\r\n", false, "MP4A-LATM" },
        { "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n"
          "m=audio 0 RTP/AVP 98\r\na=rtpmap:98 G726-32/8000\r\na=control:a\r\n", false, "G726-32" },
        { "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n"
          "m=audio 0 RTP/AVP 0\r\na=control:a\r\n", true, "UDP" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sink sink = { 0 };
        struct reel_rtsp_client *c = new_audio_client(true, cases[i].udp, &sink);
        to_setup(c, 1, cases[i].sdp);
        expect_req(c, "SETUP rtsp://cam/s/v RTSP/1.0", NULL, NULL);
        assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: abc\r\n\r\n", 0), 0);
        expect_req(c, "PLAY", NULL, NULL);
        assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 4\r\n\r\n", 0), 0);
        assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_PLAYING);
        assert_null(reel_rtsp_client_audio(c));
        if (!strstr(reel_rtsp_client_audio_note(c), cases[i].note))
            fail_msg("case %zu: note \"%s\" lacks \"%s\"", i, reel_rtsp_client_audio_note(c), cases[i].note);
        reel_rtsp_client_free(c);
    }
    /* PCMU (static PT 0) whose SETUP is refused: PLAY goes on with video. */
    struct sink sink = { 0 };
    struct reel_rtsp_client *c = new_audio_client(true, false, &sink);
    to_setup(c, 1, "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n"
                   "m=audio 0 RTP/AVP 0\r\na=control:a\r\n");
    expect_req(c, "SETUP rtsp://cam/s/v", NULL, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: abc\r\n\r\n", 0), 0);
    expect_req(c, "SETUP rtsp://cam/s/a", (const char *const[]){ "interleaved=2-3", NULL }, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 461 Unsupported Transport\r\nCSeq: 4\r\n\r\n", 0), 0);
    expect_req(c, "PLAY rtsp://cam/s", NULL, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n", 0), 0);
    assert_int_equal(reel_rtsp_client_state(c), REEL_RTSP_PLAYING);
    assert_null(reel_rtsp_client_audio(c));
    assert_non_null(strstr(reel_rtsp_client_audio_note(c), "461"));
    reel_rtsp_client_free(c);
    /* The server puts the audio on the video's channels: not used. */
    memset(&sink, 0, sizeof(sink));
    c = new_audio_client(true, false, &sink);
    to_setup(c, 1, "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n"
                   "m=audio 0 RTP/AVP 8\r\na=control:a\r\n");
    free(take(c));
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: abc\r\n\r\n", 0), 0);
    free(take(c));
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 4\r\n"
                                 "Transport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n", 0), 0);
    expect_req(c, "PLAY", NULL, NULL);
    assert_int_equal(feed_str(c, "RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n", 0), 0);
    assert_null(reel_rtsp_client_audio(c));
    assert_non_null(strstr(reel_rtsp_client_audio_note(c), "channels"));
    reel_rtsp_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_session),
        cmocka_unit_test(test_auth_rejected_and_stale),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_no_basic_after_digest),
        cmocka_unit_test(test_redirect_other_scheme),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_udp_session_no_public),
        cmocka_unit_test(test_audio_setup),
        cmocka_unit_test(test_audio_off),
        cmocka_unit_test(test_audio_unusable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

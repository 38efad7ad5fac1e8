/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unit tests for src/ingest: the camera policy driven by a fake transport
 * (a table of operations that records what it was asked to do) and a fake
 * clock, and the resolver's inline and threaded paths.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "ingest/policy.h"
#include "ingest/resolve.h"
#include "ingest/transport.h"
#include "reel/loop.h"

#define S REEL_NS_PER_SEC

struct fake {
    struct reel_clock_fake clk;
    struct reel_ingest_policy p;
    struct reel_ingest_ops ops;
    /* what the policy did */
    int connects, disconnects, run_opens, run_closes, frames, sample_entries;
    bool last_connect_udp;
    char last_url[256];
    int64_t timer;                   /* armed deadline; -1 = none */
    int64_t ts[64];
    int nts;
    char outages[16][128];           /* "begin:REASON" or "end" */
    int noutages;
    char logs[32][512];
    int nlogs;
    /* how the fake transport answers */
    int connect_ret;                 /* 0, 1 (lookup) or -errno */
    int timer_fail;                  /* timer_set fails this many more times */
    int frame_ret;
};

static int f_connect(void *o, const char *url, bool udp, char *host, size_t cap, struct reel_err *err)
{
    struct fake *f = o;
    f->connects++;
    f->last_connect_udp = udp;
    snprintf(f->last_url, sizeof(f->last_url), "%s", url);
    snprintf(host, cap, "cam.example");
    if (f->connect_ret < 0)
        return reel_err_set(err, -f->connect_ret, "cannot watch the connection to cam.example:554: %s",
                            strerror(-f->connect_ret));
    return f->connect_ret;
}
static void f_disconnect(void *o) { ((struct fake *)o)->disconnects++; }
static int f_sample_entry(void *o, struct reel_err *err) { ((struct fake *)o)->sample_entries++; return 0; }
static int f_run_open(void *o, struct reel_err *err) { ((struct fake *)o)->run_opens++; return 0; }
static int f_run_frame(void *o, int64_t ts, struct reel_err *err)
{
    struct fake *f = o;
    if (f->frame_ret)
        return reel_err_set(err, -f->frame_ret, "disk on fire");
    f->frames++;
    if (f->nts < 64)
        f->ts[f->nts++] = ts;
    return 0;
}
static void f_run_close(void *o) { ((struct fake *)o)->run_closes++; }
static void f_outage_begin(void *o, int64_t wall, const char *reason)
{
    struct fake *f = o;
    if (f->noutages < 16)
        snprintf(f->outages[f->noutages++], 128, "begin:%s", reason);
}
static void f_outage_end(void *o, int64_t wall)
{
    struct fake *f = o;
    if (f->noutages < 16)
        snprintf(f->outages[f->noutages++], 128, "end");
}
static int f_timer_set(void *o, int64_t d)
{
    struct fake *f = o;
    if (f->timer_fail > 0) {
        f->timer_fail--;
        return -ENOMEM;
    }
    f->timer = d;
    return 0;
}
static void f_timer_cancel(void *o) { ((struct fake *)o)->timer = -1; }
static void f_log(void *o, enum reel_log_level lvl, const char *line)
{
    struct fake *f = o;
    if (f->nlogs < 32)
        snprintf(f->logs[f->nlogs++], 512, "%s", line);
}

static void fake_init(struct fake *f, bool udp)
{
    memset(f, 0, sizeof(*f));
    reel_clock_fake_init(&f->clk, 1000 * S, INT64_C(1800000000) * S);
    f->timer = -1;
    f->ops = (struct reel_ingest_ops){
        .connect = f_connect, .disconnect = f_disconnect, .sample_entry = f_sample_entry,
        .run_open = f_run_open, .run_frame = f_run_frame, .run_close = f_run_close,
        .outage_begin = f_outage_begin, .outage_end = f_outage_end, .timer_set = f_timer_set,
        .timer_cancel = f_timer_cancel, .log = f_log, .opaque = f,
    };
    struct reel_ingest_cfg cfg = {
        .url = "rtsp://cam.example/s", .udp = udp, .backoff_min_ns = 1 * S, .backoff_max_ns = 8 * S,
        .clock = &f->clk.clock, .ops = &f->ops,
    };
    reel_ingest_init(&f->p, &cfg);
}

static int64_t now(struct fake *f) { return f->clk.mono; }

/* Advances the fake clock to the armed timer and fires it. */
static bool fire(struct fake *f)
{
    assert_true(f->timer >= 0);
    if (f->timer > now(f))
        reel_clock_fake_advance(&f->clk, f->timer - now(f));
    f->timer = -1;
    return reel_ingest_timer(&f->p);
}

static void rtsp_ev(struct fake *f, enum reel_rtsp_state st, enum reel_rtsp_errkind k, const char *error)
{
    struct reel_ingest_rtsp ev = {
        .state = st, .failed = st == REEL_RTSP_FAILED, .errkind = k, .error = error, .deadline_ns = INT64_MAX,
    };
    reel_ingest_rtsp(&f->p, &ev);
}

static void playing(struct fake *f)
{
    reel_ingest_connected(&f->p);
    rtsp_ev(f, REEL_RTSP_PLAYING, REEL_RTSP_ERR_NONE, "");
}

static int au(struct fake *f, int64_t ts, bool key, bool params_new)
{
    struct reel_ingest_au a = { .ts90k = ts, .len = 1000, .key = key, .params_new = params_new, .codec = "avc1",
                                .width = 640, .height = 360 };
    return reel_ingest_au(&f->p, &a);
}

static bool logged(struct fake *f, const char *needle)
{
    for (int i = 0; i < f->nlogs; i++)
        if (strstr(f->logs[i], needle))
            return true;
    return false;
}

static int count_logs(struct fake *f, const char *needle)
{
    int n = 0;
    for (int i = 0; i < f->nlogs; i++)
        n += strstr(f->logs[i], needle) != NULL;
    return n;
}

static void test_backoff_doubles_to_cap_and_resets(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    assert_int_equal(f.connects, 1);
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_CONNECTING);
    int64_t want[] = { 1, 2, 4, 8, 8, 8 };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        reel_ingest_fail(&f.p, "cannot connect to cam.example:554: Connection refused");
        assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_BACKOFF);
        assert_int_equal(f.timer - now(&f), want[i] * S);
        assert_false(fire(&f));
        assert_int_equal(f.connects, (int)i + 2);
    }
    /* one log line for a cause that repeats */
    assert_int_equal(count_logs(&f, "Connection refused"), 1);
    /* recording starts: the next failure waits the minimum again */
    playing(&f);
    assert_int_equal(au(&f, 1000, true, true), 0);
    assert_int_equal(f.run_opens, 1);
    assert_int_equal(f.frames, 1);
    reel_ingest_fail(&f.p, "camera closed the connection");
    assert_int_equal(f.run_closes, 1);
    assert_int_equal(f.timer - now(&f), 1 * S);
    fire(&f);
    reel_ingest_fail(&f.p, "camera closed the connection");
    assert_int_equal(f.timer - now(&f), 2 * S);
}

static void test_outage_reasons(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    /* an outage left open by a previous process is ended first */
    assert_string_equal(f.outages[0], "end");
    assert_string_equal(f.outages[1], "begin:connecting");
    reel_ingest_fail(&f.p, "cannot connect: Connection refused");
    /* the first real cause replaces "connecting" (no end in between) */
    assert_int_equal(f.noutages, 3);
    assert_string_equal(f.outages[2], "begin:cannot connect: Connection refused");
    fire(&f);
    reel_ingest_fail(&f.p, "cannot connect: Connection refused");
    assert_int_equal(f.noutages, 3);           /* same cause: same outage */
    fire(&f);
    reel_ingest_fail(&f.p, "authentication failed: 401");
    assert_int_equal(f.noutages, 5);           /* a different cause: a new outage */
    assert_string_equal(f.outages[3], "end");
    assert_string_equal(f.outages[4], "begin:authentication failed: 401");
    fire(&f);
    playing(&f);
    au(&f, 0, false, true);                    /* no key frame yet: still out */
    assert_int_equal(f.noutages, 5);
    au(&f, 3000, true, false);
    assert_int_equal(f.noutages, 6);
    assert_string_equal(f.outages[5], "end");
    reel_ingest_stop(&f.p);
    assert_string_equal(f.outages[6], "begin:recorder stopped");
    assert_int_equal(f.run_closes, 1);
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_STOPPED);
    assert_int_equal(f.timer, -1);
}

static void test_timestamp_jump_new_run(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    playing(&f);
    au(&f, 0, true, true);
    au(&f, 3000, false, false);
    au(&f, 3000 + 20 * REEL_90K, false, false);        /* +20 s: new run, wait for a key frame */
    assert_true(logged(&f, "RTP timestamp jumped by 20.000 s"));
    assert_int_equal(f.run_closes, 1);
    assert_int_equal(f.frames, 2);
    au(&f, 6000 + 20 * REEL_90K, true, false);
    assert_int_equal(f.run_opens, 2);
    assert_int_equal(f.frames, 3);
    assert_int_equal(f.ts[2], 6000 + 20 * REEL_90K);
    /* backwards by more than 0.5 s: also a new run */
    au(&f, 20 * REEL_90K - REEL_90K, true, false);
    assert_int_equal(f.run_closes, 2);
    assert_int_equal(f.run_opens, 3);
}

static void test_params_change_on_non_key(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    playing(&f);
    au(&f, 0, true, true);
    au(&f, 3000, false, false);
    assert_int_equal(f.sample_entries, 1);
    au(&f, 6000, false, true);                 /* new parameter sets on a non-key frame */
    assert_int_equal(f.sample_entries, 2);
    assert_int_equal(f.run_closes, 1);
    assert_int_equal(f.frames, 2);
    assert_true(logged(&f, "parameter sets changed (avc1 640x360); new recording"));
    au(&f, 9000, false, false);                /* waits for a key frame */
    assert_int_equal(f.frames, 2);
    au(&f, 12000, true, false);
    assert_int_equal(f.run_opens, 2);
    assert_int_equal(f.frames, 3);
    /* on a key frame the run goes on (the store cuts the recording) */
    au(&f, 15000, true, true);
    assert_int_equal(f.run_closes, 1);
    assert_int_equal(f.frames, 4);
}

static void test_repeated_timestamp_spread(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    playing(&f);
    /* every 10th frame repeats the previous timestamp (as a camera does) */
    int64_t raw = 0;
    for (int i = 0; i < 40; i++) {
        if (i % 10 != 9 || i == 0)
            raw = i * 3000;
        au(&f, raw, i == 0, i == 0);
    }
    assert_int_equal(f.frames, 40);
    for (int i = 1; i < 40; i++)
        assert_int_equal(f.ts[i] - f.ts[i - 1], 3000);
    /* a camera that sends two frames at once and goes on at the normal pace:
     * the offset is taken back by at most half an interval per frame */
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    playing(&f);
    int64_t seq[] = { 0, 3000, 6000, 6000, 9000, 12000, 15000, 18000 };
    for (int i = 0; i < 8; i++)
        au(&f, seq[i], i == 0, i == 0);
    assert_int_equal(f.frames, 8);
    for (int i = 1; i < 8; i++) {
        int64_t d = f.ts[i] - f.ts[i - 1];
        assert_true(d >= 1500 && d <= 4500);
    }
    assert_int_equal(f.ts[7], 18000);          /* back on the camera's clock */
    /* the key frame that starts the run repeats the (dropped) frame before it */
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    playing(&f);
    au(&f, 0, false, true);
    au(&f, 3000, false, false);
    au(&f, 3000, true, false);
    au(&f, 9000, false, false);
    assert_int_equal(f.frames, 2);
    assert_int_equal(f.ts[0], 6000);
    assert_int_equal(f.ts[1], 9000);
}

static void test_media_timeout_stalled(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    playing(&f);
    au(&f, 0, true, true);
    assert_int_equal(f.timer - now(&f), 10 * S);
    reel_clock_fake_advance(&f.clk, 4 * S);
    au(&f, 3000, false, false);
    rtsp_ev(&f, REEL_RTSP_PLAYING, REEL_RTSP_ERR_NONE, "");
    assert_int_equal(f.timer - now(&f), 10 * S);
    assert_false(fire(&f));
    assert_true(logged(&f, "stalled: no video for 10 s; retrying in 1 s"));
    assert_string_equal(f.outages[f.noutages - 1], "begin:stalled: no video for 10 s");
    assert_int_equal(f.run_closes, 1);
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_BACKOFF);
}

static void test_udp_silence_falls_back_to_tcp(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, true);
    reel_ingest_start(&f.p);
    assert_true(f.last_connect_udp);
    playing(&f);
    assert_int_equal(f.timer - now(&f), 5 * S);
    assert_false(fire(&f));
    assert_true(logged(&f, "no UDP packets for 5 s; falling back to TCP"));
    assert_int_equal(f.connects, 2);
    assert_false(f.last_connect_udp);
    assert_int_equal(f.noutages, 2);           /* no outage, no backoff for a switch */
    /* and it stays on TCP after a failure */
    reel_ingest_fail(&f.p, "camera closed the connection");
    fire(&f);
    assert_false(f.last_connect_udp);
}

static void test_tcp_refused_falls_back_to_udp(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    reel_ingest_connected(&f.p);
    rtsp_ev(&f, REEL_RTSP_FAILED, REEL_RTSP_ERR_TRANSPORT, "SETUP rtsp://cam.example/s: 461 Unsupported Transport");
    assert_int_equal(f.connects, 2);
    assert_true(f.last_connect_udp);
    assert_int_equal(count_logs(&f, "server refused RTP over TCP"), 1);
    assert_int_equal(f.noutages, 2);           /* not a failure: no outage of its own */
    playing(&f);
    au(&f, 0, true, true);
    assert_int_equal(f.frames, 1);
    assert_true(logged(&f, "over UDP"));
    /* a later failure reconnects over UDP again, not TCP */
    reel_ingest_fail(&f.p, "camera closed the connection");
    fire(&f);
    assert_true(f.last_connect_udp);
    /* UDP silence while TCP is refused: a failure with backoff, not TCP */
    playing(&f);
    fire(&f);
    assert_true(logged(&f, "no UDP packets for 5 s (TCP refused by the server)"));
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_BACKOFF);
    /* an hour later, a reconnection tries TCP again; a second 461 is silent */
    reel_clock_fake_advance(&f.clk, 3600 * S);
    fire(&f);
    assert_false(f.last_connect_udp);
    reel_ingest_connected(&f.p);
    rtsp_ev(&f, REEL_RTSP_FAILED, REEL_RTSP_ERR_TRANSPORT, "461");
    assert_true(f.last_connect_udp);
    assert_int_equal(count_logs(&f, "server refused RTP over TCP"), 1);
}

static void test_stop_recorder_stopped(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    playing(&f);
    au(&f, 0, true, true);
    int d = f.disconnects;
    reel_ingest_stop(&f.p);
    assert_int_equal(f.disconnects, d + 1);
    assert_int_equal(f.run_closes, 1);
    assert_string_equal(f.outages[f.noutages - 1], "begin:recorder stopped");
    assert_int_equal(f.timer, -1);
    /* events after stop change nothing */
    reel_ingest_fail(&f.p, "late");
    assert_int_equal(f.timer, -1);
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_STOPPED);
    struct reel_ingest_status st;
    reel_ingest_status(&f.p, &st);
    assert_string_equal(st.state_word, "stopped");
}

static void test_registration_refused(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    /* the transport cannot register the socket: fail with the reason, back off */
    f.connect_ret = -ENOMEM;
    reel_ingest_start(&f.p);
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_BACKOFF);
    assert_true(logged(&f, "cannot watch the connection to cam.example:554"));
    assert_int_equal(f.timer - now(&f), 1 * S);
    f.connect_ret = 0;
    fire(&f);
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_CONNECTING);
    /* the backoff timer cannot be armed: log it and retry at once */
    f.timer_fail = 1;
    reel_ingest_fail(&f.p, "camera closed the connection");
    assert_true(logged(&f, "cannot arm the timer"));
    assert_int_equal(f.connects, 3);
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_CONNECTING);
    assert_true(f.timer > now(&f));            /* the connect timer is armed again */
    /* nothing can be armed at all: the camera says so instead of spinning */
    f.timer_fail = 100;
    reel_ingest_fail(&f.p, "camera closed the connection");
    assert_true(logged(&f, "camera stays down until restarted"));
    assert_true(f.connects <= 5);
}

static void test_resolve_timeout(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    f.connect_ret = 1;                         /* a name lookup is under way */
    reel_ingest_start(&f.p);
    struct reel_ingest_status st;
    reel_ingest_status(&f.p, &st);
    assert_string_equal(st.state_word, "resolving");
    assert_int_equal(f.timer - now(&f), 5 * S);
    fire(&f);
    assert_true(logged(&f, "cannot resolve cam.example: timed out"));
    assert_int_equal(f.disconnects, 1);        /* the lookup was cancelled */
    /* answered in time: the connect timeout applies from then */
    fire(&f);
    reel_clock_fake_advance(&f.clk, 2 * S);
    reel_ingest_resolved(&f.p);
    assert_int_equal(f.timer - now(&f), 10 * S);
}

/* Issue 11: a redirect to another host is refused (host and port only in
 * the reason) unless allowed; one to another port of the same host is
 * followed. */
static void test_redirect_hosts(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    reel_ingest_connected(&f.p);
    struct reel_ingest_rtsp ev = { .state = REEL_RTSP_REDIRECT, .deadline_ns = INT64_MAX,
                                   .redirect_url = "rtsp://cam.example:8554/other?token=t" };
    reel_ingest_rtsp(&f.p, &ev);
    assert_int_equal(f.connects, 2);
    assert_string_equal(f.last_url, "rtsp://cam.example:8554/other?token=t");
    assert_true(logged(&f, "redirected to rtsp://cam.example:8554"));
    assert_false(logged(&f, "token"));
    reel_ingest_connected(&f.p);
    ev.redirect_url = "rtsp://evil.example:554/x?token=t";
    reel_ingest_rtsp(&f.p, &ev);
    assert_int_equal(f.connects, 2);                  /* not followed */
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_BACKOFF);
    struct reel_ingest_status st;
    reel_ingest_status(&f.p, &st);
    assert_string_equal(st.last_error, "redirect to another host refused: rtsp://evil.example:554");
    assert_false(logged(&f, "token"));
    assert_string_equal(f.outages[f.noutages - 1], "begin:redirect to another host refused: rtsp://evil.example:554");

    /* allowed for this camera */
    struct reel_ingest_cfg cfg = {
        .url = "rtsp://cam.example/s", .allow_redirect = true, .clock = &f.clk.clock, .ops = &f.ops,
    };
    reel_ingest_init(&f.p, &cfg);
    f.connects = 0;
    reel_ingest_start(&f.p);
    reel_ingest_connected(&f.p);
    reel_ingest_rtsp(&f.p, &ev);
    assert_int_equal(f.connects, 2);
    assert_string_equal(f.last_url, "rtsp://evil.example:554/x?token=t");
    assert_true(logged(&f, "redirected to rtsp://evil.example:554 (another host, allowed; no credentials sent"));
}

/* Issue 11: failure reasons never show a URL's userinfo, path or query;
 * last_error and the outage reason are escaped. */
static void test_reason_redacted_escaped(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    reel_ingest_connected(&f.p);
    rtsp_ev(&f, REEL_RTSP_FAILED, REEL_RTSP_ERR_PROTOCOL,
            "DESCRIBE rtsp://cam.example/s?user=admin&password=pw: unusable control URL \"x\x1b[2J\"");
    struct reel_ingest_status st;
    reel_ingest_status(&f.p, &st);
    assert_string_equal(st.last_error,
                        "RTSP error: DESCRIBE rtsp://cam.example:554: unusable control URL \"x\\x1b[2J\"");
    assert_string_equal(f.outages[f.noutages - 1],
                        "begin:RTSP error: DESCRIBE rtsp://cam.example:554: unusable control URL \"x\\x1b[2J\"");
    /* the log line gets the unescaped text: the logger escapes every line */
    assert_true(logged(&f, "DESCRIBE rtsp://cam.example:554: unusable control URL \"x\x1b[2J\""));
    assert_false(logged(&f, "password"));
}

static void test_storage_failure_deferred(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, false);
    reel_ingest_start(&f.p);
    playing(&f);
    au(&f, 0, true, true);
    f.frame_ret = -EIO;
    assert_int_equal(au(&f, 3000, false, false), -EIO);
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_SESSION);   /* not inside the callback */
    assert_int_equal(au(&f, 6000, false, false), -EIO);
    assert_true(reel_ingest_settle(&f.p));
    assert_int_equal(reel_ingest_state(&f.p), REEL_INGEST_BACKOFF);
    assert_true(logged(&f, "storage: disk on fire"));
    assert_int_equal(f.run_closes, 0);          /* the store closed it itself */
}

static void test_status_window(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, true);
    reel_ingest_start(&f.p);
    playing(&f);
    struct reel_ingest_status st;
    reel_ingest_status(&f.p, &st);
    assert_string_equal(st.state_word, "starting (udp)");
    /* 30 frames/s of 1000 bytes for 12 s */
    for (int i = 0; i < 360; i++) {
        reel_ingest_udp_packet(&f.p, now(&f));
        au(&f, i * 3000, i == 0, i == 0);
        reel_clock_fake_advance(&f.clk, S / 30);
    }
    reel_ingest_status(&f.p, &st);
    assert_string_equal(st.state_word, "recording (udp)");
    assert_true(st.recording);
    assert_true(st.fps > 29.0 && st.fps < 31.0);
    assert_true(st.bitrate_bps > 0.97 * 240000 && st.bitrate_bps < 1.03 * 240000);
    assert_int_equal(st.frames, 360);
    /* nothing for 20 s: the window forgets */
    reel_clock_fake_advance(&f.clk, 20 * S);
    reel_ingest_status(&f.p, &st);
    assert_true(st.fps < 0.01);
}

/* ---- resolver ---- */

struct lookup_result {
    int calls;
    int gai;
    struct reel_loop *loop;
};

static void on_lookup(void *opaque, const struct reel_resolved *res)
{
    struct lookup_result *lr = opaque;
    lr->calls++;
    lr->gai = res->gai_error;
    reel_loop_stop(lr->loop);
}

static void on_deadline(struct reel_timer *t) { reel_loop_stop(t->opaque); }

static void test_resolver(void **state)
{
    (void)state;
    struct reel_resolved a;
    assert_int_equal(reel_resolve_numeric("127.0.0.1", 554, &a), 0);
    assert_int_equal(a.addr.ss_family, AF_INET);
    assert_int_equal(reel_resolve_numeric("::1", 554, &a), 0);
    assert_int_equal(a.addr.ss_family, AF_INET6);
    assert_int_equal(reel_resolve_numeric("localhost", 554, &a), -EAGAIN);

    struct reel_loop *loop;
    assert_int_equal(reel_loop_new(&loop, NULL), 0);
    struct reel_resolver *r;
    assert_int_equal(reel_resolver_new(&r, loop, 2), 0);
    struct lookup_result lr = { .loop = loop };
    struct reel_resolve_req *q, *q2, *q3;
    /* cancelled lookups never call back, whatever state they are in */
    assert_int_equal(reel_resolve_start(r, "localhost", 80, on_lookup, &lr, &q2), 0);
    assert_int_equal(reel_resolve_start(r, "localhost", 80, on_lookup, &lr, &q3), 0);
    assert_int_equal(reel_resolve_start(r, "localhost", 554, on_lookup, &lr, &q), 0);
    reel_resolve_cancel(q2);
    reel_resolve_cancel(q3);
    struct reel_timer t;
    reel_timer_init(&t, on_deadline, loop);
    reel_loop_timer_set(loop, &t, reel_loop_now(loop) + 10 * S);
    reel_loop_run(loop);
    assert_int_equal(lr.calls, 1);
    assert_int_equal(lr.gai, 0);
    /* a lookup still running when the resolver is freed: discarded safely */
    assert_int_equal(reel_resolve_start(r, "localhost", 554, on_lookup, &lr, &q), 0);
    reel_resolve_cancel(q);
    assert_int_equal(reel_resolve_start(r, "localhost", 555, on_lookup, &lr, &q), 0);
    reel_loop_timer_cancel(loop, &t);
    reel_resolver_free(r);
    reel_loop_free(loop);
    assert_int_equal(lr.calls, 1);
}

/* ---- transport, over real sockets on the loopback ---- */

struct tr_result {
    struct reel_loop *loop;
    int connected, failed, family;
    char reason[512];
};

static void tr_connected(void *o, int family)
{
    struct tr_result *t = o;
    t->connected++;
    t->family = family;
    reel_loop_stop(t->loop);
}
static void tr_fail(void *o, const char *reason)
{
    struct tr_result *t = o;
    t->failed++;
    snprintf(t->reason, sizeof(t->reason), "%s", reason);
    reel_loop_stop(t->loop);
}
static void tr_tcp(void *o, uint32_t ev) { (void)o; (void)ev; }
static void tr_udp(void *o, int idx) { (void)o; (void)idx; }

static void test_transport(void **state)
{
    (void)state;
    struct reel_loop *loop;
    assert_int_equal(reel_loop_new(&loop, NULL), 0);
    struct reel_resolver *res;
    assert_int_equal(reel_resolver_new(&res, loop, 1), 0);
    struct tr_result out = { .loop = loop };
    struct reel_transport_cbs cbs = { tr_connected, tr_fail, tr_tcp, tr_udp, &out };
    struct reel_transport t;
    reel_transport_init(&t, loop, res, &cbs);
    struct reel_timer guard;
    reel_timer_init(&guard, on_deadline, loop);

    /* a listening socket: numeric address, connected */
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(ls, 4), 0);
    socklen_t al = sizeof(a);
    getsockname(ls, (struct sockaddr *)&a, &al);
    uint16_t port = ntohs(a.sin_port);
    struct reel_err err = { "" };
    assert_int_equal(reel_transport_open(&t, "127.0.0.1", port, &err), 0);
    reel_loop_timer_set(loop, &guard, reel_loop_now(loop) + 10 * S);
    reel_loop_run(loop);
    assert_int_equal(out.connected, 1);
    assert_int_equal(out.family, AF_INET);
    uint16_t up;
    assert_int_equal(reel_transport_udp_open(&t, AF_INET, 12345, &up), 0);
    assert_int_equal(up % 2, 0);
    /* issue 11: the UDP source filter. Before SETUP's ports are known:
     * the camera's address, any port; then only the announced ports. */
    struct sockaddr_storage from;
    memset(&from, 0, sizeof(from));
    struct sockaddr_in *fi = (struct sockaddr_in *)&from;
    fi->sin_family = AF_INET;
    fi->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fi->sin_port = htons(7000);
    assert_true(reel_transport_udp_from_peer(&t, 0, &from, sizeof(*fi)));
    reel_transport_udp_peer(&t, 6970, 0);                 /* server_port=6970 (-6971) */
    assert_false(reel_transport_udp_from_peer(&t, 0, &from, sizeof(*fi)));
    fi->sin_port = htons(6970);
    assert_true(reel_transport_udp_from_peer(&t, 0, &from, sizeof(*fi)));
    assert_false(reel_transport_udp_from_peer(&t, 1, &from, sizeof(*fi)));
    fi->sin_port = htons(6971);
    assert_true(reel_transport_udp_from_peer(&t, 1, &from, sizeof(*fi)));
    fi->sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);   /* another address, right port */
    assert_false(reel_transport_udp_from_peer(&t, 1, &from, sizeof(*fi)));
    reel_transport_udp_peer(&t, 0, 0);                    /* none announced: any port of the camera */
    assert_false(reel_transport_udp_from_peer(&t, 1, &from, sizeof(*fi)));
    fi->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fi->sin_port = htons(1);
    assert_true(reel_transport_udp_from_peer(&t, 0, &from, sizeof(*fi)));
    char as[REEL_TRANSPORT_ADDR_MAX];
    reel_transport_addr_str(&from, as, sizeof(as));
    assert_string_equal(as, "127.0.0.1:1");
    assert_true(t.udp_fd[0] >= 0 && t.udp_fd[1] >= 0);
    assert_int_equal(reel_transport_want_write(&t, true), 0);
    reel_transport_close(&t);
    assert_int_equal(t.fd, -1);
    assert_int_equal(t.udp_fd[0], -1);

    /* a name, looked up off the loop, then connected */
    assert_int_equal(reel_transport_open(&t, "localhost", port, &err), 1);
    reel_loop_timer_set(loop, &guard, reel_loop_now(loop) + 10 * S);
    reel_loop_run(loop);
    assert_int_equal(out.connected + out.failed, 2);
    reel_transport_close(&t);

    /* nothing listens any more: refused, reported as a failure */
    close(ls);
    assert_int_equal(reel_transport_open(&t, "127.0.0.1", port, &err), 0);
    reel_loop_timer_set(loop, &guard, reel_loop_now(loop) + 10 * S);
    reel_loop_run(loop);
    assert_int_equal(out.failed >= 1, 1);
    assert_non_null(strstr(out.reason, "Connection refused"));
    assert_int_equal(t.fd, -1);

    /* closing while a lookup is under way cancels it: no callback */
    int before = out.connected + out.failed;
    assert_int_equal(reel_transport_open(&t, "localhost", port, &err), 1);
    reel_transport_close(&t);
    reel_loop_timer_set(loop, &guard, reel_loop_now(loop) + S / 5);
    reel_loop_run(loop);
    assert_int_equal(out.connected + out.failed, before);

    reel_loop_timer_cancel(loop, &guard);
    reel_resolver_free(res);
    reel_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_to_cap_and_resets),
        cmocka_unit_test(test_outage_reasons),
        cmocka_unit_test(test_timestamp_jump_new_run),
        cmocka_unit_test(test_params_change_on_non_key),
        cmocka_unit_test(test_repeated_timestamp_spread),
        cmocka_unit_test(test_media_timeout_stalled),
        cmocka_unit_test(test_udp_silence_falls_back_to_tcp),
        cmocka_unit_test(test_tcp_refused_falls_back_to_udp),
        cmocka_unit_test(test_stop_recorder_stopped),
        cmocka_unit_test(test_registration_refused),
        cmocka_unit_test(test_resolve_timeout),
        cmocka_unit_test(test_redirect_hosts),
        cmocka_unit_test(test_reason_redacted_escaped),
        cmocka_unit_test(test_storage_failure_deferred),
        cmocka_unit_test(test_status_window),
        cmocka_unit_test(test_resolver),
        cmocka_unit_test(test_transport),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

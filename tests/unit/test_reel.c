/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/reel: time/size parsing and the event loop's timers. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/clock.h"
#include "reel/control.h"
#include "reel/diskwatch.h"
#include "reel/loop.h"
#include "reel/probe.h"
#include "reel/timefmt.h"
#include "reel/fds.h"

static void test_time_parse(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(reel_time_parse("2026-11-26T23:00:00Z", 0, &t), 0);
    assert_int_equal(t, INT64_C(1795734000) * 90000);
    assert_int_equal(reel_time_parse("2026-11-26T23:00:00.5Z", 0, &t), 0);
    assert_int_equal(t, INT64_C(1795734000) * 90000 + 45000);
    assert_int_equal(reel_time_parse("2026-11-27T00:00:00+01:00", 0, &t), 0);
    assert_int_equal(t, INT64_C(1795734000) * 90000);
    assert_int_equal(reel_time_parse("@1795734000", 0, &t), 0);
    assert_int_equal(t, INT64_C(1795734000) * 90000);
    assert_int_equal(reel_time_parse("-1h30m", 10000 * 90000LL, &t), 0);
    assert_int_equal(t, (10000 - 5400) * 90000LL);
    assert_int_equal(reel_time_parse("now", 77, &t), 0);
    assert_int_equal(t, 77);
    assert_int_equal(reel_time_parse("2026-13-01T00:00:00Z", 0, &t), -ERANGE);
    assert_int_equal(reel_time_parse("yesterday", 0, &t), -EINVAL);
    assert_int_equal(reel_time_parse("2026-11-26T23:00:00Zjunk", 0, &t), -EINVAL);
    assert_int_equal(reel_time_parse("-5x", 0, &t), -EINVAL);
    assert_int_equal(reel_time_parse("", 0, &t), -EINVAL);
    char buf[40];
    reel_time_format(INT64_C(1795734000) * 90000 + 45000, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-26T23:00:00.500Z");
}

static void test_size_parse(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(reel_size_parse("10G", &v), 0);
    assert_int_equal(v, INT64_C(10) << 30);
    assert_int_equal(reel_size_parse("512MiB", &v), 0);
    assert_int_equal(v, INT64_C(512) << 20);
    assert_int_equal(reel_size_parse("1234", &v), 0);
    assert_int_equal(v, 1234);
    assert_int_equal(reel_size_parse("12Q", &v), -EINVAL);
    assert_int_equal(reel_size_parse("-1G", &v), -EINVAL);
}

struct fired {
    int order[8];
    int n;
};

static void timer_cb(struct reel_timer *t)
{
    struct fired *f = t->opaque;
    f->order[f->n++] = (int)(t->deadline / 1000);
}

static void stop_cb(struct reel_timer *t) { reel_loop_stop(t->opaque); }

static void test_loop_timers(void **state)
{
    (void)state;
    struct reel_clock_fake fc;
    reel_clock_fake_init(&fc, 0, 0);
    struct reel_loop *l;
    assert_int_equal(reel_loop_new(&l, &fc.clock), 0);
    struct fired f = { .n = 0 };
    struct reel_timer t[5], stop;
    int deadlines[5] = { 5, 1, 4, 2, 3 };
    for (int i = 0; i < 5; i++) {
        reel_timer_init(&t[i], timer_cb, &f);
        assert_int_equal(reel_loop_timer_set(l, &t[i], deadlines[i] * 1000), 0);
    }
    reel_loop_timer_cancel(l, &t[2]);      /* deadline 4 never fires */
    assert_false(reel_timer_armed(&t[2]));
    reel_loop_timer_set(l, &t[0], 6000);   /* re-arm moves it */
    reel_timer_init(&stop, stop_cb, l);
    reel_loop_timer_set(l, &stop, 7000);
    fc.mono = 10000;                       /* all are due */
    assert_int_equal(reel_loop_run(l), 0);
    assert_int_equal(f.n, 4);
    assert_int_equal(f.order[0], 1);
    assert_int_equal(f.order[1], 2);
    assert_int_equal(f.order[2], 3);
    assert_int_equal(f.order[3], 6);
    reel_loop_free(l);
}

/* A timer more than a second away must still wake epoll_wait on time (the
 * millisecond timeout is computed from nanoseconds). */
static void test_loop_far_timer(void **state)
{
    (void)state;
    struct reel_loop *l;
    assert_int_equal(reel_loop_new(&l, NULL), 0);
    struct reel_timer stop;
    reel_timer_init(&stop, stop_cb, l);
    int64_t t0 = reel_loop_now(l);
    reel_loop_timer_set(l, &stop, t0 + 1500 * INT64_C(1000000));
    assert_int_equal(reel_loop_run(l), 0);
    int64_t el = reel_loop_now(l) - t0;
    assert_true(el >= 1500 * INT64_C(1000000));
    assert_true(el < 10 * REEL_NS_PER_SEC);
    reel_loop_free(l);
}

/* Several descriptors ready in one epoll round; the first callback deletes
 * (and frees) all the others: none of them may be called (ASan would see a
 * use after free; the count sees a call). */
struct round_ctx {
    struct reel_loop *loop;
    struct del_io *ios[4];
    int calls;
};
struct del_io {
    struct reel_io io;
    struct round_ctx *ctx;
};

static void del_others_cb(struct reel_io *io, uint32_t events)
{
    (void)events;
    struct del_io *me = io->opaque;
    struct round_ctx *ctx = me->ctx;
    ctx->calls++;
    for (int i = 0; i < 4; i++) {
        struct del_io *o = ctx->ios[i];
        if (!o)
            continue;
        reel_loop_io_del(ctx->loop, &o->io);
        close(o->io.fd);
        if (o != me) {
            free(o);
            ctx->ios[i] = NULL;
        }
    }
}

static void test_loop_io_deleted_in_round(void **state)
{
    (void)state;
    struct reel_clock_fake fc;
    reel_clock_fake_init(&fc, 0, 0);
    struct round_ctx ctx = { .calls = 0 };
    assert_int_equal(reel_loop_new(&ctx.loop, &fc.clock), 0);
    for (int i = 0; i < 4; i++) {
        struct del_io *d = calloc(1, sizeof(*d));
        assert_non_null(d);
        d->ctx = &ctx;
        d->io.fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);   /* readable at once */
        assert_true(d->io.fd >= 0);
        d->io.cb = del_others_cb;
        d->io.opaque = d;
        ctx.ios[i] = d;
        assert_int_equal(reel_loop_io_add(ctx.loop, &d->io, EPOLLIN), 0);
    }
    struct reel_timer stop;
    reel_timer_init(&stop, stop_cb, ctx.loop);
    assert_int_equal(reel_loop_timer_set(ctx.loop, &stop, 0), 0);   /* after the first round */
    assert_int_equal(reel_loop_run(ctx.loop), 0);
    assert_int_equal(ctx.calls, 1);
    for (int i = 0; i < 4; i++)
        free(ctx.ios[i]);
    reel_loop_free(ctx.loop);
}

/* Registration failures reach the caller, and leave nothing registered. */
static void test_loop_registration_failures(void **state)
{
    (void)state;
    struct reel_clock_fake fc;
    reel_clock_fake_init(&fc, 0, 0);
    struct reel_loop *l;
    assert_int_equal(reel_loop_new(&l, &fc.clock), 0);
    reel_loop_set_max_timers(l, 2);
    struct reel_timer t[3];
    for (int i = 0; i < 3; i++)
        reel_timer_init(&t[i], stop_cb, l);
    assert_int_equal(reel_loop_timer_set(l, &t[0], 10), 0);
    assert_int_equal(reel_loop_timer_set(l, &t[1], 20), 0);
    assert_int_equal(reel_loop_timer_set(l, &t[2], 5), -ENOSPC);
    assert_false(reel_timer_armed(&t[2]));
    /* re-arming an armed timer at the cap is no new entry */
    assert_int_equal(reel_loop_timer_set(l, &t[1], 30), 0);
    reel_loop_timer_cancel(l, &t[0]);
    assert_int_equal(reel_loop_timer_set(l, &t[2], 5), 0);
    reel_loop_timer_cancel(l, &t[1]);
    reel_loop_timer_cancel(l, &t[2]);
    struct reel_io bad = { .fd = -1, .cb = NULL };
    assert_int_equal(reel_loop_io_add(l, &bad, EPOLLIN), -EBADF);
    assert_int_equal(reel_loop_io_mod(l, &bad, EPOLLIN), -EBADF);
    reel_loop_free(l);
}

/* The control socket with fake recorder operations. */
struct fake_ops {
    char last[64];
    int calls;
};

static int fake_changed(void *opaque, const char *name, struct reel_err *err)
{
    struct fake_ops *f = opaque;
    f->calls++;
    snprintf(f->last, sizeof(f->last), "%s", name);
    if (strcmp(name, "bad") == 0)
        return reel_err_set(err, EIO, "camera bad: cannot start:\nsecond line");
    return 0;
}

static int fake_status(void *opaque, struct reel_buf *out)
{
    (void)opaque;
    return reel_buf_printf(out, "{\"id\":1}\n{\"id\":2}\n");
}

static void collect_line(void *opaque, const char *line)
{
    struct reel_buf *b = opaque;
    reel_buf_printf(b, "%s|", line);
}

static void test_control_socket(void **state)
{
    (void)state;
    char dir[] = "/tmp/reel-test-control-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct fake_ops f = { .calls = 0 };
    struct reel_control_ops ops = { .camera_changed = fake_changed, .status = fake_status, .opaque = &f };
    struct reel_logger lg = { .fd = 2, .min = REEL_LOG_ERROR };
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, REEL_CONTROL_SOCKET);
    char errbuf[256];
    /* no recorder */
    assert_int_equal(reel_control_request(dir, "status", REEL_NS_PER_SEC, NULL, NULL, errbuf, sizeof(errbuf)),
                     -ENOENT);
    /* a stale socket file (a crashed recorder) is replaced */
    int stale = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(stale);
    assert_int_equal(reel_control_request(dir, "status", REEL_NS_PER_SEC, NULL, NULL, errbuf, sizeof(errbuf)),
                     -ECONNREFUSED);
    struct reel_control *c;
    struct reel_err err = { "" };
    assert_int_equal(reel_control_start(&c, dir, &ops, &lg, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_int_equal(reel_control_request(dir, "camera cam1", 5 * REEL_NS_PER_SEC, NULL, NULL, errbuf,
                                          sizeof(errbuf)), 0);
    assert_string_equal(f.last, "cam1");
    assert_int_equal(reel_control_request(dir, "camera bad", 5 * REEL_NS_PER_SEC, NULL, NULL, errbuf,
                                          sizeof(errbuf)), -EREMOTEIO);
    assert_string_equal(errbuf, "camera bad: cannot start: second line");   /* one line */
    struct reel_buf lines;
    reel_buf_init(&lines, 4096);
    assert_int_equal(reel_control_request(dir, "status", 5 * REEL_NS_PER_SEC, collect_line, &lines, errbuf,
                                          sizeof(errbuf)), 0);
    assert_int_equal(reel_buf_append_u8(&lines, 0), 0);
    assert_string_equal((char *)lines.data, "{\"id\":1}|{\"id\":2}|");
    reel_buf_free(&lines);
    assert_int_equal(reel_control_request(dir, "reboot", 5 * REEL_NS_PER_SEC, NULL, NULL, errbuf,
                                          sizeof(errbuf)), -EREMOTEIO);
    /* a line over the cap is refused without calling the recorder */
    char longline[REEL_CONTROL_LINE_MAX + 10];
    memset(longline, 'x', sizeof(longline) - 1);
    memcpy(longline, "camera ", 7);
    longline[sizeof(longline) - 1] = '\0';
    int calls = f.calls;
    /* (the client refuses to send it) */
    assert_int_equal(reel_control_request(dir, longline, 5 * REEL_NS_PER_SEC, NULL, NULL, errbuf,
                                          sizeof(errbuf)), -EMSGSIZE);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(fd, longline, strlen(longline), MSG_NOSIGNAL), (ssize_t)strlen(longline));
    char reply[128];
    size_t got = 0;
    for (ssize_t k; got < sizeof(reply) - 1 && (k = recv(fd, reply + got, sizeof(reply) - 1 - got, 0)) > 0;)
        got += (size_t)k;
    reply[got] = '\0';
    close(fd);
    assert_string_equal(reply, "error line too long\n");
    assert_int_equal(f.calls, calls);

    reel_control_stop(c);
    assert_int_equal(stat(path, &st), -1);                 /* removed at stop */
    rmdir(dir);
}

/* The descriptor budget of `reel run` (issue 11): the recorder's share
 * comes first, the HTTP server gets the rest, capped; under ulimit -n 256
 * with 8 cameras it still gets a working share. */
static void test_fds_plan(void **state)
{
    (void)state;
    struct reel_fds_plan p;
    reel_fds_plan(256, 8, &p);
    assert_int_equal(p.reserve, REEL_FDS_BASE + 8 * REEL_FDS_PER_CAMERA);
    assert_int_equal(p.conn_max, 256 - p.reserve - REEL_FDS_HTTP_FIXED);
    assert_true(p.reserve + REEL_FDS_HTTP_FIXED + p.conn_max <= 256);
    assert_int_equal(p.downloads_max, p.conn_max / 2);
    assert_false(p.scarce);
    reel_fds_plan(1 << 20, 8, &p);
    assert_int_equal(p.conn_max, REEL_FDS_CONN_MAX);
    assert_int_equal(p.downloads_max, 32);
    reel_fds_plan(128, 8, &p);          /* too few: the minimum, and said so */
    assert_true(p.scarce);
    assert_int_equal(p.conn_max, REEL_FDS_CONN_MIN);
    uint64_t lim;
    assert_int_equal(reel_fds_raise(&lim), 0);
    assert_true(lim >= 64);
}

/* The camera test's reason words from the recorder's failure texts. */
static void test_probe_reasons(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "authentication failed: DESCRIBE rtsp://h:554: 401 Unauthorized", "auth" },
        { "RTSP error: rtsp://h:554 offers only Basic after the camera offered Digest: password not sent", "auth" },
        { "cannot connect to 127.0.0.1:9: Connection refused", "refused" },
        { "cannot resolve cam.invalid: Name or service not known", "unreachable" },
        { "cannot connect to 192.0.2.1:554: No route to host", "unreachable" },
        { "cannot connect to 192.0.2.1: timed out", "timeout" },
        { "camera did not answer: DESCRIBE timed out", "timeout" },
        { "stalled: no video for 10 s", "timeout" },
        { "redirect to another host refused: rtsp://192.0.2.1:554", "redirect" },
        { "too many redirects", "redirect" },
        { "no H.264/H.265 video in the stream: DESCRIBE rtsp://h: no H.264 or H.265 video stream in the SDP", "no_video" },
        { "RTSP error: SPS: unsupported profile", "unsupported_codec" },
        { "RTSP error: malformed response", "protocol" },
        { "camera closed the connection", "protocol" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(reel_probe_reason(cases[i][0]), cases[i][1]);
}

/* Issue 15: disk.full's measure, as df counts it: used / (used + what
 * Reel may use), rounded up; the root's reserve is not free to Reel. */
static void test_diskwatch_percent(void **state)
{
    (void)state;
    assert_int_equal(reel_diskwatch_percent(100, 100, 100), 0);
    assert_int_equal(reel_diskwatch_percent(100, 5, 5), 95);
    assert_int_equal(reel_diskwatch_percent(1000, 60, 10), 99);    /* 50 blocks reserved for root */
    assert_int_equal(reel_diskwatch_percent(1000, 0, 0), 100);
    assert_int_equal(reel_diskwatch_percent(1000, 999, 999), 1);   /* 1 block used: rounded up */
    assert_int_equal(reel_diskwatch_percent(0, 0, 0), 0);
    assert_int_equal(reel_diskwatch_percent(10, 20, 20), 0);       /* nonsense from statvfs */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diskwatch_percent),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_probe_reasons),
        cmocka_unit_test(test_size_parse),
        cmocka_unit_test(test_loop_timers),
        cmocka_unit_test(test_loop_far_timer),
        cmocka_unit_test(test_loop_io_deleted_in_round),
        cmocka_unit_test(test_loop_registration_failures),
        cmocka_unit_test(test_control_socket),
        cmocka_unit_test(test_fds_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

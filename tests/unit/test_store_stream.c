/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for reel_store_camera_stream (src/store/stream.c): finding and
 * creating a camera's "<camera>~audio" row, with a real store and SQLite. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/store.h"

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static void test_stream_rows(void **state)
{
    (void)state;
    char dir[] = "/tmp/reel-stream-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct reel_err err = { "" };
    assert_int_equal(reel_store_init(dir, &err), 0);
    struct reel_store *s;
    struct reel_store_cfg cfg = { .datadir = dir, .mode = REEL_STORE_ADMIN };
    assert_int_equal(reel_store_open(&s, &cfg, &err), 0);
    struct reel_camera c = { .udp = true, .retain_bytes = 5000000, .retain_seconds = 3600 };
    snprintf(c.name, sizeof(c.name), "front");
    snprintf(c.url, sizeof(c.url), "rtsp://192.0.2.1/s");
    snprintf(c.user, sizeof(c.user), "admin");
    assert_int_equal(reel_store_camera_add(s, &c, "s3cret", &err), 0);
    struct reel_camera other = { 0 };
    snprintf(other.name, sizeof(other.name), "back");
    snprintf(other.url, sizeof(other.url), "rtsp://192.0.2.2/s");
    assert_int_equal(reel_store_camera_add(s, &other, NULL, &err), 0);

    struct reel_camera a;
    assert_int_equal(reel_store_camera_stream(s, c.id, REEL_STREAM_AUDIO, false, &a, &err), -ENOENT);
    assert_int_equal(reel_store_camera_stream(s, c.id, REEL_STREAM_AUDIO, true, &a, &err), 0);
    assert_string_equal(a.name, "front~audio");
    assert_int_equal(a.parent_id, c.id);
    assert_int_equal(a.kind, REEL_STREAM_AUDIO);
    assert_string_equal(a.url, c.url);
    assert_string_equal(a.user, "admin");
    assert_true(a.udp);
    assert_int_equal(a.retain_bytes, 5000000);
    assert_int_equal(a.retain_seconds, 3600);
    assert_int_equal(a.dir_id, c.dir_id);
    assert_false(a.audio);
    char pw[64];
    assert_int_equal(reel_store_camera_password(s, a.id, pw, sizeof(pw)), 0);
    assert_string_equal(pw, "s3cret");
    /* found again, not inserted twice */
    struct reel_camera a2;
    assert_int_equal(reel_store_camera_stream(s, c.id, REEL_STREAM_AUDIO, true, &a2, &err), 0);
    assert_int_equal(a2.id, a.id);
    assert_int_equal(reel_store_camera_stream(s, c.id, REEL_STREAM_AUDIO, false, &a2, &err), 0);
    assert_int_equal(a2.id, a.id);
    /* the other camera has none; a stream row has no streams; no main kind */
    assert_int_equal(reel_store_camera_stream(s, other.id, REEL_STREAM_AUDIO, false, &a2, &err), -ENOENT);
    assert_true(reel_store_camera_stream(s, a.id, REEL_STREAM_AUDIO, true, &a2, &err) < 0);
    assert_int_equal(reel_store_camera_stream(s, c.id, REEL_STREAM_MAIN, true, &a2, &err), -EINVAL);
    assert_int_equal(reel_store_camera_stream(s, 9999, REEL_STREAM_AUDIO, true, &a2, &err), -ENOENT);
    /* a camera without a password: the row has none either */
    assert_int_equal(reel_store_camera_stream(s, other.id, REEL_STREAM_AUDIO, true, &a2, &err), 0);
    assert_string_equal(a2.name, "back~audio");
    assert_false(a2.has_password);
    struct reel_camera got;
    assert_int_equal(reel_store_camera_get(s, "front~audio", &got, &err), 0);
    assert_int_equal(got.id, a.id);
    reel_store_close(s);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/http/sse.c (issue 15): the live event stream's
 * fan-out on a real bus: each stream gets the notes of the cameras its
 * user may see (a sub-stream with its camera), site-wide ones, never
 * another camera's; the SSE text; the caps; a stream that does not read
 * is marked lost, the bus never waits. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "db/db.h"
#include "events/events.h"
#include "http/sse.h"

struct fix {
    char dir[64];
    struct reel_events *bus;
    struct reel_http_sse *sse;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/reel-sse-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/reel.db", f->dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fclose(fp);
    struct reel_err err = { "" };
    sqlite3 *db;
    if (reel_db_open(&db, f->dir, REEL_DB_CREATE, &err) < 0 || reel_db_exec(db, "BEGIN IMMEDIATE", &err) < 0 ||
        reel_db_create(db, &err) < 0 ||
        reel_db_exec(db, "INSERT INTO storage_dir (id, path, uuid) VALUES (1, '/x', 'u'); "
                         "INSERT INTO camera (id, name, url, dir_id) VALUES (1, 'front', 'rtsp://a/', 1), "
                         "(2, 'back', 'rtsp://b/', 1); INSERT INTO camera (id, name, url, dir_id, parent_id, kind) "
                         "VALUES (3, 'front~sub', 'rtsp://a/s', 1, 1, 'sub'); COMMIT", &err) < 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    sqlite3_close(db);
    struct reel_events_cfg cfg = { .datadir = f->dir };
    if (reel_events_new(&f->bus, &cfg, &err) < 0 || reel_http_sse_new(&f->sse, f->bus) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    reel_http_sse_free(f->sse);
    reel_events_free(f->bus);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    int r = system(cmd);
    free(f);
    return r == 0 ? 0 : -1;
}

static void instant(struct fix *f, int64_t camera_id, const char *kind)
{
    struct reel_event ev = { .camera_id = camera_id };
    snprintf(ev.kind, sizeof(ev.kind), "%s", kind);
    assert_int_equal(reel_events_instant(f->bus, &ev), 0);
}

static size_t take_all(struct reel_http_sse_client *c, char *buf, size_t cap, bool *lost)
{
    size_t n = 0, k;
    while ((k = reel_http_sse_take(c, buf + n, cap - 1 - n, lost)) > 0)
        n += k;
    buf[n] = 0;
    return n;
}

static void test_visibility(void **state)
{
    struct fix *f = *state;
    char names[1][64] = { "front" };
    struct reel_http_acl viewer = { .loaded = true, .names = names, .n = 1 };
    struct reel_http_acl none = { .loaded = false };
    struct reel_http_sse_client *v, *a, *u;
    assert_int_equal(reel_http_sse_open(f->sse, 10, "viewer", &viewer, &v), 0);
    assert_int_equal(reel_http_sse_open(f->sse, 11, "admin", &none, &a), 0);
    assert_int_equal(reel_http_sse_open(f->sse, 12, "viewer", &none, &u), 0);   /* list unread: sees no camera */
    instant(f, 2, REEL_EVENT_STORAGE_ERROR);           /* back */
    instant(f, 3, REEL_EVENT_STORAGE_ERROR);           /* front~sub */
    instant(f, 0, REEL_EVENT_DISK_FULL);               /* site-wide */
    reel_events_sync(f->bus);
    struct pollfd p = { .fd = reel_http_sse_fd(v), .events = POLLIN };
    assert_int_equal(poll(&p, 1, 0), 1);
    static char buf[65536];
    bool lost = true;
    take_all(v, buf, sizeof(buf), &lost);
    assert_false(lost);
    assert_null(strstr(buf, "\"back\""));
    assert_non_null(strstr(buf, "event: instant\ndata: {\"type\":\"instant\",\"event\":{\"id\":2,\"camera\":\"front~sub\""));
    assert_non_null(strstr(buf, "\"kind\":\"disk.full\""));
    take_all(a, buf, sizeof(buf), &lost);
    assert_non_null(strstr(buf, "\"back\""));
    assert_non_null(strstr(buf, "\"front~sub\""));
    take_all(u, buf, sizeof(buf), &lost);
    assert_null(strstr(buf, "\"back\""));
    assert_null(strstr(buf, "front"));
    assert_non_null(strstr(buf, "disk.full"));
    reel_http_sse_close(v);
    reel_http_sse_close(a);
    reel_http_sse_close(u);
}

static void test_caps_and_lost(void **state)
{
    struct fix *f = *state;
    struct reel_http_acl all = { .loaded = true, .all = true };
    struct reel_http_sse_client *c[REEL_SSE_STREAMS_MAX + 1];
    for (int i = 0; i < REEL_SSE_STREAMS_PER_USER; i++)
        assert_int_equal(reel_http_sse_open(f->sse, 1, "viewer", &all, &c[i]), 0);
    struct reel_http_sse_client *x;
    assert_int_equal(reel_http_sse_open(f->sse, 1, "viewer", &all, &x), -EBUSY);
    for (int i = REEL_SSE_STREAMS_PER_USER; i < REEL_SSE_STREAMS_MAX; i++)
        assert_int_equal(reel_http_sse_open(f->sse, 100 + i, "viewer", &all, &c[i]), 0);
    assert_int_equal(reel_http_sse_open(f->sse, 999, "viewer", &all, &x), -EBUSY);
    reel_http_sse_close(c[0]);
    assert_int_equal(reel_http_sse_open(f->sse, 999, "viewer", &all, &c[0]), 0);
    /* nobody reads: each queue fills to its cap, then is lost; the bus goes on */
    for (int i = 0; i < 1200; i++)
        instant(f, 1, REEL_EVENT_STORAGE_ERROR);
    reel_events_sync(f->bus);
    assert_int_equal(reel_events_dropped(f->bus), 0);
    bool lost = false;
    static char buf[REEL_SSE_QUEUE_BYTES + 1];
    size_t n = take_all(c[1], buf, sizeof(buf), &lost);
    assert_true(lost);
    assert_true(n <= REEL_SSE_QUEUE_BYTES);
    for (int i = 0; i < REEL_SSE_STREAMS_MAX; i++)
        reel_http_sse_close(c[i]);
}

static void test_format(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(reel_http_sse_format("end", "{}", out, sizeof(out)), strlen("event: end\ndata: {}\n\n"));
    assert_string_equal(out, "event: end\ndata: {}\n\n");
    assert_int_equal(reel_http_sse_format("end", "{\n}", out, sizeof(out)), 0);      /* no second line */
    assert_int_equal(reel_http_sse_format("a\rb", "{}", out, sizeof(out)), 0);
    assert_int_equal(reel_http_sse_format("start", "{\"x\":\"0123456789012345678901234567890123456789\"}", out,
                                          sizeof(out)), 0);                       /* does not fit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_visibility, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_and_lost, setup, teardown),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

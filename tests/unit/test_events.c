/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/events: rows written and notes in order, ids after
 * the table's largest, events left open closed at the next start, a full
 * queue dropping the oldest and counting, the camera's name filled in,
 * the JSON form. */
#include <errno.h>
#include <pthread.h>
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
#include "events/query.h"

struct fix {
    char dir[64];
    struct reel_clock_fake clk;
};

#define T0 (INT64_C(1780000000) * REEL_NS_PER_SEC)

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/reel-events-XXXXXX");
    struct reel_err err = { "" };
    if (!mkdtemp(f->dir))
        return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/reel.db", f->dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fclose(fp);
    sqlite3 *db;
    if (reel_db_open(&db, f->dir, REEL_DB_CREATE, &err) < 0 || reel_db_exec(db, "BEGIN IMMEDIATE", &err) < 0 ||
        reel_db_create(db, &err) < 0 ||
        reel_db_exec(db, "INSERT INTO storage_dir (id, path, uuid) VALUES (1, '/nonexistent', 'u')", &err) < 0 ||
        reel_db_exec(db, "INSERT INTO camera (id, name, url, dir_id) VALUES (7, 'front', 'rtsp://x/', "
                         "1); COMMIT", &err) < 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    sqlite3_close(db);
    reel_clock_fake_init(&f->clk, 0, T0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static struct reel_events *open_bus(struct fix *f, size_t queue_max)
{
    struct reel_events_cfg cfg = { .datadir = f->dir, .clock = &f->clk.clock, .queue_max = queue_max };
    struct reel_err err = { "" };
    struct reel_events *e = NULL;
    int r = reel_events_new(&e, &cfg, &err);
    if (r < 0)
        fprintf(stderr, "reel_events_new: %s\n", err.msg);
    assert_int_equal(r, 0);
    return e;
}

/* What the listener heard, in order. */
struct heard {
    int n;
    char types[64][12];
    int64_t ids[64];
    char cameras[64][64];
    int64_t end90k[64];
};

static void on_note(void *opaque, const struct reel_event_note *n)
{
    struct heard *h = opaque;
    if (h->n >= 64)
        return;
    snprintf(h->types[h->n], sizeof(h->types[0]), "%s", n->type);
    h->ids[h->n] = n->ev->id;
    snprintf(h->cameras[h->n], sizeof(h->cameras[0]), "%s", n->ev->camera);
    h->end90k[h->n] = n->ev->end90k;
    h->n++;
}

static struct reel_event mk(const char *kind, int64_t camera_id, int64_t start90k)
{
    struct reel_event ev = { .camera_id = camera_id, .start90k = start90k };
    snprintf(ev.kind, sizeof(ev.kind), "%s", kind);
    snprintf(ev.source, sizeof(ev.source), "recorder");
    return ev;
}

static int64_t count_rows(struct fix *f, const char *where)
{
    sqlite3 *db;
    struct reel_err err = { "" };
    assert_int_equal(reel_db_open(&db, f->dir, REEL_DB_READ, &err), 0);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM event WHERE %s", where);
    sqlite3_stmt *st;
    assert_int_equal(reel_db_prepare(db, sql, &st, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_order_and_rows(void **state)
{
    struct fix *f = *state;
    struct reel_events *e = open_bus(f, 0);
    struct heard h = { 0 };
    assert_int_equal(reel_events_listen(e, on_note, &h), 0);

    struct reel_event ev = mk(REEL_EVENT_CAMERA_OFFLINE, 7, 1000);
    snprintf(ev.detail, sizeof(ev.detail), "connection refused");
    int64_t id1 = 0;
    assert_int_equal(reel_events_begin(e, &ev, &id1), 0);
    assert_int_equal(id1, 1);
    assert_true(reel_events_is_open(e, id1));
    struct reel_event st = mk(REEL_EVENT_STORAGE_ERROR, 0, 2000);
    assert_int_equal(reel_events_instant(e, &st), 0);
    assert_int_equal(reel_events_end(e, id1, 3000, NULL, -1), 0);
    assert_false(reel_events_is_open(e, id1));
    assert_int_equal(reel_events_end(e, id1, 3000, NULL, -1), -ENOENT);
    assert_int_equal(reel_events_end(e, 99, 3000, NULL, -1), -ENOENT);
    /* a kind is required */
    struct reel_event bad = mk("", 7, 1);
    assert_int_equal(reel_events_instant(e, &bad), -EINVAL);
    reel_events_sync(e);

    assert_int_equal(h.n, 3);
    assert_string_equal(h.types[0], "start");
    assert_string_equal(h.types[1], "instant");
    assert_string_equal(h.types[2], "end");
    assert_int_equal(h.ids[0], 1);
    assert_int_equal(h.ids[1], 2);
    assert_int_equal(h.ids[2], 1);
    assert_string_equal(h.cameras[0], "front");   /* filled in from camera_id */
    assert_string_equal(h.cameras[1], "");
    assert_int_equal(h.end90k[0], 0);
    assert_int_equal(h.end90k[2], 3000);
    reel_events_unlisten(e, on_note, &h);
    reel_events_free(e);

    assert_int_equal(count_rows(f, "id = 1 AND camera_id = 7 AND kind = 'camera.offline' AND start90k = 1000 "
                                   "AND end90k = 3000 AND detail = 'connection refused'"), 1);
    assert_int_equal(count_rows(f, "id = 2 AND camera_id IS NULL AND kind = 'storage.error'"), 1);
}

/* An event of a camera that no longer exists (by id or by name) is
 * neither written nor told: never turned into a site-wide event that
 * every user would see. */
static void test_gone_camera_dropped(void **state)
{
    struct fix *f = *state;
    struct reel_events *e = open_bus(f, 0);
    struct heard h = { 0 };
    assert_int_equal(reel_events_listen(e, on_note, &h), 0);
    struct reel_event by_id = mk(REEL_EVENT_STORAGE_ERROR, 99, 100);
    assert_int_equal(reel_events_instant(e, &by_id), 0);
    struct reel_event by_name = mk(REEL_EVENT_MOTION, 0, 200);
    snprintf(by_name.camera, sizeof(by_name.camera), "nosuch");
    assert_int_equal(reel_events_instant(e, &by_name), 0);
    struct reel_event named = mk(REEL_EVENT_MOTION, 0, 300);
    snprintf(named.camera, sizeof(named.camera), "front");
    assert_int_equal(reel_events_instant(e, &named), 0);
    reel_events_sync(e);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.cameras[0], "front");
    reel_events_unlisten(e, on_note, &h);
    reel_events_free(e);
    assert_int_equal(count_rows(f, "1"), 1);
    assert_int_equal(count_rows(f, "camera_id = 7 AND start90k = 300"), 1);
}

/* Ids continue after the table's largest; an event left open is closed
 * at the next start (end = that start, detail says so). */
static void test_ids_and_close_at_restart(void **state)
{
    struct fix *f = *state;
    struct reel_events *e = open_bus(f, 0);
    struct reel_event ev = mk(REEL_EVENT_MOTION, 7, 0);   /* 0: now */
    snprintf(ev.source, sizeof(ev.source), "motion");
    int64_t a, b;
    assert_int_equal(reel_events_begin(e, &ev, &a), 0);
    struct reel_event off = mk(REEL_EVENT_CAMERA_OFFLINE, 7, 0);
    snprintf(off.detail, sizeof(off.detail), "timeout");
    assert_int_equal(reel_events_begin(e, &off, &b), 0);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    reel_events_sync(e);
    reel_events_free(e);   /* "crash": both left open */
    assert_int_equal(count_rows(f, "end90k IS NULL"), 2);

    reel_clock_fake_advance(&f->clk, 60 * REEL_NS_PER_SEC);
    e = open_bus(f, 0);
    int64_t restart90k = reel_ns_to_90k(T0 + 60 * REEL_NS_PER_SEC);
    char where[200];
    snprintf(where, sizeof(where), "end90k = %lld AND detail = 'closed at restart'", (long long)restart90k);
    assert_int_equal(count_rows(f, where), 1);
    assert_int_equal(count_rows(f, "detail = 'timeout (closed at restart)'"), 1);
    assert_false(reel_events_is_open(e, 1));
    int64_t c;
    assert_int_equal(reel_events_begin(e, &ev, &c), 0);
    assert_int_equal(c, 3);
    assert_int_equal(reel_events_end(e, c, 0, "door,gate", 42), 0);
    reel_events_free(e);   /* writes what is queued first */
    assert_int_equal(count_rows(f, "id = 3 AND zones = 'door,gate' AND peak = 42 AND end90k IS NOT NULL"), 1);
    assert_int_equal(count_rows(f, "end90k IS NULL"), 0);
}

/* A listener that blocks until released, to fill the queue behind it. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open, entered;
    struct heard h;
};

static void on_gate(void *opaque, const struct reel_event_note *n)
{
    struct gate *g = opaque;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    on_note(&g->h, n);
}

static void test_queue_overflow(void **state)
{
    struct fix *f = *state;
    struct reel_events *e = open_bus(f, 4);
    struct gate g = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
    assert_int_equal(reel_events_listen(e, on_gate, &g), 0);
    struct reel_event ev = mk(REEL_EVENT_STORAGE_ERROR, 0, 100);
    assert_int_equal(reel_events_instant(e, &ev), 0);          /* id 1: the bus takes it and blocks */
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    for (int i = 0; i < 10; i++) {                             /* ids 2..11 into a queue of 4 */
        ev.start90k = 200 + i;
        assert_int_equal(reel_events_instant(e, &ev), 0);     /* never waits */
    }
    assert_int_equal(reel_events_dropped(e), 6);
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    reel_events_sync(e);
    /* the first, then the newest four, in order */
    assert_int_equal(g.h.n, 5);
    assert_int_equal(g.h.ids[0], 1);
    for (int i = 1; i < 5; i++)
        assert_int_equal(g.h.ids[i], 7 + i);
    reel_events_unlisten(e, on_gate, &g);
    reel_events_free(e);
    assert_int_equal(count_rows(f, "1"), 5);
}

static void test_json(void **state)
{
    (void)state;
    struct reel_event ev = mk(REEL_EVENT_MOTION, 7, 90000);
    ev.id = 12;
    snprintf(ev.camera, sizeof(ev.camera), "front");
    snprintf(ev.source, sizeof(ev.source), "motion");
    snprintf(ev.zones, sizeof(ev.zones), "door,gate");
    ev.peak = 37;
    struct reel_event_note n = { .type = "start", .ev = &ev };
    char *s = reel_event_note_json(&n);
    assert_non_null(s);
    assert_string_equal(s, "{\"type\":\"start\",\"event\":{\"id\":12,\"camera\":\"front\",\"kind\":\"motion\","
                           "\"source\":\"motion\",\"start\":\"1970-01-01T00:00:01.000Z\",\"start90k\":90000,"
                           "\"end\":null,\"end90k\":null,\"zones\":[\"door\",\"gate\"],\"peak\":37,\"detail\":\"\"}}");
    free(s);
}

/* The list: newest first, filters (camera and its sub-stream, kind, time
 * overlap), the before_id cursor; the timeline's spans by start. */
static void test_query_and_spans(void **state)
{
    struct fix *f = *state;
    struct reel_err err = { "" };
    sqlite3 *db;
    assert_int_equal(reel_db_open(&db, f->dir, REEL_DB_WRITE, &err), 0);
    assert_int_equal(reel_db_exec(db, "INSERT INTO camera (id, name, url, dir_id, parent_id, kind) VALUES "
                                      "(8, 'front~sub', 'rtsp://x/s', 1, 7, 'sub'), (9, 'back', 'rtsp://y/', 1, NULL, 'main')",
                                  &err), 0);
    struct reel_events *e = open_bus(f, 0);
    int64_t id;
    struct reel_event a = mk(REEL_EVENT_CAMERA_OFFLINE, 7, 1000);   /* 1: front, 1000..5000 */
    assert_int_equal(reel_events_begin(e, &a, &id), 0);
    assert_int_equal(reel_events_end(e, id, 5000, NULL, -1), 0);
    struct reel_event b = mk(REEL_EVENT_MOTION, 8, 2000);           /* 2: front~sub, open */
    assert_int_equal(reel_events_begin(e, &b, &id), 0);
    struct reel_event c = mk(REEL_EVENT_STORAGE_ERROR, 0, 3000);    /* 3: site-wide */
    assert_int_equal(reel_events_instant(e, &c), 0);
    struct reel_event d = mk(REEL_EVENT_MOTION, 9, 6000);           /* 4: back */
    assert_int_equal(reel_events_instant(e, &d), 0);
    reel_events_sync(e);

    struct reel_event_row *v;
    size_t n;
    struct reel_event_filter all = { .limit = 10 };
    assert_int_equal(reel_event_query(db, &all, &v, &n, &err), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i].ev.id, 4 - (int64_t)i);
    assert_string_equal(v[1].ev.camera, "");
    assert_string_equal(v[2].ev.camera, "front~sub");
    assert_string_equal(v[2].visible_as, "front");
    assert_int_equal(v[2].ev.end90k, 0);
    free(v);
    struct reel_event_filter front = { .camera = "front", .limit = 10 };
    assert_int_equal(reel_event_query(db, &front, &v, &n, &err), 0);
    assert_int_equal(n, 2);   /* its own and its sub-stream's */
    free(v);
    struct reel_event_filter kind = { .kind = REEL_EVENT_MOTION, .limit = 10 };
    assert_int_equal(reel_event_query(db, &kind, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    free(v);
    /* overlapping [5500, 7000): the open motion event and back's */
    struct reel_event_filter range = { .from90k = 5500, .to90k = 7000, .limit = 10 };
    assert_int_equal(reel_event_query(db, &range, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].ev.id, 4);
    assert_int_equal(v[1].ev.id, 2);
    free(v);
    struct reel_event_filter page = { .before_id = 3, .limit = 1 };
    assert_int_equal(reel_event_query(db, &page, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].ev.id, 2);
    free(v);
    struct reel_event_filter bad = { .limit = 0 };
    assert_int_equal(reel_event_query(db, &bad, &v, &n, &err), -EINVAL);
    /* the timeline of front over [4000, 9000): the offline (ends 5000) and the sub-stream's open motion */
    assert_int_equal(reel_event_spans(db, 7, 4000, 9000, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].ev.id, 1);
    assert_int_equal(v[1].ev.id, 2);
    free(v);
    assert_int_equal(reel_event_spans(db, 7, 5001, 9000, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    free(v);
    /* an offline event that began 2 days before the range and is still open is found */
    int64_t day = INT64_C(86400) * 90000;
    struct reel_event old = mk(REEL_EVENT_CAMERA_OFFLINE, 9, 10 * day);
    assert_int_equal(reel_events_begin(e, &old, &id), 0);
    reel_events_sync(e);
    assert_int_equal(reel_event_spans(db, 9, 12 * day, 13 * day, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].ev.id, id);
    free(v);
    assert_true(reel_event_kind_known("lock.blocking"));
    assert_false(reel_event_kind_known("person"));
    reel_events_free(e);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_and_close_at_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_camera_dropped, setup, teardown),
        cmocka_unit_test(test_json),
        cmocka_unit_test_setup_teardown(test_query_and_spans, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

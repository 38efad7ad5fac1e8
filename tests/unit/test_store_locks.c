/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Evidence locks and the retention cap in the store (store/locks.h): a real
 * store (RECORD mode, real sample files) on a fake clock that the test moves
 * days ahead. A lock keeps its footage from retention by age and by bytes
 * and from disk-full deletion; an expired or removed lock stops protecting;
 * the site's cap bounds every camera's age limit, one set before the cap
 * included, and refuses a camera change above it.
 */
#include <errno.h>
#include <ftw.h>
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
#include "store/locks.h"
#include "store/store.h"

#define WALL0 (INT64_C(1700000000) * REEL_NS_PER_SEC)

struct tclock {
    struct reel_clock clock;
    int64_t mono, wall;
};
static int64_t tclock_mono(void *ctx) { return __atomic_load_n(&((struct tclock *)ctx)->mono, __ATOMIC_RELAXED); }
static int64_t tclock_wall(void *ctx) { return __atomic_load_n(&((struct tclock *)ctx)->wall, __ATOMIC_RELAXED); }
static void tclock_add(struct tclock *c, int64_t mono_ns, int64_t wall_ns)
{
    __atomic_add_fetch(&c->mono, mono_ns, __ATOMIC_RELAXED);
    __atomic_add_fetch(&c->wall, wall_ns, __ATOMIC_RELAXED);
}

struct fx {
    char dir[64];
    pthread_mutex_t mu;
    struct tclock clk;
    struct reel_store *s;
    int64_t cam, se;
    char events[16384];
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void on_event(void *opaque, int level, const char *line)
{
    (void)level;
    struct fx *f = opaque;
    pthread_mutex_lock(&f->mu);
    size_t n = strlen(f->events);
    snprintf(f->events + n, sizeof(f->events) - n, "%s\n", line);
    pthread_mutex_unlock(&f->mu);
}

/* Issue 15: the store's trouble, as "trouble KIND CAMERA: DETAIL" lines. */
static void on_trouble(void *opaque, const struct reel_store_trouble *t)
{
    struct fx *f = opaque;
    pthread_mutex_lock(&f->mu);
    size_t n = strlen(f->events);
    snprintf(f->events + n, sizeof(f->events) - n, "trouble %d %lld: %s\n", (int)t->kind, (long long)t->camera_id,
             t->detail);
    pthread_mutex_unlock(&f->mu);
}

static int count_of(struct fx *f, const char *what)
{
    pthread_mutex_lock(&f->mu);
    int n = 0;
    for (const char *p = f->events; (p = strstr(p, what)); p++)
        n++;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/reel-locks-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->clk.mono = 1000 * REEL_NS_PER_SEC;
    f->clk.wall = WALL0;
    f->clk.clock = (struct reel_clock){ tclock_mono, tclock_wall, &f->clk };
    pthread_mutex_init(&f->mu, NULL);
    struct reel_err err;
    assert_int_equal(reel_store_init(f->dir, &err), 0);
    struct reel_store_cfg cfg = {
        .datadir = f->dir, .mode = REEL_STORE_RECORD, .clock = &f->clk.clock,
        .checkpoint_ns = 3600 * REEL_NS_PER_SEC, .stall_ns = 3600 * REEL_NS_PER_SEC,
        .rotate_ns = 2 * REEL_NS_PER_SEC, .on_event = on_event, .on_trouble = on_trouble, .opaque = f,
    };
    assert_int_equal(reel_store_open(&f->s, &cfg, &err), 0);
    struct reel_camera c = { .retain_bytes = 0 };
    snprintf(c.name, sizeof(c.name), "front");
    snprintf(c.url, sizeof(c.url), "rtsp://192.0.2.1:554/stream1");
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), 0);
    f->cam = c.id;
    assert_int_equal(reel_store_sample_entry_put(f->s, (const uint8_t *)"avc1-box-A", 10, 1920, 1080,
                                                 "avc1.640028", &f->se, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    reel_store_close(f->s);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return 0;
}

/* n frames at 30 fps, a key frame every 15, on camera cam, as one closed run;
 * returns the wall time (90k) of its first frame. */
static int64_t record(struct fx *f, int64_t cam, int n)
{
    struct reel_err err = { "" };
    struct reel_run *run;
    int64_t t0 = reel_ns_to_90k(tclock_wall(&f->clk));
    assert_int_equal(reel_run_open(f->s, cam, &run, &err), 0);
    uint8_t buf[2048];
    for (int i = 0; i < n; i++) {
        bool key = i % 15 == 0;
        size_t len = key ? 2000 : 400;
        uint32_t nl = (uint32_t)(len - 4);
        buf[0] = (uint8_t)(nl >> 24), buf[1] = (uint8_t)(nl >> 16), buf[2] = (uint8_t)(nl >> 8), buf[3] = (uint8_t)nl;
        memset(buf + 4, i & 0xff, len - 4);
        struct reel_frame_in in = { .data = buf, .len = len, .ts90k = 5000 + (int64_t)i * 3000, .key = key,
                                    .sample_entry_id = f->se };
        assert_int_equal(reel_run_frame(run, &in, &err), 0);
        tclock_add(&f->clk, REEL_NS_PER_SEC / 30, REEL_NS_PER_SEC / 30);
    }
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    return t0;
}

static void recs(struct fx *f, int64_t cam, struct reel_span **v, size_t *n)
{
    struct reel_err err;
    assert_int_equal(reel_store_spans(f->s, cam, 0, INT64_MAX, v, n, &err), 0);
}

static bool overlaps(const struct reel_span *r, int64_t a, int64_t b)
{
    return r->start90k < b && r->start90k + r->wall_duration90k > a;
}

static int64_t add_lock(struct fx *f, const char *cam, int64_t a, int64_t b, int64_t expires_ns)
{
    struct reel_lock *l = calloc(1, sizeof(*l));
    l->start90k = a;
    l->end90k = b;
    snprintf(l->case_name, sizeof(l->case_name), "case 2026/117");
    snprintf(l->reason, sizeof(l->reason), "break-in at the back door");
    snprintf(l->created_by, sizeof(l->created_by), "alice");
    snprintf(l->cameras[0], REEL_NAME_MAX, "%s", cam);
    l->ncameras = 1;
    l->expires_ns = expires_ns;
    struct reel_err err = { "" };
    int r = reel_store_lock_add(f->s, l, &err);
    if (r < 0)
        fprintf(stderr, "lock add: %s\n", err.msg);
    assert_int_equal(r, 0);
    int64_t id = l->id;
    free(l);
    return id;
}

static void set_retention(struct fx *f, int64_t bytes, int64_t seconds)
{
    struct reel_err err;
    struct reel_camera c;
    assert_int_equal(reel_store_camera_get(f->s, "front", &c, &err), 0);
    c.retain_bytes = bytes;
    c.retain_seconds = seconds;
    assert_int_equal(reel_store_camera_update(f->s, &c, NULL, &err), 0);
}

/* Retention by age deletes everything old but what a lock holds; once the
 * lock has expired, that goes too. */
static void test_lock_survives_age_then_expires(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    int64_t t0 = record(f, f->cam, 300); /* 10 s: 5 recordings of 2 s */
    int64_t la = t0 + 3 * REEL_90K, lb = t0 + 5 * REEL_90K;
    int64_t id = add_lock(f, "front", la, lb, tclock_wall(&f->clk) + 7200 * REEL_NS_PER_SEC);
    set_retention(f, 0, 60);
    tclock_add(&f->clk, 0, 3600 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    struct reel_span *v;
    size_t n;
    recs(f, f->cam, &v, &n);
    assert_true(n >= 1 && n <= 2);
    for (size_t i = 0; i < n; i++)
        assert_true(overlaps(&v[i], la, lb));
    free(v);
    struct reel_lock l;
    assert_int_equal(reel_store_lock_get(f->s, id, &l, &err), 0);
    assert_true(l.active);
    assert_true(l.held_bytes > 0);
    int64_t held = 0;
    assert_int_equal(reel_store_locked_bytes(f->s, f->cam, &held, &err), 0);
    assert_int_equal(held, l.held_bytes);
    /* two hours later the lock has expired: retention takes the rest */
    tclock_add(&f->clk, 0, 3601 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_lock_get(f->s, id, &l, &err), 0);
    assert_false(l.active);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    recs(f, f->cam, &v, &n);
    assert_int_equal(n, 0);
    free(v);
}

/* Issue 15: a lock holding footage past the camera's age limit is told
 * (lock.blocking) once, then not again for an hour. */
static void test_lock_blocking_told_once_an_hour(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    int64_t t0 = record(f, f->cam, 300);
    add_lock(f, "front", t0 + 3 * REEL_90K, t0 + 5 * REEL_90K, 0);
    set_retention(f, 0, 60);
    char what[64];
    snprintf(what, sizeof(what), "trouble %d %lld: camera front: evidence locks keep", (int)REEL_STORE_TROUBLE_LOCKS,
             (long long)f->cam);
    /* within the age limit: nothing held past it, nothing told */
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    assert_int_equal(count_of(f, "trouble"), 0);
    tclock_add(&f->clk, 0, 3600 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    assert_int_equal(count_of(f, what), 1);
    assert_int_equal(count_of(f, "older than its retention of 60 s"), 1);
    tclock_add(&f->clk, 0, 1800 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    assert_int_equal(count_of(f, what), 1);
    tclock_add(&f->clk, 0, 1801 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    assert_int_equal(count_of(f, what), 2);
}

/* Retention by bytes skips locked footage and does not count it. */
static void test_lock_survives_bytes(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    int64_t t0 = record(f, f->cam, 600); /* 20 s: 10 recordings */
    struct reel_span *v;
    size_t n;
    recs(f, f->cam, &v, &n);
    assert_true(n >= 8);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += (int64_t)v[i].bytes;
    free(v);
    add_lock(f, "front", t0, t0 + REEL_90K, 0); /* the oldest recording, no expiry */
    set_retention(f, total / 2, 0);
    assert_int_equal(reel_store_sync(f->s, &err), 0); /* the syncer runs retention */
    recs(f, f->cam, &v, &n);
    assert_true(n >= 2);
    assert_true(overlaps(&v[0], t0, t0 + REEL_90K)); /* the oldest, locked, is kept */
    assert_false(overlaps(&v[1], t0, t0 + REEL_90K));
    int64_t unlocked = 0;
    for (size_t i = 1; i < n; i++)
        unlocked += (int64_t)v[i].bytes;
    assert_true(unlocked <= total / 2);
    assert_true(unlocked > total / 2 - total / 5); /* the locked bytes did not eat the budget */
    free(v);
    assert_non_null(strstr(f->events, "held by evidence locks"));
}

/* Disk full: the oldest UNLOCKED recording goes; with only locked footage
 * left, nothing is deleted. A removed lock stops protecting. */
static void test_free_oldest_skips_locked(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    int64_t t0 = record(f, f->cam, 120); /* 4 s: 2 recordings */
    int64_t id = add_lock(f, "front", t0, t0 + REEL_90K, 0);
    struct reel_storage_dir *dirs;
    size_t nd;
    assert_int_equal(reel_store_dir_list(f->s, &dirs, &nd, &err), 0);
    int64_t dir = dirs[0].id;
    free(dirs);
    unsigned del = 9;
    assert_int_equal(reel_store_free_oldest(f->s, dir, 10, &del, &err), 0);
    assert_int_equal(del, 1); /* the newer, unlocked one */
    assert_int_equal(reel_store_free_oldest(f->s, dir, 10, &del, &err), 0);
    assert_int_equal(del, 0); /* only locked footage left */
    struct reel_span *v;
    size_t n;
    recs(f, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_true(overlaps(&v[0], t0, t0 + REEL_90K));
    free(v);
    /* nor with its camera */
    assert_int_equal(reel_store_camera_remove(f->s, "front", true, &err), -EBUSY);
    assert_non_null(strstr(err.msg, "evidence lock"));
    assert_int_equal(reel_store_lock_remove(f->s, id, &err), 0);
    assert_int_equal(reel_store_lock_remove(f->s, id, &err), -ENOENT);
    assert_int_equal(reel_store_free_oldest(f->s, dir, 10, &del, &err), 0);
    assert_int_equal(del, 1);
}

/* A lock on a camera holds its sub-stream too. */
static void test_lock_holds_substream(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    struct reel_camera sub;
    assert_int_equal(reel_store_camera_stream(f->s, f->cam, REEL_STREAM_SUB, true, &sub, &err), 0);
    int64_t t0 = record(f, sub.id, 120);
    add_lock(f, "front", t0, t0 + 10 * REEL_90K, 0);
    sub.retain_seconds = 1;
    assert_int_equal(reel_store_camera_update(f->s, &sub, NULL, &err), 0);
    tclock_add(&f->clk, 0, 3600 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    struct reel_span *v;
    size_t n;
    recs(f, sub.id, &v, &n);
    assert_int_equal(n, 2);
    free(v);
}

/* Bad locks are refused. */
static void test_lock_validation(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    struct reel_lock *l = calloc(1, sizeof(*l));
    int64_t now90k = reel_ns_to_90k(tclock_wall(&f->clk));
    l->start90k = now90k - REEL_90K;
    l->end90k = now90k;
    snprintf(l->case_name, sizeof(l->case_name), "c");
    snprintf(l->reason, sizeof(l->reason), "r");
    snprintf(l->created_by, sizeof(l->created_by), "alice");
    snprintf(l->cameras[0], REEL_NAME_MAX, "nosuch");
    l->ncameras = 1;
    assert_int_equal(reel_store_lock_add(f->s, l, &err), -ENOENT);
    snprintf(l->cameras[0], REEL_NAME_MAX, "front");
    l->expires_ns = tclock_wall(&f->clk) - 1;
    assert_int_equal(reel_store_lock_add(f->s, l, &err), -EINVAL); /* expiry in the past */
    l->expires_ns = 0;
    l->reason[0] = 0;
    assert_int_equal(reel_store_lock_add(f->s, l, &err), -EINVAL); /* no reason */
    snprintf(l->reason, sizeof(l->reason), "a\nb");
    assert_int_equal(reel_store_lock_add(f->s, l, &err), -EINVAL); /* control characters */
    snprintf(l->reason, sizeof(l->reason), "r");
    l->end90k = l->start90k;
    assert_int_equal(reel_store_lock_add(f->s, l, &err), -EINVAL); /* empty range */
    l->end90k = now90k;
    snprintf(l->cameras[1], REEL_NAME_MAX, "front");
    l->ncameras = 2;
    assert_int_equal(reel_store_lock_add(f->s, l, &err), -EINVAL); /* twice */
    l->ncameras = 1;
    assert_int_equal(reel_store_lock_add(f->s, l, &err), 0);
    assert_int_equal(reel_store_lock_change(f->s, l->id, "new case", true, 0, &err), 0);
    struct reel_lock g;
    assert_int_equal(reel_store_lock_get(f->s, l->id, &g, &err), 0);
    assert_string_equal(g.case_name, "new case");
    assert_int_equal(g.expires_ns, 0);
    assert_int_equal(reel_store_lock_change(f->s, 999, "x", false, 0, &err), -ENOENT);
    struct reel_lock *v;
    size_t n;
    assert_int_equal(reel_store_lock_list(f->s, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].cameras[0], "front");
    free(v);
    free(l);
}

/* The cap: a camera with no age limit, or one set before the cap, is held to
 * it; a change above it is refused, one at or below it accepted. */
static void test_retention_cap(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    set_retention(f, 0, 30 * 86400); /* before the cap */
    record(f, f->cam, 120);
    assert_int_equal(reel_store_retention_cap_set(f->s, 1, &err), 0);
    int64_t d;
    assert_int_equal(reel_store_retention_cap(f->s, &d, &err), 0);
    assert_int_equal(d, 1);
    /* changing something else is fine; raising the limit above the cap is not */
    struct reel_camera c;
    assert_int_equal(reel_store_camera_get(f->s, "front", &c, &err), 0);
    snprintf(c.url, sizeof(c.url), "rtsp://192.0.2.9/");
    assert_int_equal(reel_store_camera_update(f->s, &c, NULL, &err), 0);
    c.retain_seconds = 2 * 86400;
    assert_int_equal(reel_store_camera_update(f->s, &c, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "maximum of 1 days"));
    struct reel_camera n2 = { .retain_seconds = 3 * 86400 };
    snprintf(n2.name, sizeof(n2.name), "side");
    snprintf(n2.url, sizeof(n2.url), "rtsp://192.0.2.3/");
    assert_int_equal(reel_store_camera_add(f->s, &n2, NULL, &err), -EINVAL);
    n2.retain_seconds = 86400;
    assert_int_equal(reel_store_camera_add(f->s, &n2, NULL, &err), 0);
    /* a day and a bit later, the 30-day camera's footage is gone */
    tclock_add(&f->clk, 0, 86400 * REEL_NS_PER_SEC + 3600 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    struct reel_span *v;
    size_t n;
    recs(f, f->cam, &v, &n);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(reel_store_retention_cap_set(f->s, -1, &err), -EINVAL);
    assert_int_equal(reel_store_retention_cap_set(f->s, 0, &err), 0);
    assert_int_equal(reel_store_retention_cap(f->s, &d, &err), 0);
    assert_int_equal(d, 0);
}

/* A camera with no limit at all is held to the cap. */
static void test_retention_cap_unlimited_camera(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    int64_t t0 = record(f, f->cam, 120);
    assert_int_equal(reel_store_retention_cap_set(f->s, 1, &err), 0);
    add_lock(f, "front", t0, t0 + REEL_90K, 0);
    tclock_add(&f->clk, 0, 2 * 86400 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    struct reel_span *v;
    size_t n;
    recs(f, f->cam, &v, &n);
    assert_int_equal(n, 1); /* only the locked one: a lock outlasts the cap */
    free(v);
}

/* ---- event retention (issue 15) ---- */

static void sql(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql(struct fx *f, const char *fmt, ...)
{
    char q[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    sqlite3 *db;
    struct reel_err err;
    assert_int_equal(reel_db_open(&db, f->dir, REEL_DB_WRITE, &err), 0);
    int r = reel_db_exec(db, q, &err);
    if (r < 0)
        fprintf(stderr, "%s: %s\n", q, err.msg);
    assert_int_equal(r, 0);
    sqlite3_close(db);
}

static int64_t count_rows(struct fx *f, const char *q)
{
    sqlite3 *db;
    struct reel_err err;
    assert_int_equal(reel_db_open(&db, f->dir, REEL_DB_READ, &err), 0);
    sqlite3_stmt *st;
    assert_int_equal(reel_db_prepare(db, q, &st, &err), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Retention by age: footage overlapping a motion event of the camera
 * (widened by its rolls; an open event counts as ongoing) stays until
 * event_retain_seconds, the rest goes at retain_seconds; another camera's
 * event and an event of another kind hold nothing. The motion grid goes
 * with the footage. */
static void test_event_retention_age(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    struct reel_camera back = { .retain_bytes = 0 };
    snprintf(back.name, sizeof(back.name), "back");
    snprintf(back.url, sizeof(back.url), "rtsp://192.0.2.2:554/stream1");
    assert_int_equal(reel_store_camera_add(f->s, &back, NULL, &err), 0);
    int64_t t0 = record(f, f->cam, 300); /* 10 s: 5 recordings of 2 s */
    struct reel_span *v;
    size_t n;
    recs(f, f->cam, &v, &n);
    assert_true(n >= 4);
    /* a closed event at 4.5..5 s (rolls 1 s), an open one from 9.5 s, and
     * the other camera's at 0..1 s */
    int64_t ea = t0 + 4 * REEL_90K + REEL_90K / 2, eb = t0 + 5 * REEL_90K, oa = t0 + 9 * REEL_90K + REEL_90K / 2;
    sql(f, "INSERT INTO camera_events (camera_id, event_retain_seconds, pre_roll_s, post_roll_s) "
           "VALUES (%lld, 7200, 1, 1)", (long long)f->cam);
    sql(f, "INSERT INTO event (camera_id, kind, source, start90k, end90k) VALUES (%lld, 'motion', 'motion', %lld, %lld),"
           " (%lld, 'motion', 'onvif', %lld, NULL), (%lld, 'motion', 'motion', %lld, %lld)",
        (long long)f->cam, (long long)ea, (long long)eb, (long long)f->cam, (long long)oa, (long long)back.id,
        (long long)t0, (long long)(t0 + REEL_90K));
    /* an event of another kind (not motion) holds nothing: one at the first recording */
    sql(f, "INSERT INTO event (camera_id, kind, source, start90k, end90k) VALUES (%lld, 'storage.error', 'store', %lld, %lld)",
        (long long)f->cam, (long long)(v[0].start90k + 100), (long long)(v[0].start90k + 200));
    bool keep[64] = { false };
    size_t nkeep = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        keep[i] = overlaps(&v[i], ea - REEL_90K, eb + REEL_90K) || overlaps(&v[i], oa - REEL_90K, INT64_MAX);
        nkeep += keep[i];
    }
    assert_true(nkeep >= 2 && nkeep < n);
    /* motion minutes: one that ended before the footage, one at it */
    int64_t m0 = t0 / (60 * REEL_90K) * (60 * REEL_90K);
    sql(f, "INSERT INTO motion_minute VALUES (%lld, %lld, x'01'), (%lld, %lld, x'02')", (long long)f->cam,
        (long long)(m0 - 60 * REEL_90K), (long long)f->cam, (long long)m0);
    set_retention(f, 0, 60);
    tclock_add(&f->clk, 0, 3600 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    struct reel_span *w;
    size_t nw;
    recs(f, f->cam, &w, &nw);
    assert_int_equal(nw, nkeep);
    for (size_t i = 0, j = 0; i < n && i < 64; i++)
        if (keep[i])
            assert_int_equal(w[j++].id, v[i].id);
    free(w);
    free(v);
    assert_int_equal(count_rows(f, "SELECT COUNT(*) FROM motion_minute"), 1);
    /* past event_retain_seconds the event footage goes too, and its grid */
    tclock_add(&f->clk, 0, 7200 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    recs(f, f->cam, &w, &nw);
    assert_int_equal(nw, 0);
    free(w);
    assert_int_equal(count_rows(f, "SELECT COUNT(*) FROM motion_minute"), 0);
}

/* A byte limit takes event footage last: with half the bytes allowed, the
 * oldest recording (under an event) stays and the next ones go. Event
 * retention no longer than retain_seconds changes nothing. */
static void test_event_retention_bytes(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    int64_t t0 = record(f, f->cam, 600); /* 20 s: 10 recordings */
    struct reel_span *v;
    size_t n;
    recs(f, f->cam, &v, &n);
    assert_true(n >= 8);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += (int64_t)v[i].bytes;
    int64_t first = v[0].id, second = v[1].id;
    free(v);
    sql(f, "INSERT INTO camera_events (camera_id, event_retain_seconds, pre_roll_s, post_roll_s) "
           "VALUES (%lld, 7200, 0, 0)", (long long)f->cam);
    sql(f, "INSERT INTO event (camera_id, kind, source, start90k, end90k) VALUES (%lld, 'motion', 'motion', %lld, %lld)",
        (long long)f->cam, (long long)t0, (long long)(t0 + REEL_90K / 2));
    set_retention(f, total / 2, 3600);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    recs(f, f->cam, &v, &n);
    assert_true(n >= 2);
    assert_int_equal(v[0].id, first);
    assert_true(v[1].id != second);
    int64_t left = 0;
    for (size_t i = 0; i < n; i++)
        left += (int64_t)v[i].bytes;
    assert_true(left <= total / 2);
    free(v);
    /* a limit only the event footage can meet: it goes too */
    set_retention(f, 1, 3600);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    recs(f, f->cam, &v, &n);
    assert_int_equal(n, 0);
    free(v);
}

static void test_event_retention_not_longer(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    int64_t t0 = record(f, f->cam, 150);
    sql(f, "INSERT INTO camera_events (camera_id, event_retain_seconds) VALUES (%lld, 30)", (long long)f->cam);
    sql(f, "INSERT INTO event (camera_id, kind, source, start90k, end90k) VALUES (%lld, 'motion', 'motion', %lld, %lld)",
        (long long)f->cam, (long long)t0, (long long)(t0 + 5 * REEL_90K));
    set_retention(f, 0, 60);
    tclock_add(&f->clk, 0, 3600 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    struct reel_span *v;
    size_t n;
    recs(f, f->cam, &v, &n);
    assert_int_equal(n, 0);
    free(v);
}

/* Between full passes (every 10 min of the store's clock) the syncer's
 * retention reads only the recordings that can have become deletable: those
 * that crossed retain_seconds since go, the event's stay; after the event
 * retention the next full pass takes them. */
static void test_event_retention_between_full_passes(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    int64_t t0 = record(f, f->cam, 300); /* 10 s: 5 recordings */
    sql(f, "INSERT INTO camera_events (camera_id, event_retain_seconds, pre_roll_s, post_roll_s) "
           "VALUES (%lld, 7200, 0, 0)", (long long)f->cam);
    int64_t ea = t0 + 4 * REEL_90K + REEL_90K / 2, eb = t0 + 5 * REEL_90K;
    sql(f, "INSERT INTO event (camera_id, kind, source, start90k, end90k) VALUES (%lld, 'motion', 'motion', %lld, %lld)",
        (long long)f->cam, (long long)ea, (long long)eb);
    set_retention(f, 0, 60);
    assert_int_equal(reel_store_sync(f->s, &err), 0);   /* the syncer's first pass: full, nothing old */
    struct reel_span *v;
    size_t n;
    recs(f, f->cam, &v, &n);
    size_t all = n, nkeep = 0;
    for (size_t i = 0; i < n; i++)
        nkeep += overlaps(&v[i], ea, eb);
    free(v);
    assert_true(nkeep >= 1 && nkeep < all);
    tclock_add(&f->clk, 120 * REEL_NS_PER_SEC, 120 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_sync(f->s, &err), 0);   /* between full passes */
    recs(f, f->cam, &v, &n);
    assert_int_equal(n, nkeep);
    for (size_t i = 0; i < n; i++)
        assert_true(overlaps(&v[i], ea, eb));
    free(v);
    tclock_add(&f->clk, 7200 * REEL_NS_PER_SEC, 7200 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    recs(f, f->cam, &v, &n);
    assert_int_equal(n, 0);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_survives_age_then_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_blocking_told_once_an_hour, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_survives_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_oldest_skips_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_holds_substream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_cap_unlimited_camera, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_retention_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_retention_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_retention_not_longer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_retention_between_full_passes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

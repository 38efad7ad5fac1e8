/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for the store (src/store): schema and cameras, the recording
 * path across rotation and a sample-entry change (bytes and index read back
 * exactly), the wall-clock drift bound, checkpoint visibility to a READ-mode
 * reader, crash recovery (a forked recorder that _exit()s), retention by bytes
 * and by age, the disk-full deletion path, identity files and check, and the
 * writer with O_DIRECT and through the page cache (bytes exact at every
 * checkpoint and after the close), and what the loop thread queues for the
 * syncers (new sample entries, outages) and the events they send back. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/index.h"
#include "store/store.h"

#define WALL0 (INT64_C(1700000000) * REEL_NS_PER_SEC)

/* A fake clock the store's threads may read while the test moves it (the
 * syncer and the writer time themselves by it): relaxed atomics. */
struct tclock {
    struct reel_clock clock;
    int64_t mono, wall;
};

static int64_t tclock_mono(void *ctx) { return __atomic_load_n(&((struct tclock *)ctx)->mono, __ATOMIC_RELAXED); }
static int64_t tclock_wall(void *ctx) { return __atomic_load_n(&((struct tclock *)ctx)->wall, __ATOMIC_RELAXED); }

static void tclock_init(struct tclock *c, int64_t mono, int64_t wall)
{
    c->clock = (struct reel_clock){ tclock_mono, tclock_wall, c };
    c->mono = mono;
    c->wall = wall;
}

static void tclock_add(struct tclock *c, int64_t mono_ns, int64_t wall_ns)
{
    __atomic_fetch_add(&c->mono, mono_ns, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->wall, wall_ns, __ATOMIC_RELAXED);
}

struct fx {
    char dir[64];
    pthread_mutex_t mu;             /* on_event and on_recording come from several threads */
    struct tclock clk;
    struct reel_store *s;
    int64_t cam, se1, se2;
    char events[8192];
    struct reel_recording_event rev[64];  /* on_recording, in order */
    int nrev;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
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

static void on_recording(void *opaque, const struct reel_recording_event *ev)
{
    struct fx *f = opaque;
    pthread_mutex_lock(&f->mu);
    if (f->nrev < 64)
        f->rev[f->nrev++] = *ev;
    pthread_mutex_unlock(&f->mu);
}

static int open_store(struct fx *f, enum reel_store_mode mode, struct reel_store **ret, int64_t rotate_ns)
{
    struct reel_store_cfg cfg = {
        .datadir = f->dir, .mode = mode, .clock = &f->clk.clock,
        .checkpoint_ns = 3600 * REEL_NS_PER_SEC, /* tests drive checkpoints with reel_store_sync() */
        .stall_ns = 3600 * REEL_NS_PER_SEC,      /* the fake clock runs ahead of the real writes */
        .rotate_ns = rotate_ns, .on_event = on_event, .on_recording = on_recording, .on_trouble = on_trouble,
        .opaque = f,
    };
    struct reel_err err = { "" };
    int r = reel_store_open(ret, &cfg, &err);
    if (r < 0)
        fprintf(stderr, "open: %s\n", err.msg);
    return r;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/reel-store-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    tclock_init(&f->clk, 1000 * REEL_NS_PER_SEC, WALL0);
    pthread_mutex_init(&f->mu, NULL);
    struct reel_err err;
    assert_int_equal(reel_store_init(f->dir, &err), 0);
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &f->s, 2 * REEL_NS_PER_SEC), 0);
    struct reel_camera c = { .retain_bytes = 0 };
    snprintf(c.name, sizeof(c.name), "front");
    snprintf(c.url, sizeof(c.url), "rtsp://192.0.2.1:554/stream1");
    snprintf(c.user, sizeof(c.user), "admin");
    assert_int_equal(reel_store_camera_add(f->s, &c, "s3cret", &err), 0);
    f->cam = c.id;
    assert_int_equal(reel_store_sample_entry_put(f->s, (const uint8_t *)"avc1-box-A", 10, 1920, 1080,
                                                 "avc1.640028", &f->se1, &err), 0);
    assert_int_equal(reel_store_sample_entry_put(f->s, (const uint8_t *)"avc1-box-B", 10, 1280, 720,
                                                 "avc1.64001f", &f->se2, &err), 0);
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

/* Frame i: one NAL unit (4-byte length + payload), size depends on i. */
static size_t frame_size(int i, bool key) { return key ? 4000 + (size_t)(i * 37 % 500) : 300 + (size_t)(i * 13 % 200); }

static void make_frame(int i, bool key, uint8_t *buf, size_t len)
{
    uint32_t nl = (uint32_t)(len - 4);
    buf[0] = (uint8_t)(nl >> 24); buf[1] = (uint8_t)(nl >> 16); buf[2] = (uint8_t)(nl >> 8); buf[3] = (uint8_t)nl;
    for (size_t k = 4; k < len; k++)
        buf[k] = (uint8_t)(i * 31 + (int)k);
}

/* Records frames [from, to) at 30 fps, a key frame every 15; mono advances
 * by ns_per_frame per frame, wall by the nominal 1/30 s. */
static void record(struct fx *f, struct reel_run *run, int from, int to, int64_t entry, int64_t ns_per_frame)
{
    uint8_t *buf = malloc(8192);
    for (int i = from; i < to; i++) {
        bool key = i % 15 == 0;
        size_t len = frame_size(i, key);
        make_frame(i, key, buf, len);
        struct reel_frame_in in = { .data = buf, .len = len, .ts90k = 5000 + (int64_t)i * 3000, .key = key,
                                    .sample_entry_id = entry };
        struct reel_err err = { "" };
        int r = reel_run_frame(run, &in, &err);
        if (r < 0)
            fprintf(stderr, "frame %d: %s\n", i, err.msg);
        assert_int_equal(r, 0);
        tclock_add(&f->clk, ns_per_frame, REEL_NS_PER_SEC / 30);
    }
    free(buf);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    struct stat sb;
    fstat(fd, &sb);
    uint8_t *p = malloc((size_t)sb.st_size + 1);
    ssize_t n = read(fd, p, (size_t)sb.st_size);
    close(fd);
    *len = n < 0 ? 0 : (size_t)n;
    return p;
}

static void get_recs(struct reel_store *s, int64_t cam, struct reel_recording **v, size_t *n)
{
    struct reel_err err;
    assert_int_equal(reel_store_recordings(s, cam, 0, INT64_MAX, v, n, &err), 0);
}

/* ---- schema, cameras ---- */

static void test_init_and_cameras(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    assert_int_equal(reel_store_init(f->dir, &err), -EEXIST);
    char db[128];
    snprintf(db, sizeof(db), "%s/reel.db", f->dir);
    struct stat sb;
    assert_int_equal(stat(db, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* second recorder */
    struct reel_store *s2 = NULL;
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &s2, 0), -EBUSY);
    assert_int_equal(open_store(f, REEL_STORE_READ, &s2, 0), 0);

    struct reel_camera c = { 0 };
    snprintf(c.url, sizeof(c.url), "rtsp://cam/x");
    snprintf(c.name, sizeof(c.name), "bad name");
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), -EINVAL);
    snprintf(c.name, sizeof(c.name), "%s", "");
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), -EINVAL);
    memset(c.name, 'a', 63);
    c.name[63] = 0;
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), 0);
    snprintf(c.name, sizeof(c.name), "back_2-x");
    snprintf(c.url, sizeof(c.url), "rtsp://user:pw@cam/x");
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), -EINVAL);
    snprintf(c.url, sizeof(c.url), "http://cam/x");
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), -EINVAL);
    snprintf(c.url, sizeof(c.url), "rtsp://cam/a@b"); /* '@' in the path is fine */
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), 0);
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), -EEXIST);

    /* the password is stored, never listed */
    char pw[64];
    assert_int_equal(reel_store_camera_password(f->s, f->cam, pw, sizeof(pw)), 0);
    assert_string_equal(pw, "s3cret");
    assert_int_equal(reel_store_camera_password(f->s, f->cam, pw, 3), -ENAMETOOLONG);
    assert_int_equal(reel_store_camera_password(f->s, c.id, pw, sizeof(pw)), -ENOENT);
    struct reel_camera got;
    assert_int_equal(reel_store_camera_get(f->s, "front", &got, &err), 0);
    assert_true(got.has_password);
    assert_string_equal(got.user, "admin");
    got.retain_bytes = 12345;
    assert_int_equal(reel_store_camera_update(f->s, &got, NULL, &err), 0);
    assert_int_equal(reel_store_camera_password(f->s, f->cam, pw, sizeof(pw)), 0);
    assert_string_equal(pw, "s3cret");
    assert_int_equal(reel_store_camera_update(f->s, &got, "new", &err), 0);
    assert_int_equal(reel_store_camera_password(f->s, f->cam, pw, sizeof(pw)), 0);
    assert_string_equal(pw, "new");
    struct reel_camera *list;
    size_t n;
    assert_int_equal(reel_store_camera_list(s2, &list, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].retain_bytes, 12345);
    free(list);
    assert_int_equal(reel_store_camera_get(f->s, "nope", &got, &err), -ENOENT);
    assert_int_equal(reel_store_camera_remove(f->s, "back_2-x", false, &err), 0);

    /* sample entries are deduplicated by bytes; the recorder's new ones reach
     * the database with its next commit */
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    int64_t id;
    assert_int_equal(reel_store_sample_entry_put(f->s, (const uint8_t *)"avc1-box-A", 10, 1, 1, "x", &id, &err), 0);
    assert_int_equal(id, f->se1);
    struct reel_sample_entry se;
    assert_int_equal(reel_store_sample_entry_get(s2, f->se2, &se, &err), 0);
    assert_int_equal(se.width, 1280);
    assert_memory_equal(se.data, "avc1-box-B", 10);
    assert_string_equal(se.codec_string, "avc1.64001f");
    free(se.data);

    /* outages, status */
    assert_int_equal(reel_store_outage_begin(f->s, f->cam, 1000, "connection refused", &err), 0);
    assert_int_equal(reel_store_outage_begin(f->s, f->cam, 2000, "auth failed", &err), 0);
    assert_int_equal(reel_store_outage_end(f->s, f->cam, 5000, &err), 0);
    assert_int_equal(reel_store_outage_begin(f->s, f->cam, 9000, "stalled", &err), 0);
    struct reel_gap *g;
    /* queued in memory: nothing in the database before a syncer commits */
    assert_int_equal(reel_store_gaps(s2, f->cam, 0, INT64_MAX, &g, &n, &err), 0);
    assert_int_equal(n, 0);
    free(g);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    assert_int_equal(reel_store_gaps(s2, f->cam, 0, INT64_MAX, &g, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(g[0].start90k, 1000);
    assert_int_equal(g[0].end90k, 5000);
    assert_string_equal(g[0].reason, "auth failed");
    assert_int_equal(g[1].end90k, -1);
    free(g);
    reel_store_close(s2);
}

/* ---- recording path ---- */

/* ---- a camera's stream rows (src/store/stream.c) ---- */

static void test_camera_streams(void **state)
{
    struct fx *f = *state;
    struct reel_err err = { "" };
    struct reel_camera front, sub, again;
    assert_int_equal(reel_store_camera_get(f->s, "front", &front, &err), 0);
    front.retain_seconds = 7200;
    front.udp = true;
    assert_int_equal(reel_store_camera_update(f->s, &front, NULL, &err), 0);

    /* absent and not created; main is not a stream kind */
    assert_int_equal(reel_store_camera_stream(f->s, f->cam, REEL_STREAM_SUB, false, &sub, &err), -ENOENT);
    assert_int_equal(reel_store_camera_stream(f->s, f->cam, REEL_STREAM_MAIN, true, &sub, &err), -EINVAL);
    assert_int_equal(reel_store_camera_stream(f->s, 9999, REEL_STREAM_SUB, true, &sub, &err), -ENOENT);

    /* created: named front~sub, with the camera's user, password, transport,
     * storage dir, retention and enabled flag */
    assert_int_equal(reel_store_camera_stream(f->s, f->cam, REEL_STREAM_SUB, true, &sub, &err), 0);
    assert_true(sub.id > 0 && sub.id != f->cam);
    assert_string_equal(sub.name, "front~sub");
    assert_int_equal(sub.parent_id, f->cam);
    assert_int_equal(sub.kind, REEL_STREAM_SUB);
    assert_string_equal(sub.user, "admin");
    assert_true(sub.has_password && sub.udp && !sub.disabled);
    assert_int_equal(sub.retain_seconds, 7200);
    assert_int_equal(sub.dir_id, front.dir_id);
    char pw[64];
    assert_int_equal(reel_store_camera_password(f->s, sub.id, pw, sizeof(pw)), 0);
    assert_string_equal(pw, "s3cret");
    /* the caller changes what differs; the camera keeps its own */
    snprintf(sub.url, sizeof(sub.url), "rtsp://192.0.2.1:554/stream2");
    sub.retain_bytes = 1000000;
    assert_int_equal(reel_store_camera_update(f->s, &sub, NULL, &err), 0);
    assert_int_equal(reel_store_camera_stream(f->s, f->cam, REEL_STREAM_SUB, true, &again, &err), 0);
    assert_int_equal(again.id, sub.id); /* found, not created twice */
    assert_string_equal(again.url, "rtsp://192.0.2.1:554/stream2");
    assert_int_equal(again.retain_bytes, 1000000);
    assert_int_equal(reel_store_camera_get(f->s, "front", &again, &err), 0);
    assert_int_equal(again.retain_bytes, 0);
    assert_string_equal(again.url, "rtsp://192.0.2.1:554/stream1");
    assert_int_equal(reel_store_camera_get(f->s, "front~sub", &again, &err), 0);
    assert_int_equal(again.id, sub.id);
    /* a stream has no streams of its own (refused; the error code is not
     * part of the contract) */
    assert_true(reel_store_camera_stream(f->s, sub.id, REEL_STREAM_SUB, true, &again, &err) < 0);
    assert_int_equal(reel_store_camera_get(f->s, "front~sub~sub", &again, &err), -ENOENT);

    /* the name rule: "x~sub" only for the sub row of camera x */
    struct reel_camera c = { 0 };
    snprintf(c.url, sizeof(c.url), "rtsp://cam/x");
    snprintf(c.name, sizeof(c.name), "side~sub"); /* no camera side */
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), -EINVAL);
    snprintf(c.name, sizeof(c.name), "side");
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), 0);
    int64_t side = c.id;
    struct reel_camera row = { .parent_id = side, .kind = REEL_STREAM_SUB };
    snprintf(row.url, sizeof(row.url), "rtsp://cam/y");
    snprintf(row.name, sizeof(row.name), "front~sub"); /* side's sub named after another camera */
    assert_int_equal(reel_store_camera_add(f->s, &row, NULL, &err), -EINVAL);
    snprintf(row.name, sizeof(row.name), "sid~sub");
    assert_int_equal(reel_store_camera_add(f->s, &row, NULL, &err), -EINVAL);
    snprintf(row.name, sizeof(row.name), "side~audio"); /* the kind's name */
    assert_int_equal(reel_store_camera_add(f->s, &row, NULL, &err), -EINVAL);
    row.parent_id = sub.id; /* a stream of a stream */
    snprintf(row.name, sizeof(row.name), "front~sub~sub");
    assert_int_equal(reel_store_camera_add(f->s, &row, NULL, &err), -EINVAL);
    row.parent_id = side;
    snprintf(row.name, sizeof(row.name), "side~sub");
    assert_int_equal(reel_store_camera_add(f->s, &row, NULL, &err), 0);
    /* one stream of a kind per camera */
    row.id = 0;
    assert_int_equal(reel_store_camera_add(f->s, &row, NULL, &err), -EEXIST);
    struct reel_camera main_named = { 0 };
    snprintf(main_named.url, sizeof(main_named.url), "rtsp://cam/z");
    snprintf(main_named.name, sizeof(main_named.name), "front~sub"); /* a camera may not take the name */
    assert_int_equal(reel_store_camera_add(f->s, &main_named, NULL, &err), -EINVAL);

    /* list and get keep returning stream rows */
    struct reel_camera *list;
    size_t n;
    assert_int_equal(reel_store_camera_list(f->s, &list, &n, &err), 0);
    assert_int_equal(n, 4);
    size_t streams = 0;
    for (size_t i = 0; i < n; i++)
        streams += list[i].parent_id != 0;
    assert_int_equal(streams, 2);
    free(list);

    /* the sub records on its own; removal: the camera is refused while it has
     * streams, the stream goes first (with its footage only when told) */
    struct reel_run *run;
    assert_int_equal(reel_run_open(f->s, sub.id, &run, &err), 0);
    record(f, run, 0, 30, f->se2, REEL_NS_PER_SEC / 30);
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_recording *v;
    get_recs(f->s, sub.id, &v, &n);
    assert_true(n > 0);
    reel_recordings_free(v, n);
    get_recs(f->s, f->cam, &v, &n);
    assert_int_equal(n, 0);
    reel_recordings_free(v, n);
    assert_int_equal(reel_store_camera_remove(f->s, "front", true, &err), -ENOTEMPTY);
    assert_non_null(strstr(err.msg, "front~sub"));
    assert_int_equal(reel_store_camera_get(f->s, "front", &again, &err), 0);
    assert_int_equal(reel_store_camera_remove(f->s, "front~sub", false, &err), -EBUSY);
    assert_int_equal(reel_store_camera_remove(f->s, "front~sub", true, &err), 0);
    assert_int_equal(reel_store_camera_get(f->s, "front~sub", &again, &err), -ENOENT);
    assert_int_equal(reel_store_camera_stream(f->s, f->cam, REEL_STREAM_SUB, false, &again, &err), -ENOENT);
    assert_int_equal(reel_store_camera_remove(f->s, "front", false, &err), 0);
    assert_int_equal(reel_store_camera_remove(f->s, "side", false, &err), -ENOTEMPTY);
    assert_int_equal(reel_store_camera_remove(f->s, "side~sub", false, &err), 0);
    assert_int_equal(reel_store_camera_remove(f->s, "side", false, &err), 0);
}

static void test_frame_validation(void **state)
{
    struct fx *f = *state;
    struct reel_run *run;
    struct reel_err err;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    struct reel_run *run2;
    assert_int_equal(reel_run_open(f->s, f->cam, &run2, &err), -EBUSY);
    uint8_t buf[64];
    make_frame(0, true, buf, sizeof(buf));
    struct reel_frame_in in = { .data = buf, .len = sizeof(buf), .ts90k = 100, .key = false, .sample_entry_id = f->se1 };
    assert_int_equal(reel_run_frame(run, &in, &err), -EINVAL); /* first frame not key */
    in.key = true;
    in.sample_entry_id = 999;
    assert_int_equal(reel_run_frame(run, &in, &err), -EINVAL); /* unknown entry */
    in.sample_entry_id = f->se1;
    assert_int_equal(reel_run_frame(run, &in, &err), 0);
    in.key = false;
    assert_int_equal(reel_run_frame(run, &in, &err), -EINVAL); /* same ts */
    in.ts90k = 50;
    assert_int_equal(reel_run_frame(run, &in, &err), -EINVAL); /* going back */
    in.ts90k = 3100;
    in.sample_entry_id = f->se2;
    assert_int_equal(reel_run_frame(run, &in, &err), -EINVAL); /* entry change on non-key */
    in.sample_entry_id = f->se1;
    in.len = 0;
    assert_int_equal(reel_run_frame(run, &in, &err), -EINVAL);
    in.len = sizeof(buf);
    assert_int_equal(reel_run_frame(run, &in, &err), 0);
    reel_run_close(run);
    reel_run_close(NULL);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].frames, 2);
    assert_int_equal(v[0].media_duration90k, 6000); /* last frame: previous duration */
    assert_false(v[0].open);
    reel_recordings_free(v, n);
}

static void test_rotation_and_readback(void **state)
{
    struct fx *f = *state;
    struct reel_run *run;
    struct reel_err err;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    int64_t start_wall90k = reel_ns_to_90k(tclock_wall(&f->clk));
    record(f, run, 0, 150, f->se1, REEL_NS_PER_SEC / 30);
    record(f, run, 150, 240, f->se2, REEL_NS_PER_SEC / 30);
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);

    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    /* camera 1, rotate 2 s: the first recording lasts 2 s * 1.37 -> cut at the
     * key frame at 3 s (frame 90); then at the sample entry change (150), then
     * 2 s later (210) */
    static const int cuts[] = { 0, 90, 150, 210, 240 };
    assert_int_equal(n, 4);
    int64_t run_id = v[0].run_id;
    assert_int_equal(run_id, v[0].id);
    assert_int_equal(v[0].start90k, start_wall90k);
    for (size_t r = 0; r < n; r++) {
        int a = cuts[r], b = cuts[r + 1];
        assert_int_equal(v[r].frames, b - a);
        assert_int_equal(v[r].run_id, run_id);
        assert_false(v[r].open);
        assert_int_equal(v[r].sample_entry_id, a < 150 ? f->se1 : f->se2);
        if (r > 0)
            assert_int_equal(v[r].start90k, v[r - 1].start90k + v[r - 1].wall_duration90k);
        /* the file holds exactly the frames */
        size_t flen;
        uint8_t *data = read_file(v[r].path, &flen);
        assert_non_null(data);
        assert_int_equal(flen, v[r].bytes);
        struct reel_frame_info *fi = calloc(v[r].frames, sizeof(*fi));
        assert_int_equal(reel_index_decode(v[r].index, v[r].index_len, v[r].frames, fi, &err), 0);
        /* and the index is what an encoder gives for the same frames */
        struct reel_index_enc e;
        reel_index_enc_init(&e, 1 << 20);
        size_t off = 0;
        uint8_t buf[8192];
        for (int i = a; i < b; i++) {
            bool key = i % 15 == 0;
            size_t len = frame_size(i, key);
            make_frame(i, key, buf, len);
            assert_true(off + len <= flen);
            assert_memory_equal(data + off, buf, len);
            off += len;
            struct reel_frame_info want = { .size = (uint32_t)len, .duration90k = 3000, .key = key };
            assert_int_equal(fi[i - a].size, want.size);
            assert_int_equal(fi[i - a].key, want.key);
            assert_int_equal(fi[i - a].duration90k, 3000);
            assert_int_equal(reel_index_enc_add(&e, &want), 0);
        }
        assert_int_equal(off, flen);
        assert_true(fi[0].key);
        assert_int_equal(e.out.len, v[r].index_len);
        assert_memory_equal(e.out.data, v[r].index, e.out.len);
        assert_int_equal(v[r].media_duration90k, (int64_t)(b - a) * 3000);
        reel_index_enc_free(&e);
        free(fi);
        free(data);
    }
    reel_recordings_free(v, n);
    int64_t bytes, dur, oldest;
    assert_int_equal(reel_store_camera_usage(f->s, f->cam, &bytes, &dur, &oldest, &err), 0);
    assert_int_equal(oldest, start_wall90k);
    assert_true(bytes > 0);
    /* only the 4 recordings' files remain (the unused spare is gone) */
    struct reel_check_report rep;
    assert_int_equal(reel_store_check(f->s, REEL_CHECK_HASH, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.problems, 0);
    assert_int_equal(rep.recordings, 4);
    assert_int_equal(rep.files, 4);
}

static void check_drift(struct fx *f, int64_t ns_per_frame, int sign)
{
    struct reel_run *run;
    struct reel_err err;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    record(f, run, 0, 600, f->se1, ns_per_frame); /* 20 s */
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    assert_true(n >= 5);
    for (size_t i = 0; i < n; i++) {
        int64_t media = v[i].media_duration90k, corr = v[i].wall_duration90k - media;
        int64_t lim = media * 500 / 1000000;
        assert_true(corr <= lim && corr >= -lim);
        if (sign != 0 && i + 1 < n) /* bound reached: 1000 ppm asked, 500 given */
            assert_int_equal(corr, sign * lim);
        if (sign == 0)
            assert_true(corr <= 1 && corr >= -1);
        if (i > 0)
            assert_int_equal(v[i].start90k, v[i - 1].start90k + v[i - 1].wall_duration90k);
    }
    reel_recordings_free(v, n);
}

static void test_drift_fast(void **state)
{
    /* the local monotonic clock runs 1000 ppm ahead of the camera */
    check_drift(*state, REEL_NS_PER_SEC / 30 + REEL_NS_PER_SEC / 30 / 1000, 1);
}

static void test_drift_slow(void **state)
{
    check_drift(*state, REEL_NS_PER_SEC / 30 - REEL_NS_PER_SEC / 30 / 1000, -1);
}

static void test_drift_none(void **state)
{
    /* 1/30 s exactly: 3000 ticks is 33333333.3 ns, so within a tick */
    check_drift(*state, REEL_NS_PER_SEC / 30, 0);
}

static void test_checkpoint_visible_to_reader(void **state)
{
    struct fx *f = *state;
    struct reel_run *run;
    struct reel_err err;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    record(f, run, 0, 40, f->se1, REEL_NS_PER_SEC / 30);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_store *rd;
    assert_int_equal(open_store(f, REEL_STORE_READ, &rd, 0), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(rd, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_true(v[0].open);
    assert_int_equal(v[0].frames, 39); /* the last frame's duration is not known yet */
    uint64_t want = 0;
    for (int i = 0; i < 39; i++)
        want += frame_size(i, i % 15 == 0);
    assert_int_equal(v[0].bytes, want);
    reel_recordings_free(v, n);
    /* check works next to the recorder; the open file may be longer */
    struct reel_check_report rep;
    assert_int_equal(reel_store_check(rd, REEL_CHECK_HASH, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.problems, 0);
    assert_int_equal(reel_store_check(rd, REEL_CHECK_REPAIR, NULL, NULL, &rep, &err), -EPERM);
    reel_store_close(rd);
    reel_run_close(run);
}

/* ---- crash recovery ---- */

static void test_crash_recovery(void **state)
{
    struct fx *f = *state;
    reel_store_close(f->s);
    f->s = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct reel_store *s;
        if (open_store(f, REEL_STORE_RECORD, &s, 60 * REEL_NS_PER_SEC) < 0)
            _exit(2);
        struct reel_run *run;
        struct reel_err err;
        if (reel_run_open(s, f->cam, &run, &err) < 0)
            _exit(3);
        uint8_t *buf = malloc(300000);
        for (int i = 0; i < 60; i++) {
            /* frames 50.. are large: full batches, written, never synced */
            size_t len = i >= 50 ? 300000 : frame_size(i, i % 15 == 0);
            make_frame(i, i % 15 == 0, buf, len);
            struct reel_frame_in in = { .data = buf, .len = len, .ts90k = (int64_t)i * 3000, .key = i % 15 == 0,
                                        .sample_entry_id = f->se1 };
            if (reel_run_frame(run, &in, &err) < 0)
                _exit(4);
            if (i == 44 && reel_store_sync(s, &err) < 0)
                _exit(5);
        }
        usleep(200 * 1000); /* the writer thread writes what is queued (it may gather 10 ms) */
        _exit(0); /* no close: like SIGKILL, but the page cache survives */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* before recovery: the row is open, the file longer than its bytes */
    struct reel_store *rd;
    assert_int_equal(open_store(f, REEL_STORE_READ, &rd, 0), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(rd, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_true(v[0].open);
    assert_int_equal(v[0].frames, 44);
    uint64_t committed = v[0].bytes;
    char path[4200];
    snprintf(path, sizeof(path), "%s", v[0].path);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true((uint64_t)sb.st_size > committed + 300000);
    reel_recordings_free(v, n);
    reel_store_close(rd);
    /* an orphan (no row) and a stale garbage row */
    char orphan[4300];
    snprintf(orphan, sizeof(orphan), "%s/storage/%lld/00000000000fffff", f->dir, (long long)f->cam);
    int fd = open(orphan, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);

    f->events[0] = 0;
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &f->s, 2 * REEL_NS_PER_SEC), 0);
    get_recs(f->s, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_false(v[0].open);
    assert_int_equal(v[0].frames, 44);
    assert_int_equal(v[0].bytes, committed);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, committed);
    reel_recordings_free(v, n);
    assert_int_equal(access(orphan, F_OK), -1);
    assert_non_null(strstr(f->events, "dropped"));
    /* the unused spare row (0 frames) and its file are gone: check is clean */
    struct reel_check_report rep;
    struct reel_err err;
    assert_int_equal(reel_store_check(f->s, REEL_CHECK_HASH, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.problems, 0);
    assert_int_equal(rep.files, 1);
    /* and recording continues with new ids */
    struct reel_run *run;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    record(f, run, 0, 10, f->se1, REEL_NS_PER_SEC / 30);
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    get_recs(f->s, f->cam, &v, &n);
    assert_int_equal(n, 2);
    assert_true(v[1].id > v[0].id);
    reel_recordings_free(v, n);
}

static void test_stale_row_and_tail(void **state)
{
    /* without fork: a closed store whose file got unsynced tail bytes and
     * whose row is set back to open, plus a garbage row */
    struct fx *f = *state;
    struct reel_run *run;
    struct reel_err err;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    record(f, run, 0, 30, f->se1, REEL_NS_PER_SEC / 30);
    reel_run_close(run);
    reel_store_close(f->s);
    f->s = NULL;
    char db[128];
    snprintf(db, sizeof(db), "%s/reel.db", f->dir);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "UPDATE recording SET open = 1; "
                                     "INSERT INTO garbage VALUES (1, 1, 4096)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(h, "SELECT id, bytes FROM recording", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long id = sqlite3_column_int64(st, 0), bytes = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
    char path[256], gpath[256];
    snprintf(path, sizeof(path), "%s/storage/%lld/%016llx", f->dir, (long long)f->cam, id);
    snprintf(gpath, sizeof(gpath), "%s/storage/%lld/%016llx", f->dir, (long long)f->cam, 4096LL);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "garbage tail", 12), 12);
    close(fd);
    fd = open(gpath, O_WRONLY | O_CREAT, 0600);
    close(fd);
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &f->s, 2 * REEL_NS_PER_SEC), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, bytes);
    assert_int_equal(access(gpath, F_OK), -1);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_false(v[0].open);
    reel_recordings_free(v, n);
}

static void test_write_error(void **state)
{
    /* a write that fails (here EFBIG from RLIMIT_FSIZE, in a child) ends the
     * run with -EIO; what was committed stays and the file is cut back to it */
    struct fx *f = *state;
    reel_store_close(f->s);
    f->s = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 3 * 1024 * 1024, 3 * 1024 * 1024 };
        setrlimit(RLIMIT_FSIZE, &rl);
        struct reel_store *s;
        if (open_store(f, REEL_STORE_RECORD, &s, 600 * REEL_NS_PER_SEC) < 0)
            _exit(2);
        struct reel_run *run;
        struct reel_err err;
        if (reel_run_open(s, f->cam, &run, &err) < 0)
            _exit(3);
        uint8_t *buf = malloc(400000);
        int r = 0, i;
        for (i = 0; i < 100 && r == 0; i++) {
            size_t len = i < 5 ? 1000 : 400000;
            make_frame(i, i == 0, buf, len);
            struct reel_frame_in in = { .data = buf, .len = len, .ts90k = (int64_t)i * 3000, .key = i == 0,
                                        .sample_entry_id = f->se1 };
            r = reel_run_frame(run, &in, &err);
            if (i == 5)
                reel_store_sync(s, &err);
        }
        if (r != -EIO || !strstr(err.msg, "write failed") || !strstr(f->events, "write failed"))
            _exit(4);
        char want[64];   /* issue 15: told as storage.error, with the camera */
        snprintf(want, sizeof(want), "trouble %d %lld: sample file ", (int)REEL_STORE_TROUBLE_WRITE, (long long)f->cam);
        if (!strstr(f->events, want) || !strstr(strstr(f->events, want), "write failed"))
            _exit(6);
        /* the run is gone; the camera may start a new one */
        if (reel_run_open(s, f->cam, &run, &err) < 0)
            _exit(5);
        reel_run_close(run);
        free(buf);
        reel_store_close(s);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(open_store(f, REEL_STORE_READ, &f->s, 0), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_false(v[0].open);
    assert_true(v[0].frames >= 5);
    struct stat sb;
    assert_int_equal(stat(v[0].path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, v[0].bytes);
    reel_recordings_free(v, n);
    struct reel_check_report rep;
    struct reel_err err;
    assert_int_equal(reel_store_check(f->s, REEL_CHECK_HASH, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.problems, 0);
}

static void test_write_error_in_syncer(void **state)
{
    /* the syncer's own write of a batch fails (EFBIG from RLIMIT_FSIZE): the
     * failure is reported at once, never retried, and the next frame ends
     * the run with -EIO; the committed part is kept, the file cut back to it */
    struct fx *f = *state;
    reel_store_close(f->s);
    f->s = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 1024 * 1024, 1024 * 1024 };
        setrlimit(RLIMIT_FSIZE, &rl);
        struct reel_store *s;
        if (open_store(f, REEL_STORE_RECORD, &s, 600 * REEL_NS_PER_SEC) < 0)
            _exit(2);
        struct reel_run *run;
        struct reel_err err;
        if (reel_run_open(s, f->cam, &run, &err) < 0)
            _exit(3);
        uint8_t buf[10000];
        int i;
        for (i = 0; i < 300 && !strstr(f->events, "write failed"); i++) {
            make_frame(i, i == 0, buf, sizeof(buf));
            struct reel_frame_in in = { .data = buf, .len = sizeof(buf), .ts90k = (int64_t)i * 3000, .key = i == 0,
                                        .sample_entry_id = f->se1 };
            if (reel_run_frame(run, &in, &err) < 0)
                _exit(4); /* the loop never writes: batches stay under 256 KiB */
            if (i % 10 == 9)
                reel_store_sync(s, &err);
        }
        if (!strstr(f->events, "write failed"))
            _exit(5);
        make_frame(i, false, buf, sizeof(buf));
        struct reel_frame_in in = { .data = buf, .len = sizeof(buf), .ts90k = (int64_t)i * 3000,
                                    .sample_entry_id = f->se1 };
        int r = reel_run_frame(run, &in, &err);
        if (r != -EIO || !strstr(err.msg, "write failed"))
            _exit(6);
        if (reel_run_open(s, f->cam, &run, &err) < 0)
            _exit(7);
        reel_run_close(run);
        reel_store_close(s);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(open_store(f, REEL_STORE_READ, &f->s, 0), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_false(v[0].open);
    assert_true(v[0].frames >= 50);
    assert_true(v[0].bytes < 1024 * 1024);
    struct stat sb;
    assert_int_equal(stat(v[0].path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, v[0].bytes);
    reel_recordings_free(v, n);
    struct reel_check_report rep;
    struct reel_err err;
    assert_int_equal(reel_store_check(f->s, REEL_CHECK_HASH, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.problems, 0);
}

/* ---- retention ---- */

static void test_retention_bytes(void **state)
{
    struct fx *f = *state;
    struct reel_run *run;
    struct reel_err err;
    int64_t t0 = reel_ns_to_90k(tclock_wall(&f->clk));
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    record(f, run, 0, 600, f->se1, REEL_NS_PER_SEC / 30);
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    assert_true(n >= 8);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].bytes;
    char first_path[4200];
    snprintf(first_path, sizeof(first_path), "%s", v[0].path);
    reel_recordings_free(v, n);
    struct reel_camera c;
    assert_int_equal(reel_store_camera_get(f->s, "front", &c, &err), 0);
    c.retain_bytes = (int64_t)(total / 2);
    assert_int_equal(reel_store_camera_update(f->s, &c, NULL, &err), 0);
    assert_int_equal(reel_store_sync(f->s, &err), 0); /* the syncer runs retention */
    size_t n2;
    get_recs(f->s, f->cam, &v, &n2);
    uint64_t kept = 0;
    for (size_t i = 0; i < n2; i++)
        kept += v[i].bytes;
    assert_true(kept <= total / 2);
    assert_true(n2 < n && n2 > 0);
    int64_t first_kept = v[0].start90k;
    reel_recordings_free(v, n2);
    assert_int_equal(access(first_path, F_OK), -1);
    struct reel_gap *g;
    size_t ng;
    assert_int_equal(reel_store_gaps(f->s, f->cam, 0, INT64_MAX, &g, &ng, &err), 0);
    assert_int_equal(ng, 1); /* contiguous deletions merge into one range */
    assert_string_equal(g[0].reason, "deleted by retention");
    assert_int_equal(g[0].start90k, t0);
    assert_int_equal(g[0].end90k, first_kept);
    free(g);
    assert_non_null(strstr(f->events, "retention deleted"));
}

static void test_retention_age(void **state)
{
    struct fx *f = *state;
    struct reel_run *run;
    struct reel_err err;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    record(f, run, 0, 300, f->se1, REEL_NS_PER_SEC / 30);
    reel_run_close(run);
    /* a second run stays open */
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    record(f, run, 1005, 1025, f->se1, REEL_NS_PER_SEC / 30);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_camera c;
    assert_int_equal(reel_store_camera_get(f->s, "front", &c, &err), 0);
    c.retain_seconds = 4;
    assert_int_equal(reel_store_camera_update(f->s, &c, NULL, &err), 0);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    /* recordings ending more than 4 s before now are gone (now = end of run 2) */
    int64_t now90k = reel_ns_to_90k(tclock_wall(&f->clk));
    for (size_t i = 0; i < n; i++)
        assert_true(v[i].open || v[i].start90k + v[i].wall_duration90k >= now90k - 4 * REEL_90K);
    assert_true(n >= 2);
    reel_recordings_free(v, n);
    tclock_add(&f->clk, 0, 3600 * REEL_NS_PER_SEC);
    assert_int_equal(reel_store_retention(f->s, &err), 0);
    get_recs(f->s, f->cam, &v, &n);
    assert_int_equal(n, 1); /* never the open one */
    assert_true(v[0].open);
    reel_recordings_free(v, n);
    reel_run_close(run);
}

static void test_free_oldest(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    struct reel_camera c = { 0 };
    snprintf(c.name, sizeof(c.name), "back");
    snprintf(c.url, sizeof(c.url), "rtsp://192.0.2.2/");
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), 0);
    struct reel_run *r1, *r2;
    assert_int_equal(reel_run_open(f->s, f->cam, &r1, &err), 0);
    record(f, r1, 0, 90, f->se1, REEL_NS_PER_SEC / 30);
    reel_run_close(r1);
    assert_int_equal(reel_run_open(f->s, c.id, &r2, &err), 0);
    record(f, r2, 0, 30, f->se1, REEL_NS_PER_SEC / 30);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_storage_dir *dirs;
    size_t nd;
    assert_int_equal(reel_store_dir_list(f->s, &dirs, &nd, &err), 0);
    assert_int_equal(nd, 1);
    int64_t dir = dirs[0].id;
    free(dirs);
    unsigned del;
    f->events[0] = 0;
    assert_int_equal(reel_store_free_oldest(f->s, dir, 1, &del, &err), 0);
    assert_int_equal(del, 1);
    assert_non_null(strstr(f->events, "disk full: deleted recording"));
    assert_int_equal(reel_store_free_oldest(f->s, dir, 10, &del, &err), 0);
    assert_int_equal(del, 0); /* camera 1's one recording is gone; camera 2's is open */
    struct reel_gap *g;
    size_t ng;
    assert_int_equal(reel_store_gaps(f->s, f->cam, 0, INT64_MAX, &g, &ng, &err), 0);
    assert_int_equal(ng, 1);
    assert_string_equal(g[0].reason, "deleted: disk full");
    free(g);
    reel_run_close(r2);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    assert_int_equal(reel_store_free_oldest(f->s, dir, 10, &del, &err), 0);
    assert_int_equal(del, 1);
    /* a camera with footage is only removed with it */
    assert_int_equal(reel_store_camera_remove(f->s, "back", false, &err), 0);
}

/* ---- identity files ---- */

static void test_identity(void **state)
{
    struct fx *f = *state;
    reel_store_close(f->s);
    f->s = NULL;
    char idf[128];
    snprintf(idf, sizeof(idf), "%s/storage/reel-storage-id", f->dir);
    char saved[64] = { 0 };
    int fd = open(idf, O_RDONLY);
    assert_true(read(fd, saved, sizeof(saved) - 1) > 0);
    close(fd);
    assert_int_equal(unlink(idf), 0);
    f->events[0] = 0;
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &f->s, 0), 0);
    assert_non_null(strstr(f->events, "identity file missing — disk not mounted?"));
    struct reel_storage_dir *dirs;
    size_t nd;
    struct reel_err err;
    assert_int_equal(reel_store_dir_list(f->s, &dirs, &nd, &err), 0);
    assert_false(dirs[0].usable);
    assert_non_null(strstr(dirs[0].error, "identity file missing"));
    free(dirs);
    struct reel_run *run;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), -EIO);
    assert_non_null(strstr(err.msg, "disk not mounted?"));
    struct reel_check_report rep;
    assert_int_equal(reel_store_check(f->s, 0, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.problems, 1);
    /* READ mode (`reel check`, `storage list`) sees it too, and reports the
     * directory once rather than each of its files as missing */
    struct reel_store *rd;
    assert_int_equal(open_store(f, REEL_STORE_READ, &rd, 0), 0);
    assert_int_equal(reel_store_dir_list(rd, &dirs, &nd, &err), 0);
    assert_false(dirs[0].usable);
    assert_non_null(strstr(dirs[0].error, "identity file missing"));
    free(dirs);
    assert_int_equal(reel_store_check(rd, 0, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.problems, 1);
    reel_store_close(rd);
    reel_store_close(f->s);
    /* a foreign identity */
    fd = open(idf, O_WRONLY | O_CREAT, 0644);
    assert_int_equal(write(fd, "00000000-0000-4000-8000-000000000000\n", 37), 37);
    close(fd);
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &f->s, 0), 0);
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), -EIO);
    assert_non_null(strstr(err.msg, "another storage dir"));
    reel_store_close(f->s);
    /* the right one again */
    fd = open(idf, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, saved, strlen(saved)), (ssize_t)strlen(saved));
    close(fd);
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &f->s, 0), 0);
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    reel_run_close(run);
    /* a second storage dir */
    char d2[128];
    snprintf(d2, sizeof(d2), "%s/disk2", f->dir);
    int64_t id2;
    assert_int_equal(reel_store_dir_add(f->s, d2, &id2, &err), -EPERM);
    struct reel_store *adm;
    assert_int_equal(open_store(f, REEL_STORE_ADMIN, &adm, 0), 0);
    assert_int_equal(reel_store_dir_add(adm, d2, &id2, &err), 0);
    assert_int_equal(reel_store_dir_list(adm, &dirs, &nd, &err), 0);
    assert_int_equal(nd, 2);
    assert_true(dirs[1].usable);
    free(dirs);
    reel_store_close(adm);
    /* a camera recording into it */
    struct reel_camera c = { .dir_id = id2 };
    snprintf(c.name, sizeof(c.name), "side");
    snprintf(c.url, sizeof(c.url), "rtsp://192.0.2.3/");
    reel_store_close(f->s);
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &f->s, 0), 0);
    assert_int_equal(reel_store_camera_add(f->s, &c, NULL, &err), 0);
    assert_int_equal(reel_run_open(f->s, c.id, &run, &err), 0);
    record(f, run, 0, 20, f->se1, REEL_NS_PER_SEC / 30);
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, c.id, &v, &n);
    assert_int_equal(n, 1);
    assert_non_null(strstr(v[0].path, "/disk2/"));
    assert_int_equal(access(v[0].path, F_OK), 0);
    reel_recordings_free(v, n);
}

/* ---- check ---- */

struct lines {
    char buf[8192];
    int n;
};

static void line_cb(void *opaque, const char *line)
{
    struct lines *l = opaque;
    size_t k = strlen(l->buf);
    snprintf(l->buf + k, sizeof(l->buf) - k, "%s\n", line);
    l->n++;
}

static void test_check(void **state)
{
    struct fx *f = *state;
    struct reel_run *run;
    struct reel_err err;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    record(f, run, 0, 600, f->se1, REEL_NS_PER_SEC / 30);
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    assert_true(n >= 6);
    /* 0: truncated, 1: missing, 2: corrupt index, 3: a frame's NAL length broken */
    assert_int_equal(truncate(v[0].path, (off_t)v[0].bytes - 10), 0);
    assert_int_equal(unlink(v[1].path), 0);
    int fd = open(v[3].path, O_WRONLY);
    assert_int_equal(pwrite(fd, "\xff\xff\xff\xff", 4, 0), 4);
    close(fd);
    int64_t bad_index_id = v[2].id;
    char orphan[4300];
    snprintf(orphan, sizeof(orphan), "%s/storage/%lld/0000000000abcdef", f->dir, (long long)f->cam);
    fd = open(orphan, O_WRONLY | O_CREAT, 0600);
    close(fd);
    reel_recordings_free(v, n);
    reel_store_close(f->s);
    f->s = NULL;
    char db[128];
    snprintf(db, sizeof(db), "%s/reel.db", f->dir);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    char *sql = sqlite3_mprintf("UPDATE recording SET video_index = x'ff' WHERE id = %lld", (long long)bad_index_id);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
    sqlite3_close(h);

    struct reel_store *rd;
    assert_int_equal(open_store(f, REEL_STORE_READ, &rd, 0), 0);
    struct lines l = { "", 0 };
    struct reel_check_report rep;
    assert_int_equal(reel_store_check(rd, 0, line_cb, &l, &rep, &err), 0);
    assert_int_equal(rep.problems, 4);
    assert_non_null(strstr(l.buf, "holds"));
    assert_non_null(strstr(l.buf, "missing"));
    assert_non_null(strstr(l.buf, "corrupt index"));
    assert_non_null(strstr(l.buf, "orphan"));
    memset(&l, 0, sizeof(l));
    assert_int_equal(reel_store_check(rd, REEL_CHECK_HASH, line_cb, &l, &rep, &err), 0);
    assert_int_equal(rep.problems, 5);
    assert_non_null(strstr(l.buf, "NAL unit length"));
    assert_int_equal(access(orphan, F_OK), 0); /* nothing changed */
    reel_store_close(rd);

    struct reel_store *adm;
    assert_int_equal(open_store(f, REEL_STORE_ADMIN, &adm, 0), 0);
    assert_int_equal(reel_store_check(adm, REEL_CHECK_REPAIR, NULL, NULL, &rep, &err), 0);
    assert_true(rep.repaired >= 4);
    assert_int_equal(access(orphan, F_OK), -1);
    assert_int_equal(reel_store_check(adm, 0, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.problems, 0);
    reel_store_close(adm);
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &f->s, 0), 0);
}

/* ---- the writer: O_DIRECT and buffered ---- */

/* Frames of many sizes (some larger than a 256 KiB batch), a checkpoint
 * every few frames (so that partial batches end at unaligned offsets and
 * their last block is written again later): after each checkpoint the
 * committed prefix of the file is exactly the frames, and after the close
 * the file is exactly the frames, no padding left. Both with O_DIRECT (where
 * the filesystem takes it) and through the page cache. */
static void io_mode(struct fx *f, bool buffered)
{
    reel_store_close(f->s);
    f->s = NULL;
    f->events[0] = '\0';
    /* does this filesystem take O_DIRECT? then the writer must use it */
    char probe[256];
    snprintf(probe, sizeof(probe), "%s/direct-probe", f->dir);
    int pfd = open(probe, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    bool can_direct = pfd >= 0;
    if (pfd >= 0)
        close(pfd);
    unlink(probe);
    struct reel_store_cfg cfg = {
        .datadir = f->dir, .mode = REEL_STORE_RECORD, .clock = &f->clk.clock,
        .checkpoint_ns = 3600 * REEL_NS_PER_SEC, .rotate_ns = 3600 * REEL_NS_PER_SEC, .stall_ns = 3600 * REEL_NS_PER_SEC,
        .buffered_io = buffered, .on_event = on_event, .opaque = f,
    };
    struct reel_err err = { "" };
    assert_int_equal(reel_store_open(&f->s, &cfg, &err), 0);
    struct reel_run *run;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    enum { N = 120 };
    size_t total = 0, sizes[N];
    for (int i = 0; i < N; i++) {
        sizes[i] = i % 40 == 0 ? 300000 + (size_t)i : i % 7 == 3 ? 70001 + (size_t)i * 3 : 1000 + (size_t)(i * 4099 % 9000);
        total += sizes[i];
    }
    uint8_t *all = malloc(total);
    size_t off = 0;
    for (int i = 0; i < N; i++) {
        make_frame(i, i % 40 == 0, all + off, sizes[i]);
        struct reel_frame_in in = { .data = all + off, .len = sizes[i], .ts90k = (int64_t)i * 3000,
                                    .key = i % 40 == 0, .sample_entry_id = f->se1 };
        assert_int_equal(reel_run_frame(run, &in, &err), 0);
        off += sizes[i];
        tclock_add(&f->clk, REEL_NS_PER_SEC / 30, REEL_NS_PER_SEC / 30);
        if (i % 9 == 4) {
            assert_int_equal(reel_store_sync(f->s, &err), 0);
            struct reel_recording *v;
            size_t n;
            get_recs(f->s, f->cam, &v, &n);
            assert_int_equal(n, 1);
            assert_int_equal(v[0].bytes, off - sizes[i]); /* all but the last frame */
            size_t flen;
            uint8_t *data = read_file(v[0].path, &flen);
            assert_non_null(data);
            assert_true(flen >= v[0].bytes);
            assert_memory_equal(data, all, v[0].bytes);
            free(data);
            /* O_DIRECT: the size is set ahead of the data (a hole, no blocks),
             * so that no write extends the file */
            struct stat sb;
            assert_int_equal(stat(v[0].path, &sb), 0);
            if (can_direct && !buffered) {
                assert_true((uint64_t)sb.st_size >= v[0].bytes + (4u << 20));
                assert_true((uint64_t)sb.st_blocks * 512 < (uint64_t)sb.st_size);
            } else {
                assert_true((uint64_t)sb.st_size <= off); /* no size ahead, no padding */
            }
            reel_recordings_free(v, n);
        }
    }
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    struct reel_recording *v;
    size_t n;
    get_recs(f->s, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_false(v[0].open);
    assert_int_equal(v[0].frames, N);
    assert_int_equal(v[0].bytes, total);
    size_t flen;
    uint8_t *data = read_file(v[0].path, &flen);
    assert_int_equal(flen, total);
    assert_memory_equal(data, all, total);
    free(data);
    char path[4200];
    snprintf(path, sizeof(path), "%s", v[0].path);
    reel_recordings_free(v, n);
    reel_store_close(f->s);
    f->s = NULL;
    unsigned long writes = 0, direct = 0;
    const char *w = strstr(f->events, "writer: ");
    assert_non_null(w);
    assert_int_equal(sscanf(w, "writer: %lu writes (%lu direct)", &writes, &direct), 2);
    assert_true(writes >= total / (256 * 1024));
    if (buffered || !can_direct)
        assert_int_equal(direct, 0);
    else
        assert_int_equal(direct, writes);
    unlink(path);
    assert_int_equal(open_store(f, REEL_STORE_RECORD, &f->s, 2 * REEL_NS_PER_SEC), 0);
    free(all);
}

static void test_io_direct(void **state)
{
    io_mode(*state, false);
}

static void test_io_buffered(void **state)
{
    io_mode(*state, true);
}

/* ---- what the loop thread hands to the syncers ----
 * A new sample entry gets its id from memory and reaches the database with
 * the first commit (never after a recording that references it); outage
 * changes wait in memory for a commit and keep their order; each commit
 * that makes frames durable is told through on_recording, the last with
 * closed set. */
static void test_queued_to_syncer(void **state)
{
    struct fx *f = *state;
    struct reel_err err;
    struct reel_store *rd = NULL;
    assert_int_equal(open_store(f, REEL_STORE_READ, &rd, 0), 0);
    int64_t se3 = 0;
    assert_int_equal(reel_store_sample_entry_put(f->s, (const uint8_t *)"hvc1-box-C", 10, 640, 360, "hvc1.1.6.L93.B0",
                                                 &se3, &err), 0);
    assert_true(se3 > f->se2);
    int64_t again = 0;
    assert_int_equal(reel_store_sample_entry_put(f->s, (const uint8_t *)"hvc1-box-C", 10, 640, 360, "hvc1.1.6.L93.B0",
                                                 &again, &err), 0);
    assert_int_equal(again, se3);
    struct reel_sample_entry se;
    assert_int_equal(reel_store_sample_entry_get(rd, se3, &se, &err), -ENOENT); /* not committed yet */
    assert_int_equal(reel_store_sample_entry_get(f->s, se3, &se, &err), 0);     /* the recorder knows it */
    assert_int_equal(se.width, 640);
    free(se.data);

    assert_int_equal(reel_store_outage_begin(f->s, f->cam, 100, "connecting", &err), 0);
    assert_int_equal(reel_store_outage_begin(f->s, f->cam, 150, "connection refused", &err), 0);
    assert_int_equal(reel_store_outage_end(f->s, f->cam, 300, &err), 0);
    assert_int_equal(reel_store_outage_begin(f->s, f->cam, 400, "auth failed", &err), 0);
    struct reel_gap *g;
    size_t n;
    assert_int_equal(reel_store_gaps(rd, f->cam, 0, INT64_MAX, &g, &n, &err), 0);
    assert_int_equal(n, 0);
    free(g);

    struct reel_run *run;
    assert_int_equal(reel_run_open(f->s, f->cam, &run, &err), 0);
    record(f, run, 0, 40, se3, REEL_NS_PER_SEC / 30);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    /* the entry and the recording that references it, committed together */
    assert_int_equal(reel_store_sample_entry_get(rd, se3, &se, &err), 0);
    assert_memory_equal(se.data, "hvc1-box-C", 10);
    assert_string_equal(se.codec_string, "hvc1.1.6.L93.B0");
    free(se.data);
    assert_int_equal(reel_store_gaps(rd, f->cam, 0, INT64_MAX, &g, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(g[0].start90k, 100);
    assert_int_equal(g[0].end90k, 300);
    assert_string_equal(g[0].reason, "connection refused");
    assert_int_equal(g[1].start90k, 400);
    assert_int_equal(g[1].end90k, -1);
    free(g);
    struct reel_recording *v;
    get_recs(rd, f->cam, &v, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].sample_entry_id, se3);
    assert_true(f->nrev >= 1);
    struct reel_recording_event *ev = &f->rev[f->nrev - 1];
    assert_int_equal(ev->recording_id, v[0].id);
    assert_int_equal(ev->camera_id, f->cam);
    assert_int_equal(ev->run_id, v[0].run_id);
    assert_int_equal(ev->frames, v[0].frames);
    assert_int_equal(ev->bytes, v[0].bytes);
    assert_int_equal(ev->start90k, v[0].start90k);
    assert_int_equal(ev->wall_duration90k, v[0].wall_duration90k);
    assert_false(ev->closed);
    reel_recordings_free(v, n);
    int before = f->nrev;
    assert_int_equal(reel_store_sync(f->s, &err), 0); /* nothing new: no event */
    assert_int_equal(f->nrev, before);
    reel_run_close(run);
    assert_int_equal(reel_store_sync(f->s, &err), 0);
    assert_int_equal(f->nrev, before + 1);
    ev = &f->rev[f->nrev - 1];
    assert_true(ev->closed);
    assert_int_equal(ev->frames, 40);
    reel_store_close(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_and_cameras, setup, teardown),
        cmocka_unit_test_setup_teardown(test_camera_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_and_readback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drift_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drift_slow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drift_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_visible_to_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_row_and_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_error_in_syncer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_to_syncer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_buffered, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

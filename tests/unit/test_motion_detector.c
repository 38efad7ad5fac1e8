/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The motion detector with a real hub and reel.db, no network: a camera
 * with motion 'decode' gets a detector; hostile access units (garbage, a
 * truncated frame, an unknown sample entry) are counted as errors and the
 * detector recovers at the next key frame of the real clip; a burst far
 * faster than decoding never holds the publisher (the recorder's loop):
 * the hub drops for the detector, which counts what it lost.
 * Usage: test_motion_detector DATA_DIR (tests/data, for clip320x180.264)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "codec/annexb.h"
#include "codec/params.h"
#include "db/db.h"
#include "hub/hub.h"
#include "media/avlog.h"
#include "motion/detector.h"

static const char *data_dir;

#define MAX_NALS 8192
#define MAX_AUS 512

struct clip {
    struct reel_video_params vp;
    uint8_t *au[MAX_AUS];
    size_t len[MAX_AUS];
    bool key[MAX_AUS];
    int n;
};

static void load_clip(struct clip *c)
{
    char path[512];
    snprintf(path, sizeof path, "%s/clip320x180.264", data_dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[4 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct reel_nal *nals = calloc(MAX_NALS, sizeof *nals);
    assert_non_null(nals);
    int n = reel_annexb_split(buf, len, nals, MAX_NALS);
    assert_true(n > 0);
    const uint8_t *ps[8];
    size_t pslen[8], nps = 0;
    c->n = 0;
    for (int i = 0; i < n; i++) {
        unsigned t = reel_h264_nal_type(nals[i].p[0]);
        if (t == 7 || t == 8) {
            if (c->n == 0 && nps < 8)
                ps[nps] = nals[i].p, pslen[nps++] = nals[i].len;
            continue;
        }
        if (t != 1 && t != 5)
            continue;
        if (nals[i].len > 1 && (nals[i].p[1] & 0x80)) {   /* first_mb_in_slice 0: a new AU */
            if (c->n == MAX_AUS)
                break;
            c->au[c->n] = malloc(len + 4);
            assert_non_null(c->au[c->n]);
            c->len[c->n] = 0;
            c->key[c->n] = t == 5;
            c->n++;
        }
        if (c->n == 0)
            continue;
        uint8_t *p = c->au[c->n - 1] + c->len[c->n - 1];
        p[0] = (uint8_t)(nals[i].len >> 24);
        p[1] = (uint8_t)(nals[i].len >> 16);
        p[2] = (uint8_t)(nals[i].len >> 8);
        p[3] = (uint8_t)nals[i].len;
        memcpy(p + 4, nals[i].p, nals[i].len);
        c->len[c->n - 1] += 4 + nals[i].len;
    }
    struct reel_err err = { "" };
    if (reel_video_params_build(REEL_CODEC_H264, ps, pslen, nps, &c->vp, &err) != 0)
        fail_msg("params: %s", err.msg);
    free(nals);
    assert_true(c->n >= 8);
}

static void clip_clear(struct clip *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->au[i]);
    reel_video_params_clear(&c->vp);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* A data dir with reel.db: camera 1 "cam" with motion 'decode'. */
static void make_datadir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/reel-motion-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, REEL_DB_FILE);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    sqlite3 *db;
    struct reel_err err = { "" };
    assert_int_equal(reel_db_open(&db, dir, REEL_DB_CREATE, &err), 0);
    assert_int_equal(reel_db_exec(db, "BEGIN IMMEDIATE", &err), 0);
    assert_int_equal(reel_db_create(db, &err), 0);
    assert_int_equal(reel_db_exec(db, "INSERT INTO storage_dir (id, path, uuid) VALUES (1, '/nonexistent', 'u');"
                                      "INSERT INTO camera (id, name, url, dir_id) VALUES (1, 'cam', 'rtsp://x/', 1);"
                                      "INSERT INTO camera_events (camera_id, motion) VALUES (1, 'decode');"
                                      "COMMIT", &err), 0);
    sqlite3_close(db);
}

struct fixture {
    char dir[256];
    struct clip clip;
    struct reel_hub *hub;
    struct reel_hub_cam *cam;
    struct reel_motion *m;
};

static void wait_stats(struct fixture *fx, struct reel_motion_stats *st, bool (*done)(const struct reel_motion_stats *))
{
    for (int i = 0; i < 300; i++) {
        reel_motion_get_stats(fx->m, st);
        if (done(st))
            return;
        sleep_ms(50);
    }
    fail_msg("stats: cameras %u aus %llu decoded %llu analysed %llu lost %llu errors %llu", st->cameras,
             (unsigned long long)st->aus, (unsigned long long)st->decoded, (unsigned long long)st->analysed,
             (unsigned long long)st->lost, (unsigned long long)st->decode_errors);
}

static bool one_camera(const struct reel_motion_stats *st) { return st->cameras == 1; }

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    make_datadir(fx->dir, sizeof fx->dir);
    load_clip(&fx->clip);
    assert_int_equal(reel_hub_new(&fx->hub), 0);
    assert_int_equal(reel_hub_cam_add(fx->hub, 1, NULL, &fx->cam), 0);
    assert_int_equal(reel_hub_cam_set_entry(fx->cam, 5, fx->clip.vp.sample_entry, fx->clip.vp.sample_entry_len), 0);
    const struct reel_motion_run_cfg cfg = { .datadir = fx->dir, .hub = fx->hub, .workers = 1 };
    struct reel_err err = { "" };
    assert_int_equal(reel_motion_new(&fx->m, &cfg, &err), 0);
    struct reel_motion_stats st;
    wait_stats(fx, &st, one_camera);
    sleep_ms(300);   /* the worker subscribes */
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    reel_motion_free(fx->m);
    reel_hub_cam_remove(fx->hub, fx->cam);
    reel_hub_free(fx->hub);
    clip_clear(&fx->clip);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0) { /* a temp dir left behind */ }
    free(fx);
    return 0;
}

static int64_t now90k(void) { return reel_ns_to_90k(reel_clock_wall(reel_clock_system())); }

static void publish(struct fixture *fx, const uint8_t *d, size_t len, bool key, int64_t entry, int64_t *t)
{
    struct reel_hub_au au = { .data = d, .len = len, .ts90k = *t, .wall90k = *t, .key = key,
                              .sample_entry_id = entry };
    reel_hub_publish_au(fx->cam, &au);
    *t += 9000;
}

static bool decoded_some(const struct reel_motion_stats *st) { return st->decoded >= 20 && st->analysed > 0; }

static void test_hostile_then_recovers(void **state)
{
    struct fixture *fx = *state;
    int64_t t = now90k();
    uint8_t junk[4096];
    uint32_t r = 99;
    for (size_t i = 0; i < sizeof junk; i++) {
        r = r * 1103515245u + 12345u;
        junk[i] = (uint8_t)(r >> 16);
    }
    /* garbage that claims to be a key frame, a length prefix past the end, a truncated key frame,
     * an entry the hub never heard of, an empty AU */
    publish(fx, junk, sizeof junk, true, 5, &t);
    uint8_t lie[8] = { 0x7f, 0xff, 0xff, 0xff, 0x65, 0x88, 0x84, 0x00 };
    publish(fx, lie, sizeof lie, true, 5, &t);
    publish(fx, fx->clip.au[0], fx->clip.len[0] / 3, true, 5, &t);
    publish(fx, fx->clip.au[0], fx->clip.len[0], true, 999, &t);
    publish(fx, junk, 0, true, 5, &t);
    sleep_ms(200);
    /* then the real clip: decoding resumes at its key frame */
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < fx->clip.n; i++) {
            publish(fx, fx->clip.au[i], fx->clip.len[i], fx->clip.key[i], 5, &t);
            if (i % 4 == 0)
                sleep_ms(5);
        }
    struct reel_motion_stats st;
    wait_stats(fx, &st, decoded_some);
    assert_true(st.decode_errors >= 1);
    assert_int_equal(st.lost, 0);
}

static bool all_read(const struct reel_motion_stats *st) { return st->lost > 0; }

static void test_burst_never_holds_the_publisher(void **state)
{
    struct fixture *fx = *state;
    int64_t t = now90k();
    int64_t t0 = reel_clock_mono(reel_clock_system());
    int n = 0;
    for (int k = 0; k < 1200; k++)
        for (int i = 0; i < fx->clip.n; i++, n++)
            publish(fx, fx->clip.au[i], fx->clip.len[i], fx->clip.key[i], 5, &t);
    int64_t took = reel_clock_mono(reel_clock_system()) - t0;
    /* publishing copies each AU once into the hub and never decodes: far
     * below what decoding them would take (the bound is loose on purpose) */
    assert_true(took < 5 * REEL_NS_PER_SEC);
    struct reel_motion_stats st;
    wait_stats(fx, &st, all_read);
    assert_true(st.lost > 0);
    assert_true(st.aus < (uint64_t)n);
    print_message("burst: %d AUs published in %.1f ms; the detector read %llu, the hub dropped %llu for it\n", n,
                  (double)took / 1e6, (unsigned long long)st.aus, (unsigned long long)st.lost);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    reel_media_avlog_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hostile_then_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_never_holds_the_publisher, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel_mp4_for_range() end to end with the real store: record 5 s of
 * synthetic frames (each carrying its number) through reel_run_* with a fake
 * clock and short recordings, reopen the store read-only, build the MP4 for a
 * range and check which frames it holds, its trims and its duration.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/clock.h"
#include "mp4/mp4.h"
#include "mp4/range.h"
#include "store/store.h"

#define NFRAMES 150
#define GOP 15

struct env {
    char dir[64];
    struct reel_clock_fake clock;
    int64_t cam;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/reel-mp4s-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    int r = system(cmd);
    free(e);
    return r == 0 ? 0 : -1;
}

static void record(struct env *e)
{
    char datadir[96];
    snprintf(datadir, sizeof(datadir), "%s/data", e->dir);
    struct reel_err err = { { 0 } };
    if (reel_store_init(datadir, &err) < 0)
        fail_msg("init: %s", err.msg);
    reel_clock_fake_init(&e->clock, INT64_C(1000000000), INT64_C(1700000000) * REEL_NS_PER_SEC);
    struct reel_store_cfg cfg = { .datadir = datadir, .mode = REEL_STORE_RECORD,
                                  .clock = &e->clock.clock, .rotate_ns = 2 * REEL_NS_PER_SEC };
    struct reel_store *s = NULL;
    if (reel_store_open(&s, &cfg, &err) < 0)
        fail_msg("open: %s", err.msg);
    struct reel_camera cam = { 0 };
    snprintf(cam.name, sizeof(cam.name), "cam1");
    snprintf(cam.url, sizeof(cam.url), "rtsp://camera.example/stream");
    if (reel_store_camera_add(s, &cam, NULL, &err) < 0)
        fail_msg("camera: %s", err.msg);
    e->cam = cam.id;
    uint8_t box[90] = { 0 };
    reel_wr_be32(box, sizeof(box));
    memcpy(box + 4, "avc1", 4);
    reel_wr_be16(box + 14, 1);
    int64_t entry;
    if (reel_store_sample_entry_put(s, box, sizeof(box), 320, 180, "avc1.640015", &entry, &err) < 0)
        fail_msg("entry: %s", err.msg);
    struct reel_run *run = NULL;
    if (reel_run_open(s, e->cam, &run, &err) < 0)
        fail_msg("run: %s", err.msg);
    for (uint32_t i = 0; i < NFRAMES; i++) {
        uint8_t f[64] = { 0 };
        size_t len = 20 + i % 9;
        reel_wr_be32(f, (uint32_t)(len - 4));
        f[4] = i % GOP == 0 ? 0x65 : 0x41;
        reel_wr_be32(f + 5, i);
        struct reel_frame_in in = { f, len, 1000 + (int64_t)i * 3000, i % GOP == 0, entry };
        if (reel_run_frame(run, &in, &err) < 0)
            fail_msg("frame %u: %s", i, err.msg);
        reel_clock_fake_advance(&e->clock, REEL_NS_PER_SEC / 30);
    }
    reel_run_close(run);
    reel_store_close(s);
}

static const uint8_t *find(const uint8_t *p, size_t len, const char *path, uint32_t *ret_size)
{
    size_t seg = strcspn(path, "/");
    size_t at = 0;
    while (at + 8 <= len) {
        uint32_t sz = reel_rd_be32(p + at);
        if (sz < 8 || sz > len - at)
            return NULL;
        if (seg == 4 && memcmp(p + at + 4, path, 4) == 0) {
            if (!path[seg]) {
                *ret_size = sz;
                return p + at;
            }
            return find(p + at + 8, sz - 8, path + seg + 1, ret_size);
        }
        at += sz;
    }
    return NULL;
}

static void test_range_from_store(void **state)
{
    struct env *e = *state;
    record(e);
    char datadir[96];
    snprintf(datadir, sizeof(datadir), "%s/data", e->dir);
    struct reel_err err = { { 0 } };
    struct reel_store_cfg cfg = { .datadir = datadir, .mode = REEL_STORE_READ };
    struct reel_store *s = NULL;
    if (reel_store_open(&s, &cfg, &err) < 0)
        fail_msg("reopen: %s", err.msg);
    struct reel_recording *recs = NULL;
    size_t n = 0;
    if (reel_store_recordings(s, e->cam, 0, INT64_MAX, &recs, &n, &err) < 0)
        fail_msg("recordings: %s", err.msg);
    assert_true(n >= 2);        /* 5 s in ~2 s recordings */
    int64_t start = recs[0].start90k;
    uint32_t frames = 0;
    for (size_t i = 0; i < n; i++)
        frames += recs[i].frames;
    assert_int_equal(frames, NFRAMES);
    reel_recordings_free(recs, n);

    /* 1.11 s (inside frame 33; key frame 30) to 4.31 s (inside frame 129). */
    int64_t from = start + 99900, to = start + 387900;
    struct reel_mp4 *m = NULL;
    if (reel_mp4_for_range(s, e->cam, from, to, &m, &err) < 0)
        fail_msg("for_range: %s", err.msg);
    int64_t d = reel_mp4_duration90k(m);
    assert_true(d >= to - from - 3 && d <= to - from + 3);
    uint64_t size = reel_mp4_size(m);
    uint8_t *file = malloc((size_t)size);
    assert_non_null(file);
    assert_int_equal(reel_mp4_read(m, 0, file, (size_t)size), (ssize_t)size);
    uint32_t sz;
    const uint8_t *b = find(file, (size_t)size, "moov/trak/mdia/minf/stbl/stsz", &sz);
    assert_non_null(b);
    uint32_t nsamples = reel_rd_be32(b + 16);
    assert_int_equal(nsamples, 129 - 30 + 1);
    /* Walk the samples chunk by chunk: frame numbers run 30..129. */
    const uint8_t *stco = find(file, (size_t)size, "moov/trak/mdia/minf/stbl/stco", &sz);
    const uint8_t *stsc = find(file, (size_t)size, "moov/trak/mdia/minf/stbl/stsc", &sz);
    assert_non_null(stco);
    assert_non_null(stsc);
    uint32_t nchunks = reel_rd_be32(stco + 12), nstsc = reel_rd_be32(stsc + 12);
    assert_true(nchunks >= 2);
    uint32_t want = 30, sample = 0;
    for (uint32_t c = 0; c < nchunks; c++) {
        uint32_t per = 0;
        for (uint32_t k = 0; k < nstsc; k++)
            if (reel_rd_be32(stsc + 16 + 12 * k) <= c + 1)
                per = reel_rd_be32(stsc + 20 + 12 * k);
        uint64_t off = reel_rd_be32(stco + 16 + 4 * c);
        for (uint32_t k = 0; k < per; k++, sample++, want++) {
            assert_int_equal(reel_rd_be32(file + off + 5), want);
            off += reel_rd_be32(b + 20 + 4 * sample);
        }
    }
    assert_int_equal(want, 130);
    b = find(file, (size_t)size, "moov/trak/edts/elst", &sz);
    assert_non_null(b);
    int64_t media_time = reel_rd_be32(b + 20);
    assert_true(media_time >= 9900 - 3 && media_time <= 9900 + 3);
    free(file);
    reel_mp4_free(m);

    /* Before the footage: nothing. */
    assert_int_equal(reel_mp4_for_range(s, e->cam, start - 900000, start - 90000, &m, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "no footage"));
    reel_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_range_from_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The audio track end to end: test_mp4_audio_fixture.c records cameras with
 * real H.264 video and AAC, G.711 µ-law, A-law and Opus audio into a real
 * store (the audio under each camera's "~audio" row, as CONTRACTS.md
 * section 5 says); the test reopens it read-only, builds MP4s for ranges with
 * reel_mp4_for_range_opts(audio) and checks them: with ffprobe (two streams,
 * the audio codec, audio duration within 50 ms of the video's) and a silent
 * ffmpeg decode; the audio trak's boxes (timescale = sample rate, AAC
 * durations exactly 1024, the edit list aligning audio to video by wall
 * time: an empty edit when the audio starts later, a media_time when it
 * started earlier); and that without audio (no row, audio off) the bytes are
 * exactly the video-only MP4.
 *
 * Usage: test_mp4_audio FFMPEG FFPROBE (meson passes both).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/buf.h"
#include "mp4/mp4.h"
#include "mp4/range.h"
#include "store/store.h"
#include "test_mp4_audio_fixture.h"

static const char *ffmpeg_bin, *ffprobe_bin;

struct env {
    char dir[64];
    char datadir[96];
    struct mp4_audio_fixture_cam cams[MP4_AUDIO_FIXTURE_CAMS];
    struct reel_store *s;
};

static char *run(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof(full), "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t cap = 65536, len = 0, n;
    char *out = malloc(cap);
    assert_non_null(out);
    while ((n = fread(out + len, 1, cap - 1 - len, p)) > 0) {
        len += n;
        if (len == cap - 1)
            break;
    }
    out[len] = 0;
    int st = pclose(p);
    if (st != 0)
        fail_msg("command failed (%d): %s\n%s", st, cmd, out);
    return out;
}

static int group_setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/reel-mp4a-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->datadir, sizeof(e->datadir), "%s/data", e->dir);
    char msg[1024] = "";
    if (mp4_audio_fixture(ffmpeg_bin, e->datadir, e->dir, false, e->cams, msg, sizeof(msg)) < 0) {
        fprintf(stderr, "fixture: %s\n", msg);
        return -1;
    }
    struct reel_err err = { { 0 } };
    struct reel_store_cfg cfg = { .datadir = e->datadir, .mode = REEL_STORE_READ };
    if (reel_store_open(&e->s, &cfg, &err) < 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    *state = e;
    return 0;
}

static int group_teardown(void **state)
{
    struct env *e = *state;
    if (!e)
        return 0;
    reel_store_close(e->s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    int r = system(cmd);
    free(e);
    return r == 0 ? 0 : -1;
}

static const struct mp4_audio_fixture_cam *cam_named(struct env *e, const char *name)
{
    for (int i = 0; i < MP4_AUDIO_FIXTURE_CAMS; i++)
        if (strcmp(e->cams[i].name, name) == 0)
            return &e->cams[i];
    fail_msg("no fixture camera %s", name);
    return NULL;
}

/* The whole file of m. */
static uint8_t *contents(const struct reel_mp4 *m, size_t *ret_len)
{
    size_t size = (size_t)reel_mp4_size(m);
    uint8_t *p = malloc(size);
    assert_non_null(p);
    /* Odd-sized reads across the parts of both tracks. */
    size_t off = 0;
    while (off < size) {
        ssize_t n = reel_mp4_read(m, off, p + off, 7777 + off % 13);
        assert_true(n > 0);
        off += (size_t)n;
    }
    *ret_len = size;
    return p;
}

static struct reel_mp4 *build(struct env *e, const char *name, int64_t from, int64_t to, bool audio)
{
    struct reel_camera cam;
    struct reel_err err = { { 0 } };
    if (reel_store_camera_get(e->s, name, &cam, &err) < 0)
        fail_msg("camera %s: %s", name, err.msg);
    struct reel_mp4 *m = NULL;
    struct reel_mp4_range_opts o = { .audio = audio };
    if (reel_mp4_for_range_opts(e->s, cam.id, from, to, &o, &m, &err) < 0)
        fail_msg("for_range %s: %s", name, err.msg);
    return m;
}

static void write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* A child box of type within [p, p + len), the n-th (0-based) of that type. */
static const uint8_t *child(const uint8_t *p, size_t len, const char *type, int nth, uint32_t *ret_size)
{
    size_t at = 0;
    while (at + 8 <= len) {
        uint32_t sz = reel_rd_be32(p + at);
        if (sz < 8 || sz > len - at)
            return NULL;
        if (memcmp(p + at + 4, type, 4) == 0 && nth-- == 0) {
            *ret_size = sz;
            return p + at;
        }
        at += sz;
    }
    return NULL;
}

/* Box at a path of 4-character types below box b (its payload starts at
 * b + skip). */
static const uint8_t *path_in(const uint8_t *b, uint32_t bsz, const char *path, uint32_t *ret_size)
{
    uint32_t sz = bsz;
    const uint8_t *p = b;
    size_t skip = 8;
    while (*path) {
        char t[5] = { 0 };
        memcpy(t, path, 4);
        p = child(p + skip, sz - skip, t, 0, &sz);
        if (!p)
            return NULL;
        path += 4;
        if (*path == '/')
            path++;
        skip = memcmp(t, "stsd", 4) == 0 ? 16 : 8;
    }
    *ret_size = sz;
    return p;
}

/* The trak whose hdlr says handler ('vide', 'soun'). */
static const uint8_t *trak_of(const uint8_t *file, size_t len, const char *handler, uint32_t *ret_size)
{
    uint32_t msz;
    const uint8_t *moov = child(file, len, "moov", 0, &msz);
    assert_non_null(moov);
    for (int i = 0;; i++) {
        uint32_t tsz, hsz;
        const uint8_t *t = child(moov + 8, msz - 8, "trak", i, &tsz);
        if (!t)
            return NULL;
        const uint8_t *h = path_in(t, tsz, "mdia/hdlr", &hsz);
        if (h && memcmp(h + 16, handler, 4) == 0) {
            *ret_size = tsz;
            return t;
        }
    }
}

static double probe_value(const char *json, const char *stream_type, const char *key)
{
    const char *p = strstr(json, stream_type);
    if (!p)
        fail_msg("no %s stream in\n%s", stream_type, json);
    char want[64];
    snprintf(want, sizeof(want), "\"%s\": \"", key);
    const char *q = strstr(p, want);
    if (!q)
        fail_msg("no %s after %s in\n%s", key, stream_type, json);
    return strtod(q + strlen(want), NULL);
}

/* ffprobe: two streams, the audio codec, durations; a silent decode. */
static void check_ffmpeg(const char *path, const char *audio_codec, double *ret_vdur, double *ret_adur,
                         double *ret_astart)
{
    char cmd[1024], want[96];
    snprintf(cmd, sizeof(cmd), "'%s' -v error -show_entries stream=index,codec_type,codec_name,start_time,"
             "duration -of json '%s'", ffprobe_bin, path);
    char *out = run(cmd);
    if (strstr(out, "\"index\": 2") || !strstr(out, "\"index\": 1"))
        fail_msg("%s: not two streams:\n%s", path, out);
    snprintf(want, sizeof(want), "\"codec_name\": \"%s\"", audio_codec);
    if (!strstr(out, want))
        fail_msg("%s: no %s in\n%s", path, want, out);
    if (!strstr(out, "\"codec_name\": \"h264\""))
        fail_msg("%s: no h264 in\n%s", path, out);
    /* Streams are listed in order: video (0), audio (1). */
    *ret_vdur = probe_value(out, "\"codec_type\": \"video\"", "duration");
    *ret_adur = probe_value(out, "\"codec_type\": \"audio\"", "duration");
    *ret_astart = probe_value(out, "\"codec_type\": \"audio\"", "start_time");
    free(out);
    snprintf(cmd, sizeof(cmd), "'%s' -v error -i '%s' -f null -", ffmpeg_bin, path);
    out = run(cmd);
    if (out[0])
        fail_msg("%s: ffmpeg decode printed:\n%s", path, out);
    free(out);
}

/* One camera: a range inside the footage (audio trimmed at the start) and
 * one from before it (the video's first key frame; audio delayed or trimmed
 * by its offset). */
static void run_camera(void **state, const char *name, const char *probe_codec, uint32_t rate)
{
    struct env *e = *state;
    const struct mp4_audio_fixture_cam *c = cam_named(e, name);
    if (!c->codec[0]) {
        print_message("%s: not recorded (ffmpeg without the encoder); skipped\n", name);
        skip();
    }
    char path[160];
    for (int pass = 0; pass < 2; pass++) {
        int64_t from = pass == 0 ? c->video_start90k + 99000 : c->video_start90k - 90000;
        int64_t to = pass == 0 ? c->video_start90k + 477000 : c->video_end90k + 90000;
        struct reel_mp4 *m = build(e, name, from, to, true);
        size_t len;
        uint8_t *file = contents(m, &len);
        int64_t vdur90k = reel_mp4_duration90k(m);
        int64_t adur90k = reel_mp4_audio_duration90k(m);
        reel_mp4_free(m);
        snprintf(path, sizeof(path), "%s/%s-%d.mp4", e->dir, name, pass);
        write_file(path, file, len);

        uint32_t tsz, sz;
        const uint8_t *at = trak_of(file, len, "soun", &tsz);
        assert_non_null(at);
        assert_non_null(trak_of(file, len, "vide", &sz));
        const uint8_t *mdhd = path_in(at, tsz, "mdia/mdhd", &sz);
        assert_non_null(mdhd);
        assert_int_equal(reel_rd_be32(mdhd + 20), rate);             /* timescale */
        const uint8_t *stsd = path_in(at, tsz, "mdia/minf/stbl/stsd", &sz);
        assert_non_null(stsd);
        assert_int_equal(reel_rd_be32(stsd + 12), 1);
        const uint8_t *stts = path_in(at, tsz, "mdia/minf/stbl/stts", &sz);
        assert_non_null(stts);
        if (strcmp(name, "aac") == 0) {
            /* 1024 samples a frame, rounded to 90 kHz when stored, exact
             * again in the 44.1 kHz track. */
            assert_int_equal(reel_rd_be32(stts + 12), 1);
            assert_int_equal(reel_rd_be32(stts + 20), 1024);
        }
        const uint8_t *elst = path_in(at, tsz, "edts/elst", &sz);
        assert_non_null(elst);
        uint32_t entries = reel_rd_be32(elst + 12);
        /* Alignment by wall time: the shown video starts at vstart = from
         * (pass 0) or at the video's first frame (pass 1). */
        int64_t vstart = pass == 0 ? from : c->video_start90k;
        int64_t astart = c->video_start90k + c->audio_offset90k;
        if (astart > vstart) {
            assert_int_equal(entries, 2);
            int64_t delay = reel_rd_be32(elst + 16);
            assert_int_equal(reel_rd_be32(elst + 20), UINT32_MAX);      /* empty edit */
            assert_true(delay >= astart - vstart - 2 && delay <= astart - vstart + 2);
        } else {
            assert_int_equal(entries, 1);
            /* media_time = from the first audio frame taken (the one
             * playing at vstart) to vstart, in the audio timescale. */
            int64_t mt = reel_rd_be32(elst + 20);
            int64_t off90k = (vstart - astart) % (strcmp(name, "aac") == 0 ? 1 : 1800);
            if (strcmp(name, "aac") == 0) {
                uint64_t n = (uint64_t)(vstart - astart) * 44100 / 90000;   /* samples since the start */
                assert_true(mt >= (int64_t)(n % 1024) - 2 && mt <= (int64_t)(n % 1024) + 2);
            } else {
                int64_t want = off90k * rate / 90000;
                assert_true(mt >= want - 2 && mt <= want + 2);
            }
        }

        double vdur, adur, astart_s;
        check_ffmpeg(path, probe_codec, &vdur, &adur, &astart_s);
        print_message("%s pass %d: video %.3f s, audio %.3f s from %.3f s (builder: %.3f + %.3f s)\n", name,
                      pass, vdur, adur, astart_s, (double)vdur90k / 90000, (double)adur90k / 90000);
        /* The audio ends with the video (within 50 ms); it starts where it
         * was recorded relative to the video. */
        assert_true(adur90k <= vdur90k);
        assert_true(adur90k >= vdur90k - 4500);
        assert_true(astart_s + adur >= vdur - 0.05 && astart_s + adur <= vdur + 0.05);
        free(file);
    }
}

static void test_aac(void **state) { run_camera(state, "aac", "aac", 44100); }
static void test_ulaw(void **state) { run_camera(state, "ulaw", "pcm_mulaw", 8000); }
static void test_alaw(void **state) { run_camera(state, "alaw", "pcm_alaw", 8000); }
static void test_opus(void **state) { run_camera(state, "opus", "opus", 48000); }

/* Without audio the bytes are exactly the video-only MP4: audio off, and a
 * camera without an audio row. */
static void test_video_only_unchanged(void **state)
{
    struct env *e = *state;
    const char *names[] = { "ulaw", "noaudio" };
    for (int i = 0; i < 2; i++) {
        const struct mp4_audio_fixture_cam *c = cam_named(e, names[i]);
        int64_t from = c->video_start90k + 99000, to = c->video_start90k + 477000;
        struct reel_camera cam;
        struct reel_err err = { { 0 } };
        assert_int_equal(reel_store_camera_get(e->s, names[i], &cam, &err), 0);
        struct reel_mp4 *m0 = NULL;
        assert_int_equal(reel_mp4_for_range(e->s, cam.id, from, to, &m0, &err), 0);
        struct reel_mp4 *m1 = build(e, names[i], from, to, false);
        struct reel_mp4 *m2 = build(e, names[i], from, to, true);
        size_t l0, l1, l2;
        uint8_t *f0 = contents(m0, &l0), *f1 = contents(m1, &l1), *f2 = contents(m2, &l2);
        assert_int_equal(l0, l1);
        assert_memory_equal(f0, f1, l0);
        uint32_t sz;
        assert_null(trak_of(f0, l0, "soun", &sz));
        if (i == 1) {
            assert_int_equal(l0, l2);
            assert_memory_equal(f0, f2, l0);
            assert_int_equal(reel_mp4_audio_duration90k(m2), 0);
        } else {
            assert_true(l2 > l0);
            assert_non_null(trak_of(f2, l2, "soun", &sz));
            /* The video's samples are the same bytes in both. */
            assert_int_equal(reel_mp4_duration90k(m0), reel_mp4_duration90k(m2));
        }
        free(f0);
        free(f1);
        free(f2);
        reel_mp4_free(m0);
        reel_mp4_free(m1);
        reel_mp4_free(m2);
    }
}

/* A range past the audio's end (the video only: the audio run stopped
 * 0.3 s after the video) builds video only... and one that holds no audio
 * at all is video only. */
static void test_range_without_audio(void **state)
{
    struct env *e = *state;
    const struct mp4_audio_fixture_cam *c = cam_named(e, "ulaw");
    /* The first 0.2 s: the µ-law audio starts 0.25 s after the video. */
    struct reel_mp4 *m = build(e, "ulaw", c->video_start90k, c->video_start90k + 18000, true);
    size_t len;
    uint8_t *f = contents(m, &len);
    uint32_t sz;
    assert_null(trak_of(f, len, "soun", &sz));
    free(f);
    reel_mp4_free(m);
}

/* Across a gap (both runs end; the audio comes back 2 s later, the video
 * 2.6 s later): the gap is squeezed out of both tracks and the audio is
 * re-aligned after it: the second edit starts 0.6 s into the second audio
 * run, not where the first one stopped. */
static void test_gap(void **state)
{
    struct env *e = *state;
    const struct mp4_audio_fixture_cam *c = cam_named(e, "gap");
    struct reel_mp4 *m = build(e, "gap", c->video_start90k - 90000, c->video_end90k + 90000, true);
    size_t len;
    uint8_t *file = contents(m, &len);
    assert_int_equal(reel_mp4_duration90k(m), 6 * 90000);
    assert_int_equal(reel_mp4_audio_duration90k(m), 6 * 90000);
    reel_mp4_free(m);
    char path[160];
    snprintf(path, sizeof(path), "%s/gap.mp4", e->dir);
    write_file(path, file, len);
    uint32_t tsz, sz;
    const uint8_t *at = trak_of(file, len, "soun", &tsz);
    assert_non_null(at);
    const uint8_t *elst = path_in(at, tsz, "edts/elst", &sz);
    assert_non_null(elst);
    assert_int_equal(reel_rd_be32(elst + 12), 2);
    assert_int_equal(reel_rd_be32(elst + 16), 3 * 90000);      /* 3 s of the first run */
    assert_int_equal(reel_rd_be32(elst + 20), 0);
    assert_int_equal(reel_rd_be32(elst + 28), 3 * 90000);      /* 3 s of the second */
    int64_t mt = reel_rd_be32(elst + 32);                      /* from 3 s + 0.6 s at 8 kHz */
    assert_true(mt >= 28800 - 2 && mt <= 28800 + 2);
    double vdur, adur, astart;
    check_ffmpeg(path, "pcm_mulaw", &vdur, &adur, &astart);
    print_message("gap: video %.3f s, audio %.3f s from %.3f s\n", vdur, adur, astart);
    assert_true(astart + adur >= vdur - 0.05 && astart + adur <= vdur + 0.05);
    free(file);
}

int main(int argc, char **argv)
{
    if (argc < 3 || access(argv[1], X_OK) != 0 || access(argv[2], X_OK) != 0) {
        fprintf(stderr, "usage: test_mp4_audio FFMPEG FFPROBE (skipped: not found)\n");
        return 77;
    }
    ffmpeg_bin = argv[1];
    ffprobe_bin = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aac),
        cmocka_unit_test(test_ulaw),
        cmocka_unit_test(test_alaw),
        cmocka_unit_test(test_opus),
        cmocka_unit_test(test_video_only_unchanged),
        cmocka_unit_test(test_range_without_audio),
        cmocka_unit_test(test_gap),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

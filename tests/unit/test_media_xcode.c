/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel_xcode (the transcoding core of the on-demand H.265 -> H.264
 * transcode) against real clips: every access unit of an H.265 clip in,
 * H.264 out; the output, written as an Annex-B stream with the parameter
 * sets of its avc1 entry, is read back by ffprobe: codec h264, the fitted
 * size, as many frames as went in, key frames where the source has them.
 * Usage: test_media_xcode FFPROBE DATA_DIR CLIPS_DIR (the 1080p case is
 * skipped when CLIPS_DIR/h265-1080p.265 is missing).
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
#include <unistd.h>

#include "codec/annexb.h"
#include "codec/params.h"
#include "media/xcode.h"

static const char *ffprobe_bin, *data_dir, *clips_dir;

#define MAX_NALS 65536

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

struct sink {
    FILE *f;
    int frames, keys, width, height;
    int64_t last_gen, last_ts;
    int64_t key_ts[64];
};

static void put_nal(FILE *f, const uint8_t *p, size_t n)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};
    assert_int_equal(fwrite(sc, 1, 4, f), 4);
    assert_int_equal(fwrite(p, 1, n, f), n);
}

/* The SPS and PPS of the avcC inside an avc1 entry, as Annex-B. */
static void put_entry_sets(FILE *f, const uint8_t *e, size_t len)
{
    assert_true(len > 86 + 8 + 6);
    assert_memory_equal(e + 4, "avc1", 4);
    assert_memory_equal(e + 86 + 4, "avcC", 4);
    const uint8_t *c = e + 86 + 8, *end = e + len;
    const uint8_t *p = c + 5;
    for (int kind = 0; kind < 2; kind++) {
        unsigned n = kind == 0 ? (*p++ & 0x1f) : *p++;
        for (unsigned i = 0; i < n; i++) {
            assert_true(p + 2 <= end);
            size_t l = (size_t)p[0] << 8 | p[1];
            assert_true(p + 2 + l <= end);
            put_nal(f, p + 2, l);
            p += 2 + l;
        }
    }
}

static void on_out(void *arg, const struct reel_xcode_out *o)
{
    struct sink *s = arg;
    assert_true(o->entry_gen >= 1);
    assert_true(o->ts90k > s->last_ts);   /* no reordering */
    s->last_ts = o->ts90k;
    if (o->key) {
        put_entry_sets(s->f, o->entry, o->entry_len);
        if (s->keys < 64)
            s->key_ts[s->keys] = o->ts90k;
        s->keys++;
    }
    assert_int_equal(o->wall90k, o->ts90k + 1000);
    s->width = o->width;
    s->height = o->height;
    s->last_gen = o->entry_gen;
    size_t pos = 0;
    while (pos < o->len) {
        assert_true(o->len - pos >= 4);
        size_t l = (size_t)o->data[pos] << 24 | (size_t)o->data[pos + 1] << 16 |
                   (size_t)o->data[pos + 2] << 8 | o->data[pos + 3];
        assert_true(l > 0 && l <= o->len - pos - 4);
        unsigned t = o->data[pos + 4] & 0x1f;
        assert_true(t != 7 && t != 8);   /* parameter sets only in the entry */
        put_nal(s->f, o->data + pos + 4, l);
        pos += 4 + l;
    }
    s->frames++;
}

static bool is_ps(uint8_t b0)
{
    unsigned t = reel_h265_nal_type(b0);
    return t >= 32 && t <= 34;
}

/* Transcodes the first max_frames of an H.265 clip; checks with ffprobe. */
static void run_clip(const char *path, int max_w, int max_h, int max_frames, int want_w,
                     int want_h)
{
    size_t len;
    uint8_t *buf = slurp(path, &len);
    if (buf == NULL) {
        fprintf(stderr, "skipping %s: not found\n", path);
        return;
    }
    struct reel_nal *nals = calloc(MAX_NALS, sizeof *nals);
    assert_non_null(nals);
    int n = reel_annexb_split(buf, len, nals, MAX_NALS);
    assert_true(n > 0);
    const uint8_t *ps[8];
    size_t pslen[8], nps = 0;
    for (int i = 0; i < n && nps < 8; i++)
        if (is_ps(nals[i].p[0]))
            ps[nps] = nals[i].p, pslen[nps++] = nals[i].len;
        else if (nps > 0)
            break;
    struct reel_video_params vp;
    struct reel_err err = {{0}};
    if (reel_video_params_build(REEL_CODEC_H265, ps, pslen, nps, &vp, &err) != 0)
        fail_msg("params: %s", err.msg);

    struct reel_xcode *x;
    assert_int_equal(reel_xcode_new(&x, max_w, max_h, &err), 0);
    char out_path[] = "/tmp/reel-xcode-XXXXXX";
    int fd = mkstemp(out_path);
    assert_true(fd >= 0);
    struct sink s = {.f = fdopen(fd, "wb"), .last_ts = -1};
    assert_non_null(s.f);

    uint8_t *au = malloc(len + 4 * (size_t)n);
    assert_non_null(au);
    size_t au_len = 0;
    bool key = false;
    int frames_in = 0, keys_in = 0;
    for (int i = 0; i <= n && frames_in < max_frames; i++) {
        bool vcl = i < n && reel_h265_nal_type(nals[i].p[0]) < 32;
        bool first = vcl && nals[i].len > 2 && (nals[i].p[2] & 0x80);
        if ((i == n || first) && au_len > 0) {
            int64_t ts = (int64_t)frames_in * 3000;
            if (reel_xcode_feed(x, vp.sample_entry, vp.sample_entry_len, au, au_len, ts,
                                ts + 1000, key, on_out, &s, &err) != 0)
                fail_msg("feed: %s", err.msg);
            frames_in++;
            keys_in += key;
            au_len = 0;
            key = false;
        }
        if (i == n || !vcl)
            continue;   /* parameter sets are in the entry; SEI left out */
        unsigned t = reel_h265_nal_type(nals[i].p[0]);
        key |= t >= 16 && t <= 21;
        uint8_t *p = au + au_len;
        p[0] = (uint8_t)(nals[i].len >> 24);
        p[1] = (uint8_t)(nals[i].len >> 16);
        p[2] = (uint8_t)(nals[i].len >> 8);
        p[3] = (uint8_t)nals[i].len;
        memcpy(p + 4, nals[i].p, nals[i].len);
        au_len += 4 + nals[i].len;
    }
    assert_int_equal(fclose(s.f), 0);
    assert_int_equal(s.frames, frames_in);
    assert_int_equal(reel_xcode_frames(x), (uint64_t)frames_in);
    assert_int_equal(s.keys, keys_in);     /* the source's GOP */
    assert_int_equal(s.width, want_w);
    assert_int_equal(s.height, want_h);
    assert_int_equal(s.last_gen, 1);

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' -v error -count_frames -show_entries "
             "stream=codec_name,width,height,nb_read_frames -of csv=p=0 -f h264 '%s'",
             ffprobe_bin, out_path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256] = "";
    char *got = fgets(line, sizeof line, p);
    int st = pclose(p);
    unlink(out_path);
    assert_non_null(got);
    assert_int_equal(st, 0);
    char want[64];
    snprintf(want, sizeof want, "h264,%d,%d,%d", want_w, want_h, frames_in);
    if (strncmp(line, want, strlen(want)) != 0)
        fail_msg("ffprobe: %s, want %s", line, want);

    free(au);
    reel_xcode_free(x);
    reel_video_params_clear(&vp);
    free(nals);
    free(buf);
}

static void test_small_scaled(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/clip320x180.265", data_dir);
    run_clip(path, 256, 720, 1000, 256, 144);
}

static void test_not_enlarged(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/clip320x180.265", data_dir);
    run_clip(path, 1280, 720, 1000, 320, 180);
}

static void test_1080p_to_720p(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/h265-1080p.265", clips_dir);
    run_clip(path, 1280, 720, 45, 1280, 720);
}

static void on_out_none(void *arg, const struct reel_xcode_out *o)
{
    (*(int *)arg)++;
}

/* Garbage with a valid entry: errors or nothing, never a crash; caps. */
static void test_refusals(void **state)
{
    struct reel_xcode *x;
    struct reel_err err = {{0}};
    assert_int_equal(reel_xcode_new(&x, 8, 720, &err), -EINVAL);
    assert_int_equal(reel_xcode_new(&x, 1280, 720, &err), 0);
    uint8_t junk[2048];
    uint32_t v = 99;
    for (size_t i = 0; i < sizeof junk; i++) {
        v = v * 1103515245u + 12345u;
        junk[i] = (uint8_t)(v >> 16);
    }
    int outs = 0;
    /* Not an entry. */
    assert_int_equal(reel_xcode_feed(x, junk, sizeof junk, junk, sizeof junk, 0, 0, true,
                                     on_out_none, &outs, &err), -EINVAL);
    assert_int_equal(reel_xcode_feed(x, junk, sizeof junk, junk, 0, 0, 0, true, on_out_none,
                                     &outs, &err), -EMSGSIZE);
    reel_xcode_free(x);
}

int main(int argc, char **argv)
{
    if (argc < 4 || access(argv[1], X_OK) != 0) {
        fprintf(stderr, "usage: %s FFPROBE DATA_DIR CLIPS_DIR (skipping: not found)\n", argv[0]);
        return 77;
    }
    ffprobe_bin = argv[1];
    data_dir = argv[2];
    clips_dir = argv[3];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_scaled),
        cmocka_unit_test(test_not_enlarged),
        cmocka_unit_test(test_1080p_to_720p),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The MP4 builder against a real decoder. For H.264 and H.265: ffmpeg makes
 * an Annex-B clip (4 s, 30 fps, a key frame every 30, no B-frames), the test
 * splits it into access units with reel_annexb_split, writes them as
 * length-prefixed samples into a sample file (parameter sets go only into the
 * sample entry, built by reel_video_params_build), builds MP4s (one segment;
 * two segments with trims; two segments with two sample entries of different
 * picture sizes) and checks them with ffprobe (codec, exact frame count,
 * size) and a full ffmpeg decode that must print nothing.
 *
 * Usage: test_mp4_decode FFMPEG FFPROBE (meson passes both; skipped, exit 77,
 * when they are missing).
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
#include "codec/annexb.h"
#include "codec/params.h"
#include "mp4/fmp4.h"
#include "mp4/fmp4_plan.h"
#include "mp4/mp4.h"

#define MAX_NALS 20000
#define MAX_FRAMES 2000
#define DUR 3000            /* 30 fps in 90 kHz */

static const char *ffmpeg_bin, *ffprobe_bin;

struct clip {
    enum reel_codec codec;
    uint16_t width, height;
    struct reel_video_params params;
    struct reel_frame_info frames[MAX_FRAMES];
    uint32_t nframes;
    char sample_path[128];
};

struct env {
    char dir[64];
    struct clip a, b;           /* b: another picture size */
};

/* Runs cmd (a shell line); returns its combined output (malloc'd, NUL-terminated). */
static char *run(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof(full), "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t cap = 65536, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t n;
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

static uint8_t *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *ret_len = (size_t)n;
    return p;
}

static bool is_param_set(enum reel_codec c, uint8_t b0)
{
    if (c == REEL_CODEC_H264)
        return reel_h264_nal_type(b0) == 7 || reel_h264_nal_type(b0) == 8;
    unsigned t = reel_h265_nal_type(b0);
    return t >= 32 && t <= 34;
}

static bool is_aud(enum reel_codec c, uint8_t b0)
{
    return c == REEL_CODEC_H264 ? reel_h264_nal_type(b0) == 9 : reel_h265_nal_type(b0) == 35;
}

static bool is_vcl(enum reel_codec c, uint8_t b0)
{
    return c == REEL_CODEC_H264 ? reel_h264_nal_type(b0) >= 1 && reel_h264_nal_type(b0) <= 5
                                : reel_h265_nal_type(b0) < 32;
}

static bool is_key(enum reel_codec c, uint8_t b0)
{
    return c == REEL_CODEC_H264 ? reel_h264_nal_type(b0) == 5
                                : reel_h265_nal_type(b0) >= 16 && reel_h265_nal_type(b0) <= 21;
}

/* First slice of a picture: first_mb_in_slice == 0 (ue(v) '1') or
 * first_slice_segment_in_pic_flag. */
static bool starts_picture(enum reel_codec c, const struct reel_nal *n)
{
    size_t hdr = c == REEL_CODEC_H264 ? 1 : 2;
    return n->len > hdr && (n->p[hdr] & 0x80);
}

/* Makes the clip with ffmpeg, splits it into access units and writes the
 * sample file; builds the sample entry from the first parameter sets. */
static void make_clip(struct env *e, struct clip *c, enum reel_codec codec, uint16_t w, uint16_t h,
                      const char *name)
{
    c->codec = codec;
    c->width = w;
    c->height = h;
    char es[128], cmd[1024];
    snprintf(es, sizeof(es), "%s/%s.es", e->dir, name);
    snprintf(c->sample_path, sizeof(c->sample_path), "%s/%s.sample", e->dir, name);
    if (codec == REEL_CODEC_H264)
        snprintf(cmd, sizeof(cmd), "'%s' -v error -y -f lavfi -i testsrc2=size=%ux%u:rate=30 -t 4 "
                 "-g 30 -bf 0 -c:v libx264 -f h264 '%s'", ffmpeg_bin, w, h, es);
    else
        snprintf(cmd, sizeof(cmd), "'%s' -v error -y -f lavfi -i testsrc2=size=%ux%u:rate=30 -t 4 "
                 "-g 30 -bf 0 -c:v libx265 -x265-params log-level=error -f hevc '%s'",
                 ffmpeg_bin, w, h, es);
    free(run(cmd));

    size_t len;
    uint8_t *buf = slurp(es, &len);
    struct reel_nal *nals = calloc(MAX_NALS, sizeof(*nals));
    assert_non_null(nals);
    int n = reel_annexb_split(buf, len, nals, MAX_NALS);
    assert_true(n > 0);

    const uint8_t *ps[8];
    size_t pslen[8];
    size_t nps = 0;
    bool have_vcl = false;
    FILE *out = fopen(c->sample_path, "wb");
    assert_non_null(out);
    c->nframes = 0;
    struct reel_frame_info *cur = NULL;
    for (int i = 0; i < n; i++) {
        const struct reel_nal *x = &nals[i];
        uint8_t b0 = x->p[0];
        if (is_param_set(codec, b0)) {
            if (!have_vcl) {
                assert_true(nps < 8);
                ps[nps] = x->p;
                pslen[nps++] = x->len;
            }
            continue;               /* kept out of the samples */
        }
        if (is_aud(codec, b0))
            continue;
        /* A new frame at the first slice of a picture, or at a non-VCL NAL
         * (SEI) following the previous picture's slices. */
        bool vcl = is_vcl(codec, b0);
        if (!cur || (vcl && starts_picture(codec, x) && have_vcl) || (!vcl && have_vcl)) {
            assert_true(c->nframes < MAX_FRAMES);
            cur = &c->frames[c->nframes++];
            *cur = (struct reel_frame_info){ .size = 0, .duration90k = DUR, .key = false };
            have_vcl = false;
        }
        if (vcl) {
            have_vcl = true;
            cur->key |= is_key(codec, b0);
        }
        uint8_t pre[4];
        reel_wr_be32(pre, (uint32_t)x->len);
        assert_int_equal(fwrite(pre, 1, 4, out), 4);
        assert_int_equal(fwrite(x->p, 1, x->len, out), x->len);
        cur->size += 4 + (uint32_t)x->len;
    }
    assert_int_equal(fclose(out), 0);
    assert_int_equal(c->nframes, 120);
    assert_true(c->frames[0].key);
    assert_true(c->frames[30].key);
    assert_true(c->frames[60].key);

    struct reel_err err = { { 0 } };
    const uint8_t *const *psp = ps;
    if (reel_video_params_build(codec, psp, pslen, nps, &c->params, &err) != 0)
        fail_msg("reel_video_params_build: %s", err.msg);
    assert_int_equal(c->params.width, w);
    assert_int_equal(c->params.height, h);
    free(nals);
    free(buf);
}

static uint64_t offset_of(const struct clip *c, uint32_t frame)
{
    uint64_t off = 0;
    for (uint32_t i = 0; i < frame; i++)
        off += c->frames[i].size;
    return off;
}

static struct reel_mp4_entry entry_of(const struct clip *c)
{
    return (struct reel_mp4_entry){ c->params.sample_entry, c->params.sample_entry_len,
                                    c->params.width, c->params.height };
}

static struct reel_mp4_seg seg_of(const struct clip *c, uint32_t first, uint32_t n, uint32_t entry)
{
    return (struct reel_mp4_seg){ c->sample_path, c->frames + first, n, offset_of(c, first), entry };
}

/* Writes the MP4 out through reel_mp4_read in odd-sized chunks. */
static void write_mp4(const struct reel_mp4 *m, const char *path)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t buf[40000];
    uint64_t off = 0, size = reel_mp4_size(m);
    while (off < size) {
        ssize_t n = reel_mp4_read(m, off, buf, sizeof(buf) - (off % 7));
        assert_true(n > 0);
        assert_int_equal(fwrite(buf, 1, (size_t)n, f), (size_t)n);
        off += (uint64_t)n;
    }
    assert_int_equal(fclose(f), 0);
}

static void check_with_ffmpeg(const char *mp4, const char *codec_name, unsigned frames,
                              unsigned w, unsigned h)
{
    char cmd[1024], want[64];
    snprintf(cmd, sizeof(cmd), "'%s' -v error -count_frames -show_entries "
             "stream=codec_name,nb_read_frames,width,height -of json '%s'", ffprobe_bin, mp4);
    char *out = run(cmd);
    snprintf(want, sizeof(want), "\"codec_name\": \"%s\"", codec_name);
    if (!strstr(out, want))
        fail_msg("%s: no %s in\n%s", mp4, want, out);
    snprintf(want, sizeof(want), "\"nb_read_frames\": \"%u\"", frames);
    if (!strstr(out, want))
        fail_msg("%s: no %s in\n%s", mp4, want, out);
    snprintf(want, sizeof(want), "\"width\": %u,", w);
    if (!strstr(out, want))
        fail_msg("%s: no %s in\n%s", mp4, want, out);
    snprintf(want, sizeof(want), "\"height\": %u", h);
    if (!strstr(out, want))
        fail_msg("%s: no %s in\n%s", mp4, want, out);
    free(out);
    snprintf(cmd, sizeof(cmd), "'%s' -v error -i '%s' -f null -", ffmpeg_bin, mp4);
    out = run(cmd);
    if (out[0])
        fail_msg("%s: ffmpeg decode printed:\n%s", mp4, out);
    free(out);
}

/* Writes init + fragments of clip c (chained in 1.5 s steps) and checks them. */
static void fragments(struct env *e, const struct clip *c, const char *codec_name, bool keys, unsigned want)
{
    struct reel_buf init;
    assert_int_equal(reel_fmp4_init(c->params.sample_entry, c->params.sample_entry_len, c->width, c->height,
                                    &init), 0);
    size_t slen;
    uint8_t *sample = slurp(c->sample_path, &slen);
    char path[128];
    snprintf(path, sizeof(path), "%s/frag%s.mp4", e->dir, keys ? "keys" : "");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(init.data, 1, init.len, f), init.len);
    int64_t from = 0;
    unsigned nfrag = 0;
    for (;;) {
        struct reel_fmp4_plan p;
        int r = reel_fmp4_plan(c->frames, c->nframes, from, from + 45000, keys, &p);
        if (r == -ERANGE)
            break;
        assert_int_equal(r, 0);
        assert_int_equal(p.from_off, from); /* every step ends at a key frame */
        struct reel_buf head;
        assert_int_equal(reel_fmp4_run_head(++nfrag, (uint64_t)p.from_off, p.samples, p.n, &head), 0);
        assert_int_equal(fwrite(head.data, 1, head.len, f), head.len);
        for (size_t i = 0; i < p.n; i++) {
            assert_true(p.offs[i] + p.samples[i].size <= slen);
            assert_int_equal(fwrite(sample + p.offs[i], 1, p.samples[i].size, f), p.samples[i].size);
        }
        reel_buf_free(&head);
        assert_true(p.to_off > from);
        from = p.to_off;
        reel_fmp4_plan_free(&p);
        assert_true(nfrag < 100);
    }
    assert_int_equal(fclose(f), 0);
    assert_true(nfrag >= 2);
    free(sample);
    reel_buf_free(&init);
    check_with_ffmpeg(path, codec_name, want, c->width, c->height);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/reel-mp4d-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    *state = e;
    return 0;
}

/* Runs even when the test failed: removes the clips and MP4s. */
static int teardown(void **state)
{
    struct env *e = *state;
    reel_video_params_clear(&e->a.params);
    reel_video_params_clear(&e->b.params);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    int r = system(cmd);
    free(e);
    return r == 0 ? 0 : -1;
}

static void run_codec(void **state, enum reel_codec codec, const char *codec_name)
{
    struct env *e = *state;
    make_clip(e, &e->a, codec, 320, 180, "a");
    make_clip(e, &e->b, codec, 256, 144, "b");
    struct reel_err err = { { 0 } };
    struct reel_mp4 *m = NULL;
    char path[128];

    /* One segment, whole clip. */
    struct reel_mp4_entry ents[2] = { entry_of(&e->a), entry_of(&e->b) };
    struct reel_mp4_seg segs[2] = { seg_of(&e->a, 0, 120, 0) };
    if (reel_mp4_build(&m, ents, 1, segs, 1, NULL, &err) != 0)
        fail_msg("build: %s", err.msg);
    snprintf(path, sizeof(path), "%s/one.mp4", e->dir);
    write_mp4(m, path);
    reel_mp4_free(m);
    check_with_ffmpeg(path, codec_name, 120, 320, 180);

    /* Two segments (frames 0..59 and 60..119), start trimmed by 10 frames
     * and end by 5: the decoder shows 105. */
    segs[0] = seg_of(&e->a, 0, 60, 0);
    segs[1] = seg_of(&e->a, 60, 60, 0);
    struct reel_mp4_opts o = { .trim_start90k = 10 * DUR, .trim_end90k = 5 * DUR,
                               .creation_unix = 1700000000 };
    if (reel_mp4_build(&m, ents, 1, segs, 2, &o, &err) != 0)
        fail_msg("build: %s", err.msg);
    assert_int_equal(reel_mp4_duration90k(m), 105 * DUR);
    snprintf(path, sizeof(path), "%s/two.mp4", e->dir);
    write_mp4(m, path);
    reel_mp4_free(m);
    check_with_ffmpeg(path, codec_name, 105, 320, 180);

    /* Two segments with different sample entries: 320x180 then 256x144. */
    segs[0] = seg_of(&e->a, 30, 60, 0);
    segs[1] = seg_of(&e->b, 0, 90, 1);
    if (reel_mp4_build(&m, ents, 2, segs, 2, NULL, &err) != 0)
        fail_msg("build: %s", err.msg);
    snprintf(path, sizeof(path), "%s/entries.mp4", e->dir);
    write_mp4(m, path);
    reel_mp4_free(m);
    check_with_ffmpeg(path, codec_name, 150, 320, 180);

    /* The timeline's playback fragments (fmp4_plan.c, reel_fmp4_run_head):
     * the init segment, then fragments asked in 1.5 s steps chained on
     * their end (X-Reel-To), decode to every frame once; key frames only
     * decode to the 4 key frames. */
    fragments(e, &e->a, codec_name, false, 120);
    fragments(e, &e->a, codec_name, true, 4);
}

static void test_h264(void **state) { run_codec(state, REEL_CODEC_H264, "h264"); }
static void test_h265(void **state) { run_codec(state, REEL_CODEC_H265, "hevc"); }

int main(int argc, char **argv)
{
    if (argc < 3 || access(argv[1], X_OK) != 0 || access(argv[2], X_OK) != 0) {
        fprintf(stderr, "usage: %s FFMPEG FFPROBE (skipping: not found)\n", argv[0]);
        return 77;
    }
    ffmpeg_bin = argv[1];
    ffprobe_bin = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_h264, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h265, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel_media_snapshot_jpeg against real clips: the first key frame of the
 * H.264 and H.265 test clips (tests/data/clip320x180.*), its sample entry
 * built by src/codec, to a JPEG that ffprobe reads at the expected size;
 * and the refusals (caps, bad entries, garbage access units).
 * Usage: test_media_snapshot FFPROBE DATA_DIR
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
#include "media/snapshot.h"

static const char *ffprobe_bin, *data_dir;

#define MAX_NALS 4096

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
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

static bool is_ps(enum reel_codec c, uint8_t b0)
{
    if (c == REEL_CODEC_H264)
        return reel_h264_nal_type(b0) == 7 || reel_h264_nal_type(b0) == 8;
    unsigned t = reel_h265_nal_type(b0);
    return t >= 32 && t <= 34;
}

static bool is_key_vcl(enum reel_codec c, uint8_t b0)
{
    if (c == REEL_CODEC_H264)
        return reel_h264_nal_type(b0) == 5;
    unsigned t = reel_h265_nal_type(b0);
    return t >= 16 && t <= 21;
}

/* The clip's sample entry and its first key frame as length-prefixed NALs. */
struct keyframe {
    struct reel_video_params params;
    uint8_t *au;
    size_t au_len;
};

static void load_keyframe(const char *name, enum reel_codec codec, struct keyframe *k)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    struct reel_nal *nals = calloc(MAX_NALS, sizeof *nals);
    assert_non_null(nals);
    int n = reel_annexb_split(buf, len, nals, MAX_NALS);
    assert_true(n > 0);
    const uint8_t *ps[8];
    size_t pslen[8], nps = 0;
    k->au = malloc(len + 4 * (size_t)n);
    assert_non_null(k->au);
    k->au_len = 0;
    for (int i = 0; i < n; i++) {
        uint8_t b0 = nals[i].p[0];
        if (is_ps(codec, b0)) {
            if (k->au_len > 0)
                break;
            if (nps < 8) {
                ps[nps] = nals[i].p;
                pslen[nps++] = nals[i].len;
            }
            continue;
        }
        if (!is_key_vcl(codec, b0)) {
            if (k->au_len > 0)
                break;
            continue;
        }
        uint8_t *p = k->au + k->au_len;
        p[0] = (uint8_t)(nals[i].len >> 24);
        p[1] = (uint8_t)(nals[i].len >> 16);
        p[2] = (uint8_t)(nals[i].len >> 8);
        p[3] = (uint8_t)nals[i].len;
        memcpy(p + 4, nals[i].p, nals[i].len);
        k->au_len += 4 + nals[i].len;
    }
    assert_true(k->au_len > 0);
    struct reel_err err = {{0}};
    if (reel_video_params_build(codec, ps, pslen, nps, &k->params, &err) != 0)
        fail_msg("reel_video_params_build: %s", err.msg);
    free(nals);
    free(buf);
}

static void keyframe_clear(struct keyframe *k)
{
    free(k->au);
    reel_video_params_clear(&k->params);
}

/* Writes the JPEG to a file and asks ffprobe for "codec,width,height". */
static void check_jpeg(const uint8_t *jpeg, size_t len, int w, int h)
{
    assert_true(len > 4);
    assert_int_equal(jpeg[0], 0xff);
    assert_int_equal(jpeg[1], 0xd8);
    char path[] = "/tmp/reel-snapshot-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, jpeg, len), (ssize_t)len);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' -v error -select_streams v:0 -show_entries "
             "stream=codec_name,width,height -of csv=p=0 '%s'", ffprobe_bin, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256] = "";
    char *got = fgets(line, sizeof line, p);
    int st = pclose(p);
    unlink(path);
    assert_non_null(got);
    assert_int_equal(st, 0);
    char want[64];
    snprintf(want, sizeof want, "mjpeg,%d,%d", w, h);
    assert_true(strncmp(line, want, strlen(want)) == 0);
}

static void snapshot_of(const char *clip, enum reel_codec codec, int max_width, int w, int h)
{
    struct keyframe k;
    load_keyframe(clip, codec, &k);
    uint8_t *jpeg = NULL;
    size_t jlen = 0;
    struct reel_err err = {{0}};
    int r = reel_media_snapshot_jpeg(k.params.sample_entry, k.params.sample_entry_len, k.au,
                                     k.au_len, max_width, &jpeg, &jlen, &err);
    if (r != 0)
        fail_msg("snapshot: %d %s", r, err.msg);
    check_jpeg(jpeg, jlen, w, h);
    free(jpeg);
    keyframe_clear(&k);
}

static void test_h264_scaled(void **state)
{
    snapshot_of("clip320x180.264", REEL_CODEC_H264, 160, 160, 90);
}

static void test_h265_not_enlarged(void **state)
{
    snapshot_of("clip320x180.265", REEL_CODEC_H265, 1280, 320, 180);
}

static void test_h265_scaled(void **state)
{
    snapshot_of("clip320x180.265", REEL_CODEC_H265, 200, 200, 112);
}

static void test_refusals(void **state)
{
    struct keyframe k;
    load_keyframe("clip320x180.264", REEL_CODEC_H264, &k);
    const uint8_t *e = k.params.sample_entry;
    size_t elen = k.params.sample_entry_len;
    uint8_t *jpeg = NULL;
    size_t jlen = 0;
    struct reel_err err = {{0}};

    /* Over the AU cap: refused before decoding. */
    assert_int_equal(reel_media_snapshot_jpeg(e, elen, k.au, REEL_SNAPSHOT_AU_MAX + 1, 640, &jpeg,
                                              &jlen, &err), -EMSGSIZE);
    assert_non_null(strstr(err.msg, "cap"));
    /* Not a sample entry; truncated entry; wrong box type. */
    assert_int_equal(reel_media_snapshot_jpeg(k.au, k.au_len, k.au, k.au_len, 640, &jpeg, &jlen,
                                              &err), -EINVAL);
    assert_int_equal(reel_media_snapshot_jpeg(e, elen - 1, k.au, k.au_len, 640, &jpeg, &jlen,
                                              &err), -EINVAL);
    uint8_t *bad = malloc(elen);
    assert_non_null(bad);
    memcpy(bad, e, elen);
    memcpy(bad + 4, "mp4a", 4);
    assert_int_equal(reel_media_snapshot_jpeg(bad, elen, k.au, k.au_len, 640, &jpeg, &jlen,
                                              &err), -EINVAL);
    /* A child box running past the end of the entry. */
    memcpy(bad, e, elen);
    bad[86] = 0x7f;
    assert_int_equal(reel_media_snapshot_jpeg(bad, elen, k.au, k.au_len, 640, &jpeg, &jlen,
                                              &err), -EINVAL);
    free(bad);
    assert_int_equal(reel_media_snapshot_jpeg(e, elen, k.au, k.au_len, 8, &jpeg, &jlen, &err),
                     -EINVAL);

    /* Garbage access units with a valid entry: an error, never a crash. */
    uint8_t junk[4096];
    uint32_t x = 12345;
    for (int round = 0; round < 8; round++) {
        for (size_t i = 0; i < sizeof junk; i++) {
            x = x * 1103515245u + 12345u;
            junk[i] = (uint8_t)(x >> 16);
        }
        if (round & 1) {   /* a plausible length prefix and IDR header */
            junk[0] = 0; junk[1] = 0; junk[2] = 0x0f; junk[3] = 0xfc; junk[4] = 0x65;
        }
        err.msg[0] = '\0';
        int r = reel_media_snapshot_jpeg(e, elen, junk, sizeof junk, 640, &jpeg, &jlen, &err);
        if (r == 0)
            free(jpeg);
        else
            assert_true(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
    }
    keyframe_clear(&k);
}

int main(int argc, char **argv)
{
    if (argc < 3 || access(argv[1], X_OK) != 0) {
        fprintf(stderr, "usage: %s FFPROBE DATA_DIR (skipping: not found)\n", argv[0]);
        return 77;
    }
    ffprobe_bin = argv[1];
    data_dir = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h264_scaled),
        cmocka_unit_test(test_h265_not_enlarged),
        cmocka_unit_test(test_h265_scaled),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

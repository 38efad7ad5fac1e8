/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel_transcoders with a real hub: an H.265 camera's access units (the
 * test clip, published as the recorder does) come out of hub camera
 * REEL_HUB_TRANSCODE_ID(id) as H.264 with an avc1 entry, which ffprobe
 * decodes; the cap (-EBUSY), a lingering transcode making room for a new
 * one, and the stop after the last viewer leaves.
 * Usage: test_media_transcode FFPROBE DATA_DIR
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

#include "codec/annexb.h"
#include "codec/params.h"
#include "hub/hub.h"
#include "media/transcode.h"

static const char *ffprobe_bin, *data_dir;

#define MAX_NALS 4096
#define MAX_AUS 64

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
    snprintf(path, sizeof path, "%s/clip320x180.265", data_dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 20];
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
        unsigned t = reel_h265_nal_type(nals[i].p[0]);
        if (t >= 32 && t <= 34) {
            if (c->n == 0 && nps < 8)
                ps[nps] = nals[i].p, pslen[nps++] = nals[i].len;
            continue;
        }
        if (t >= 32)
            continue;
        if (nals[i].p[2] & 0x80) {   /* first slice: a new AU */
            assert_true(c->n < MAX_AUS);
            c->au[c->n] = malloc(len + 4);
            assert_non_null(c->au[c->n]);
            c->len[c->n] = 0;
            c->key[c->n] = t >= 16 && t <= 21;
            c->n++;
        }
        uint8_t *p = c->au[c->n - 1] + c->len[c->n - 1];
        p[0] = (uint8_t)(nals[i].len >> 24);
        p[1] = (uint8_t)(nals[i].len >> 16);
        p[2] = (uint8_t)(nals[i].len >> 8);
        p[3] = (uint8_t)nals[i].len;
        memcpy(p + 4, nals[i].p, nals[i].len);
        c->len[c->n - 1] += 4 + nals[i].len;
    }
    struct reel_err err = {{0}};
    if (reel_video_params_build(REEL_CODEC_H265, ps, pslen, nps, &c->vp, &err) != 0)
        fail_msg("params: %s", err.msg);
    free(nals);
}

static void clip_clear(struct clip *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->au[i]);
    reel_video_params_clear(&c->vp);
}

static void publish_clip(struct reel_hub_cam *cam, const struct clip *c, int rounds, int64_t *ts)
{
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < c->n; i++) {
            struct reel_hub_au au = {
                .data = c->au[i], .len = c->len[i], .ts90k = *ts, .wall90k = *ts + 7,
                .key = c->key[i], .sample_entry_id = 5,
            };
            reel_hub_publish_au(cam, &au);
            *ts += 3000;
        }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void put_nal(FILE *f, const uint8_t *p, size_t n)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};
    assert_int_equal(fwrite(sc, 1, 4, f), 4);
    assert_int_equal(fwrite(p, 1, n, f), n);
}

static void put_entry_sets(FILE *f, const uint8_t *e, size_t len)
{
    assert_memory_equal(e + 4, "avc1", 4);
    assert_memory_equal(e + 86 + 4, "avcC", 4);
    const uint8_t *p = e + 86 + 8 + 5, *end = e + len;
    for (int kind = 0; kind < 2; kind++) {
        unsigned n = kind == 0 ? (*p++ & 0x1f) : *p++;
        for (unsigned i = 0; i < n; i++) {
            size_t l = (size_t)p[0] << 8 | p[1];
            assert_true(p + 2 + l <= end);
            put_nal(f, p + 2, l);
            p += 2 + l;
        }
    }
}

/* One camera transcoded: output read from the hub decodes as H.264. */
static void test_transcode_decodes(void **state)
{
    struct clip c;
    load_clip(&c);
    struct reel_hub *hub;
    assert_int_equal(reel_hub_new(&hub), 0);
    struct reel_hub_cam *cam;
    assert_int_equal(reel_hub_cam_add(hub, 7, NULL, &cam), 0);
    assert_int_equal(reel_hub_cam_set_entry(cam, 5, c.vp.sample_entry, c.vp.sample_entry_len), 0);
    struct reel_transcoders *t;
    struct reel_err err = {{0}};
    assert_int_equal(reel_transcoders_new(&t, hub, 2, NULL, &err), 0);
    int64_t hid = 0;
    assert_int_equal(reel_transcode_acquire(t, 7, &hid, &err), 0);
    assert_int_equal(hid, -7);
    struct reel_hub_sub *sub;
    struct reel_hub_sub_cfg cfg = {.camera_id = -7, .kinds = REEL_HUB_AU};
    assert_int_equal(reel_hub_subscribe(hub, &cfg, &sub), 0);

    int64_t ts = 0;
    publish_clip(cam, &c, 3, &ts);
    char path[] = "/tmp/reel-transcode-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    int got = 0, keys = 0;
    int64_t last_ts = -1;
    while (got < 3 * c.n) {
        struct reel_hub_msg m;
        int r = reel_hub_sub_read(sub, &m, 20 * INT64_C(1000000000));
        if (r != 0)
            fail_msg("read: %d after %d frames", r, got);
        assert_int_equal(m.camera_id, -7);
        assert_true(m.au.ts90k > last_ts);
        assert_int_equal(m.au.wall90k, m.au.ts90k + 7);
        last_ts = m.au.ts90k;
        if (m.au.key) {
            static uint8_t e[REEL_HUB_ENTRY_MAX];
            size_t elen;
            int w = 0, h = 0;
            char cs[32];
            assert_int_equal(reel_hub_entry_get(hub, -7, m.au.sample_entry_id, e, sizeof e, &elen,
                                                &w, &h, cs), 0);
            assert_int_equal(w, 320);
            assert_int_equal(h, 180);
            assert_memory_equal(cs, "avc1.", 5);
            put_entry_sets(f, e, elen);
            keys++;
        }
        for (size_t pos = 0; pos + 4 <= m.au.len;) {
            size_t l = (size_t)m.au.data[pos] << 24 | (size_t)m.au.data[pos + 1] << 16 |
                       (size_t)m.au.data[pos + 2] << 8 | m.au.data[pos + 3];
            assert_true(l <= m.au.len - pos - 4);
            put_nal(f, m.au.data + pos + 4, l);
            pos += 4 + l;
        }
        reel_hub_msg_release(&m);
        got++;
    }
    assert_int_equal(fclose(f), 0);
    int src_keys = 0;
    for (int i = 0; i < c.n; i++)
        src_keys += c.key[i];
    assert_int_equal(keys, 3 * src_keys);   /* the source's GOP */

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' -v error -count_frames -show_entries "
             "stream=codec_name,width,height,nb_read_frames -of csv=p=0 -f h264 '%s'",
             ffprobe_bin, path);
    FILE *p = popen(cmd, "r");
    char line[256] = "";
    char *ok = fgets(line, sizeof line, p);
    assert_int_equal(pclose(p), 0);
    unlink(path);
    assert_non_null(ok);
    char want[64];
    snprintf(want, sizeof want, "h264,320,180,%d", 3 * c.n);
    if (strncmp(line, want, strlen(want)) != 0)
        fail_msg("ffprobe: %s want %s", line, want);

    /* The camera's state passes on to the transcode's hub camera. */
    struct reel_hub_sub *ssub;
    struct reel_hub_sub_cfg scfg = {.camera_id = -7, .kinds = REEL_HUB_STATE};
    assert_int_equal(reel_hub_subscribe(hub, &scfg, &ssub), 0);
    struct reel_hub_state down = {.camera_id = 7, .connected = false};
    snprintf(down.state, sizeof down.state, "connecting");
    reel_hub_publish_state(cam, &down);
    struct reel_hub_msg sm;
    assert_int_equal(reel_hub_sub_read(ssub, &sm, 20 * INT64_C(1000000000)), 0);
    assert_int_equal(sm.kind, REEL_HUB_STATE);
    assert_int_equal(sm.camera_id, -7);
    assert_false(sm.state.connected);
    assert_string_equal(sm.state.state, "connecting");
    reel_hub_msg_release(&sm);
    reel_hub_unsubscribe(ssub);

    reel_hub_unsubscribe(sub);
    reel_transcode_release(t, 7);
    reel_transcoders_free(t);
    reel_hub_cam_remove(hub, cam);
    reel_hub_free(hub);
    clip_clear(&c);
}

/* The cap; a lingering transcode makes room; the stop after the linger. */
static void test_cap_and_linger(void **state)
{
    struct reel_hub *hub;
    assert_int_equal(reel_hub_new(&hub), 0);
    struct reel_transcoders *t;
    struct reel_err err = {{0}};
    assert_int_equal(reel_transcoders_new(&t, hub, 0, NULL, &err), -EINVAL);
    assert_int_equal(reel_transcoders_new(&t, hub, 2, NULL, &err), 0);
    struct reel_clock_fake fc;
    reel_clock_fake_init(&fc, 1000, 0);
    reel_transcoders_set_linger(t, 10 * REEL_NS_PER_SEC, &fc.clock);
    int64_t hid;
    assert_int_equal(reel_transcode_acquire(t, 1, &hid, &err), 0);
    assert_int_equal(reel_transcode_acquire(t, 1, &hid, &err), 0);   /* a second viewer */
    assert_int_equal(reel_transcode_acquire(t, 2, &hid, &err), 0);
    assert_int_equal(reel_transcode_acquire(t, 3, &hid, &err), -EBUSY);
    assert_non_null(strstr(err.msg, "cap"));
    struct reel_transcode_stats st;
    reel_transcoders_stats(t, &st);
    assert_int_equal(st.running, 2);
    assert_int_equal(st.started, 2);

    /* Camera 2's only viewer leaves: it lingers, and makes room for 3. */
    reel_transcode_release(t, 2);
    sleep_ms(500);
    reel_transcoders_stats(t, &st);
    assert_int_equal(st.running, 2);   /* still lingering: the clock did not move */
    assert_int_equal(reel_transcode_acquire(t, 3, &hid, &err), 0);
    assert_int_equal(hid, -3);
    assert_int_equal(reel_transcode_acquire(t, 2, &hid, &err), -EBUSY);

    /* Camera 1: one of two viewers leaves (still running), then the other;
     * after the linger it stops by itself. */
    reel_transcode_release(t, 1);
    reel_transcode_release(t, 1);
    reel_transcode_release(t, 1);   /* one too many: ignored */
    reel_clock_fake_advance(&fc, 11 * REEL_NS_PER_SEC);
    for (int i = 0; i < 100; i++) {
        reel_transcoders_stats(t, &st);
        if (st.running == 1)
            break;
        sleep_ms(50);
    }
    assert_int_equal(st.running, 1);
    assert_int_equal(st.stopped, 2);
    /* Its hub camera is gone, and it can start again. */
    assert_int_equal(reel_hub_status_get(hub, -1, &(struct reel_hub_state){0}), -ENOENT);
    assert_int_equal(reel_transcode_acquire(t, 1, &hid, &err), 0);
    assert_int_equal(reel_hub_status_get(hub, -1, &(struct reel_hub_state){0}), 0);
    assert_int_equal(reel_transcode_acquire(t, 0, &hid, &err), -EINVAL);
    reel_transcoders_free(t);   /* viewers still there: stopped anyway */
    reel_hub_free(hub);
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
        cmocka_unit_test(test_transcode_decodes),
        cmocka_unit_test(test_cap_and_linger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/motion: the model on synthetic luma pictures (still
 * scene with noise, a moving block, a light switched on, zones and masks)
 * and the motion configuration's checks (mcfg.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "motion/mcfg.h"
#include "motion/model.h"

#define W 640
#define H 360

static uint32_t rng = 12345;
static int noise(int amp)
{
    rng = rng * 1103515245u + 12345u;
    return (int)((rng >> 16) % (unsigned)(2 * amp + 1)) - amp;
}

/* A textured still scene, brightness offset light, with camera noise, and
 * a bright block at (bx, by) when bx >= 0. */
static void scene(uint8_t *p, int light, int amp, int bx, int by)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = 60 + ((x / 40 + y / 30) % 3) * 25 + light + (amp ? noise(amp) : 0);
            if (bx >= 0 && x >= bx && x < bx + 80 && y >= by && y < by + 80)
                v = 230;
            p[y * W + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

static bool any_moved(const struct reel_motion_frame *f)
{
    for (int k = 0; k < f->nzones; k++)
        if (f->zone_moved[k])
            return true;
    return false;
}

static void test_still_noise(void **state)
{
    (void)state;
    struct reel_motion_cfg c;
    reel_motion_cfg_default(&c);
    struct reel_motion_model *m;
    assert_int_equal(reel_motion_model_new(&m, &c, W, H), 0);
    uint8_t *p = malloc(W * H);
    struct reel_motion_frame f;
    for (int i = 0; i < 50; i++) {
        scene(p, 0, 12, -1, 0);
        reel_motion_model_feed(m, p, W, &f);
        assert_false(any_moved(&f));
        assert_false(f.recalibrated);
        for (int k = 0; k < REEL_GRID_CELLS; k++)
            assert_int_equal(f.cells.level[k], 0);
    }
    free(p);
    reel_motion_model_free(m);
}

static void test_moving_block(void **state)
{
    (void)state;
    struct reel_motion_cfg c;
    reel_motion_cfg_default(&c);
    struct reel_motion_model *m;
    assert_int_equal(reel_motion_model_new(&m, &c, W, H), 0);
    uint8_t *p = malloc(W * H);
    struct reel_motion_frame f;
    for (int i = 0; i < 5; i++) {
        scene(p, 0, 4, -1, 0);
        reel_motion_model_feed(m, p, W, &f);
    }
    int moved = 0;
    for (int i = 0; i < 10; i++) {
        scene(p, 0, 4, 100 + i * 30, 140);
        reel_motion_model_feed(m, p, W, &f);
        moved += any_moved(&f);
        assert_string_equal(f.zone_name[0], "");
    }
    assert_int_equal(moved, 10);
    /* the block at x 370..450, y 140..220: cell (x 10, y 7) moved */
    assert_true(f.cells.level[7 * 16 + 10] > 100);
    assert_int_equal(f.cells.level[0], 0);
    assert_true(f.share > 0 && f.share < 20);
    free(p);
    reel_motion_model_free(m);
}

static void test_light_switched_on(void **state)
{
    (void)state;
    struct reel_motion_cfg c;
    reel_motion_cfg_default(&c);
    c.sensitivity = 90;
    struct reel_motion_model *m;
    assert_int_equal(reel_motion_model_new(&m, &c, W, H), 0);
    uint8_t *p = malloc(W * H);
    struct reel_motion_frame f;
    for (int i = 0; i < 5; i++) {
        scene(p, 0, 3, -1, 0);
        reel_motion_model_feed(m, p, W, &f);
    }
    int recal = 0;
    /* the light comes on over two frames, then stays */
    for (int i = 0; i < 20; i++) {
        scene(p, i == 0 ? 40 : 80, 3, -1, 0);
        reel_motion_model_feed(m, p, W, &f);
        recal += f.recalibrated;
        assert_false(any_moved(&f));
    }
    assert_true(recal >= 1);
    free(p);
    reel_motion_model_free(m);
}

static json_t *zone(const char *name, const char *kind, double x0, double y0, double x1, double y1)
{
    return json_pack("{s:s, s:s, s:[[f,f],[f,f],[f,f],[f,f]]}", "name", name, "kind", kind, "points", x0, y0, x1, y0,
                     x1, y1, x0, y1);
}

static void test_zones_and_masks(void **state)
{
    (void)state;
    struct reel_motion_cfg c;
    reel_motion_cfg_default(&c);
    /* left half: zone "left"; right half: zone "right"; a mask over the right bottom quarter */
    json_t *j = json_pack("{s:[o, o, o]}", "zones", zone("left", "zone", 0, 0, 0.5, 1),
                          zone("right", "zone", 0.5, 0, 1, 1), zone("", "mask", 0.5, 0.5, 1, 1));
    struct reel_err err = { "" };
    assert_int_equal(reel_motion_cfg_from_json(&c, j, &err), 0);
    json_decref(j);
    assert_int_equal(c.nzones, 3);
    struct reel_motion_model *m;
    assert_int_equal(reel_motion_model_new(&m, &c, W, H), 0);
    uint8_t *p = malloc(W * H);
    struct reel_motion_frame f;
    scene(p, 0, 0, -1, 0);
    reel_motion_model_feed(m, p, W, &f);
    /* a block in the masked quarter: nothing, not even the grid */
    for (int i = 0; i < 4; i++) {
        scene(p, 0, 0, 400 + i * 20, 250);
        reel_motion_model_feed(m, p, W, &f);
        assert_int_equal(f.nzones, 2);
        assert_false(any_moved(&f));
        for (int k = 0; k < REEL_GRID_CELLS; k++)
            assert_int_equal(f.cells.level[k], 0);
    }
    scene(p, 0, 0, -1, 0);
    reel_motion_model_feed(m, p, W, &f);
    /* a block in the left half: zone "left" only */
    scene(p, 0, 0, 60, 100);
    reel_motion_model_feed(m, p, W, &f);
    assert_string_equal(f.zone_name[0], "left");
    assert_true(f.zone_moved[0]);
    assert_false(f.zone_moved[1]);
    /* the right top quarter: zone "right" */
    scene(p, 0, 0, -1, 0);
    reel_motion_model_feed(m, p, W, &f);
    scene(p, 0, 0, 450, 20);
    reel_motion_model_feed(m, p, W, &f);
    assert_true(f.zone_moved[1]);
    assert_false(f.zone_moved[0]);
    free(p);
    reel_motion_model_free(m);
}

static int from(const char *text, struct reel_motion_cfg *c)
{
    reel_motion_cfg_default(c);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    struct reel_err err = { "" };
    int r = reel_motion_cfg_from_json(c, j, &err);
    json_decref(j);
    return r;
}

static void test_cfg_checks(void **state)
{
    (void)state;
    struct reel_motion_cfg c;
    assert_int_equal(from("{\"motion\":\"decode\",\"fps\":15,\"sensitivity\":100,\"min_area\":0,"
                          "\"pre_roll_s\":60,\"post_roll_s\":0,\"event_retain_days\":30}", &c), 0);
    assert_int_equal(c.mode, REEL_MOTION_DECODE);
    assert_int_equal(c.event_retain_seconds, 30 * 86400);
    assert_int_equal(from("{\"motion\":\"sometimes\"}", &c), -EINVAL);
    assert_int_equal(from("{\"fps\":0}", &c), -EINVAL);
    assert_int_equal(from("{\"fps\":16}", &c), -EINVAL);
    assert_int_equal(from("{\"fps\":5.5}", &c), -EINVAL);
    assert_int_equal(from("{\"sensitivity\":101}", &c), -EINVAL);
    assert_int_equal(from("{\"min_area\":-1}", &c), -EINVAL);
    assert_int_equal(from("{\"pre_roll_s\":61}", &c), -EINVAL);
    assert_int_equal(from("{\"bogus\":1}", &c), -EINVAL);
    assert_int_equal(from("{\"motion\":\"onvif\"}", &c), -EINVAL);   /* needs an xaddr */
    assert_int_equal(from("{\"onvif\":{\"xaddr\":\"ftp://x\"}}", &c), -EINVAL);
    assert_int_equal(from("{\"onvif\":{\"user\":\"u\",\"extra\":1}}", &c), -EINVAL);
    assert_int_equal(from("{\"zones\":[{\"name\":\"a\",\"points\":[[0,0],[1,0]]}]}", &c), -EINVAL);
    assert_int_equal(from("{\"zones\":[{\"name\":\"a\",\"points\":[[0,0],[1,0],[1,1.5]]}]}", &c), -EINVAL);
    assert_int_equal(from("{\"zones\":[{\"name\":\"a,b\",\"points\":[[0,0],[1,0],[1,1]]}]}", &c), -EINVAL);
    assert_int_equal(from("{\"zones\":[{\"name\":\"\",\"points\":[[0,0],[1,0],[1,1]]}]}", &c), -EINVAL);
    assert_int_equal(from("{\"zones\":[{\"name\":\"a\",\"points\":[[0,0],[1,0],[1,1]]},"
                          "{\"name\":\"a\",\"points\":[[0,0],[1,0],[1,1]]}]}", &c), -EINVAL);
    /* 17 zones, 33 points: over the caps */
    char buf[8192];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"zones\":[");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s{\"name\":\"z%d\",\"points\":[[0,0],[1,0],[1,1]]}",
                              i ? "," : "", i);
    snprintf(buf + n, sizeof(buf) - n, "]}");
    assert_int_equal(from(buf, &c), -EINVAL);
    n = (size_t)snprintf(buf, sizeof(buf), "{\"zones\":[{\"name\":\"a\",\"points\":[");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s[0.%d,0.5]", i ? "," : "", i % 10);
    snprintf(buf + n, sizeof(buf) - n, "]}]}");
    assert_int_equal(from(buf, &c), -EINVAL);
    /* round trip of the zones */
    assert_int_equal(from("{\"zones\":[{\"name\":\"door\",\"kind\":\"zone\",\"points\":[[0.1,0.2],[0.5,0.2],"
                          "[0.5,0.9]],\"sensitivity\":60,\"min_area\":1.5}]}", &c), 0);
    json_t *z = reel_motion_zones_json(&c);
    char *t = json_dumps(z, JSON_COMPACT);
    json_decref(z);
    struct reel_motion_cfg d;
    reel_motion_cfg_default(&d);
    struct reel_err err = { "" };
    assert_int_equal(reel_motion_zones_parse(&d, t, &err), 0);
    free(t);
    assert_int_equal(d.nzones, 1);
    assert_string_equal(d.zones[0].name, "door");
    assert_int_equal(d.zones[0].sensitivity, 60);
    assert_true(d.zones[0].min_area > 1.49 && d.zones[0].min_area < 1.51);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_still_noise),
        cmocka_unit_test(test_moving_block),
        cmocka_unit_test(test_light_switched_on),
        cmocka_unit_test(test_zones_and_masks),
        cmocka_unit_test(test_cfg_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The redaction rectangles (src/media/redact_boxes.c): parsing with its
 * caps and refusals, the linear motion between key points (held before the
 * first and after the last), the pixel rectangle rounded outwards, fill
 * and blur on a textured plane (blur leaves no fine detail inside and
 * touches nothing outside).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "media/redact_boxes.h"

#define T0 (INT64_C(1796000000) * 90000)   /* 2026-12-1x */

static int parse(const char *text, struct reel_redact_spec *spec, struct reel_err *err)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    int rc = reel_redact_spec_parse(j, T0, T0 + 60 * 90000, spec, err);
    json_decref(j);
    return rc;
}

static void fmt_t(int64_t off_s, char *buf)
{
    reel_time_format(T0 + off_s * 90000, buf, 40);
}

static void test_parse_and_interp(void **state)
{
    (void)state;
    struct reel_redact_spec *s = calloc(1, sizeof(*s));
    struct reel_err err = { "" };
    char a[40], b[40], c[40], txt[1024];
    fmt_t(10, a);
    fmt_t(20, b);
    fmt_t(40, c);
    /* Keys given out of order: sorted. */
    snprintf(txt, sizeof(txt),
             "[{\"mode\":\"blur\",\"keys\":[{\"t\":\"%s\",\"x\":0.5,\"y\":0.5,\"w\":0.2,\"h\":0.2},"
             "{\"t\":\"%s\",\"x\":0.1,\"y\":0.1,\"w\":0.2,\"h\":0.2},{\"t\":\"%s\",\"x\":0.3,\"y\":0.1,\"w\":0.4,\"h\":0.2}]},"
             "{\"mode\":\"fill\",\"keys\":[{\"t\":\"%s\",\"x\":0,\"y\":0,\"w\":1,\"h\":1}]}]",
             c, a, b, a);
    assert_int_equal(parse(txt, s, &err), 0);
    assert_int_equal(s->nboxes, 2);
    assert_int_equal(s->boxes[0].mode, REEL_REDACT_BLUR);
    assert_int_equal(s->boxes[1].mode, REEL_REDACT_FILL);
    double x, y, w, h;
    reel_redact_box_at(&s->boxes[0], T0, &x, &y, &w, &h);          /* before the first: held */
    assert_true(x == 0.1 && w == 0.2);
    reel_redact_box_at(&s->boxes[0], T0 + 15 * 90000, &x, &y, &w, &h);   /* half way 10 s -> 20 s */
    assert_true(x > 0.1999 && x < 0.2001 && w > 0.2999 && w < 0.3001);
    reel_redact_box_at(&s->boxes[0], T0 + 30 * 90000, &x, &y, &w, &h);   /* half way 20 s -> 40 s */
    assert_true(x > 0.3999 && x < 0.4001 && y > 0.2999 && y < 0.3001);
    reel_redact_box_at(&s->boxes[0], T0 + 59 * 90000, &x, &y, &w, &h);   /* after the last: held */
    assert_true(x == 0.5 && y == 0.5);
    reel_redact_box_at(&s->boxes[1], T0 + 59 * 90000, &x, &y, &w, &h);   /* one key: still */
    assert_true(x == 0 && w == 1);
    json_t *back = reel_redact_spec_json(s);
    assert_int_equal(json_array_size(back), 2);
    assert_int_equal(json_array_size(json_object_get(json_array_get(back, 0), "keys")), 3);
    json_decref(back);
    free(s);
}

static void test_refusals(void **state)
{
    (void)state;
    struct reel_redact_spec *s = calloc(1, sizeof(*s));
    struct reel_err err = { "" };
    char a[40], late[40], txt[8192];
    fmt_t(10, a);
    fmt_t(3600, late);
    const char *bad[] = {
        "[]", "{}", "[1]", "[{\"mode\":\"smudge\",\"keys\":[]}]",
        "[{\"mode\":\"fill\",\"keys\":[]}]",
        "[{\"mode\":\"fill\",\"keys\":[{\"t\":\"%s\",\"x\":0.9,\"y\":0,\"w\":0.2,\"h\":0.1}]}]",
        "[{\"mode\":\"fill\",\"keys\":[{\"t\":\"%s\",\"x\":-0.1,\"y\":0,\"w\":0.2,\"h\":0.1}]}]",
        "[{\"mode\":\"fill\",\"keys\":[{\"t\":\"%s\",\"x\":0,\"y\":0,\"w\":0,\"h\":0.1}]}]",
        "[{\"mode\":\"fill\",\"keys\":[{\"t\":\"%s\",\"x\":\"0\",\"y\":0,\"w\":0.1,\"h\":0.1}]}]",
        "[{\"mode\":\"fill\",\"keys\":[{\"t\":\"%s\",\"x\":0,\"y\":0,\"w\":0.1,\"h\":0.1,\"z\":1}]}]",
        "[{\"mode\":\"fill\",\"color\":1,\"keys\":[{\"t\":\"%s\",\"x\":0,\"y\":0,\"w\":0.1,\"h\":0.1}]}]",
        "[{\"mode\":\"fill\",\"keys\":[{\"t\":\"yesterday %s\",\"x\":0,\"y\":0,\"w\":0.1,\"h\":0.1}]}]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* bad[i] has at most one %s, for the time. */
        const char *pct = strstr(bad[i], "%s");
        if (pct)
            snprintf(txt, sizeof(txt), "%.*s%s%s", (int)(pct - bad[i]), bad[i], a, pct + 2);
        else
            snprintf(txt, sizeof(txt), "%s", bad[i]);
        assert_int_equal(parse(txt, s, &err), -EINVAL);
    }
    /* A key point outside the range; two at the same time. */
    snprintf(txt, sizeof(txt), "[{\"mode\":\"fill\",\"keys\":[{\"t\":\"%s\",\"x\":0,\"y\":0,\"w\":0.1,\"h\":0.1}]}]",
             late);
    assert_int_equal(parse(txt, s, &err), -EINVAL);
    snprintf(txt, sizeof(txt),
             "[{\"mode\":\"fill\",\"keys\":[{\"t\":\"%s\",\"x\":0,\"y\":0,\"w\":0.1,\"h\":0.1},"
             "{\"t\":\"%s\",\"x\":0,\"y\":0,\"w\":0.1,\"h\":0.1}]}]", a, a);
    assert_int_equal(parse(txt, s, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "same time"));
    /* Caps: 33 boxes, 65 key points. */
    json_t *boxes = json_array();
    for (int i = 0; i < REEL_REDACT_BOXES_MAX + 1; i++)
        json_array_append_new(boxes, json_pack("{s:s,s:[{s:s,s:f,s:f,s:f,s:f}]}", "mode", "fill", "keys", "t", a,
                                               "x", 0.0, "y", 0.0, "w", 0.1, "h", 0.1));
    assert_int_equal(reel_redact_spec_parse(boxes, T0, T0 + 60 * 90000, s, &err), -EINVAL);
    json_array_remove(boxes, 0);
    assert_int_equal(reel_redact_spec_parse(boxes, T0, T0 + 60 * 90000, s, &err), 0);
    json_decref(boxes);
    json_t *keys = json_array();
    for (int i = 0; i < REEL_REDACT_KEYS_MAX + 1; i++) {
        char t[40];
        fmt_t(i / 2, t);
        reel_time_format(T0 + i * 9000, t, sizeof(t));
        json_array_append_new(keys, json_pack("{s:s,s:f,s:f,s:f,s:f}", "t", t, "x", 0.0, "y", 0.0, "w", 0.1, "h", 0.1));
    }
    boxes = json_pack("[{s:s,s:o}]", "mode", "blur", "keys", keys);
    assert_int_equal(reel_redact_spec_parse(boxes, T0, T0 + 60 * 90000, s, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "at most"));
    json_decref(boxes);
    free(s);
}

static void test_rect_outwards(void **state)
{
    (void)state;
    int x0, y0, x1, y1;
    reel_redact_rect_px(0.25, 0.5, 0.5, 0.25, 1920, 1080, &x0, &y0, &x1, &y1);
    assert_int_equal(x0, 480);
    assert_int_equal(x1, 1440);
    assert_int_equal(y0, 540);
    assert_int_equal(y1, 810);
    reel_redact_rect_px(0.1001, 0.1001, 0.1, 0.1, 100, 100, &x0, &y0, &x1, &y1);
    assert_int_equal(x0, 10);
    assert_int_equal(x1, 21);
    reel_redact_rect_px(0.9, 0.9, 0.1 + 1e-7, 0.1, 101, 101, &x0, &y0, &x1, &y1);
    assert_int_equal(x1, 101);
}

/* Sum of |horizontal| + |vertical| neighbour differences inside [x0,x1) x [y0,y1), per pixel. */
static double hf(const uint8_t *p, int ls, int x0, int y0, int x1, int y1)
{
    double s = 0;
    long n = 0;
    for (int j = y0; j < y1 - 1; j++)
        for (int i = x0; i < x1 - 1; i++, n++)
            s += abs(p[j * ls + i] - p[j * ls + i + 1]) + abs(p[j * ls + i] - p[(j + 1) * ls + i]);
    return n ? s / (double)n : 0;
}

static void test_paint(void **state)
{
    (void)state;
    enum { W = 320, H = 180 };
    uint8_t *img = malloc(W * H), *orig = malloc(W * H);
    for (int j = 0; j < H; j++)
        for (int i = 0; i < W; i++)
            img[j * W + i] = (uint8_t)(((i / 2 + j / 2) % 2) ? 200 : 40 + (i * 7 + j * 13) % 50);   /* fine checker */
    memcpy(orig, img, W * H);
    struct reel_redact_plane p = { img, W, W, H };
    reel_redact_paint_plane(&p, REEL_REDACT_BLUR, 0, 0.25, 0.25, 0.5, 0.5);
    int x0, y0, x1, y1;
    reel_redact_rect_px(0.25, 0.25, 0.5, 0.5, W, H, &x0, &y0, &x1, &y1);
    double before = hf(orig, W, x0, y0, x1, y1), after = hf(img, W, x0, y0, x1, y1);
    assert_true(before > 50);
    assert_true(after < before / 50);
    /* Nothing outside changed. */
    for (int j = 0; j < H; j++)
        for (int i = 0; i < W; i++)
            if (i < x0 || i >= x1 || j < y0 || j >= y1)
                assert_int_equal(img[j * W + i], orig[j * W + i]);
    memcpy(img, orig, W * H);
    reel_redact_paint_plane(&p, REEL_REDACT_FILL, 16, 0.9, 0.9, 0.1, 0.1);
    for (int j = 162; j < H; j++)
        for (int i = 288; i < W; i++)
            assert_int_equal(img[j * W + i], 16);
    assert_int_equal(img[161 * W + 287], orig[161 * W + 287]);
    /* A thin, long box and a 1-pixel one do not crash. */
    reel_redact_paint_plane(&p, REEL_REDACT_BLUR, 0, 0, 0.5, 1, 1.0 / H);
    reel_redact_paint_plane(&p, REEL_REDACT_BLUR, 0, 0.5, 0.5, 1e-9, 1e-9);
    free(img);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_interp),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_rect_outwards),
        cmocka_unit_test(test_paint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

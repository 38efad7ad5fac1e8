/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Redaction rectangles: parsing, interpolation, painting (redact_boxes.h).
 */
#include "media/redact_boxes.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"

#define SLACK 1e-6
#define SIDE_MAX 8192
#define GRID_LONG_MAX (SIDE_MAX / REEL_REDACT_BLUR_MIN + 1)
#define GRID_SHORT_MAX (REEL_REDACT_BLUR_CELLS + 1)

static int key_cmp(const void *a, const void *b)
{
    const struct reel_redact_key *ka = a, *kb = b;
    return ka->t90k < kb->t90k ? -1 : ka->t90k > kb->t90k;
}

static int num(const json_t *o, const char *k, double *v)
{
    const json_t *j = json_object_get(o, k);
    if (!json_is_number(j))
        return -1;
    *v = json_number_value(j);
    return isfinite(*v) ? 0 : -1;
}

static int parse_key(const json_t *jk, int64_t from90k, int64_t to90k, struct reel_redact_key *k, size_t bi,
                     size_t ki, struct reel_err *err)
{
    if (!json_is_object(jk))
        return reel_err_set(err, EINVAL, "boxes[%zu].keys[%zu]: expected an object", bi, ki);
    const char *f;
    const json_t *v;
    json_object_foreach((json_t *)jk, f, v) {
        if (strcmp(f, "t") && strcmp(f, "x") && strcmp(f, "y") && strcmp(f, "w") && strcmp(f, "h"))
            return reel_err_set(err, EINVAL, "boxes[%zu].keys[%zu]: unknown field (expected t, x, y, w, h)", bi,
                                ki);
    }
    const char *t = json_string_value(json_object_get(jk, "t"));
    if (!t || strlen(t) > 64 || reel_time_parse(t, 0, &k->t90k) < 0)
        return reel_err_set(err, EINVAL, "boxes[%zu].keys[%zu].t: expected an RFC 3339 time", bi, ki);
    if (k->t90k < from90k || k->t90k > to90k)
        return reel_err_set(err, EINVAL, "boxes[%zu].keys[%zu].t: outside the export's range", bi, ki);
    if (num(jk, "x", &k->x) || num(jk, "y", &k->y) || num(jk, "w", &k->w) || num(jk, "h", &k->h))
        return reel_err_set(err, EINVAL, "boxes[%zu].keys[%zu]: x, y, w, h must be numbers (0..1)", bi, ki);
    if (k->x < 0 || k->y < 0 || k->w <= 0 || k->h <= 0 || k->x + k->w > 1 + SLACK || k->y + k->h > 1 + SLACK)
        return reel_err_set(err, EINVAL,
                            "boxes[%zu].keys[%zu]: the rectangle must lie inside the picture (0 <= x, y;"
                            " 0 < w, h; x + w <= 1; y + h <= 1)", bi, ki);
    return 0;
}

int reel_redact_spec_parse(const json_t *boxes, int64_t from90k, int64_t to90k, struct reel_redact_spec *spec,
                           struct reel_err *err)
{
    memset(spec, 0, sizeof(*spec));
    if (!json_is_array(boxes) || json_array_size(boxes) == 0)
        return reel_err_set(err, EINVAL, "boxes: expected a non-empty array");
    if (json_array_size(boxes) > REEL_REDACT_BOXES_MAX)
        return reel_err_set(err, EINVAL, "boxes: at most %d", REEL_REDACT_BOXES_MAX);
    for (size_t bi = 0; bi < json_array_size(boxes); bi++) {
        const json_t *jb = json_array_get(boxes, bi);
        struct reel_redact_box *b = &spec->boxes[bi];
        if (!json_is_object(jb))
            return reel_err_set(err, EINVAL, "boxes[%zu]: expected an object", bi);
        const char *f;
        const json_t *v;
        json_object_foreach((json_t *)jb, f, v) {
            if (strcmp(f, "mode") && strcmp(f, "keys"))
                return reel_err_set(err, EINVAL, "boxes[%zu]: unknown field (expected mode, keys)", bi);
        }
        const char *mode = json_string_value(json_object_get(jb, "mode"));
        if (mode && strcmp(mode, "fill") == 0)
            b->mode = REEL_REDACT_FILL;
        else if (mode && strcmp(mode, "blur") == 0)
            b->mode = REEL_REDACT_BLUR;
        else
            return reel_err_set(err, EINVAL, "boxes[%zu].mode: expected \"blur\" or \"fill\"", bi);
        const json_t *keys = json_object_get(jb, "keys");
        if (!json_is_array(keys) || json_array_size(keys) == 0)
            return reel_err_set(err, EINVAL, "boxes[%zu].keys: expected a non-empty array", bi);
        if (json_array_size(keys) > REEL_REDACT_KEYS_MAX)
            return reel_err_set(err, EINVAL, "boxes[%zu].keys: at most %d key points", bi, REEL_REDACT_KEYS_MAX);
        b->nkeys = json_array_size(keys);
        for (size_t ki = 0; ki < b->nkeys; ki++) {
            int rc = parse_key(json_array_get(keys, ki), from90k, to90k, &b->keys[ki], bi, ki, err);
            if (rc < 0)
                return rc;
        }
        qsort(b->keys, b->nkeys, sizeof(b->keys[0]), key_cmp);
        for (size_t ki = 1; ki < b->nkeys; ki++)
            if (b->keys[ki].t90k == b->keys[ki - 1].t90k)
                return reel_err_set(err, EINVAL, "boxes[%zu].keys: two key points at the same time", bi);
        spec->nboxes++;
    }
    return 0;
}

json_t *reel_redact_spec_json(const struct reel_redact_spec *spec)
{
    json_t *arr = json_array();
    for (size_t bi = 0; arr && bi < spec->nboxes; bi++) {
        const struct reel_redact_box *b = &spec->boxes[bi];
        json_t *keys = json_array();
        for (size_t ki = 0; keys && ki < b->nkeys; ki++) {
            char t[40];
            reel_time_format(b->keys[ki].t90k, t, sizeof(t));
            json_array_append_new(keys, json_pack("{s:s,s:f,s:f,s:f,s:f}", "t", t, "x", b->keys[ki].x, "y",
                                                  b->keys[ki].y, "w", b->keys[ki].w, "h", b->keys[ki].h));
        }
        json_array_append_new(arr, json_pack("{s:s,s:o}", "mode", b->mode == REEL_REDACT_BLUR ? "blur" : "fill",
                                             "keys", keys ? keys : json_array()));
    }
    return arr;
}

void reel_redact_box_at(const struct reel_redact_box *b, int64_t t90k, double *x, double *y, double *w, double *h)
{
    const struct reel_redact_key *k = b->keys;
    size_t n = b->nkeys;
    const struct reel_redact_key *a = &k[0], *c = &k[0];
    double f = 0;
    if (n > 1 && t90k >= k[n - 1].t90k) {
        a = c = &k[n - 1];
    } else if (n > 1 && t90k > k[0].t90k) {
        size_t i = 1;
        while (i < n && k[i].t90k <= t90k)
            i++;
        a = &k[i - 1];
        c = &k[i];
        f = (double)(t90k - a->t90k) / (double)(c->t90k - a->t90k);
    }
    *x = a->x + (c->x - a->x) * f;
    *y = a->y + (c->y - a->y) * f;
    *w = a->w + (c->w - a->w) * f;
    *h = a->h + (c->h - a->h) * f;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void reel_redact_rect_px(double x, double y, double w, double h, int width, int height, int *x0, int *y0, int *x1,
                         int *y1)
{
    /* Outwards: floor of the start, ceiling of the end (a hair of slack
     * so that 0.25 * 1920 is 480, not 479.99999 -> 480 anyway). */
    *x0 = clampi((int)floor(x * width + 1e-9), 0, width);
    *y0 = clampi((int)floor(y * height + 1e-9), 0, height);
    *x1 = clampi((int)ceil((x + w) * width - 1e-9), 0, width);
    *y1 = clampi((int)ceil((y + h) * height - 1e-9), 0, height);
}

static void fill(const struct reel_redact_plane *p, int x0, int y0, int x1, int y1, uint8_t v)
{
    for (int j = y0; j < y1; j++)
        memset(p->data + (size_t)j * (size_t)p->linesize + (size_t)x0, v, (size_t)(x1 - x0));
}

/* Averages the area into gw x gh cells and stretches them back bilinearly
 * (cell centres as the sample points, edges held). */
static void blur(const struct reel_redact_plane *p, int x0, int y0, int x1, int y1)
{
    int rw = x1 - x0, rh = y1 - y0;
    int shorter = rw < rh ? rw : rh;
    int cell = shorter / REEL_REDACT_BLUR_CELLS;
    if (cell < REEL_REDACT_BLUR_MIN)
        cell = REEL_REDACT_BLUR_MIN;
    int gw = (rw + cell - 1) / cell, gh = (rh + cell - 1) / cell;
    if (gw < 1)
        gw = 1;
    if (gh < 1)
        gh = 1;
    /* gw, gh <= GRID_LONG_MAX and the shorter one <= GRID_SHORT_MAX. */
    static_assert(GRID_LONG_MAX * GRID_SHORT_MAX * 8 < 64 * 1024, "grid on the stack");
    uint32_t sum[GRID_LONG_MAX * GRID_SHORT_MAX];
    uint32_t cnt[GRID_LONG_MAX * GRID_SHORT_MAX];
    uint8_t avg[GRID_LONG_MAX * GRID_SHORT_MAX];
    if ((size_t)gw * (size_t)gh > sizeof(avg))
        return;   /* cannot happen for planes within SIDE_MAX */
    memset(sum, 0, sizeof(uint32_t) * (size_t)(gw * gh));
    memset(cnt, 0, sizeof(uint32_t) * (size_t)(gw * gh));
    for (int j = 0; j < rh; j++) {
        const uint8_t *row = p->data + (size_t)(y0 + j) * (size_t)p->linesize + (size_t)x0;
        int gj = (int)((int64_t)j * gh / rh);
        for (int i = 0; i < rw; i++) {
            int gi = (int)((int64_t)i * gw / rw);
            sum[gj * gw + gi] += row[i];
            cnt[gj * gw + gi]++;
        }
    }
    for (int g = 0; g < gw * gh; g++)
        avg[g] = (uint8_t)(cnt[g] ? (sum[g] + cnt[g] / 2) / cnt[g] : 0);
    for (int j = 0; j < rh; j++) {
        uint8_t *row = p->data + (size_t)(y0 + j) * (size_t)p->linesize + (size_t)x0;
        double fy = ((double)j + 0.5) * gh / rh - 0.5;
        if (fy < 0)
            fy = 0;
        if (fy > gh - 1)
            fy = gh - 1;
        int ya = (int)fy, yb = ya + 1 < gh ? ya + 1 : ya;
        double wy = fy - ya;
        for (int i = 0; i < rw; i++) {
            double fx = ((double)i + 0.5) * gw / rw - 0.5;
            if (fx < 0)
                fx = 0;
            if (fx > gw - 1)
                fx = gw - 1;
            int xa = (int)fx, xb = xa + 1 < gw ? xa + 1 : xa;
            double wx = fx - xa;
            double top = avg[ya * gw + xa] * (1 - wx) + avg[ya * gw + xb] * wx;
            double bot = avg[yb * gw + xa] * (1 - wx) + avg[yb * gw + xb] * wx;
            row[i] = (uint8_t)(top * (1 - wy) + bot * wy + 0.5);
        }
    }
}

void reel_redact_paint_plane(const struct reel_redact_plane *p, enum reel_redact_mode mode, uint8_t fill_value,
                             double x, double y, double w, double h)
{
    if (p->width <= 0 || p->height <= 0 || p->width > SIDE_MAX || p->height > SIDE_MAX)
        return;
    int x0, y0, x1, y1;
    reel_redact_rect_px(x, y, w, h, p->width, p->height, &x0, &y0, &x1, &y1);
    if (x1 <= x0 || y1 <= y0)
        return;
    if (mode == REEL_REDACT_FILL)
        fill(p, x0, y0, x1, y1, fill_value);
    else
        blur(p, x0, y0, x1, y1);
}

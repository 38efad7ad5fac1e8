/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The motion model: downscale, blur, background, thresholds, zones, grid
 * (model.h).
 */
#include "motion/model.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define MASKED 0xffff

struct reel_motion_model {
    int sw, sh, w, h;
    float alpha;
    bool have_bg;
    int settle;
    int *x0;                         /* w + 1 source column bounds */
    int *y0;                         /* h + 1 source row bounds */
    int *xs;                         /* 2 w: the two source columns sampled per analysis column */
    uint8_t *small, *cur;            /* downscaled, blurred */
    uint16_t *tmp;                   /* the blur's row sums */
    float *bg;
    uint8_t *run;                    /* per pixel: analysed frames in a row it moved (capped) */
    uint8_t run_max;                 /* after this many the change is absorbed (something stopped) */
    uint8_t *thr;                    /* per pixel threshold */
    uint16_t *zbits;                 /* per pixel: zone bits, MASKED for masks */
    uint8_t *cell;                   /* per pixel: grid cell */
    uint32_t cell_total[REEL_GRID_CELLS];
    uint32_t analysed;               /* pixels not masked */
    int nz;                          /* event zones (not masks); 0: the whole picture is zone "" */
    char zname[REEL_MOTION_ZONES_MAX][REEL_MOTION_ZONE_NAME_MAX];
    uint32_t ztotal[REEL_MOTION_ZONES_MAX];
    double zmin[REEL_MOTION_ZONES_MAX];
};

static uint8_t threshold(int sensitivity)
{
    /* 50 -> 30 grey levels (Frigate's default), 100 -> 5, 1 -> 55 */
    int t = 5 + (100 - sensitivity) / 2;
    return (uint8_t)(t < 3 ? 3 : t);
}

static bool inside(const struct reel_motion_zone *z, float px, float py)
{
    bool in = false;
    for (int i = 0, j = z->npoints - 1; i < z->npoints; j = i++) {
        float xi = z->x[i], yi = z->y[i], xj = z->x[j], yj = z->y[j];
        if ((yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi)
            in = !in;
    }
    return in;
}

void reel_motion_model_free(struct reel_motion_model *m)
{
    if (!m)
        return;
    free(m->x0);
    free(m->y0);
    free(m->xs);
    free(m->small);
    free(m->cur);
    free(m->tmp);
    free(m->bg);
    free(m->run);
    free(m->thr);
    free(m->zbits);
    free(m->cell);
    free(m);
}

void reel_motion_model_size(const struct reel_motion_model *m, int *w, int *h)
{
    *w = m->w;
    *h = m->h;
}

int reel_motion_model_new(struct reel_motion_model **ret, const struct reel_motion_cfg *c, int src_w, int src_h)
{
    if (src_w < 16 || src_h < 16 || src_w > REEL_MOTION_SRC_DIM_MAX || src_h > REEL_MOTION_SRC_DIM_MAX)
        return -EINVAL;
    struct reel_motion_model *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->sw = src_w;
    m->sh = src_h;
    m->w = src_w < REEL_MOTION_AW ? src_w : REEL_MOTION_AW;
    m->h = (int)((int64_t)src_h * m->w / src_w);
    if (m->h > REEL_MOTION_AH_MAX)
        m->h = REEL_MOTION_AH_MAX;
    if (m->h < 8)
        m->h = 8;
    int fps = c->fps < 1 ? 1 : c->fps;
    m->alpha = 1.0f / (float)(REEL_MOTION_BG_SECONDS * fps);
    int rm = REEL_MOTION_STILL_SECONDS * fps;
    m->run_max = (uint8_t)(rm > 250 ? 250 : rm);
    size_t n = (size_t)m->w * (size_t)m->h;
    m->x0 = malloc(sizeof(int) * (size_t)(m->w + 1));
    m->y0 = malloc(sizeof(int) * (size_t)(m->h + 1));
    m->xs = malloc(sizeof(int) * 2 * (size_t)m->w);
    m->small = malloc(n);
    m->cur = malloc(n);
    m->tmp = malloc(sizeof(uint16_t) * n);
    m->bg = malloc(sizeof(float) * n);
    m->run = calloc(n, 1);
    m->thr = malloc(n);
    m->zbits = calloc(n, sizeof(uint16_t));
    m->cell = malloc(n);
    if (!m->x0 || !m->y0 || !m->xs || !m->small || !m->cur || !m->tmp || !m->bg || !m->run || !m->thr || !m->zbits || !m->cell) {
        reel_motion_model_free(m);
        return -ENOMEM;
    }
    for (int x = 0; x <= m->w; x++)
        m->x0[x] = (int)((int64_t)x * src_w / m->w);
    for (int y = 0; y <= m->h; y++)
        m->y0[y] = (int)((int64_t)y * src_h / m->h);
    for (int x = 0; x < m->w; x++) {
        int xa = m->x0[x], xb = m->x0[x + 1] > xa ? m->x0[x + 1] : xa + 1;
        m->xs[2 * x] = xa + (xb - xa) / 4;
        m->xs[2 * x + 1] = xa + (3 * (xb - xa)) / 4;
    }
    /* zones: event zones get indexes 0..nz-1 in the order given */
    int zi[REEL_MOTION_ZONES_MAX];
    for (int i = 0; i < c->nzones && i < REEL_MOTION_ZONES_MAX; i++) {
        const struct reel_motion_zone *z = &c->zones[i];
        zi[i] = -1;
        if (z->mask)
            continue;
        zi[i] = m->nz;
        snprintf(m->zname[m->nz], sizeof(m->zname[m->nz]), "%s", z->name);
        m->zmin[m->nz] = z->min_area;
        m->nz++;
    }
    uint8_t def_thr = threshold(c->sensitivity);
    for (int y = 0; y < m->h; y++)
        for (int x = 0; x < m->w; x++) {
            size_t p = (size_t)y * (size_t)m->w + (size_t)x;
            float px = ((float)x + 0.5f) / (float)m->w, py = ((float)y + 0.5f) / (float)m->h;
            uint16_t bits = 0;
            uint8_t t = def_thr;
            bool masked = false, any = false;
            for (int i = 0; i < c->nzones && i < REEL_MOTION_ZONES_MAX; i++) {
                const struct reel_motion_zone *z = &c->zones[i];
                if (!inside(z, px, py))
                    continue;
                if (z->mask) {
                    masked = true;
                    break;
                }
                bits |= (uint16_t)(1u << zi[i]);
                uint8_t zt = threshold(z->sensitivity);
                if (!any || zt < t)
                    t = zt;
                any = true;
            }
            m->cell[p] = (uint8_t)((y * REEL_GRID_H / m->h) * REEL_GRID_W + x * REEL_GRID_W / m->w);
            m->thr[p] = t;
            if (masked) {
                m->zbits[p] = MASKED;
                continue;
            }
            m->zbits[p] = bits;
            m->analysed++;
            m->cell_total[m->cell[p]]++;
            for (int k = 0; k < m->nz; k++)
                if (bits & (1u << k))
                    m->ztotal[k]++;
        }
    if (m->nz == 0) {                /* the whole picture but the masks */
        m->zname[0][0] = '\0';
        m->zmin[0] = c->min_area;
        m->ztotal[0] = m->analysed;
    }
    *ret = m;
    return 0;
}

/* The source luma into m->small: each analysis pixel is the mean of 2 x 2
 * source pixels spread over its block (at 1/4 and 3/4 of it), not of the
 * whole block: a quarter of the memory reads of a true area average for a
 * 640-wide picture, and the blur after it smooths what this skips. */
static void downscale(struct reel_motion_model *m, const uint8_t *luma, int stride)
{
    for (int y = 0; y < m->h; y++) {
        int ya = m->y0[y], yb = m->y0[y + 1];
        if (yb <= ya)
            yb = ya + 1;
        const uint8_t *r0 = luma + (size_t)(ya + (yb - ya) / 4) * (size_t)stride;
        const uint8_t *r1 = luma + (size_t)(ya + (3 * (yb - ya)) / 4) * (size_t)stride;
        uint8_t *out = m->small + (size_t)y * (size_t)m->w;
        for (int x = 0; x < m->w; x++) {
            int c0 = m->xs[2 * x], c1 = m->xs[2 * x + 1];
            out[x] = (uint8_t)(((unsigned)r0[c0] + r0[c1] + r1[c0] + r1[c1] + 2) / 4);
        }
    }
}

/* 3x3 box blur of m->small into m->cur, separable (a row pass into
 * m->tmp, then a column pass); edges use the pixels that exist. */
static void blur(struct reel_motion_model *m)
{
    int w = m->w, h = m->h;
    for (int y = 0; y < h; y++) {
        const uint8_t *in = m->small + (size_t)y * (size_t)w;
        uint16_t *out = m->tmp + (size_t)y * (size_t)w;
        out[0] = (uint16_t)((in[0] + in[1]) * 3 / 2);
        for (int x = 1; x < w - 1; x++)
            out[x] = (uint16_t)(in[x - 1] + in[x] + in[x + 1]);
        out[w - 1] = (uint16_t)((in[w - 2] + in[w - 1]) * 3 / 2);
    }
    for (int y = 0; y < h; y++) {
        const uint16_t *a = m->tmp + (size_t)(y > 0 ? y - 1 : y) * (size_t)w;
        const uint16_t *b = m->tmp + (size_t)y * (size_t)w;
        const uint16_t *c = m->tmp + (size_t)(y < h - 1 ? y + 1 : y) * (size_t)w;
        uint8_t *out = m->cur + (size_t)y * (size_t)w;
        for (int x = 0; x < w; x++)
            out[x] = (uint8_t)((a[x] + b[x] + c[x] + 4) / 9);
    }
}

static void set_background(struct reel_motion_model *m)
{
    size_t n = (size_t)m->w * (size_t)m->h;
    for (size_t p = 0; p < n; p++)
        m->bg[p] = m->cur[p];
    memset(m->run, 0, n);
}

void reel_motion_model_feed(struct reel_motion_model *m, const uint8_t *luma, int stride,
                            struct reel_motion_frame *out)
{
    memset(out, 0, sizeof(*out));
    out->nzones = m->nz ? m->nz : 1;
    for (int k = 0; k < out->nzones; k++)
        memcpy(out->zone_name[k], m->zname[k], sizeof(out->zone_name[k]));
    downscale(m, luma, stride);
    blur(m);
    if (!m->have_bg) {
        set_background(m);
        m->have_bg = true;
        return;
    }
    uint32_t cells[REEL_GRID_CELLS] = { 0 };
    uint32_t zmoved[REEL_MOTION_ZONES_MAX] = { 0 };
    uint32_t moved = 0;
    size_t n = (size_t)m->w * (size_t)m->h;
    float a = m->alpha, a_moved = m->alpha / 4;
    for (size_t p = 0; p < n; p++) {
        uint16_t bits = m->zbits[p];
        if (bits == MASKED)
            continue;
        float d = (float)m->cur[p] - m->bg[p];
        bool mv = (d < 0 ? -d : d) > (float)m->thr[p];
        m->bg[p] += (mv ? a_moved : a) * d;
        if (!mv) {
            m->run[p] = 0;
            continue;
        }
        if (++m->run[p] >= m->run_max) {
            /* changed for REEL_MOTION_STILL_SECONDS without a break: what moved
             * has stopped there (or was there when the background was taken) */
            m->bg[p] = m->cur[p];
            m->run[p] = 0;
        }
        moved++;
        cells[m->cell[p]]++;
        if (m->nz == 0)
            zmoved[0]++;
        else
            for (int k = 0; bits; k++, bits >>= 1)
                if (bits & 1)
                    zmoved[k]++;
    }
    uint32_t limit = m->settle > 0 ? REEL_MOTION_RECAL_SHARE / 2 : REEL_MOTION_RECAL_SHARE;
    if (m->settle > 0)
        m->settle--;
    if (m->analysed > 0 && (uint64_t)moved * 100 > (uint64_t)limit * m->analysed) {
        set_background(m);
        m->settle = REEL_MOTION_SETTLE_FRAMES;
        out->recalibrated = true;
        return;
    }
    out->share = m->analysed ? (int)((uint64_t)moved * 100 / m->analysed) : 0;
    for (int k = 0; k < out->nzones; k++) {
        uint32_t t = m->ztotal[k];
        out->zone_share[k] = t ? (int)((uint64_t)zmoved[k] * 100 / t) : 0;
        out->zone_moved[k] = t > 0 && zmoved[k] >= 2 && (double)zmoved[k] * 100.0 >= m->zmin[k] * (double)t;
    }
    for (int c = 0; c < REEL_GRID_CELLS; c++) {
        if (!m->cell_total[c] || !cells[c])
            continue;
        uint32_t lv = cells[c] * 255 / m->cell_total[c];
        out->cells.level[c] = (uint8_t)(lv < REEL_MOTION_CELL_MIN ? 0 : lv > 255 ? 255 : lv);
    }
}

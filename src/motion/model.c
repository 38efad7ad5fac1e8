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
    uint32_t *rowsum;                /* w sums of one analysis row */
    uint8_t *small, *cur;            /* downscaled, blurred */
    float *bg;
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
    free(m->rowsum);
    free(m->small);
    free(m->cur);
    free(m->bg);
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
    size_t n = (size_t)m->w * (size_t)m->h;
    m->x0 = malloc(sizeof(int) * (size_t)(m->w + 1));
    m->y0 = malloc(sizeof(int) * (size_t)(m->h + 1));
    m->rowsum = malloc(sizeof(uint32_t) * (size_t)m->w);
    m->small = malloc(n);
    m->cur = malloc(n);
    m->bg = malloc(sizeof(float) * n);
    m->thr = malloc(n);
    m->zbits = calloc(n, sizeof(uint16_t));
    m->cell = malloc(n);
    if (!m->x0 || !m->y0 || !m->rowsum || !m->small || !m->cur || !m->bg || !m->thr || !m->zbits || !m->cell) {
        reel_motion_model_free(m);
        return -ENOMEM;
    }
    for (int x = 0; x <= m->w; x++)
        m->x0[x] = (int)((int64_t)x * src_w / m->w);
    for (int y = 0; y <= m->h; y++)
        m->y0[y] = (int)((int64_t)y * src_h / m->h);
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

/* Area average of the source luma into m->small. */
static void downscale(struct reel_motion_model *m, const uint8_t *luma, int stride)
{
    for (int y = 0; y < m->h; y++) {
        memset(m->rowsum, 0, sizeof(uint32_t) * (size_t)m->w);
        int ya = m->y0[y], yb = m->y0[y + 1];
        if (yb <= ya)
            yb = ya + 1;
        for (int sy = ya; sy < yb; sy++) {
            const uint8_t *row = luma + (size_t)sy * (size_t)stride;
            for (int x = 0; x < m->w; x++) {
                uint32_t s = 0;
                int xa = m->x0[x], xb = m->x0[x + 1];
                if (xb <= xa)
                    xb = xa + 1;
                for (int sx = xa; sx < xb; sx++)
                    s += row[sx];
                m->rowsum[x] += s;
            }
        }
        uint8_t *out = m->small + (size_t)y * (size_t)m->w;
        for (int x = 0; x < m->w; x++) {
            int xa = m->x0[x], xb = m->x0[x + 1];
            uint32_t cnt = (uint32_t)((xb > xa ? xb - xa : 1) * (yb - ya));
            out[x] = (uint8_t)(m->rowsum[x] / cnt);
        }
    }
}

/* 3x3 box blur of m->small into m->cur (edges: the pixels that exist). */
static void blur(struct reel_motion_model *m)
{
    int w = m->w, h = m->h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned s = 0, n = 0;
            for (int dy = -1; dy <= 1; dy++) {
                int yy = y + dy;
                if (yy < 0 || yy >= h)
                    continue;
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = x + dx;
                    if (xx < 0 || xx >= w)
                        continue;
                    s += m->small[(size_t)yy * (size_t)w + (size_t)xx];
                    n++;
                }
            }
            m->cur[(size_t)y * (size_t)w + (size_t)x] = (uint8_t)(s / n);
        }
}

static void set_background(struct reel_motion_model *m)
{
    size_t n = (size_t)m->w * (size_t)m->h;
    for (size_t p = 0; p < n; p++)
        m->bg[p] = m->cur[p];
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
        if (!mv)
            continue;
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

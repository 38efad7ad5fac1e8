/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Motion search and activity (search.h): one pass over the range's rows
 * (mstore.c), each matched through reel_grid_match_cells() (the minute's OR
 * bitmap first), seconds merged into moments on the fly.
 */
#include "motion/search.h"

#include <errno.h>
#include <string.h>

#include "motion/mstore.h"

#define SEC90K 90000

struct search_ctx {
    const struct reel_msearch_query *q;
    struct reel_msearch_moment *out;
    size_t cap, n;
    struct reel_msearch_moment cur;
    bool have;
    struct reel_msearch_stats *st;
};

/* Ends the current moment; 1 when out is full (more moments follow). */
static int flush(struct search_ctx *c)
{
    if (!c->have)
        return 0;
    if (c->n == c->cap) {
        c->st->truncated = true;
        return 1;
    }
    c->out[c->n++] = c->cur;
    c->have = false;
    return 0;
}

static int search_row(void *ctx, int64_t minute90k, const uint8_t *blob, size_t len)
{
    struct search_ctx *c = ctx;
    c->st->minutes_scanned++;
    uint16_t cells[60];
    uint64_t secs = reel_grid_match_cells(blob, len, c->q->region, c->q->min_cells, c->q->min_level, cells);
    while (secs) {
        unsigned s = (unsigned)__builtin_ctzll(secs);
        secs &= secs - 1;
        int64_t t = minute90k + (int64_t)s * SEC90K;
        if (t + SEC90K <= c->q->from90k || t >= c->q->to90k)
            continue;
        if (c->have && t - c->cur.end90k <= REEL_MSEARCH_GAP90K) {
            c->cur.end90k = t + SEC90K;
            c->cur.seconds++;
            if (cells[s] > c->cur.peak_cells)
                c->cur.peak_cells = cells[s];
            continue;
        }
        if (flush(c))
            return 1;
        c->cur = (struct reel_msearch_moment){ t, t + SEC90K, 1, cells[s] };
        c->have = true;
    }
    return 0;
}

int reel_msearch_run(sqlite3 *db, const struct reel_msearch_query *q, struct reel_msearch_moment *out, size_t cap,
                     size_t *ret_n, struct reel_msearch_stats *ret_stats, struct reel_err *err)
{
    memset(ret_stats, 0, sizeof(*ret_stats));
    *ret_n = 0;
    if (!cap || q->min_cells < 1 || q->min_cells > REEL_GRID_CELLS || q->min_level < 1 || q->min_level > 255 ||
        q->to90k <= q->from90k)
        return reel_err_set(err, EINVAL, "motion search: bad query");
    struct search_ctx c = { .q = q, .out = out, .cap = cap, .st = ret_stats };
    int r = reel_mstore_each(db, q->camera_id, q->from90k, q->to90k, search_row, &c, &ret_stats->corrupt, err);
    if (r < 0)
        return r;
    if (r == 0)
        flush(&c);
    *ret_n = c.n;
    return 0;
}

struct act_ctx {
    int64_t from, to, step;
    unsigned nb;
    int64_t *acc;
    struct reel_msearch_stats *st;
};

static int act_row(void *ctx, int64_t minute90k, const uint8_t *blob, size_t len)
{
    struct act_ctx *c = ctx;
    c->st->minutes_scanned++;
    uint64_t secs = reel_grid_seconds(blob, len);
    while (secs) {
        unsigned s = (unsigned)__builtin_ctzll(secs);
        secs &= secs - 1;
        int64_t a = minute90k + (int64_t)s * SEC90K, b = a + SEC90K;
        if (a < c->from)
            a = c->from;
        if (b > c->to)
            b = c->to;
        if (a >= b)
            continue;
        for (int64_t k = (a - c->from) / c->step; k < c->nb; k++) {
            int64_t lo = c->from + k * c->step, hi = lo + c->step;
            if (lo >= b)
                break;
            int64_t x = a > lo ? a : lo, y = b < hi ? b : hi;
            if (y > x)
                c->acc[k] += y - x;
        }
    }
    return 0;
}

int reel_msearch_activity(sqlite3 *db, int64_t camera_id, int64_t from90k, int64_t to90k, unsigned nbuckets,
                          uint8_t *levels, int64_t *ret_step90k, struct reel_msearch_stats *ret_stats,
                          struct reel_err *err)
{
    memset(ret_stats, 0, sizeof(*ret_stats));
    if (nbuckets < 1 || nbuckets > REEL_MSEARCH_BUCKETS_MAX || to90k <= from90k)
        return reel_err_set(err, EINVAL, "motion activity: bad query");
    int64_t acc[REEL_MSEARCH_BUCKETS_MAX] = { 0 };
    int64_t step = (to90k - from90k + nbuckets - 1) / nbuckets;
    struct act_ctx c = { from90k, to90k, step, nbuckets, acc, ret_stats };
    int r = reel_mstore_each(db, camera_id, from90k, to90k, act_row, &c, &ret_stats->corrupt, err);
    if (r < 0)
        return r;
    for (unsigned k = 0; k < nbuckets; k++) {
        int64_t lo = from90k + k * step, hi = lo + step > to90k ? to90k : lo + step;
        int64_t span = hi - lo;
        int64_t pct = span > 0 ? (acc[k] * 100 + span - 1) / span : 0;
        levels[k] = (uint8_t)(pct > 100 ? 100 : pct);
    }
    *ret_step90k = step;
    return 0;
}

struct second_ctx {
    unsigned s;
    struct reel_grid_second *out;
};

static int second_row(void *ctx, int64_t minute90k, const uint8_t *blob, size_t len)
{
    struct second_ctx *c = ctx;
    reel_grid_second_get(blob, len, c->s, c->out);
    return 1;
}

int reel_msearch_second(sqlite3 *db, int64_t camera_id, int64_t at90k, struct reel_grid_second *out,
                        struct reel_err *err)
{
    memset(out, 0, sizeof(*out));
    if (at90k < 0)
        return reel_err_set(err, EINVAL, "motion grid: bad time");
    int64_t minute = at90k / REEL_GRID_MINUTE90K * REEL_GRID_MINUTE90K;
    struct second_ctx c = { (unsigned)((at90k - minute) / SEC90K), out };
    int r = reel_mstore_each(db, camera_id, minute, minute + REEL_GRID_MINUTE90K, second_row, &c, NULL, err);
    return r < 0 ? r : 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Motion search and activity over a camera's motion grid (motion_minute
 * rows, grid.h): which seconds of a range had at least min_cells cells of a
 * region moving at a level >= min_level, merged into moments; and the share
 * of seconds with any motion per bucket of a range (the timeline's bars).
 * Each reads its rows in one statement (one read transaction) and allocates
 * nothing per row: rows go through the grid's OR bitmap first.
 *
 * Ownership: every buffer is the caller's; db is the caller's connection.
 */
#ifndef REEL_MOTION_SEARCH_H
#define REEL_MOTION_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "base/log.h"
#include "motion/grid.h"

#define REEL_MSEARCH_GAP90K (2 * 90000)     /* seconds at most this far apart share a moment */
#define REEL_MSEARCH_LIMIT_MAX 10000
#define REEL_MSEARCH_BUCKETS_MAX 2000

struct reel_msearch_query {
    int64_t camera_id;
    int64_t from90k, to90k;                   /* [from, to); seconds are clipped to it */
    uint8_t region[REEL_GRID_BITS_BYTES];     /* grid.h bit order */
    unsigned min_cells;                       /* 1..256 */
    unsigned min_level;                       /* 1..255 */
};

/* Seconds with motion in the region, merged when the next starts at most
 * REEL_MSEARCH_GAP90K after the last one ended. */
struct reel_msearch_moment {
    int64_t start90k, end90k;
    unsigned seconds;         /* matching seconds in it */
    unsigned peak_cells;      /* the most region cells that moved in one of them */
};

struct reel_msearch_stats {
    int64_t minutes_scanned;  /* rows read */
    int64_t corrupt;          /* rows refused by reel_grid_check (skipped) */
    bool truncated;           /* more moments than cap (the oldest cap are given) */
};

/* Fills out[0..cap) with the moments of q, oldest first; *ret_n their
 * number. -EINVAL for a bad query (cap 0, min_cells/min_level out of range,
 * to <= from), else reel_mstore_each()'s errors. */
int reel_msearch_run(sqlite3 *db, const struct reel_msearch_query *q, struct reel_msearch_moment *out, size_t cap,
                     size_t *ret_n, struct reel_msearch_stats *ret_stats, struct reel_err *err);

/* Activity of camera_id over [from90k, to90k) in nbuckets (1..
 * REEL_MSEARCH_BUCKETS_MAX) buckets of *ret_step90k each (the last may end
 * after to): levels[b] = percent (0..100, rounded up: any motion is >= 1)
 * of the bucket's time (within the range) covered by seconds with motion. */
int reel_msearch_activity(sqlite3 *db, int64_t camera_id, int64_t from90k, int64_t to90k, unsigned nbuckets,
                          uint8_t *levels, int64_t *ret_step90k, struct reel_msearch_stats *ret_stats,
                          struct reel_err *err);

/* The levels of the second at at90k (zeros when it had no motion). */
int reel_msearch_second(sqlite3 *db, int64_t camera_id, int64_t at90k, struct reel_grid_second *out,
                        struct reel_err *err);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The motion grid (issue 15): which cells of a 16x16 grid over the picture
 * moved in each second, and how much, stored one row per camera and minute
 * (table motion_minute, data BLOB). Pure functions, no I/O.
 *
 * Blob format (version 1), little-endian:
 *   u8  version = 1
 *   u8  nsec    number of second records that follow (1..60; a minute
 *               without motion has no row)
 *   32 bytes    the OR of every record's cell bits (skips the minute fast)
 *   nsec records, seconds increasing:
 *     u8  second within the minute (0..59)
 *     32 bytes    cell bits: bit (y * 16 + x) of the 256, byte b = bit/8,
 *                 bit (bit % 8), x from the left, y from the top
 *     popcount bytes  the level of each set cell in bit order, 1..255
 *                 (the share of the cell's analysed pixels that changed,
 *                 scaled to 255, at its peak within the second)
 * A second with no cell set has no record. Cost: 34 B + 33 B per second
 * with motion + 1 B per moving cell; a still scene costs nothing.
 *
 * Ownership: the caller's buffers; nothing allocated but where said.
 */
#ifndef REEL_MOTION_GRID_H
#define REEL_MOTION_GRID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

#define REEL_GRID_W 16
#define REEL_GRID_H 16
#define REEL_GRID_CELLS 256
#define REEL_GRID_BITS_BYTES 32
#define REEL_GRID_MINUTE_MAX (2 + 32 + 60 * (1 + 32 + 256))  /* largest blob */
#define REEL_GRID_MINUTE90K (60LL * 90000)

/* One second's motion: level per cell, 0 = still. */
struct reel_grid_second {
    uint8_t level[REEL_GRID_CELLS];
};

/* Builds a minute's blob from up to 60 seconds (sec[i] NULL or all-zero:
 * no record). out has REEL_GRID_MINUTE_MAX bytes; *len 0 when no second
 * moved (write no row). */
void reel_grid_encode(const struct reel_grid_second *const sec[60], uint8_t *out, size_t *len);

/* Checks a blob (hostile: a corrupt row is refused, never read past):
 * -EINVAL with err naming what is wrong. */
int reel_grid_check(const uint8_t *blob, size_t len, struct reel_err *err);

/* Decodes second s (0..59) of a checked blob into *out (zeros when no
 * record). */
void reel_grid_second_get(const uint8_t *blob, size_t len, unsigned s, struct reel_grid_second *out);

/* Search: the seconds of a checked blob in which at least min_cells cells
 * of region (256-bit mask, same bit order) moved with a level >= min_level.
 * Sets bit s of *ret_seconds (uint64_t, bits 0..59). Returns the count. */
int reel_grid_match(const uint8_t *blob, size_t len, const uint8_t region[REEL_GRID_BITS_BYTES],
                    unsigned min_cells, unsigned min_level, uint64_t *ret_seconds);

/* Added by mo-search (not in the prep header): reel_grid_match() with the
 * number of matching region cells of each matching second in ret_cells[s]
 * (0 elsewhere; ret_cells may be NULL). Returns the seconds bitmap. */
uint64_t reel_grid_match_cells(const uint8_t *blob, size_t len, const uint8_t region[REEL_GRID_BITS_BYTES],
                               unsigned min_cells, unsigned min_level, uint16_t ret_cells[60]);

/* Added by mo-search: bit s set for each second (0..59) of a checked blob
 * that has a record (any cell moved). */
uint64_t reel_grid_seconds(const uint8_t *blob, size_t len);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The motion grid's rows in reel.db (table motion_minute: one row per
 * camera and minute that had motion, blob format in motion/grid.h): put a
 * minute, read a camera's rows over a range, prune old rows. Each function
 * takes the caller's connection (sqlite3 *), used by one thread at a time:
 * the detector's worker thread uses its own; the HTTP handlers theirs.
 *
 * Ownership: blobs are the caller's (put) or SQLite's (each: valid only
 * during the callback). Nothing is allocated.
 */
#ifndef REEL_MOTION_MSTORE_H
#define REEL_MOTION_MSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "base/log.h"

/* Stores the minute starting at minute90k (a multiple of REEL_GRID_MINUTE90K)
 * of camera_id: INSERT OR REPLACE of the blob after reel_grid_check() (a
 * corrupt blob is -EINVAL and not written). len 0 (no second moved) deletes
 * the minute's row if any. Runs in its own transaction unless the caller
 * has one open. -EINVAL bad arguments, else reel_db_err()'s codes (-EBUSY
 * after the busy timeout, -EINVAL for an unknown camera: foreign key). */
int reel_mstore_put(sqlite3 *db, int64_t camera_id, int64_t minute90k, const uint8_t *blob, size_t len,
                    struct reel_err *err);

/* Called for each checked row, minutes increasing. Return 0 to go on,
 * > 0 to stop (reel_mstore_each() returns that value), < 0 to fail. */
typedef int (*reel_mstore_row_fn)(void *ctx, int64_t minute90k, const uint8_t *blob, size_t len);

/* The rows of camera_id whose minute overlaps [from90k, to90k), in one read
 * statement (one read transaction: a consistent snapshot while the detector
 * writes). Rows that fail reel_grid_check() are skipped and counted in
 * *ret_corrupt (may be NULL). Returns 0, fn's non-zero value, or a negative
 * errno. */
int reel_mstore_each(sqlite3 *db, int64_t camera_id, int64_t from90k, int64_t to90k, reel_mstore_row_fn fn,
                     void *ctx, int64_t *ret_corrupt, struct reel_err *err);

/* Deletes camera_id's rows of minutes that end at or before before90k
 * (every camera when camera_id < 0). Returns the number of rows deleted. */
int reel_mstore_prune(sqlite3 *db, int64_t camera_id, int64_t before90k, struct reel_err *err);

#endif

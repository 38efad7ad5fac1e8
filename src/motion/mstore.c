/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * motion_minute rows in and out of reel.db (see mstore.h). Statements are
 * prepared per call: a put is once a minute per camera, a read is one
 * statement over the whole range.
 */
#include "motion/mstore.h"

#include <errno.h>

#include "db/db.h"
#include "motion/grid.h"

int reel_mstore_put(sqlite3 *db, int64_t camera_id, int64_t minute90k, const uint8_t *blob, size_t len,
                    struct reel_err *err)
{
    if (camera_id <= 0 || minute90k < 0 || minute90k % REEL_GRID_MINUTE90K != 0)
        return reel_err_set(err, EINVAL, "motion grid: camera %lld minute %lld is not a minute start",
                            (long long)camera_id, (long long)minute90k);
    if (len) {
        int r = reel_grid_check(blob, len, err);
        if (r < 0)
            return r;
    }
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, len ? "INSERT OR REPLACE INTO motion_minute (camera_id, minute90k, data) VALUES (?, ?, ?)"
                                    : "DELETE FROM motion_minute WHERE camera_id = ? AND minute90k = ?",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, minute90k);
    if (len)
        sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    r = rc == SQLITE_DONE ? 0 : reel_db_err(db, rc, err, "storing a motion minute");
    sqlite3_finalize(st);
    return r;
}

int reel_mstore_each(sqlite3 *db, int64_t camera_id, int64_t from90k, int64_t to90k, reel_mstore_row_fn fn,
                     void *ctx, int64_t *ret_corrupt, struct reel_err *err)
{
    int64_t corrupt = 0;
    if (ret_corrupt)
        *ret_corrupt = 0;
    if (to90k <= from90k)
        return 0;
    sqlite3_stmt *st;
    int r = reel_db_prepare(db,
        "SELECT minute90k, data FROM motion_minute WHERE camera_id = ? AND minute90k > ? AND minute90k < ? "
        "ORDER BY minute90k", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, from90k - REEL_GRID_MINUTE90K);
    sqlite3_bind_int64(st, 3, to90k);
    int rc;
    r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *blob = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (reel_grid_check(blob, len, NULL) < 0) {
            corrupt++;
            continue;
        }
        r = fn(ctx, sqlite3_column_int64(st, 0), blob, len);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = reel_db_err(db, rc, err, "reading motion minutes");
    sqlite3_finalize(st);
    if (ret_corrupt)
        *ret_corrupt = corrupt;
    return r;
}

int reel_mstore_prune(sqlite3 *db, int64_t camera_id, int64_t before90k, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, camera_id < 0 ? "DELETE FROM motion_minute WHERE minute90k <= ?1"
                                              : "DELETE FROM motion_minute WHERE minute90k <= ?1 AND camera_id = ?2",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, before90k - REEL_GRID_MINUTE90K);
    if (camera_id >= 0)
        sqlite3_bind_int64(st, 2, camera_id);
    int rc = sqlite3_step(st);
    r = rc == SQLITE_DONE ? sqlite3_changes(db) : reel_db_err(db, rc, err, "pruning motion minutes");
    sqlite3_finalize(st);
    return r;
}

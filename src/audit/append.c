/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Appending to the audit log: one BEGIN IMMEDIATE transaction takes the
 * database's write lock before reading the last row, so two writers (other
 * threads or processes, each with its own connection) can never both chain
 * to the same row; the second waits (busy timeout) and chains to the first.
 */
#include <errno.h>
#include <string.h>

#include "audit/audit.h"
#include "db/db.h"

int reel_audit_append(sqlite3 *db, const struct reel_audit_rec *rec, int64_t *ret_id, struct reel_err *err)
{
    struct reel_audit_rec e = *rec;
    if (!e.user) e.user = "";
    if (!e.via) e.via = "";
    if (!e.addr) e.addr = "";
    if (!e.action) e.action = "";
    if (!e.camera) e.camera = "";
    if (!e.detail) e.detail = "{}";
    e.id = 0;
    memset(e.prev, 0, sizeof(e.prev));
    uint8_t probe[REEL_AUDIT_HASH];
    if (reel_audit_hash(&e, probe) < 0)
        return reel_err_set(err, EINVAL, "audit entry %s: a field is over its cap", e.action);
    int r = reel_db_exec(db, "BEGIN IMMEDIATE", err);
    if (r < 0)
        return r;
    sqlite3_stmt *st = NULL;
    r = reel_db_prepare(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &st, err);
    if (r == 0) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            e.id = sqlite3_column_int64(st, 0) + 1;
            const void *h = sqlite3_column_blob(st, 1);
            if (h && sqlite3_column_bytes(st, 1) == REEL_AUDIT_HASH)
                memcpy(e.prev, h, REEL_AUDIT_HASH);
            else
                r = reel_err_set(err, EPROTO, "audit log: entry %lld has no valid hash (run reel audit verify)",
                                 (long long)(e.id - 1));
        } else if (rc == SQLITE_DONE) {
            e.id = 1;
        } else {
            r = reel_db_err(db, rc, err, "reading the audit log's last entry");
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (r == 0) {
        reel_audit_hash(&e, e.hash);
        r = reel_db_prepare(db, "INSERT INTO audit (id, ts_ns, user, via, addr, action, camera, detail, prev, hash) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, err);
    }
    if (r == 0) {
        sqlite3_bind_int64(st, 1, e.id);
        sqlite3_bind_int64(st, 2, e.ts_ns);
        sqlite3_bind_text(st, 3, e.user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, e.via, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, e.addr, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, e.action, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, e.camera, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, e.detail, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 9, e.prev, REEL_AUDIT_HASH, SQLITE_STATIC);
        sqlite3_bind_blob(st, 10, e.hash, REEL_AUDIT_HASH, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            r = reel_db_err(db, rc, err, "appending to the audit log");
        sqlite3_finalize(st);
    }
    if (r == 0)
        r = reel_db_exec(db, "COMMIT", err);
    if (r < 0) {
        reel_db_rollback(db);
        return r;
    }
    if (ret_id)
        *ret_id = e.id;
    return 0;
}

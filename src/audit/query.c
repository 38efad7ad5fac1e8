/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reading the audit log with filters (see audit.h): one prepared statement
 * whose unused filters are bound to values that match everything.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "db/db.h"

int reel_audit_query(sqlite3 *db, const struct reel_audit_filter *f,
                     int (*fn)(const struct reel_audit_rec *rec, void *arg), void *arg, bool *ret_more,
                     struct reel_err *err)
{
    int64_t limit = f->limit <= 0 || f->limit > REEL_AUDIT_LIMIT_MAX ? REEL_AUDIT_LIMIT_MAX : f->limit;
    const char *action = f->action && *f->action ? f->action : NULL;
    bool prefix = action && action[strlen(action) - 1] == '.';
    char sql[720];
    snprintf(sql, sizeof(sql),
             "SELECT id, ts_ns, user, via, addr, action, camera, detail, prev, hash FROM audit WHERE "
             "(?1 = 0 OR ts_ns >= ?1) AND (?2 = 0 OR ts_ns < ?2) AND (?3 IS NULL OR user = ?3) AND "
             "(?4 IS NULL OR %s) AND (?5 IS NULL OR camera = ?5) AND (?6 = 0 OR id < ?6) AND (?7 = 0 OR id > ?7) "
             "ORDER BY id %s LIMIT ?8",
             prefix ? "substr(action, 1, length(?4)) = ?4" : "action = ?4", f->oldest_first ? "ASC" : "DESC");
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, f->since_ns);
    sqlite3_bind_int64(st, 2, f->until_ns);
    if (f->user && *f->user)
        sqlite3_bind_text(st, 3, f->user, -1, SQLITE_STATIC);
    if (action)
        sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
    if (f->camera && *f->camera)
        sqlite3_bind_text(st, 5, f->camera, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, f->before_id);
    sqlite3_bind_int64(st, 7, f->after_id);
    sqlite3_bind_int64(st, 8, limit + 1);
    int64_t n = 0;
    int rc;
    bool more = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) {
            more = true;
            break;
        }
        struct reel_audit_rec e;
        e.id = sqlite3_column_int64(st, 0);
        e.ts_ns = sqlite3_column_int64(st, 1);
        const char **fl[] = { &e.user, &e.via, &e.addr, &e.action, &e.camera, &e.detail };
        for (int i = 0; i < 6; i++) {
            const char *t = (const char *)sqlite3_column_text(st, 2 + i);
            *fl[i] = t ? t : "";
        }
        memset(e.prev, 0, sizeof(e.prev));
        memset(e.hash, 0, sizeof(e.hash));
        if (sqlite3_column_bytes(st, 8) == REEL_AUDIT_HASH)
            memcpy(e.prev, sqlite3_column_blob(st, 8), REEL_AUDIT_HASH);
        if (sqlite3_column_bytes(st, 9) == REEL_AUDIT_HASH)
            memcpy(e.hash, sqlite3_column_blob(st, 9), REEL_AUDIT_HASH);
        n++;
        r = fn(&e, arg);
        if (r != 0)
            break;
    }
    if (r == 0 && !more && rc != SQLITE_DONE)
        r = reel_db_err(db, rc, err, "reading the audit log");
    sqlite3_finalize(st);
    if (ret_more)
        *ret_more = more;
    return r;
}

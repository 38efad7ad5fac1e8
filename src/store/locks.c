/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Evidence locks and the retention cap: see locks.h. What the locks do to
 * deletion is in syncer.c (retention, disk full), through REEL__LOCKED_SQL.
 */
#include "store/locks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

_Static_assert(REEL_LOCK_CAMERAS_MAX == 64, "the LIMIT in read_locks");

static bool text_ok(const char *t, size_t cap)
{
    size_t n = strnlen(t, cap);
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
            return false;
    return true;
}

static int64_t now_ns(struct reel_store *s) { return reel_clock_wall(s->clock); }

static int writable(struct reel_store *s, struct reel_err *err)
{
    if (s->cfg.mode == REEL_STORE_READ)
        return reel_err_set(err, EROFS, "evidence locks: store opened read-only");
    return 0;
}

static int check_expiry(struct reel_store *s, int64_t expires_ns, struct reel_err *err)
{
    if (expires_ns < 0 || (expires_ns > 0 && expires_ns <= now_ns(s)))
        return reel_err_set(err, EINVAL, "expiry: must be in the future (or none)");
    return 0;
}

int reel_store_lock_add(struct reel_store *s, struct reel_lock *l, struct reel_err *err)
{
    int r = writable(s, err);
    if (r < 0)
        return r;
    if (!text_ok(l->case_name, sizeof(l->case_name)))
        return reel_err_set(err, EINVAL, "case: expected 1-%zu characters, no control characters",
                            sizeof(l->case_name) - 1);
    if (!text_ok(l->reason, sizeof(l->reason)))
        return reel_err_set(err, EINVAL, "reason: expected 1-%zu characters, no control characters",
                            sizeof(l->reason) - 1);
    if (!text_ok(l->created_by, sizeof(l->created_by)))
        return reel_err_set(err, EINVAL, "lock: no user given");
    if (l->end90k <= l->start90k || l->start90k < 0)
        return reel_err_set(err, EINVAL, "range: end must be after start");
    if (l->ncameras == 0 || l->ncameras > REEL_LOCK_CAMERAS_MAX)
        return reel_err_set(err, EINVAL, "cameras: expected 1-%d cameras", REEL_LOCK_CAMERAS_MAX);
    if ((r = check_expiry(s, l->expires_ns, err)) < 0)
        return r;
    int64_t ids[REEL_LOCK_CAMERAS_MAX];
    for (size_t i = 0; i < l->ncameras; i++) {
        struct reel_camera c;
        struct reel_err e2;
        r = reel_store_camera_get(s, l->cameras[i], &c, &e2);
        if (r == -ENOENT || (r == 0 && c.parent_id != 0))
            return reel_err_set(err, ENOENT, "no such camera '%s'", l->cameras[i]);
        if (r < 0) {
            *err = e2;
            return r;
        }
        for (size_t j = 0; j < i; j++)
            if (ids[j] == c.id)
                return reel_err_set(err, EINVAL, "cameras: '%s' given twice", l->cameras[i]);
        ids[i] = c.id;
    }
    l->created_ns = now_ns(s);
    if ((r = reel__db_exec(s->db, "BEGIN IMMEDIATE", err)) < 0)
        return r;
    sqlite3_stmt *st = NULL;
    r = reel_db_prepare(s->db,
                        "INSERT INTO evidence_lock (start90k, end90k, case_name, reason, created_by, created_ns, "
                        "expires_ns) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        &st, err);
    if (r == 0) {
        sqlite3_bind_int64(st, 1, l->start90k);
        sqlite3_bind_int64(st, 2, l->end90k);
        sqlite3_bind_text(st, 3, l->case_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, l->reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, l->created_by, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, l->created_ns);
        sqlite3_bind_int64(st, 7, l->expires_ns);
        int rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? 0 : reel__db_err(s->db, rc, err, "adding a lock");
        sqlite3_finalize(st);
        st = NULL;
    }
    l->id = sqlite3_last_insert_rowid(s->db);
    if (r == 0)
        r = reel_db_prepare(s->db, "INSERT INTO evidence_lock_camera (lock_id, camera_id) VALUES (?, ?)", &st, err);
    for (size_t i = 0; r == 0 && i < l->ncameras; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, l->id);
        sqlite3_bind_int64(st, 2, ids[i]);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            r = reel__db_err(s->db, rc, err, "adding a lock's camera");
    }
    sqlite3_finalize(st);
    if (r == 0)
        r = reel__db_exec(s->db, "COMMIT", err);
    if (r < 0) {
        reel_db_rollback(s->db);
        return r;
    }
    l->active = true;
    l->held_bytes = 0;
    return 0;
}

/* Fills the lock rows selected by where (binding ?1 = the argument) into
 * *ret, at most max. */
static int read_locks(struct reel_store *s, const char *where, int64_t arg, size_t max, struct reel_lock **ret,
                      size_t *ret_n, struct reel_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT id, start90k, end90k, case_name, reason, created_by, created_ns, expires_ns FROM evidence_lock "
             "%s ORDER BY id DESC LIMIT %zu",
             where, max);
    sqlite3_stmt *st, *cams = NULL, *held = NULL;
    int r = reel_db_prepare(s->db, sql, &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, arg);
    r = reel_db_prepare(s->db,
                        "SELECT c.name FROM evidence_lock_camera lc JOIN camera c ON c.id = lc.camera_id "
                        "WHERE lc.lock_id = ? ORDER BY c.name LIMIT 64",
                        &cams, err);
    if (r == 0)
        r = reel_db_prepare(s->db,
                            "SELECT COALESCE(SUM(r.bytes), 0) FROM recording r JOIN camera c ON c.id = r.camera_id "
                            "WHERE (c.id IN (SELECT camera_id FROM evidence_lock_camera WHERE lock_id = ?1) "
                            "OR c.parent_id IN (SELECT camera_id FROM evidence_lock_camera WHERE lock_id = ?1)) "
                            "AND r.start90k < ?3 AND r.start90k + r.wall_duration90k > ?2",
                            &held, err);
    struct reel_lock *v = NULL;
    size_t n = 0, alloc = 0;
    int64_t now = now_ns(s);
    int rc = SQLITE_DONE;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 16) < 0) {
            r = reel_err_set(err, ENOMEM, "out of memory");
            break;
        }
        struct reel_lock *l = &v[n++];
        memset(l, 0, sizeof(*l));
        l->id = sqlite3_column_int64(st, 0);
        l->start90k = sqlite3_column_int64(st, 1);
        l->end90k = sqlite3_column_int64(st, 2);
        reel__fmt(l->case_name, sizeof(l->case_name), "%s", (const char *)sqlite3_column_text(st, 3));
        reel__fmt(l->reason, sizeof(l->reason), "%s", (const char *)sqlite3_column_text(st, 4));
        reel__fmt(l->created_by, sizeof(l->created_by), "%s", (const char *)sqlite3_column_text(st, 5));
        l->created_ns = sqlite3_column_int64(st, 6);
        l->expires_ns = sqlite3_column_int64(st, 7);
        l->active = l->expires_ns == 0 || l->expires_ns > now;
        sqlite3_reset(cams);
        sqlite3_bind_int64(cams, 1, l->id);
        int rc2;
        while ((rc2 = sqlite3_step(cams)) == SQLITE_ROW && l->ncameras < REEL_LOCK_CAMERAS_MAX)
            reel__fmt(l->cameras[l->ncameras++], REEL_NAME_MAX, "%s", (const char *)sqlite3_column_text(cams, 0));
        if (rc2 != SQLITE_ROW && rc2 != SQLITE_DONE) {
            r = reel__db_err(s->db, rc2, err, "reading a lock's cameras");
            break;
        }
        if (l->active) {
            sqlite3_reset(held);
            sqlite3_bind_int64(held, 1, l->id);
            sqlite3_bind_int64(held, 2, l->start90k);
            sqlite3_bind_int64(held, 3, l->end90k);
            rc2 = sqlite3_step(held);
            if (rc2 != SQLITE_ROW) {
                r = reel__db_err(s->db, rc2, err, "reading a lock's footage");
                break;
            }
            l->held_bytes = sqlite3_column_int64(held, 0);
        }
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = reel__db_err(s->db, rc, err, "reading locks");
    sqlite3_finalize(st);
    sqlite3_finalize(cams);
    sqlite3_finalize(held);
    if (r < 0) {
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_store_lock_get(struct reel_store *s, int64_t id, struct reel_lock *ret, struct reel_err *err)
{
    struct reel_lock *v;
    size_t n;
    int r = read_locks(s, "WHERE id = ?1", id, 1, &v, &n, err);
    if (r < 0)
        return r;
    if (n == 0) {
        free(v);
        return reel_err_set(err, ENOENT, "no lock %" PRId64, id);
    }
    *ret = v[0];
    free(v);
    return 0;
}

int reel_store_lock_list(struct reel_store *s, struct reel_lock **ret, size_t *ret_n, struct reel_err *err)
{
    return read_locks(s, "WHERE ?1 = ?1", 0, REEL_LOCK_LIST_MAX, ret, ret_n, err);
}

static int exec_one(struct reel_store *s, const char *sql, int64_t id, const char *text, int64_t num, bool ch,
                    struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(s->db, sql, &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    if (text)
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, num);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return reel__db_err(s->db, rc, err, "changing a lock");
    if (ch && sqlite3_changes(s->db) == 0)
        return reel_err_set(err, ENOENT, "no lock %" PRId64, id);
    return 0;
}

int reel_store_lock_change(struct reel_store *s, int64_t id, const char *case_name, bool set_expires,
                           int64_t expires_ns, struct reel_err *err)
{
    int r = writable(s, err);
    if (r < 0)
        return r;
    if (case_name && !text_ok(case_name, REEL_LOCK_CASE_MAX))
        return reel_err_set(err, EINVAL, "case: expected 1-%d characters, no control characters",
                            REEL_LOCK_CASE_MAX - 1);
    if (set_expires && (r = check_expiry(s, expires_ns, err)) < 0)
        return r;
    struct reel_lock cur;
    if ((r = reel_store_lock_get(s, id, &cur, err)) < 0)
        return r;
    if (case_name && (r = exec_one(s, "UPDATE evidence_lock SET case_name = ?2 WHERE id = ?1", id, case_name, 0,
                                   true, err)) < 0)
        return r;
    if (set_expires)
        r = exec_one(s, "UPDATE evidence_lock SET expires_ns = ?2 WHERE id = ?1", id, NULL, expires_ns, true, err);
    return r;
}

int reel_store_lock_remove(struct reel_store *s, int64_t id, struct reel_err *err)
{
    int r = writable(s, err);
    if (r < 0)
        return r;
    return exec_one(s, "DELETE FROM evidence_lock WHERE id = ?1", id, NULL, 0, true, err);
}

int reel_store_locked_bytes(struct reel_store *s, int64_t camera_id, int64_t *ret, struct reel_err *err)
{
    *ret = 0;
    sqlite3_stmt *st;
    int r = reel_db_prepare(s->db,
                            "SELECT COALESCE(SUM(r.bytes), 0) FROM recording r WHERE r.camera_id = ?1 AND "
                            REEL__LOCKED_SQL("r", "?2"),
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, now_ns(s));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    else
        r = reel__db_err(s->db, rc, err, "reading locked bytes");
    sqlite3_finalize(st);
    return r;
}

int reel_store_lock_spans(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                          struct reel_lock_span **ret, size_t *ret_n, struct reel_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    sqlite3_stmt *st;
    int r = reel_db_prepare(s->db,
                            "SELECT DISTINCT l.id, l.start90k, l.end90k, l.case_name FROM evidence_lock l "
                            "JOIN evidence_lock_camera lc ON lc.lock_id = l.id WHERE lc.camera_id IN "
                            "(?1, (SELECT parent_id FROM camera WHERE id = ?1)) AND l.start90k < ?3 "
                            "AND l.end90k > ?2 AND (l.expires_ns = 0 OR l.expires_ns > ?4) "
                            "ORDER BY l.start90k, l.id LIMIT 1000",
                            &st, err);
    if (r < 0)
        return r;
    _Static_assert(REEL_LOCK_SPANS_MAX == 1000, "the LIMIT above");
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, from90k);
    sqlite3_bind_int64(st, 3, to90k);
    sqlite3_bind_int64(st, 4, now_ns(s));
    struct reel_lock_span *v = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 8) < 0) {
            r = reel_err_set(err, ENOMEM, "out of memory");
            break;
        }
        v[n].id = sqlite3_column_int64(st, 0);
        v[n].start90k = sqlite3_column_int64(st, 1);
        v[n].end90k = sqlite3_column_int64(st, 2);
        reel__fmt(v[n].case_name, sizeof(v[n].case_name), "%s", (const char *)sqlite3_column_text(st, 3));
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = reel__db_err(s->db, rc, err, "reading locks");
    sqlite3_finalize(st);
    if (r < 0) {
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* ---- the retention cap ---- */

int reel_store_retention_cap(struct reel_store *s, int64_t *ret_days, struct reel_err *err)
{
    *ret_days = 0;
    char buf[32];
    int r = reel_store_setting_get(s, REEL_RETENTION_CAP_KEY, buf, sizeof(buf), err);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    char *end;
    long long d = strtoll(buf, &end, 10);
    if (end == buf || *end || d < 0 || d > REEL_RETENTION_CAP_MAX_DAYS)
        return reel_err_set(err, EINVAL, "setting %s: '%s' is not a number of days", REEL_RETENTION_CAP_KEY, buf);
    *ret_days = d;
    return 0;
}

int reel_store_retention_cap_set(struct reel_store *s, int64_t days, struct reel_err *err)
{
    if (days < 0 || days > REEL_RETENTION_CAP_MAX_DAYS)
        return reel_err_set(err, EINVAL, "retention cap: expected 0 (none) to %d days", REEL_RETENTION_CAP_MAX_DAYS);
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)days);
    return reel_store_setting_set(s, REEL_RETENTION_CAP_KEY, days ? buf : NULL, err);
}

int reel_store_retention_cap_check(struct reel_store *s, int64_t retain_seconds, struct reel_err *err)
{
    int64_t cap = 0;
    int r = reel_store_retention_cap(s, &cap, err);
    if (r < 0)
        return r;
    if (cap > 0 && retain_seconds > cap * 86400)
        return reel_err_set(err, EINVAL,
                            "retention of %.1f days is over the site's maximum of %lld days (retention.max_days)",
                            (double)retain_seconds / 86400.0, (long long)cap);
    return 0;
}

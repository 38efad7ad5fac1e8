/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reading the table `event` (query.h).
 */
#include "events/query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

#define LONG_EVENT_90K (INT64_C(86400) * 90000)

static const char *const KINDS[] = {
    REEL_EVENT_MOTION,       REEL_EVENT_CAMERA_OFFLINE,     REEL_EVENT_STORAGE_ERROR,
    REEL_EVENT_DISK_FULL,    REEL_EVENT_RETENTION_BLOCKED,  REEL_EVENT_LOCK_BLOCKING,
};

bool reel_event_kind_known(const char *kind)
{
    for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
        if (strcmp(kind, KINDS[i]) == 0)
            return true;
    return false;
}

#define COLUMNS                                                                                              \
    "e.id, coalesce(e.camera_id, 0), coalesce(c.name, ''), e.kind, e.source, e.start90k, "                   \
    "coalesce(e.end90k, 0), e.zones, e.peak, e.detail, coalesce(p.name, c.name, '') "
#define FROM "FROM event e LEFT JOIN camera c ON c.id = e.camera_id LEFT JOIN camera p ON p.id = c.parent_id "

static void text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? t : "");
}

static void row_from(sqlite3_stmt *st, struct reel_event_row *x)
{
    memset(x, 0, sizeof(*x));
    x->ev.id = sqlite3_column_int64(st, 0);
    x->ev.camera_id = sqlite3_column_int64(st, 1);
    text(st, 2, x->ev.camera, sizeof(x->ev.camera));
    text(st, 3, x->ev.kind, sizeof(x->ev.kind));
    text(st, 4, x->ev.source, sizeof(x->ev.source));
    x->ev.start90k = sqlite3_column_int64(st, 5);
    x->ev.end90k = sqlite3_column_int64(st, 6);
    text(st, 7, x->ev.zones, sizeof(x->ev.zones));
    x->ev.peak = sqlite3_column_int(st, 8);
    text(st, 9, x->ev.detail, sizeof(x->ev.detail));
    text(st, 10, x->visible_as, sizeof(x->visible_as));
}

static int collect(sqlite3 *db, sqlite3_stmt *st, size_t max, struct reel_event_row **ret, size_t *ret_n,
                   struct reel_err *err)
{
    struct reel_event_row *v = NULL;
    size_t n = 0, alloc = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 16;
            void *p = realloc(v, na * sizeof(*v));
            if (!p) {
                r = reel_err_set(err, ENOMEM, "out of memory");
                break;
            }
            v = p;
            alloc = na;
        }
        row_from(st, &v[n++]);
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = reel_db_err(db, rc, err, "reading events");
    sqlite3_finalize(st);
    if (r < 0) {
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_event_query(sqlite3 *db, const struct reel_event_filter *f, struct reel_event_row **ret, size_t *ret_n,
                     struct reel_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    if (f->limit < 1 || f->limit > REEL_EVENT_QUERY_MAX)
        return reel_err_set(err, EINVAL, "events: limit out of range");
    sqlite3_stmt *st;
    int r = reel_db_prepare(db,
                            "SELECT " COLUMNS FROM
                            "WHERE (?1 = '' OR c.name = ?1 OR p.name = ?1) AND (?2 = '' OR e.kind = ?2) "
                            "AND (?3 <= 0 OR e.end90k IS NULL OR e.end90k >= ?3) AND (?4 <= 0 OR e.start90k < ?4) "
                            "AND (?5 <= 0 OR e.id < ?5) ORDER BY e.id DESC LIMIT ?6",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, f->camera ? f->camera : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->kind ? f->kind : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, f->from90k);
    sqlite3_bind_int64(st, 4, f->to90k);
    sqlite3_bind_int64(st, 5, f->before_id);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)f->limit);
    return collect(db, st, f->limit, ret, ret_n, err);
}

int reel_event_spans(sqlite3 *db, int64_t camera_id, int64_t from90k, int64_t to90k, struct reel_event_row **ret,
                     size_t *ret_n, struct reel_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    sqlite3_stmt *st;
    /* recent starts through the index; older long events (offline, not
     * motion) apart */
    int r = reel_db_prepare(db,
                            "SELECT * FROM (SELECT " COLUMNS FROM
                            "WHERE e.camera_id IN (?1) AND e.start90k >= ?4 AND e.start90k < ?3 "
                            "AND (e.end90k IS NULL OR e.end90k >= ?2) "
                            "UNION ALL SELECT " COLUMNS FROM
                            "WHERE e.camera_id IN (?1) AND e.start90k < ?4 AND e.kind <> 'motion' "
                            "AND (e.end90k IS NULL OR e.end90k >= ?2) "
                            "UNION ALL SELECT " COLUMNS FROM
                            "WHERE e.camera_id IN (SELECT id FROM camera WHERE parent_id = ?1) AND e.start90k < ?3 "
                            "AND e.start90k >= ?4 AND (e.end90k IS NULL OR e.end90k >= ?2)) "
                            "ORDER BY 6, 1 LIMIT 2000",
                            &st, err);
    if (r < 0)
        return r;
    _Static_assert(REEL_EVENT_SPANS_MAX == 2000, "the LIMIT above");
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, from90k);
    sqlite3_bind_int64(st, 3, to90k);
    sqlite3_bind_int64(st, 4, from90k - LONG_EVENT_90K);
    return collect(db, st, REEL_EVENT_SPANS_MAX, ret, ret_n, err);
}

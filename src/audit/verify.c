/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Checking the audit log's chain (see audit.h): every row in id order must
 * have the next id, link to the row before (prev = its hash) and hash to
 * its stored hash. The first failure is reported as what it most likely
 * is: a missing id is a removed entry; a row whose contents hash right
 * under a neighbour's id is a reordered one; anything else is a changed
 * one. A cut tail cannot be seen from the chain alone: SQLite's
 * sqlite_sequence (the highest id ever handed out) is a trip-wire for a
 * plain DELETE, and a head written down earlier is the proof.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "db/db.h"

#define REORDER_WINDOW 16

static void rec_from(sqlite3_stmt *st, struct reel_audit_rec *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->ts_ns = sqlite3_column_int64(st, 1);
    const char **f[] = { &r->user, &r->via, &r->addr, &r->action, &r->camera, &r->detail };
    for (int i = 0; i < 6; i++) {
        const char *t = (const char *)sqlite3_column_text(st, 2 + i);
        *f[i] = t ? t : "";
    }
    memset(r->prev, 0xff, REEL_AUDIT_HASH);
    memset(r->hash, 0xff, REEL_AUDIT_HASH);
    if (sqlite3_column_bytes(st, 8) == REEL_AUDIT_HASH)
        memcpy(r->prev, sqlite3_column_blob(st, 8), REEL_AUDIT_HASH);
    if (sqlite3_column_bytes(st, 9) == REEL_AUDIT_HASH)
        memcpy(r->hash, sqlite3_column_blob(st, 9), REEL_AUDIT_HASH);
}

/* The id under which rec's contents (with its stored prev) hash to its
 * stored hash, near rec->id; 0 when none. */
static int64_t written_as(const struct reel_audit_rec *rec)
{
    struct reel_audit_rec t = *rec;
    uint8_t h[REEL_AUDIT_HASH];
    for (int64_t d = 1; d <= REORDER_WINDOW; d++) {
        for (int s = -1; s <= 1; s += 2) {
            t.id = rec->id + s * d;
            if (t.id < 1)
                continue;
            if (reel_audit_hash(&t, h) == 0 && memcmp(h, rec->hash, REEL_AUDIT_HASH) == 0)
                return t.id;
        }
    }
    return 0;
}

static int64_t sequence_of(sqlite3 *db)
{
    sqlite3_stmt *st;
    int64_t seq = 0;
    if (sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE name = 'audit'", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            seq = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return seq;
}

static void bad(struct reel_audit_verdict *v, int64_t id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(struct reel_audit_verdict *v, int64_t id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
    va_end(ap);
    v->ok = false;
    v->bad_id = id;
}

int reel_audit_verify(sqlite3 *db, const char *head, struct reel_audit_verdict *ret, struct reel_err *err)
{
    int64_t want_id = 0;
    uint8_t want_hash[REEL_AUDIT_HASH];
    if (head && reel_audit_head_parse(head, &want_id, want_hash) < 0)
        return reel_err_set(err, EINVAL, "head '%.80s': expected ID:HASH as `reel audit head` prints it", head);
    struct reel_audit_verdict v = { .ok = true };
    int r = reel_db_exec(db, "BEGIN", err);
    if (r < 0)
        return r;
    sqlite3_stmt *st;
    r = reel_db_prepare(db, "SELECT id, ts_ns, user, via, addr, action, camera, detail, prev, hash FROM audit "
                            "ORDER BY id", &st, err);
    if (r < 0) {
        reel_db_rollback(db);
        return r;
    }
    uint8_t prev[REEL_AUDIT_HASH] = { 0 }, h[REEL_AUDIT_HASH];
    int64_t expect = 1;
    bool want_seen = false;
    int rc;
    while (v.ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct reel_audit_rec e;
        rec_from(st, &e);
        int64_t moved = 0;
        if (e.id != expect) {
            bad(&v, expect, "entry %lld was removed (entry %lld follows entry %lld)", (long long)expect,
                (long long)e.id, (long long)(expect - 1));
        } else if (reel_audit_hash(&e, h) < 0 || memcmp(h, e.hash, REEL_AUDIT_HASH) != 0) {
            if ((moved = written_as(&e)) != 0)
                bad(&v, e.id, "entry %lld is out of order: it was written as entry %lld (reordered)",
                    (long long)e.id, (long long)moved);
            else
                bad(&v, e.id, "entry %lld was changed: its contents do not match its hash", (long long)e.id);
        } else if (memcmp(prev, e.prev, REEL_AUDIT_HASH) != 0) {
            if (e.id > 1)
                bad(&v, e.id - 1,
                    "entry %lld was changed or replaced: entry %lld's link to it does not match (hash recomputed?)",
                    (long long)(e.id - 1), (long long)e.id);
            else
                bad(&v, 1, "entry 1 was changed: it does not start the chain");
        }
        if (!v.ok)
            break;
        if (e.id == want_id) {
            want_seen = true;
            if (memcmp(e.hash, want_hash, REEL_AUDIT_HASH) != 0)
                bad(&v, e.id, "entry %lld does not match the head written down: the log was rewritten from there "
                    "or before", (long long)e.id);
        }
        memcpy(prev, e.hash, REEL_AUDIT_HASH);
        v.entries++;
        v.head_id = e.id;
        memcpy(v.head_hash, e.hash, REEL_AUDIT_HASH);
        expect++;
    }
    if (v.ok && rc != SQLITE_DONE)
        r = reel_db_err(db, rc, err, "reading the audit log");
    sqlite3_finalize(st);
    if (r == 0 && v.ok) {
        int64_t seq = sequence_of(db);
        if (seq > v.head_id)
            bad(&v, v.head_id + 1, "the log was truncated: entries %lld to %lld were removed from its end",
                (long long)(v.head_id + 1), (long long)seq);
        else if (want_id && !want_seen)
            bad(&v, want_id, "the log was truncated: entry %lld of the head written down is gone (the log ends at "
                "entry %lld)", (long long)want_id, (long long)v.head_id);
    }
    reel_db_rollback(db);
    if (r < 0)
        return r;
    if (v.ok)
        snprintf(v.msg, sizeof(v.msg), "%lld entries, chain intact%s", (long long)v.entries,
                 want_id ? ", head matches" : "");
    *ret = v;
    return 0;
}

int reel_audit_head(sqlite3 *db, int64_t *ret_id, uint8_t ret_hash[REEL_AUDIT_HASH], struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &st, err);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    *ret_id = 0;
    memset(ret_hash, 0, REEL_AUDIT_HASH);
    if (rc == SQLITE_ROW) {
        *ret_id = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == REEL_AUDIT_HASH)
            memcpy(ret_hash, sqlite3_column_blob(st, 1), REEL_AUDIT_HASH);
    } else if (rc != SQLITE_DONE) {
        r = reel_db_err(db, rc, err, "reading the audit log's head");
    }
    sqlite3_finalize(st);
    return r;
}

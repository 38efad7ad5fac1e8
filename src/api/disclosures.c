/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The disclosure log (as the ICO's CCTV guidance describes it): who was
 * given which footage, when and why.
 *   POST /api/disclosures  EXPORT (operators and admins: who hands footage
 *                          out records it; auditors read, viewers neither). Body {"date":"YYYY-MM-DD",
 *                          "recipient":"...", "reason":"...", "export_id":
 *                          "16 hex", "export_hash":"64 hex"} (one of the
 *                          export fields at least). Also one audit row
 *                          "disclosure.add" with every field, whose id the
 *                          disclosure row keeps.
 *   GET /api/disclosures   AUDIT (admins, auditors): newest first, paged.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "audit/audit.h"
#include "base/timefmt.h"
#include "db/db.h"
#include "http/body.h"
#include "http/parse.h"

#define RECIPIENT_MAX 200
#define REASON_MAX 1000
#define LIST_MAX 1000

static bool hex_ok(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* YYYY-MM-DD, a real day from 2000 to today + 1 (time zones). */
static bool date_ok(const char *s, int64_t now90k)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 2000 || m < 1 || m > 12 ||
        d < 1 || d > 31)
        return false;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return false;
    char iso[32];
    snprintf(iso, sizeof(iso), "%sT00:00:00Z", s);
    int64_t t;
    return reel_time_parse(iso, now90k, &t) == 0 && t <= now90k + 86400LL * 90000;
}

enum MHD_Result reel_api_disclosure_add(struct reel_http_req *r)
{
    if (r->body_too_big)
        return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
    json_error_t jerr;
    json_t *j = r->body ? json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    const char *date = NULL, *recipient = NULL, *reason = NULL, *eid = "", *ehash = "";
    if (!json_is_object(j) ||
        json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s?s, s?s}", "date", &date, "recipient", &recipient,
                       "reason", &reason, "export_id", &eid, "export_hash", &ehash) < 0) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected {\"date\", \"recipient\", \"reason\", "
                                                             "\"export_id\" and/or \"export_hash\"} (strings)");
    }
    const char *bad = NULL;
    if (!date_ok(date, reel_http_wall90k(r)))
        bad = "date: expected YYYY-MM-DD, not in the future";
    else if (!text_ok(recipient, RECIPIENT_MAX))
        bad = "recipient: 1 to 200 characters of text";
    else if (!text_ok(reason, REASON_MAX))
        bad = "reason: 1 to 1000 characters of text";
    else if (eid[0] && !hex_ok(eid, 16))
        bad = "export_id: expected 16 hex digits";
    else if (ehash[0] && !hex_ok(ehash, 64))
        bad = "export_hash: expected 64 hex digits (SHA-256)";
    else if (!eid[0] && !ehash[0])
        bad = "give export_id and/or export_hash: which footage was disclosed";
    if (bad) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", bad);
    }
    sqlite3 *db;
    struct reel_err err = { "" };
    int rc = reel_db_open(&db, r->cfg->datadir, REEL_DB_WRITE, &err);
    if (rc < 0) {
        json_decref(j);
        return reel_api_read_error(r, rc, &err, "disclosure log");
    }
    char via[REEL_AUDIT_VIA_MAX], addr[REEL_AUDIT_ADDR_MAX];
    reel_api_audit_actor(r, via, sizeof(via), addr, sizeof(addr));
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "date", date, "recipient", recipient, "reason", reason,
                          "export_id", eid, "export_hash", ehash);
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    int64_t now = reel_http_wall_ns(r), aid = 0, id = 0;
    struct reel_audit_rec rec = { .ts_ns = now, .user = r->auth->user, .via = via, .addr = addr,
                                  .action = "disclosure.add", .camera = "", .detail = text ? text : "{}" };
    rc = text ? reel_audit_append(db, &rec, &aid, &err) : reel_err_set(&err, ENOMEM, "out of memory");
    free(text);
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = reel_db_prepare(db, "INSERT INTO disclosure (created_ns, user, date, recipient, reason, export_id, "
                                 "export_hash, audit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st, &err);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_text(st, 2, r->auth->user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, date, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, recipient, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, eid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, ehash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, aid);
        int s = sqlite3_step(st);
        rc = s == SQLITE_DONE ? 0 : reel_db_err(db, s, &err, "adding a disclosure");
        id = sqlite3_last_insert_rowid(db);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    if (rc < 0) {
        json_decref(j);
        return reel_api_read_error(r, rc, &err, "disclosure log");
    }
    reel_http_log(r, REEL_LOG_INFO, "disclosure %lld recorded by %s", (long long)id, r->auth->user);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id", (json_int_t)id, "user", r->auth->user,
                          "date", date, "recipient", recipient, "reason", reason, "export_id", eid, "export_hash",
                          ehash, "audit_id", (json_int_t)aid);
    json_decref(j);
    return reel_http_send_json(r, MHD_HTTP_CREATED, o, NULL);
}

enum MHD_Result reel_api_disclosures_list(struct reel_http_req *r)
{
    char v[24];
    int64_t before = 0, limit = 100;
    for (int k = 0; k < 2; k++) {
        const char *name = k ? "limit" : "before";
        int g = reel_http_query_get(r->query, name, v, sizeof(v));
        if (g == 0)
            continue;
        char *end = NULL;
        long long x = g > 0 ? strtoll(v, &end, 10) : -1;
        if (g < 0 || !end || *end || end == v || x < 1 || (k && x > LIST_MAX))
            return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: expected a whole number%s", name,
                                        k ? " from 1 to 1000" : " above 0");
        *(k ? &limit : &before) = x;
    }
    sqlite3 *db = NULL;
    struct reel_err err = { "" };
    int rc = reel_db_open(&db, r->cfg->datadir, REEL_DB_READ, &err);
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = reel_db_prepare(db, "SELECT id, created_ns, user, date, recipient, reason, export_id, export_hash, "
                                 "audit_id FROM disclosure WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2",
                             &st, &err);
    json_t *a = json_array();
    bool more = false;
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, before);
        sqlite3_bind_int64(st, 2, limit + 1);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if ((int64_t)json_array_size(a) == limit) {
                more = true;
                break;
            }
            char t[40];
            reel_time_format(reel_ns_to_90k(sqlite3_column_int64(st, 1)), t, sizeof(t));
            json_array_append_new(
                a, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id",
                             (json_int_t)sqlite3_column_int64(st, 0), "created", t, "user",
                             (const char *)sqlite3_column_text(st, 2), "date", (const char *)sqlite3_column_text(st, 3),
                             "recipient", (const char *)sqlite3_column_text(st, 4), "reason",
                             (const char *)sqlite3_column_text(st, 5), "export_id",
                             (const char *)sqlite3_column_text(st, 6), "export_hash",
                             (const char *)sqlite3_column_text(st, 7), "audit_id",
                             (json_int_t)sqlite3_column_int64(st, 8)));
        }
        if (!more && s != SQLITE_DONE)
            rc = reel_db_err(db, s, &err, "reading the disclosure log");
        sqlite3_finalize(st);
    }
    if (db)
        sqlite3_close(db);
    if (rc < 0) {
        json_decref(a);
        return reel_api_read_error(r, rc, &err, "disclosure log");
    }
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o, s:b}", "disclosures", a, "more", more), NULL);
}

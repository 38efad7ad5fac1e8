/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The auditor's view of the audit log (AUDIT: admins and auditors):
 *   GET /api/audit?start&end&user&action&camera&limit&before  newest first, paged by id
 *   GET /api/audit.csv (same filters)                          the rows as CSV (at most 10000)
 *   GET /api/audit/head                                         the latest entry's id and hash
 *   GET /api/audit/verify[?head=ID:HASH]                        the chain recomputed
 * Each request reads through its own read-only connection (src/audit), so
 * a long verify never holds the writer. The log is not filtered by the
 * caller's cameras: an auditor sees every entry (and no video).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/buf.h"
#include "base/timefmt.h"
#include "db/db.h"
#include "http/parse.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000
#define CSV_MAX_BYTES (64u << 20)

struct filter_text {
    char user[REEL_AUDIT_USER_MAX], action[REEL_AUDIT_ACTION_MAX], camera[REEL_AUDIT_CAMERA_MAX];
};

/* One optional query parameter into out; false with a 400 queued. */
static bool param(struct reel_http_req *r, const char *name, char *out, size_t cap, enum MHD_Result *res)
{
    int g = reel_http_query_get(r->query, name, out, cap);
    if (g < 0) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: at most %zu bytes of text", name, cap - 1);
        return false;
    }
    if (g == 0)
        out[0] = '\0';
    return true;
}

static bool time_param(struct reel_http_req *r, const char *name, int64_t *ret_ns, enum MHD_Result *res)
{
    char v[64];
    if (!param(r, name, v, sizeof(v), res))
        return false;
    *ret_ns = 0;
    if (!v[0])
        return true;
    int64_t t90k;
    if (reel_time_parse(v, reel_http_wall90k(r), &t90k) < 0 || t90k <= 0) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: expected an RFC 3339 time", name);
        return false;
    }
    *ret_ns = reel_90k_to_ns(t90k);
    return true;
}

static bool int_param(struct reel_http_req *r, const char *name, int64_t lo, int64_t hi, int64_t *ret,
                      enum MHD_Result *res)
{
    char v[24];
    if (!param(r, name, v, sizeof(v), res))
        return false;
    if (!v[0])
        return true;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || end == v || x < lo || x > hi) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: expected a whole number from %lld to %lld", name,
                                    (long long)lo, (long long)hi);
        return false;
    }
    *ret = x;
    return true;
}

static bool read_filter(struct reel_http_req *r, struct reel_audit_filter *f, struct filter_text *t, int64_t page_max,
                        enum MHD_Result *res)
{
    memset(f, 0, sizeof(*f));
    f->limit = page_max == PAGE_MAX ? PAGE_DEFAULT : page_max;
    if (!time_param(r, "start", &f->since_ns, res) || !time_param(r, "end", &f->until_ns, res) ||
        !param(r, "user", t->user, sizeof(t->user), res) || !param(r, "action", t->action, sizeof(t->action), res) ||
        !param(r, "camera", t->camera, sizeof(t->camera), res) ||
        !int_param(r, "limit", 1, page_max, &f->limit, res) ||
        !int_param(r, "before", 1, INT64_MAX, &f->before_id, res))
        return false;
    f->user = t->user;
    f->action = t->action;
    f->camera = t->camera;
    return true;
}

static bool open_db(struct reel_http_req *r, sqlite3 **db, enum MHD_Result *res)
{
    struct reel_err err = { "" };
    int rc = reel_db_open(db, r->cfg->datadir, REEL_DB_READ, &err);
    if (rc < 0) {
        *res = reel_api_read_error(r, rc, &err, "audit log");
        return false;
    }
    return true;
}

static json_t *time_ns_json(int64_t ns)
{
    char b[40];
    reel_time_format(reel_ns_to_90k(ns), b, sizeof(b));
    return json_string(b);
}

static int add_json(const struct reel_audit_rec *e, void *arg)
{
    char hex[2 * REEL_AUDIT_HASH + 1];
    reel_audit_hex(e->hash, hex);
    json_t *d = json_loads(e->detail, 0, NULL);
    json_t *o = json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "id", (json_int_t)e->id, "time",
                          time_ns_json(e->ts_ns), "user", e->user, "via", e->via, "address", e->addr, "action",
                          e->action, "camera", e->camera, "detail", d ? d : json_string(e->detail), "hash", hex);
    if (!o)
        return -ENOMEM;
    json_array_append_new(arg, o);
    return 0;
}

enum MHD_Result reel_api_audit_list(struct reel_http_req *r)
{
    enum MHD_Result res;
    struct reel_audit_filter f;
    struct filter_text t;
    sqlite3 *db;
    if (!read_filter(r, &f, &t, PAGE_MAX, &res) || !open_db(r, &db, &res))
        return res;
    json_t *a = json_array();
    bool more = false;
    struct reel_err err = { "" };
    int rc = reel_audit_query(db, &f, add_json, a, &more, &err);
    sqlite3_close(db);
    if (rc < 0) {
        json_decref(a);
        return reel_api_read_error(r, rc, &err, "audit log");
    }
    size_t n = json_array_size(a);
    json_t *o = json_pack("{s:o, s:b}", "entries", a, "more", more);
    if (more && n)
        json_object_set_new(o, "next_before", json_integer(json_integer_value(json_object_get(json_array_get(a, n - 1),
                                                                                             "id"))));
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

static int add_csv(const struct reel_audit_rec *e, void *arg) { return reel_audit_csv_row(e, arg); }

enum MHD_Result reel_api_audit_csv(struct reel_http_req *r)
{
    enum MHD_Result res;
    struct reel_audit_filter f;
    struct filter_text t;
    sqlite3 *db;
    if (!read_filter(r, &f, &t, REEL_AUDIT_LIMIT_MAX, &res) || !open_db(r, &db, &res))
        return res;
    struct reel_buf b;
    reel_buf_init(&b, CSV_MAX_BYTES);
    int rc = reel_buf_append(&b, REEL_AUDIT_CSV_HEADER, strlen(REEL_AUDIT_CSV_HEADER));
    struct reel_err err = { "" };
    bool more = false;
    if (rc == 0)
        rc = reel_audit_query(db, &f, add_csv, &b, &more, &err);
    sqlite3_close(db);
    if (rc == -EMSGSIZE) {
        reel_buf_free(&b);
        return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "over %u MiB of CSV: narrow the filters",
                                    CSV_MAX_BYTES >> 20);
    }
    if (rc < 0) {
        reel_buf_free(&b);
        if (!err.msg[0])
            reel_err_set(&err, -rc, "out of memory");
        return reel_api_read_error(r, rc, &err, "audit log");
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        reel_buf_free(&b);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/csv; charset=utf-8");
    MHD_add_response_header(resp, "Content-Disposition", "attachment; filename=\"reel-audit.csv\"");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (more)
        MHD_add_response_header(resp, "X-Reel-More", "1");
    return reel_http_queue(r, MHD_HTTP_OK, resp);
}

static json_t *head_json(int64_t id, const uint8_t h[REEL_AUDIT_HASH])
{
    char hex[2 * REEL_AUDIT_HASH + 1], head[2 * REEL_AUDIT_HASH + 32];
    reel_audit_hex(h, hex);
    snprintf(head, sizeof(head), "%lld:%s", (long long)id, hex);
    return id ? json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "hash", hex, "head", head)
              : json_pack("{s:I, s:n, s:n}", "id", (json_int_t)0, "hash", "head");
}

enum MHD_Result reel_api_audit_head(struct reel_http_req *r)
{
    enum MHD_Result res;
    sqlite3 *db;
    if (!open_db(r, &db, &res))
        return res;
    int64_t id;
    uint8_t h[REEL_AUDIT_HASH];
    struct reel_err err = { "" };
    int rc = reel_audit_head(db, &id, h, &err);
    sqlite3_close(db);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "audit log");
    return reel_http_send_json(r, MHD_HTTP_OK, head_json(id, h), NULL);
}

enum MHD_Result reel_api_audit_verify(struct reel_http_req *r)
{
    enum MHD_Result res;
    char head[2 * REEL_AUDIT_HASH + 32];
    if (!param(r, "head", head, sizeof(head), &res))
        return res;
    int64_t hid;
    uint8_t hh[REEL_AUDIT_HASH];
    if (head[0] && reel_audit_head_parse(head, &hid, hh) < 0)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "head: expected ID:HASH (64 hex digits)");
    sqlite3 *db;
    if (!open_db(r, &db, &res))
        return res;
    struct reel_audit_verdict v;
    struct reel_err err = { "" };
    int rc = reel_audit_verify(db, head[0] ? head : NULL, &v, &err);
    sqlite3_close(db);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "audit log");
    json_t *o = json_pack("{s:b, s:I, s:o, s:s, s:o}", "ok", v.ok, "entries", (json_int_t)v.entries, "bad_id",
                          v.ok ? json_null() : json_integer(v.bad_id), "message", v.msg, "head",
                          head_json(v.head_id, v.head_hash));
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/events (issue 15): the event list, newest first, filtered by
 * camera, kind and time, paged with before_id. Events of cameras the
 * caller may not see are left out (site-wide events are everyone's with
 * playback); a camera filter naming a camera that does not exist or that
 * the caller may not see is 404 either way. Reads reel.db through a
 * connection of its own (the store's pool is for footage).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/strutil.h"
#include "db/db.h"
#include "events/query.h"
#include "http/access.h"
#include "http/parse.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000
#define BATCH 500
#define SCAN_MAX 20000             /* rows looked at for one answer (hidden cameras' events skipped) */

static bool text_param(struct reel_http_req *r, const char *name, char *out, size_t cap, enum MHD_Result *res)
{
    int g = reel_http_query_get(r->query, name, out, cap);
    if (g < 0) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: malformed or longer than %zu bytes", name, cap - 1);
        return false;
    }
    if (g == 0)
        out[0] = '\0';
    return true;
}

static bool time_param(struct reel_http_req *r, const char *name, int64_t *ret90k, enum MHD_Result *res)
{
    char v[64];
    *ret90k = 0;
    if (!text_param(r, name, v, sizeof(v), res))
        return false;
    if (!v[0])
        return true;
    if (reel_http_time_parse(v, reel_http_wall90k(r), ret90k) < 0 || *ret90k <= 0) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: expected an RFC 3339 time or unix seconds", name);
        return false;
    }
    return true;
}

static bool int_param(struct reel_http_req *r, const char *name, int64_t lo, int64_t hi, int64_t *ret,
                      enum MHD_Result *res)
{
    char v[24];
    if (!text_param(r, name, v, sizeof(v), res))
        return false;
    if (!v[0])
        return true;
    int64_t x;
    if (reel_parse_i64(v, strlen(v), lo, hi, &x) < 0) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: expected a whole number from %lld to %lld", name,
                                    (long long)lo, (long long)hi);
        return false;
    }
    *ret = x;
    return true;
}

/* Whether camera name is a camera (main or stream row). */
static int camera_exists(sqlite3 *db, const char *name, bool *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, "SELECT 1 FROM camera WHERE name = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *ret = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : reel_db_err(db, rc, err, "reading cameras");
}

enum MHD_Result reel_api_events_list(struct reel_http_req *r)
{
    enum MHD_Result res;
    char camera[REEL_HTTP_SEG_MAX], kind[REEL_EVENT_KIND_MAX];
    int64_t from = 0, to = 0, limit = LIMIT_DEFAULT, before = 0;
    if (!text_param(r, "camera", camera, sizeof(camera), &res) || !text_param(r, "kind", kind, sizeof(kind), &res) ||
        !time_param(r, "from", &from, &res) || !time_param(r, "to", &to, &res) ||
        !int_param(r, "limit", 1, LIMIT_MAX, &limit, &res) || !int_param(r, "before_id", 1, INT64_MAX, &before, &res))
        return res;
    if (kind[0] && !reel_event_kind_known(kind))
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                    "kind: expected motion, camera.offline, storage.error, disk.full, "
                                    "retention.blocked or lock.blocking");
    if (from && to && to <= from)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "to must be after from");
    if (camera[0] && !reel_http_name_valid(camera))
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "camera: not a camera name");

    sqlite3 *db;
    struct reel_err err = { "" };
    int rc = reel_db_open(&db, r->cfg->datadir, REEL_DB_READ, &err);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "events");
    if (camera[0]) {
        bool exists = false;
        rc = camera_exists(db, camera, &exists, &err);
        if (rc < 0) {
            sqlite3_close(db);
            return reel_api_read_error(r, rc, &err, "events");
        }
        if (!exists || !reel_http_camera_visible(r, camera)) {
            sqlite3_close(db);
            return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no camera '%s'", camera);
        }
    }
    json_t *arr = json_array();
    struct reel_event_filter f = { .camera = camera, .kind = kind, .from90k = from, .to90k = to,
                                   .before_id = before, .limit = BATCH };
    size_t scanned = 0;
    int64_t next = 0;   /* 0: nothing older */
    bool more = true;
    while (rc == 0 && more && json_array_size(arr) < (size_t)limit) {
        struct reel_event_row *v;
        size_t n;
        rc = reel_event_query(db, &f, &v, &n, &err);
        if (rc < 0)
            break;
        more = n == BATCH;
        size_t i = 0;
        for (; i < n && json_array_size(arr) < (size_t)limit; i++) {
            f.before_id = v[i].ev.id;
            if (v[i].ev.camera_id <= 0 || reel_http_camera_visible(r, v[i].ev.camera))
                json_array_append_new(arr, reel_event_json(&v[i].ev));
        }
        more = more || i < n;
        scanned += i;
        free(v);
        if (scanned >= SCAN_MAX)
            break;
    }
    sqlite3_close(db);
    if (rc < 0) {
        json_decref(arr);
        return reel_api_read_error(r, rc, &err, "events");
    }
    if (more)
        next = f.before_id;
    return reel_http_send_json(r, MHD_HTTP_OK,
                               json_pack("{s:o, s:o}", "events", arr, "next_before_id",
                                         next > 0 ? json_integer(next) : json_null()),
                               "Cache-Control", "no-store", NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Motion search over the stored grid (issue 15), PLAYBACK and camera
 * visibility (the dispatcher checks both for {camera} routes):
 *   GET /api/cameras/{camera}/motion/search    moments with motion in a region
 *   GET /api/cameras/{camera}/motion/activity  share of seconds with motion per bucket
 *   GET /api/cameras/{camera}/motion/grid      one second's cell levels
 * Every input is capped: range at most 62 days, region exactly 64 hex
 * digits, limit 1..10000, buckets 1..2000. Each request opens its own
 * read-only connection to reel.db and reads the rows in one statement.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"
#include "motion/search.h"

#define MOTION_RANGE_MAX90K (INT64_C(62) * 86400 * 90000)
#define MOTION_LIMIT_DEFAULT 1000

/* A time: RFC 3339 or unix seconds (reel_http_time_parse), or a 90k count
 * (an integer of 13 digits or more: unix seconds have 10 until 2286). */
static int parse_time(struct reel_http_req *r, const char *v, int64_t *ret)
{
    size_t n = strlen(v);
    if (n >= 13 && n <= 18 && strspn(v, "0123456789") == n) {
        *ret = strtoll(v, NULL, 10);
        return 0;
    }
    return reel_http_time_parse(v, reel_http_wall90k(r), ret);
}

/* from/to: to defaults to now, from to 24 h before to; to > from, at most
 * 62 days. On failure a 400 is queued into *res. */
static bool motion_range(struct reel_http_req *r, int64_t *from, int64_t *to, enum MHD_Result *res)
{
    static const char *const names[2] = { "from", "to" };
    int64_t *vals[2] = { from, to };
    bool given[2] = { false, false };
    for (int i = 0; i < 2; i++) {
        char v[64];
        int q = reel_http_query_get(r->query, names[i], v, sizeof(v));
        if (q < 0) {
            *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: malformed or too long", names[i]);
            return false;
        }
        if (q == 0)
            continue;
        if (parse_time(r, v, vals[i]) < 0 || *vals[i] < 0) {
            *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                        "%s: expected an RFC 3339 time, unix seconds or a 90k count", names[i]);
            return false;
        }
        given[i] = true;
    }
    if (!given[1])
        *to = reel_http_wall90k(r);
    if (!given[0])
        *from = *to - INT64_C(86400) * 90000;
    if (*to <= *from) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "to must be after from");
        return false;
    }
    if (*to - *from > MOTION_RANGE_MAX90K) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "range longer than 62 days");
        return false;
    }
    return true;
}

/* An integer parameter in [lo, hi] (def when absent). */
static bool int_param(struct reel_http_req *r, const char *name, long lo, long hi, long def, long *ret,
                      enum MHD_Result *res)
{
    char v[16];
    int q = reel_http_query_get(r->query, name, v, sizeof(v));
    *ret = def;
    if (q == 0)
        return true;
    char *end = NULL;
    long x = q > 0 ? strtol(v, &end, 10) : 0;
    if (q < 0 || end == v || *end || x < lo || x > hi) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: expected an integer %ld..%ld", name, lo, hi);
        return false;
    }
    *ret = x;
    return true;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* region: 64 hex digits, byte 0 first (grid.h bit order); absent = the
 * whole picture. An empty region matches nothing: refused. */
static bool region_param(struct reel_http_req *r, uint8_t region[REEL_GRID_BITS_BYTES], enum MHD_Result *res)
{
    char v[2 * REEL_GRID_BITS_BYTES + 2];
    int q = reel_http_query_get(r->query, "region", v, sizeof(v));
    if (q == 0) {
        memset(region, 0xff, REEL_GRID_BITS_BYTES);
        return true;
    }
    bool ok = q > 0 && strlen(v) == 2 * REEL_GRID_BITS_BYTES;
    uint8_t any = 0;
    for (unsigned i = 0; ok && i < REEL_GRID_BITS_BYTES; i++) {
        int a = hexval(v[2 * i]), b = hexval(v[2 * i + 1]);
        if (a < 0 || b < 0)
            ok = false;
        else
            any |= region[i] = (uint8_t)(a << 4 | b);
    }
    if (!ok || !any) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                    "region: expected 64 hex digits (the 256-cell mask), not all zero");
        return false;
    }
    return true;
}

/* The camera's id (its main stream's: the grid is the camera's) and a
 * read-only connection; on failure a response is queued. */
static bool open_camera(struct reel_http_req *r, int64_t *cam_id, sqlite3 **db, enum MHD_Result *res)
{
    struct reel_store *s;
    struct reel_camera cam;
    if (!reel_api_camera_for(r, &s, &cam, res))
        return false;
    reel_http_store_put(r, s);
    if (cam.kind != REEL_STREAM_MAIN) {
        *res = reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no camera '%s'", r->name);
        return false;
    }
    *cam_id = cam.id;
    struct reel_err err = { "" };
    int rc = reel_db_open(db, r->cfg->datadir, REEL_DB_READ, &err);
    if (rc < 0) {
        *res = reel_api_read_error(r, rc, &err, "motion of '%s'", r->name);
        return false;
    }
    return true;
}

enum MHD_Result reel_api_motion_search(struct reel_http_req *r)
{
    enum MHD_Result res;
    struct reel_msearch_query q = { 0 };
    long min_cells, min_level, limit;
    if (!motion_range(r, &q.from90k, &q.to90k, &res) || !region_param(r, q.region, &res) ||
        !int_param(r, "min_cells", 1, REEL_GRID_CELLS, 1, &min_cells, &res) ||
        !int_param(r, "min_level", 1, 255, 1, &min_level, &res) ||
        !int_param(r, "limit", 1, REEL_MSEARCH_LIMIT_MAX, MOTION_LIMIT_DEFAULT, &limit, &res))
        return res;
    q.min_cells = (unsigned)min_cells;
    q.min_level = (unsigned)min_level;
    sqlite3 *db;
    if (!open_camera(r, &q.camera_id, &db, &res))
        return res;
    struct reel_msearch_moment *m = malloc((size_t)limit * sizeof(*m));
    if (!m) {
        sqlite3_close(db);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    int64_t t0 = reel_clock_mono(r->clock);
    size_t n = 0;
    struct reel_msearch_stats st;
    struct reel_err err = { "" };
    int rc = reel_msearch_run(db, &q, m, (size_t)limit, &n, &st, &err);
    int64_t took_ms = (reel_clock_mono(r->clock) - t0) / 1000000;
    sqlite3_close(db);
    if (rc < 0) {
        free(m);
        return reel_api_read_error(r, rc, &err, "motion search of '%s'", r->name);
    }
    if (st.corrupt)
        reel_http_log(r, REEL_LOG_WARN, "camera %s: motion search skipped %lld corrupt motion_minute rows", r->name,
                      (long long)st.corrupt);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:o, s:o, s:I, s:I, s:I, s:I}", "start",
                                             reel_http_json_time(m[i].start90k), "end",
                                             reel_http_json_time(m[i].end90k), "start90k", (json_int_t)m[i].start90k,
                                             "end90k", (json_int_t)m[i].end90k, "seconds", (json_int_t)m[i].seconds,
                                             "peak_cells", (json_int_t)m[i].peak_cells));
    free(m);
    json_t *o = json_pack("{s:o, s:b, s:I, s:I}", "moments", arr, "truncated", st.truncated, "minutes_scanned",
                          (json_int_t)st.minutes_scanned, "took_ms", (json_int_t)took_ms);
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

enum MHD_Result reel_api_motion_activity(struct reel_http_req *r)
{
    enum MHD_Result res;
    int64_t from, to;
    long buckets;
    if (!motion_range(r, &from, &to, &res) ||
        !int_param(r, "buckets", 1, REEL_MSEARCH_BUCKETS_MAX, 100, &buckets, &res))
        return res;
    int64_t cam;
    sqlite3 *db;
    if (!open_camera(r, &cam, &db, &res))
        return res;
    uint8_t levels[REEL_MSEARCH_BUCKETS_MAX];
    int64_t step = 0;
    struct reel_msearch_stats st;
    struct reel_err err = { "" };
    int rc = reel_msearch_activity(db, cam, from, to, (unsigned)buckets, levels, &step, &st, &err);
    sqlite3_close(db);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "motion activity of '%s'", r->name);
    json_t *arr = json_array();
    for (long i = 0; i < buckets; i++)
        json_array_append_new(arr, json_integer(levels[i]));
    json_t *o = json_pack("{s:o, s:o, s:I, s:I, s:I, s:o}", "from", reel_http_json_time(from), "to",
                          reel_http_json_time(to), "from90k", (json_int_t)from, "to90k", (json_int_t)to, "step90k",
                          (json_int_t)step, "levels", arr);
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

enum MHD_Result reel_api_motion_grid(struct reel_http_req *r)
{
    enum MHD_Result res;
    char v[64];
    int q = reel_http_query_get(r->query, "at", v, sizeof(v));
    int64_t at;
    if (q <= 0 || parse_time(r, v, &at) < 0 || at < 0)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                    "at: required (an RFC 3339 time, unix seconds or a 90k count)");
    int64_t cam;
    sqlite3 *db;
    if (!open_camera(r, &cam, &db, &res))
        return res;
    struct reel_grid_second g;
    struct reel_err err = { "" };
    int rc = reel_msearch_second(db, cam, at, &g, &err);
    sqlite3_close(db);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "motion grid of '%s'", r->name);
    json_t *cells = json_array();
    for (unsigned i = 0; i < REEL_GRID_CELLS; i++)
        json_array_append_new(cells, json_integer(g.level[i]));
    int64_t sec = at / 90000 * 90000;
    json_t *o = json_pack("{s:o, s:I, s:o}", "at", reel_http_json_time(sec), "at90k", (json_int_t)sec, "cells", cells);
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/timeline?start=T&end=T[&cameras=a,b][&min_gap=SECONDS]: several
 * cameras' footage over up to 62 days at once, as spans and gaps with the
 * kind of each gap, plus the locks and events rows (timeline_marks.c). The
 * spans come from the server's span cache (src/http/tlcache.c: a binary
 * search per camera, whatever the number of recordings), the gaps from the
 * outage and deletion tables, all in one read snapshot; then
 * src/http/timeline.c builds and merges them at the zoom level (min_gap).
 * See docs/timeline.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "http/access.h"
#include "http/timeline.h"
#include "http/tlcache.h"

#define CAMERAS_PARAM_MAX (REEL_API_TIMELINE_CAMERAS_MAX * 64 + 1)

/* The cameras asked for, or every visible camera (main streams, by id). On
 * failure an answer was queued into *res and false returned. */
static bool pick_cameras(struct reel_http_req *r, struct reel_store *s, struct reel_camera *out, size_t *nout,
                         enum MHD_Result *res)
{
    char *names = malloc(CAMERAS_PARAM_MAX);
    if (!names) {
        *res = reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return false;
    }
    int q = reel_http_query_get(r->query, "cameras", names, CAMERAS_PARAM_MAX);
    if (q < 0) {
        free(names);
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, q == -EMSGSIZE ? "cameras: too long (at most %d names)"
                                                                            : "cameras: malformed query parameter",
                                    REEL_API_TIMELINE_CAMERAS_MAX);
        return false;
    }
    struct reel_camera *all = NULL;
    size_t nall = 0;
    struct reel_err err = { "" };
    int rc = reel_store_camera_list(s, &all, &nall, &err);
    if (rc < 0) {
        free(names);
        *res = reel_api_read_error(r, rc, &err, "cameras");
        return false;
    }
    size_t n = 0;
    bool ok = true;
    if (q == 0) {
        for (size_t i = 0; i < nall && n < REEL_API_TIMELINE_CAMERAS_MAX; i++)
            if (all[i].parent_id == 0 && reel_http_camera_visible(r, all[i].name))
                out[n++] = all[i];
    } else {
        char *save = NULL;
        for (char *tok = strtok_r(names, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
            if (!reel_http_name_valid(tok)) {
                *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "cameras: not a camera name");
                ok = false;
                break;
            }
            bool dup = false;
            for (size_t k = 0; k < n; k++)
                dup |= strcmp(out[k].name, tok) == 0;
            if (dup)
                continue;
            if (n >= REEL_API_TIMELINE_CAMERAS_MAX) {
                *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "cameras: at most %d",
                                            REEL_API_TIMELINE_CAMERAS_MAX);
                ok = false;
                break;
            }
            const struct reel_camera *found = NULL;
            for (size_t i = 0; i < nall; i++)
                if (all[i].parent_id == 0 && strcmp(all[i].name, tok) == 0)
                    found = &all[i];
            if (!found || !reel_http_camera_visible(r, tok)) {
                *res = reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no camera '%s'", tok);
                ok = false;
                break;
            }
            out[n++] = *found;
        }
        if (ok && n == 0) {
            *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "cameras: empty list");
            ok = false;
        }
    }
    free(all);
    free(names);
    *nout = n;
    return ok;
}

/* min_gap in seconds (decimals allowed), default (end - start) / 4000. */
static bool parse_min_gap(struct reel_http_req *r, int64_t from, int64_t to, int64_t *ret, enum MHD_Result *res)
{
    char v[32];
    int q = reel_http_query_get(r->query, "min_gap", v, sizeof(v));
    if (q == 0) {
        *ret = (to - from) / 4000;
        return true;
    }
    char *end = NULL;
    double d = q > 0 ? strtod(v, &end) : -1;
    if (q < 0 || !end || end == v || *end || !(d >= 0 && d <= 86400.0 * 62)) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "min_gap: seconds from 0 to %d", 86400 * 62);
        return false;
    }
    *ret = (int64_t)(d * REEL_90K);
    return true;
}

static json_t *span_json(int64_t a, int64_t b)
{
    return json_pack("[o, o]", reel_http_json_time(a), reel_http_json_time(b));
}

/* One camera's object; NULL with err set on failure. */
static json_t *camera_json(struct reel_http_req *r, struct reel_store *s, const struct reel_camera *cam,
                           int64_t from, int64_t to, int64_t min_gap, struct reel_err *err)
{
    struct reel_span *spans = NULL;
    struct reel_gap *gaps = NULL;
    size_t nspans = 0, ngaps = 0;
    int rc = reel_tlcache_spans(reel_http_tlcache_of(r), s, cam->id, cam->name, from, to, &spans, &nspans, err);
    if (rc == 0)
        rc = reel_store_gaps(s, cam->id, from, to, &gaps, &ngaps, err);
    struct reel_timeline tl = { 0 };
    if (rc == 0 && (reel_timeline_build(spans, nspans, gaps, ngaps, from, to, &tl) < 0 ||
                    reel_timeline_merge(&tl, from, to, min_gap) < 0))
        rc = reel_err_set(err, ENOMEM, "out of memory");
    free(spans);
    json_t *o = NULL;
    if (rc == 0) {
        json_t *js = json_array(), *jg = json_array(), *locks = json_array(), *events = json_array();
        for (size_t i = 0; i < tl.nspans; i++)
            json_array_append_new(js, span_json(tl.spans[i].start90k, tl.spans[i].end90k));
        json_t *last = NULL;
        int64_t last_end = INT64_MIN;
        for (size_t i = 0; i < tl.ngaps; i++) {
            const char *kind = reel_timeline_reason(tl.gaps[i].reason);
            /* touching gaps of one kind are one (their texts differ: the first one's is kept) */
            if (last && last_end == tl.gaps[i].start90k &&
                strcmp(json_string_value(json_object_get(last, "reason")), kind) == 0) {
                json_object_set_new(last, "end", reel_http_json_time(tl.gaps[i].end90k));
                last_end = tl.gaps[i].end90k;
                continue;
            }
            last = json_pack("{s:o, s:o, s:s}", "start", reel_http_json_time(tl.gaps[i].start90k), "end",
                             reel_http_json_time(tl.gaps[i].end90k), "reason", kind);
            if (last && strcmp(kind, tl.gaps[i].reason) != 0)
                json_object_set_new(last, "detail", json_string(tl.gaps[i].reason));
            last_end = tl.gaps[i].end90k;
            json_array_append_new(jg, last);
        }
        rc = reel_api_timeline_locks(r, s, cam, from, to, locks, err);
        if (rc == 0)
            rc = reel_api_timeline_events(r, s, cam, from, to, events, err);
        o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "name", cam->name, "stream", "main", "spans", js, "gaps", jg,
                      "locks", locks, "events", events);
        if (rc < 0 || !o) {
            json_decref(o);
            o = NULL;
            if (rc == 0)
                reel_err_set(err, ENOMEM, "out of memory");
        }
    }
    reel_timeline_free(&tl);
    free(gaps);
    return o;
}

enum MHD_Result reel_api_timeline(struct reel_http_req *r)
{
    enum MHD_Result res;
    int64_t from, to, min_gap;
    if (!reel_api_parse_range_max(r, false, REEL_API_TIMELINE_RANGE_MAX90K, &from, &to, &res) ||
        !parse_min_gap(r, from, to, &min_gap, &res))
        return res;
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_store_get(r, &s, &err);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "database");
    struct reel_camera *cams = calloc(REEL_API_TIMELINE_CAMERAS_MAX, sizeof(*cams));
    size_t ncams = 0;
    if (!cams) {
        reel_http_store_put(r, s);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    if (!pick_cameras(r, s, cams, &ncams, &res)) {
        free(cams);
        reel_http_store_put(r, s);
        return res;
    }
    /* footage after now is not a gap: the timeline stops at now */
    int64_t now = reel_http_wall90k(r), upto = to < now ? to : now;
    json_t *arr = json_array();
    rc = reel_store_read_begin(s, &err);
    for (size_t i = 0; rc == 0 && i < ncams; i++) {
        json_t *o = upto > from ? camera_json(r, s, &cams[i], from, upto, min_gap, &err)
                                : json_pack("{s:s, s:s, s:[], s:[], s:[], s:[]}", "name", cams[i].name, "stream",
                                            "main", "spans", "gaps", "locks", "events");
        if (!o)
            rc = err.msg[0] ? -EIO : reel_err_set(&err, ENOMEM, "out of memory");
        else
            json_array_append_new(arr, o);
    }
    reel_store_read_end(s);
    reel_http_store_put(r, s);
    free(cams);
    if (rc < 0) {
        json_decref(arr);
        return reel_api_read_error(r, rc, &err, "timeline");
    }
    json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "start", reel_http_json_time(from), "end", reel_http_json_time(to),
                          "now", reel_http_json_time(now), "cameras", arr);
    return reel_http_send_json(r, MHD_HTTP_OK, o, "Cache-Control", "private, no-cache", NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the recording resources share: the start/end query parameters of a
 * time range, the camera named in the path looked up in a pooled read
 * handle, and how a failed read of the database is answered.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "mp4/range.h"

bool reel_api_parse_range(struct reel_http_req *r, bool required, int64_t *from, int64_t *to,
                          enum MHD_Result *ret_result)
{
    return reel_api_parse_range_max(r, required, REEL_MP4_RANGE_MAX90K, from, to, ret_result);
}

bool reel_api_parse_range_max(struct reel_http_req *r, bool required, int64_t max90k, int64_t *from, int64_t *to,
                              enum MHD_Result *ret_result)
{
    static const char *const names[2] = { "start", "end" };
    int64_t *vals[2] = { from, to };
    bool given[2] = { false, false };
    for (int i = 0; i < 2; i++) {
        char v[128];
        int rc = reel_http_query_get(r->query, names[i], v, sizeof(v));
        if (rc < 0) {
            *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: malformed query parameter", names[i]);
            return false;
        }
        if (rc == 0) {
            if (required) {
                *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                                   "%s: required (RFC 3339 time or unix seconds)", names[i]);
                return false;
            }
            continue;
        }
        if (reel_http_time_parse(v, reel_http_wall90k(r), vals[i]) < 0) {
            *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                               "%s: cannot parse time '%s' (expected RFC 3339 or unix seconds)",
                                               names[i], v);
            return false;
        }
        given[i] = true;
    }
    if (!given[1])
        *to = reel_http_wall90k(r);
    if (!given[0])
        *from = *to - 86400 * REEL_90K;
    if (*to <= *from) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "end must be after start");
        return false;
    }
    if (*to - *from > max90k) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "range longer than %lld days",
                                           (long long)(max90k / (86400 * REEL_90K)));
        return false;
    }
    return true;
}

bool reel_api_camera_for(struct reel_http_req *r, struct reel_store **ret_s, struct reel_camera *cam,
                         enum MHD_Result *ret_result)
{
    struct reel_err err = { "" };
    int rc = reel_http_store_get(r, ret_s, &err);
    if (rc < 0) {
        *ret_result = reel_api_read_error(r, rc, &err, "database");
        return false;
    }
    rc = reel_store_camera_get(*ret_s, r->name, cam, &err);
    if (rc < 0) {
        reel_http_store_put(r, *ret_s);
        *ret_s = NULL;
        if (rc == -ENOENT)
            *ret_result = reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no camera '%s'", r->name);
        else
            *ret_result = reel_api_read_error(r, rc, &err, "camera '%s'", r->name);
        return false;
    }
    return true;
}

bool reel_api_stream_for(struct reel_http_req *r, struct reel_store *s, struct reel_camera *cam,
                         enum MHD_Result *ret_result)
{
    char v[16] = "";
    int q = reel_http_query_get(r->query, "stream", v, sizeof(v));
    int kind = q == 1 ? reel_stream_kind_parse(v) : REEL_STREAM_MAIN;
    if (q < 0 || (kind != REEL_STREAM_MAIN && kind != REEL_STREAM_SUB)) {
        reel_http_store_put(r, s);
        *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "stream: expected main or sub");
        return false;
    }
    if (kind == REEL_STREAM_MAIN)
        return true;
    struct reel_err err = { "" };
    int rc = reel_store_camera_stream(s, cam->id, REEL_STREAM_SUB, false, cam, &err);
    if (rc < 0) {
        reel_http_store_put(r, s);
        if (rc == -ENOENT || rc == -EINVAL)
            *ret_result = reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "camera '%s' has no sub-stream", r->name);
        else
            *ret_result = reel_api_read_error(r, rc, &err, "camera '%s'", r->name);
        return false;
    }
    return true;
}

static bool path_end(char c) { return c == '\0' || c == ' ' || c == ':' || c == ',' || c == ')' || c == '\''; }

void reel_api_scrub_paths(const char *in, char *out, size_t cap)
{
    size_t k = 0;
    const char *p = in;
    while (*p && k + 1 < cap) {
        bool word_start = p == in || p[-1] == ' ' || p[-1] == '(' || p[-1] == '\'' || p[-1] == '"';
        if (*p == '/' && word_start) {
            const char *e = p;
            while (!path_end(*e))
                e++;
            const char *base = p;
            for (const char *q = p; q < e; q++)
                if (*q == '/')
                    base = q + 1;
            while (base < e && k + 1 < cap)
                out[k++] = *base++;
            p = e;
            continue;
        }
        out[k++] = *p++;
    }
    out[k] = '\0';
}

enum MHD_Result reel_api_read_error(struct reel_http_req *r, int rc, const struct reel_err *err, const char *fmt, ...)
{
    char what[256], clean[sizeof(err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    const char *msg = err && err->msg[0] ? err->msg : strerror(rc < 0 ? -rc : EIO);
    reel_api_scrub_paths(msg, clean, sizeof(clean));
    if (rc == -EINVAL || rc == -EFBIG)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: %s", what, clean);
    /* logged in full with a reference; the client gets the reference only */
    return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s: %s", what, msg);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the recording resources share: the start/end query parameters of a
 * time range, and the camera named in the path looked up in a pooled read
 * handle.
 */
#include <errno.h>

#include "api/api.h"
#include "mp4/range.h"

bool reel_api_parse_range(struct reel_http_req *r, bool required, int64_t *from, int64_t *to,
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
    if (*to - *from > REEL_MP4_RANGE_MAX90K) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "range longer than 7 days");
        return false;
    }
    return true;
}

bool reel_api_camera_for(struct reel_http_req *r, struct reel_store **ret_s, struct reel_camera *cam,
                         enum MHD_Result *ret_result)
{
    struct reel_err err = { "" };
    if (reel_http_store_get(r, ret_s, &err) < 0) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "database: %s", err.msg);
        return false;
    }
    int rc = reel_store_camera_get(*ret_s, r->name, cam, &err);
    if (rc < 0) {
        reel_http_store_put(r, *ret_s);
        *ret_s = NULL;
        if (rc == -ENOENT)
            *ret_result = reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no camera '%s'", r->name);
        else
            *ret_result = reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "camera '%s': %s", r->name,
                                               err.msg);
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
            *ret_result = reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "camera '%s': %s", r->name,
                                               err.msg);
        return false;
    }
    return true;
}

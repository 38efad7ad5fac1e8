/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/cameras/{camera}/view.mp4: any range of a camera's footage as
 * one fast-start MP4 built on the fly (src/mp4/range.h), streamed in blocks
 * by libmicrohttpd, with Range (206/416), a strong ETag that changes while
 * an open recording in the range grows, If-None-Match (304), If-Range and
 * Last-Modified.
 *
 * Resources (issue 11): the handler runs on the server's worker pool
 * (routes.c), builds the MP4 at most once per request, answers a matching
 * If-None-Match from the index's tag alone (no MP4 built), holds a download
 * slot (per user and in all, http/playback.h) from before the build until
 * the response is freed, and charges the MP4's memory to the playback
 * budget for as long; over a cap: 503 with Retry-After. The MP4 holds no
 * sample file open between reads (src/mp4/mp4.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "base/timefmt.h"
#include "http/playback.h"
#include "mp4/mp4.h"
#include "mp4/range.h"

#define STREAM_BLOCK (64 * 1024)
#define BUSY_RETRY_S 5      /* Retry-After of a 503 for a playback cap */

struct stream {
    struct reel_mp4 *m;
    uint64_t base;
    struct reel_http_playback *pb;
    int64_t user_id;
    bool slot;              /* holds a download slot of user_id */
    uint64_t mem;           /* bytes charged to the playback budget */
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    ssize_t n = reel_mp4_read(st->m, st->base + pos, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    reel_mp4_free(st->m);
    if (st->mem)
        reel_http_playback_release(st->pb, st->mem);
    if (st->slot)
        reel_http_playback_end(st->pb, st->user_id);
    free(st);
}

/* reel_api_view_read() with the MP4's options (the camera's audio or not). */
static int view_read(struct reel_store *s, int64_t cam_id, int64_t from90k, int64_t to90k,
                     const struct reel_mp4_range_opts *opts, struct reel_view_tag *ret_tag, struct reel_mp4 **ret,
                     void (*between)(void *), void *between_arg, struct reel_err *err)
{
    *ret = NULL;
    int rc = reel_store_read_begin(s, err);
    if (rc < 0)
        return rc;
    rc = reel_store_view_etag(s, cam_id, from90k, to90k, ret_tag, err);
    if (rc == 0 && ret_tag->recordings == 0)
        rc = reel_err_set(err, ENOENT, "no footage in the range");
    if (rc == 0 && between)
        between(between_arg);
    if (rc == 0)
        rc = reel_mp4_for_range_opts(s, cam_id, from90k, to90k, opts, ret, err);
    reel_store_read_end(s);
    return rc;
}

int reel_api_view_read(struct reel_store *s, int64_t cam_id, int64_t from90k, int64_t to90k,
                       struct reel_view_tag *ret_tag, struct reel_mp4 **ret, void (*between)(void *),
                       void *between_arg, struct reel_err *err)
{
    const struct reel_mp4_range_opts audio = { .audio = true };
    return view_read(s, cam_id, from90k, to90k, &audio, ret_tag, ret, between, between_arg, err);
}

enum MHD_Result reel_api_view(struct reel_http_req *r)
{
    enum MHD_Result res;
    int64_t from, to;
    if (!reel_api_parse_range(r, true, &from, &to, &res))
        return res;
    /* The camera's audio ("<camera>~audio" recordings) unless ?audio=0. */
    char aval[8] = "";
    int aq = reel_http_query_get(r->query, "audio", aval, sizeof(aval));
    if (aq < 0 || (aq == 1 && strcmp(aval, "0") != 0 && strcmp(aval, "1") != 0))
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "audio: expected 0 or 1");
    const struct reel_mp4_range_opts aopts = { .audio = aq == 0 || strcmp(aval, "1") == 0 };
    struct reel_store *s;
    struct reel_camera cam;
    if (!reel_api_camera_for(r, &s, &cam, &res) || !reel_api_stream_for(r, s, &cam, &res))
        return res;
    struct reel_err err = { "" };
    struct reel_view_tag tag;
    struct reel_mp4 *m = NULL;
    struct stream *st = calloc(1, sizeof(*st));
    if (!st) {
        reel_http_store_put(r, s);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    st->pb = reel_http_playback_of(r);
    st->user_id = r->auth ? r->auth->user_id : 0;
    const char *inm = reel_http_header(r, "If-None-Match");
    bool head = strcmp(r->method, "HEAD") == 0;
    /* The tag must describe the bytes served: both are read in one snapshot,
     * ended before the handle goes back. A matching If-None-Match is answered
     * from the tag alone, a download slot is taken before the build. */
    int rc = reel_store_read_begin(s, &err);
    if (rc == 0)
        rc = reel_store_view_etag(s, cam.id, from, to, &tag, &err);
    if (rc == 0 && tag.recordings == 0)
        rc = reel_err_set(&err, ENOENT, "no footage in the range");
    bool not_modified = rc == 0 && inm && reel_http_etag_none_match(inm, tag.etag);
    int busy = 0;
    if (rc == 0 && !not_modified && !head) {
        busy = reel_http_playback_begin(st->pb, st->user_id);
        st->slot = busy == 0;
    }
    if (rc == 0 && !not_modified && busy == 0)
        rc = reel_mp4_for_range_opts(s, cam.id, from, to, &aopts, &m, &err);
    reel_store_read_end(s);
    reel_http_store_put(r, s);
    if (rc == 0 && m) {
        st->m = m;
        uint64_t mem = reel_mp4_mem(m);
        int mr = reel_http_playback_reserve(st->pb, mem);
        if (mr == 0) {
            st->mem = mem;
        } else {
            stream_free(st);
            if (mr == -EFBIG)
                return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                                            "the MP4 of that range needs %llu MiB, over the playback memory budget:"
                                            " ask for a shorter range",
                                            (unsigned long long)(mem >> 20));
            reel_http_log(r, REEL_LOG_WARN, "view.mp4 of '%s' refused: playback memory budget in use", r->name);
            return reel_http_send_busy(r, BUSY_RETRY_S, "playback memory budget in use: try again shortly");
        }
    }
    if (rc < 0) {
        stream_free(st);
        if (rc == -ENOENT)
            return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "camera '%s' has no footage in that range", r->name);
        return reel_api_read_error(r, rc, &err, "building the MP4 of '%s'", r->name);
    }
    if (busy < 0) {
        stream_free(st);
        reel_http_log(r, REEL_LOG_WARN, "view.mp4 of '%s' refused: %s", r->name,
                      busy == -EUSERS ? "too many downloads by this user" : "too many downloads in progress");
        return reel_http_send_busy(r, BUSY_RETRY_S, "%s: try again when one ends",
                                   busy == -EUSERS ? "too many downloads in progress for this user"
                                                   : "too many downloads in progress");
    }
    const char *etag = tag.etag;
    int64_t last90k = tag.last90k;
    uint64_t size = m ? reel_mp4_size(m) : 0;
    char lastmod[40], disp[160], fromtxt[40];
    reel_http_date(last90k / REEL_90K, lastmod, sizeof(lastmod));
    reel_time_format(from, fromtxt, sizeof(fromtxt));
    /* "2026-11-26T23:00:00.000Z" -> "20261126T230000Z" */
    char compact[24];
    size_t k = 0;
    for (const char *p = fromtxt; *p && *p != '.' && k + 2 < sizeof(compact); p++)
        if (*p != '-' && *p != ':')
            compact[k++] = *p;
    compact[k++] = 'Z';
    compact[k] = '\0';
    snprintf(disp, sizeof(disp), "inline; filename=\"%s-%s.mp4\"", cam.name, compact);

    if (not_modified) {
        stream_free(st);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "ETag", etag);
        MHD_add_response_header(resp, "Last-Modified", lastmod);
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        return reel_http_queue(r, MHD_HTTP_NOT_MODIFIED, resp);
    }
    uint64_t start = 0, len = size;
    enum reel_http_range rr = reel_http_range_parse(reel_http_header(r, "Range"), size, &start, &len);
    if (rr != REEL_RANGE_NONE && !reel_http_if_range_ok(reel_http_header(r, "If-Range"), etag, lastmod)) {
        rr = REEL_RANGE_NONE;
        start = 0;
        len = size;
    }
    if (rr == REEL_RANGE_UNSATISFIABLE) {
        stream_free(st);
        char cr[64];
        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
        json_t *e = json_pack("{s:s}", "error", "requested range not satisfiable");
        return reel_http_send_json(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, e, "Content-Range", cr, "ETag", etag, NULL);
    }
    st->base = start;
    struct MHD_Response *resp = MHD_create_response_from_callback(len, STREAM_BLOCK, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    MHD_add_response_header(resp, "ETag", etag);
    MHD_add_response_header(resp, "Last-Modified", lastmod);
    MHD_add_response_header(resp, "Content-Disposition", disp);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    unsigned status = MHD_HTTP_OK;
    if (rr == REEL_RANGE_OK) {
        char cr[96];
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)start,
                 (unsigned long long)(start + len - 1), (unsigned long long)size);
        MHD_add_response_header(resp, "Content-Range", cr);
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    if (!head && size > 0) {
        /* the audit log: the time range sent, in proportion to the bytes for a Range request */
        double a = (double)start / (double)size, b = (double)(start + len) / (double)size;
        reel_api_audit_playback(r, cam.name, from + (int64_t)(a * (double)(to - from)),
                                from + (int64_t)(b * (double)(to - from)));
    }
    return reel_http_queue(r, status, resp);
}


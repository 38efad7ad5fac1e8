/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/cameras/{camera}/view.mp4: any range of a camera's footage as
 * one fast-start MP4 built on the fly (src/mp4/range.h), streamed in blocks
 * by libmicrohttpd, with Range (206/416), a strong ETag that changes while
 * an open recording in the range grows, If-None-Match (304), If-Range and
 * Last-Modified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/timefmt.h"
#include "mp4/mp4.h"
#include "mp4/range.h"

#define STREAM_BLOCK (64 * 1024)

struct stream {
    struct reel_mp4 *m;
    uint64_t base;
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
    /* The tag must describe the bytes served: both are read in one snapshot,
     * which reel_api_view_read() has ended before the handle goes back. */
    int rc = view_read(s, cam.id, from, to, &aopts, &tag, &m, NULL, NULL, &err);
    reel_http_store_put(r, s);
    if (rc < 0) {
        if (rc == -ENOENT)
            return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "camera '%s' has no footage in that range", r->name);
        return reel_api_read_error(r, rc, &err, "building the MP4 of '%s'", r->name);
    }
    const char *etag = tag.etag;
    int64_t last90k = tag.last90k;
    uint64_t size = reel_mp4_size(m);
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

    const char *inm = reel_http_header(r, "If-None-Match");
    if (inm && reel_http_etag_none_match(inm, etag)) {
        reel_mp4_free(m);
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
        reel_mp4_free(m);
        char cr[64];
        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
        json_t *e = json_pack("{s:s}", "error", "requested range not satisfiable");
        return reel_http_send_json(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, e, "Content-Range", cr, "ETag", etag, NULL);
    }
    struct stream *st = calloc(1, sizeof(*st));
    if (!st) {
        reel_mp4_free(m);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    st->m = m;
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
    return reel_http_queue(r, status, resp);
}


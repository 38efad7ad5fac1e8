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

/* The entity tag and newest end time of the recordings in [from, to). */
static int range_state(struct reel_store *s, int64_t cam_id, int64_t from, int64_t to, char etag[REEL_HTTP_ETAG_MAX],
                       int64_t *ret_last90k, size_t *ret_n, struct reel_err *err)
{
    struct reel_recording *recs = NULL;
    size_t n = 0;
    int r = reel_store_recordings(s, cam_id, from, to, &recs, &n, err);
    if (r < 0)
        return r;
    struct reel_http_etag_rec *er = calloc(n ? n : 1, sizeof(*er));
    if (!er) {
        reel_recordings_free(recs, n);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    int64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        er[i] = (struct reel_http_etag_rec){ recs[i].id, recs[i].bytes, recs[i].frames };
        if (recs[i].start90k + recs[i].wall_duration90k > last)
            last = recs[i].start90k + recs[i].wall_duration90k;
    }
    reel_http_etag(cam_id, from, to, er, n, etag);
    free(er);
    reel_recordings_free(recs, n);
    *ret_last90k = last;
    *ret_n = n;
    return 0;
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
    struct reel_mp4_range_opts aopts = { .audio = aq == 0 || strcmp(aval, "1") == 0 };
    struct reel_store *s;
    struct reel_camera cam;
    if (!reel_api_camera_for(r, &s, &cam, &res))
        return res;
    struct reel_err err = { "" };
    char etag[REEL_HTTP_ETAG_MAX], etag2[REEL_HTTP_ETAG_MAX];
    int64_t last90k = 0;
    size_t nrecs = 0;
    struct reel_mp4 *m = NULL;
    int rc = 0;
    /* The tag must describe the bytes served: an open recording may grow
     * while the MP4 is built, so the recordings are read before and after
     * and the build is retried if they changed. */
    for (int attempt = 0; attempt < 4; attempt++) {
        reel_mp4_free(m);
        m = NULL;
        rc = range_state(s, cam.id, from, to, etag, &last90k, &nrecs, &err);
        if (rc < 0 || nrecs == 0)
            break;
        rc = reel_mp4_for_range_opts(s, cam.id, from, to, &aopts, &m, &err);
        if (rc < 0)
            break;
        rc = range_state(s, cam.id, from, to, etag2, &last90k, &nrecs, &err);
        if (rc < 0 || strcmp(etag, etag2) == 0)
            break;
    }
    reel_http_store_put(r, s);
    if (rc == 0 && (nrecs == 0 || !m))
        rc = -ENOENT;
    if (rc < 0) {
        reel_mp4_free(m);
        if (rc == -ENOENT)
            return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "camera '%s' has no footage in that range", r->name);
        if (rc == -EINVAL || rc == -EFBIG)
            return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "building the MP4 of '%s': %s", r->name,
                                    err.msg[0] ? err.msg : strerror(-rc));
    }
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


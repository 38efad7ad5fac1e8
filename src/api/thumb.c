/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/cameras/{camera}/thumb.jpg?t=T[&w=W]: a scrub preview, the key
 * frame at or before T of the recording that holds T (the sub-stream's when
 * the camera has one with footage at T, else the main stream's) as a JPEG
 * at most W pixels wide (80..320, default 160). 404 when neither stream has
 * footage at T. Runs on the server's worker pool; a thumbnail is decoded
 * once (libavcodec, media/snapshot.h) and then served from the recording's
 * pack (media/thumbs.h), which the store deletes with the recording. At
 * most REEL_THUMBS_DECODES_DEFAULT decodes at once: over that, 503 with
 * Retry-After. ETag names the recording, the key frame and the width (a
 * key frame never changes); Cache-Control private, max-age=3600. Headers
 * X-Reel-Thumb (cached|decoded), X-Reel-Stream (main|sub) and X-Reel-Time
 * (the key frame's wall time).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "base/timefmt.h"
#include "media/snapshot.h"
#include "media/thumbs.h"
#include "store/index.h"

#define W_MIN 80
#define W_MAX 320
#define W_DEFAULT 160
#define BUSY_RETRY_S 1
#define FRAMES_MAX (1u << 20)   /* frames of one recording we accept to index */

/* What a thumbnail is made of, found in the database. */
struct key_frame {
    int64_t rec_id, camera_id;
    char path[4200];            /* the sample file */
    uint64_t offset;            /* of the key frame in it */
    uint32_t size, index;       /* its bytes, its index in the recording */
    int64_t t90k, dur90k;       /* its wall time and duration */
    int64_t entry_id;
};

/* The key frame at or before t in the recording of camera_id holding t.
 * -ENOENT when there is none. */
static int find_key(struct reel_store *s, int64_t camera_id, int64_t t, struct key_frame *k, struct reel_err *err)
{
    struct reel_recording *recs = NULL;
    size_t n = 0;
    int r = reel_store_read_begin(s, err);
    if (r < 0)
        return r;
    r = reel_store_recordings(s, camera_id, t, t + 1, &recs, &n, err);
    reel_store_read_end(s);
    if (r < 0)
        return r;
    const struct reel_recording *rec = NULL;
    for (size_t i = 0; i < n; i++)
        if (recs[i].start90k <= t && t < recs[i].start90k + recs[i].wall_duration90k && recs[i].frames > 0)
            rec = &recs[i];
    if (!rec) {
        reel_recordings_free(recs, n);
        return -ENOENT;
    }
    struct reel_frame_info *f = NULL;
    if (rec->frames > FRAMES_MAX)
        r = reel_err_set(err, EBADMSG, "recording %lld: implausible %u frames", (long long)rec->id, rec->frames);
    else if (!(f = calloc(rec->frames, sizeof(*f))))
        r = reel_err_set(err, ENOMEM, "out of memory");
    if (r == 0)
        r = reel_index_decode(rec->index, rec->index_len, rec->frames, f, err);
    if (r == 0) {
        /* wall offset -> media offset (the recording's rate correction) */
        int64_t want = t - rec->start90k;
        if (rec->wall_duration90k > 0 && rec->media_duration90k > 0)
            want = (int64_t)((__int128)want * rec->media_duration90k / rec->wall_duration90k);
        int64_t pts = 0, key_pts = -1;
        uint64_t off = 0;
        for (uint32_t i = 0; i < rec->frames && pts <= want; i++) {
            if (f[i].key) {
                k->index = i;
                k->offset = off;
                k->size = f[i].size;
                k->dur90k = f[i].duration90k;
                key_pts = pts;
            }
            pts += f[i].duration90k;
            off += f[i].size;
        }
        if (key_pts < 0) {
            r = -ENOENT;
        } else {
            int64_t wall = key_pts;
            if (rec->wall_duration90k > 0 && rec->media_duration90k > 0)
                wall = (int64_t)((__int128)key_pts * rec->wall_duration90k / rec->media_duration90k);
            k->t90k = rec->start90k + wall;
            k->rec_id = rec->id;
            k->camera_id = rec->camera_id;
            k->entry_id = rec->sample_entry_id;
            snprintf(k->path, sizeof(k->path), "%s", rec->path);
        }
    }
    free(f);
    reel_recordings_free(recs, n);
    return r;
}

/* Reads the key frame from its sample file and decodes it at width w. */
static int decode_key(const struct key_frame *k, const struct reel_sample_entry *e, int w, uint8_t **jpeg,
                      size_t *len, struct reel_err *err)
{
    if (k->size == 0 || k->size > REEL_SNAPSHOT_AU_MAX)
        return reel_err_set(err, EMSGSIZE, "recording %lld: key frame of %u bytes", (long long)k->rec_id, k->size);
    int fd = open(k->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return reel_err_set(err, errno, "recording %lld: cannot open %s: %s", (long long)k->rec_id, k->path,
                            strerror(errno));
    uint8_t *au = malloc(k->size);
    ssize_t n = au ? pread(fd, au, k->size, (off_t)k->offset) : -1;
    int e0 = errno;
    close(fd);
    int r;
    if (!au)
        r = reel_err_set(err, ENOMEM, "out of memory");
    else if (n != (ssize_t)k->size)
        r = reel_err_set(err, EIO, "recording %lld: short read of the key frame in %s%s%s", (long long)k->rec_id,
                         k->path, n < 0 ? ": " : "", n < 0 ? strerror(e0) : "");
    else
        r = reel_media_snapshot_jpeg(e->data, e->len, au, k->size, w, jpeg, len, err);
    free(au);
    return r;
}

enum MHD_Result reel_api_thumb(struct reel_http_req *r)
{
    struct reel_thumbs *th = r->cfg->thumbs;
    if (!th)
        return reel_http_send_busy(r, BUSY_RETRY_S, "thumbnails need the recorder (reel run)");
    char tv[72] = "", wv[8] = "";
    int64_t t;
    int tq = reel_http_query_get(r->query, "t", tv, sizeof(tv));
    if (tq != 1 || reel_time_parse(tv, reel_http_wall90k(r), &t) < 0)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "t: expected an RFC 3339 time");
    int w = W_DEFAULT;
    int wq = reel_http_query_get(r->query, "w", wv, sizeof(wv));
    if (wq < 0 || (wq == 1 && (strspn(wv, "0123456789") != strlen(wv) || !wv[0] || (w = atoi(wv)) < W_MIN ||
                               w > W_MAX)))
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "w: expected %d..%d", W_MIN, W_MAX);
    struct reel_store *s;
    struct reel_camera cam;
    enum MHD_Result res;
    if (!reel_api_camera_for(r, &s, &cam, &res))
        return res;
    struct reel_err err = { "" };
    struct key_frame k;
    struct reel_camera sub;
    const char *stream = "sub";
    int rc = reel_store_camera_stream(s, cam.id, REEL_STREAM_SUB, false, &sub, &err);
    rc = rc == 0 ? find_key(s, sub.id, t, &k, &err) : -ENOENT;
    if (rc == -ENOENT) {
        stream = "main";
        rc = find_key(s, cam.id, t, &k, &err);
    }
    struct reel_sample_entry entry = { 0 };
    if (rc == 0)
        rc = reel_store_sample_entry_get(s, k.entry_id, &entry, &err);
    reel_http_store_put(r, s);
    if (rc == -ENOENT) {
        free(entry.data);
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "camera '%s' has no footage at that time", r->name);
    }
    if (rc < 0) {
        free(entry.data);
        return reel_api_read_error(r, rc, &err, "thumbnail of '%s'", r->name);
    }
    char etag[80], when[40];
    snprintf(etag, sizeof(etag), "\"th-%lld-%u-%d\"", (long long)k.rec_id, k.index, w);
    reel_time_format(k.t90k, when, sizeof(when));
    const char *inm = reel_http_header(r, "If-None-Match");
    if (inm && reel_http_etag_none_match(inm, etag)) {
        free(entry.data);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "ETag", etag);
        MHD_add_response_header(resp, "Cache-Control", "private, max-age=3600");
        return reel_http_queue(r, MHD_HTTP_NOT_MODIFIED, resp);
    }
    char pack[4400];
    uint8_t *jpeg = NULL;
    size_t len = 0;
    bool cached = reel_store_thumb_path(r->cfg->datadir, k.camera_id, k.rec_id, pack, sizeof(pack)) == 0 &&
                  reel_thumbs_lookup(th, pack, k.index, (uint16_t)w, &jpeg, &len) == 0;
    if (!cached) {
        if (reel_thumbs_decode_begin(th) < 0) {
            free(entry.data);
            return reel_http_send_busy(r, BUSY_RETRY_S, "too many thumbnails being made: try again shortly");
        }
        rc = decode_key(&k, &entry, w, &jpeg, &len, &err);
        reel_thumbs_decode_end(th);
        if (rc == 0)
            reel_thumbs_add(th, pack, k.index, (uint16_t)w, jpeg, len);   /* best effort: a cache */
    }
    free(entry.data);
    if (rc < 0)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "thumbnail of '%s': %s", r->name, err.msg);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, jpeg, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(jpeg);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    MHD_add_response_header(resp, "Content-Type", "image/jpeg");
    MHD_add_response_header(resp, "ETag", etag);
    MHD_add_response_header(resp, "Cache-Control", "private, max-age=3600");
    MHD_add_response_header(resp, "X-Reel-Thumb", cached ? "cached" : "decoded");
    MHD_add_response_header(resp, "X-Reel-Stream", stream);
    MHD_add_response_header(resp, "X-Reel-Time", when);
    if (strcmp(r->method, "HEAD") != 0)
        reel_api_audit_playback(r, r->name, k.t90k, k.t90k + k.dur90k);
    return reel_http_queue(r, MHD_HTTP_OK, resp);
}

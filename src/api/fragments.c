/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Recorded footage for the timeline's player (Media Source Extensions):
 *   GET /api/cameras/{camera}/recordings?start=T&end=T[&stream=main|sub]
 *       the recordings overlapping a range, oldest first, at most 1000
 *   GET /api/cameras/{camera}/init.mp4?entry=ID
 *       the fMP4 init segment of a sample entry the camera used
 *   GET /api/cameras/{camera}/frag.m4s?rec=ID[&from=OFF][&to=OFF][&keys=1]
 *       one moof + mdat of a recording, from the last key frame at or
 *       before from to just before the first key frame at or after to,
 *       cut before a key frame past 4 MiB
 * OFF is in 90 kHz ticks of the recording's media time (the sum of its
 * frames' durations) since its first frame, and is the fragment's tfdt. A
 * fragment costs one indexed row, one index decode and one pread, whatever
 * the length of the footage around it. See docs/timeline.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "mp4/fmp4.h"
#include "media/transcode.h"
#include "media/xcode.h"
#include "mp4/fmp4_plan.h"

#define RECORDINGS_MAX 1000
#define FRAMES_MAX 10000000u                     /* a recording's frames we decode */

/* An integer query parameter in [min, max]; def when absent. On failure a
 * 400 is queued into *res and false returned. */
static bool query_i64(struct reel_http_req *r, const char *name, int64_t min, int64_t max, int64_t def, bool required,
                      int64_t *ret, enum MHD_Result *res)
{
    char v[32];
    int q = reel_http_query_get(r->query, name, v, sizeof(v));
    if (q == 0 && !required) {
        *ret = def;
        return true;
    }
    char *end = NULL;
    errno = 0;
    long long x = q > 0 ? strtoll(v, &end, 10) : 0;
    if (q <= 0 || !end || end == v || *end || errno || x < min || x > max || v[0] == '+' || v[0] == ' ') {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: %s (an integer from %lld to %lld)", name,
                                    q == 0 ? "required" : "bad value", (long long)min, (long long)max);
        return false;
    }
    *ret = x;
    return true;
}

/* The camera of the path and ?stream=; on failure an answer was queued. */
static bool stream_for(struct reel_http_req *r, struct reel_store **s, struct reel_camera *cam,
                       enum MHD_Result *res)
{
    return reel_api_camera_for(r, s, cam, res) && reel_api_stream_for(r, *s, cam, res);
}

enum MHD_Result reel_api_recordings_list(struct reel_http_req *r)
{
    enum MHD_Result res;
    int64_t from, to;
    if (!reel_api_parse_range_max(r, false, REEL_API_TIMELINE_RANGE_MAX90K, &from, &to, &res))
        return res;
    struct reel_store *s;
    struct reel_camera cam;
    if (!stream_for(r, &s, &cam, &res))
        return res;
    struct reel_err err = { "" };
    struct reel_span *v = NULL;
    size_t n = 0;
    struct reel_sample_entry ents[8];
    size_t nents = 0;
    json_t *arr = json_array();
    int rc = reel_store_read_begin(s, &err);
    if (rc == 0) {
        rc = reel_store_spans_page(s, cam.id, from, to, RECORDINGS_MAX + 1, &v, &n, &err);
        for (size_t i = 0; rc == 0 && i < n && i < RECORDINGS_MAX; i++) {
            const struct reel_sample_entry *e = NULL;
            for (size_t k = 0; k < nents; k++)
                if (ents[k].id == v[i].sample_entry_id)
                    e = &ents[k];
            struct reel_sample_entry tmp;
            if (!e) {
                rc = reel_store_sample_entry_get(s, v[i].sample_entry_id, &tmp, &err);
                if (rc < 0)
                    break;
                if (nents < sizeof(ents) / sizeof(ents[0])) {
                    ents[nents++] = tmp;
                    e = &ents[nents - 1];
                } else {
                    free(ents[0].data);
                    ents[0] = tmp;
                    e = &ents[0];
                }
            }
            json_t *o = json_pack("{s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:s, s:i, s:i, s:b}", "id",
                                  (json_int_t)v[i].id, "start", reel_http_json_time(v[i].start90k), "end",
                                  reel_http_json_time(v[i].start90k + v[i].wall_duration90k), "start90k",
                                  (json_int_t)v[i].start90k, "duration90k", (json_int_t)v[i].wall_duration90k,
                                  "frames", (json_int_t)v[i].frames, "bytes", (json_int_t)v[i].bytes, "entry",
                                  (json_int_t)v[i].sample_entry_id, "codec", e->codec_string, "width",
                                  (int)e->width, "height", (int)e->height, "open", v[i].open);
            if (!o || json_array_append_new(arr, o) < 0)
                rc = reel_err_set(&err, ENOMEM, "out of memory");
        }
        reel_store_read_end(s);
    }
    reel_http_store_put(r, s);
    for (size_t k = 0; k < nents; k++)
        free(ents[k].data);
    bool more = n > RECORDINGS_MAX;
    free(v);
    if (rc < 0) {
        json_decref(arr);
        return reel_api_read_error(r, rc, &err, "recordings of '%s'", r->name);
    }
    json_t *o = json_pack("{s:o, s:b}", "recordings", arr, "more", more);
    return reel_http_send_json(r, MHD_HTTP_OK, o, "Cache-Control", "private, no-cache", NULL);
}

enum MHD_Result reel_api_init_mp4(struct reel_http_req *r)
{
    enum MHD_Result res;
    int64_t entry;
    if (!query_i64(r, "entry", 1, INT64_MAX, 0, true, &entry, &res))
        return res;
    struct reel_store *s;
    struct reel_camera cam;
    if (!stream_for(r, &s, &cam, &res))
        return res;
    struct reel_err err = { "" };
    struct reel_sample_entry e = { 0 };
    int rc = reel_store_camera_used_entry(s, cam.id, entry, &err);
    if (rc == 0)
        rc = reel_store_sample_entry_get(s, entry, &e, &err);
    reel_http_store_put(r, s);
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "camera '%s' has no sample entry %" PRId64, r->name,
                                    entry);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "sample entry");
    struct reel_buf b;
    rc = reel_fmp4_init(e.data, e.len, e.width, e.height, &b);
    free(e.data);
    if (rc < 0)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "init segment of entry %" PRId64 ": %s",
                                    entry, strerror(-rc));
    struct MHD_Response *resp = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        reel_buf_free(&b);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    /* an entry's bytes never change */
    MHD_add_response_header(resp, "Cache-Control", "private, max-age=86400");
    return reel_http_queue(r, MHD_HTTP_OK, resp);
}

/* The transcode's output access units, gathered. */
struct xc_out {
    struct reel_buf data;
    struct reel_fmp4_sample *samples;
    int64_t *ts;
    size_t n, cap;
    uint8_t *entry;
    size_t entry_len;
    int width, height;
    int err;
};

static void on_out(void *arg, const struct reel_xcode_out *o)
{
    struct xc_out *x = arg;
    if (x->err)
        return;
    if (!x->entry) {
        x->entry = malloc(o->entry_len);
        if (!x->entry) {
            x->err = -ENOMEM;
            return;
        }
        memcpy(x->entry, o->entry, o->entry_len);
        x->entry_len = o->entry_len;
        x->width = o->width;
        x->height = o->height;
    } else if (o->entry_len != x->entry_len || memcmp(o->entry, x->entry, x->entry_len) != 0) {
        x->err = -EPROTO; /* one fragment, one entry: cannot change size mid-fragment */
        return;
    }
    if (x->n >= x->cap) {
        x->err = -E2BIG;
        return;
    }
    if ((x->err = reel_buf_append(&x->data, o->data, o->len)) < 0)
        return;
    x->samples[x->n] = (struct reel_fmp4_sample){ (uint32_t)o->len, 0, o->key };
    x->ts[x->n++] = o->ts90k;
}

/* H.265 samples (p's, at src) to init segment + moof + mdat of H.264, at
 * most REEL_TRANSCODE_WIDTH x HEIGHT, into *ret (malloc'd). */
static int transcode(const struct reel_sample_entry *e, const struct reel_recording *rec,
                     const struct reel_fmp4_plan *p, const uint8_t *src, uint8_t **ret, size_t *ret_len,
                     int64_t *ret_from, struct reel_err *err)
{
    struct reel_xcode *xc;
    int rc = reel_xcode_new(&xc, REEL_TRANSCODE_WIDTH, REEL_TRANSCODE_HEIGHT, err);
    if (rc < 0)
        return rc;
    struct xc_out x = { .cap = p->n };
    reel_buf_init(&x.data, REEL_FMP4_PLAN_MAX);
    x.samples = calloc(p->n, sizeof(*x.samples));
    x.ts = calloc(p->n, sizeof(*x.ts));
    if (!x.samples || !x.ts)
        x.err = -ENOMEM;
    int64_t t = p->from_off;
    for (size_t i = 0; i < p->n && x.err == 0; i++) {
        rc = reel_xcode_feed(xc, e->data, e->len, src, p->samples[i].size, t, rec->start90k + t, p->samples[i].key,
                             on_out, &x, err);
        if (rc < 0 && x.n == 0 && i == 0)
            x.err = rc; /* the key frame itself does not decode */
        src += p->samples[i].size;
        t += p->samples[i].duration90k;
    }
    reel_xcode_free(xc);
    struct reel_buf init = { 0 }, head = { 0 };
    rc = x.err ? x.err : x.n == 0 ? -ENODATA : 0;
    if (rc == 0) {
        for (size_t i = 0; i < x.n; i++)
            x.samples[i].duration90k = (uint32_t)((i + 1 < x.n ? x.ts[i + 1] : p->to_off) - x.ts[i]);
        rc = reel_fmp4_init(x.entry, x.entry_len, x.width, x.height, &init);
        if (rc == 0 && (rc = reel_fmp4_run_head(1, (uint64_t)x.ts[0], x.samples, x.n, &head)) < 0)
            reel_buf_free(&init);
    }
    if (rc == 0) {
        *ret_len = init.len + head.len + x.data.len;
        *ret = malloc(*ret_len);
        if (!*ret) {
            rc = -ENOMEM;
        } else {
            memcpy(*ret, init.data, init.len);
            memcpy(*ret + init.len, head.data, head.len);
            memcpy(*ret + init.len + head.len, x.data.data, x.data.len);
            *ret_from = x.ts[0];
        }
        reel_buf_free(&init);
        reel_buf_free(&head);
    }
    if (rc < 0 && !err->msg[0])
        reel_err_set(err, -rc, "%s", strerror(-rc));
    reel_buf_free(&x.data);
    free(x.samples);
    free(x.ts);
    free(x.entry);
    return rc;
}

enum MHD_Result reel_api_frag(struct reel_http_req *r)
{
    enum MHD_Result res;
    int64_t rec_id, from, to, keys, h264;
    if (!query_i64(r, "rec", 1, INT64_MAX, 0, true, &rec_id, &res) ||
        !query_i64(r, "from", 0, INT64_C(1) << 40, 0, false, &from, &res) ||
        !query_i64(r, "to", 1, INT64_MAX, INT64_MAX, false, &to, &res) ||
        !query_i64(r, "keys", 0, 1, 0, false, &keys, &res) || !query_i64(r, "h264", 0, 1, 0, false, &h264, &res))
        return res;
    if (to <= from)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "to must be after from");
    struct reel_store *s;
    struct reel_camera cam;
    if (!stream_for(r, &s, &cam, &res))
        return res;
    struct reel_err err = { "" };
    struct reel_recording rec = { 0 };
    struct reel_sample_entry e = { 0 };
    int rc = reel_store_read_begin(s, &err);
    if (rc == 0) {
        rc = reel_store_recording_get(s, rec_id, &rec, &err);
        if (rc == 0 && rec.camera_id != cam.id)
            rc = -ENOENT;
        if (rc == 0 && h264)
            rc = reel_store_sample_entry_get(s, rec.sample_entry_id, &e, &err);
        reel_store_read_end(s);
    }
    reel_http_store_put(r, s);
    if (rc == -ENOENT) {
        free(rec.index);
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "camera '%s' has no recording %" PRId64, r->name,
                                    rec_id);
    }
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "recording %" PRId64, rec_id);
    bool hevc = h264 && (strncmp(e.codec_string, "hvc1", 4) == 0 || strncmp(e.codec_string, "hev1", 4) == 0);
    if (!hevc) {
        free(e.data);
        e.data = NULL;
    } else if (!r->cfg->transcoders) {
        free(rec.index);
        free(e.data);
        return reel_http_send_error(r, MHD_HTTP_NOT_IMPLEMENTED, "transcoding not available");
    } else if ((rc = reel_transcode_slot_take(r->cfg->transcoders, &err)) < 0) {
        free(rec.index);
        free(e.data);
        return reel_http_send_busy(r, 5, "too many transcodes: try again later");
    }
    if (rec.frames == 0 || rec.frames > FRAMES_MAX) {
        free(rec.index);
        if (hevc) {
            reel_transcode_slot_give(r->cfg->transcoders);
            free(e.data);
        }
        return reel_http_send_error(r, rec.frames ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_NOT_FOUND,
                                    "recording %" PRId64 " has %s", rec_id, rec.frames ? "too many frames" : "no frames");
    }
    struct reel_frame_info *fi = malloc(rec.frames * sizeof(*fi));
    rc = fi ? reel_index_decode(rec.index, rec.index_len, rec.frames, fi, &err) : -ENOMEM;
    free(rec.index);
    struct reel_fmp4_plan p = { 0 };
    if (rc == 0)
        rc = reel_fmp4_plan(fi, rec.frames, from, to, keys != 0, &p);
    free(fi);
    if (rc < 0 && hevc) {
        reel_transcode_slot_give(r->cfg->transcoders);
        free(e.data);
    }
    if (rc == -ERANGE && rec.open) {
        /* the live edge of a recording still being written: nothing more
         * yet, not an error (the player asks again); 204 with
         * X-Reel-From = X-Reel-To = from */
        struct MHD_Response *none = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!none)
            return MHD_NO;
        char a[32];
        snprintf(a, sizeof(a), "%" PRId64, from);
        MHD_add_response_header(none, "X-Reel-From", a);
        MHD_add_response_header(none, "X-Reel-To", a);
        MHD_add_response_header(none, "Cache-Control", "private, no-cache");
        return reel_http_queue(r, MHD_HTTP_NO_CONTENT, none);
    }
    if (rc == -ERANGE)
        return reel_http_send_error(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, "from: at or past the end of recording %" PRId64,
                                    rec_id);
    if (rc < 0)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "recording %" PRId64 ": %s", rec_id,
                                    err.msg[0] ? err.msg : strerror(-rc));
    struct reel_buf head;
    rc = reel_fmp4_run_head((uint32_t)(p.first + 1), (uint64_t)p.from_off, p.samples, p.n, &head);
    uint8_t *body = NULL;
    size_t total = 0;
    if (rc == 0) {
        total = head.len + p.bytes;
        body = malloc(total);
        rc = body ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        memcpy(body, head.data, head.len);
        int fd = open(rec.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            rc = -errno;
        size_t at = head.len;
        /* one read per contiguous stretch (keys=1: one per key frame) */
        for (size_t i = 0; rc == 0 && i < p.n;) {
            size_t j = i + 1;
            uint64_t len = p.samples[i].size;
            while (j < p.n && p.offs[j] == p.offs[j - 1] + p.samples[j - 1].size)
                len += p.samples[j++].size;
            ssize_t got = pread(fd, body + at, len, (off_t)p.offs[i]);
            if (got < 0)
                rc = -errno;
            else if ((uint64_t)got != len)
                rc = -EIO;
            at += len;
            i = j;
        }
        if (fd >= 0)
            close(fd);
    }
    reel_buf_free(&head);
    free(p.offs);
    if (rc == 0 && hevc) {
        /* the H.264 transcode: its own init segment, then the fragment */
        uint8_t *out = NULL;
        size_t out_len = 0;
        int64_t from_off = p.from_off;
        rc = transcode(&e, &rec, &p, body + (total - p.bytes), &out, &out_len, &from_off, &err);
        free(body);
        body = out;
        total = out_len;
        p.from_off = from_off;
    }
    if (hevc) {
        reel_transcode_slot_give(r->cfg->transcoders);
        free(e.data);
    }
    free(p.samples);
    if (rc < 0) {
        free(body);
        if (hevc)
            return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "recording %" PRId64 ": transcode: %s",
                                        rec_id, err.msg[0] ? err.msg : strerror(-rc));
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "recording %" PRId64 ": reading %s: %s",
                                    rec_id, rec.path, strerror(-rc));
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(total, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    char a[32], b[32];
    snprintf(a, sizeof(a), "%" PRId64, p.from_off);
    snprintf(b, sizeof(b), "%" PRId64, p.to_off);
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    MHD_add_response_header(resp, "X-Reel-From", a);
    MHD_add_response_header(resp, "X-Reel-To", b);
    MHD_add_response_header(resp, "Cache-Control", rec.open ? "private, no-cache" : "private, max-age=3600");
    reel_api_audit_playback(r, cam.name, rec.start90k + p.from_off, rec.start90k + p.to_off);
    return reel_http_queue(r, MHD_HTTP_OK, resp);
}

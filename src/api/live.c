/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/cameras/{camera}/live.mp4[?stream=main|sub|h264]: the camera's
 * live video as fragmented MP4 (src/mp4/fmp4.h): the init segment, then one
 * fragment per access unit, starting at the hub's cached GOP (its key
 * frame: instant start), decode times from 0, each with a prft box (the
 * wall time the recorder received the AU). The body ends when the camera
 * disconnects, or its sample entry changes (the client reconnects).
 *
 * Not on the worker pool and never blocking libmicrohttpd's threads: the
 * content reader takes what the hub subscription holds; when it is empty
 * it suspends the connection until the subscription's eventfd is readable
 * (http/stream.h) and returns 0. A slow client: its subscription (at most
 * LIVE_SUB_BYTES queued) is dropped by the hub to the next key frame.
 * Viewer caps per camera and in all (503 with Retry-After).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "base/log.h"
#include "http/parse.h"
#include "http/stream.h"
#include "hub/hub.h"
#include "media/transcode.h"
#include "mp4/fmp4.h"

#define LIVE_SUB_BYTES (4u << 20)   /* queued AU bytes per viewer */
#define LIVE_SUB_ENTRIES 1024
#define LIVE_BLOCK (64 * 1024)
#define BUSY_RETRY_S 5
#define DEFAULT_DURATION90K 3000

struct live {
    struct reel_http_streams *streams;
    struct reel_hub *hub;
    struct reel_hub_sub *sub;
    struct reel_http_stream_waiter w;
    int64_t camera_id;              /* the hub camera, and the viewer cap's key */
    int64_t entry_id;               /* 0 until the first key frame */
    struct reel_transcoders *transcodes;   /* non-NULL: a viewer of transcode_of's transcode */
    int64_t transcode_of;
    int64_t ts0, last_dec;
    uint32_t seq, dur;
    bool ended;
    struct reel_buf init;           /* the init segment, sent from init_off */
    size_t init_off;
    uint8_t head[REEL_FMP4_HEAD_MAX];
    size_t head_len, head_off;
    struct reel_hub_msg msg;        /* the AU being sent (the mdat payload) */
    bool have_msg;
    size_t au_off;
    const struct reel_logger *log;
    char name[REEL_HTTP_SEG_MAX];
    struct reel_api_live_audit *audit;  /* the audit log's view (live.start at open, live.end at free) */
    uint64_t sent;                  /* body bytes handed to libmicrohttpd */
};

static size_t take(const uint8_t *src, size_t len, size_t *off, char *buf, size_t max)
{
    size_t n = len - *off < max ? len - *off : max;
    memcpy(buf, src + *off, n);
    *off += n;
    return n;
}

/* The AU in l->msg becomes the next fragment (and the init segment first). */
static int live_frame(struct live *l)
{
    const struct reel_hub_au *au = &l->msg.au;
    if (l->entry_id == 0) {
        if (!au->key)
            return -EAGAIN;             /* the hub starts at a key frame; to be sure */
        uint8_t *box = malloc(REEL_HUB_ENTRY_MAX);
        if (!box)
            return -ENOMEM;
        size_t len = 0;
        int w = 0, h = 0;
        int r = reel_hub_entry_get(l->hub, l->camera_id, au->sample_entry_id, box, REEL_HUB_ENTRY_MAX, &len, &w, &h,
                                   NULL);
        if (r == 0)
            r = reel_fmp4_init(box, len, w, h, &l->init);
        free(box);
        if (r < 0)
            return r;
        l->init_off = 0;
        l->entry_id = au->sample_entry_id;
        l->ts0 = au->ts90k;
        l->last_dec = -1;
    } else if (au->sample_entry_id != l->entry_id) {
        return -ESTALE;                 /* a new init segment: the client reconnects */
    }
    int64_t dec = au->ts90k - l->ts0;
    if (dec <= l->last_dec)
        dec = l->last_dec + 1;
    if (l->last_dec >= 0 && dec - l->last_dec < 90000)
        l->dur = (uint32_t)(dec - l->last_dec);
    l->last_dec = dec;
    struct reel_fmp4_frag f = { .seq = ++l->seq, .base_decode90k = (uint64_t)dec, .au_len = au->len,
                                .duration90k = l->dur ? l->dur : DEFAULT_DURATION90K, .key = au->key,
                                .wall90k = au->wall90k };
    int n = reel_fmp4_fragment_head(&f, l->head, sizeof(l->head));
    if (n < 0)
        return n;
    l->head_len = (size_t)n;
    l->head_off = 0;
    l->au_off = 0;
    return 0;
}

static ssize_t live_fill(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct live *l = cls;
    for (;;) {
        if (l->init_off < l->init.len)
            return (ssize_t)take(l->init.data, l->init.len, &l->init_off, buf, max);
        if (l->head_off < l->head_len)
            return (ssize_t)take(l->head, l->head_len, &l->head_off, buf, max);
        if (l->have_msg) {
            if (l->au_off < l->msg.au.len)
                return (ssize_t)take(l->msg.au.data, l->msg.au.len, &l->au_off, buf, max);
            reel_hub_msg_release(&l->msg);
            l->have_msg = false;
        }
        if (l->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        int r = reel_hub_sub_read(l->sub, &l->msg, 0);
        if (r == -EAGAIN)
            return reel_http_stream_wait(l->streams, &l->w) < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : 0;
        if (r < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (l->msg.kind == REEL_HUB_STATE) {
            if (!l->msg.state.connected)
                l->ended = true;        /* the camera stopped */
            reel_hub_msg_release(&l->msg);
            continue;
        }
        if (l->msg.kind != REEL_HUB_AU) {
            reel_hub_msg_release(&l->msg);
            continue;
        }
        r = live_frame(l);
        if (r == -EAGAIN) {
            reel_hub_msg_release(&l->msg);
            continue;
        }
        if (r < 0) {
            reel_hub_msg_release(&l->msg);
            l->ended = true;
            continue;
        }
        l->have_msg = true;
    }
}

static ssize_t live_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct live *l = cls;
    ssize_t n = live_fill(cls, pos, buf, max);
    if (n > 0)
        l->sent += (uint64_t)n;
    return n;
}

static void live_free(void *cls)
{
    struct live *l = cls;
    reel_api_audit_live_end(l->audit, l->sent);
    if (l->log)
        reel_log(l->log, REEL_LOG_DEBUG, "live: %s: viewer gone after %u fragments, %llu access units skipped "
                 "(read too slowly)", l->name, l->seq, (unsigned long long)reel_hub_sub_lost(l->sub));
    reel_http_stream_forget(l->streams, &l->w);
    if (l->have_msg)
        reel_hub_msg_release(&l->msg);
    reel_hub_unsubscribe(l->sub);
    reel_buf_free(&l->init);
    reel_http_streams_release(l->streams, l->camera_id);
    if (l->transcodes)
        reel_transcode_release(l->transcodes, l->transcode_of);
    free(l);
}

/* The one place for ?stream=h264: an H.265 camera's H.264 transcode
 * (media/transcode.h, hub camera REEL_HUB_TRANSCODE_ID(id)); an H.264
 * camera streams as it is. The codec is the cached key frame's entry's;
 * with none cached the transcode starts anyway (it reads H.264 too).
 * *hub_id is the hub camera to stream, *transcoded whether a viewer of the
 * transcode was taken (released in live_free). */
static bool live_h264(struct reel_http_req *r, const struct reel_camera *cam, int64_t *hub_id,
                      bool *transcoded, enum MHD_Result *ret_result)
{
    struct reel_hub *hub = r->cfg->hub;
    struct reel_hub_msg m;
    if (reel_hub_keyframe_get(hub, cam->id, &m) == 0) {
        char cs[32] = "";
        size_t elen = 0;
        int rc = reel_hub_entry_get(hub, cam->id, m.au.sample_entry_id, NULL, 0, &elen, NULL, NULL, cs);
        reel_hub_msg_release(&m);
        if ((rc == 0 || rc == -ENOSPC) && strncmp(cs, "avc", 3) == 0)
            return true;            /* H.264 already */
    }
    if (!r->cfg->transcoders) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_NOT_IMPLEMENTED, "transcoding not available");
        return false;
    }
    struct reel_err err = { { 0 } };
    int rc = reel_transcode_acquire(r->cfg->transcoders, cam->id, hub_id, &err);
    if (rc == -EBUSY) {
        *ret_result = reel_http_send_busy(r, BUSY_RETRY_S, "too many transcodes: try again later");
        return false;
    }
    if (rc < 0) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "transcode: %s", err.msg);
        return false;
    }
    *transcoded = true;
    return true;
}

enum MHD_Result reel_api_live(struct reel_http_req *r)
{
    struct reel_hub *hub = r->cfg->hub;
    if (!hub)
        return reel_http_send_busy(r, BUSY_RETRY_S, "live view needs the recorder (reel run)");
    char v[16] = "";
    int q = reel_http_query_get(r->query, "stream", v, sizeof(v));
    bool h264 = q == 1 && strcmp(v, "h264") == 0;
    struct reel_store *s;
    struct reel_camera cam;
    enum MHD_Result res;
    if (!reel_api_camera_for(r, &s, &cam, &res))
        return res;
    if (h264) {
        reel_http_store_put(r, s);
    } else if (!reel_api_stream_for(r, s, &cam, &res)) {
        return res;
    } else {
        reel_http_store_put(r, s);
    }
    int64_t hub_id = cam.id;
    if (cam.disabled)
        return reel_http_send_json(r, MHD_HTTP_CONFLICT,
                                   json_pack("{s:s,s:s}", "error", "the camera is disabled", "reason", "disabled"),
                                   NULL);
    struct reel_hub_state st;
    if (reel_hub_status_get(hub, cam.id, &st) < 0 || !st.connected) {
        bool known = reel_hub_status_get(hub, cam.id, &st) == 0;
        char msg[REEL_HUB_ERROR_MAX + 32];
        snprintf(msg, sizeof(msg), "the camera is offline%s%s", known && st.last_error[0] ? ": " : "",
                 known ? st.last_error : "");
        return reel_http_send_json(r, MHD_HTTP_CONFLICT, json_pack("{s:s,s:s}", "error", msg, "reason", "offline"),
                                   NULL);
    }
    bool transcoded = false;
    if (h264 && !live_h264(r, &cam, &hub_id, &transcoded, &res))
        return res;

    struct reel_http_streams *streams = reel_http_streams_of(r);
    if (reel_http_streams_acquire(streams, hub_id) < 0) {
        if (transcoded)
            reel_transcode_release(r->cfg->transcoders, cam.id);
        return reel_http_send_busy(r, BUSY_RETRY_S, "too many live viewers: try again later");
    }
    struct live *l = calloc(1, sizeof(*l));
    if (!l) {
        reel_http_streams_release(streams, hub_id);
        if (transcoded)
            reel_transcode_release(r->cfg->transcoders, cam.id);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    l->streams = streams;
    l->hub = hub;
    l->camera_id = hub_id;
    l->log = r->cfg->log;
    snprintf(l->name, sizeof(l->name), "%s", r->name);
    if (transcoded) {
        l->transcodes = r->cfg->transcoders;
        l->transcode_of = cam.id;
    }
    struct reel_hub_sub_cfg sc = { .camera_id = hub_id, .kinds = REEL_HUB_AU | REEL_HUB_STATE, .gop = true,
                                   .max_entries = LIVE_SUB_ENTRIES, .max_bytes = LIVE_SUB_BYTES };
    int rc = reel_hub_subscribe(hub, &sc, &l->sub);
    int fd = rc < 0 ? rc : reel_hub_sub_fd(l->sub);
    struct MHD_Response *resp = NULL;
    if (fd >= 0)
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, LIVE_BLOCK, live_read, l, live_free);
    if (!resp) {
        reel_hub_unsubscribe(l->sub);
        free(l);
        reel_http_streams_release(streams, hub_id);
        if (transcoded)
            reel_transcode_release(r->cfg->transcoders, cam.id);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "live view: out of resources");
    }
    l->w.conn = r->conn;
    l->w.fd = fd;
    l->audit = reel_api_audit_live_start(r, r->name);
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return reel_http_queue(r, MHD_HTTP_OK, resp);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A camera test on a private loop: see probe.h.
 */
#include "reel/probe.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/params.h"
#include "reel/camera.h"
#include "reel/loop.h"

#define MEASURE_NS (2 * REEL_NS_PER_SEC)   /* read after the key frame, for fps and bitrate */

struct probe {
    struct reel_loop *loop;
    struct reel_cam *cam;
    struct reel_http_probe *ret;
    struct reel_timer deadline;
    bool done, have_key;
    int64_t key_mono;              /* when the key frame came */
    int64_t first_ts, last_ts;     /* 90 kHz, from the key frame on */
    uint64_t frames, bytes;
};

static bool has(const char *s, const char *w) { return strstr(s, w) != NULL; }

const char *reel_probe_reason(const char *e)
{
    if (has(e, "redirect"))
        return "redirect";
    if (has(e, "authentication failed") || has(e, "401") || has(e, "403") || has(e, "Basic"))
        return "auth";
    if (has(e, "not supported") || has(e, "unsupported"))
        return "unsupported_codec";
    if (has(e, "no H.264/H.265 video") || has(e, "no video stream") || has(e, "stream not found"))
        return "no_video";
    if (has(e, "Connection refused"))
        return "refused";
    if (has(e, "cannot resolve") || has(e, "unreachable") || has(e, "No route to host") ||
        has(e, "Network is down"))
        return "unreachable";
    if (has(e, "timed out") || has(e, "did not answer") || has(e, "stalled") || has(e, "no UDP packets"))
        return "timeout";
    return "protocol";
}

static void finish(struct probe *p)
{
    if (p->done)
        return;
    p->done = true;
    reel_loop_stop(p->loop);
}

static void fail(struct probe *p, const char *reason, const char *error)
{
    if (p->done)
        return;
    p->ret->ok = false;
    snprintf(p->ret->reason, sizeof(p->ret->reason), "%s", reason);
    snprintf(p->ret->error, sizeof(p->ret->error), "%s", error);
    finish(p);
}

static void on_deadline(struct reel_timer *t)
{
    struct probe *p = t->opaque;
    if (p->have_key) {                 /* a key frame came: what was measured is the answer */
        p->ret->ok = true;
        finish(p);
        return;
    }
    fail(p, "timeout", p->frames ? "no key frame within the deadline" : "no video within the deadline");
}

static void on_state(void *opaque, const struct reel_camera_status *st)
{
    struct probe *p = opaque;
    /* the first failure is the answer: the streamer would now back off and retry */
    if (strncmp(st->state, "retrying", 8) == 0 && !p->have_key)
        fail(p, reel_probe_reason(st->last_error), st->last_error);
}

static void on_au(void *opaque, int64_t camera_id, const struct reel_cam_au *au)
{
    (void)camera_id;
    struct probe *p = opaque;
    if (p->done)
        return;
    int64_t now = reel_loop_now(p->loop);
    if (!p->have_key) {
        if (!au->key || !au->params)
            return;
        struct reel_http_probe *r = p->ret;
        const struct reel_video_params *v = au->params;
        snprintf(r->codec, sizeof(r->codec), "%s", v->codec == REEL_CODEC_H265 ? "h265" : "h264");
        snprintf(r->codec_string, sizeof(r->codec_string), "%s", v->codec_string);
        r->width = v->width;
        r->height = v->height;
        if (au->len <= REEL_HTTP_PROBE_KEY_MAX && v->sample_entry_len <= REEL_HTTP_PROBE_KEY_MAX) {
            r->key = malloc(au->len ? au->len : 1);
            r->entry = malloc(v->sample_entry_len ? v->sample_entry_len : 1);
            if (r->key && r->entry) {
                memcpy(r->key, au->data, au->len);
                r->key_len = au->len;
                memcpy(r->entry, v->sample_entry, v->sample_entry_len);
                r->entry_len = v->sample_entry_len;
            } else {
                free(r->key);
                free(r->entry);
                r->key = r->entry = NULL;
            }
        }
        snprintf(r->audio, sizeof(r->audio), "%s", reel_cam_probe_audio(p->cam));
        for (char *q = r->audio; *q; q++)
            *q = (char)tolower((unsigned char)*q);     /* "AAC" -> "aac" as the API says */
        p->have_key = true;
        p->key_mono = now;
        p->first_ts = au->ts90k;
    }
    p->frames++;
    p->bytes += au->len;
    p->last_ts = au->ts90k;
    int64_t span = p->last_ts - p->first_ts;
    if (p->frames > 1 && span > 0) {
        p->ret->fps = (double)(p->frames - 1) * REEL_90K / (double)span;
        p->ret->bitrate_bps = (double)(p->bytes - au->len) * 8.0 * REEL_90K / (double)span;
    }
    if (now - p->key_mono >= MEASURE_NS) {
        p->ret->ok = true;
        finish(p);
    }
}

int reel_probe_camera(const struct reel_clock *clock, const struct reel_logger *log, const struct reel_camera *row,
                      const char *password, int64_t deadline_ns, struct reel_http_probe *ret)
{
    memset(ret, 0, sizeof(*ret));
    struct probe p = { .ret = ret };
    int r = reel_loop_new(&p.loop, clock);
    if (r < 0)
        return r;
    struct reel_camera cfg = *row;
    cfg.id = 0;
    snprintf(cfg.name, sizeof(cfg.name), "(test)");
    cfg.audio = false;
    cfg.parent_id = 0;
    cfg.kind = REEL_STREAM_MAIN;
    struct reel_cam_hooks hooks = { .on_au = on_au, .on_state = on_state, .opaque = &p };
    struct reel_cam_opts opts = {
        .media_timeout_ns = deadline_ns,
        .connect_timeout_ns = deadline_ns,
        .resolve_timeout_ns = deadline_ns / 2,
        .backoff_min_ns = 3600 * REEL_NS_PER_SEC,   /* never retried: the first failure answers */
        .backoff_max_ns = 3600 * REEL_NS_PER_SEC,
        .udp_silence_ns = deadline_ns / 2,
        .tcp_retry_ns = 3600 * REEL_NS_PER_SEC,
        .hooks = &hooks,
    };
    /* The streamer's own lines ("...; retrying in 3600 s") would mislead in
     * the recorder's log: only with -v (debug); the server logs the result. */
    struct reel_logger quiet = { .fd = log ? log->fd : 2, .min = (enum reel_log_level)(REEL_LOG_ERROR + 1) };
    const struct reel_logger *clog = log && log->min <= REEL_LOG_DEBUG ? log : &quiet;
    r = reel_cam_new(&p.cam, p.loop, NULL, clog, &cfg, password, &opts);
    if (r < 0) {
        reel_loop_free(p.loop);
        if (r == -EINVAL) {
            ret->ok = false;
            snprintf(ret->reason, sizeof(ret->reason), "auth");
            snprintf(ret->error, sizeof(ret->error), "password too long");
            return 0;
        }
        return r;
    }
    reel_timer_init(&p.deadline, on_deadline, &p);
    r = reel_loop_timer_set(p.loop, &p.deadline, reel_loop_now(p.loop) + deadline_ns);
    if (r == 0) {
        reel_cam_start(p.cam);
        if (!p.done)
            r = reel_loop_run(p.loop);
    }
    reel_loop_timer_cancel(p.loop, &p.deadline);
    reel_cam_stop(p.cam);
    reel_cam_free(p.cam);
    reel_loop_free(p.loop);
    if (r < 0) {
        free(ret->key);
        free(ret->entry);
        memset(ret, 0, sizeof(*ret));
        return r;
    }
    if (!ret->ok) {
        free(ret->key);
        free(ret->entry);
        ret->key = ret->entry = NULL;
        ret->key_len = ret->entry_len = 0;
    }
    return 0;
}

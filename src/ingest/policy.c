/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The camera policy (see policy.h): backoff, outage reasons, timestamp
 * fix-ups, parameter changes, timeouts and transport fall-backs, as a state
 * machine that never touches a socket, a file or the system clock.
 */
#include "ingest/policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rtsp/url.h"

#define MAX_REDIRECTS 5
#define JUMP_FWD_90K (10 * REEL_90K)      /* a forward jump over this starts a new run */
#define JUMP_BACK_90K (REEL_90K / 2)      /* so does one backwards over this */
#define MAX_INTERVAL_90K REEL_90K         /* cap on the interval given to a repeated timestamp */
#define STATUS_WINDOW_NS (5 * REEL_NS_PER_SEC)

static void do_connect(struct reel_ingest_policy *p);
static void arm(struct reel_ingest_policy *p);

static int64_t now_ns(const struct reel_ingest_policy *p) { return reel_clock_mono(p->clock); }
static int64_t wall90k(const struct reel_ingest_policy *p) { return reel_ns_to_90k(reel_clock_wall(p->clock)); }

static void logf_(struct reel_ingest_policy *p, enum reel_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(struct reel_ingest_policy *p, enum reel_log_level lvl, const char *fmt, ...)
{
    char raw[512], line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    reel_rtsp_url_redact(raw, line, sizeof(line));    /* URLs as scheme://host:port only */
    p->ops.log(p->ops.opaque, lvl, line);
}

static void set_state(struct reel_ingest_policy *p, enum reel_ingest_state st)
{
    p->state = st;
    if (p->ops.state_changed)
        p->ops.state_changed(p->ops.opaque);
}

void reel_ingest_init(struct reel_ingest_policy *p, const struct reel_ingest_cfg *cfg)
{
    memset(p, 0, sizeof(*p));
    p->cfg = *cfg;
    p->ops = *cfg->ops;
    p->clock = cfg->clock ? cfg->clock : reel_clock_system();
    struct reel_ingest_cfg *c = &p->cfg;
    if (c->media_timeout_ns <= 0) c->media_timeout_ns = 10 * REEL_NS_PER_SEC;
    if (c->connect_timeout_ns <= 0) c->connect_timeout_ns = 10 * REEL_NS_PER_SEC;
    if (c->resolve_timeout_ns <= 0) c->resolve_timeout_ns = 5 * REEL_NS_PER_SEC;
    if (c->backoff_min_ns <= 0) c->backoff_min_ns = REEL_NS_PER_SEC;
    if (c->backoff_max_ns <= 0) c->backoff_max_ns = 30 * REEL_NS_PER_SEC;
    if (c->backoff_max_ns < c->backoff_min_ns) c->backoff_max_ns = c->backoff_min_ns;
    if (c->udp_silence_ns <= 0) c->udp_silence_ns = 5 * REEL_NS_PER_SEC;
    if (c->tcp_retry_ns <= 0) c->tcp_retry_ns = 3600 * REEL_NS_PER_SEC;
    snprintf(p->url, sizeof(p->url), "%s", cfg->url);
    p->udp = cfg->udp;
    p->backoff_ns = c->backoff_min_ns;
    p->rtsp_deadline = INT64_MAX;
    p->win_start = now_ns(p);
    p->state = REEL_INGEST_IDLE;
}

/* ---- outages ---- */

static void outage_end(struct reel_ingest_policy *p)
{
    if (!p->outage_open)
        return;
    p->ops.outage_end(p->ops.opaque, wall90k(p));
    p->outage_open = false;
}

static void outage_begin(struct reel_ingest_policy *p, const char *reason)
{
    if (p->outage_open && strcmp(p->outage_reason, reason) == 0)
        return;
    /* "connecting" is replaced by the first real cause (the store updates the
     * reason of the open outage); any other cause ends it first. */
    if (p->outage_open && strcmp(p->outage_reason, "connecting") != 0)
        outage_end(p);
    p->ops.outage_begin(p->ops.opaque, wall90k(p), reason);
    p->outage_open = true;
    snprintf(p->outage_reason, sizeof(p->outage_reason), "%s", reason);
}

/* ---- run ---- */

static void end_run(struct reel_ingest_policy *p)
{
    if (p->run) {
        p->ops.run_close(p->ops.opaque);
        p->run = false;
    }
    p->have_last = false;
}

static void close_conn(struct reel_ingest_policy *p)
{
    p->closing = true;
    p->ops.disconnect(p->ops.opaque);
    p->closing = false;
    p->playing_since = 0;
    p->resolving = false;
    p->rtsp_deadline = INT64_MAX;
    p->fail_pending[0] = '\0';
    p->have_seen = false;
}

static int timer_set(struct reel_ingest_policy *p, int64_t deadline)
{
    int r = p->ops.timer_set(p->ops.opaque, deadline);
    if (r < 0)
        logf_(p, REEL_LOG_ERROR, "cannot arm the timer: %s", strerror(-r));
    return r;
}

/* ---- failure and backoff ---- */

void reel_ingest_fail(struct reel_ingest_policy *p, const char *reason_in)
{
    if (p->state == REEL_INGEST_STOPPED)
        return;
    /* URLs cut to their origin (no userinfo, path or query); the logger
     * escapes the log line, last_error and the outage get escaped text. */
    char clean[REEL_INGEST_REASON_MAX], reason[REEL_INGEST_REASON_MAX];
    reel_rtsp_url_redact(reason_in, clean, sizeof(clean));
    reel_log_escape(clean, strlen(clean), reason, sizeof(reason));
    close_conn(p);
    end_run(p);
    p->recording_logged = false;
    int64_t delay = p->backoff_ns;
    p->backoff_ns = p->backoff_ns > p->cfg.backoff_max_ns / 2 ? p->cfg.backoff_max_ns : p->backoff_ns * 2;
    /* One line per distinct failure: a camera that stays down with the same
     * cause is not logged again at every retry. */
    if (strcmp(reason, p->last_error) != 0)
        logf_(p, REEL_LOG_ERROR, "%s; retrying in %.0f s", clean, (double)delay / REEL_NS_PER_SEC);
    snprintf(p->last_error, sizeof(p->last_error), "%s", reason);
    outage_begin(p, reason);
    set_state(p, REEL_INGEST_BACKOFF);
    if (timer_set(p, now_ns(p) + delay) < 0) {
        /* Without a timer the camera would stay down for good: retry now
         * (once; a retry that fails the same way gives up until restart). */
        if (p->retry_now_depth > 0) {
            logf_(p, REEL_LOG_ERROR, "no timer for the retry; camera stays down until restarted");
            return;
        }
        p->retry_now_depth++;
        logf_(p, REEL_LOG_WARN, "retrying now instead");
        p->redirects = 0;
        snprintf(p->url, sizeof(p->url), "%s", p->cfg.url);
        do_connect(p);
        p->retry_now_depth--;
    }
}

bool reel_ingest_settle(struct reel_ingest_policy *p)
{
    if (!p->fail_pending[0])
        return false;
    char reason[REEL_INGEST_REASON_MAX];
    snprintf(reason, sizeof(reason), "%s", p->fail_pending);
    reel_ingest_fail(p, reason);
    return true;
}

static void do_connect(struct reel_ingest_policy *p)
{
    struct reel_err err = { "" };
    p->host[0] = '\0';
    p->fail_pending[0] = '\0';
    set_state(p, REEL_INGEST_CONNECTING);
    int r = p->ops.connect(p->ops.opaque, p->url, p->udp, p->host, sizeof(p->host), &err);
    if (r < 0) {
        reel_ingest_fail(p, err.msg[0] ? err.msg : strerror(-r));
        return;
    }
    p->resolving = r == 1;
    int64_t d = now_ns(p) + (p->resolving ? p->cfg.resolve_timeout_ns : p->cfg.connect_timeout_ns);
    if (timer_set(p, d) < 0)
        reel_ingest_fail(p, "cannot arm the connect timer");
}

/* Reconnects at once on another transport (no outage, no backoff). */
static void switch_transport(struct reel_ingest_policy *p, bool udp)
{
    close_conn(p);
    end_run(p);
    p->udp = udp;
    do_connect(p);
}

void reel_ingest_start(struct reel_ingest_policy *p)
{
    /* An outage left open by a previous process ("recorder stopped") ends
     * now: the new "connecting" is a separate, short one. */
    p->ops.outage_end(p->ops.opaque, wall90k(p));
    p->outage_open = false;
    outage_begin(p, "connecting");
    do_connect(p);
}

void reel_ingest_stop(struct reel_ingest_policy *p)
{
    if (p->state == REEL_INGEST_STOPPED)
        return;
    p->ops.timer_cancel(p->ops.opaque);
    close_conn(p);
    end_run(p);
    outage_begin(p, "recorder stopped");
    set_state(p, REEL_INGEST_STOPPED);
}

void reel_ingest_resolved(struct reel_ingest_policy *p)
{
    if (p->state != REEL_INGEST_CONNECTING)
        return;
    p->resolving = false;
    if (timer_set(p, now_ns(p) + p->cfg.connect_timeout_ns) < 0)
        reel_ingest_fail(p, "cannot arm the connect timer");
}

void reel_ingest_connected(struct reel_ingest_policy *p)
{
    if (p->state != REEL_INGEST_CONNECTING)
        return;
    p->resolving = false;
    set_state(p, REEL_INGEST_SESSION);
}

static const char *errkind_word(enum reel_rtsp_errkind k)
{
    switch (k) {
    case REEL_RTSP_ERR_AUTH: return "authentication failed";
    case REEL_RTSP_ERR_NOT_FOUND: return "stream not found";
    case REEL_RTSP_ERR_NO_VIDEO: return "no H.264/H.265 video in the stream";
    case REEL_RTSP_ERR_TIMEOUT: return "camera did not answer";
    case REEL_RTSP_ERR_TRANSPORT: return "transport refused";
    default: return "RTSP error";
    }
}

/* The one timer: RTSP deadline, media timeout, UDP silence. */
static void arm(struct reel_ingest_policy *p)
{
    int64_t d = p->rtsp_deadline;
    if (p->playing_since) {
        int64_t m = p->last_frame_mono + p->cfg.media_timeout_ns;
        if (m < d)
            d = m;
        if (p->udp) {
            int64_t u = p->last_udp_mono + p->cfg.udp_silence_ns;
            if (u < d)
                d = u;
        }
    }
    if (d == INT64_MAX)
        return;
    if (timer_set(p, d) < 0)
        reel_ingest_fail(p, "cannot arm the session timer");
}

static bool tcp_retry_due(const struct reel_ingest_policy *p)
{
    return now_ns(p) - p->tcp_refused_at >= p->cfg.tcp_retry_ns;
}

void reel_ingest_rtsp(struct reel_ingest_policy *p, const struct reel_ingest_rtsp *ev)
{
    if (p->state != REEL_INGEST_SESSION)
        return;
    if (reel_ingest_settle(p))
        return;
    p->rtsp_deadline = ev->deadline_ns;
    if (ev->state == REEL_RTSP_REDIRECT) {
        if (++p->redirects > MAX_REDIRECTS || !ev->redirect_url) {
            reel_ingest_fail(p, "too many redirects");
            return;
        }
        char origin[REEL_RTSP_HOST_MAX + 48], reason[REEL_INGEST_REASON_MAX + 400];
        reel_rtsp_url_origin(ev->redirect_url, origin, sizeof(origin));
        bool same = reel_rtsp_url_same_host(p->cfg.url, ev->redirect_url);
        if (!same && !p->cfg.allow_redirect) {
            snprintf(reason, sizeof(reason), "redirect to another host refused: %s", origin);
            reel_ingest_fail(p, reason);
            return;
        }
        logf_(p, REEL_LOG_INFO, "redirected to %s%s", origin,
              same ? "" : " (another host, allowed; no credentials sent there)");
        snprintf(p->url, sizeof(p->url), "%s", ev->redirect_url);
        close_conn(p);
        do_connect(p);
        return;
    }
    if (ev->failed || ev->state == REEL_RTSP_FAILED) {
        if (ev->errkind == REEL_RTSP_ERR_TRANSPORT && p->udp && !p->udp_refused && !p->tcp_refused) {
            logf_(p, REEL_LOG_WARN, "UDP transport refused; falling back to TCP");
            p->udp_refused = true;
            switch_transport(p, false);
            return;
        }
        if (ev->errkind == REEL_RTSP_ERR_TRANSPORT && !p->udp && !p->udp_refused) {
            if (!p->tcp_refused)
                logf_(p, REEL_LOG_WARN, "server refused RTP over TCP (%s); recording over UDP",
                      ev->error && ev->error[0] ? ev->error : "461");
            p->tcp_refused = true;
            p->tcp_refused_at = now_ns(p);
            switch_transport(p, true);
            return;
        }
        char reason[REEL_INGEST_REASON_MAX];
        snprintf(reason, sizeof(reason), "%s: %s", errkind_word(ev->errkind),
                 ev->error && ev->error[0] ? ev->error : "session failed");
        reel_ingest_fail(p, reason);
        return;
    }
    if (ev->state == REEL_RTSP_PLAYING && !p->playing_since) {
        p->playing_since = now_ns(p);
        p->last_frame_mono = p->playing_since;
        p->last_udp_mono = p->playing_since;
        set_state(p, REEL_INGEST_SESSION);
    }
    arm(p);
}

bool reel_ingest_timer(struct reel_ingest_policy *p)
{
    int64_t now = now_ns(p);
    char reason[REEL_INGEST_URL_MAX + 320];    /* truncated to REEL_INGEST_REASON_MAX by fail */
    switch (p->state) {
    case REEL_INGEST_BACKOFF:
        p->redirects = 0;
        snprintf(p->url, sizeof(p->url), "%s", p->cfg.url);
        if (p->tcp_refused && !p->cfg.udp && tcp_retry_due(p))
            p->udp = false;             /* try TCP again; 461 again = silent fall back */
        do_connect(p);
        return false;
    case REEL_INGEST_CONNECTING:
        if (p->resolving)
            snprintf(reason, sizeof(reason), "cannot resolve %s: timed out", p->host);
        else
            snprintf(reason, sizeof(reason), "cannot connect to %s: timed out", p->host[0] ? p->host : p->url);
        reel_ingest_fail(p, reason);
        return false;
    case REEL_INGEST_SESSION:
        break;
    default:
        return false;
    }
    if (p->playing_since) {
        if (p->udp && now - p->last_udp_mono >= p->cfg.udp_silence_ns) {
            double s = (double)p->cfg.udp_silence_ns / REEL_NS_PER_SEC;
            if (p->tcp_refused && !tcp_retry_due(p)) {
                snprintf(reason, sizeof(reason), "no UDP packets for %.0f s (TCP refused by the server)", s);
                reel_ingest_fail(p, reason);
                return false;
            }
            logf_(p, REEL_LOG_WARN, "no UDP packets for %.0f s; falling back to TCP", s);
            switch_transport(p, false);
            return false;
        }
        if (now - p->last_frame_mono >= p->cfg.media_timeout_ns) {
            snprintf(reason, sizeof(reason), "stalled: no video for %.0f s",
                     (double)p->cfg.media_timeout_ns / REEL_NS_PER_SEC);
            reel_ingest_fail(p, reason);
            return false;
        }
    }
    return true;
}

/* ---- access units ---- */

static void defer_fail(struct reel_ingest_policy *p, const char *what, const char *msg)
{
    snprintf(p->fail_pending, sizeof(p->fail_pending), "%s: %s", what, msg);
}

void reel_ingest_defer_fail(struct reel_ingest_policy *p, const char *reason)
{
    if (!p->fail_pending[0])
        snprintf(p->fail_pending, sizeof(p->fail_pending), "%s", reason);
}

static void window_roll(struct reel_ingest_policy *p, int64_t now)
{
    int64_t age = now - p->win_start;
    if (age < STATUS_WINDOW_NS)
        return;
    if (age < 2 * STATUS_WINDOW_NS) {
        p->prev_frames = p->win_frames;
        p->prev_bytes = p->win_bytes;
        p->prev_len = age;
    } else {
        p->prev_frames = p->prev_bytes = 0;
        p->prev_len = 0;
    }
    p->win_frames = p->win_bytes = 0;
    p->win_start = now;
}

/* The timestamp to store for raw (see policy.h, Timestamps). Returns false
 * when the jump is too large for this run. */
static bool fix_ts(struct reel_ingest_policy *p, int64_t raw, int64_t *ret)
{
    if (!p->have_last) {
        *ret = raw;
        return true;
    }
    int64_t d = raw - p->last_raw;
    if (d > JUMP_FWD_90K || d < -JUMP_BACK_90K)
        return false;
    int64_t step;
    if (d <= 0)
        step = p->last_interval > 0 ? p->last_interval : 1;
    else
        step = d / 2 > 0 ? d / 2 : 1;
    *ret = raw > p->last_out + step ? raw : p->last_out + step;
    return true;
}

int reel_ingest_au(struct reel_ingest_policy *p, const struct reel_ingest_au *au)
{
    if (p->fail_pending[0])
        return -EIO;
    if (p->state != REEL_INGEST_SESSION && !p->closing)
        return 0;
    int64_t now = now_ns(p);
    p->last_frame_mono = now;
    struct reel_err err = { "" };
    /* Every AU of the connection, stored or not: is it a repeat? */
    int64_t raw = au->ts90k, prev_seen = p->seen_raw;
    bool repeat = p->have_seen && raw <= prev_seen && raw >= prev_seen - JUMP_BACK_90K;
    if (p->have_seen && raw > prev_seen && !p->seen_repeat)
        p->seen_interval = raw - prev_seen > MAX_INTERVAL_90K ? MAX_INTERVAL_90K : raw - prev_seen;
    p->seen_repeat = repeat;
    p->seen_raw = raw;
    p->have_seen = true;
    if (au->params_new) {
        if (p->run)
            logf_(p, REEL_LOG_INFO, "parameter sets changed (%s %ux%u); new recording", au->codec, au->width,
                  au->height);
        int r = p->ops.sample_entry(p->ops.opaque, &err);
        if (r < 0) {
            defer_fail(p, "cannot store sample entry", err.msg);
            return r;
        }
        if (p->run && !au->key) {
            end_run(p);             /* a new sample entry starts at a key frame */
            set_state(p, p->state);
        }
    }
    int64_t ts = au->ts90k;
    if (p->run && !fix_ts(p, au->ts90k, &ts)) {
        logf_(p, REEL_LOG_WARN, "RTP timestamp jumped by %.3f s; starting a new run",
              (double)(au->ts90k - p->last_raw) / REEL_90K);
        end_run(p);
        set_state(p, p->state);
        ts = au->ts90k;
    }
    if (!p->run) {
        if (!au->key || p->closing)
            return 0;               /* wait for a key frame */
        int r = p->ops.run_open(p->ops.opaque, &err);
        if (r < 0) {
            defer_fail(p, "cannot start recording", err.msg);
            return r;
        }
        p->run = true;
        p->have_last = false;
        if (repeat)
            ts = prev_seen + (p->seen_interval > 0 ? p->seen_interval : 1);
        outage_end(p);
        p->backoff_ns = p->cfg.backoff_min_ns;
        if (!p->recording_logged) {
            logf_(p, REEL_LOG_INFO, "recording %s %ux%u%s", au->codec, au->width, au->height,
                  p->udp ? " over UDP" : "");
            p->recording_logged = true;
        }
        set_state(p, p->state);
    }
    int r = p->ops.run_frame(p->ops.opaque, ts, &err);
    if (r == -EINVAL) {
        logf_(p, REEL_LOG_WARN, "frame dropped: %s", err.msg);
        return 0;
    }
    if (r < 0) {
        p->run = false;             /* the store closed it; committed footage is kept */
        p->have_last = false;
        defer_fail(p, "storage", err.msg);
        return r;
    }
    if (p->have_last) {
        int64_t iv = ts - p->last_out;     /* > 0: fix_ts keeps them increasing */
        p->last_interval = iv > MAX_INTERVAL_90K ? MAX_INTERVAL_90K : iv;
    }
    p->last_raw = au->ts90k;
    p->last_out = ts;
    p->have_last = true;
    window_roll(p, now);
    p->win_frames++;
    p->win_bytes += au->len;
    p->frames++;
    return 0;
}

void reel_ingest_status(struct reel_ingest_policy *p, struct reel_ingest_status *ret)
{
    int64_t now = now_ns(p);
    window_roll(p, now);
    memset(ret, 0, sizeof(*ret));
    ret->state = p->state;
    ret->recording = p->run;
    ret->udp = p->udp;
    const char *w = "idle";
    switch (p->state) {
    case REEL_INGEST_CONNECTING: w = p->resolving ? "resolving" : "connecting"; break;
    case REEL_INGEST_SESSION: w = p->run ? "recording" : "starting"; break;
    case REEL_INGEST_BACKOFF: w = "retrying"; break;
    case REEL_INGEST_STOPPED: w = "stopped"; break;
    default: break;
    }
    snprintf(ret->state_word, sizeof(ret->state_word), "%s%s", w,
             p->state == REEL_INGEST_SESSION && p->udp ? " (udp)" : "");
    snprintf(ret->last_error, sizeof(ret->last_error), "%s", p->last_error);
    int64_t len = p->prev_len + (now - p->win_start);
    if (len > 0) {
        double secs = (double)len / REEL_NS_PER_SEC;
        ret->fps = (double)(p->prev_frames + p->win_frames) / secs;
        ret->bitrate_bps = (double)(p->prev_bytes + p->win_bytes) * 8 / secs;
    }
    ret->frames = p->frames;
}

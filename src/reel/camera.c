/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The per-camera streamer (see camera.h). States:
 *
 *   IDLE -> CONNECTING (non-blocking TCP connect) -> SESSION (RTSP requests,
 *   then PLAYING: RTP -> depacketiser -> store run) -> BACKOFF -> CONNECTING ...
 *
 * Every failure goes through cam_fail(), which logs one line, records the
 * outage, closes the run (committed footage stays), frees the session and
 * arms the backoff timer. Failures found inside callbacks (the depacketiser
 * calling us from inside the RTSP client's feed) are deferred with
 * c->fail_reason and handled once the call chain has returned.
 */
#include "reel/camera.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rtp/depack.h"
#include "rtsp/client.h"

#define READ_CHUNK 65536
#define MAX_REDIRECTS 5
#define JUMP_90K (10 * REEL_90K)      /* a timestamp jump larger than this starts a new run */
/* The loop polls at most every COALESCE_NS once I/O is flowing, so each
 * recv() takes ~50 ms of a stream rather than one packet burst: the profile
 * at 256 cameras showed recv (with the ACKs it sends) as a quarter of the
 * recorder's CPU. The kernel's receive buffer holds far more than 50 ms. */
#define COALESCE_NS (50 * INT64_C(1000000))
#define READ_ROUNDS 8                 /* up to 512 KiB per camera per wakeup */
#define MAX_AU_BYTES (4u << 20)       /* a larger access unit (frame) is dropped */
#define OVERSIZED_LOG_NS (60 * REEL_NS_PER_SEC)   /* at most one such line a minute */
#define REORDER_WINDOW 32             /* RTP over UDP: packets held to undo reordering */

enum cam_state { CAM_IDLE, CAM_CONNECTING, CAM_SESSION, CAM_BACKOFF, CAM_STOPPED };

struct reel_cam {
    struct reel_loop *loop;
    struct reel_store *store;
    const struct reel_logger *log;
    struct reel_camera cfg;
    char password[256];
    bool has_password;
    struct reel_cam_opts opts;

    enum cam_state state;
    char url[REEL_URL_MAX];          /* current URL (after redirects) */
    int redirects;
    bool use_udp;

    int fd;
    struct reel_io io;
    uint32_t io_events;
    int udp_fd[2];
    struct reel_io udp_io[2];
    struct reel_timer timer;
    int64_t backoff_ns;

    struct reel_rtsp_client *rtsp;
    struct reel_depack *depack;
    struct reel_run *run;
    int64_t sample_entry_id;         /* for the params in effect; 0 = unknown */
    const struct reel_video_params *params_seen;
    int64_t last_ts90k;
    bool have_last_ts;
    int64_t playing_since;           /* mono ns; 0 = not playing */
    int64_t last_frame_mono;
    int64_t last_udp_mono;
    bool recording_logged;
    uint64_t oversized_seen;         /* the depacketiser's oversized_aus when last looked */
    uint64_t oversized_unlogged;
    int64_t oversized_logged_mono;   /* 0 = never logged */

    char fail_reason[256];           /* deferred failure from inside a callback */
    char last_error[256];
    bool outage_open;
    char outage_reason[256];         /* reason of the open outage */

    /* status window */
    uint64_t win_frames, win_bytes;
    int64_t win_start;
    uint64_t total_frames;
    char notified[64];               /* state last passed to hooks->on_state */
    char notified_error[256];
};

static void cam_connect(struct reel_cam *c);
static void cam_fail(struct reel_cam *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cam_timer_cb(struct reel_timer *t);
static void cam_arm_timer(struct reel_cam *c);

static int64_t now_mono(const struct reel_cam *c) { return reel_loop_now(c->loop); }
static int64_t now_wall90k(const struct reel_cam *c)
{
    return reel_ns_to_90k(reel_clock_wall(reel_loop_clock(c->loop)));
}

static void cam_fill_status(struct reel_cam *c, struct reel_camera_status *st, bool reset_window)
{
    int64_t now = now_mono(c);
    double secs = (double)(now - c->win_start) / REEL_NS_PER_SEC;
    memset(st, 0, sizeof(*st));
    st->camera_id = c->cfg.id;
    st->connected = c->state == CAM_SESSION && c->run != NULL;
    const char *state = "idle";
    switch (c->state) {
    case CAM_CONNECTING: state = "connecting"; break;
    case CAM_SESSION: state = c->run ? "recording" : "starting"; break;
    case CAM_BACKOFF: state = "retrying"; break;
    case CAM_STOPPED: state = "stopped"; break;
    default: break;
    }
    snprintf(st->state, sizeof(st->state), "%s%s", state, c->state == CAM_SESSION && c->use_udp ? " (udp)" : "");
    snprintf(st->last_error, sizeof(st->last_error), "%s", c->last_error);
    if (secs > 0) {
        st->fps = (double)c->win_frames / secs;
        st->bitrate_bps = (double)c->win_bytes * 8 / secs;
    }
    st->updated90k = now_wall90k(c);
    if (reset_window) {
        c->win_frames = c->win_bytes = 0;
        c->win_start = now;
    }
}

/* Tells hooks->on_state when the state or the last error changed. */
static void cam_notify(struct reel_cam *c)
{
    if (!c->opts.hooks || !c->opts.hooks->on_state)
        return;
    struct reel_camera_status st;
    cam_fill_status(c, &st, false);
    if (strcmp(st.state, c->notified) == 0 && strcmp(st.last_error, c->notified_error) == 0)
        return;
    snprintf(c->notified, sizeof(c->notified), "%s", st.state);
    snprintf(c->notified_error, sizeof(c->notified_error), "%s", st.last_error);
    c->opts.hooks->on_state(c->opts.hooks->opaque, &st);
}

int reel_cam_new(struct reel_cam **ret, struct reel_loop *loop, struct reel_store *store,
                 const struct reel_logger *log, const struct reel_camera *cfg,
                 const char *password, const struct reel_cam_opts *opts)
{
    struct reel_cam *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    reel_loop_set_coalesce(loop, COALESCE_NS);
    c->store = store;
    c->log = log;
    c->cfg = *cfg;
    if (password) {
        if (strlen(password) >= sizeof(c->password)) {
            free(c);
            return -EINVAL;
        }
        strcpy(c->password, password);
        c->has_password = true;
    }
    if (opts)
        c->opts = *opts;
    if (!c->opts.media_timeout_ns) c->opts.media_timeout_ns = 10 * REEL_NS_PER_SEC;
    if (!c->opts.connect_timeout_ns) c->opts.connect_timeout_ns = 10 * REEL_NS_PER_SEC;
    if (!c->opts.backoff_min_ns) c->opts.backoff_min_ns = REEL_NS_PER_SEC;
    if (!c->opts.backoff_max_ns) c->opts.backoff_max_ns = 30 * REEL_NS_PER_SEC;
    if (!c->opts.udp_silence_ns) c->opts.udp_silence_ns = 5 * REEL_NS_PER_SEC;
    c->fd = -1;
    c->udp_fd[0] = c->udp_fd[1] = -1;
    c->use_udp = cfg->udp;
    c->backoff_ns = c->opts.backoff_min_ns;
    snprintf(c->url, sizeof(c->url), "%s", cfg->url);
    reel_timer_init(&c->timer, cam_timer_cb, c);
    c->win_start = reel_loop_now(loop);
    *ret = c;
    return 0;
}

/* ---- run / frames ---- */

static void cam_end_run(struct reel_cam *c)
{
    if (c->run) {
        reel_run_close(c->run);
        c->run = NULL;
    }
    c->have_last_ts = false;
}

static void cam_outage_end(struct reel_cam *c)
{
    if (!c->outage_open)
        return;
    struct reel_err err = { "" };
    if (reel_store_outage_end(c->store, c->cfg.id, now_wall90k(c), &err) < 0)
        reel_log(c->log, REEL_LOG_ERROR, "camera %s: cannot close outage: %s", c->cfg.name, err.msg);
    c->outage_open = false;
}

/* Records why footage is missing from now on. The generic "connecting" is
 * replaced by the first real cause; a different cause after that ends the
 * open outage and starts a new one, so the timeline keeps each reason. */
static void cam_outage_begin(struct reel_cam *c, const char *reason)
{
    if (c->outage_open && strcmp(c->outage_reason, reason) == 0)
        return;
    if (c->outage_open && strcmp(c->outage_reason, "connecting") != 0)
        cam_outage_end(c);
    struct reel_err err = { "" };
    int r = reel_store_outage_begin(c->store, c->cfg.id, now_wall90k(c), reason, &err);
    if (r < 0) {
        reel_log(c->log, REEL_LOG_ERROR, "camera %s: cannot record outage: %s", c->cfg.name, err.msg);
        return;
    }
    c->outage_open = true;
    snprintf(c->outage_reason, sizeof(c->outage_reason), "%s", reason);
}

static int cam_sample_entry(struct reel_cam *c, const struct reel_video_params *p)
{
    struct reel_err err = { "" };
    int64_t id;
    int r = reel_store_sample_entry_put(c->store, p->sample_entry, p->sample_entry_len, p->width,
                                        p->height, p->codec_string, &id, &err);
    if (r < 0) {
        snprintf(c->fail_reason, sizeof(c->fail_reason), "cannot store sample entry: %s", err.msg);
        return r;
    }
    c->sample_entry_id = id;
    return 0;
}

static int on_au(void *opaque, const struct reel_au *au)
{
    struct reel_cam *c = opaque;
    int64_t now = now_mono(c);
    c->last_frame_mono = now;
    if (!au->params)
        return 0;                         /* nothing decodable yet */
    if (au->params_changed || au->params != c->params_seen || c->sample_entry_id == 0) {
        if (c->run && c->sample_entry_id != 0)
            reel_log(c->log, REEL_LOG_INFO, "camera %s: parameter sets changed (%s %ux%u); new recording",
                     c->cfg.name, au->params->codec_string, au->params->width, au->params->height);
        if (cam_sample_entry(c, au->params) < 0)
            return -EIO;
        c->params_seen = au->params;
        if (c->run && !au->key) {
            /* A new sample entry must start at a key frame: end the run and
             * wait for one. */
            cam_end_run(c);
        }
    }
    int64_t ts = au->ts90k;
    if (c->run && c->have_last_ts) {
        int64_t d = ts - c->last_ts90k;
        if (d > JUMP_90K || d < -REEL_90K / 2) {
            reel_log(c->log, REEL_LOG_WARN,
                     "camera %s: RTP timestamp jumped by %.3f s; starting a new run", c->cfg.name,
                     (double)d / REEL_90K);
            cam_end_run(c);
        } else if (d <= 0) {
            ts = c->last_ts90k + 1;       /* duplicate or slightly backwards: nudge */
        }
    }
    if (!c->run) {
        if (!au->key)
            return 0;                     /* wait for a key frame */
        struct reel_err err = { "" };
        int r = reel_run_open(c->store, c->cfg.id, &c->run, &err);
        if (r < 0) {
            snprintf(c->fail_reason, sizeof(c->fail_reason), "cannot start recording: %s", err.msg);
            return r;
        }
        cam_outage_end(c);
        c->backoff_ns = c->opts.backoff_min_ns;
        cam_notify(c);
        if (!c->recording_logged) {
            reel_log(c->log, REEL_LOG_INFO, "camera %s: recording %s %ux%u", c->cfg.name,
                     au->params->codec_string, au->params->width, au->params->height);
            c->recording_logged = true;
        }
    }
    struct reel_frame_in f = {
        .data = au->data, .len = au->len, .ts90k = ts, .key = au->key,
        .sample_entry_id = c->sample_entry_id,
    };
    struct reel_err err = { "" };
    int r = reel_run_frame(c->run, &f, &err);
    if (r == -EINVAL) {
        reel_log(c->log, REEL_LOG_WARN, "camera %s: frame dropped: %s", c->cfg.name, err.msg);
        return 0;
    }
    if (r < 0) {
        /* the store closed the run; committed footage is kept */
        c->run = NULL;
        snprintf(c->fail_reason, sizeof(c->fail_reason), "storage: %s", err.msg);
        return r;
    }
    c->last_ts90k = ts;
    c->have_last_ts = true;
    if (c->opts.hooks && c->opts.hooks->on_au) {
        struct reel_cam_au a = {
            .data = au->data, .len = au->len, .ts90k = ts, .wall90k = now_wall90k(c), .key = au->key,
            .sample_entry_id = c->sample_entry_id, .params = au->params,
        };
        c->opts.hooks->on_au(c->opts.hooks->opaque, c->cfg.id, &a);
    }
    c->win_frames++;
    c->win_bytes += au->len;
    c->total_frames++;
    return 0;
}

/* ---- teardown of one connection ---- */

static void cam_close_conn(struct reel_cam *c)
{
    if (c->fd >= 0) {
        reel_loop_io_del(c->loop, &c->io);
        close(c->fd);
        c->fd = -1;
    }
    for (int i = 0; i < 2; i++) {
        if (c->udp_fd[i] >= 0) {
            reel_loop_io_del(c->loop, &c->udp_io[i]);
            close(c->udp_fd[i]);
            c->udp_fd[i] = -1;
        }
    }
    reel_rtsp_client_free(c->rtsp);
    c->rtsp = NULL;
    if (c->depack)
        reel_depack_flush(c->depack);
    reel_depack_free(c->depack);
    c->depack = NULL;
    c->params_seen = NULL;
    c->sample_entry_id = 0;
    c->playing_since = 0;
    c->io.bulk = false;
    c->fail_reason[0] = '\0';
}

static void cam_fail(struct reel_cam *c, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    cam_close_conn(c);
    cam_end_run(c);
    c->recording_logged = false;
    int64_t delay = c->backoff_ns;
    c->backoff_ns = c->backoff_ns * 2 > c->opts.backoff_max_ns ? c->opts.backoff_max_ns : c->backoff_ns * 2;
    /* One line per distinct failure: a camera that stays down with the same
     * cause is not logged again at every retry. */
    if (strcmp(reason, c->last_error) != 0)
        reel_log(c->log, REEL_LOG_ERROR, "camera %s: %s; retrying in %.0f s", c->cfg.name, reason,
                 (double)delay / REEL_NS_PER_SEC);
    snprintf(c->last_error, sizeof(c->last_error), "%s", reason);
    cam_outage_begin(c, reason);
    c->state = CAM_BACKOFF;
    reel_loop_timer_set(c->loop, &c->timer, now_mono(c) + delay);
    cam_notify(c);
}

/* Acts on a failure recorded inside a callback (c->fail_reason), now that
 * the call chain that found it has returned. */
static void cam_fail_deferred(struct reel_cam *c)
{
    char reason[256];
    snprintf(reason, sizeof(reason), "%s", c->fail_reason);   /* cam_fail clears it */
    cam_fail(c, "%s", reason);
}

/* ---- socket I/O ---- */

static void cam_update_events(struct reel_cam *c)
{
    size_t n = 0;
    if (c->rtsp)
        reel_rtsp_client_pending(c->rtsp, &n);
    uint32_t ev = EPOLLIN | (n > 0 ? EPOLLOUT : 0);
    if (ev != c->io_events && c->fd >= 0) {
        reel_loop_io_mod(c->loop, &c->io, ev);
        c->io_events = ev;
    }
}

static int cam_flush(struct reel_cam *c)
{
    for (;;) {
        size_t n;
        const uint8_t *p = reel_rtsp_client_pending(c->rtsp, &n);
        if (n == 0)
            break;
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return -errno;
        }
        reel_rtsp_client_sent(c->rtsp, (size_t)w);
    }
    cam_update_events(c);
    return 0;
}

static int cam_setup_depack(struct reel_cam *c);

/* One line when the depacketiser dropped an access unit over MAX_AU_BYTES
 * (then at most one a minute, with the count since the previous line). */
static void cam_check_oversized(struct reel_cam *c)
{
    struct reel_depack_stats st;
    reel_depack_get_stats(c->depack, &st);
    if (st.oversized_aus == c->oversized_seen)
        return;
    c->oversized_unlogged += st.oversized_aus - c->oversized_seen;
    c->oversized_seen = st.oversized_aus;
    int64_t now = now_mono(c);
    if (c->oversized_logged_mono && now - c->oversized_logged_mono < OVERSIZED_LOG_NS)
        return;
    if (!c->oversized_logged_mono)
        reel_log(c->log, REEL_LOG_WARN, "camera %s: frame dropped: access unit over the %u MiB cap; "
                 "recording goes on", c->cfg.name, MAX_AU_BYTES >> 20);
    else
        reel_log(c->log, REEL_LOG_WARN, "camera %s: %llu more frames over the %u MiB cap dropped; "
                 "recording goes on", c->cfg.name, (unsigned long long)c->oversized_unlogged,
                 MAX_AU_BYTES >> 20);
    c->oversized_logged_mono = now;
    c->oversized_unlogged = 0;
}

static int on_rtp(void *opaque, uint8_t channel, const uint8_t *pkt, size_t len)
{
    struct reel_cam *c = opaque;
    const struct reel_rtsp_video *v = reel_rtsp_client_video(c->rtsp);
    if (!v || channel != v->rtp_channel)
        return 0;                          /* RTCP and unknown channels */
    if (!c->depack) {
        /* RTP can arrive in the same read as the PLAY response, before
         * cam_after_client() sees PLAYING: set up now rather than drop the
         * first packets (and with them, often, the first key frame). */
        int r = cam_setup_depack(c);
        if (r < 0) {
            snprintf(c->fail_reason, sizeof(c->fail_reason), "cannot set up depacketiser: %s",
                     strerror(-r));
            return r;
        }
    }
    struct reel_err err = { "" };
    int r = reel_depack_push(c->depack, pkt, len, &err);
    if (r < 0 && c->fail_reason[0])
        return r;                          /* storage failure from on_au */
    cam_check_oversized(c);
    /* a malformed packet: counted by the depacketiser; carry on */
    return 0;
}

static int cam_setup_depack(struct reel_cam *c)
{
    const struct reel_rtsp_video *v = reel_rtsp_client_video(c->rtsp);
    struct reel_depack_cfg dc = {
        .codec = v->codec, .payload_type = v->payload_type, .max_au_bytes = MAX_AU_BYTES,
        .reorder_window = c->use_udp ? REORDER_WINDOW : 0,
        .sprop_nals = v->sprop_nals, .sprop_lens = v->sprop_lens, .sprop_n = v->sprop_n,
        .on_au = on_au, .opaque = c,
    };
    c->oversized_seen = 0;
    return reel_depack_new(&c->depack, &dc);
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

/* After feeding or ticking the client: act on its state. Returns false when
 * the camera failed (c is in BACKOFF). */
static bool cam_after_client(struct reel_cam *c, int r, const struct reel_err *err)
{
    if (c->fail_reason[0]) {
        cam_fail_deferred(c);
        return false;
    }
    enum reel_rtsp_state st = reel_rtsp_client_state(c->rtsp);
    if (st == REEL_RTSP_REDIRECT) {
        const char *to = reel_rtsp_client_redirect_url(c->rtsp);
        if (++c->redirects > MAX_REDIRECTS || !to) {
            cam_fail(c, "too many redirects");
            return false;
        }
        reel_log(c->log, REEL_LOG_INFO, "camera %s: redirected to %s", c->cfg.name, to);
        snprintf(c->url, sizeof(c->url), "%s", to);
        cam_close_conn(c);
        cam_connect(c);
        return false;
    }
    if (st == REEL_RTSP_FAILED || r < 0) {
        enum reel_rtsp_errkind k = reel_rtsp_client_errkind(c->rtsp);
        if (k == REEL_RTSP_ERR_TRANSPORT && c->use_udp) {
            reel_log(c->log, REEL_LOG_WARN, "camera %s: UDP transport refused; falling back to TCP",
                     c->cfg.name);
            c->use_udp = false;
            cam_close_conn(c);
            cam_connect(c);
            return false;
        }
        cam_fail(c, "%s: %s", errkind_word(k), err && err->msg[0] ? err->msg : "session failed");
        return false;
    }
    if (st == REEL_RTSP_PLAYING && !c->playing_since) {
        c->playing_since = now_mono(c);
        c->io.bulk = true;               /* media flows: reads may be coalesced */
        c->last_frame_mono = c->playing_since;
        c->last_udp_mono = c->playing_since;
        int rr = c->depack ? 0 : cam_setup_depack(c);
        if (rr < 0) {
            cam_fail(c, "cannot set up depacketiser: %s", strerror(-rr));
            return false;
        }
        if (c->use_udp) {
            /* Accept datagrams only from the camera's server ports. */
            const struct reel_rtsp_video *v = reel_rtsp_client_video(c->rtsp);
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            if (getpeername(c->fd, (struct sockaddr *)&ss, &sl) == 0 && v->server_rtp_port) {
                for (int i = 0; i < 2; i++) {
                    uint16_t port = (uint16_t)(v->server_rtp_port + i);
                    if (ss.ss_family == AF_INET)
                        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
                    else
                        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
                    if (connect(c->udp_fd[i], (struct sockaddr *)&ss, sl) < 0) { /* best effort */ }
                }
            }
        }
    }
    if (cam_flush(c) < 0) {
        cam_fail(c, "connection lost while sending: %s", strerror(errno));
        return false;
    }
    cam_arm_timer(c);
    return true;
}

static void cam_io_cb(struct reel_io *io, uint32_t events)
{
    struct reel_cam *c = io->opaque;
    if (c->state == CAM_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr) {
            cam_fail(c, "cannot connect to %s:%u: %s", reel_rtsp_client_host(c->rtsp),
                     reel_rtsp_client_port(c->rtsp), strerror(soerr));
            return;
        }
        c->state = CAM_SESSION;
        cam_notify(c);
        reel_rtsp_client_start(c->rtsp, now_mono(c));
        cam_after_client(c, 0, NULL);
        return;
    }
    if (events & EPOLLOUT) {
        if (cam_flush(c) < 0) {
            cam_fail(c, "connection lost: %s", strerror(errno));
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        uint8_t buf[READ_CHUNK];
        /* Bounded work per wakeup so one busy camera cannot starve the others. */
        for (int rounds = 0; rounds < READ_ROUNDS; rounds++) {
            ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
            if (n == 0) {
                cam_fail(c, "camera closed the connection");
                return;
            }
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    break;
                cam_fail(c, "connection lost: %s", strerror(errno));
                return;
            }
            struct reel_err err = { "" };
            int r = reel_rtsp_client_feed(c->rtsp, buf, (size_t)n, now_mono(c), &err);
            if (!cam_after_client(c, r, &err))
                return;
            if ((size_t)n < sizeof(buf))
                break;
        }
    }
}

static void cam_udp_cb(struct reel_io *io, uint32_t events)
{
    struct reel_cam *c = io->opaque;
    int idx = io == &c->udp_io[0] ? 0 : 1;
    uint8_t buf[READ_CHUNK];
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(c->udp_fd[idx], buf, sizeof(buf), 0);
        if (n < 0)
            break;
        if (idx == 1 || !c->depack)
            continue;                      /* RTCP: ignored */
        c->last_udp_mono = now_mono(c);
        struct reel_err err = { "" };
        reel_depack_push(c->depack, buf, (size_t)n, &err);
        if (c->fail_reason[0]) {
            cam_fail_deferred(c);
            return;
        }
        cam_check_oversized(c);
    }
}

static int cam_bind_udp(struct reel_cam *c, int family, uint16_t *ret_port)
{
    uint32_t rnd;
    if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
        rnd = (uint32_t)now_mono(c);
    for (int attempt = 0; attempt < 32; attempt++) {
        uint16_t port = (uint16_t)(20000 + ((rnd + (uint32_t)attempt * 7919u) % 20000u) * 2u);
        int fds[2] = { -1, -1 };
        bool ok = true;
        for (int i = 0; i < 2 && ok; i++) {
            fds[i] = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            struct sockaddr_storage ss;
            memset(&ss, 0, sizeof(ss));
            socklen_t sl;
            if (family == AF_INET) {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t)(port + i));
                sl = sizeof(*a);
            } else {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t)(port + i));
                sl = sizeof(*a);
            }
            if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&ss, sl) < 0)
                ok = false;
        }
        if (!ok) {
            for (int i = 0; i < 2; i++)
                if (fds[i] >= 0)
                    close(fds[i]);
            continue;
        }
        int rcv = 4 << 20;
        setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        for (int i = 0; i < 2; i++) {
            c->udp_fd[i] = fds[i];
            c->udp_io[i].fd = fds[i];
            c->udp_io[i].cb = cam_udp_cb;
            c->udp_io[i].opaque = c;
            reel_loop_io_add(c->loop, &c->udp_io[i], EPOLLIN);
        }
        *ret_port = port;
        return 0;
    }
    return -EADDRINUSE;
}

static void cam_connect(struct reel_cam *c)
{
    struct reel_err err = { "" };
    struct reel_rtsp_client_cfg cc = {
        .url = c->url,
        .user = c->cfg.user[0] ? c->cfg.user : NULL,
        .password = c->has_password ? c->password : NULL,
        .udp = c->use_udp,
        .user_agent = "Reel/0.1",
        .request_timeout_ns = c->opts.connect_timeout_ns,
        .on_rtp = on_rtp,
        .opaque = c,
    };
    c->fail_reason[0] = '\0';
    int r = reel_rtsp_client_new(&c->rtsp, &cc, &err);
    if (r < 0) {
        cam_fail(c, "bad URL: %s", err.msg);
        return;
    }
    const char *host = reel_rtsp_client_host(c->rtsp);
    char port[8];
    snprintf(port, sizeof(port), "%u", reel_rtsp_client_port(c->rtsp));
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    /* Numeric addresses resolve without blocking; names use the system
     * resolver (blocking, once per connection attempt). */
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0 || !ai) {
        cam_fail(c, "cannot resolve %s: %s", host, gai_strerror(g));
        return;
    }
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        freeaddrinfo(ai);
        cam_fail(c, "socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rcv = 1 << 20;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    int cr = connect(c->fd, ai->ai_addr, ai->ai_addrlen);
    int family = ai->ai_family;
    freeaddrinfo(ai);
    if (cr < 0 && errno != EINPROGRESS) {
        cam_fail(c, "cannot connect to %s:%s: %s", host, port, strerror(errno));
        return;
    }
    if (c->use_udp) {
        uint16_t p;
        if (cam_bind_udp(c, family, &p) < 0) {
            reel_log(c->log, REEL_LOG_WARN, "camera %s: no free UDP port pair; using TCP", c->cfg.name);
            c->use_udp = false;
        } else {
            /* The client was built before the port was known: rebuild it. */
            reel_rtsp_client_free(c->rtsp);
            cc.udp = true;
            cc.client_rtp_port = p;
            if (reel_rtsp_client_new(&c->rtsp, &cc, &err) < 0) {
                cam_fail(c, "bad URL: %s", err.msg);
                return;
            }
        }
    }
    c->io.fd = c->fd;
    c->io.cb = cam_io_cb;
    c->io.opaque = c;
    c->io_events = EPOLLIN | EPOLLOUT;
    reel_loop_io_add(c->loop, &c->io, c->io_events);
    c->state = CAM_CONNECTING;
    reel_loop_timer_set(c->loop, &c->timer, now_mono(c) + c->opts.connect_timeout_ns);
    cam_notify(c);
}

/* ---- timers ---- */

static void cam_arm_timer(struct reel_cam *c)
{
    int64_t d = reel_rtsp_client_deadline(c->rtsp);
    if (c->playing_since) {
        int64_t m = c->last_frame_mono + c->opts.media_timeout_ns;
        if (m < d)
            d = m;
        if (c->use_udp) {
            int64_t u = c->last_udp_mono + c->opts.udp_silence_ns;
            if (u < d)
                d = u;
        }
    }
    if (d != INT64_MAX)
        reel_loop_timer_set(c->loop, &c->timer, d);
}

static void cam_timer_cb(struct reel_timer *t)
{
    struct reel_cam *c = t->opaque;
    int64_t now = now_mono(c);
    switch (c->state) {
    case CAM_BACKOFF:
        c->redirects = 0;
        snprintf(c->url, sizeof(c->url), "%s", c->cfg.url);
        cam_connect(c);
        return;
    case CAM_CONNECTING:
        cam_fail(c, "cannot connect to %s:%u: timed out", reel_rtsp_client_host(c->rtsp),
                 reel_rtsp_client_port(c->rtsp));
        return;
    case CAM_SESSION:
        break;
    default:
        return;
    }
    if (c->playing_since) {
        if (c->use_udp && now - c->last_udp_mono >= c->opts.udp_silence_ns) {
            reel_log(c->log, REEL_LOG_WARN, "camera %s: no UDP packets for %.0f s; falling back to TCP",
                     c->cfg.name, (double)c->opts.udp_silence_ns / REEL_NS_PER_SEC);
            c->use_udp = false;
            cam_close_conn(c);
            cam_end_run(c);
            cam_connect(c);
            return;
        }
        if (now - c->last_frame_mono >= c->opts.media_timeout_ns) {
            cam_fail(c, "stalled: no video for %.0f s", (double)c->opts.media_timeout_ns / REEL_NS_PER_SEC);
            return;
        }
    }
    struct reel_err err = { "" };
    int r = reel_rtsp_client_tick(c->rtsp, now, &err);
    cam_after_client(c, r, &err);
}

/* ---- public ---- */

void reel_cam_start(struct reel_cam *c)
{
    cam_outage_begin(c, "connecting");
    cam_connect(c);
}

void reel_cam_stop(struct reel_cam *c)
{
    if (c->rtsp && c->fd >= 0 && c->state == CAM_SESSION) {
        reel_rtsp_client_stop(c->rtsp, now_mono(c));
        size_t n;
        const uint8_t *p = reel_rtsp_client_pending(c->rtsp, &n);
        if (n > 0) {
            ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)w;
        }
    }
    reel_loop_timer_cancel(c->loop, &c->timer);
    cam_close_conn(c);
    cam_end_run(c);
    cam_outage_begin(c, "recorder stopped");
    c->state = CAM_STOPPED;
    cam_notify(c);
}

void reel_cam_free(struct reel_cam *c)
{
    if (!c)
        return;
    reel_loop_timer_cancel(c->loop, &c->timer);
    cam_close_conn(c);
    cam_end_run(c);
    explicit_bzero(c->password, sizeof(c->password));
    free(c);
}

void reel_cam_status(struct reel_cam *c, struct reel_camera_status *ret) { cam_fill_status(c, ret, true); }

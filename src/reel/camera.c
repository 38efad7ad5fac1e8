/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The per-camera streamer (see camera.h): glue between the policy
 * (src/ingest/policy.h, every decision), the transport (src/ingest/
 * transport.h, sockets, loop registrations, name lookups), the RTSP client,
 * the depacketiser and the store. It implements the policy's operations and
 * turns socket and timer events into policy events.
 *
 * Hot path: bytes are read into a stack buffer, fed to the RTSP client (or
 * the depacketiser for UDP), and each access unit goes to the store run from
 * the depacketiser's buffer, with no copy and no allocation here.
 */
#include "reel/camera.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ingest/policy.h"
#include "ingest/transport.h"
#include "rtp/audio.h"
#include "rtsp/client.h"
#include "rtsp/url.h"

#define READ_CHUNK 65536
/* The loop polls at most every COALESCE_NS once I/O is flowing, so each
 * recv() takes ~50 ms of a stream rather than one packet burst (fewer
 * system calls and TCP ACKs; the profile behind it is in BENCHMARKS.md).
 * The kernel's receive buffer holds far more than 50 ms. */
#define COALESCE_NS (50 * INT64_C(1000000))
#define READ_ROUNDS 8                 /* up to 512 KiB per camera per wakeup */
#define MAX_AU_BYTES (4u << 20)       /* a larger access unit (frame) is dropped */
#define OVERSIZED_LOG_NS (60 * REEL_NS_PER_SEC)   /* at most one such line a minute */
#define FOREIGN_LOG_NS (60 * REEL_NS_PER_SEC)     /* so for UDP packets from foreign sources */
#define REORDER_WINDOW 32             /* RTP over UDP: packets held to undo reordering */
#define AUDIO_BACK_MAX_90K 90000      /* audio time going back further than 1 s starts a new audio run */

struct reel_cam {
    struct reel_loop *loop;
    struct reel_store *store;
    const struct reel_logger *log;
    struct reel_camera cfg;
    char password[256];
    bool has_password;
    struct reel_cam_opts opts;
    char probe_audio[16];            /* a probe: the audio codec set up at PLAYING ("" = none) */

    struct reel_ingest_policy pol;
    struct reel_ingest_ops ops;
    struct reel_transport tr;
    struct reel_transport_cbs tr_cbs;
    struct reel_resolver *own_resolver;
    struct reel_timer timer;
    int tfd;                         /* fallback timer (timerfd) when the loop's cannot be armed; -1 */
    struct reel_io tfd_io;

    bool conn_udp;                   /* the connection's transport */
    bool playing;
    struct reel_rtsp_client *rtsp;
    struct reel_depack *depack;
    struct reel_run *run;
    int64_t sample_entry_id;         /* for the params in effect; 0 = unknown */
    const struct reel_video_params *params_seen;
    const struct reel_au *cur_au;    /* the AU being handed to the policy */
    uint64_t oversized_seen;         /* the depacketiser's oversized_aus when last looked */
    uint64_t oversized_unlogged;
    int64_t oversized_logged_mono;   /* 0 = never logged */

    /* Audio (camera.audio): recorded as a run of the "<name>~audio" row,
     * alongside the video run and never in its way. */
    int64_t audio_id;                /* the audio row's id; 0 = audio not recorded */
    char audio_name[REEL_NAME_MAX];
    struct reel_audio_depack *adepack;
    struct reel_run *arun;
    int64_t a_sample_entry_id;
    int64_t a_last_ts90k;
    bool a_has_last;
    bool a_off;                      /* given up until the next video run (storage error) */
    bool a_setup_failed;             /* given up for this connection (unusable parameters) */
    bool a_note_logged;              /* "audio not recorded: why" said once */
    bool a_on_logged;                /* "recording audio" said once */

    bool digest_seen;                /* the camera offered Digest once: no Basic (allow_basic) */
    /* UDP packets from a source other than the camera's announced ports */
    uint64_t udp_foreign;            /* dropped since start */
    uint64_t udp_foreign_unlogged;
    int64_t udp_foreign_logged_mono; /* 0 = never logged */
};

static int64_t now_mono(const struct reel_cam *c) { return reel_loop_now(c->loop); }
static int64_t now_wall90k(const struct reel_cam *c)
{
    return reel_ns_to_90k(reel_clock_wall(reel_loop_clock(c->loop)));
}

/* ---- the policy's operations ---- */

static int on_rtp(void *opaque, uint8_t channel, const uint8_t *pkt, size_t len);

/* The RTSP client's configuration for url. Credentials go only to the
 * configured URL's host: a redirect to another host (allowed with
 * allow_redirect) gets none, whatever it asks. */
static struct reel_rtsp_client_cfg client_cfg(struct reel_cam *c, const char *url, bool udp, uint16_t rtp_port)
{
    bool creds = reel_rtsp_url_same_host(c->cfg.url, url);
    return (struct reel_rtsp_client_cfg){
        .url = url,
        .user = creds && c->cfg.user[0] ? c->cfg.user : NULL,
        .password = creds && c->has_password ? c->password : NULL,
        .udp = udp,
        .client_rtp_port = rtp_port,
        .audio = c->audio_id != 0 || !c->store,   /* a probe asks, to report the audio */
        .user_agent = "Reel/0.1",
        .request_timeout_ns = c->opts.connect_timeout_ns,
        .digest_seen = c->digest_seen,
        .allow_basic = c->cfg.allow_basic,
        .on_rtp = on_rtp,
        .opaque = c,
    };
}

static int op_connect(void *opaque, const char *url, bool udp, char *ret_host, size_t host_cap,
                      struct reel_err *err)
{
    struct reel_cam *c = opaque;
    struct reel_rtsp_client_cfg cc = client_cfg(c, url, udp, 0);
    struct reel_err e2 = { "" };
    int r = reel_rtsp_client_new(&c->rtsp, &cc, &e2);
    if (r < 0)
        return reel_err_set(err, -r, "bad URL: %s", e2.msg);
    c->conn_udp = udp;
    snprintf(ret_host, host_cap, "%s", reel_rtsp_client_host(c->rtsp));
    return reel_transport_open(&c->tr, reel_rtsp_client_host(c->rtsp), reel_rtsp_client_port(c->rtsp), err);
}

static void audio_run_close(struct reel_cam *c)
{
    reel_run_close(c->arun);
    c->arun = NULL;
    c->a_has_last = false;
}

static void op_disconnect(void *opaque)
{
    struct reel_cam *c = opaque;
    audio_run_close(c);              /* a new connection's RTP timestamps start afresh */
    reel_audio_depack_free(c->adepack);
    c->adepack = NULL;
    c->a_sample_entry_id = 0;
    c->a_setup_failed = false;
    reel_transport_close(&c->tr);
    reel_rtsp_client_free(c->rtsp);
    c->rtsp = NULL;
    if (c->depack)
        reel_depack_flush(c->depack);   /* may deliver the last AU into the run */
    reel_depack_free(c->depack);
    c->depack = NULL;
    c->params_seen = NULL;
    c->sample_entry_id = 0;
    c->playing = false;
}

static int op_sample_entry(void *opaque, struct reel_err *err)
{
    struct reel_cam *c = opaque;
    const struct reel_video_params *p = c->cur_au->params;
    int64_t id = 1;                  /* a probe (no store): one entry per connection */
    int r = !c->store ? 0 : reel_store_sample_entry_put(c->store, p->sample_entry, p->sample_entry_len, p->width, p->height,
                                        p->codec_string, &id, err);
    if (r < 0)
        return r;
    c->sample_entry_id = id;
    c->params_seen = p;
    return 0;
}

static int op_run_open(void *opaque, struct reel_err *err)
{
    struct reel_cam *c = opaque;
    if (!c->store)
        return 0;                        /* a probe: nothing stored */
    return reel_run_open(c->store, c->cfg.id, &c->run, err);
}

static int op_run_frame(void *opaque, int64_t ts90k, struct reel_err *err)
{
    struct reel_cam *c = opaque;
    const struct reel_au *au = c->cur_au;
    struct reel_frame_in f = {
        .data = au->data, .len = au->len, .ts90k = ts90k, .key = au->key,
        .sample_entry_id = c->sample_entry_id,
    };
    int r = c->store ? reel_run_frame(c->run, &f, err) : 0;
    if (r < 0) {
        if (r != -EINVAL)
            c->run = NULL;               /* the store closed and freed it */
        return r;
    }
    const struct reel_cam_hooks *h = c->opts.hooks;
    if (h && h->on_au) {
        struct reel_cam_au ca = {
            .data = au->data, .len = au->len, .ts90k = ts90k, .wall90k = now_wall90k(c), .key = au->key,
            .sample_entry_id = c->sample_entry_id, .params = au->params,
        };
        h->on_au(h->opaque, c->cfg.id, &ca);
    }
    return 0;
}

static void op_run_close(void *opaque)
{
    struct reel_cam *c = opaque;
    reel_run_close(c->run);
    c->run = NULL;
    audio_run_close(c);              /* the audio run ends with the video run */
    c->a_off = false;                /* and is tried again with the next one */
}

static void op_outage_begin(void *opaque, int64_t wall90k, const char *reason)
{
    struct reel_cam *c = opaque;
    struct reel_err err = { "" };
    if (c->store && reel_store_outage_begin(c->store, c->cfg.id, wall90k, reason, &err) < 0)
        reel_log(c->log, REEL_LOG_ERROR, "camera %s: cannot record outage: %s", c->cfg.name, err.msg);
    const struct reel_cam_hooks *h = c->opts.hooks;
    if (h && h->on_outage)
        h->on_outage(h->opaque, c->cfg.id, wall90k, reason);
}

static void op_outage_end(void *opaque, int64_t wall90k)
{
    struct reel_cam *c = opaque;
    struct reel_err err = { "" };
    if (c->store && reel_store_outage_end(c->store, c->cfg.id, wall90k, &err) < 0)
        reel_log(c->log, REEL_LOG_ERROR, "camera %s: cannot close outage: %s", c->cfg.name, err.msg);
    const struct reel_cam_hooks *h = c->opts.hooks;
    if (h && h->on_outage)
        h->on_outage(h->opaque, c->cfg.id, wall90k, NULL);
}

static void cam_timer_fired(struct reel_cam *c);

static void tfd_cb(struct reel_io *io, uint32_t events)
{
    (void)events;
    struct reel_cam *c = io->opaque;
    uint64_t n;
    if (read(c->tfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
        return;
    cam_timer_fired(c);
}

static void tfd_disarm(struct reel_cam *c)
{
    if (c->tfd >= 0) {
        struct itimerspec its = { { 0, 0 }, { 0, 0 } };
        timerfd_settime(c->tfd, 0, &its, NULL);
    }
}

/* The loop's timer, or, when it cannot be armed (its heap cannot grow), a
 * timerfd of the camera's own (system clock only). */
static int op_timer_set(void *opaque, int64_t deadline)
{
    struct reel_cam *c = opaque;
    int r = reel_loop_timer_set(c->loop, &c->timer, deadline);
    if (r == 0) {
        tfd_disarm(c);
        return 0;
    }
    if (reel_loop_clock(c->loop) != reel_clock_system())
        return r;
    if (c->tfd < 0) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd < 0)
            return r;
        c->tfd_io = (struct reel_io){ .fd = fd, .cb = tfd_cb, .opaque = c };
        if (reel_loop_io_add(c->loop, &c->tfd_io, EPOLLIN) < 0) {
            close(fd);
            return r;
        }
        c->tfd = fd;
        reel_log(c->log, REEL_LOG_WARN, "camera %s: cannot arm the loop's timer: %s; using a timerfd",
                 c->cfg.name, strerror(-r));
    }
    int64_t d = deadline - now_mono(c);
    if (d < 1)
        d = 1;
    struct itimerspec its = { { 0, 0 }, { d / REEL_NS_PER_SEC, d % REEL_NS_PER_SEC } };
    if (timerfd_settime(c->tfd, 0, &its, NULL) < 0)
        return r;
    return 0;
}

static void op_timer_cancel(void *opaque)
{
    struct reel_cam *c = opaque;
    reel_loop_timer_cancel(c->loop, &c->timer);
    tfd_disarm(c);
}

static void op_log(void *opaque, enum reel_log_level level, const char *line)
{
    struct reel_cam *c = opaque;
    reel_log(c->log, level, "camera %s: %s", c->cfg.name, line);
}

static void op_state_changed(void *opaque)
{
    struct reel_cam *c = opaque;
    const struct reel_cam_hooks *h = c->opts.hooks;
    if (h && h->on_state) {
        struct reel_camera_status st;
        reel_cam_status(c, &st);
        h->on_state(h->opaque, &st);
    }
}

/* ---- media ---- */

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

static int on_au(void *opaque, const struct reel_au *au)
{
    struct reel_cam *c = opaque;
    if (!au->params)
        return 0;                         /* nothing decodable yet */
    struct reel_ingest_au ia = {
        .ts90k = au->ts90k, .len = au->len, .key = au->key,
        .params_new = au->params_changed || au->params != c->params_seen || c->sample_entry_id == 0,
        .codec = au->params->codec_string, .width = au->params->width, .height = au->params->height,
    };
    c->cur_au = au;
    int r = reel_ingest_au(&c->pol, &ia);
    c->cur_au = NULL;
    return r;
}

static int cam_setup_depack(struct reel_cam *c)
{
    const struct reel_rtsp_video *v = reel_rtsp_client_video(c->rtsp);
    struct reel_depack_cfg dc = {
        .codec = v->codec, .payload_type = v->payload_type, .max_au_bytes = MAX_AU_BYTES,
        .reorder_window = c->conn_udp ? REORDER_WINDOW : 0,
        .sprop_nals = v->sprop_nals, .sprop_lens = v->sprop_lens, .sprop_n = v->sprop_n,
        .on_au = on_au, .opaque = c,
    };
    c->oversized_seen = 0;
    return reel_depack_new(&c->depack, &dc);
}

/* ---- audio: never fails or blocks the video; every error ends in a log
 * line and the audio (only) stopped ---- */

static int on_audio_au(void *opaque, const struct reel_audio_au *au)
{
    struct reel_cam *c = opaque;
    if (!c->run) {                        /* waits for the video run */
        if (c->arun)
            audio_run_close(c);
        return 0;
    }
    if (c->a_off)
        return 0;
    if (c->a_has_last && au->ts90k <= c->a_last_ts90k) {
        if (c->a_last_ts90k - au->ts90k <= AUDIO_BACK_MAX_90K)
            return 0;                     /* a little back (a duplicate, reordering): dropped */
        audio_run_close(c);               /* far back (the camera's clock was reset): a new run */
    }
    struct reel_err err = { "" };
    int r;
    if (!c->arun && (r = reel_run_open(c->store, c->audio_id, &c->arun, &err)) < 0) {
        c->arun = NULL;
        c->a_off = true;
        reel_log(c->log, REEL_LOG_ERROR, "camera %s: cannot record audio: %s; video goes on, audio "
                 "is tried again with the next run", c->cfg.name, err.msg[0] ? err.msg : strerror(-r));
        return 0;
    }
    struct reel_frame_in f = {
        .data = au->data, .len = au->len, .ts90k = au->ts90k, .key = true,
        .sample_entry_id = c->a_sample_entry_id,
    };
    r = reel_run_frame(c->arun, &f, &err);
    if (r == -EINVAL) {                   /* e.g. a timestamp jump too long: a new audio run */
        audio_run_close(c);
        return 0;
    }
    if (r < 0) {                          /* the store closed and freed the audio run */
        c->arun = NULL;
        c->a_has_last = false;
        c->a_off = true;
        reel_log(c->log, REEL_LOG_ERROR, "camera %s: audio recording stopped: %s; video goes on, "
                 "audio is tried again with the next run", c->cfg.name, err.msg[0] ? err.msg : strerror(-r));
        return 0;
    }
    c->a_last_ts90k = au->ts90k;
    c->a_has_last = true;
    return 0;
}

static void cam_audio_setup(struct reel_cam *c, const struct reel_rtsp_audio *a)
{
    struct reel_audio_params p;
    struct reel_err err = { "" };
    int r = reel_audio_params_build(a->codec, a->clock_rate, a->channels, a->aac_config,
                                    a->aac_config_len, &p, &err);
    int64_t id = 0;
    if (r == 0)
        r = reel_store_sample_entry_put(c->store, p.sample_entry, p.sample_entry_len, p.channels, 0,
                                        p.codec_string, &id, &err);
    if (r == 0) {
        /* an AAC AU's duration in RTP clock ticks (the RTP clock may differ
         * from the config's rate: HE-AAC's core rate is half the output's) */
        uint64_t spa = p.samples_per_au;
        if (spa && p.sample_rate && a->clock_rate != p.sample_rate)
            spa = spa * a->clock_rate / p.sample_rate;
        struct reel_audio_depack_cfg dc = {
            .codec = a->codec, .payload_type = a->payload_type, .clock_rate = a->clock_rate,
            .size_length = a->size_length, .index_length = a->index_length,
            .index_delta_length = a->index_delta_length,
            .samples_per_au = spa > 0 && spa <= UINT32_MAX ? (uint32_t)spa : 1024,
            .on_au = on_audio_au, .opaque = c,
        };
        r = reel_audio_depack_new(&c->adepack, &dc);
        if (r < 0)
            reel_err_set(&err, -r, "cannot set up the audio depacketiser");
    }
    if (r < 0) {
        c->adepack = NULL;
        c->a_setup_failed = true;
        reel_log(c->log, REEL_LOG_ERROR, "camera %s: audio not recorded: %s; recording video only",
                 c->cfg.name, err.msg[0] ? err.msg : strerror(-r));
        return;
    }
    c->a_sample_entry_id = id;
    if (!c->a_on_logged) {
        c->a_on_logged = true;
        reel_log(c->log, REEL_LOG_INFO, "camera %s: recording audio (%s, %u Hz, %u channel%s) as %s",
                 c->cfg.name, reel_audio_codec_name(a->codec), (unsigned)p.sample_rate,
                 (unsigned)p.channels, p.channels == 1 ? "" : "s", c->audio_name);
    }
}

static void cam_audio_rtp(struct reel_cam *c, const struct reel_rtsp_audio *a, const uint8_t *pkt,
                          size_t len)
{
    if (!c->adepack) {
        if (c->a_setup_failed)
            return;
        cam_audio_setup(c, a);
        if (!c->adepack)
            return;
    }
    struct reel_err err = { "" };
    (void)reel_audio_depack_push(c->adepack, pkt, len, &err);   /* malformed: counted; carry on */
}

static int on_rtp(void *opaque, uint8_t channel, const uint8_t *pkt, size_t len)
{
    struct reel_cam *c = opaque;
    const struct reel_rtsp_video *v = reel_rtsp_client_video(c->rtsp);
    const struct reel_rtsp_audio *a = c->audio_id ? reel_rtsp_client_audio(c->rtsp) : NULL;
    if (a && channel == a->rtp_channel) {
        cam_audio_rtp(c, a, pkt, len);
        return 0;
    }
    if (!v || channel != v->rtp_channel)
        return 0;                          /* RTCP and unknown channels */
    if (!c->depack) {
        /* RTP can arrive in the same read as the PLAY response, before
         * cam_after_client() sees PLAYING: set up now rather than drop the
         * first packets (and with them, often, the first key frame). */
        int r = cam_setup_depack(c);
        if (r < 0) {
            char reason[128];
            snprintf(reason, sizeof(reason), "cannot set up depacketiser: %s", strerror(-r));
            reel_ingest_defer_fail(&c->pol, reason);
            return r;
        }
    }
    struct reel_err err = { "" };
    int r = reel_depack_push(c->depack, pkt, len, &err);
    if (r < 0 && c->pol.fail_pending[0])
        return r;                          /* storage failure from on_au */
    cam_check_oversized(c);
    /* a malformed packet: counted by the depacketiser; carry on */
    return 0;
}

/* ---- the RTSP session ---- */

static int cam_flush(struct reel_cam *c)
{
    for (;;) {
        size_t n;
        const uint8_t *p = reel_rtsp_client_pending(c->rtsp, &n);
        if (n == 0)
            break;
        ssize_t w = send(c->tr.fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return -errno;
        }
        reel_rtsp_client_sent(c->rtsp, (size_t)w);
    }
    return 0;
}

static void cam_fail(struct reel_cam *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cam_fail(struct reel_cam *c, const char *fmt, ...)
{
    char reason[REEL_INGEST_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    reel_ingest_fail(&c->pol, reason);
}

/* After feeding or ticking the client: send what it queued and tell the
 * policy. Returns false when this connection is over (failed, redirected,
 * switched transport). */
static bool cam_after_client(struct reel_cam *c, int r, const struct reel_err *err)
{
    if (reel_ingest_settle(&c->pol))
        return false;
    struct reel_rtsp_client *cl = c->rtsp;
    if (reel_rtsp_client_offered_digest(cl))
        c->digest_seen = true;      /* kept for the camera's life, across reconnects */
    enum reel_rtsp_state st = reel_rtsp_client_state(cl);
    if (st == REEL_RTSP_PLAYING && !c->playing) {
        c->playing = true;
        c->tr.io.bulk = true;            /* media flows: reads may be coalesced */
        int rr = c->depack ? 0 : cam_setup_depack(c);
        if (rr < 0) {
            cam_fail(c, "cannot set up depacketiser: %s", strerror(-rr));
            return false;
        }
        if (c->conn_udp) {
            const struct reel_rtsp_video *v = reel_rtsp_client_video(cl);
            reel_transport_udp_peer(&c->tr, v->server_rtp_port, v->server_rtcp_port);
        }
        if (!c->store) {
            const struct reel_rtsp_audio *a = reel_rtsp_client_audio(cl);
            snprintf(c->probe_audio, sizeof(c->probe_audio), "%s", a ? reel_audio_codec_name(a->codec) : "");
        }
        if (c->audio_id && !reel_rtsp_client_audio(cl) && !c->a_note_logged) {
            c->a_note_logged = true;
            reel_log(c->log, REEL_LOG_WARN, "camera %s: audio not recorded: %s; recording video only",
                     c->cfg.name, reel_rtsp_client_audio_note(cl));
        }
    }
    if (st != REEL_RTSP_FAILED && st != REEL_RTSP_REDIRECT && r >= 0) {
        int fr = cam_flush(c);
        if (fr < 0) {
            cam_fail(c, "connection lost while sending: %s", strerror(-fr));
            return false;
        }
        size_t n;
        reel_rtsp_client_pending(cl, &n);
        int wr = reel_transport_want_write(&c->tr, n > 0);
        if (wr < 0) {
            cam_fail(c, "cannot watch the connection: %s", strerror(-wr));
            return false;
        }
    }
    struct reel_ingest_rtsp ev = {
        .state = st, .failed = r < 0, .errkind = reel_rtsp_client_errkind(cl),
        .error = err && err->msg[0] ? err->msg : reel_rtsp_client_error(cl),
        .redirect_url = st == REEL_RTSP_REDIRECT ? reel_rtsp_client_redirect_url(cl) : NULL,
        .deadline_ns = reel_rtsp_client_deadline(cl),
    };
    reel_ingest_rtsp(&c->pol, &ev);
    return reel_ingest_state(&c->pol) == REEL_INGEST_SESSION && c->rtsp == cl;
}

/* ---- transport events ---- */

static void tr_connected(void *opaque, int family)
{
    struct reel_cam *c = opaque;
    if (c->conn_udp) {
        uint32_t seed;
        if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
            seed = (uint32_t)now_mono(c);
        uint16_t port;
        int r = reel_transport_udp_open(&c->tr, family, seed, &port);
        if (r < 0) {
            cam_fail(c, "cannot open a UDP port pair: %s", strerror(-r));
            return;
        }
        /* The client was built before the port was known: rebuild it. */
        struct reel_rtsp_client_cfg cc = client_cfg(c, reel_ingest_url(&c->pol), true, port);
        struct reel_err err = { "" };
        reel_rtsp_client_free(c->rtsp);
        c->rtsp = NULL;
        if (reel_rtsp_client_new(&c->rtsp, &cc, &err) < 0) {
            cam_fail(c, "bad URL: %s", err.msg);
            return;
        }
    }
    reel_ingest_connected(&c->pol);
    reel_rtsp_client_start(c->rtsp, now_mono(c));
    cam_after_client(c, 0, NULL);
}

static void tr_fail(void *opaque, const char *reason)
{
    struct reel_cam *c = opaque;
    reel_ingest_fail(&c->pol, reason);
}

static void tr_tcp(void *opaque, uint32_t events)
{
    struct reel_cam *c = opaque;
    if (events & EPOLLOUT) {
        int fr = cam_flush(c);
        if (fr < 0) {
            cam_fail(c, "connection lost: %s", strerror(-fr));
            return;
        }
        size_t n;
        reel_rtsp_client_pending(c->rtsp, &n);
        int wr = reel_transport_want_write(&c->tr, n > 0);
        if (wr < 0) {
            cam_fail(c, "cannot watch the connection: %s", strerror(-wr));
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        uint8_t buf[READ_CHUNK];
        /* Bounded work per wakeup so one busy camera cannot starve the others. */
        for (int rounds = 0; rounds < READ_ROUNDS; rounds++) {
            ssize_t n = recv(c->tr.fd, buf, sizeof(buf), 0);
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

/* A datagram from a source other than the camera's: counted, and logged
 * with the count and the source at most once a minute. */
static void cam_udp_foreign(struct reel_cam *c, const struct sockaddr_storage *from)
{
    c->udp_foreign++;
    c->udp_foreign_unlogged++;
    int64_t now = now_mono(c);
    if (c->udp_foreign_logged_mono && now - c->udp_foreign_logged_mono < FOREIGN_LOG_NS)
        return;
    char src[REEL_TRANSPORT_ADDR_MAX];
    reel_transport_addr_str(from, src, sizeof(src));
    reel_log(c->log, REEL_LOG_WARN, "camera %s: dropped %" PRIu64 " UDP packet%s from a source other than the "
             "camera (last from %s; %" PRIu64 " since start)", c->cfg.name, c->udp_foreign_unlogged,
             c->udp_foreign_unlogged == 1 ? "" : "s", src, c->udp_foreign);
    c->udp_foreign_unlogged = 0;
    c->udp_foreign_logged_mono = now;
}

static void tr_udp(void *opaque, int idx)
{
    struct reel_cam *c = opaque;
    uint8_t buf[READ_CHUNK];
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(c->tr.udp_fd[idx], buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            break;
        if (!reel_transport_udp_from_peer(&c->tr, idx, &from, fl)) {
            cam_udp_foreign(c, &from);
            continue;
        }
        if (idx == 1 || !c->depack)
            continue;                      /* RTCP: ignored */
        reel_ingest_udp_packet(&c->pol, now_mono(c));
        struct reel_err err = { "" };
        reel_depack_push(c->depack, buf, (size_t)n, &err);
        if (reel_ingest_settle(&c->pol))
            return;
        cam_check_oversized(c);
    }
}

/* ---- timer ---- */

static void cam_timer_fired(struct reel_cam *c)
{
    if (!reel_ingest_timer(&c->pol) || !c->rtsp)
        return;
    struct reel_err err = { "" };
    int r = reel_rtsp_client_tick(c->rtsp, now_mono(c), &err);
    cam_after_client(c, r, &err);
}

static void cam_timer_cb(struct reel_timer *t)
{
    cam_timer_fired(t->opaque);
}

/* ---- public ---- */

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
    c->tfd = -1;
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
    c->digest_seen = c->opts.digest_seen;
    if (!c->opts.connect_timeout_ns)
        c->opts.connect_timeout_ns = 10 * REEL_NS_PER_SEC;
    struct reel_resolver *res = c->opts.resolver;
    if (!res) {
        int r = reel_resolver_new(&c->own_resolver, loop, 1);
        if (r < 0) {
            free(c);
            return r;
        }
        res = c->own_resolver;
    }
    c->ops = (struct reel_ingest_ops){
        .connect = op_connect, .disconnect = op_disconnect, .sample_entry = op_sample_entry,
        .run_open = op_run_open, .run_frame = op_run_frame, .run_close = op_run_close,
        .outage_begin = op_outage_begin, .outage_end = op_outage_end,
        .timer_set = op_timer_set, .timer_cancel = op_timer_cancel, .log = op_log,
        .state_changed = op_state_changed, .opaque = c,
    };
    struct reel_ingest_cfg pc = {
        .url = c->cfg.url, .udp = cfg->udp, .allow_redirect = cfg->allow_redirect,
        .media_timeout_ns = c->opts.media_timeout_ns, .connect_timeout_ns = c->opts.connect_timeout_ns,
        .resolve_timeout_ns = c->opts.resolve_timeout_ns, .backoff_min_ns = c->opts.backoff_min_ns,
        .backoff_max_ns = c->opts.backoff_max_ns, .udp_silence_ns = c->opts.udp_silence_ns,
        .tcp_retry_ns = c->opts.tcp_retry_ns, .clock = reel_loop_clock(loop), .ops = &c->ops,
    };
    reel_ingest_init(&c->pol, &pc);
    c->tr_cbs = (struct reel_transport_cbs){
        .on_connected = tr_connected, .on_fail = tr_fail, .on_tcp = tr_tcp, .on_udp = tr_udp, .opaque = c,
    };
    reel_transport_init(&c->tr, loop, res, &c->tr_cbs);
    reel_timer_init(&c->timer, cam_timer_cb, c);
    if (store && cfg->audio && cfg->kind == REEL_STREAM_MAIN) {
        struct reel_camera arow;
        struct reel_err err = { "" };
        int r = reel_store_camera_stream(store, cfg->id, REEL_STREAM_AUDIO, true, &arow, &err);
        if (r < 0) {
            reel_log(log, REEL_LOG_ERROR, "camera %s: audio not recorded: no audio row: %s; recording "
                     "video only", cfg->name, err.msg[0] ? err.msg : strerror(-r));
        } else {
            c->audio_id = arow.id;
            snprintf(c->audio_name, sizeof(c->audio_name), "%s", arow.name);
        }
    }
    *ret = c;
    return 0;
}

void reel_cam_start(struct reel_cam *c)
{
    reel_ingest_start(&c->pol);
}

void reel_cam_stop(struct reel_cam *c)
{
    if (c->rtsp && c->tr.fd >= 0 && reel_ingest_state(&c->pol) == REEL_INGEST_SESSION) {
        reel_rtsp_client_stop(c->rtsp, now_mono(c));
        size_t n;
        const uint8_t *p = reel_rtsp_client_pending(c->rtsp, &n);
        if (n > 0) {
            ssize_t w = send(c->tr.fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)w;
        }
    }
    reel_ingest_stop(&c->pol);
}

void reel_cam_free(struct reel_cam *c)
{
    if (!c)
        return;
    reel_loop_timer_cancel(c->loop, &c->timer);
    op_disconnect(c);
    reel_run_close(c->run);
    c->run = NULL;
    audio_run_close(c);
    if (c->tfd >= 0) {
        reel_loop_io_del(c->loop, &c->tfd_io);
        close(c->tfd);
    }
    reel_resolver_free(c->own_resolver);
    explicit_bzero(c->password, sizeof(c->password));
    free(c);
}

bool reel_cam_digest_seen(const struct reel_cam *c) { return c->digest_seen; }

const char *reel_cam_probe_audio(const struct reel_cam *c) { return c->probe_audio; }

void reel_cam_status(struct reel_cam *c, struct reel_camera_status *ret)
{
    struct reel_ingest_status is;
    reel_ingest_status(&c->pol, &is);
    memset(ret, 0, sizeof(*ret));
    ret->camera_id = c->cfg.id;
    ret->connected = is.state == REEL_INGEST_SESSION && is.recording;
    snprintf(ret->state, sizeof(ret->state), "%s", is.state_word);
    snprintf(ret->last_error, sizeof(ret->last_error), "%s", is.last_error);
    ret->fps = is.fps;
    ret->bitrate_bps = is.bitrate_bps;
    ret->udp_foreign = c->udp_foreign;
    ret->updated90k = now_wall90k(c);
}

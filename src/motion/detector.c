/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The motion detector: the control thread, the workers, decoding, events
 * and the grid's minutes (detector.h).
 */
#include "motion/detector.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libavutil/pixdesc.h>

#include "db/db.h"
#include "events/events.h"
#include "hub/hub.h"
#include "media/snapshot.h"
#include "motion/grid.h"
#include "motion/mcfg.h"
#include "motion/model.h"
#include "motion/mstore.h"

#define NAME_MAX_ 64
#define READS_PER_ROUND 64               /* messages of one camera per wake, for fairness */
#define SUB_ENTRIES 256
#define SUB_BYTES (8u << 20)
#define STALL_NS (5 * REEL_NS_PER_SEC)   /* no frame for this long: an open event ends */
#define DIM_MAX 4096                     /* decoded picture cap (max_pixels) */
#define BATCH_NS (50 * 1000 * 1000)      /* a worker's rounds at most every 50 ms */

/* One camera's detector; owned by its worker once handed over. */
struct mcam {
    struct mcam *next;
    struct reel_motion *m;
    int64_t camera_id;                   /* the camera (events, grid rows) */
    int64_t stream_id;                   /* the hub id read (its sub-stream or itself) */
    char name[NAME_MAX_];
    struct reel_motion_cfg cfg;
    struct reel_hub_sub *sub;
    int fd;
    /* decoding */
    AVCodecContext *dec;
    int64_t entry_id;
    AVPacket *pkt;
    AVFrame *pic;
    bool need_key;
    bool fmt_warned;
    /* analysis */
    struct reel_motion_model *model;
    int mw, mh;
    int64_t step90k, next_due90k;
    int64_t last_frame_mono;
    /* events */
    int consec;
    int64_t first_moved90k;
    bool active;
    int64_t ev_id;
    int64_t last_motion90k;
    int peak;
    uint32_t zones_moved;                /* bits of the zones that moved in the event */
    char zone_names[REEL_MOTION_ZONES_MAX][REEL_MOTION_ZONE_NAME_MAX];
    int nzones;
    /* grid: the minute being filled */
    int64_t minute90k;
    struct reel_grid_second secs[60];
    bool sec_used[60];
};

struct worker {
    struct reel_motion *m;
    pthread_t th;
    bool started;
    int ep, wake;                        /* epoll, eventfd for commands */
    pthread_mutex_t mu;
    struct mcam *add;                    /* handed over, not yet running (mu) */
    int64_t remove[REEL_MOTION_CAMERAS_MAX];   /* camera ids to stop (mu) */
    size_t nremove;
    bool quit;                           /* mu */
    struct mcam *cams;                   /* worker thread only */
    size_t ncams;                        /* mu: for the control thread's placement */
    uint8_t *entry;                      /* REEL_HUB_ENTRY_MAX */
};

struct write {
    int64_t camera_id, minute90k;
    size_t len;
    uint8_t blob[];
};

/* The control thread's view of a running camera. */
struct running {
    int64_t camera_id, stream_id;
    char name[NAME_MAX_];
    struct reel_motion_cfg cfg;
    unsigned worker;
};

struct reel_motion {
    struct reel_motion_run_cfg cfg;
    char *datadir;
    const struct reel_clock *clock;
    struct worker *w;
    unsigned nw;
    pthread_t ctl;
    bool ctl_started;
    pthread_mutex_t mu;                  /* below */
    pthread_cond_t cv;
    bool quit, changed;
    struct write *writes[REEL_MOTION_WRITES_MAX];
    size_t nwrites;
    struct reel_motion_stats st;
    /* control thread only */
    struct running run[REEL_MOTION_CAMERAS_MAX];
    size_t nrun;
    sqlite3 *db;
    bool db_warned;
    bool stopped;                        /* reel_motion_stop() ran (its caller's thread) */
};

static int64_t now90k(const struct reel_motion *m) { return reel_ns_to_90k(reel_clock_wall(m->clock)); }

static void stat_add(struct reel_motion *m, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&m->mu);
    *field += n;
    pthread_mutex_unlock(&m->mu);
}

/* ---- the grid's minutes ---- */

/* Queues the filled minute for the writer and clears it. */
static void minute_flush(struct mcam *c)
{
    if (c->minute90k == 0)
        return;
    const struct reel_grid_second *secs[60];
    bool any = false;
    for (int i = 0; i < 60; i++) {
        secs[i] = c->sec_used[i] ? &c->secs[i] : NULL;
        any |= c->sec_used[i];
    }
    if (any) {
        uint8_t *buf = malloc(REEL_GRID_MINUTE_MAX);
        size_t len = 0;
        if (buf)
            reel_grid_encode(secs, buf, &len);
        struct write *w = len ? malloc(sizeof(*w) + len) : NULL;
        if (w) {
            w->camera_id = c->camera_id;
            w->minute90k = c->minute90k;
            w->len = len;
            memcpy(w->blob, buf, len);
            struct reel_motion *m = c->m;
            pthread_mutex_lock(&m->mu);
            if (m->nwrites == REEL_MOTION_WRITES_MAX) {   /* the writer is stuck: the oldest goes */
                free(m->writes[0]);
                memmove(m->writes, m->writes + 1, sizeof(m->writes[0]) * (REEL_MOTION_WRITES_MAX - 1));
                m->nwrites--;
                m->st.writes_dropped++;
            }
            m->writes[m->nwrites++] = w;
            pthread_cond_signal(&m->cv);
            pthread_mutex_unlock(&m->mu);
        }
        free(buf);
    }
    memset(c->secs, 0, sizeof(c->secs));
    memset(c->sec_used, 0, sizeof(c->sec_used));
    c->minute90k = 0;
}

static void grid_put(struct mcam *c, int64_t t90k, const struct reel_grid_second *cells)
{
    int64_t minute = t90k - t90k % REEL_GRID_MINUTE90K;
    if (c->minute90k != minute) {
        minute_flush(c);
        c->minute90k = minute;
    }
    int s = (int)((t90k - minute) / 90000);
    if (s < 0 || s > 59)
        return;
    bool any = false;
    for (int i = 0; i < REEL_GRID_CELLS; i++) {
        if (cells->level[i] > c->secs[s].level[i])
            c->secs[s].level[i] = cells->level[i];
        any |= cells->level[i] != 0;
    }
    c->sec_used[s] |= any;
}

/* ---- events ---- */

static void zones_text(const struct mcam *c, uint32_t bits, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < c->nzones; k++) {
        if (!(bits & (1u << k)) || !c->zone_names[k][0])
            continue;
        int w = snprintf(out + n, cap - n, "%s%s", n ? "," : "", c->zone_names[k]);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
}

static void event_end(struct mcam *c)
{
    if (!c->active)
        return;
    c->active = false;
    struct reel_motion *m = c->m;
    if (m->cfg.events) {
        char zones[REEL_EVENT_ZONES_MAX];
        zones_text(c, c->zones_moved, zones, sizeof(zones));
        int r = reel_events_end(m->cfg.events, c->ev_id, c->last_motion90k + c->step90k, zones, c->peak);
        if (r < 0)
            reel_log(m->cfg.log, REEL_LOG_WARN, "motion %s: cannot end event %lld: %s", c->name,
                     (long long)c->ev_id, strerror(-r));
    }
}

static void event_frame(struct mcam *c, int64_t t90k, const struct reel_motion_frame *f)
{
    uint32_t bits = 0;
    int peak = 0;
    for (int k = 0; k < f->nzones; k++)
        if (f->zone_moved[k]) {
            bits |= 1u << k;
            if (f->zone_share[k] > peak)
                peak = f->zone_share[k];
        }
    if (f->share > peak && bits)
        peak = f->share;
    if (bits) {
        if (c->consec++ == 0)
            c->first_moved90k = t90k;
    } else {
        c->consec = 0;
    }
    struct reel_motion *m = c->m;
    if (c->active) {
        if (bits) {
            c->last_motion90k = t90k;
            c->zones_moved |= bits;
            if (peak > c->peak)
                c->peak = peak;
        } else if (t90k - c->last_motion90k >= REEL_MOTION_QUIET_S * 90000) {
            event_end(c);
        }
        return;
    }
    if (c->consec < 2)
        return;
    c->active = true;
    c->zones_moved = bits;
    c->peak = peak;
    c->last_motion90k = t90k;
    c->ev_id = 0;
    stat_add(m, &m->st.events, 1);
    if (m->cfg.events) {
        struct reel_event ev = { .camera_id = c->camera_id, .start90k = c->first_moved90k, .peak = peak };
        snprintf(ev.camera, sizeof(ev.camera), "%s", c->name);
        snprintf(ev.kind, sizeof(ev.kind), "%s", REEL_EVENT_MOTION);
        snprintf(ev.source, sizeof(ev.source), "motion");
        zones_text(c, bits, ev.zones, sizeof(ev.zones));
        int r = reel_events_begin(m->cfg.events, &ev, &c->ev_id);
        if (r < 0) {
            reel_log(m->cfg.log, REEL_LOG_WARN, "motion %s: cannot report an event: %s", c->name, strerror(-r));
            c->active = false;
        }
    }
}

/* ---- decoding ---- */

static void dec_close(struct mcam *c)
{
    avcodec_free_context(&c->dec);
    c->entry_id = 0;
}

static int dec_open(struct mcam *c, struct worker *w, int64_t entry_id)
{
    struct reel_motion *m = c->m;
    size_t len = 0;
    int r = reel_hub_entry_get(m->cfg.hub, c->stream_id, entry_id, w->entry, REEL_HUB_ENTRY_MAX, &len, NULL, NULL,
                               NULL);
    if (r < 0)
        return r;
    int codec;
    const uint8_t *cfg;
    size_t cfg_len;
    struct reel_err err = { "" };
    r = reel_media_entry_config(w->entry, len, &codec, &cfg, &cfg_len, &err);
    if (r < 0) {
        reel_log(m->cfg.log, REEL_LOG_WARN, "motion %s: %s", c->name, err.msg);
        return r;
    }
    const AVCodec *dc = avcodec_find_decoder(codec == 1 ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC);
    if (!dc)
        return -ENOSYS;
    c->dec = avcodec_alloc_context3(dc);
    if (!c->dec)
        return -ENOMEM;
    c->dec->extradata = av_mallocz(cfg_len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!c->dec->extradata) {
        dec_close(c);
        return -ENOMEM;
    }
    memcpy(c->dec->extradata, cfg, cfg_len);
    c->dec->extradata_size = (int)cfg_len;
    c->dec->thread_count = 1;
    c->dec->max_pixels = (int64_t)DIM_MAX * DIM_MAX;
    c->dec->skip_loop_filter = AVDISCARD_ALL;   /* deblocking does not change what moved */
    c->dec->skip_frame = AVDISCARD_NONREF;      /* nothing else depends on these */
    c->dec->flags2 |= AV_CODEC_FLAG2_FAST;
    c->dec->pkt_timebase = (AVRational){ 1, 90000 };
    r = avcodec_open2(c->dec, dc, NULL);
    if (r < 0) {
        dec_close(c);
        return -EIO;
    }
    c->entry_id = entry_id;
    return 0;
}

static bool luma8(const AVFrame *f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)f->format);
    return d && !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) && d->nb_components >= 1 &&
           d->comp[0].depth == 8 && d->comp[0].step == 1 && d->comp[0].plane == 0;
}

static void analyse(struct mcam *c, const AVFrame *f)
{
    struct reel_motion *m = c->m;
    int64_t t = f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp;
    /* Due times on a fixed grid of 1/fps (a frame up to a quarter step early
     * counts: arrival jitter), so the rate holds over time; a gap of over a
     * step, or a wall clock stepped back over 5 s, restarts the grid. */
    if (t == AV_NOPTS_VALUE ||
        (t < c->next_due90k - c->step90k / 4 && c->next_due90k - t < 5 * 90000))
        return;
    c->next_due90k = t > c->next_due90k + c->step90k || t < c->next_due90k - 5 * 90000 ? t + c->step90k
                     : c->next_due90k + c->step90k;
    if (!luma8(f)) {
        if (!c->fmt_warned)
            reel_log(m->cfg.log, REEL_LOG_WARN, "motion %s: pixel format %s is not analysed (8-bit YUV only)",
                     c->name, av_get_pix_fmt_name((enum AVPixelFormat)f->format));
        c->fmt_warned = true;
        return;
    }
    if (!c->model || c->mw != f->width || c->mh != f->height) {
        reel_motion_model_free(c->model);
        c->model = NULL;
        if (reel_motion_model_new(&c->model, &c->cfg, f->width, f->height) < 0)
            return;
        c->mw = f->width;
        c->mh = f->height;
    }
    struct reel_motion_frame fr;
    reel_motion_model_feed(c->model, f->data[0], f->linesize[0], &fr);
    pthread_mutex_lock(&m->mu);
    m->st.analysed++;
    m->st.recalibrations += fr.recalibrated;
    pthread_mutex_unlock(&m->mu);
    c->nzones = fr.nzones;
    memcpy(c->zone_names, fr.zone_name, sizeof(c->zone_names));
    grid_put(c, t, &fr.cells);
    event_frame(c, t, &fr);
}

static void decode_au(struct mcam *c, struct worker *w, const struct reel_hub_msg *msg)
{
    struct reel_motion *m = c->m;
    const struct reel_hub_au *au = &msg->au;
    if (msg->lost) {
        stat_add(m, &m->st.lost, msg->lost);
        if (c->dec)
            avcodec_flush_buffers(c->dec);
    }
    if (c->need_key && !au->key)
        return;
    if (au->sample_entry_id != c->entry_id || !c->dec) {
        if (!au->key)
            return;   /* a new entry starts at a key frame */
        dec_close(c);
        if (dec_open(c, w, au->sample_entry_id) < 0) {
            stat_add(m, &m->st.decode_errors, 1);
            c->need_key = true;
            return;
        }
    }
    c->need_key = false;
    if (au->len == 0 || au->len > REEL_SNAPSHOT_AU_MAX || av_new_packet(c->pkt, (int)au->len) < 0)
        return;
    memcpy(c->pkt->data, au->data, au->len);
    c->pkt->pts = c->pkt->dts = au->wall90k;
    if (au->key)
        c->pkt->flags |= AV_PKT_FLAG_KEY;
    int r = avcodec_send_packet(c->dec, c->pkt);
    av_packet_unref(c->pkt);
    if (r < 0 && r != AVERROR(EAGAIN)) {
        /* a malformed access unit: count it, wait for the next key frame */
        stat_add(m, &m->st.decode_errors, 1);
        avcodec_flush_buffers(c->dec);
        c->need_key = true;
        return;
    }
    c->last_frame_mono = reel_clock_mono(m->clock);
    for (;;) {
        r = avcodec_receive_frame(c->dec, c->pic);
        if (r < 0)
            break;
        stat_add(m, &m->st.decoded, 1);
        analyse(c, c->pic);
        av_frame_unref(c->pic);
    }
    if (r != AVERROR(EAGAIN) && r != AVERROR_EOF) {
        stat_add(m, &m->st.decode_errors, 1);
        avcodec_flush_buffers(c->dec);
        c->need_key = true;
    }
}

/* ---- cameras ---- */

static void mcam_free(struct mcam *c)
{
    if (!c)
        return;
    reel_hub_unsubscribe(c->sub);
    dec_close(c);
    av_packet_free(&c->pkt);
    av_frame_free(&c->pic);
    reel_motion_model_free(c->model);
    free(c);
}

/* Stops a running camera: its event ends, its minute is written. */
static void mcam_stop(struct worker *w, struct mcam *c)
{
    event_end(c);
    minute_flush(c);
    if (c->fd >= 0)
        epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    mcam_free(c);
}

static int mcam_start(struct worker *w, struct mcam *c)
{
    struct reel_hub_sub_cfg sc = { .camera_id = c->stream_id, .kinds = REEL_HUB_AU, .max_entries = SUB_ENTRIES,
                                   .max_bytes = SUB_BYTES };
    int r = reel_hub_subscribe(c->m->cfg.hub, &sc, &c->sub);
    if (r < 0)
        return r;
    c->fd = reel_hub_sub_fd(c->sub);
    if (c->fd < 0)
        return c->fd;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        return -errno;
    return 0;
}

static void read_cam(struct worker *w, struct mcam *c)
{
    struct reel_motion *m = c->m;
    uint64_t n = 0;
    for (int i = 0; i < READS_PER_ROUND; i++) {
        struct reel_hub_msg msg;
        if (reel_hub_sub_read(c->sub, &msg, 0) < 0)
            break;
        if (msg.kind == REEL_HUB_AU) {
            n++;
            decode_au(c, w, &msg);
        }
        reel_hub_msg_release(&msg);
    }
    if (n)
        stat_add(m, &m->st.aus, n);
}

/* Once a second: a camera that sends nothing ends its event; a minute
 * long past is written. */
static void tick(struct worker *w)
{
    struct reel_motion *m = w->m;
    int64_t mono = reel_clock_mono(m->clock), now = now90k(m);
    for (struct mcam *c = w->cams; c; c = c->next) {
        if (c->active && mono - c->last_frame_mono > STALL_NS)
            event_end(c);
        if (c->minute90k && now - c->minute90k > REEL_GRID_MINUTE90K + 10 * 90000)
            minute_flush(c);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct reel_motion *m = w->m;
    int64_t next_tick = reel_clock_mono(m->clock) + REEL_NS_PER_SEC;
    for (;;) {
        struct epoll_event evs[32];
        int n = epoll_wait(w->ep, evs, 32, 500);
        int64_t woke = reel_clock_mono(m->clock);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == w) {
                uint64_t v;
                if (read(w->wake, &v, sizeof(v)) < 0) { /* EAGAIN: another wake took it */ }
                continue;
            }
            read_cam(w, evs[i].data.ptr);
        }
        pthread_mutex_lock(&w->mu);
        bool quit = w->quit;
        struct mcam *add = w->add;
        w->add = NULL;
        int64_t rm[REEL_MOTION_CAMERAS_MAX];
        size_t nrm = w->nremove;
        memcpy(rm, w->remove, sizeof(rm[0]) * nrm);
        w->nremove = 0;
        pthread_mutex_unlock(&w->mu);
        for (size_t k = 0; k < nrm; k++) {
            bool found = false;
            for (struct mcam **p = &w->cams; *p; p = &(*p)->next)
                if ((*p)->camera_id == rm[k]) {
                    struct mcam *c = *p;
                    *p = c->next;
                    mcam_stop(w, c);
                    found = true;
                    break;
                }
            /* handed over and stopped again before it ran: the oldest hand-over goes */
            struct mcam **last = NULL;
            for (struct mcam **p = &add; *p && !found; p = &(*p)->next)
                if ((*p)->camera_id == rm[k])
                    last = p;
            if (last) {
                struct mcam *c = *last;
                *last = c->next;
                mcam_free(c);
            }
        }
        while (add) {
            struct mcam *c = add;
            add = c->next;
            int r = mcam_start(w, c);
            if (r < 0) {
                reel_log(m->cfg.log, REEL_LOG_ERROR, "motion %s: cannot subscribe to its stream: %s", c->name,
                         strerror(-r));
                mcam_stop(w, c);
                continue;
            }
            c->next = w->cams;
            w->cams = c;
        }
        int64_t mono = reel_clock_mono(m->clock);
        if (mono >= next_tick) {
            tick(w);
            next_tick = mono + REEL_NS_PER_SEC;
        }
        if (quit)
            break;
        /* At most one round per BATCH_NS: the access units of that time are
         * read in one go (fewer wake-ups; the hub's queue holds them). */
        int64_t spent = reel_clock_mono(m->clock) - woke;
        if (n > 0 && spent >= 0 && spent < BATCH_NS) {
            struct timespec ts = { 0, (long)(BATCH_NS - spent) };
            nanosleep(&ts, NULL);
        }
    }
    while (w->cams) {
        struct mcam *c = w->cams;
        w->cams = c->next;
        mcam_stop(w, c);
    }
    return NULL;
}

static void worker_wake(struct worker *w)
{
    uint64_t one = 1;
    if (write(w->wake, &one, sizeof(one)) != sizeof(one)) { /* the counter is set already */ }
}

/* ---- the control thread ---- */

static int db_ready(struct reel_motion *m)
{
    if (m->db)
        return 0;
    struct reel_err err = { "" };
    int r = reel_db_open(&m->db, m->datadir, REEL_DB_WRITE, &err);
    if (r < 0) {
        if (!m->db_warned)
            reel_log(m->cfg.log, REEL_LOG_ERROR, "motion: %s; retrying", err.msg);
        m->db_warned = true;
        return r;
    }
    m->db_warned = false;
    return 0;
}

/* Writes one minute, merging with a row already there (a detector
 * restarted within the minute). */
static int write_minute(struct reel_motion *m, const struct write *w, struct reel_err *err)
{
    const uint8_t *blob = w->blob;
    size_t len = w->len;
    uint8_t *merged = NULL;
    sqlite3_stmt *st;
    int r = reel_db_prepare(m->db, "SELECT data FROM motion_minute WHERE camera_id = ? AND minute90k = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, w->camera_id);
    sqlite3_bind_int64(st, 2, w->minute90k);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const uint8_t *old = sqlite3_column_blob(st, 0);
        size_t olen = (size_t)sqlite3_column_bytes(st, 0);
        struct reel_err e2 = { "" };
        if (old && reel_grid_check(old, olen, &e2) == 0) {
            struct reel_grid_second *s = calloc(60, sizeof(*s));
            merged = malloc(REEL_GRID_MINUTE_MAX);
            if (s && merged) {
                const struct reel_grid_second *p[60];
                for (unsigned i = 0; i < 60; i++) {
                    struct reel_grid_second a;
                    reel_grid_second_get(old, olen, i, &s[i]);
                    reel_grid_second_get(w->blob, w->len, i, &a);
                    for (int k = 0; k < REEL_GRID_CELLS; k++)
                        if (a.level[k] > s[i].level[k])
                            s[i].level[k] = a.level[k];
                    p[i] = &s[i];
                }
                reel_grid_encode(p, merged, &len);
                blob = merged;
            }
            free(s);
        }
    }
    sqlite3_finalize(st);
    r = len ? reel_mstore_put(m->db, w->camera_id, w->minute90k, blob, len, err) : 0;
    free(merged);
    return r;
}

static void write_pending(struct reel_motion *m)
{
    for (;;) {
        pthread_mutex_lock(&m->mu);
        struct write *w = NULL;
        if (m->nwrites) {
            w = m->writes[0];
            memmove(m->writes, m->writes + 1, sizeof(m->writes[0]) * (m->nwrites - 1));
            m->nwrites--;
        }
        pthread_mutex_unlock(&m->mu);
        if (!w)
            return;
        struct reel_err err = { "" };
        int r = db_ready(m) < 0 ? -EIO : write_minute(m, w, &err);
        if (r < 0 && err.msg[0])
            reel_log(m->cfg.log, REEL_LOG_WARN, "motion: camera %lld: the minute's grid is lost: %s",
                     (long long)w->camera_id, err.msg);
        if (r == 0)
            stat_add(m, &m->st.minutes_written, 1);
        free(w);
    }
}

/* The cameras that should run now. */
static int wanted(struct reel_motion *m, struct running *out, size_t *n, struct reel_err *err)
{
    *n = 0;
    sqlite3_stmt *st;
    int r = reel_db_prepare(m->db,
                            "SELECT c.id, c.name, (SELECT s.id FROM camera s WHERE s.parent_id = c.id AND "
                            "s.kind = 'sub' AND s.enabled = 1) FROM camera c JOIN camera_events e ON "
                            "e.camera_id = c.id WHERE c.kind = 'main' AND c.enabled = 1 AND e.motion = 'decode' "
                            "ORDER BY c.id", &st, err);
    if (r < 0)
        return r;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW && *n < REEL_MOTION_CAMERAS_MAX) {
        struct running *x = &out[*n];
        memset(x, 0, sizeof(*x));
        x->camera_id = sqlite3_column_int64(st, 0);
        snprintf(x->name, sizeof(x->name), "%s", (const char *)sqlite3_column_text(st, 1));
        x->stream_id = sqlite3_column_type(st, 2) == SQLITE_NULL ? x->camera_id : sqlite3_column_int64(st, 2);
        (*n)++;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        r = reel_db_err(m->db, s, err, "reading the cameras");
    sqlite3_finalize(st);
    for (size_t i = 0; r == 0 && i < *n; i++)
        r = reel_motion_cfg_load(m->db, out[i].camera_id, &out[i].cfg, err);
    return r;
}

static unsigned least_loaded(struct reel_motion *m)
{
    unsigned best = 0;
    size_t bn = SIZE_MAX;
    for (unsigned i = 0; i < m->nw; i++) {
        pthread_mutex_lock(&m->w[i].mu);
        size_t n = m->w[i].ncams;
        pthread_mutex_unlock(&m->w[i].mu);
        if (n < bn) {
            bn = n;
            best = i;
        }
    }
    return best;
}

static void stop_running(struct reel_motion *m, size_t i)
{
    struct worker *w = &m->w[m->run[i].worker];
    pthread_mutex_lock(&w->mu);
    if (w->nremove < REEL_MOTION_CAMERAS_MAX)
        w->remove[w->nremove++] = m->run[i].camera_id;
    w->ncams--;
    pthread_mutex_unlock(&w->mu);
    worker_wake(w);
    reel_log(m->cfg.log, REEL_LOG_INFO, "motion %s: detector stopped", m->run[i].name);
    m->run[i] = m->run[--m->nrun];
}

static void start_running(struct reel_motion *m, const struct running *x)
{
    if (m->nrun == REEL_MOTION_CAMERAS_MAX)
        return;
    struct mcam *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->m = m;
    c->camera_id = x->camera_id;
    c->stream_id = x->stream_id;
    c->fd = -1;
    snprintf(c->name, sizeof(c->name), "%s", x->name);
    c->cfg = x->cfg;
    c->need_key = true;
    c->step90k = 90000 / (x->cfg.fps < 1 ? 1 : x->cfg.fps);
    c->pkt = av_packet_alloc();
    c->pic = av_frame_alloc();
    if (!c->pkt || !c->pic) {
        mcam_free(c);
        return;
    }
    unsigned wi = least_loaded(m);
    struct worker *w = &m->w[wi];
    pthread_mutex_lock(&w->mu);
    c->next = w->add;
    w->add = c;
    w->ncams++;
    pthread_mutex_unlock(&w->mu);
    worker_wake(w);
    m->run[m->nrun] = *x;
    m->run[m->nrun].worker = wi;
    m->nrun++;
    reel_log(m->cfg.log, REEL_LOG_INFO, "motion %s: detector started (%s stream, %d fps, %d zones)", x->name,
             x->stream_id == x->camera_id ? "main" : "sub", x->cfg.fps, x->cfg.nzones);
}

static void reconcile(struct reel_motion *m)
{
    if (db_ready(m) < 0)
        return;
    struct running *want = malloc(sizeof(*want) * REEL_MOTION_CAMERAS_MAX);
    if (!want)
        return;
    size_t n = 0;
    struct reel_err err = { "" };
    if (wanted(m, want, &n, &err) < 0) {
        reel_log(m->cfg.log, REEL_LOG_WARN, "motion: %s", err.msg);
        free(want);
        return;
    }
    /* stop what is gone or changed */
    for (size_t i = 0; i < m->nrun;) {
        bool keep = false;
        for (size_t k = 0; k < n; k++)
            if (want[k].camera_id == m->run[i].camera_id && want[k].stream_id == m->run[i].stream_id &&
                strcmp(want[k].name, m->run[i].name) == 0 &&
                memcmp(&want[k].cfg, &m->run[i].cfg, sizeof(want[k].cfg)) == 0)
                keep = true;
        if (keep)
            i++;
        else
            stop_running(m, i);
    }
    for (size_t k = 0; k < n; k++) {
        bool have = false;
        for (size_t i = 0; i < m->nrun; i++)
            have |= m->run[i].camera_id == want[k].camera_id;
        if (!have)
            start_running(m, &want[k]);
    }
    pthread_mutex_lock(&m->mu);
    m->st.cameras = (unsigned)m->nrun;
    pthread_mutex_unlock(&m->mu);
    free(want);
}

static void *ctl_main(void *arg)
{
    struct reel_motion *m = arg;
    int64_t next = 0;
    for (;;) {
        write_pending(m);
        int64_t mono = reel_clock_mono(m->clock);
        pthread_mutex_lock(&m->mu);
        bool quit = m->quit, changed = m->changed;
        m->changed = false;
        pthread_mutex_unlock(&m->mu);
        if (quit)
            break;
        if (changed || mono >= next) {
            reconcile(m);
            next = reel_clock_mono(m->clock) + REEL_MOTION_POLL_NS;
        }
        pthread_mutex_lock(&m->mu);
        if (!m->quit && !m->changed && m->nwrites == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += 250 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&m->cv, &m->mu, &ts);
        }
        pthread_mutex_unlock(&m->mu);
    }
    return NULL;
}

/* ---- lifetime ---- */

int reel_motion_new(struct reel_motion **ret, const struct reel_motion_run_cfg *cfg, struct reel_err *err)
{
    if (!cfg->hub || !cfg->datadir)
        return reel_err_set(err, EINVAL, "motion: no hub or data directory");
    unsigned nw = cfg->workers ? cfg->workers : 2;
    if (nw > REEL_MOTION_WORKERS_MAX)
        return reel_err_set(err, EINVAL, "motion: %u workers over the cap of %d", nw, REEL_MOTION_WORKERS_MAX);
    struct reel_motion *m = calloc(1, sizeof(*m));
    if (!m)
        return reel_err_set(err, ENOMEM, "out of memory");
    m->cfg = *cfg;
    m->clock = cfg->clock ? cfg->clock : reel_clock_system();
    m->datadir = strdup(cfg->datadir);
    m->w = calloc(nw, sizeof(*m->w));
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (!m->datadir || !m->w) {
        reel_motion_free(m);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    for (unsigned i = 0; i < nw; i++) {
        struct worker *w = &m->w[i];
        w->m = m;
        w->ep = w->wake = -1;
        pthread_mutex_init(&w->mu, NULL);
        m->nw++;
        w->entry = malloc(REEL_HUB_ENTRY_MAX);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
        if (!w->entry || w->ep < 0 || w->wake < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &ev) < 0) {
            int e = errno ? errno : ENOMEM;
            reel_motion_free(m);
            return reel_err_set(err, e, "motion: cannot set up a worker: %s", strerror(e));
        }
        int e = pthread_create(&w->th, NULL, worker_main, w);
        if (e) {
            reel_motion_free(m);
            return reel_err_set(err, e, "motion: cannot start a worker: %s", strerror(e));
        }
        w->started = true;
        pthread_setname_np(w->th, "reel-motion");   /* bench/motion.py counts these threads' CPU */
    }
    int e = pthread_create(&m->ctl, NULL, ctl_main, m);
    if (e) {
        reel_motion_free(m);
        return reel_err_set(err, e, "motion: cannot start its thread: %s", strerror(e));
    }
    m->ctl_started = true;
    pthread_setname_np(m->ctl, "reel-motionctl");
    *ret = m;
    return 0;
}

void reel_motion_changed(struct reel_motion *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->changed = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

void reel_motion_get_stats(struct reel_motion *m, struct reel_motion_stats *ret)
{
    pthread_mutex_lock(&m->mu);
    *ret = m->st;
    pthread_mutex_unlock(&m->mu);
}

void reel_motion_stop(struct reel_motion *m)
{
    if (!m || m->stopped)
        return;
    m->stopped = true;
    if (m->ctl_started) {
        pthread_mutex_lock(&m->mu);
        m->quit = true;
        pthread_cond_signal(&m->cv);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->ctl, NULL);
    }
    for (unsigned i = 0; i < m->nw; i++) {
        struct worker *w = &m->w[i];
        if (w->started) {
            pthread_mutex_lock(&w->mu);
            w->quit = true;
            pthread_mutex_unlock(&w->mu);
            worker_wake(w);
            pthread_join(w->th, NULL);   /* ends open events, queues the last minutes */
        }
        while (w->add) {
            struct mcam *c = w->add;
            w->add = c->next;
            mcam_free(c);
        }
        if (w->ep >= 0)
            close(w->ep);
        if (w->wake >= 0)
            close(w->wake);
        free(w->entry);
        pthread_mutex_destroy(&w->mu);
    }
    if (m->ctl_started)
        write_pending(m);   /* the last minutes */
}

void reel_motion_free(struct reel_motion *m)
{
    if (!m)
        return;
    reel_motion_stop(m);
    for (size_t i = 0; i < m->nwrites; i++)
        free(m->writes[i]);
    if (m->db)
        sqlite3_close(m->db);
    free(m->w);
    free(m->datadir);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The ONVIF motion source (source.h): a manager thread and a worker per
 * camera.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "db/db.h"
#include "events/events.h"
#include "onvif/onvif.h"
#include "onvif/source.h"

struct cam_cfg {
    int64_t id;
    char name[64];
    char xaddr[REEL_ONVIF_URL_MAX];
    char user[REEL_ONVIF_USER_MAX + 1];
    char password[REEL_ONVIF_PASSWORD_MAX + 1];
};

struct worker {
    struct reel_onvif_source *src;
    struct cam_cfg c;
    pthread_t th;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool seen;   /* manager: still configured in this pass */
};

struct reel_onvif_source {
    struct reel_onvif_source_cfg cfg;
    char datadir[4096];
    const struct reel_clock *clock;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, reload;
    struct worker *w[REEL_ONVIF_SOURCE_CAMERAS_MAX];
    size_t nw;
};

static void cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static struct timespec deadline_in(int64_t ns)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t x = (int64_t)t.tv_nsec + ns % REEL_NS_PER_SEC;
    t.tv_sec += (time_t)(ns / REEL_NS_PER_SEC + x / REEL_NS_PER_SEC);
    t.tv_nsec = (long)(x % REEL_NS_PER_SEC);
    return t;
}

/* "onvif: camera NAME: <what><detail>" */
static void wlog(struct worker *w, enum reel_log_level lvl, const char *what, const char *detail)
{
    if (w->src->cfg.log)
        reel_log(w->src->cfg.log, lvl, "onvif: camera %s: %s%s", w->c.name, what, detail);
}

/* Sleeps ns or until stopped; true when stopped. */
static bool worker_wait(struct worker *w, int64_t ns)
{
    struct timespec t = deadline_in(ns);
    pthread_mutex_lock(&w->mu);
    while (!atomic_load(&w->stop) && pthread_cond_timedwait(&w->cv, &w->mu, &t) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&w->mu);
    return atomic_load(&w->stop);
}

static bool worker_cancel(void *opaque) { return atomic_load(&((struct worker *)opaque)->stop); }

struct motion_state {
    int64_t id;            /* the open event, 0 = none */
    int64_t last_on_mono;
};

static void motion_on(struct worker *w, struct motion_state *m)
{
    m->last_on_mono = reel_clock_mono(w->src->clock);
    if (m->id)
        return;
    struct reel_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.camera_id = w->c.id;
    snprintf(ev.camera, sizeof(ev.camera), "%s", w->c.name);
    snprintf(ev.kind, sizeof(ev.kind), "%s", REEL_EVENT_MOTION);
    snprintf(ev.source, sizeof(ev.source), "onvif");
    ev.start90k = reel_ns_to_90k(reel_clock_wall(w->src->clock));
    if (reel_events_begin(w->src->cfg.events, &ev, &m->id) < 0)
        m->id = 0;
}

static void motion_off(struct worker *w, struct motion_state *m, const char *why)
{
    if (!m->id)
        return;
    reel_events_end(w->src->cfg.events, m->id, reel_ns_to_90k(reel_clock_wall(w->src->clock)), NULL, -1);
    m->id = 0;
    if (why)
        wlog(w, REEL_LOG_INFO, "motion event ended: ", why);
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    const struct reel_onvif_source_cfg *cfg = &w->src->cfg;
    const struct reel_clock *clock = w->src->clock;
    struct reel_onvif_auth a = { .user = w->c.user, .password = w->c.password, .timeout_ms = 5000, .clock = clock,
                                 .cancel = worker_cancel, .cancel_opaque = w };
    struct motion_state m = { 0 };
    int failures = 0;
    struct reel_onvif_motion notes[REEL_ONVIF_NOTES_MAX];
    while (!atomic_load(&w->stop)) {
        if (failures >= cfg->retries) {
            wlog(w, REEL_LOG_WARN, "events failed repeatedly; cooling down", "");
            failures = 0;
            if (worker_wait(w, cfg->cooldown_ns))
                break;
        }
        struct reel_err err = { "" };
        int64_t skew = 0;
        if (reel_onvif_time(w->c.xaddr, &a, &skew, &err) == 0)
            a.skew_ns = skew;
        char media[REEL_ONVIF_URL_MAX], evaddr[REEL_ONVIF_URL_MAX];
        struct reel_onvif_sub sub;
        int rc = reel_onvif_services(w->c.xaddr, &a, media, evaddr, &err);
        if (rc == 0 && !evaddr[0])
            rc = reel_err_set(&err, ENOTSUP, "the device has no events service");
        if (rc == 0)
            rc = reel_onvif_subscribe(evaddr, &a, cfg->term_s, &sub, &err);
        if (rc < 0) {
            if (rc == -ECANCELED)
                break;
            wlog(w, REEL_LOG_WARN, "cannot subscribe to events: ", err.msg);
            failures++;
            if (worker_wait(w, cfg->retry_ns))
                break;
            continue;
        }
        wlog(w, REEL_LOG_INFO, "subscribed to events at ", sub.address);
        int64_t term_ns = sub.expires_mono_ns - reel_clock_mono(clock);
        while (!atomic_load(&w->stop)) {
            int64_t now = reel_clock_mono(clock);
            if (m.id && now - m.last_on_mono >= cfg->motion_max_ns)
                motion_off(w, &m, "no \"off\" from the camera, none \"on\" for a while");
            int pull_s = cfg->pull_timeout_s;
            if (m.id) {
                int64_t left = (m.last_on_mono + cfg->motion_max_ns - now) / REEL_NS_PER_SEC + 1;
                if (left < pull_s)
                    pull_s = left < 1 ? 1 : (int)left;
            }
            /* renewed ahead of expiry: a third of the lifetime (at most 20 s)
             * before it, plus the pull that may hold the line meanwhile */
            int64_t margin = term_ns / 3 < 20 * REEL_NS_PER_SEC ? term_ns / 3 : 20 * REEL_NS_PER_SEC;
            if (sub.expires_mono_ns - now <= margin + (int64_t)pull_s * REEL_NS_PER_SEC) {
                rc = reel_onvif_renew(&sub, &a, cfg->term_s, &err);
                if (rc < 0) {
                    if (rc != -ECANCELED)
                        wlog(w, REEL_LOG_WARN, "renew failed, subscribing again: ", err.msg);
                    failures++;
                    break;
                }
                term_ns = sub.expires_mono_ns - reel_clock_mono(clock);
            }
            size_t n = 0;
            rc = reel_onvif_pull(&sub, &a, pull_s, notes, REEL_ONVIF_NOTES_MAX, &n, &err);
            if (rc < 0) {
                if (rc != -ECANCELED) {
                    wlog(w, REEL_LOG_WARN, "PullMessages failed: ", err.msg);
                    failures++;
                }
                break;
            }
            failures = 0;
            for (size_t i = 0; i < n; i++) {
                if (notes[i].on)
                    motion_on(w, &m);
                else
                    motion_off(w, &m, NULL);
            }
        }
        if (atomic_load(&w->stop)) {
            struct reel_onvif_auth quick = a;
            quick.cancel = NULL;
            quick.timeout_ms = 1000;
            reel_onvif_unsubscribe(&sub, &quick, &err);
            break;
        }
        if (failures > 0 && failures < cfg->retries && worker_wait(w, cfg->retry_ns))
            break;
    }
    motion_off(w, &m, NULL);
    OPENSSL_cleanse(w->c.password, sizeof(w->c.password));
    return NULL;
}

static int worker_start(struct reel_onvif_source *s, const struct cam_cfg *c, struct worker **ret)
{
    struct worker *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->src = s;
    w->c = *c;
    pthread_mutex_init(&w->mu, NULL);
    cond_init(&w->cv);
    int rc = pthread_create(&w->th, NULL, worker_run, w);
    if (rc != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        OPENSSL_cleanse(w, sizeof(*w));
        free(w);
        return -rc;
    }
    *ret = w;
    return 0;
}

static void worker_stop(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->stop, true);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    OPENSSL_cleanse(&w->c, sizeof(w->c));
    free(w);
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

/* One pass over camera_events: start, restart or stop workers. */
static void apply(struct reel_onvif_source *s, sqlite3 *db)
{
    static const char sql[] =
        "SELECT c.id, c.name, e.onvif_xaddr, e.onvif_user, e.onvif_password FROM camera_events e "
        "JOIN camera c ON c.id = e.camera_id WHERE e.motion = 'onvif' AND e.onvif_xaddr != '' AND c.enabled = 1 "
        "ORDER BY c.id LIMIT 256";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        if (s->cfg.log)
            reel_log(s->cfg.log, REEL_LOG_ERROR, "onvif: cannot read camera_events: %s", sqlite3_errmsg(db));
        return;
    }
    for (size_t i = 0; i < s->nw; i++)
        s->w[i]->seen = false;
    struct cam_cfg c;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&c, 0, sizeof(c));
        c.id = sqlite3_column_int64(st, 0);
        copy_col(st, 1, c.name, sizeof(c.name));
        copy_col(st, 2, c.xaddr, sizeof(c.xaddr));
        copy_col(st, 3, c.user, sizeof(c.user));
        copy_col(st, 4, c.password, sizeof(c.password));
        size_t k = 0;
        for (; k < s->nw; k++)
            if (s->w[k]->c.id == c.id)
                break;
        if (k < s->nw && !s->w[k]->seen && memcmp(&s->w[k]->c, &c, sizeof(c)) == 0) {
            s->w[k]->seen = true;
            continue;
        }
        if (k < s->nw) {   /* changed: restart */
            worker_stop(s->w[k]);
            s->w[k] = s->w[--s->nw];
        }
        struct worker *w;
        if (s->nw < REEL_ONVIF_SOURCE_CAMERAS_MAX && worker_start(s, &c, &w) == 0) {
            w->seen = true;
            s->w[s->nw++] = w;
            if (s->cfg.log)
                reel_log(s->cfg.log, REEL_LOG_INFO, "onvif: camera %s: motion from the camera's events (%s)", c.name,
                         c.xaddr);
        }
    }
    OPENSSL_cleanse(&c, sizeof(c));
    sqlite3_finalize(st);
    for (size_t i = 0; i < s->nw;) {
        if (s->w[i]->seen) {
            i++;
            continue;
        }
        if (s->cfg.log)
            reel_log(s->cfg.log, REEL_LOG_INFO, "onvif: camera %s: camera events off", s->w[i]->c.name);
        worker_stop(s->w[i]);
        s->w[i] = s->w[--s->nw];
    }
}

static void *manager_run(void *arg)
{
    struct reel_onvif_source *s = arg;
    sqlite3 *db = NULL;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        pthread_mutex_unlock(&s->mu);
        struct reel_err err = { "" };
        if (!db && reel_db_open(&db, s->datadir, REEL_DB_READ, &err) < 0) {
            db = NULL;
            if (s->cfg.log)
                reel_log(s->cfg.log, REEL_LOG_ERROR, "onvif: %s", err.msg);
        }
        if (db)
            apply(s, db);
        pthread_mutex_lock(&s->mu);
        struct timespec t = deadline_in(s->cfg.poll_ns);
        while (!s->stop && !s->reload && pthread_cond_timedwait(&s->cv, &s->mu, &t) != ETIMEDOUT) {
        }
        s->reload = false;
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < s->nw; i++)
        worker_stop(s->w[i]);
    s->nw = 0;
    if (db)
        sqlite3_close(db);
    return NULL;
}

int reel_onvif_source_start(struct reel_onvif_source **ret, const struct reel_onvif_source_cfg *cfg,
                            struct reel_err *err)
{
    if (!cfg->events || !cfg->datadir || strlen(cfg->datadir) >= sizeof(((struct reel_onvif_source *)0)->datadir))
        return reel_err_set(err, EINVAL, "onvif: no event bus or bad data directory");
    struct reel_onvif_source *s = calloc(1, sizeof(*s));
    if (!s)
        return reel_err_set(err, ENOMEM, "onvif: out of memory");
    s->cfg = *cfg;
    snprintf(s->datadir, sizeof(s->datadir), "%s", cfg->datadir);
    s->cfg.datadir = s->datadir;
    s->clock = cfg->clock ? cfg->clock : reel_clock_system();
#define DEF(f, v) if (s->cfg.f <= 0) s->cfg.f = (v)
    DEF(poll_ns, 5 * REEL_NS_PER_SEC);
    DEF(motion_max_ns, 60 * REEL_NS_PER_SEC);
    DEF(retry_ns, 2 * REEL_NS_PER_SEC);
    DEF(cooldown_ns, 30 * REEL_NS_PER_SEC);
    DEF(retries, 3);
    DEF(pull_timeout_s, 5);
    DEF(term_s, 60);
#undef DEF
    pthread_mutex_init(&s->mu, NULL);
    cond_init(&s->cv);
    int rc = pthread_create(&s->th, NULL, manager_run, s);
    if (rc != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return reel_err_set(err, rc, "onvif: cannot start a thread: %s", strerror(rc));
    }
    *ret = s;
    return 0;
}

void reel_onvif_source_reload(struct reel_onvif_source *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->reload = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void reel_onvif_source_stop(struct reel_onvif_source *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

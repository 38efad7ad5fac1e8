/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The disk.full event's watcher (diskwatch.h): its own thread and its own
 * read-only reel.db connection (the storage dirs and the threshold are
 * read at every look, so changes apply without a restart).
 */
#include "reel/diskwatch.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "db/db.h"
#include "events/events.h"

#define DIRS_MAX 64
#define STOP_WAIT_S 5
#define PATH_MAX_ 4096

struct watched {
    int64_t dir_id;
    int64_t event_id;               /* its open disk.full event; 0: none */
};

struct reel_diskwatch {
    char datadir[PATH_MAX_];
    struct reel_events *events;
    const struct reel_logger *log;
    int64_t interval_ns;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool abandoned;                 /* the thread did not stop in time (a hung statvfs): it must not
                                     * touch the bus again; mu guards every bus call */
    struct watched w[DIRS_MAX];     /* the thread's */
    size_t nw;
};

int reel_diskwatch_percent(uint64_t blocks, uint64_t bfree, uint64_t bavail)
{
    if (blocks == 0 || bfree > blocks)
        return 0;
    uint64_t used = blocks - bfree;
    uint64_t all = used + bavail;
    if (all == 0)
        return 0;
    /* rounded up, as df does */
    uint64_t pct = (used * 100 + all - 1) / all;
    return pct > 100 ? 100 : (int)pct;
}

static int threshold(sqlite3 *db)
{
    int t = REEL_DISK_FULL_PERCENT_DEFAULT;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT value FROM setting WHERE key = 'storage.full_percent'", -1, &st, NULL) !=
        SQLITE_OK)
        return t;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int v = sqlite3_column_int(st, 0);
        if (v >= 1 && v <= 100)
            t = v;
    }
    sqlite3_finalize(st);
    return t;
}

static struct watched *find(struct reel_diskwatch *w, int64_t dir_id, bool add)
{
    for (size_t i = 0; i < w->nw; i++)
        if (w->w[i].dir_id == dir_id)
            return &w->w[i];
    if (!add || w->nw >= DIRS_MAX)
        return NULL;
    w->w[w->nw] = (struct watched){ .dir_id = dir_id };
    return &w->w[w->nw++];
}

static void look(struct reel_diskwatch *w, sqlite3 *db)
{
    int t = threshold(db);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id, path FROM storage_dir ORDER BY id LIMIT 64", -1, &st, NULL) != SQLITE_OK)
        return;
    bool seen[DIRS_MAX] = { false };
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *path = (const char *)sqlite3_column_text(st, 1);
        struct watched *x = find(w, id, true);
        if (!x || !path)
            continue;
        seen[x - w->w] = true;
        struct statvfs vf;
        if (statvfs(path, &vf) < 0)
            continue;   /* a missing dir is the store's to report */
        int pct = reel_diskwatch_percent(vf.f_blocks, vf.f_bfree, vf.f_bavail);
        pthread_mutex_lock(&w->mu);
        if (w->stop) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        if (pct >= t && x->event_id == 0) {
            struct reel_event e = { 0 };
            snprintf(e.kind, sizeof(e.kind), "%s", REEL_EVENT_DISK_FULL);
            snprintf(e.source, sizeof(e.source), "recorder");
            snprintf(e.detail, sizeof(e.detail), "storage dir %.400s: %d%% used (storage.full_percent %d)", path,
                     pct, t);
            if (reel_events_begin(w->events, &e, &x->event_id) < 0)
                x->event_id = 0;
            else if (w->log)
                reel_log(w->log, REEL_LOG_WARN, "storage dir %s: disk %d%% full (warning at %d%%)", path, pct, t);
        } else if (pct < t && x->event_id > 0) {
            reel_events_end(w->events, x->event_id, 0, NULL, -1);
            x->event_id = 0;
        }
        pthread_mutex_unlock(&w->mu);
    }
    sqlite3_finalize(st);
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
        pthread_mutex_unlock(&w->mu);
        return;
    }
    /* a dir removed from the table: its event ends */
    for (size_t i = 0; i < w->nw; i++)
        if (!seen[i] && w->w[i].event_id > 0) {
            reel_events_end(w->events, w->w[i].event_id, 0, NULL, -1);
            w->w[i].event_id = 0;
        }
    pthread_mutex_unlock(&w->mu);
}

static void *watch_main(void *arg)
{
    struct reel_diskwatch *w = arg;
    sqlite3 *db = NULL;
    struct reel_err err = { "" };
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        pthread_mutex_unlock(&w->mu);
        if (!db && reel_db_open(&db, w->datadir, REEL_DB_READ, &err) < 0) {
            if (w->log)
                reel_log(w->log, REEL_LOG_WARN, "disk watch: %s; retried", err.msg);
            db = NULL;
        }
        if (db)
            look(w, db);
        pthread_mutex_lock(&w->mu);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t at = (int64_t)ts.tv_sec * REEL_NS_PER_SEC + ts.tv_nsec + w->interval_ns;
        ts.tv_sec = (time_t)(at / REEL_NS_PER_SEC);
        ts.tv_nsec = (long)(at % REEL_NS_PER_SEC);
        while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT) {
        }
    }
    if (!w->abandoned)
        for (size_t i = 0; i < w->nw; i++)
            if (w->w[i].event_id > 0)
                reel_events_end(w->events, w->w[i].event_id, 0, NULL, -1);
    pthread_mutex_unlock(&w->mu);
    if (db)
        sqlite3_close(db);
    return NULL;
}

int reel_diskwatch_start(struct reel_diskwatch **ret, const struct reel_diskwatch_cfg *cfg, struct reel_err *err)
{
    if (!cfg->datadir || !cfg->events || strlen(cfg->datadir) >= PATH_MAX_)
        return reel_err_set(err, EINVAL, "disk watch: no data directory or bus");
    struct reel_diskwatch *w = calloc(1, sizeof(*w));
    if (!w)
        return reel_err_set(err, ENOMEM, "disk watch: out of memory");
    snprintf(w->datadir, sizeof(w->datadir), "%s", cfg->datadir);
    w->events = cfg->events;
    w->log = cfg->log;
    w->interval_ns = cfg->interval_ns > 0 ? cfg->interval_ns : 5 * REEL_NS_PER_SEC;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    int pr = pthread_create(&w->thread, NULL, watch_main, w);
    if (pr != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return reel_err_set(err, pr, "disk watch: cannot start its thread: %s", strerror(pr));
    }
    *ret = w;
    return 0;
}

void reel_diskwatch_stop(struct reel_diskwatch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    /* a statvfs on a mount that does not answer may never return: wait a
     * while, then leave the thread (and w) behind, cut off from the bus */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STOP_WAIT_S;
    if (pthread_timedjoin_np(w->thread, NULL, &until) != 0) {
        pthread_mutex_lock(&w->mu);
        w->abandoned = true;
        pthread_mutex_unlock(&w->mu);
        if (w->log)
            reel_log(w->log, REEL_LOG_WARN, "disk watch: a storage dir does not answer statvfs; left behind "
                                             "(its disk.full event is closed at the next start)");
        pthread_detach(w->thread);
        return;
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

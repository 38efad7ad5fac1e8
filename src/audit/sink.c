/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server's audit writer; see sink.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit/pbmerge.h"
#include "audit/reasons.h"
#include "audit/sink.h"
#include "base/timefmt.h"
#include "db/db.h"

#define SETTINGS_TTL_NS (2LL * 1000000000)
#define CACHE_MAX 8

struct cached {
    char key[64];
    char value[128];
    bool set;
    int64_t at_ns;
};

struct reel_audit_sink {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t thread;
    bool started, stop;
    sqlite3 *db;
    const struct reel_clock *clock;
    const struct reel_logger *log;
    int64_t pb_idle_ns;
    struct reel_audit_pb *pb;
    struct reel_audit_reasons *reasons;
    struct cached cache[CACHE_MAX];
    size_t ncache;
};

static void append_locked(struct reel_audit_sink *s, const struct reel_audit_rec *rec)
{
    struct reel_audit_rec e = *rec;
    if (!e.ts_ns)
        e.ts_ns = reel_clock_wall(s->clock);
    struct reel_err err = { "" };
    if (reel_audit_append(s->db, &e, NULL, &err) < 0 && s->log)
        reel_log(s->log, REEL_LOG_ERROR, "audit: %s by %s not logged: %s", e.action, e.user, err.msg);
}

static json_t *time_json(int64_t t90k)
{
    char b[40];
    reel_time_format(t90k, b, sizeof(b));
    return json_string(b);
}

/* A playback session as one row "playback". */
static void emit(const struct reel_audit_pb_session *p, void *arg)
{
    struct reel_audit_sink *s = arg;
    json_t *ranges = json_array();
    int64_t total = 0;
    for (size_t i = 0; i < p->nranges; i++) {
        json_array_append_new(ranges, json_pack("[o, o]", time_json(p->ranges[i][0]), time_json(p->ranges[i][1])));
        total += p->ranges[i][1] - p->ranges[i][0];
    }
    json_t *d = json_pack("{s:o, s:o, s:I, s:f, s:o}", "start", time_json(reel_ns_to_90k(p->first_ns)), "end",
                          time_json(reel_ns_to_90k(p->last_ns)), "requests", (json_int_t)p->requests,
                          "footage_s", (double)total / 90000.0, "ranges", ranges);
    if (d && p->coarse)
        json_object_set_new(d, "coarse", json_true());
    if (d && p->reason[0])
        json_object_set_new(d, "reason", json_string(p->reason));
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    struct reel_audit_rec rec = { .ts_ns = p->last_ns, .user = p->user, .via = p->via, .addr = p->addr,
                                  .action = "playback", .camera = p->camera, .detail = text ? text : "{}" };
    append_locked(s, &rec);
    free(text);
}

static void *run(void *arg)
{
    struct reel_audit_sink *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->cond, &s->mu, &ts);
        reel_audit_pb_flush(s->pb, reel_clock_wall(s->clock), s->pb_idle_ns, emit, s);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int reel_audit_sink_open(struct reel_audit_sink **ret, const char *datadir, const struct reel_clock *clock,
                         const struct reel_logger *log, int64_t pb_idle_ns, struct reel_err *err)
{
    struct reel_audit_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return reel_err_set(err, ENOMEM, "out of memory");
    s->clock = clock;
    s->log = log;
    s->pb_idle_ns = pb_idle_ns > 0 ? pb_idle_ns : REEL_AUDIT_PB_IDLE_NS;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    int r = reel_db_open(&s->db, datadir, REEL_DB_WRITE, err);
    if (r == 0 && (reel_audit_pb_new(&s->pb) < 0 || reel_audit_reasons_new(&s->reasons) < 0))
        r = reel_err_set(err, ENOMEM, "out of memory");
    if (r == 0) {
        int e = pthread_create(&s->thread, NULL, run, s);
        if (e)
            r = reel_err_set(err, e, "audit: starting its thread: %s", strerror(e));
        else
            s->started = true;
    }
    if (r < 0) {
        reel_audit_sink_close(s);
        return r;
    }
    *ret = s;
    return 0;
}

void reel_audit_sink_close(struct reel_audit_sink *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    if (s->started)
        pthread_join(s->thread, NULL);
    if (s->pb && s->db)
        reel_audit_pb_flush(s->pb, reel_clock_wall(s->clock), -1, emit, s);
    reel_audit_pb_free(s->pb);
    reel_audit_reasons_free(s->reasons);
    if (s->db)
        sqlite3_close(s->db);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void reel_audit_sink_append(struct reel_audit_sink *s, const struct reel_audit_rec *rec)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    append_locked(s, rec);
    pthread_mutex_unlock(&s->mu);
}

void reel_audit_sink_playback(struct reel_audit_sink *s, const char *user, const char *via, const char *addr,
                              const char *camera, const char *reason, int64_t start90k, int64_t end90k)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    reel_audit_pb_add(s->pb, user, via, addr, camera, reason, start90k, end90k, reel_clock_wall(s->clock),
                      s->pb_idle_ns, emit, s);
    pthread_mutex_unlock(&s->mu);
}

bool reel_audit_sink_reason(struct reel_audit_sink *s, const char *kind, const char *user, const char *via,
                            const char *addr, const char *given, char *out, size_t cap)
{
    if (!s) {
        snprintf(out, cap, "%s", given ? given : "");
        return given && *given;
    }
    pthread_mutex_lock(&s->mu);
    bool ok = reel_audit_reasons_take(s->reasons, kind, user, via, addr, given, reel_clock_wall(s->clock), out, cap);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void reel_audit_sink_setting(struct reel_audit_sink *s, const char *key, const char *def, char *out, size_t cap)
{
    snprintf(out, cap, "%s", def);
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    int64_t now = reel_clock_mono(s->clock);
    struct cached *c = NULL;
    for (size_t i = 0; i < s->ncache; i++)
        if (strcmp(s->cache[i].key, key) == 0)
            c = &s->cache[i];
    if (!c || now - c->at_ns >= SETTINGS_TTL_NS) {
        if (!c) {
            c = &s->cache[s->ncache < CACHE_MAX ? s->ncache++ : 0];
            snprintf(c->key, sizeof(c->key), "%s", key);
        }
        c->set = false;
        c->at_ns = now;
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, "SELECT value FROM setting WHERE key = ?", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW) {
                snprintf(c->value, sizeof(c->value), "%s", (const char *)sqlite3_column_text(st, 0));
                c->set = true;
            }
            sqlite3_finalize(st);
        }
    }
    if (c->set)
        snprintf(out, cap, "%s", c->value);
    pthread_mutex_unlock(&s->mu);
}

void reel_audit_sink_settings_changed(struct reel_audit_sink *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->ncache = 0;
    pthread_mutex_unlock(&s->mu);
}

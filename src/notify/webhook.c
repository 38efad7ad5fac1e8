/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The webhooks' thread (webhook.h): notes in memory -> outbox rows in
 * reel.db -> signed POSTs with libcurl, retried with backoff.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "db/db.h"
#include "events/events.h"
#include "notify/sign.h"
#include "notify/webhook.h"
#include "notify/whdb.h"

#define DUE_BATCH 8            /* rows read per pass */
#define IDLE_NS (REEL_NS_PER_SEC)   /* the table is looked at at least this often (test deliveries) */

struct item {
    char kind[REEL_EVENT_KIND_MAX];
    char *body;
};

struct reel_webhooks {
    char datadir[4096];
    const struct reel_clock *clock;
    const struct reel_logger *log;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *q;            /* ring of qmax */
    size_t qmax, head, n;
    uint64_t dropped, dropped_told;
    bool stop;
    pthread_t th;
    sqlite3 *db;               /* the thread's */
    CURL *curl;                /* the thread's */
};

int64_t reel_webhook_backoff_s(int attempts)
{
    if (attempts < 1)
        return 1;
    if (attempts > 10)
        return REEL_WEBHOOK_BACKOFF_MAX_S;
    int64_t s = INT64_C(1) << (attempts - 1);
    return s > REEL_WEBHOOK_BACKOFF_MAX_S ? REEL_WEBHOOK_BACKOFF_MAX_S : s;
}

void reel_webhooks_on_note(void *opaque, const struct reel_event_note *n)
{
    struct reel_webhooks *w = opaque;
    char *body = reel_event_note_json(n);
    if (!body)
        return;
    if (strlen(body) >= REEL_WEBHOOK_BODY_MAX) {
        free(body);
        return;
    }
    pthread_mutex_lock(&w->mu);
    if (w->n == w->qmax) {      /* full: the oldest goes */
        free(w->q[w->head].body);
        w->head = (w->head + 1) % w->qmax;
        w->n--;
        w->dropped++;
    }
    struct item *it = &w->q[(w->head + w->n) % w->qmax];
    snprintf(it->kind, sizeof(it->kind), "%s", n->ev->kind);
    it->body = body;
    w->n++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Waits until wall time until_ns at most (woken early by a note or stop). */
static void wait_until(struct reel_webhooks *w, int64_t until_ns)
{
    int64_t d = until_ns - reel_clock_wall(w->clock);
    if (d <= 0)
        return;
    if (d > IDLE_NS)
        d = IDLE_NS;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * REEL_NS_PER_SEC + ts.tv_nsec + d;
    ts.tv_sec = t / REEL_NS_PER_SEC;
    ts.tv_nsec = t % REEL_NS_PER_SEC;
    pthread_mutex_lock(&w->mu);
    if (!w->stop && w->n == 0)
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    pthread_mutex_unlock(&w->mu);
}

/* The queued notes into the outbox (persisted before anything is sent). */
static void persist(struct reel_webhooks *w)
{
    for (;;) {
        struct item it;
        uint64_t dropped;
        pthread_mutex_lock(&w->mu);
        bool any = w->n > 0;
        if (any) {
            it = w->q[w->head];
            w->head = (w->head + 1) % w->qmax;
            w->n--;
        }
        dropped = w->dropped;
        pthread_mutex_unlock(&w->mu);
        if (dropped != w->dropped_told) {
            reel_log(w->log, REEL_LOG_WARN, "webhooks: %llu notifications dropped (queue full: the database is slow)",
                     (unsigned long long)(dropped - w->dropped_told));
            w->dropped_told = dropped;
        }
        if (!any)
            return;
        struct reel_err err = { "" };
        size_t rows = 0;
        int r = reel_webhook_outbox_note(w->db, it.kind, it.body, reel_clock_wall(w->clock), &rows, &err);
        if (r < 0)
            reel_log(w->log, REEL_LOG_ERROR, "webhooks: cannot queue a %s notification: %s; it is lost", it.kind,
                     err.msg);
        free(it.body);
    }
}

static int64_t expire_hours(struct reel_webhooks *w)
{
    sqlite3_stmt *st;
    int64_t h = REEL_WEBHOOK_EXPIRE_DEFAULT_H;
    if (sqlite3_prepare_v2(w->db, "SELECT value FROM setting WHERE key = 'webhook.expire_hours'", -1, &st, NULL) !=
        SQLITE_OK)
        return h;
    if (sqlite3_step(st) == SQLITE_ROW) {
        long long v = sqlite3_column_int64(st, 0);
        if (v >= 1)
            h = v;
    }
    sqlite3_finalize(st);
    return h;
}

static void expire(struct reel_webhooks *w)
{
    int64_t cut = reel_clock_wall(w->clock) - expire_hours(w) * 3600 * REEL_NS_PER_SEC;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db, "DELETE FROM webhook_outbox WHERE created_ns < ?", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, cut);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    int n = sqlite3_changes(w->db);
    if (rc == SQLITE_DONE && n > 0)
        reel_log(w->log, REEL_LOG_WARN, "webhooks: %d undelivered notification%s expired (webhook.expire_hours)", n,
                 n == 1 ? "" : "s");
}

struct due {
    int64_t id, webhook_id;
    int attempts;
    char *body;
    char name[REEL_WEBHOOK_NAME_MAX];
    char url[REEL_WEBHOOK_URL_MAX];
    char secret[REEL_WEBHOOK_SECRET_MAX];
};

static size_t read_due(struct reel_webhooks *w, struct due *d, size_t max)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db,
                           "SELECT o.id, o.webhook_id, o.attempts, o.body, w.name, w.url, w.secret FROM webhook_outbox o "
                           "JOIN webhook w ON w.id = o.webhook_id WHERE o.next_ns <= ? AND w.enabled = 1 "
                           "ORDER BY o.next_ns, o.id LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, reel_clock_wall(w->clock));
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    size_t n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        struct due *e = &d[n];
        e->id = sqlite3_column_int64(st, 0);
        e->webhook_id = sqlite3_column_int64(st, 1);
        e->attempts = sqlite3_column_int(st, 2);
        const unsigned char *b = sqlite3_column_text(st, 3);
        e->body = strdup(b ? (const char *)b : "");
        snprintf(e->name, sizeof(e->name), "%s", (const char *)sqlite3_column_text(st, 4));
        snprintf(e->url, sizeof(e->url), "%s", (const char *)sqlite3_column_text(st, 5));
        snprintf(e->secret, sizeof(e->secret), "%s", (const char *)sqlite3_column_text(st, 6));
        if (e->body)
            n++;
    }
    sqlite3_finalize(st);
    return n;
}

/* The answer's body: counted, dropped, refused past the cap. */
static size_t on_answer(char *p, size_t size, size_t nmemb, void *opaque)
{
    size_t *got = opaque;
    size_t n = size * nmemb;
    if (*got + n > REEL_WEBHOOK_ANSWER_MAX)
        return 0;
    *got += n;
    return n;
}

static bool stopping(struct reel_webhooks *w);

/* Aborts a transfer when the thread is asked to stop. */
static int on_progress(void *opaque, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    return stopping(opaque) ? 1 : 0;
}

/* One POST: 0 delivered (2xx), else < 0 with why. */
static int post(struct reel_webhooks *w, const struct due *d, char *why, size_t cap)
{
    char kind[REEL_EVENT_KIND_MAX] = "?";
    json_t *j = json_loads(d->body, 0, NULL);
    const char *k = json_string_value(json_object_get(json_object_get(j, "event"), "kind"));
    if (k)
        snprintf(kind, sizeof(kind), "%s", k);
    json_decref(j);
    int64_t now_s = reel_clock_wall(w->clock) / REEL_NS_PER_SEC;
    size_t len = strlen(d->body);
    char sig[REEL_NOTIFY_SIG_MAX];
    if (reel_notify_sign(d->secret, now_s, d->body, len, sig) < 0) {
        snprintf(why, cap, "cannot sign");
        return -EIO;
    }
    char h_event[64], h_id[64], h_ts[64], h_sig[128];
    snprintf(h_event, sizeof(h_event), "X-Reel-Event: %s", kind);
    snprintf(h_id, sizeof(h_id), "X-Reel-Delivery: %lld", (long long)d->id);
    snprintf(h_ts, sizeof(h_ts), "X-Reel-Timestamp: %lld", (long long)now_s);
    snprintf(h_sig, sizeof(h_sig), "X-Reel-Signature: %s", sig);
    struct curl_slist *hs = NULL, *t;
    const char *lines[] = { "Content-Type: application/json", "Expect:", h_event, h_id, h_ts, h_sig };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (!(t = curl_slist_append(hs, lines[i]))) {
            curl_slist_free_all(hs);
            snprintf(why, cap, "out of memory");
            return -ENOMEM;
        }
        hs = t;
    }
    CURL *c = w->curl;
    size_t got = 0;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, d->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)REEL_WEBHOOK_CONNECT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)REEL_WEBHOOK_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "Reel-Webhook/1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
    CURLcode cr = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hs);
    if (code >= 200 && code < 300)
        return 0;   /* delivered, even when the answer's body was cut */
    if (cr != CURLE_OK && code == 0)
        snprintf(why, cap, "%s", curl_easy_strerror(cr));
    else
        snprintf(why, cap, "HTTP %ld", code);
    return -EIO;
}

static void settle(struct reel_webhooks *w, const struct due *d, int ok, const char *why)
{
    sqlite3_stmt *st;
    if (ok == 0) {
        if (sqlite3_prepare_v2(w->db, "DELETE FROM webhook_outbox WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
            return;
        sqlite3_bind_int64(st, 1, d->id);
    } else {
        int64_t back = reel_webhook_backoff_s(d->attempts + 1);
        if (sqlite3_prepare_v2(w->db,
                               "UPDATE webhook_outbox SET attempts = attempts + 1, next_ns = ?, last_error = ? "
                               "WHERE id = ?",
                               -1, &st, NULL) != SQLITE_OK)
            return;
        int64_t next = reel_clock_wall(w->clock) + back * REEL_NS_PER_SEC;
        sqlite3_bind_int64(st, 1, next);
        sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, d->id);
        /* the webhook's other rows wait as long (a receiver that is down
         * costs one attempt per backoff, not one per waiting note, so it
         * cannot hold up the other webhooks) */
        sqlite3_stmt *o;
        if (sqlite3_prepare_v2(w->db, "UPDATE webhook_outbox SET next_ns = ?1 WHERE webhook_id = ?2 AND next_ns < ?1",
                               -1, &o, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(o, 1, next);
            sqlite3_bind_int64(o, 2, d->webhook_id);
            sqlite3_step(o);
            sqlite3_finalize(o);
        }
        reel_log(w->log, REEL_LOG_WARN, "webhook %s: delivery %lld failed (%s), attempt %d; retry in %llds", d->name,
                 (long long)d->id, why, d->attempts + 1, (long long)back);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        reel_log(w->log, REEL_LOG_ERROR, "webhook %s: cannot record delivery %lld: %s", d->name, (long long)d->id,
                 sqlite3_errmsg(w->db));
}

static bool stopping(struct reel_webhooks *w)
{
    pthread_mutex_lock(&w->mu);
    bool s = w->stop;
    pthread_mutex_unlock(&w->mu);
    return s;
}

static void deliver_due(struct reel_webhooks *w)
{
    struct due d[DUE_BATCH];
    int64_t failed[DUE_BATCH];   /* webhooks that failed in this batch: their other rows wait */
    size_t nfailed = 0;
    size_t n = read_due(w, d, DUE_BATCH);
    for (size_t i = 0; i < n; i++) {
        bool skip = false;
        for (size_t k = 0; k < nfailed && !skip; k++)
            skip = failed[k] == d[i].webhook_id;
        if (!skip && !stopping(w)) {
            char why[REEL_WEBHOOK_ERROR_MAX] = "";
            int ok = post(w, &d[i], why, sizeof(why));
            settle(w, &d[i], ok, why);
            if (ok < 0)
                failed[nfailed++] = d[i].webhook_id;
            persist(w);   /* notes that came meanwhile go to disk first */
        }
        free(d[i].body);
    }
}

/* The wall time of the next due row (now + IDLE_NS when none). */
static int64_t next_due(struct reel_webhooks *w)
{
    int64_t now = reel_clock_wall(w->clock), t = now + IDLE_NS;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db,
                           "SELECT min(o.next_ns) FROM webhook_outbox o JOIN webhook w ON w.id = o.webhook_id "
                           "WHERE w.enabled = 1",
                           -1, &st, NULL) != SQLITE_OK)
        return t;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int64_t v = sqlite3_column_int64(st, 0);
        if (v < t)
            t = v;
    }
    sqlite3_finalize(st);
    return t;
}

static void *run(void *opaque)
{
    struct reel_webhooks *w = opaque;
    int64_t last_expire = 0;
    while (!stopping(w)) {
        if (!w->db) {
            struct reel_err err = { "" };
            if (reel_db_open(&w->db, w->datadir, REEL_DB_WRITE, &err) < 0) {
                reel_log(w->log, REEL_LOG_ERROR, "webhooks: %s; retrying in 5 s", err.msg);
                w->db = NULL;
                wait_until(w, reel_clock_wall(w->clock) + 5 * REEL_NS_PER_SEC);
                continue;
            }
        }
        persist(w);
        int64_t now = reel_clock_wall(w->clock);
        if (now - last_expire >= 60 * REEL_NS_PER_SEC || now < last_expire) {
            expire(w);
            last_expire = now;
        }
        deliver_due(w);
        wait_until(w, next_due(w));
    }
    if (w->db)
        persist(w);   /* what the bus gave is kept for the next run */
    return NULL;
}

int reel_webhooks_new(struct reel_webhooks **ret, const struct reel_webhooks_cfg *cfg, struct reel_err *err)
{
    struct reel_webhooks *w = calloc(1, sizeof(*w));
    if (!w)
        return reel_err_set(err, ENOMEM, "webhooks: out of memory");
    snprintf(w->datadir, sizeof(w->datadir), "%s", cfg->datadir);
    w->clock = cfg->clock ? cfg->clock : reel_clock_system();
    w->log = cfg->log;
    w->qmax = cfg->queue_max ? cfg->queue_max : 1024;
    w->q = calloc(w->qmax, sizeof(*w->q));
    w->curl = curl_easy_init();
    if (!w->q || !w->curl) {
        curl_easy_cleanup(w->curl);
        free(w->q);
        free(w);
        return reel_err_set(err, ENOMEM, "webhooks: out of memory");
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->mu, NULL);
    int r = pthread_create(&w->th, NULL, run, w);
    if (r != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        curl_easy_cleanup(w->curl);
        free(w->q);
        free(w);
        return reel_err_set(err, r, "webhooks: cannot start a thread");
    }
    *ret = w;
    return 0;
}

void reel_webhooks_free(struct reel_webhooks *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    for (size_t i = 0; i < w->n; i++)
        free(w->q[(w->head + i) % w->qmax].body);
    if (w->db)
        sqlite3_close(w->db);
    curl_easy_cleanup(w->curl);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->q);
    free(w);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The event bus (events.h): a bounded queue of notifications filled by any
 * thread, emptied by the bus's own thread, which writes the table `event`
 * through its own reel.db connection and then calls the listeners in order.
 *
 * Each queued note carries the whole event (an "end" carries the complete
 * row), and the row is written with INSERT OR REPLACE: a "start" dropped
 * from a full queue does not lose the event once its end is written.
 */
#include "events/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

#define QUEUE_DEFAULT 4096
#define OPEN_MAX 1024              /* events open at once (one or two per camera in practice) */
#define LISTENERS_MAX 16
#define BATCH_MAX 256              /* notes written in one transaction */
#define CLOSED_AT_RESTART "closed at restart"

enum op_type { OP_START, OP_END, OP_INSTANT };

struct op {
    struct op *next;
    enum op_type type;
    bool gone;                     /* its camera no longer exists: neither written nor told */
    struct reel_event ev;
};

struct listener {
    reel_events_listener_fn fn;
    void *opaque;
};

struct reel_events {
    const struct reel_clock *clock;
    const struct reel_logger *log;
    sqlite3 *db;                   /* the bus thread's only */
    pthread_t thread;
    bool started;

    pthread_mutex_t mu;            /* guards everything below to lmu */
    pthread_cond_t wake;           /* queue non-empty or stopping */
    pthread_cond_t done;           /* a batch was handled (for _sync) */
    struct op *head, *tail;
    size_t queued, queue_max;
    uint64_t dropped;
    uint64_t enqueued_seq;         /* notes ever queued (dropped ones too) */
    uint64_t handled_seq;          /* notes handled or dropped */
    int64_t next_id;
    struct reel_event *open;       /* open events (their latest state) */
    size_t nopen;
    bool stopping;

    pthread_mutex_t lmu;           /* listeners; held during callbacks */
    struct listener listeners[LISTENERS_MAX];
    size_t nlisteners;
};

static const char *type_name(enum op_type t)
{
    return t == OP_START ? "start" : t == OP_END ? "end" : "instant";
}

static int64_t now90k(const struct reel_events *e)
{
    return reel_ns_to_90k(reel_clock_wall(e->clock));
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    if (!src)
        src = "";
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Copies ev with every string bounded and terminated. */
static void copy_event(struct reel_event *dst, const struct reel_event *src)
{
    *dst = *src;
    dst->camera[sizeof(dst->camera) - 1] = 0;
    dst->kind[sizeof(dst->kind) - 1] = 0;
    dst->source[sizeof(dst->source) - 1] = 0;
    dst->zones[sizeof(dst->zones) - 1] = 0;
    dst->detail[sizeof(dst->detail) - 1] = 0;
    if (!dst->source[0])
        copy_str(dst->source, sizeof(dst->source), "reel");
    if (dst->peak < 0)
        dst->peak = 0;
    if (dst->peak > 100)
        dst->peak = 100;
}

/* Under mu. Appends op, dropping the oldest note when full. */
static void enqueue_locked(struct reel_events *e, struct op *op)
{
    if (e->queued >= e->queue_max && e->head) {
        struct op *old = e->head;
        e->head = old->next;
        if (!e->head)
            e->tail = NULL;
        e->queued--;
        e->dropped++;
        e->handled_seq++;
        free(old);
    }
    op->next = NULL;
    if (e->tail)
        e->tail->next = op;
    else
        e->head = op;
    e->tail = op;
    e->queued++;
    e->enqueued_seq++;
    pthread_cond_signal(&e->wake);
}

/* ---- the bus thread ---- */

/* The camera's name from its id, or its id from its name. false when the
 * camera does not exist (deleted meanwhile): the event is dropped, never
 * made site-wide (which everyone would see). */
static bool resolve_camera(struct reel_events *e, struct reel_event *ev)
{
    sqlite3_stmt *st = NULL;
    bool found = true;
    if (ev->camera_id > 0 && !ev->camera[0]) {
        if (sqlite3_prepare_v2(e->db, "SELECT name FROM camera WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
            return true;   /* written as it is (the id is enough) */
        sqlite3_bind_int64(st, 1, ev->camera_id);
        found = sqlite3_step(st) == SQLITE_ROW;
        if (found)
            copy_str(ev->camera, sizeof(ev->camera), (const char *)sqlite3_column_text(st, 0));
    } else if (ev->camera_id <= 0 && ev->camera[0]) {
        if (sqlite3_prepare_v2(e->db, "SELECT id FROM camera WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
            return false;  /* without its id the row would be site-wide */
        sqlite3_bind_text(st, 1, ev->camera, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        if (found)
            ev->camera_id = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return found;
}

static int write_row(struct reel_events *e, sqlite3_stmt *st, const struct reel_event *ev)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, ev->id);
    if (ev->camera_id > 0)
        sqlite3_bind_int64(st, 2, ev->camera_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, ev->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ev->source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ev->start90k);
    if (ev->end90k > 0)
        sqlite3_bind_int64(st, 6, ev->end90k);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_text(st, 7, ev->zones, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, ev->peak);
    sqlite3_bind_text(st, 9, ev->detail, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : rc;
}

/* Writes a batch in one transaction; errors are logged, the notes still
 * reach the listeners. */
static void write_batch(struct reel_events *e, struct op *batch)
{
    struct reel_err err = { "" };
    sqlite3_stmt *st = NULL;
    int r = reel_db_exec(e->db, "BEGIN IMMEDIATE", &err);
    if (r == 0)
        r = reel_db_prepare(e->db,
                            "INSERT OR REPLACE INTO event (id, camera_id, kind, source, start90k, end90k, zones, "
                            "peak, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            &st, &err);
    for (struct op *op = batch; r == 0 && op; op = op->next) {
        op->gone = !resolve_camera(e, &op->ev);
        if (op->gone)
            continue;
        int rc = write_row(e, st, &op->ev);
        if (rc == SQLITE_CONSTRAINT && op->ev.camera_id > 0) {
            op->gone = true;   /* the camera was deleted meanwhile: its events went with it */
            rc = 0;
        }
        if (rc != 0)
            r = reel_db_err(e->db, rc, &err, "writing an event");
    }
    sqlite3_finalize(st);
    if (r == 0)
        r = reel_db_exec(e->db, "COMMIT", &err);
    if (r < 0) {
        reel_db_rollback(e->db);
        if (e->log)
            reel_log(e->log, REEL_LOG_WARN, "events: %s; the notifications still go out", err.msg);
    }
}

static void notify(struct reel_events *e, const struct op *op)
{
    if (op->gone)
        return;
    struct reel_event_note n = { .type = type_name(op->type), .ev = &op->ev };
    pthread_mutex_lock(&e->lmu);
    for (size_t i = 0; i < e->nlisteners; i++)
        e->listeners[i].fn(e->listeners[i].opaque, &n);
    pthread_mutex_unlock(&e->lmu);
}

static void *bus_main(void *arg)
{
    struct reel_events *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (!e->head && !e->stopping)
            pthread_cond_wait(&e->wake, &e->mu);
        if (!e->head && e->stopping)
            break;
        /* take up to BATCH_MAX notes */
        struct op *batch = e->head, *last = e->head;
        size_t n = 1;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        e->head = last->next;
        if (!e->head)
            e->tail = NULL;
        last->next = NULL;
        e->queued -= n;
        pthread_mutex_unlock(&e->mu);

        write_batch(e, batch);
        while (batch) {
            struct op *next = batch->next;
            notify(e, batch);
            free(batch);
            batch = next;
        }

        pthread_mutex_lock(&e->mu);
        e->handled_seq += n;
        pthread_cond_broadcast(&e->done);
    }
    pthread_cond_broadcast(&e->done);
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* ---- start: ids and the events a crash left open ---- */

static int start_db(struct reel_events *e, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(e->db, "SELECT coalesce(max(id), 0) FROM event", &st, err);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        r = reel_db_err(e->db, rc, err, "reading the largest event id");
        sqlite3_finalize(st);
        return r;
    }
    e->next_id = sqlite3_column_int64(st, 0) + 1;
    sqlite3_finalize(st);

    r = reel_db_prepare(e->db,
                        "UPDATE event SET end90k = max(start90k, ?), detail = CASE detail WHEN '' THEN '"
                        CLOSED_AT_RESTART "' ELSE substr(detail, 1, 480) || ' (" CLOSED_AT_RESTART ")' END "
                        "WHERE end90k IS NULL",
                        &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, now90k(e));
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        r = reel_db_err(e->db, rc, err, "closing the events left open");
    else if (sqlite3_changes(e->db) > 0 && e->log)
        reel_log(e->log, REEL_LOG_INFO, "events: %d event%s left open by the last run closed", sqlite3_changes(e->db),
                 sqlite3_changes(e->db) == 1 ? "" : "s");
    sqlite3_finalize(st);
    return r;
}

int reel_events_new(struct reel_events **ret, const struct reel_events_cfg *cfg, struct reel_err *err)
{
    if (!cfg || !cfg->datadir)
        return reel_err_set(err, EINVAL, "events: no data directory");
    struct reel_events *e = calloc(1, sizeof(*e));
    if (!e)
        return reel_err_set(err, ENOMEM, "events: out of memory");
    e->clock = cfg->clock ? cfg->clock : reel_clock_system();
    e->log = cfg->log;
    e->queue_max = cfg->queue_max ? cfg->queue_max : QUEUE_DEFAULT;
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->lmu, NULL);
    pthread_cond_init(&e->wake, NULL);
    pthread_cond_init(&e->done, NULL);
    int r = reel_db_open(&e->db, cfg->datadir, REEL_DB_WRITE, err);
    if (r == 0)
        r = start_db(e, err);
    if (r == 0) {
        e->open = calloc(OPEN_MAX, sizeof(*e->open));
        if (!e->open)
            r = reel_err_set(err, ENOMEM, "events: out of memory");
    }
    if (r == 0) {
        int pr = pthread_create(&e->thread, NULL, bus_main, e);
        if (pr != 0)
            r = reel_err_set(err, pr, "events: cannot start the bus thread: %s", strerror(pr));
        else
            e->started = true;
    }
    if (r < 0) {
        reel_events_free(e);
        return r;
    }
    *ret = e;
    return 0;
}

void reel_events_free(struct reel_events *e)
{
    if (!e)
        return;
    if (e->started) {
        pthread_mutex_lock(&e->mu);
        e->stopping = true;
        pthread_cond_signal(&e->wake);
        pthread_mutex_unlock(&e->mu);
        pthread_join(e->thread, NULL);
    }
    for (struct op *op = e->head, *next; op; op = next) {
        next = op->next;
        free(op);
    }
    if (e->db)
        sqlite3_close(e->db);
    free(e->open);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->lmu);
    pthread_cond_destroy(&e->wake);
    pthread_cond_destroy(&e->done);
    free(e);
}

/* ---- reporting ---- */

static int validate(const struct reel_event *ev)
{
    if (!ev || !ev->kind[0] || strnlen(ev->kind, sizeof(ev->kind)) == sizeof(ev->kind))
        return -EINVAL;
    return 0;
}

int reel_events_begin(struct reel_events *e, const struct reel_event *ev, int64_t *ret_id)
{
    if (validate(ev) < 0)
        return -EINVAL;
    struct op *op = malloc(sizeof(*op));
    if (!op)
        return -ENOMEM;
    op->type = OP_START;
    op->gone = false;
    copy_event(&op->ev, ev);
    op->ev.end90k = 0;
    pthread_mutex_lock(&e->mu);
    if (e->stopping || e->nopen >= OPEN_MAX) {
        int r = e->stopping ? -ESHUTDOWN : -ENOSPC;
        pthread_mutex_unlock(&e->mu);
        free(op);
        return r;
    }
    if (op->ev.start90k <= 0)
        op->ev.start90k = now90k(e);
    op->ev.id = e->next_id++;
    e->open[e->nopen++] = op->ev;
    if (ret_id)
        *ret_id = op->ev.id;
    enqueue_locked(e, op);
    pthread_mutex_unlock(&e->mu);
    return 0;
}

int reel_events_end(struct reel_events *e, int64_t id, int64_t end90k, const char *zones, int peak)
{
    struct op *op = malloc(sizeof(*op));
    if (!op)
        return -ENOMEM;
    pthread_mutex_lock(&e->mu);
    size_t i = 0;
    while (i < e->nopen && e->open[i].id != id)
        i++;
    if (i == e->nopen || e->stopping) {
        int r = e->stopping ? -ESHUTDOWN : -ENOENT;
        pthread_mutex_unlock(&e->mu);
        free(op);
        return r;
    }
    op->type = OP_END;
    op->gone = false;
    op->ev = e->open[i];
    e->open[i] = e->open[--e->nopen];
    if (end90k <= 0)
        end90k = now90k(e);
    op->ev.end90k = end90k < op->ev.start90k ? op->ev.start90k : end90k;
    if (zones)
        copy_str(op->ev.zones, sizeof(op->ev.zones), zones);
    if (peak >= 0)
        op->ev.peak = peak > 100 ? 100 : peak;
    enqueue_locked(e, op);
    pthread_mutex_unlock(&e->mu);
    return 0;
}

int reel_events_instant(struct reel_events *e, const struct reel_event *ev)
{
    if (validate(ev) < 0)
        return -EINVAL;
    struct op *op = malloc(sizeof(*op));
    if (!op)
        return -ENOMEM;
    op->type = OP_INSTANT;
    op->gone = false;
    copy_event(&op->ev, ev);
    pthread_mutex_lock(&e->mu);
    if (e->stopping) {
        pthread_mutex_unlock(&e->mu);
        free(op);
        return -ESHUTDOWN;
    }
    if (op->ev.start90k <= 0)
        op->ev.start90k = now90k(e);
    op->ev.end90k = op->ev.start90k;
    op->ev.id = e->next_id++;
    enqueue_locked(e, op);
    pthread_mutex_unlock(&e->mu);
    return 0;
}

int reel_events_listen(struct reel_events *e, reel_events_listener_fn fn, void *opaque)
{
    if (!fn)
        return -EINVAL;
    pthread_mutex_lock(&e->lmu);
    int r = 0;
    if (e->nlisteners >= LISTENERS_MAX)
        r = -ENOSPC;
    else
        e->listeners[e->nlisteners++] = (struct listener){ fn, opaque };
    pthread_mutex_unlock(&e->lmu);
    return r;
}

void reel_events_unlisten(struct reel_events *e, reel_events_listener_fn fn, void *opaque)
{
    pthread_mutex_lock(&e->lmu);
    for (size_t i = 0; i < e->nlisteners; i++) {
        if (e->listeners[i].fn == fn && e->listeners[i].opaque == opaque) {
            memmove(&e->listeners[i], &e->listeners[i + 1], (e->nlisteners - i - 1) * sizeof(e->listeners[0]));
            e->nlisteners--;
            break;
        }
    }
    pthread_mutex_unlock(&e->lmu);
}

/* ---- additions (DEVIATIONS-ev-core.md) ---- */

void reel_events_sync(struct reel_events *e)
{
    pthread_mutex_lock(&e->mu);
    uint64_t target = e->enqueued_seq;
    while (e->handled_seq < target && !(e->stopping && !e->head))
        pthread_cond_wait(&e->done, &e->mu);
    pthread_mutex_unlock(&e->mu);
}

uint64_t reel_events_dropped(struct reel_events *e)
{
    pthread_mutex_lock(&e->mu);
    uint64_t n = e->dropped;
    pthread_mutex_unlock(&e->mu);
    return n;
}

bool reel_events_is_open(struct reel_events *e, int64_t id)
{
    pthread_mutex_lock(&e->mu);
    bool found = false;
    for (size_t i = 0; i < e->nopen && !found; i++)
        found = e->open[i].id == id;
    pthread_mutex_unlock(&e->mu);
    return found;
}

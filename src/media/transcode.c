/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On-demand transcodes, a thread each, between two hub cameras
 * (transcode.h).
 */
#include "media/transcode.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "media/xcode.h"

#define READ_WAIT_NS (200 * INT64_C(1000000))   /* how often the thread looks at its viewers */
#define SUB_MAX_BYTES (8u << 20)                 /* source AUs queued for one transcode */
#define ERROR_LOG_EVERY 100

/* One camera's transcode. viewers >= 0 while it runs; -1 once it stops
 * (set by compare-and-swap from 0, so a viewer never joins a dying one). */
struct tc {
    struct reel_transcoders *t;
    int64_t camera_id;
    _Atomic int viewers;
    _Atomic int64_t idle_since;   /* mono ns when viewers last went to 0 */
    atomic_bool stop;             /* reel_transcoders_free */
    atomic_bool done;             /* the thread is about to return */
    pthread_t thread;
    struct reel_hub_sub *sub;
    struct reel_hub_cam *out;
    struct reel_xcode *x;
    int64_t published_gen;
    uint64_t errors;
    struct tc *next;
};

struct reel_transcoders {
    struct reel_hub *hub;
    unsigned max;
    const struct reel_logger *log;
    const struct reel_clock *clock;
    int64_t linger_ns;
    pthread_mutex_t mu;           /* the list */
    struct tc *list;
    unsigned slots;               /* reel_transcode_slot_take()s held (under mu) */
    _Atomic uint64_t started, stopped, frames, errors;
};

static void logf_(const struct reel_transcoders *t, enum reel_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(const struct reel_transcoders *t, enum reel_log_level lvl, const char *fmt, ...)
{
    if (t->log == NULL)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    reel_log(t->log, lvl, "%s", line);
}

int reel_transcoders_new(struct reel_transcoders **ret, struct reel_hub *hub, unsigned max,
                         const struct reel_logger *log, struct reel_err *err)
{
    if (hub == NULL || max < 1 || max > REEL_TRANSCODE_MAX_LIMIT)
        return reel_err_set(err, EINVAL, "transcode: max %u out of 1..%d", max,
                            REEL_TRANSCODE_MAX_LIMIT);
    struct reel_transcoders *t = calloc(1, sizeof *t);
    if (t == NULL)
        return reel_err_set(err, ENOMEM, "transcode: out of memory");
    t->hub = hub;
    t->max = max;
    t->log = log;
    t->clock = reel_clock_system();
    t->linger_ns = REEL_TRANSCODE_LINGER_NS;
    pthread_mutex_init(&t->mu, NULL);
    *ret = t;
    return 0;
}

void reel_transcoders_set_linger(struct reel_transcoders *t, int64_t linger_ns,
                                 const struct reel_clock *clock)
{
    t->linger_ns = linger_ns < 0 ? 0 : linger_ns;
    t->clock = clock != NULL ? clock : reel_clock_system();
}

/* The xcode callback: the output entry when it changes, then the AU. */
static void publish(void *arg, const struct reel_xcode_out *o)
{
    struct tc *c = arg;
    if (o->entry_gen != c->published_gen) {
        if (reel_hub_cam_set_entry(c->out, o->entry_gen, o->entry, o->entry_len) < 0) {
            logf_(c->t, REEL_LOG_WARN, "transcode: camera %" PRId64 ": cannot set the entry",
                  c->camera_id);
            return;
        }
        c->published_gen = o->entry_gen;
    }
    struct reel_hub_au au = {
        .data = o->data, .len = o->len, .ts90k = o->ts90k, .wall90k = o->wall90k,
        .key = o->key, .sample_entry_id = o->entry_gen,
    };
    reel_hub_publish_au(c->out, &au);
    atomic_fetch_add(&c->t->frames, 1);
}

static bool should_linger_out(struct tc *c)
{
    int v = atomic_load(&c->viewers);
    if (v != 0)
        return false;
    int64_t idle = reel_clock_mono(c->t->clock) - atomic_load(&c->idle_since);
    if (idle < c->t->linger_ns)
        return false;
    return atomic_compare_exchange_strong(&c->viewers, &v, -1);
}

static void *run(void *arg)
{
    struct tc *c = arg;
    struct reel_transcoders *t = c->t;
    uint8_t *entry = malloc(REEL_HUB_ENTRY_MAX);
    size_t entry_len = 0;
    int64_t entry_id = 0;
    while (entry != NULL && !atomic_load(&c->stop) && atomic_load(&c->viewers) >= 0 &&
           !should_linger_out(c)) {
        struct reel_hub_msg m;
        int r = reel_hub_sub_read(c->sub, &m, READ_WAIT_NS);
        if (r < 0)
            continue;   /* -ETIMEDOUT / -EAGAIN: look at the viewers again */
        if (m.kind == REEL_HUB_STATE) {
            /* The camera's state passes on: its live viewers end when it stops. */
            struct reel_hub_state st = m.state;
            st.camera_id = REEL_HUB_TRANSCODE_ID(c->camera_id);
            reel_hub_publish_state(c->out, &st);
        } else if (m.kind == REEL_HUB_AU) {
            struct reel_err err = {{0}};
            if (m.au.sample_entry_id != entry_id) {
                r = reel_hub_entry_get(t->hub, c->camera_id, m.au.sample_entry_id, entry,
                                       REEL_HUB_ENTRY_MAX, &entry_len, NULL, NULL, NULL);
                entry_id = r == 0 ? m.au.sample_entry_id : 0;
                if (r < 0)
                    reel_err_set(&err, -r, "no sample entry %" PRId64, m.au.sample_entry_id);
            }
            if (r == 0)
                r = reel_xcode_feed(c->x, entry, entry_len, m.au.data, m.au.len, m.au.ts90k,
                                    m.au.wall90k, m.au.key, publish, c, &err);
            if (r < 0) {
                atomic_fetch_add(&t->errors, 1);
                if (c->errors++ % ERROR_LOG_EVERY == 0)
                    logf_(t, REEL_LOG_WARN, "transcode: camera %" PRId64 ": %s (%" PRIu64
                          " errors)", c->camera_id, err.msg, c->errors);
            }
        }
        reel_hub_msg_release(&m);
    }
    free(entry);
    reel_hub_unsubscribe(c->sub);
    c->sub = NULL;
    reel_hub_cam_remove(t->hub, c->out);
    c->out = NULL;
    logf_(t, REEL_LOG_INFO, "transcode: camera %" PRId64 " stopped after %" PRIu64 " frames",
          c->camera_id, reel_xcode_frames(c->x));
    atomic_fetch_add(&t->stopped, 1);
    atomic_store(&c->done, true);
    return NULL;
}

static void tc_free(struct tc *c)
{
    reel_hub_unsubscribe(c->sub);
    if (c->out != NULL)
        reel_hub_cam_remove(c->t->hub, c->out);
    reel_xcode_free(c->x);
    free(c);
}

/* Under t->mu: joins and frees every stopped transcode, and the one of
 * camera_id (if any) that is stopping. Threads never take t->mu. */
static void reap_locked(struct reel_transcoders *t, int64_t camera_id)
{
    for (struct tc **pp = &t->list; *pp != NULL;) {
        struct tc *c = *pp;
        bool mine = c->camera_id == camera_id && atomic_load(&c->viewers) < 0;
        if (atomic_load(&c->done) || mine) {
            pthread_join(c->thread, NULL);
            *pp = c->next;
            tc_free(c);
        } else {
            pp = &c->next;
        }
    }
}

static int start_locked(struct reel_transcoders *t, int64_t camera_id, struct reel_err *err)
{
    struct tc *c = calloc(1, sizeof *c);
    if (c == NULL)
        return reel_err_set(err, ENOMEM, "transcode: out of memory");
    c->t = t;
    c->camera_id = camera_id;
    atomic_init(&c->viewers, 1);
    atomic_init(&c->idle_since, 0);
    int r = reel_xcode_new(&c->x, REEL_TRANSCODE_WIDTH, REEL_TRANSCODE_HEIGHT, err);
    if (r < 0) {
        free(c);
        return r;
    }
    struct reel_hub_state st = {.camera_id = REEL_HUB_TRANSCODE_ID(camera_id), .connected = true};
    snprintf(st.state, sizeof st.state, "recording");
    r = reel_hub_cam_add(t->hub, REEL_HUB_TRANSCODE_ID(camera_id), &st, &c->out);
    if (r < 0) {
        c->out = NULL;
        tc_free(c);
        return reel_err_set(err, -r, "transcode: camera %" PRId64 ": cannot publish to the hub",
                            camera_id);
    }
    struct reel_hub_sub_cfg cfg = {
        .camera_id = camera_id, .gop = true, .kinds = REEL_HUB_AU | REEL_HUB_STATE,
        .max_bytes = SUB_MAX_BYTES,
    };
    r = reel_hub_subscribe(t->hub, &cfg, &c->sub);
    if (r < 0) {
        c->sub = NULL;
        tc_free(c);
        return reel_err_set(err, -r, "transcode: camera %" PRId64 ": cannot subscribe", camera_id);
    }
    r = pthread_create(&c->thread, NULL, run, c);
    if (r != 0) {
        tc_free(c);
        return reel_err_set(err, EAGAIN, "transcode: cannot start a thread");
    }
    c->next = t->list;
    t->list = c;
    atomic_fetch_add(&t->started, 1);
    logf_(t, REEL_LOG_INFO, "transcode: camera %" PRId64 " started (H.264 as hub camera %" PRId64
          ")", camera_id, REEL_HUB_TRANSCODE_ID(camera_id));
    return 0;
}

int reel_transcode_acquire(struct reel_transcoders *t, int64_t camera_id, int64_t *hub_camera_id,
                           struct reel_err *err)
{
    if (camera_id <= 0)
        return reel_err_set(err, EINVAL, "transcode: bad camera id %" PRId64, camera_id);
    pthread_mutex_lock(&t->mu);
    reap_locked(t, 0);
    unsigned alive = 0;
    struct tc *idle = NULL;
    for (struct tc *c = t->list; c != NULL; c = c->next) {
        int v = atomic_load(&c->viewers);
        while (c->camera_id == camera_id && v >= 0 && !atomic_load(&c->stop)) {
            if (atomic_compare_exchange_weak(&c->viewers, &v, v + 1)) {
                pthread_mutex_unlock(&t->mu);
                *hub_camera_id = REEL_HUB_TRANSCODE_ID(camera_id);
                return 0;
            }
        }
        if (v >= 0) {
            alive++;
            if (v == 0)
                idle = c;
        }
    }
    alive += t->slots;
    if (alive >= t->max && idle != NULL) {
        int zero = 0;   /* make room: stop a lingering transcode */
        if (atomic_compare_exchange_strong(&idle->viewers, &zero, -1))
            alive--;
    }
    int r;
    if (alive >= t->max) {
        r = reel_err_set(err, EBUSY, "transcode: %u transcodes running, the cap", t->max);
    } else {
        reap_locked(t, camera_id);   /* a stopping one of this camera holds its hub id */
        r = start_locked(t, camera_id, err);
    }
    pthread_mutex_unlock(&t->mu);
    if (r == 0)
        *hub_camera_id = REEL_HUB_TRANSCODE_ID(camera_id);
    return r;
}

int reel_transcode_slot_take(struct reel_transcoders *t, struct reel_err *err)
{
    pthread_mutex_lock(&t->mu);
    reap_locked(t, 0);
    unsigned alive = t->slots;
    struct tc *idle = NULL;
    for (struct tc *c = t->list; c != NULL; c = c->next) {
        int v = atomic_load(&c->viewers);
        if (v >= 0) {
            alive++;
            if (v == 0)
                idle = c;
        }
    }
    if (alive >= t->max && idle != NULL) {
        int zero = 0;   /* make room: stop a lingering transcode */
        if (atomic_compare_exchange_strong(&idle->viewers, &zero, -1))
            alive--;
    }
    int r = 0;
    if (alive >= t->max)
        r = reel_err_set(err, EBUSY, "transcode: %u transcodes running, the cap", t->max);
    else
        t->slots++;
    pthread_mutex_unlock(&t->mu);
    return r;
}

void reel_transcode_slot_give(struct reel_transcoders *t)
{
    pthread_mutex_lock(&t->mu);
    if (t->slots > 0)
        t->slots--;
    pthread_mutex_unlock(&t->mu);
}

void reel_transcode_release(struct reel_transcoders *t, int64_t camera_id)
{
    pthread_mutex_lock(&t->mu);
    for (struct tc *c = t->list; c != NULL; c = c->next) {
        if (c->camera_id != camera_id || atomic_load(&c->viewers) <= 0)
            continue;
        atomic_store(&c->idle_since, reel_clock_mono(t->clock));
        atomic_fetch_sub(&c->viewers, 1);
        break;
    }
    pthread_mutex_unlock(&t->mu);
}

void reel_transcoders_stats(struct reel_transcoders *t, struct reel_transcode_stats *ret)
{
    pthread_mutex_lock(&t->mu);
    unsigned n = 0;
    for (struct tc *c = t->list; c != NULL; c = c->next)
        n += !atomic_load(&c->done);
    pthread_mutex_unlock(&t->mu);
    *ret = (struct reel_transcode_stats){
        .running = n, .started = atomic_load(&t->started), .stopped = atomic_load(&t->stopped),
        .frames = atomic_load(&t->frames), .errors = atomic_load(&t->errors),
    };
}

void reel_transcoders_free(struct reel_transcoders *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    for (struct tc *c = t->list; c != NULL; c = c->next)
        atomic_store(&c->stop, true);
    while (t->list != NULL) {
        struct tc *c = t->list;
        pthread_join(c->thread, NULL);
        t->list = c->next;
        tc_free(c);
    }
    pthread_mutex_unlock(&t->mu);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

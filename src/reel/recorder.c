/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The recorder (see recorder.h): running cameras keyed by id, applied from
 * their database rows on the loop thread; the command queue from the
 * control thread and the HTTP threads; the hub glue (camera hooks, store
 * recording events, in-memory status).
 */
#include "reel/recorder.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "events/events.h"
#include "reel/control.h"
#include "reel/probe.h"
#include "rtsp/url.h"

#define STATUS_REFRESH_NS (2 * REEL_NS_PER_SEC)
#define PASSWORD_MAX 256

struct rcam {
    struct reel_recorder *rec;
    struct reel_camera cfg;
    char password[PASSWORD_MAX];
    bool has_password;
    struct reel_cam *cam;            /* NULL: disabled, or could not be created */
    /* The camera offered Digest once: kept across its restarts (a live
     * change) for the recorder's life, so a restart is no way around the
     * downgrade guard (camera.h); forgotten when its URL names another host. */
    bool digest_seen;
    struct reel_hub_cam *hc;
    int64_t hub_entry_id;            /* the sample entry last given to the hub (loop thread) */
    struct reel_cam_hooks hooks;
    int64_t offline_id;              /* its open camera.offline event; 0: none (loop thread) */
    int64_t offline_end90k;          /* > 0: its outage ended then; the event ends there unless
                                      * another cause follows at once (same outage for people) */
};

/* One camera_changed request, shared by the waiting thread and the loop. */
struct cmd {
    struct cmd *next;
    char name[REEL_NAME_MAX];
    bool exists;                     /* false: the row is gone */
    struct reel_camera row;
    char password[PASSWORD_MAX];
    bool has_password;
    int refs;                        /* under q_mu */
    bool done, stopped;              /* stopped: a running camera was stopped */
    int result;
    char err[REEL_ERR_MAX];
};

struct reel_recorder {
    struct reel_recorder_cfg cfg;
    const struct reel_logger *log;
    struct reel_store *store;        /* RECORD: the loop's */
    struct reel_store *rstore;       /* READ: camera_changed's and status's (db_mu) */
    struct reel_loop *loop;
    struct reel_resolver *resolver;  /* name lookups off the loop, shared by the cameras */
    struct reel_hub *hub;
    struct rcam **cams;              /* loop thread only */
    size_t ncams, acams;
    struct reel_timer status_timer;
    bool timer_failed_logged;

    pthread_mutex_t db_mu;           /* rstore; reading a row and queueing it are one step */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    struct cmd *q_head, **q_tail;
    bool running;                    /* the loop takes commands (q_mu) */
    struct reel_io q_io;             /* eventfd */

    struct reel_control *control;
    struct reel_control_ops ops;
    struct reel_http_recorder http;
    int probes;                      /* camera tests running (atomic) */
    struct reel_events *events;      /* issue 15: the bus; NULL: none (atomic: the store's threads read it) */
};

/* ---- hub glue ---- */

static void to_hub_state(const struct reel_camera_status *st, struct reel_hub_state *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->camera_id = st->camera_id;
    ret->connected = st->connected;
    snprintf(ret->state, sizeof(ret->state), "%s", st->state);
    snprintf(ret->last_error, sizeof(ret->last_error), "%s", st->last_error);
    ret->fps = st->fps;
    ret->bitrate_bps = st->bitrate_bps;
    ret->udp_foreign = st->udp_foreign;
    ret->updated90k = st->updated90k;
}

static void from_hub_state(const struct reel_hub_state *st, struct reel_camera_status *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->camera_id = st->camera_id;
    ret->connected = st->connected;
    snprintf(ret->state, sizeof(ret->state), "%s", st->state);
    snprintf(ret->last_error, sizeof(ret->last_error), "%s", st->last_error);
    ret->fps = st->fps;
    ret->bitrate_bps = st->bitrate_bps;
    ret->udp_foreign = st->udp_foreign;
    ret->updated90k = st->updated90k;
}

static int64_t wall90k(const struct reel_recorder *r)
{
    return reel_ns_to_90k(reel_clock_wall(reel_loop_clock(r->loop)));
}

static struct reel_events *events_of(const struct reel_recorder *r)
{
    return __atomic_load_n(&r->events, __ATOMIC_ACQUIRE);
}

static void hook_au(void *opaque, int64_t camera_id, const struct reel_cam_au *au)
{
    (void)camera_id;
    struct rcam *rc = opaque;
    if (au->sample_entry_id != rc->hub_entry_id && au->params &&
        reel_hub_cam_set_entry_ex(rc->hc, au->sample_entry_id, au->params->sample_entry,
                                  au->params->sample_entry_len, au->params->codec_string) == 0)
        rc->hub_entry_id = au->sample_entry_id;   /* live view builds its init segment from it */
    struct reel_hub_au a = { .data = au->data, .len = au->len, .ts90k = au->ts90k, .wall90k = au->wall90k,
                             .key = au->key, .sample_entry_id = au->sample_entry_id };
    reel_hub_publish_au(rc->hc, &a);
}

static void offline_end_pending(struct rcam *rc);

static void hook_state(void *opaque, const struct reel_camera_status *st)
{
    struct rcam *rc = opaque;
    if (st->connected)
        offline_end_pending(rc);   /* recording again: the offline event ends where the outage did */
    struct reel_hub_state hs;
    to_hub_state(st, &hs);
    reel_hub_publish_state(rc->hc, &hs);
}

/* Ends the camera's offline event at the end of its outage (if one ended)
 * or now. */
static void offline_end_at(struct rcam *rc, int64_t t90k)
{
    struct reel_events *ev = events_of(rc->rec);
    if (rc->offline_id > 0 && ev)
        reel_events_end(ev, rc->offline_id, rc->offline_end90k > 0 ? rc->offline_end90k : t90k, NULL, -1);
    rc->offline_id = 0;
    rc->offline_end90k = 0;
}

static void offline_end_pending(struct rcam *rc)
{
    if (rc->offline_id > 0 && rc->offline_end90k > 0)
        offline_end_at(rc, rc->offline_end90k);
}

/* camera.offline events (issue 15) from the camera's outages: one event
 * from the first real cause until the camera records again. An outage
 * that ends because its cause changed (the policy ends it and begins the
 * next one at once) is the same event; the end is applied when the camera
 * records (hook_state), stops or is removed. "connecting" (every start)
 * and "recorder stopped" are not the camera's fault. Loop thread; the bus
 * never waits. */
static void hook_outage(void *opaque, int64_t camera_id, int64_t wall90k, const char *reason)
{
    struct rcam *rc = opaque;
    struct reel_events *ev = events_of(rc->rec);
    if (!ev)
        return;
    if (!reason) {
        if (rc->offline_id > 0 && rc->offline_end90k == 0)
            rc->offline_end90k = wall90k;
        return;
    }
    if (strcmp(reason, "connecting") == 0 || strcmp(reason, "recorder stopped") == 0) {
        offline_end_at(rc, wall90k);
        return;
    }
    rc->offline_end90k = 0;          /* another cause at once: the same outage goes on */
    /* "storage: ..." is Reel's disk failing, told as storage.error: the
     * camera itself is fine */
    if (rc->offline_id > 0 || strncmp(reason, "storage", 7) == 0)
        return;
    struct reel_event e = { .camera_id = camera_id, .start90k = wall90k };
    snprintf(e.kind, sizeof(e.kind), "%s", REEL_EVENT_CAMERA_OFFLINE);
    snprintf(e.source, sizeof(e.source), "recorder");
    snprintf(e.detail, sizeof(e.detail), "%s", reason);
    if (reel_events_begin(ev, &e, &rc->offline_id) < 0)
        rc->offline_id = 0;
}

/* Ends the camera's offline event when it is stopped or removed. */
static void end_offline(struct rcam *rc)
{
    offline_end_at(rc, wall90k(rc->rec));
}

/* A state the recorder sets itself ("disabled", "error"). */
static void publish_own_state(struct rcam *rc, const char *state, const char *error)
{
    struct reel_hub_state hs = { .camera_id = rc->cfg.id, .updated90k = wall90k(rc->rec) };
    snprintf(hs.state, sizeof(hs.state), "%s", state);
    snprintf(hs.last_error, sizeof(hs.last_error), "%s", error ? error : "");
    reel_hub_publish_state(rc->hc, &hs);
}

static void store_event(void *opaque, int level, const char *line)
{
    struct reel_recorder *r = opaque;
    reel_log(r->log, (enum reel_log_level)level, "%s", line);
}

/* Issue 15: the store's trouble as events (its threads; the bus never
 * waits). */
static void store_trouble(void *opaque, const struct reel_store_trouble *t)
{
    struct reel_recorder *r = opaque;
    struct reel_events *ev = events_of(r);
    if (!ev)
        return;
    static const char *const kinds[] = {
        [REEL_STORE_TROUBLE_WRITE] = REEL_EVENT_STORAGE_ERROR,
        [REEL_STORE_TROUBLE_NO_ROOM] = REEL_EVENT_RETENTION_BLOCKED,
        [REEL_STORE_TROUBLE_LOCKS] = REEL_EVENT_LOCK_BLOCKING,
    };
    if ((size_t)t->kind >= sizeof(kinds) / sizeof(kinds[0]))
        return;
    struct reel_event e = { .camera_id = t->camera_id };
    snprintf(e.kind, sizeof(e.kind), "%s", kinds[t->kind]);
    snprintf(e.source, sizeof(e.source), "store");
    snprintf(e.detail, sizeof(e.detail), "%s", t->detail);
    reel_events_instant(ev, &e);
}

static void store_recording(void *opaque, const struct reel_recording_event *ev)
{
    struct reel_recorder *r = opaque;
    struct reel_hub_recording h = {
        .camera_id = ev->camera_id, .recording_id = ev->recording_id, .run_id = ev->run_id,
        .start90k = ev->start90k, .wall_duration90k = ev->wall_duration90k, .frames = ev->frames,
        .bytes = ev->bytes, .closed = ev->closed,
    };
    reel_hub_publish_recording(r->hub, &h);
}

/* ---- running cameras (loop thread, or main thread before the loop) ---- */

static struct rcam *find_id(struct reel_recorder *r, int64_t id, size_t *ret_i)
{
    for (size_t i = 0; i < r->ncams; i++)
        if (r->cams[i]->cfg.id == id) {
            if (ret_i)
                *ret_i = i;
            return r->cams[i];
        }
    return NULL;
}

static struct rcam *find_name(struct reel_recorder *r, const char *name, size_t *ret_i)
{
    for (size_t i = 0; i < r->ncams; i++)
        if (strcmp(r->cams[i]->cfg.name, name) == 0) {
            if (ret_i)
                *ret_i = i;
            return r->cams[i];
        }
    return NULL;
}

/* Adds an entry for a row (not started). */
static int rcam_add(struct reel_recorder *r, const struct reel_camera *row, const char *password,
                    struct rcam **ret)
{
    if (password && strlen(password) >= PASSWORD_MAX)
        return -ENAMETOOLONG;
    if (reel_array_grow(&r->cams, &r->acams, r->ncams, sizeof(*r->cams), 16) < 0)
        return -ENOMEM;
    struct rcam *rc = calloc(1, sizeof(*rc));
    if (!rc)
        return -ENOMEM;
    rc->rec = r;
    rc->cfg = *row;
    if (password) {
        snprintf(rc->password, sizeof(rc->password), "%s", password);
        rc->has_password = true;
    }
    rc->hooks = (struct reel_cam_hooks){ .on_au = hook_au, .on_state = hook_state,
                                         .on_outage = hook_outage, .opaque = rc };
    struct reel_hub_state init = { .camera_id = row->id, .updated90k = wall90k(r) };
    snprintf(init.state, sizeof(init.state), "%s", row->disabled ? "disabled" : "starting");
    int e = reel_hub_cam_add(r->hub, row->id, &init, &rc->hc);
    if (e < 0) {
        free(rc);
        return e;
    }
    r->cams[r->ncams++] = rc;
    *ret = rc;
    return 0;
}

/* Creates and starts the camera's streamer. */
static int rcam_start(struct rcam *rc, struct reel_err *err)
{
    struct reel_recorder *r = rc->rec;
    struct reel_cam_opts opts = r->cfg.cam_opts;
    opts.hooks = &rc->hooks;
    opts.digest_seen = rc->digest_seen;
    int e = reel_cam_new(&rc->cam, r->loop, r->store, r->log, &rc->cfg, rc->has_password ? rc->password : NULL,
                         &opts);
    if (e < 0) {
        rc->cam = NULL;
        reel_err_set(err, -e, "camera %s: cannot start: %s", rc->cfg.name, strerror(-e));
        reel_log(r->log, REEL_LOG_ERROR, "%s", err->msg);
        publish_own_state(rc, "error", err->msg);
        return e;
    }
    reel_cam_start(rc->cam);
    return 0;
}

/* Stops the streamer: the session is torn down and the run closed (its
 * last recording committed by the syncer). True when it was running. */
static bool rcam_stop(struct rcam *rc)
{
    if (!rc->cam)
        return false;
    if (reel_cam_digest_seen(rc->cam))
        rc->digest_seen = true;
    reel_cam_stop(rc->cam);
    reel_cam_free(rc->cam);
    rc->cam = NULL;
    end_offline(rc);
    return true;
}

static void rcam_remove(struct reel_recorder *r, size_t i)
{
    struct rcam *rc = r->cams[i];
    rcam_stop(rc);
    reel_hub_cam_remove(r->hub, rc->hc);
    explicit_bzero(rc->password, sizeof(rc->password));
    free(rc);
    r->cams[i] = r->cams[--r->ncams];
}

/* What needs a new session when it changes; retention does not (the
 * syncer reads it from the database at each retention pass). */
static bool connection_changed(const struct rcam *rc, const struct cmd *c)
{
    const struct reel_camera *a = &rc->cfg, *b = &c->row;
    return strcmp(a->url, b->url) != 0 || strcmp(a->user, b->user) != 0 || a->udp != b->udp ||
           a->dir_id != b->dir_id || a->audio != b->audio || a->allow_redirect != b->allow_redirect ||
           a->allow_basic != b->allow_basic || rc->has_password != c->has_password ||
           (c->has_password && strcmp(rc->password, c->password) != 0);
}

static int apply(struct reel_recorder *r, struct cmd *c, struct reel_err *err)
{
    size_t i;
    if (!c->exists) {
        if (find_name(r, c->name, &i)) {
            c->stopped = r->cams[i]->cam != NULL;
            rcam_remove(r, i);
            reel_log(r->log, REEL_LOG_INFO, "camera %s: removed", c->name);
        }
        return 0;
    }
    if (c->row.kind == REEL_STREAM_AUDIO)
        return 0;   /* recorded by its camera's streamer, from the camera's own session */
    struct rcam *rc = find_id(r, c->row.id, &i);
    if (!rc && find_name(r, c->row.name, &i)) {
        /* the name now belongs to another row: the old one is gone */
        c->stopped = r->cams[i]->cam != NULL;
        rcam_remove(r, i);
    }
    if (!rc) {
        int e = rcam_add(r, &c->row, c->has_password ? c->password : NULL, &rc);
        if (e < 0)
            return reel_err_set(err, -e, "camera %s: %s", c->row.name, strerror(-e));
        if (c->row.disabled) {
            reel_log(r->log, REEL_LOG_INFO, "camera %s: added, disabled", c->row.name);
            return 0;
        }
        reel_log(r->log, REEL_LOG_INFO, "camera %s: added", c->row.name);
        return rcam_start(rc, err);
    }
    bool restart = connection_changed(rc, c) || strcmp(rc->cfg.name, c->row.name) != 0;
    bool was_disabled = rc->cfg.disabled;
    bool other_host = !reel_rtsp_url_same_host(rc->cfg.url, c->row.url);   /* another device */
    rc->cfg = c->row;
    explicit_bzero(rc->password, sizeof(rc->password));
    snprintf(rc->password, sizeof(rc->password), "%s", c->has_password ? c->password : "");
    rc->has_password = c->has_password;
    if (c->row.disabled) {
        c->stopped = rcam_stop(rc);
        if (other_host)
            rc->digest_seen = false;
        if (!was_disabled)
            reel_log(r->log, REEL_LOG_INFO, "camera %s: disabled", c->row.name);
        publish_own_state(rc, "disabled", NULL);
        return 0;
    }
    if (rc->cam && !restart)
        return 0;                      /* retention only, or nothing */
    if (rc->cam) {
        reel_log(r->log, REEL_LOG_INFO, "camera %s: configuration changed; reconnecting", c->row.name);
        c->stopped = rcam_stop(rc);
    } else if (was_disabled) {
        reel_log(r->log, REEL_LOG_INFO, "camera %s: enabled", c->row.name);
    }
    if (other_host)
        rc->digest_seen = false;
    return rcam_start(rc, err);
}

static void queue_cb(struct reel_io *io, uint32_t events)
{
    (void)events;
    struct reel_recorder *r = io->opaque;
    uint64_t v;
    if (read(io->fd, &v, sizeof(v)) < 0) { /* EAGAIN: another round took them */ }
    pthread_mutex_lock(&r->q_mu);
    struct cmd *list = r->q_head;
    r->q_head = NULL;
    r->q_tail = &r->q_head;
    pthread_mutex_unlock(&r->q_mu);
    while (list) {
        struct cmd *c = list;
        list = c->next;
        struct reel_err err = { "" };
        int res = apply(r, c, &err);
        pthread_mutex_lock(&r->q_mu);
        c->result = res;
        snprintf(c->err, sizeof(c->err), "%s", err.msg);
        c->done = true;
        explicit_bzero(c->password, sizeof(c->password));
        if (--c->refs == 0)
            free(c);
        pthread_cond_broadcast(&r->q_cv);
        pthread_mutex_unlock(&r->q_mu);
    }
}

static void status_cb(struct reel_timer *t)
{
    struct reel_recorder *r = t->opaque;
    for (size_t i = 0; i < r->ncams; i++) {
        struct rcam *rc = r->cams[i];
        if (!rc->cam)
            continue;
        struct reel_camera_status st;
        struct reel_hub_state hs;
        reel_cam_status(rc->cam, &st);
        to_hub_state(&st, &hs);
        reel_hub_status_put(rc->hc, &hs);
    }
    int e = reel_loop_timer_set(r->loop, t, reel_loop_now(r->loop) + STATUS_REFRESH_NS);
    if (e < 0 && !r->timer_failed_logged) {
        reel_log(r->log, REEL_LOG_ERROR, "cannot arm the status timer: %s; fps and bitrate in status "
                 "are no longer refreshed", strerror(-e));
        r->timer_failed_logged = true;
    }
}

/* ---- any thread ---- */

int reel_recorder_camera_changed(struct reel_recorder *r, const char *name, struct reel_err *err)
{
    if (!name || !name[0] || strlen(name) >= REEL_NAME_MAX)
        return reel_err_set(err, EINVAL, "bad camera name");
    struct cmd *c = calloc(1, sizeof(*c));
    if (!c)
        return reel_err_set(err, ENOMEM, "out of memory");
    snprintf(c->name, sizeof(c->name), "%s", name);
    pthread_mutex_lock(&r->db_mu);
    int e = reel_store_camera_get(r->rstore, name, &c->row, err);
    if (e == 0) {
        c->exists = true;
        e = reel_store_camera_password(r->rstore, c->row.id, c->password, sizeof(c->password));
        c->has_password = e == 0;
        if (e == -ENOENT)
            e = 0;
        else if (e < 0)
            reel_err_set(err, -e, "camera %s: cannot read its password: %s", name, strerror(-e));
    } else if (e == -ENOENT) {
        e = 0;
        err->msg[0] = '\0';
    }
    if (e == 0) {
        pthread_mutex_lock(&r->q_mu);
        if (!r->running) {
            e = reel_err_set(err, ESHUTDOWN, "the recorder is not running (starting or stopping)");
        } else {
            c->refs = 2;
            *r->q_tail = c;
            r->q_tail = &c->next;
        }
        pthread_mutex_unlock(&r->q_mu);
    }
    if (e == 0) {
        uint64_t one = 1;
        if (write(r->q_io.fd, &one, sizeof(one)) != sizeof(one)) { /* the counter is set already */ }
    }
    pthread_mutex_unlock(&r->db_mu);
    if (e < 0) {
        explicit_bzero(c->password, sizeof(c->password));
        free(c);
        return e;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += REEL_RECORDER_APPLY_TIMEOUT_NS / REEL_NS_PER_SEC;
    pthread_mutex_lock(&r->q_mu);
    while (!c->done && pthread_cond_timedwait(&r->q_cv, &r->q_mu, &until) != ETIMEDOUT)
        ;
    bool done = c->done, stopped = c->stopped;
    int res = c->result;
    if (done && res < 0)
        reel_err_set(err, -res, "%s", c->err);
    if (--c->refs == 0)
        free(c);
    pthread_mutex_unlock(&r->q_mu);
    if (!done)
        return reel_err_set(err, ETIMEDOUT, "camera %s: the recorder did not apply the change within %d s",
                            name, (int)(REEL_RECORDER_APPLY_TIMEOUT_NS / REEL_NS_PER_SEC));
    if (res < 0)
        return res;
    /* A stopped camera's last recording is committed before we answer, so
     * that its footage can be deleted next; bounded, so that a storage
     * directory that does not answer cannot hold the caller (the control
     * socket, a web request) for ever. */
    if (stopped) {
        struct reel_err e2 = { "" };
        if (reel_store_sync_within(r->store, REEL_RECORDER_APPLY_TIMEOUT_NS, &e2) < 0)
            return reel_err_set(err, ETIMEDOUT, "camera %s: stopped, but its last recording is not durable yet: %s",
                                name, e2.msg);
    }
    return 0;
}

int reel_recorder_camera_status(struct reel_recorder *r, int64_t camera_id, struct reel_camera_status *ret)
{
    struct reel_hub_state hs;
    int e = reel_hub_status_get(r->hub, camera_id, &hs);
    if (e < 0 || strcmp(hs.state, "disabled") == 0)
        return -ENOENT;
    from_hub_state(&hs, ret);
    return 0;
}

static int http_changed(void *opaque, const char *name, struct reel_err *err)
{
    return reel_recorder_camera_changed(opaque, name, err);
}

static int http_status(void *opaque, int64_t camera_id, struct reel_camera_status *ret)
{
    return reel_recorder_camera_status(opaque, camera_id, ret);
}

/* A camera test, on the calling (worker) thread with a private loop: never
 * the recorder's loop. At most max at once. */
static int http_probe(void *opaque, const struct reel_camera *row, const char *password, int64_t deadline_ns,
                      unsigned max, struct reel_http_probe *ret)
{
    struct reel_recorder *r = opaque;
    if (__atomic_add_fetch(&r->probes, 1, __ATOMIC_ACQ_REL) > (int)max) {
        __atomic_sub_fetch(&r->probes, 1, __ATOMIC_ACQ_REL);
        return -EBUSY;
    }
    int rc = reel_probe_camera(r->cfg.store.clock, r->log, row, password, deadline_ns, ret);
    __atomic_sub_fetch(&r->probes, 1, __ATOMIC_ACQ_REL);
    return rc;
}

/* The control socket's status: one JSON line per camera of the database,
 * with its live state (or "not running"). */
static int control_status(void *opaque, struct reel_buf *out)
{
    struct reel_recorder *r = opaque;
    struct reel_camera *cams = NULL;
    size_t n = 0;
    struct reel_err err = { "" };
    pthread_mutex_lock(&r->db_mu);
    int e = reel_store_camera_list(r->rstore, &cams, &n, &err);
    pthread_mutex_unlock(&r->db_mu);
    if (e < 0)
        return e;
    for (size_t i = 0; i < n && e == 0; i++) {
        struct reel_hub_state hs;
        bool have = reel_hub_status_get(r->hub, cams[i].id, &hs) == 0;
        const char *idle = cams[i].disabled ? "disabled" : "not running";
        if (cams[i].kind == REEL_STREAM_AUDIO) {   /* recorded by its camera's streamer (docs/audio.md) */
            idle = "audio off";
            for (size_t k = 0; k < n; k++)
                if (cams[k].id == cams[i].parent_id && cams[k].audio)
                    idle = "with camera";
        }
        json_t *o = json_pack("{s:I, s:s, s:b, s:s, s:b, s:s, s:f, s:f, s:I}", "id", (json_int_t)cams[i].id,
                              "name", cams[i].name, "enabled", !cams[i].disabled, "state",
                              have ? hs.state : idle,
                              "connected", have && hs.connected, "last_error", have ? hs.last_error : "",
                              "fps", have ? hs.fps : 0.0, "bitrate_bps", have ? hs.bitrate_bps : 0.0,
                              "updated90k", (json_int_t)(have ? hs.updated90k : 0));
        if (o)
            json_object_set_new(o, "udp_foreign_dropped", json_integer(have ? (json_int_t)hs.udp_foreign : 0));
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s) {
            e = -ENOMEM;
            break;
        }
        e = reel_buf_append(out, s, strlen(s));
        if (e == 0)
            e = reel_buf_append(out, "\n", 1);
        free(s);
    }
    free(cams);
    return e;
}

static int control_changed(void *opaque, const char *name, struct reel_err *err)
{
    return reel_recorder_camera_changed(opaque, name, err);
}

/* ---- lifetime ---- */

int reel_recorder_new(struct reel_recorder **ret, const struct reel_recorder_cfg *cfg, struct reel_err *err)
{
    struct reel_recorder *r = calloc(1, sizeof(*r));
    if (!r)
        return reel_err_set(err, ENOMEM, "out of memory");
    r->cfg = *cfg;
    r->log = cfg->log;
    r->q_io.fd = -1;
    r->q_tail = &r->q_head;
    pthread_mutex_init(&r->db_mu, NULL);
    pthread_mutex_init(&r->q_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->q_cv, &ca);
    pthread_condattr_destroy(&ca);
    r->ops = (struct reel_control_ops){ .camera_changed = control_changed, .status = control_status, .opaque = r };
    r->http = (struct reel_http_recorder){ .camera_changed = http_changed, .camera_status = http_status, .camera_probe = http_probe,
                                           .opaque = r };
    int e = reel_hub_new(&r->hub);
    if (e < 0) {
        reel_err_set(err, -e, "out of memory");
        goto fail;
    }
    struct reel_store_cfg sc = cfg->store;
    sc.mode = REEL_STORE_RECORD;
    sc.on_event = store_event;
    sc.on_recording = store_recording;
    sc.on_trouble = store_trouble;
    sc.opaque = r;
    e = reel_store_open(&r->store, &sc, err);
    if (e < 0)
        goto fail;
    struct reel_store_cfg rc = { .datadir = cfg->store.datadir, .mode = REEL_STORE_READ, .clock = cfg->store.clock };
    e = reel_store_open(&r->rstore, &rc, err);
    if (e < 0)
        goto fail;
    e = reel_loop_new(&r->loop, cfg->store.clock);
    if (e < 0) {
        reel_err_set(err, -e, "cannot create the event loop: %s", strerror(-e));
        goto fail;
    }
    /* Name lookups off the loop, at most 4 at once for all cameras. */
    if (reel_resolver_new(&r->resolver, r->loop, 4) < 0)
        reel_log(r->log, REEL_LOG_WARN, "cannot start the name resolver; each camera uses its own");
    r->cfg.cam_opts.resolver = r->resolver;
    r->q_io = (struct reel_io){ .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .cb = queue_cb, .opaque = r };
    if (r->q_io.fd < 0) {
        e = reel_err_set(err, errno, "eventfd: %s", strerror(errno));
        goto fail;
    }
    e = reel_loop_io_add(r->loop, &r->q_io, EPOLLIN);
    if (e < 0) {
        reel_err_set(err, -e, "cannot watch the command queue: %s", strerror(-e));
        goto fail;
    }
    struct reel_camera *cams = NULL;
    size_t n = 0;
    e = reel_store_camera_list(r->store, &cams, &n, err);
    if (e < 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (cams[i].kind == REEL_STREAM_AUDIO)
            continue;   /* recorded by its camera's streamer, from the camera's own session */
        char pass[PASSWORD_MAX];
        bool has = reel_store_camera_password(r->store, cams[i].id, pass, sizeof(pass)) == 0;
        struct rcam *x;
        int ae = rcam_add(r, &cams[i], has ? pass : NULL, &x);
        explicit_bzero(pass, sizeof(pass));
        if (ae < 0)
            reel_log(r->log, REEL_LOG_ERROR, "camera %s: cannot start: %s", cams[i].name, strerror(-ae));
    }
    free(cams);
    reel_timer_init(&r->status_timer, status_cb, r);
    *ret = r;
    return 0;
fail:
    reel_recorder_free(r);
    return e;
}

struct reel_loop *reel_recorder_loop(struct reel_recorder *r) { return r->loop; }
struct reel_hub *reel_recorder_hub(struct reel_recorder *r) { return r->hub; }
const struct reel_http_recorder *reel_recorder_http(struct reel_recorder *r) { return &r->http; }
struct reel_events *reel_recorder_events(struct reel_recorder *r) { return events_of(r); }

void reel_recorder_set_events(struct reel_recorder *r, struct reel_events *events)
{
    __atomic_store_n(&r->events, events, __ATOMIC_RELEASE);
}

size_t reel_recorder_ncams(const struct reel_recorder *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ncams; i++)
        n += !r->cams[i]->cfg.disabled;
    return n;
}

int reel_recorder_run(struct reel_recorder *r)
{
    for (size_t i = 0; i < r->ncams; i++) {
        struct reel_err err = { "" };
        if (!r->cams[i]->cfg.disabled)
            rcam_start(r->cams[i], &err);
    }
    int e = reel_loop_timer_set(r->loop, &r->status_timer, reel_loop_now(r->loop) + REEL_NS_PER_SEC);
    if (e < 0)
        reel_log(r->log, REEL_LOG_ERROR, "cannot arm the status timer: %s", strerror(-e));
    pthread_mutex_lock(&r->q_mu);
    r->running = true;
    pthread_mutex_unlock(&r->q_mu);
    if (!r->cfg.no_control) {
        struct reel_err err = { "" };
        e = reel_control_start(&r->control, r->cfg.store.datadir, &r->ops, r->log, &err);
        if (e < 0)
            reel_log(r->log, REEL_LOG_ERROR, "%s; camera changes take effect at the next start", err.msg);
    }
    int res = reel_loop_run(r->loop);
    reel_log(r->log, REEL_LOG_INFO, "stopping");
    pthread_mutex_lock(&r->q_mu);
    r->running = false;
    pthread_mutex_unlock(&r->q_mu);
    reel_control_stop(r->control);
    r->control = NULL;
    /* Requests queued but not applied are refused. */
    pthread_mutex_lock(&r->q_mu);
    while (r->q_head) {
        struct cmd *c = r->q_head;
        r->q_head = c->next;
        c->result = -ESHUTDOWN;
        snprintf(c->err, sizeof(c->err), "the recorder is stopping");
        c->done = true;
        if (--c->refs == 0)
            free(c);
    }
    r->q_tail = &r->q_head;
    pthread_cond_broadcast(&r->q_cv);
    pthread_mutex_unlock(&r->q_mu);
    reel_loop_timer_cancel(r->loop, &r->status_timer);
    for (size_t i = 0; i < r->ncams; i++) {
        if (rcam_stop(r->cams[i]))
            publish_own_state(r->cams[i], "stopped", NULL);
    }
    return res;
}

void reel_recorder_free(struct reel_recorder *r)
{
    if (!r)
        return;
    while (r->ncams > 0)
        rcam_remove(r, r->ncams - 1);
    free(r->cams);
    reel_resolver_free(r->resolver);    /* after every camera (and its lookups) is gone */
    /* The syncer may publish recording events until the store is closed. */
    reel_store_close(r->store);
    reel_store_close(r->rstore);
    if (r->q_io.fd >= 0) {
        if (r->loop)
            reel_loop_io_del(r->loop, &r->q_io);
        close(r->q_io.fd);
    }
    reel_loop_free(r->loop);
    reel_hub_free(r->hub);
    pthread_cond_destroy(&r->q_cv);
    pthread_mutex_destroy(&r->q_mu);
    pthread_mutex_destroy(&r->db_mu);
    free(r);
}

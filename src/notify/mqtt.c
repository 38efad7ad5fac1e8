/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * MQTT and Home Assistant discovery (mqtt.h) with libmosquitto.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <mosquitto.h>

#include "db/db.h"
#include "hub/hub.h"
#include "notify/mqtt.h"
#include "notify/status.h"
#include "events/events.h"

#define POLL_NS (2 * REEL_NS_PER_SEC)    /* settings, cameras and hub status */
#define NOTE_MAX 8192

struct settings {
    char url[REEL_MQTT_URL_MAX];
    char user[REEL_MQTT_USER_MAX];
    char password[REEL_MQTT_PASSWORD_MAX];
    char prefix[REEL_MQTT_PREFIX_MAX];
    char dprefix[REEL_MQTT_PREFIX_MAX];
};

struct cam {
    int64_t id;
    char name[64];
    bool online, motion;
    bool told_online, told_motion, told;   /* what the broker last got */
};

struct note {
    char type[12];
    char kind[REEL_EVENT_KIND_MAX];
    char camera[64];
    char *body;
};

struct reel_mqtt {
    char datadir[4096];
    const struct reel_clock *clock;
    const struct reel_logger *log;
    struct reel_hub *hub;
    struct reel_alerts_status *status;
    char broker[REEL_MQTT_HOST_MAX + 8];   /* "host:port" of the current client */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct note *q;
    size_t qmax, head, n;
    bool stop;
    bool up, announce;          /* set by libmosquitto's thread (on_connect, on_disconnect) */
    pthread_t th;
    /* the thread's */
    sqlite3 *db;
    struct settings cur;
    struct mosquitto *mq;
    struct cam cams[REEL_MQTT_CAMERAS_MAX];
    size_t ncams;
    struct cam gone[REEL_MQTT_CAMERAS_MAX];   /* removed cameras whose discovery must be cleared */
    size_t ngone;
    int64_t attempt_ns;         /* monotonic time of the last connection attempt */
    int64_t backoff_ns;         /* the wait before the next one while not connected */
    unsigned attempts;          /* since the last success (the first few are logged) */
};

/* ---- the listener ---- */

void reel_mqtt_on_note(void *opaque, const struct reel_event_note *n)
{
    struct reel_mqtt *m = opaque;
    char *body = reel_event_note_json(n);
    if (!body)
        return;
    if (strlen(body) >= NOTE_MAX) {
        free(body);
        return;
    }
    pthread_mutex_lock(&m->mu);
    if (m->n == m->qmax) {
        free(m->q[m->head].body);
        m->head = (m->head + 1) % m->qmax;
        m->n--;
    }
    struct note *e = &m->q[(m->head + m->n) % m->qmax];
    snprintf(e->type, sizeof(e->type), "%s", n->type);
    snprintf(e->kind, sizeof(e->kind), "%s", n->ev->kind);
    snprintf(e->camera, sizeof(e->camera), "%s", n->ev->camera);
    e->body = body;
    m->n++;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

/* ---- libmosquitto's thread ---- */

static void on_connect(struct mosquitto *mq, void *opaque, int rc)
{
    struct reel_mqtt *m = opaque;
    if (rc != 0) {
        reel_log(m->log, REEL_LOG_WARN, "mqtt: the broker refused the connection: %s", mosquitto_connack_string(rc));
        reel_alerts_status_mqtt(m->status, "error", m->broker, mosquitto_connack_string(rc),
                                reel_clock_wall(m->clock), -1);
        return;
    }
    reel_alerts_status_mqtt(m->status, "connected", m->broker, "", reel_clock_wall(m->clock), -1);
    pthread_mutex_lock(&m->mu);
    m->up = true;
    m->announce = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void on_disconnect(struct mosquitto *mq, void *opaque, int rc)
{
    struct reel_mqtt *m = opaque;
    pthread_mutex_lock(&m->mu);
    bool was = m->up;
    m->up = false;
    pthread_mutex_unlock(&m->mu);
    if (was && rc != 0) {
        reel_log(m->log, REEL_LOG_WARN, "mqtt: connection to the broker lost (%s); reconnecting",
                 mosquitto_strerror(rc));
        reel_alerts_status_mqtt(m->status, "connecting", m->broker, "connection lost", reel_clock_wall(m->clock), -1);
    }
}

/* ---- the thread ---- */

static bool stopping(struct reel_mqtt *m)
{
    pthread_mutex_lock(&m->mu);
    bool s = m->stop;
    pthread_mutex_unlock(&m->mu);
    return s;
}

static void setting(sqlite3 *db, const char *key, const char *def, char *out, size_t cap)
{
    sqlite3_stmt *st;
    snprintf(out, cap, "%s", def);
    if (sqlite3_prepare_v2(db, "SELECT value FROM setting WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static void read_settings(struct reel_mqtt *m, struct settings *s)
{
    setting(m->db, "mqtt.url", "", s->url, sizeof(s->url));
    setting(m->db, "mqtt.user", "", s->user, sizeof(s->user));
    setting(m->db, "mqtt.password", "", s->password, sizeof(s->password));
    setting(m->db, "mqtt.prefix", "reel", s->prefix, sizeof(s->prefix));
    setting(m->db, "mqtt.discovery_prefix", "homeassistant", s->dprefix, sizeof(s->dprefix));
    if (!reel_mqtt_prefix_valid(s->prefix))
        snprintf(s->prefix, sizeof(s->prefix), "reel");
    if (!reel_mqtt_prefix_valid(s->dprefix))
        snprintf(s->dprefix, sizeof(s->dprefix), "homeassistant");
}

static int pub(struct reel_mqtt *m, const char *topic, const char *payload, bool retain)
{
    if (!m->mq)
        return -ENOTCONN;
    int rc = mosquitto_publish(m->mq, NULL, topic, (int)strlen(payload), payload, 1, retain);
    return rc == MOSQ_ERR_SUCCESS ? 0 : -EIO;
}

static void pub_cam(struct reel_mqtt *m, struct cam *c, bool force)
{
    char topic[REEL_MQTT_PREFIX_MAX + 96];
    if (force || !c->told || c->told_online != c->online) {
        snprintf(topic, sizeof(topic), "%s/%s/status", m->cur.prefix, c->name);
        if (pub(m, topic, c->online ? "online" : "offline", true) == 0)
            c->told_online = c->online;
    }
    if (force || !c->told || c->told_motion != c->motion) {
        snprintf(topic, sizeof(topic), "%s/%s/motion", m->cur.prefix, c->name);
        if (pub(m, topic, c->motion ? "ON" : "OFF", true) == 0)
            c->told_motion = c->motion;
    }
    c->told = true;
}

/* The discovery config of one camera's sensor (what: "motion" or "connectivity"). */
static void pub_discovery(struct reel_mqtt *m, const char *cam, const char *what, bool clear)
{
    char topic[2 * REEL_MQTT_PREFIX_MAX + 128], state[REEL_MQTT_PREFIX_MAX + 96], avail[REEL_MQTT_PREFIX_MAX + 16];
    char uid[96], dev[80];
    snprintf(topic, sizeof(topic), "%s/binary_sensor/reel_%s/%s/config", m->cur.dprefix, cam, what);
    if (clear) {
        pub(m, topic, "", true);
        return;
    }
    bool motion = strcmp(what, "motion") == 0;
    snprintf(state, sizeof(state), "%s/%s/%s", m->cur.prefix, cam, motion ? "motion" : "status");
    snprintf(avail, sizeof(avail), "%s/availability", m->cur.prefix);
    snprintf(uid, sizeof(uid), "reel_%s_%s", cam, what);
    snprintf(dev, sizeof(dev), "reel_%s", cam);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:[s], s:s, s:s, s:s}}", "name",
                          motion ? "Motion" : "Connection", "unique_id", uid, "state_topic", state, "payload_on",
                          motion ? "ON" : "online", "payload_off", motion ? "OFF" : "offline", "device_class",
                          what, "availability_topic", avail, "payload_available", "online",
                          "payload_not_available", "offline", "device", "identifiers", dev, "name", cam,
                          "manufacturer", "Reel", "model", "Reel camera");
    if (j && !motion)
        json_object_set_new(j, "entity_category", json_string("diagnostic"));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s)
        pub(m, topic, s, true);
    free(s);
}

static void announce(struct reel_mqtt *m)
{
    char topic[REEL_MQTT_PREFIX_MAX + 16];
    snprintf(topic, sizeof(topic), "%s/availability", m->cur.prefix);
    pub(m, topic, "online", true);
    for (size_t i = 0; i < m->ngone; i++) {
        pub_discovery(m, m->gone[i].name, "motion", true);
        pub_discovery(m, m->gone[i].name, "connectivity", true);
    }
    m->ngone = 0;
    for (size_t i = 0; i < m->ncams; i++) {
        pub_discovery(m, m->cams[i].name, "motion", false);
        pub_discovery(m, m->cams[i].name, "connectivity", false);
        pub_cam(m, &m->cams[i], true);
    }
    reel_alerts_status_mqtt(m->status, "connected", m->broker, NULL, reel_clock_wall(m->clock), (int64_t)m->ncams);
    reel_log(m->log, REEL_LOG_INFO, "mqtt: announced %zu camera%s under %s/ (discovery under %s/)", m->ncams,
             m->ncams == 1 ? "" : "s", m->cur.prefix, m->cur.dprefix);
}

static void disconnect(struct reel_mqtt *m)
{
    if (!m->mq)
        return;
    char topic[REEL_MQTT_PREFIX_MAX + 16];
    snprintf(topic, sizeof(topic), "%s/availability", m->cur.prefix);
    pthread_mutex_lock(&m->mu);
    bool up = m->up;
    pthread_mutex_unlock(&m->mu);
    if (up) {
        int mid = 0;
        mosquitto_publish(m->mq, &mid, topic, 7, "offline", 1, true);
    }
    mosquitto_disconnect(m->mq);
    /* connected: the thread ends after sending the DISCONNECT; otherwise
     * it may be waiting to reconnect and is cancelled */
    mosquitto_loop_stop(m->mq, !up);
    mosquitto_destroy(m->mq);
    m->mq = NULL;
    pthread_mutex_lock(&m->mu);
    m->up = false;
    pthread_mutex_unlock(&m->mu);
    for (size_t i = 0; i < m->ncams; i++)
        m->cams[i].told = false;
}

static void connect_broker(struct reel_mqtt *m)
{
    char host[REEL_MQTT_HOST_MAX];
    int port;
    bool tls;
    if (reel_mqtt_url_parse(m->cur.url, host, sizeof(host), &port, &tls) < 0) {
        reel_log(m->log, REEL_LOG_ERROR, "mqtt: mqtt.url is not mqtt://host[:port]; MQTT stays off");
        reel_alerts_status_mqtt(m->status, "error", "", "mqtt.url is not mqtt://host[:port]",
                                reel_clock_wall(m->clock), -1);
        return;
    }
    snprintf(m->broker, sizeof(m->broker), "%s:%d", host, port);
    char id[REEL_MQTT_PREFIX_MAX + 16];
    snprintf(id, sizeof(id), "reel-%s", m->cur.prefix);
    for (char *c = id; *c; c++)
        if (*c == '/')
            *c = '-';
    struct mosquitto *mq = mosquitto_new(id, true, m);
    if (!mq) {
        reel_log(m->log, REEL_LOG_ERROR, "mqtt: out of memory");
        return;
    }
    char will[REEL_MQTT_PREFIX_MAX + 16];
    snprintf(will, sizeof(will), "%s/availability", m->cur.prefix);
    mosquitto_int_option(mq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_will_set(mq, will, 7, "offline", 1, true);
    if (m->cur.user[0])
        mosquitto_username_pw_set(mq, m->cur.user, m->cur.password[0] ? m->cur.password : NULL);
    if (tls)
        mosquitto_tls_set(mq, NULL, "/etc/ssl/certs", NULL, NULL, NULL);
    mosquitto_connect_callback_set(mq, on_connect);
    mosquitto_disconnect_callback_set(mq, on_disconnect);
    mosquitto_reconnect_delay_set(mq, 1, 60, true);
    int rc = mosquitto_connect_async(mq, host, port, 30);
    m->attempts++;
    const char *why = rc == MOSQ_ERR_SUCCESS ? NULL : rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
    if (why && m->attempts <= 3)
        reel_log(m->log, REEL_LOG_WARN, "mqtt: cannot reach %s:%d (%s); retrying with backoff up to 60 s", host,
                 port, why);
    reel_alerts_status_mqtt(m->status, "connecting", m->broker, why, reel_clock_wall(m->clock), -1);
    rc = mosquitto_loop_start(mq);
    if (rc != MOSQ_ERR_SUCCESS) {
        reel_log(m->log, REEL_LOG_ERROR, "mqtt: cannot start its thread: %s", mosquitto_strerror(rc));
        mosquitto_destroy(mq);
        return;
    }
    m->mq = mq;
    if (m->attempts == 1)
        reel_log(m->log, REEL_LOG_INFO, "mqtt: connecting to %s:%d%s", host, port, tls ? " (TLS)" : "");
}

static struct cam *cam_named(struct reel_mqtt *m, const char *name)
{
    for (size_t i = 0; i < m->ncams; i++)
        if (strcmp(m->cams[i].name, name) == 0)
            return &m->cams[i];
    return NULL;
}

/* The camera table; true when the list changed. New cameras start online
 * unless the hub says otherwise. */
static bool read_cameras(struct reel_mqtt *m)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(m->db, "SELECT id, name FROM camera WHERE kind = 'main' ORDER BY name LIMIT ?", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_int(st, 1, REEL_MQTT_CAMERAS_MAX);
    struct cam *next = calloc(REEL_MQTT_CAMERAS_MAX, sizeof(*next));
    if (!next) {
        sqlite3_finalize(st);
        return false;
    }
    size_t n = 0;
    while (n < REEL_MQTT_CAMERAS_MAX && sqlite3_step(st) == SQLITE_ROW) {
        next[n].id = sqlite3_column_int64(st, 0);
        snprintf(next[n].name, sizeof(next[n].name), "%s", (const char *)sqlite3_column_text(st, 1));
        const struct cam *old = cam_named(m, next[n].name);
        if (old)
            next[n] = *old;
        else
            next[n].online = true;
        next[n].id = sqlite3_column_int64(st, 0);
        n++;
    }
    sqlite3_finalize(st);
    bool changed = n != m->ncams;
    for (size_t i = 0; i < m->ncams; i++) {
        bool found = false;
        for (size_t k = 0; k < n && !found; k++)
            found = strcmp(next[k].name, m->cams[i].name) == 0;
        if (!found) {
            changed = true;
            if (m->ngone < REEL_MQTT_CAMERAS_MAX)
                m->gone[m->ngone++] = m->cams[i];
        }
    }
    memcpy(m->cams, next, n * sizeof(*next));
    m->ncams = n;
    free(next);
    return changed;
}

/* The hub's view of who is connected. */
static void read_hub(struct reel_mqtt *m)
{
    if (!m->hub)
        return;
    struct reel_hub_state *v = NULL;
    size_t n = 0;
    if (reel_hub_status_list(m->hub, &v, &n) < 0)
        return;
    for (size_t i = 0; i < m->ncams; i++)
        for (size_t k = 0; k < n; k++)
            if (v[k].camera_id == m->cams[i].id)
                m->cams[i].online = v[k].connected;
    free(v);
}

static void handle_note(struct reel_mqtt *m, const struct note *e, bool up)
{
    struct cam *c = e->camera[0] ? cam_named(m, e->camera) : NULL;
    if (c && strcmp(e->kind, REEL_EVENT_MOTION) == 0 && strcmp(e->type, "instant") != 0)
        c->motion = strcmp(e->type, "start") == 0;
    if (c && strcmp(e->kind, REEL_EVENT_CAMERA_OFFLINE) == 0 && strcmp(e->type, "instant") != 0)
        c->online = strcmp(e->type, "start") != 0;
    if (up) {
        char topic[REEL_MQTT_PREFIX_MAX + 16];
        snprintf(topic, sizeof(topic), "%s/events", m->cur.prefix);
        pub(m, topic, e->body, false);
        if (c)
            pub_cam(m, c, false);
    }
}

static void drain(struct reel_mqtt *m, bool up)
{
    for (;;) {
        struct note e;
        pthread_mutex_lock(&m->mu);
        bool any = m->n > 0;
        if (any) {
            e = m->q[m->head];
            m->head = (m->head + 1) % m->qmax;
            m->n--;
        }
        pthread_mutex_unlock(&m->mu);
        if (!any)
            return;
        handle_note(m, &e, up);
        free(e.body);
    }
}

static void wait_ns(struct reel_mqtt *m, int64_t d)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * REEL_NS_PER_SEC + ts.tv_nsec + d;
    ts.tv_sec = t / REEL_NS_PER_SEC;
    ts.tv_nsec = t % REEL_NS_PER_SEC;
    pthread_mutex_lock(&m->mu);
    if (!m->stop && m->n == 0 && !(m->announce && m->up))
        pthread_cond_timedwait(&m->cv, &m->mu, &ts);
    pthread_mutex_unlock(&m->mu);
}

static void *run(void *opaque)
{
    struct reel_mqtt *m = opaque;
    int64_t last_poll = INT64_MIN;
    while (!stopping(m)) {
        if (!m->db) {
            struct reel_err err = { "" };
            if (reel_db_open(&m->db, m->datadir, REEL_DB_READ, &err) < 0) {
                reel_log(m->log, REEL_LOG_ERROR, "mqtt: %s; retrying in 5 s", err.msg);
                m->db = NULL;
                wait_ns(m, 5 * REEL_NS_PER_SEC);
                continue;
            }
        }
        int64_t now = reel_clock_mono(m->clock);
        bool cams_changed = false;
        if (last_poll == INT64_MIN || now - last_poll >= POLL_NS || now < last_poll) {
            last_poll = now;
            struct settings s;
            read_settings(m, &s);
            if (memcmp(&s, &m->cur, sizeof(s)) != 0) {
                disconnect(m);
                m->cur = s;
                m->attempts = 0;
                m->backoff_ns = REEL_NS_PER_SEC;
                if (s.url[0]) {
                    connect_broker(m);
                    m->attempt_ns = now;
                } else
                    reel_alerts_status_mqtt(m->status, "off", "", "", reel_clock_wall(m->clock), 0);
            }
            cams_changed = read_cameras(m);
            read_hub(m);
        }
        /* Not connected (the first attempt failed, or libmosquitto's own
         * reconnection has not succeeded): a new client after a backoff of
         * 1 s doubling to 60 s. */
        pthread_mutex_lock(&m->mu);
        bool is_up = m->up;
        pthread_mutex_unlock(&m->mu);
        if (is_up) {
            m->backoff_ns = REEL_NS_PER_SEC;
            m->attempts = 0;
        } else if (m->cur.url[0] && now - m->attempt_ns >= m->backoff_ns) {
            disconnect(m);
            connect_broker(m);
            m->attempt_ns = now;
            m->backoff_ns = m->backoff_ns * 2 > 60 * REEL_NS_PER_SEC ? 60 * REEL_NS_PER_SEC : m->backoff_ns * 2;
        }
        pthread_mutex_lock(&m->mu);
        bool up = m->up && m->mq;
        bool ann = up && (m->announce || cams_changed);
        if (ann)
            m->announce = false;
        pthread_mutex_unlock(&m->mu);
        if (ann)
            announce(m);
        drain(m, up);
        if (up)
            for (size_t i = 0; i < m->ncams; i++)
                pub_cam(m, &m->cams[i], false);
        wait_ns(m, POLL_NS);
    }
    disconnect(m);
    return NULL;
}

int reel_mqtt_new(struct reel_mqtt **ret, const struct reel_mqtt_cfg *cfg, struct reel_err *err)
{
    struct reel_mqtt *m = calloc(1, sizeof(*m));
    if (!m)
        return reel_err_set(err, ENOMEM, "mqtt: out of memory");
    snprintf(m->datadir, sizeof(m->datadir), "%s", cfg->datadir);
    m->clock = cfg->clock ? cfg->clock : reel_clock_system();
    m->log = cfg->log;
    m->hub = cfg->hub;
    m->status = cfg->status;
    m->qmax = cfg->queue_max ? cfg->queue_max : 1024;
    m->q = calloc(m->qmax, sizeof(*m->q));
    if (!m->q) {
        free(m);
        return reel_err_set(err, ENOMEM, "mqtt: out of memory");
    }
    mosquitto_lib_init();
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&m->mu, NULL);
    int r = pthread_create(&m->th, NULL, run, m);
    if (r != 0) {
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        free(m->q);
        free(m);
        return reel_err_set(err, r, "mqtt: cannot start a thread");
    }
    *ret = m;
    return 0;
}

void reel_mqtt_free(struct reel_mqtt *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->th, NULL);
    for (size_t i = 0; i < m->n; i++)
        free(m->q[(m->head + i) % m->qmax].body);
    if (m->db)
        sqlite3_close(m->db);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m->q);
    free(m);
    mosquitto_lib_cleanup();
}

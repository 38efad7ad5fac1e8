/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Webhooks as a resource (issue 15; notify/whdb.h, docs/alerts.md), all
 * ADMIN with the CSRF token:
 *   GET    /api/webhooks                       the list (never the secrets)
 *   POST   /api/webhooks                       {"name","url","kinds":[..]|["*"],"secret"?,"enabled"?}
 *                                              -> 201 {"webhook":{..},"secret":"..."} (the only time it is shown)
 *   PATCH  /api/webhooks/{webhook}             {"name"?,"url"?,"kinds"?,"enabled"?,"secret"?}
 *   DELETE /api/webhooks/{webhook}             the webhook and its undelivered notes
 *   POST   /api/webhooks/{webhook}/test        queues a test note for it alone -> 202 {"delivery":N}
 *   GET    /api/webhooks/{webhook}/deliveries  its outbox (undelivered notes, oldest first, at most 100)
 *   GET    /api/alerts/status                  the MQTT connection's state (notify/status.h)
 * Changes are audited (webhook.add, webhook.change, webhook.delete,
 * webhook.test) with the name, the URL's scheme://host[:port] (a chat
 * service's hook URL holds a token in its path) and kinds, never the secret. Each
 * request opens its own connection to reel.db (admin routes are rare; the
 * delivery thread reads the same tables).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "db/db.h"
#include "http/body.h"
#include "events/events.h"
#include "notify/status.h"
#include "notify/whdb.h"

#define DELIVERIES_MAX 100

static json_t *kinds_json(const char *kinds)
{
    json_t *a = json_array();
    for (const char *p = kinds; *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n)
            json_array_append_new(a, json_stringn(p, n));
        p += n + (c ? 1 : 0);
    }
    return a;
}

static json_t *webhook_json(const struct reel_webhook *w)
{
    return json_pack("{s:I, s:s, s:s, s:o, s:b, s:o, s:I}", "id", (json_int_t)w->id, "name", w->name, "url", w->url,
                     "kinds", kinds_json(w->kinds), "enabled", w->enabled, "created",
                     reel_http_json_time(reel_ns_to_90k(w->created_ns)), "pending", (json_int_t)w->pending);
}

/* For the audit log: what an administrator set, without the secret, and
 * the URL cut to scheme://host[:port] (auditors read the log; chat
 * services put a token in the path of their incoming-hook URLs). */
static json_t *audit_json(const struct reel_webhook *w)
{
    char origin[REEL_WEBHOOK_URL_MAX] = "?";
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, w->url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
            snprintf(origin, sizeof(origin), "%s://%s:%s", scheme, host, port);
        else
            snprintf(origin, sizeof(origin), "%s://%s", scheme, host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return json_pack("{s:I, s:s, s:s, s:o, s:b}", "id", (json_int_t)w->id, "name", w->name, "url", origin, "kinds",
                     kinds_json(w->kinds), "enabled", w->enabled);
}

static enum MHD_Result db_fail(struct reel_http_req *r, int rc, const struct reel_err *err)
{
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such webhook");
    if (rc == -EEXIST)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "a webhook of that name exists");
    if (rc == -ENOSPC)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "at most %d webhooks", REEL_WEBHOOKS_MAX);
    return reel_api_read_error(r, rc, err, "webhooks");
}

static int open_db(struct reel_http_req *r, sqlite3 **ret, struct reel_err *err)
{
    return reel_db_open(ret, r->cfg->datadir, REEL_DB_WRITE, err);
}

/* The {webhook} segment: a positive decimal id. */
static bool webhook_id(struct reel_http_req *r, int64_t *ret)
{
    const char *s = r->name;
    if (!s[0] || strlen(s) > 18)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    *ret = strtoll(s, NULL, 10);
    return *ret > 0;
}

static json_t *body_object(struct reel_http_req *r, enum MHD_Result *res)
{
    if (r->body_too_big) {
        *res = reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
        return NULL;
    }
    json_error_t jerr;
    json_t *j = r->body ? json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object");
        return NULL;
    }
    return j;
}

/* The body's fields into w (those present); *ret_secret when a secret was
 * given. 0, or -EINVAL with *why. */
static int fields(json_t *j, struct reel_webhook *w, bool *ret_secret, const char **why)
{
    const char *key;
    json_t *v;
    *ret_secret = false;
    json_object_foreach(j, key, v) {
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(v) || reel_webhook_check_name(json_string_value(v), why) < 0) {
                *why = "name: 1 to 63 bytes without control characters";
                return -EINVAL;
            }
            snprintf(w->name, sizeof(w->name), "%s", json_string_value(v));
        } else if (strcmp(key, "url") == 0) {
            if (!json_is_string(v) || reel_webhook_check_url(json_string_value(v), why) < 0) {
                *why = "url: an http:// or https:// URL of at most 1023 bytes";
                return -EINVAL;
            }
            snprintf(w->url, sizeof(w->url), "%s", json_string_value(v));
        } else if (strcmp(key, "secret") == 0) {
            if (!json_is_string(v) || reel_webhook_check_secret(json_string_value(v), why) < 0) {
                *why = "secret: 16 to 128 printable ASCII characters without spaces";
                return -EINVAL;
            }
            snprintf(w->secret, sizeof(w->secret), "%s", json_string_value(v));
            *ret_secret = true;
        } else if (strcmp(key, "enabled") == 0) {
            if (!json_is_boolean(v)) {
                *why = "enabled: true or false";
                return -EINVAL;
            }
            w->enabled = json_is_true(v);
        } else if (strcmp(key, "kinds") == 0) {
            size_t n = json_array_size(v);
            *why = "kinds: 1 to 16 of motion, camera.offline, storage.error, disk.full, retention.blocked, "
                   "lock.blocking, or [\"*\"]";
            if (!json_is_array(v) || n == 0 || n > REEL_WEBHOOK_KINDS_N)
                return -EINVAL;
            char out[REEL_WEBHOOK_KINDS_MAX] = "";
            size_t len = 0;
            for (size_t i = 0; i < n; i++) {
                const char *k = json_string_value(json_array_get(v, i));
                if (!k || !reel_webhook_kind_known(k) || (strcmp(k, "*") == 0 && n != 1))
                    return -EINVAL;
                if (reel_webhook_kinds_match(out, k) && out[0])
                    continue;   /* a repeat */
                int m = snprintf(out + len, sizeof(out) - len, "%s%s", len ? "," : "", k);
                if (m < 0 || (size_t)m >= sizeof(out) - len)
                    return -EINVAL;
                len += (size_t)m;
            }
            snprintf(w->kinds, sizeof(w->kinds), "%s", out);
        } else {
            *why = "unknown field (expected name, url, kinds, secret, enabled)";
            return -EINVAL;
        }
    }
    return 0;
}

enum MHD_Result reel_api_webhooks_list(struct reel_http_req *r)
{
    sqlite3 *db;
    struct reel_err err = { "" };
    int rc = open_db(r, &db, &err);
    struct reel_webhook *v = NULL;
    size_t n = 0;
    if (rc == 0) {
        rc = reel_webhook_list(db, &v, &n, &err);
        sqlite3_close(db);
    }
    if (rc < 0)
        return db_fail(r, rc, &err);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, webhook_json(&v[i]));
    free(v);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "webhooks", a), NULL);
}

enum MHD_Result reel_api_webhook_add(struct reel_http_req *r)
{
    enum MHD_Result res;
    json_t *j = body_object(r, &res);
    if (!j)
        return res;
    struct reel_webhook *w = calloc(1, sizeof(*w));
    if (!w) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    w->enabled = true;
    bool has_secret;
    const char *why = "";
    int rc = fields(j, w, &has_secret, &why);
    json_decref(j);
    if (rc == 0 && (!w->name[0] || !w->url[0] || !w->kinds[0])) {
        why = "name, url and kinds are required";
        rc = -EINVAL;
    }
    if (rc == 0 && !has_secret && reel_webhook_secret_new(w->secret, sizeof(w->secret)) < 0) {
        free(w);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot make a secret");
    }
    if (rc < 0) {
        free(w);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", why);
    }
    sqlite3 *db;
    struct reel_err err = { "" };
    rc = open_db(r, &db, &err);
    if (rc == 0) {
        rc = reel_webhook_add(db, w, reel_http_wall_ns(r), &err);
        sqlite3_close(db);
    }
    if (rc < 0) {
        free(w);
        return db_fail(r, rc, &err);
    }
    reel_api_audit(r, "webhook.add", NULL, audit_json(w));
    reel_http_log(r, REEL_LOG_INFO, "user %s added webhook %s", r->auth->user, w->name);
    json_t *o = json_pack("{s:o, s:s}", "webhook", webhook_json(w), "secret", w->secret);
    free(w);
    return reel_http_send_json(r, MHD_HTTP_CREATED, o, NULL);
}

enum MHD_Result reel_api_webhook_patch(struct reel_http_req *r)
{
    int64_t id;
    if (!webhook_id(r, &id))
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such webhook");
    enum MHD_Result res;
    json_t *j = body_object(r, &res);
    if (!j)
        return res;
    if (json_object_size(j) == 0) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "nothing to change");
    }
    struct reel_webhook *w = calloc(1, sizeof(*w));
    if (!w) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    sqlite3 *db;
    struct reel_err err = { "" };
    int rc = open_db(r, &db, &err);
    if (rc < 0) {
        json_decref(j);
        free(w);
        return db_fail(r, rc, &err);
    }
    rc = reel_webhook_get(db, id, w, &err);
    bool has_secret = false;
    const char *why = "";
    int fr = rc == 0 ? fields(j, w, &has_secret, &why) : 0;
    json_decref(j);
    if (rc == 0 && fr == 0)
        rc = reel_webhook_update(db, w, has_secret, &err);
    if (rc == 0)
        rc = reel_webhook_get(db, id, w, &err);
    sqlite3_close(db);
    if (rc == 0 && fr < 0) {
        free(w);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", why);
    }
    if (rc < 0) {
        free(w);
        return db_fail(r, rc, &err);
    }
    json_t *a = audit_json(w);
    json_object_set_new(a, "secret_changed", json_boolean(has_secret));
    reel_api_audit(r, "webhook.change", NULL, a);
    reel_http_log(r, REEL_LOG_INFO, "user %s changed webhook %s", r->auth->user, w->name);
    json_t *o = json_pack("{s:o}", "webhook", webhook_json(w));
    free(w);
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

enum MHD_Result reel_api_webhook_delete(struct reel_http_req *r)
{
    int64_t id;
    if (!webhook_id(r, &id))
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such webhook");
    struct reel_webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    sqlite3 *db;
    struct reel_err err = { "" };
    int rc = open_db(r, &db, &err);
    if (rc == 0) {
        rc = reel_webhook_get(db, id, w, &err);
        if (rc == 0)
            rc = reel_webhook_delete(db, id, &err);
        sqlite3_close(db);
    }
    if (rc < 0) {
        free(w);
        return db_fail(r, rc, &err);
    }
    json_t *a = audit_json(w);
    json_object_set_new(a, "pending_dropped", json_integer(w->pending));
    reel_api_audit(r, "webhook.delete", NULL, a);
    reel_http_log(r, REEL_LOG_INFO, "user %s deleted webhook %s", r->auth->user, w->name);
    free(w);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), NULL);
}

enum MHD_Result reel_api_webhook_test(struct reel_http_req *r)
{
    int64_t id;
    if (!webhook_id(r, &id))
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such webhook");
    struct reel_event ev = { .kind = "test", .source = "reel", .start90k = reel_http_wall90k(r) };
    snprintf(ev.detail, sizeof(ev.detail), "a test delivery asked for by %s", r->auth->user);
    const struct reel_event_note note = { .type = "instant", .ev = &ev };
    char *body = reel_event_note_json(&note);
    if (!body)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    struct reel_webhook *w = calloc(1, sizeof(*w));
    sqlite3 *db;
    struct reel_err err = { "" };
    int64_t did = 0;
    int rc = w ? open_db(r, &db, &err) : reel_err_set(&err, ENOMEM, "out of memory");
    if (rc == 0) {
        rc = reel_webhook_get(db, id, w, &err);
        if (rc == 0)
            rc = reel_webhook_outbox_one(db, id, body, reel_http_wall_ns(r), &did, &err);
        sqlite3_close(db);
    }
    free(body);
    if (rc < 0) {
        free(w);
        return db_fail(r, rc, &err);
    }
    reel_api_audit(r, "webhook.test", NULL, audit_json(w));
    free(w);
    return reel_http_send_json(r, MHD_HTTP_ACCEPTED, json_pack("{s:I}", "delivery", (json_int_t)did), NULL);
}

enum MHD_Result reel_api_webhook_deliveries(struct reel_http_req *r)
{
    int64_t id;
    if (!webhook_id(r, &id))
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such webhook");
    sqlite3 *db;
    struct reel_err err = { "" };
    struct reel_webhook w;
    struct reel_webhook_delivery *d = NULL;
    size_t n = 0;
    int rc = open_db(r, &db, &err);
    if (rc == 0) {
        rc = reel_webhook_get(db, id, &w, &err);
        if (rc == 0)
            rc = reel_webhook_outbox_list(db, id, DELIVERIES_MAX, &d, &n, &err);
        sqlite3_close(db);
    }
    if (rc < 0)
        return db_fail(r, rc, &err);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:I, s:s, s:o, s:o, s:i, s:s}", "id", (json_int_t)d[i].id, "kind",
                                           d[i].kind, "created", reel_http_json_time(reel_ns_to_90k(d[i].created_ns)),
                                           "next", reel_http_json_time(reel_ns_to_90k(d[i].next_ns)), "attempts",
                                           d[i].attempts, "last_error", d[i].last_error));
    free(d);
    return reel_http_send_json(r, MHD_HTTP_OK,
                               json_pack("{s:o, s:I}", "deliveries", a, "pending", (json_int_t)w.pending), NULL);
}

enum MHD_Result reel_api_alerts_status(struct reel_http_req *r)
{
    struct reel_alerts_mqtt_view v;
    reel_alerts_status_get(r->cfg->alerts, &v);
    json_t *m = json_pack("{s:s, s:s, s:s, s:o, s:I}", "state", v.state, "broker", v.broker, "error", v.error,
                          "since", v.since_ns ? reel_http_json_time(reel_ns_to_90k(v.since_ns)) : json_null(),
                          "cameras", (json_int_t)v.cameras);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "mqtt", m), NULL);
}

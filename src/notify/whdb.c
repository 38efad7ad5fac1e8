/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Webhook rows and their outbox in reel.db (whdb.h): the checks on input
 * and the SQL, on the caller's connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "db/db.h"
#include "notify/whdb.h"

static const char *const KINDS[] = {
    "motion", "camera.offline", "storage.error", "disk.full", "retention.blocked", "lock.blocking",
};

static bool has_ctl(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

int reel_webhook_check_name(const char *name, const char **why)
{
    size_t n = strlen(name);
    if (n == 0 || n >= REEL_WEBHOOK_NAME_MAX || has_ctl(name)) {
        *why = "name: 1 to 63 bytes without control characters";
        return -EINVAL;
    }
    return 0;
}

int reel_webhook_check_url(const char *url, const char **why)
{
    size_t n = strlen(url);
    *why = "url: an http:// or https:// URL of at most 1023 bytes";
    if (n == 0 || n >= REEL_WEBHOOK_URL_MAX || has_ctl(url) || strchr(url, ' '))
        return -EINVAL;
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return -EINVAL;
    CURLU *h = curl_url();
    if (!h)
        return -ENOMEM;
    char *host = NULL, *scheme = NULL;
    int r = -EINVAL;
    if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0))
        r = 0;
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(h);
    return r;
}

int reel_webhook_check_secret(const char *secret, const char **why)
{
    size_t n = strlen(secret);
    bool ok = n >= REEL_WEBHOOK_SECRET_MIN && n < REEL_WEBHOOK_SECRET_MAX;
    for (const unsigned char *p = (const unsigned char *)secret; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f;
    if (!ok) {
        *why = "secret: 16 to 128 printable ASCII characters without spaces";
        return -EINVAL;
    }
    return 0;
}

bool reel_webhook_kind_known(const char *kind)
{
    if (strcmp(kind, "*") == 0)
        return true;
    for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
        if (strcmp(kind, KINDS[i]) == 0)
            return true;
    return false;
}

bool reel_webhook_kinds_match(const char *kinds, const char *kind)
{
    size_t kl = strlen(kind);
    for (const char *p = kinds; *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if ((n == 1 && p[0] == '*') || (n == kl && memcmp(p, kind, n) == 0))
            return true;
        p += n + (c ? 1 : 0);
    }
    return false;
}

int reel_webhook_secret_new(char *out, size_t cap)
{
    unsigned char b[32];
    if (cap < 65 || RAND_bytes(b, sizeof(b)) != 1)
        return -EIO;
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

/* ---- rows ---- */

static int step_done(sqlite3 *db, sqlite3_stmt *st, struct reel_err *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return reel_err_set(err, EEXIST, "%s: a webhook of that name exists", what);
    return rc == SQLITE_DONE ? 0 : reel_db_err(db, rc, err, what);
}

static void copy_col(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static int count(sqlite3 *db, const char *sql, int64_t arg, int64_t *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, sql, &st, err);
    if (r < 0)
        return r;
    if (arg)
        sqlite3_bind_int64(st, 1, arg);
    int rc = sqlite3_step(st);
    *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : reel_db_err(db, rc, err, "counting webhooks");
}

int reel_webhook_add(sqlite3 *db, struct reel_webhook *w, int64_t now_ns, struct reel_err *err)
{
    int64_t n;
    int r = count(db, "SELECT count(*) FROM webhook", 0, &n, err);
    if (r < 0)
        return r;
    if (n >= REEL_WEBHOOKS_MAX)
        return reel_err_set(err, ENOSPC, "at most %d webhooks", REEL_WEBHOOKS_MAX);
    sqlite3_stmt *st;
    r = reel_db_prepare(db,
                        "INSERT INTO webhook (name, url, secret, kinds, enabled, created_ns) VALUES (?, ?, ?, ?, ?, ?)",
                        &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->secret, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, w->kinds, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, w->enabled);
    sqlite3_bind_int64(st, 6, now_ns);
    r = step_done(db, st, err, "adding a webhook");
    if (r == 0) {
        w->id = sqlite3_last_insert_rowid(db);
        w->created_ns = now_ns;
        w->pending = 0;
    }
    return r;
}

#define SELECT_WEBHOOK                                                                                              \
    "SELECT id, name, url, secret, kinds, enabled, created_ns, "                                                    \
    "(SELECT count(*) FROM webhook_outbox o WHERE o.webhook_id = webhook.id) FROM webhook"

static void row_webhook(sqlite3_stmt *st, struct reel_webhook *w)
{
    w->id = sqlite3_column_int64(st, 0);
    copy_col(st, 1, w->name, sizeof(w->name));
    copy_col(st, 2, w->url, sizeof(w->url));
    copy_col(st, 3, w->secret, sizeof(w->secret));
    copy_col(st, 4, w->kinds, sizeof(w->kinds));
    w->enabled = sqlite3_column_int(st, 5) != 0;
    w->created_ns = sqlite3_column_int64(st, 6);
    w->pending = sqlite3_column_int64(st, 7);
}

int reel_webhook_list(sqlite3 *db, struct reel_webhook **ret, size_t *ret_n, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, SELECT_WEBHOOK " ORDER BY id LIMIT 1000", &st, err);
    if (r < 0)
        return r;
    struct reel_webhook *v = NULL;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct reel_webhook *nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            rc = SQLITE_NOMEM;
            break;
        }
        v = nv;
        row_webhook(st, &v[n++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return reel_db_err(db, rc, err, "reading webhooks");
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_webhook_get(sqlite3 *db, int64_t id, struct reel_webhook *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, SELECT_WEBHOOK " WHERE id = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        row_webhook(st, ret);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return reel_err_set(err, ENOENT, "no webhook %lld", (long long)id);
    return rc == SQLITE_ROW ? 0 : reel_db_err(db, rc, err, "reading a webhook");
}

int reel_webhook_update(sqlite3 *db, const struct reel_webhook *w, bool set_secret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db,
                            set_secret ? "UPDATE webhook SET name = ?, url = ?, kinds = ?, enabled = ?, secret = ? "
                                         "WHERE id = ?"
                                       : "UPDATE webhook SET name = ?, url = ?, kinds = ?, enabled = ? WHERE id = ?",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->kinds, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, w->enabled);
    if (set_secret)
        sqlite3_bind_text(st, 5, w->secret, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, set_secret ? 6 : 5, w->id);
    r = step_done(db, st, err, "changing a webhook");
    if (r == 0 && sqlite3_changes(db) == 0)
        return reel_err_set(err, ENOENT, "no webhook %lld", (long long)w->id);
    return r;
}

int reel_webhook_delete(sqlite3 *db, int64_t id, struct reel_err *err)
{
    sqlite3_stmt *st;
    /* the outbox goes with it (ON DELETE CASCADE; foreign_keys is on) */
    int r = reel_db_prepare(db, "DELETE FROM webhook WHERE id = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    r = step_done(db, st, err, "deleting a webhook");
    if (r == 0 && sqlite3_changes(db) == 0)
        return reel_err_set(err, ENOENT, "no webhook %lld", (long long)id);
    return r;
}

static int insert_row(sqlite3 *db, int64_t id, const char *body, int64_t now_ns, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db,
                            "INSERT INTO webhook_outbox (webhook_id, body, created_ns, next_ns) VALUES (?, ?, ?, ?)",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ns);
    sqlite3_bind_int64(st, 4, now_ns);
    r = step_done(db, st, err, "queueing a webhook delivery");
    if (r < 0)
        return r;
    /* the cap: the oldest rows beyond REEL_WEBHOOK_OUTBOX_MAX go */
    r = reel_db_prepare(db,
                        "DELETE FROM webhook_outbox WHERE webhook_id = ?1 AND id <= (SELECT id FROM webhook_outbox "
                        "WHERE webhook_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                        &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, REEL_WEBHOOK_OUTBOX_MAX);
    return step_done(db, st, err, "cutting a webhook's outbox");
}

int reel_webhook_outbox_note(sqlite3 *db, const char *kind, const char *body, int64_t now_ns, size_t *ret_n,
                             struct reel_err *err)
{
    *ret_n = 0;
    int r = reel_db_exec(db, "BEGIN IMMEDIATE", err);
    if (r < 0)
        return r;
    sqlite3_stmt *st;
    r = reel_db_prepare(db, "SELECT id, kinds FROM webhook WHERE enabled = 1", &st, err);
    int64_t ids[REEL_WEBHOOKS_MAX];
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *k = sqlite3_column_text(st, 1);
        if (n < REEL_WEBHOOKS_MAX && k && reel_webhook_kinds_match((const char *)k, kind))
            ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (r == 0) {
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            r = reel_db_err(db, rc, err, "reading webhooks");
    }
    for (size_t i = 0; r == 0 && i < n; i++)
        r = insert_row(db, ids[i], body, now_ns, err);
    if (r == 0)
        r = reel_db_exec(db, "COMMIT", err);
    if (r < 0) {
        reel_db_rollback(db);
        return r;
    }
    *ret_n = n;
    return 0;
}

int reel_webhook_outbox_one(sqlite3 *db, int64_t id, const char *body, int64_t now_ns, int64_t *ret_id,
                            struct reel_err *err)
{
    int r = reel_db_exec(db, "BEGIN IMMEDIATE", err);
    if (r < 0)
        return r;
    struct reel_webhook w;
    r = reel_webhook_get(db, id, &w, err);
    if (r == 0)
        r = insert_row(db, id, body, now_ns, err);
    if (r == 0) {
        /* the row's id: the largest of this webhook's (the cut runs after the insert) */
        int64_t last = 0;
        r = count(db, "SELECT max(id) FROM webhook_outbox WHERE webhook_id = ?", id, &last, err);
        *ret_id = last;
    }
    if (r == 0)
        r = reel_db_exec(db, "COMMIT", err);
    if (r < 0)
        reel_db_rollback(db);
    return r;
}

/* The event kind of a note's JSON ("?" when unreadable). */
static void body_kind(const char *body, char *out, size_t cap)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *k = json_string_value(json_object_get(json_object_get(j, "event"), "kind"));
    snprintf(out, cap, "%s", k ? k : "?");
    json_decref(j);
}

int reel_webhook_outbox_list(sqlite3 *db, int64_t id, size_t max, struct reel_webhook_delivery **ret, size_t *ret_n,
                             struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db,
                            "SELECT id, webhook_id, created_ns, next_ns, attempts, last_error, body FROM "
                            "webhook_outbox WHERE webhook_id = ? ORDER BY id LIMIT ?",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    struct reel_webhook_delivery *v = NULL;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct reel_webhook_delivery *nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            rc = SQLITE_NOMEM;
            break;
        }
        v = nv;
        struct reel_webhook_delivery *d = &v[n++];
        d->id = sqlite3_column_int64(st, 0);
        d->webhook_id = sqlite3_column_int64(st, 1);
        d->created_ns = sqlite3_column_int64(st, 2);
        d->next_ns = sqlite3_column_int64(st, 3);
        d->attempts = sqlite3_column_int(st, 4);
        copy_col(st, 5, d->last_error, sizeof(d->last_error));
        const unsigned char *b = sqlite3_column_text(st, 6);
        body_kind(b ? (const char *)b : "", d->kind, sizeof(d->kind));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return reel_db_err(db, rc, err, "reading a webhook's outbox");
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

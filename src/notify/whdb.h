/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Webhooks in reel.db (tables webhook and webhook_outbox; issue 15): the
 * checks on what an administrator may give (name, URL, kinds, secret),
 * the rows, and the outbox that the notify thread (webhook.h) fills and
 * empties. Every function takes the caller's connection (reel_db_open())
 * and runs on the caller's thread; nothing here sends anything.
 *
 * A webhook's kinds are stored as a comma-separated list ("motion,
 * camera.offline" without spaces) or "*" (every kind). The secret is kept
 * in the clear: it must be at hand to sign each delivery (an HMAC key, not
 * a password); reel.db is the administrator's file (mode 0600). The API
 * never shows it again after creation.
 */
#ifndef REEL_NOTIFY_WHDB_H
#define REEL_NOTIFY_WHDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "base/log.h"

#define REEL_WEBHOOK_NAME_MAX 64      /* bytes with the NUL */
#define REEL_WEBHOOK_URL_MAX 1024     /* bytes with the NUL */
#define REEL_WEBHOOK_SECRET_MAX 129   /* 16..128 printable ASCII characters */
#define REEL_WEBHOOK_SECRET_MIN 16
#define REEL_WEBHOOK_KINDS_MAX 256    /* the stored list with the NUL */
#define REEL_WEBHOOK_KINDS_N 16       /* at most this many kinds in a list */
#define REEL_WEBHOOKS_MAX 32          /* webhooks per site */
#define REEL_WEBHOOK_OUTBOX_MAX 10000 /* undelivered notes kept per webhook (the oldest go first) */
#define REEL_WEBHOOK_BODY_MAX 8192    /* a delivery's body */
#define REEL_WEBHOOK_ERROR_MAX 256

struct reel_webhook {
    int64_t id;
    char name[REEL_WEBHOOK_NAME_MAX];
    char url[REEL_WEBHOOK_URL_MAX];
    char secret[REEL_WEBHOOK_SECRET_MAX];
    char kinds[REEL_WEBHOOK_KINDS_MAX];
    bool enabled;
    int64_t created_ns;
    int64_t pending;                  /* rows in the outbox (list/get) */
};

struct reel_webhook_delivery {
    int64_t id;
    int64_t webhook_id;
    int64_t created_ns, next_ns;
    int attempts;
    char last_error[REEL_WEBHOOK_ERROR_MAX];
    char kind[32];                    /* the note's event kind ("test" for a test) */
};

/* ---- checks (pure; tests/unit/test_notify.c) ---- */

/* 0, or -EINVAL with *why (a fixed text). */
int reel_webhook_check_name(const char *name, const char **why);
/* An absolute http:// or https:// URL with a host, no spaces or control
 * characters, shorter than REEL_WEBHOOK_URL_MAX. */
int reel_webhook_check_url(const char *url, const char **why);
int reel_webhook_check_secret(const char *secret, const char **why);
/* One kind of event, or "*". */
bool reel_webhook_kind_known(const char *kind);
/* Whether the stored list kinds takes events of kind. */
bool reel_webhook_kinds_match(const char *kinds, const char *kind);
/* A new secret: 64 hex digits of 32 random bytes (out >= 65 bytes). */
int reel_webhook_secret_new(char *out, size_t cap);

/* ---- rows (caller's connection) ---- */

/* Adds w (w->id and created_ns set). -EEXIST for a name in use, -ENOSPC
 * past REEL_WEBHOOKS_MAX. */
int reel_webhook_add(sqlite3 *db, struct reel_webhook *w, int64_t now_ns, struct reel_err *err);
/* Every webhook, by id, into *ret (malloc'd, free(); NULL when none). */
int reel_webhook_list(sqlite3 *db, struct reel_webhook **ret, size_t *ret_n, struct reel_err *err);
/* -ENOENT when there is no such id. */
int reel_webhook_get(sqlite3 *db, int64_t id, struct reel_webhook *ret, struct reel_err *err);
/* Writes name, url, kinds, enabled of w (by w->id); the secret too when
 * set_secret. -ENOENT, -EEXIST (name). */
int reel_webhook_update(sqlite3 *db, const struct reel_webhook *w, bool set_secret, struct reel_err *err);
/* Deletes it and its outbox. -ENOENT. */
int reel_webhook_delete(sqlite3 *db, int64_t id, struct reel_err *err);

/* Queues body (a note's JSON) for every enabled webhook whose kinds take
 * kind, due at now_ns (one transaction). *ret_n: rows added. Each
 * webhook's outbox is cut to REEL_WEBHOOK_OUTBOX_MAX rows (oldest go). */
int reel_webhook_outbox_note(sqlite3 *db, const char *kind, const char *body, int64_t now_ns, size_t *ret_n,
                             struct reel_err *err);
/* Queues body for webhook id alone (a test), due at now_ns. *ret_id: the
 * row. -ENOENT. */
int reel_webhook_outbox_one(sqlite3 *db, int64_t id, const char *body, int64_t now_ns, int64_t *ret_id,
                            struct reel_err *err);
/* The outbox rows of webhook id, oldest first, at most max. */
int reel_webhook_outbox_list(sqlite3 *db, int64_t id, size_t max, struct reel_webhook_delivery **ret, size_t *ret_n,
                             struct reel_err *err);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Per-user camera lists and TOTP secrets in reel.db (web_user.cameras_all,
 * web_user_camera, web_user.totp_*); see users.h. Rows only: what they
 * mean is http/access.c's and the API's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "base/buf.h"
#include "db/db.h"
#include "http/totp.h"
#include "http/users.h"
#include "http/users_int.h"

_Static_assert(REEL_TOTP_KEY_LEN == REEL_TOTP_SECRET_LEN, "one secret length");

static int prep(struct reel_users *u, const char *sql, sqlite3_stmt **st, struct reel_err *err)
{
    int rc = sqlite3_prepare_v2(u->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : reel_db_err(u->db, rc, err, "preparing a query");
}

static int step_done(struct reel_users *u, sqlite3_stmt *st, int *ret_changes, struct reel_err *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return reel_db_err(u->db, rc, err, what);
    if (ret_changes)
        *ret_changes = sqlite3_changes(u->db);
    return 0;
}

static int64_t user_id_of(struct reel_users *u, const char *name, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, "SELECT id FROM web_user WHERE name = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return reel_err_set(err, ENOENT, "no user '%s'", name);
    if (rc != SQLITE_ROW)
        return reel_db_err(u->db, rc, err, "looking up user");
    return id;
}

int reel_users_set_cameras(struct reel_users *u, const char *name, bool all, const char *const *names, size_t n,
                           struct reel_err *err)
{
    if (n > REEL_USER_CAMERAS_MAX)
        return reel_err_set(err, EINVAL, "at most %d cameras in a list", REEL_USER_CAMERAS_MAX);
    int r = reel_db_exec(u->db, "BEGIN IMMEDIATE", err);
    if (r < 0)
        return r;
    int64_t id = user_id_of(u, name, err);
    r = id < 0 ? (int)id : 0;
    sqlite3_stmt *st;
    if (r == 0 && (r = prep(u, "UPDATE web_user SET cameras_all = ?2 WHERE id = ?1", &st, err)) == 0) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, all ? 1 : 0);
        r = step_done(u, st, NULL, err, "setting the camera list");
    }
    if (r == 0 && (r = prep(u, "DELETE FROM web_user_camera WHERE user_id = ?1", &st, err)) == 0) {
        sqlite3_bind_int64(st, 1, id);
        r = step_done(u, st, NULL, err, "setting the camera list");
    }
    for (size_t i = 0; r == 0 && !all && i < n; i++) {
        r = prep(u, "INSERT OR IGNORE INTO web_user_camera (user_id, camera_id) "
                    "SELECT ?1, id FROM camera WHERE name = ?2 AND parent_id IS NULL", &st, err);
        if (r < 0)
            break;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, names[i], -1, SQLITE_TRANSIENT);
        int changes = 0;
        r = step_done(u, st, &changes, err, "setting the camera list");
        if (r == 0 && changes == 0) {
            /* a duplicate in the list, or an unknown camera */
            bool dup = false;
            for (size_t k = 0; k < i; k++)
                dup = dup || strcmp(names[k], names[i]) == 0;
            if (!dup)
                r = reel_err_set(err, ENOENT, "no camera '%.63s'", names[i]);
        }
    }
    if (r == 0)
        return reel_db_exec(u->db, "COMMIT", err);
    reel_db_exec(u->db, "ROLLBACK", NULL);
    return r;
}

int reel_users_cameras(struct reel_users *u, int64_t user_id, bool *ret_all, char (**ret)[REEL_CAMERA_NAME_MAX],
                       size_t *ret_n, struct reel_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    *ret_all = false;
    sqlite3_stmt *st;
    int r = prep(u, "SELECT cameras_all FROM web_user WHERE id = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret_all = sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return reel_err_set(err, ENOENT, "no user %lld", (long long)user_id);
    if (rc != SQLITE_ROW)
        return reel_db_err(u->db, rc, err, "reading the camera list");
    r = prep(u, "SELECT c.name FROM web_user_camera w JOIN camera c ON c.id = w.camera_id WHERE w.user_id = ?1 "
                "ORDER BY c.name LIMIT ?2", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int(st, 2, REEL_USER_CAMERAS_MAX);
    char (*v)[REEL_CAMERA_NAME_MAX] = NULL;
    size_t n = 0, alloc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 8) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        snprintf(v[n], sizeof(v[n]), "%s", (const char *)sqlite3_column_text(st, 0));
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return reel_db_err(u->db, rc, err, "reading the camera list");
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_users_cameras_by_name(struct reel_users *u, const char *name, bool *ret_all,
                               char (**ret)[REEL_CAMERA_NAME_MAX], size_t *ret_n, struct reel_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    int64_t id = user_id_of(u, name, err);
    if (id < 0)
        return (int)id;
    return reel_users_cameras(u, id, ret_all, ret, ret_n, err);
}

int reel_users_totp_begin(struct reel_users *u, int64_t user_id, uint8_t key[REEL_TOTP_KEY_LEN], struct reel_err *err)
{
    randombytes_buf(key, REEL_TOTP_KEY_LEN);
    sqlite3_stmt *st;
    int r = prep(u, "UPDATE web_user SET totp_pending = ?2 WHERE id = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_blob(st, 2, key, REEL_TOTP_KEY_LEN, SQLITE_TRANSIENT);
    int changes = 0;
    r = step_done(u, st, &changes, err, "storing the TOTP secret");
    if (r == 0 && changes == 0)
        r = reel_err_set(err, ENOENT, "no user %lld", (long long)user_id);
    return r;
}

/* Whether user_id has a secret (pending or active as asked), without a
 * write transaction: most users have none, and every login asks. */
static int has_secret(struct reel_users *u, int64_t user_id, bool pending, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, pending ? "SELECT totp_pending IS NOT NULL FROM web_user WHERE id = ?1"
                            : "SELECT totp_secret IS NOT NULL FROM web_user WHERE id = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    int have = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reel_db_err(u->db, rc, err, "reading the TOTP secret");
    return have;
}

int reel_users_totp_verify(struct reel_users *u, int64_t user_id, const char *code, int64_t now_s, bool confirm,
                           struct reel_err *err)
{
    int r = has_secret(u, user_id, confirm, err);
    if (r < 0)
        return r;
    if (r == 0)
        return reel_err_set(err, ENOENT, confirm ? "no TOTP enrolment in progress" : "no TOTP second factor");
    r = reel_db_exec(u->db, "BEGIN IMMEDIATE", err);
    if (r < 0)
        return r;
    sqlite3_stmt *st;
    r = prep(u, confirm ? "SELECT totp_pending, totp_last_step FROM web_user WHERE id = ?1"
                        : "SELECT totp_secret, totp_last_step FROM web_user WHERE id = ?1", &st, err);
    uint8_t key[REEL_TOTP_KEY_LEN];
    bool have = false;
    int64_t last = 0;
    if (r == 0) {
        sqlite3_bind_int64(st, 1, user_id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == REEL_TOTP_KEY_LEN) {
            memcpy(key, sqlite3_column_blob(st, 0), REEL_TOTP_KEY_LEN);
            last = sqlite3_column_int64(st, 1);
            have = true;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            r = reel_db_err(u->db, rc, err, "reading the TOTP secret");
        else if (!have)
            r = reel_err_set(err, ENOENT, confirm ? "no TOTP enrolment in progress" : "no TOTP second factor");
    }
    int64_t step = -1;
    if (r == 0) {
        step = reel_totp_check(key, sizeof(key), code, reel_totp_step(now_s), last);
        if (step < 0)
            r = reel_err_set(err, EACCES, "wrong or already used TOTP code");
    }
    sodium_memzero(key, sizeof(key));
    if (r == 0) {
        r = prep(u, confirm ? "UPDATE web_user SET totp_secret = totp_pending, totp_pending = NULL, "
                              "totp_last_step = ?2 WHERE id = ?1"
                            : "UPDATE web_user SET totp_last_step = ?2 WHERE id = ?1", &st, err);
        if (r == 0) {
            sqlite3_bind_int64(st, 1, user_id);
            sqlite3_bind_int64(st, 2, step);
            r = step_done(u, st, NULL, err, "recording the TOTP code's use");
        }
    }
    if (r == 0)
        return reel_db_exec(u->db, "COMMIT", err);
    reel_db_exec(u->db, "ROLLBACK", NULL);
    return r;
}

int reel_users_totp_clear(struct reel_users *u, const char *name, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, "UPDATE web_user SET totp_secret = NULL, totp_pending = NULL WHERE name = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int changes = 0;
    r = step_done(u, st, &changes, err, "removing the TOTP second factor");
    if (r == 0 && changes == 0)
        r = reel_err_set(err, ENOENT, "no user '%s'", name);
    return r;
}

int reel_users_setting(struct reel_users *u, const char *key, char *out, size_t cap, struct reel_err *err)
{
    out[0] = '\0';
    sqlite3_stmt *st;
    int r = prep(u, "SELECT value FROM setting WHERE key = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reel_db_err(u->db, rc, err, "reading a setting");
    return 0;
}

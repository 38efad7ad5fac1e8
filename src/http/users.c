/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Web accounts, sessions and API tokens in reel.db; see users.h. The tables
 * are src/db's (schema version 3); this file only reads and writes rows.
 */
#include "http/users.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/strutil.h"
#include "db/db.h"
#include "http/users_int.h"

#define PW_OPSLIMIT 2
#define PW_MEMLIMIT ((size_t)19 * 1024 * 1024)
#define TOKEN_PREFIX "reel_"
#define TOUCH_NS (60 * REEL_NS_PER_SEC)


static int db_err(struct reel_users *u, int rc, struct reel_err *err, const char *what)
{
    return reel_db_err(u->db, rc, err, what);
}

static int prep(struct reel_users *u, const char *sql, sqlite3_stmt **st, struct reel_err *err)
{
    int rc = sqlite3_prepare_v2(u->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : db_err(u, rc, err, "preparing a query");
}

/* Runs a statement that returns no rows; *ret_changes (may be NULL). */
static int step_done(struct reel_users *u, sqlite3_stmt *st, int *ret_changes, struct reel_err *err,
                     const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return reel_err_set(err, EEXIST, "%s: already exists", what);
    if (rc != SQLITE_DONE)
        return db_err(u, rc, err, what);
    if (ret_changes)
        *ret_changes = sqlite3_changes(u->db);
    return 0;
}

int reel_users_open(struct reel_users **ret, const char *datadir, struct reel_err *err)
{
    if (sodium_init() < 0)
        return reel_err_set(err, EIO, "libsodium: initialisation failed");
    struct reel_users *u = calloc(1, sizeof(*u));
    if (!u)
        return reel_err_set(err, ENOMEM, "out of memory");
    /* a writer's connection: src/db upgrades an older schema here */
    int r = reel_db_open(&u->db, datadir, REEL_DB_WRITE, err);
    if (r < 0) {
        free(u);
        return r;
    }
    *ret = u;
    return 0;
}

void reel_users_close(struct reel_users *u)
{
    if (!u)
        return;
    sqlite3_close(u->db);
    free(u);
}

bool reel_user_name_valid(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (n >= REEL_USER_NAME_MAX - 1 || !(isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == '@'))
            return false;
    }
    return n > 0;
}

void reel_users_random_password(char *buf, size_t len)
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    for (size_t i = 0; i < len; i++)
        buf[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
    buf[len] = '\0';
}

static int check_password(const char *pw, struct reel_err *err)
{
    size_t n = strlen(pw);
    if (n < REEL_PASSWORD_MIN)
        return reel_err_set(err, EINVAL, "password too short (at least %d characters)", REEL_PASSWORD_MIN);
    if (n > REEL_PASSWORD_MAX)
        return reel_err_set(err, EINVAL, "password too long (at most %d bytes)", REEL_PASSWORD_MAX);
    return 0;
}

static int hash_password(const char *pw, char out[crypto_pwhash_STRBYTES], struct reel_err *err)
{
    if (crypto_pwhash_str(out, pw, strlen(pw), PW_OPSLIMIT, PW_MEMLIMIT) != 0)
        return reel_err_set(err, ENOMEM, "hashing the password failed (out of memory)");
    return 0;
}

/* BLAKE2b-256 of a secret: what the database keeps. */
static void secret_hash(const char *secret, uint8_t out[32])
{
    crypto_generichash(out, 32, (const uint8_t *)secret, strlen(secret), NULL, 0);
}

static void random_hex(char *out, size_t nbytes)
{
    uint8_t b[32];
    randombytes_buf(b, nbytes);
    reel_hex_encode(b, nbytes, out);
    sodium_memzero(b, sizeof(b));
}

int reel_users_count(struct reel_users *u, int64_t *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, "SELECT COUNT(*) FROM web_user", &st, err);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_err(u, rc, err, "counting users");
}

int reel_users_add(struct reel_users *u, const char *name, const char *password, struct reel_err *err)
{
    if (!reel_user_name_valid(name))
        return reel_err_set(err, EINVAL, "user name '%s': expected 1-63 of A-Z a-z 0-9 _ . @ -", name);
    int r = check_password(password, err);
    char h[crypto_pwhash_STRBYTES];
    if (r == 0)
        r = hash_password(password, h, err);
    if (r < 0)
        return r;
    sqlite3_stmt *st;
    r = prep(u, "INSERT INTO web_user (name, pwhash, created_ns) VALUES (?1, ?2, ?3)", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, h, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, reel_clock_wall(reel_clock_system()));
    r = step_done(u, st, NULL, err, "adding user");
    if (r == -EEXIST)
        return reel_err_set(err, EEXIST, "user '%s' already exists", name);
    return r;
}

int reel_users_passwd(struct reel_users *u, const char *name, const char *password, struct reel_err *err)
{
    int r = check_password(password, err);
    char h[crypto_pwhash_STRBYTES];
    if (r == 0)
        r = hash_password(password, h, err);
    if (r < 0)
        return r;
    sqlite3_stmt *st;
    r = prep(u, "UPDATE web_user SET pwhash = ?2 WHERE name = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, h, -1, SQLITE_TRANSIENT);
    int changes = 0;
    r = step_done(u, st, &changes, err, "changing password");
    if (r < 0)
        return r;
    if (changes == 0)
        return reel_err_set(err, ENOENT, "no user '%s'", name);
    /* A new password logs everyone out of that account, scripts too (a
     * token may be what leaked). */
    static const char *const end[] = {
        "DELETE FROM web_session WHERE user_id = (SELECT id FROM web_user WHERE name = ?1)",
        "DELETE FROM web_token WHERE user_id = (SELECT id FROM web_user WHERE name = ?1)",
    };
    for (size_t i = 0; i < 2; i++) {
        r = prep(u, end[i], &st, err);
        if (r < 0)
            return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        r = step_done(u, st, NULL, err, i == 0 ? "ending sessions" : "ending tokens");
        if (r < 0)
            return r;
    }
    return 0;
}

bool reel_role_valid(const char *role)
{
    static const char *const roles[] = { "admin", "operator", "viewer", "auditor" };
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(role, roles[i]) == 0)
            return true;
    return false;
}

/* After a guarded change changed nothing: -EMLINK when the user exists (it is
 * the last administrator), else -ENOENT. */
static int last_admin_or_absent(struct reel_users *u, const char *name, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, "SELECT 1 FROM web_user WHERE name = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int sr = sqlite3_step(st);
    sqlite3_finalize(st);
    if (sr == SQLITE_ROW)
        return reel_err_set(err, EMLINK, "'%s' is the last administrator", name);
    if (sr == SQLITE_DONE)
        return reel_err_set(err, ENOENT, "no user '%s'", name);
    return db_err(u, sr, err, "looking user up");
}

static int set_role(struct reel_users *u, const char *name, const char *role, bool keep_admin, struct reel_err *err)
{
    if (!reel_role_valid(role))
        return reel_err_set(err, EINVAL, "role '%s': expected admin, operator, viewer or auditor", role);
    sqlite3_stmt *st;
    /* one statement: the count and the change cannot be split by another writer */
    int r = prep(u, keep_admin ? "UPDATE web_user SET role = ?2 WHERE name = ?1 AND NOT (role = 'admin' AND ?2 != "
                                 "'admin' AND (SELECT COUNT(*) FROM web_user WHERE role = 'admin') <= 1)"
                               : "UPDATE web_user SET role = ?2 WHERE name = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, role, -1, SQLITE_TRANSIENT);
    int changes = 0;
    r = step_done(u, st, &changes, err, "setting role");
    if (r == 0 && changes == 0)
        return last_admin_or_absent(u, name, err);
    return r;
}

int reel_users_set_role(struct reel_users *u, const char *name, const char *role, struct reel_err *err)
{
    return set_role(u, name, role, false, err);
}

int reel_users_set_role_keep_admin(struct reel_users *u, const char *name, const char *role, struct reel_err *err)
{
    return set_role(u, name, role, true, err);
}

int reel_users_sessions_end(struct reel_users *u, const char *name, int64_t *ret_n, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, "SELECT id FROM web_user WHERE name = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int sr = sqlite3_step(st);
    int64_t id = sr == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (sr == SQLITE_DONE)
        return reel_err_set(err, ENOENT, "no user '%s'", name);
    if (sr != SQLITE_ROW)
        return db_err(u, sr, err, "looking user up");
    r = prep(u, "DELETE FROM web_session WHERE user_id = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    int changes = 0;
    r = step_done(u, st, &changes, err, "ending sessions");
    if (r == 0 && ret_n)
        *ret_n = changes;
    return r;
}

static int remove_user(struct reel_users *u, const char *name, bool keep_admin, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, keep_admin ? "DELETE FROM web_user WHERE name = ?1 AND NOT (role = 'admin' AND "
                                 "(SELECT COUNT(*) FROM web_user WHERE role = 'admin') <= 1)"
                               : "DELETE FROM web_user WHERE name = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int changes = 0;
    r = step_done(u, st, &changes, err, "removing user");
    if (r == 0 && changes == 0)
        return last_admin_or_absent(u, name, err);
    return r;
}

int reel_users_remove(struct reel_users *u, const char *name, struct reel_err *err)
{
    return remove_user(u, name, false, err);
}

int reel_users_remove_keep_admin(struct reel_users *u, const char *name, struct reel_err *err)
{
    return remove_user(u, name, true, err);
}

int reel_users_list(struct reel_users *u, struct reel_user_info **ret, size_t *ret_n, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, "SELECT id, name, created_ns, (SELECT COUNT(*) FROM web_session s WHERE s.user_id = u.id), "
                    "(SELECT COUNT(*) FROM web_token t WHERE t.user_id = u.id), role, cameras_all, "
                    "totp_secret IS NOT NULL FROM web_user u ORDER BY name "
                    "LIMIT 100000", &st, err);
    if (r < 0)
        return r;
    struct reel_user_info *v = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 8) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        v[n].id = sqlite3_column_int64(st, 0);
        snprintf(v[n].name, sizeof(v[n].name), "%s", (const char *)sqlite3_column_text(st, 1));
        v[n].created_unix = sqlite3_column_int64(st, 2) / REEL_NS_PER_SEC;
        v[n].sessions = sqlite3_column_int64(st, 3);
        v[n].tokens = sqlite3_column_int64(st, 4);
        snprintf(v[n].role, sizeof(v[n].role), "%s", (const char *)sqlite3_column_text(st, 5));
        v[n].cameras_all = sqlite3_column_int(st, 6) != 0;
        v[n].totp = sqlite3_column_int(st, 7) != 0;
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return db_err(u, rc, err, "listing users");
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_users_verify(struct reel_users *u, const char *name, const char *password, int64_t *ret_id,
                      struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, "SELECT id, pwhash FROM web_user WHERE name = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    char h[crypto_pwhash_STRBYTES] = "";
    int64_t id = 0;
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        snprintf(h, sizeof(h), "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_err(u, rc, err, "looking up user");
    size_t pl = strlen(password);
    if (rc == SQLITE_DONE || pl > REEL_PASSWORD_MAX) {
        /* Spend the same time as a real check, so that timing does not
         * tell which names exist. */
        char scratch[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str(scratch, password, pl > REEL_PASSWORD_MAX ? REEL_PASSWORD_MAX : pl, PW_OPSLIMIT,
                              PW_MEMLIMIT) != 0) { /* nothing to do: the answer is no either way */
        }
        return reel_err_set(err, EACCES, "wrong user name or password");
    }
    if (crypto_pwhash_str_verify(h, password, pl) != 0)
        return reel_err_set(err, EACCES, "wrong user name or password");
    *ret_id = id;
    return 0;
}

int reel_session_create(struct reel_users *u, int64_t user_id, int64_t now_ns, char ret_id[REEL_SECRET_MAX],
                        struct reel_auth *ret, struct reel_err *err)
{
    char id[65], csrf[65];
    random_hex(id, 32);
    random_hex(csrf, 32);
    uint8_t h[32];
    secret_hash(id, h);
    sqlite3_stmt *st;
    int r = prep(u, "INSERT INTO web_session (hash, user_id, csrf, created_ns, last_ns) VALUES (?1, ?2, ?3, ?4, ?4)",
                 &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_text(st, 3, csrf, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, now_ns);
    r = step_done(u, st, NULL, err, "creating session");
    if (r < 0)
        return r;
    r = prep(u, "SELECT name, role, totp_secret IS NOT NULL FROM web_user WHERE id = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, user_id);
    memset(ret, 0, sizeof(*ret));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(ret->user, sizeof(ret->user), "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(ret->role, sizeof(ret->role), "%s", (const char *)sqlite3_column_text(st, 1));
        ret->totp = sqlite3_column_int(st, 2) != 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        memset(ret, 0, sizeof(*ret));
        return rc == SQLITE_DONE ? reel_err_set(err, ENOENT, "no user %lld", (long long)user_id)
                                 : db_err(u, rc, err, "reading the session's user");
    }
    ret->user_id = user_id;
    ret->created_ns = now_ns;
    snprintf(ret->csrf, sizeof(ret->csrf), "%s", csrf);
    snprintf(ret_id, REEL_SECRET_MAX, "%s", id);
    sodium_memzero(id, sizeof(id));
    return 0;
}

static bool secret_shape_ok(const char *s, size_t prefix_len)
{
    size_t n = strlen(s);
    if (n != prefix_len + 64)
        return false;
    for (size_t i = prefix_len; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

int reel_session_lookup(struct reel_users *u, const char *id, int64_t now_ns, int64_t idle_ns, int64_t max_ns,
                        struct reel_auth *ret, struct reel_err *err)
{
    if (!secret_shape_ok(id, 0))
        return reel_err_set(err, ENOENT, "no such session");
    uint8_t h[32];
    secret_hash(id, h);
    sqlite3_stmt *st;
    int r = prep(u, "SELECT s.user_id, u.name, s.csrf, s.created_ns, s.last_ns, u.role, u.totp_secret IS NOT NULL "
                    "FROM web_session s "
                    "JOIN web_user u ON u.id = s.user_id WHERE s.hash = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? reel_err_set(err, ENOENT, "no such session")
                                 : db_err(u, rc, err, "looking up session");
    }
    memset(ret, 0, sizeof(*ret));
    ret->user_id = sqlite3_column_int64(st, 0);
    snprintf(ret->user, sizeof(ret->user), "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(ret->csrf, sizeof(ret->csrf), "%s", (const char *)sqlite3_column_text(st, 2));
    ret->created_ns = sqlite3_column_int64(st, 3);
    int64_t last = sqlite3_column_int64(st, 4);
    snprintf(ret->role, sizeof(ret->role), "%s", (const char *)sqlite3_column_text(st, 5));
    ret->totp = sqlite3_column_int(st, 6) != 0;
    sqlite3_finalize(st);
    bool expired = now_ns - last > idle_ns || now_ns - ret->created_ns > max_ns;
    if (expired || now_ns - last > TOUCH_NS) {
        r = prep(u, expired ? "DELETE FROM web_session WHERE hash = ?1"
                            : "UPDATE web_session SET last_ns = ?2 WHERE hash = ?1", &st, err);
        if (r < 0)
            return r;
        sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
        if (!expired)
            sqlite3_bind_int64(st, 2, now_ns);
        r = step_done(u, st, NULL, err, expired ? "deleting expired session" : "refreshing session");
        if (r < 0)
            return r;
    }
    if (expired) {
        memset(ret, 0, sizeof(*ret));
        return reel_err_set(err, ENOENT, "session expired");
    }
    return 0;
}

int reel_session_delete(struct reel_users *u, const char *id, struct reel_err *err)
{
    uint8_t h[32];
    secret_hash(id, h);
    sqlite3_stmt *st;
    int r = prep(u, "DELETE FROM web_session WHERE hash = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
    return step_done(u, st, NULL, err, "deleting session");
}

int reel_token_add(struct reel_users *u, const char *name, const char *user, int64_t now_ns, int64_t expires_ns,
                   char ret_token[REEL_SECRET_MAX], struct reel_err *err)
{
    if (!reel_user_name_valid(name) || strchr(name, '.') || strchr(name, '@'))
        return reel_err_set(err, EINVAL, "token name '%s': expected 1-63 of A-Z a-z 0-9 _ -", name);
    char tok[REEL_SECRET_MAX];
    memcpy(tok, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
    random_hex(tok + sizeof(TOKEN_PREFIX) - 1, 32);
    uint8_t h[32];
    secret_hash(tok, h);
    sqlite3_stmt *st;
    int r = prep(u, "INSERT INTO web_token (name, hash, user_id, created_ns, expires_ns) "
                    "SELECT ?1, ?2, id, ?4, ?5 FROM web_user WHERE name = ?3", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, h, sizeof(h), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, now_ns);
    sqlite3_bind_int64(st, 5, expires_ns > 0 ? expires_ns : 0);
    int changes = 0;
    r = step_done(u, st, &changes, err, "adding token");
    if (r == -EEXIST)
        return reel_err_set(err, EEXIST, "user %s already has a token '%s'", user, name);
    if (r < 0)
        return r;
    if (changes == 0)
        return reel_err_set(err, ENOENT, "no user '%s'", user);
    snprintf(ret_token, REEL_SECRET_MAX, "%s", tok);
    sodium_memzero(tok, sizeof(tok));
    return 0;
}

int reel_token_lookup(struct reel_users *u, const char *token, int64_t now_ns, int64_t max_age_ns,
                      struct reel_auth *ret, struct reel_err *err)
{
    if (strncmp(token, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1) != 0 ||
        !secret_shape_ok(token, sizeof(TOKEN_PREFIX) - 1))
        return reel_err_set(err, ENOENT, "no such token");
    uint8_t h[32];
    secret_hash(token, h);
    sqlite3_stmt *st;
    int r = prep(u, "SELECT t.user_id, u.name, t.created_ns, t.last_ns, u.role, t.expires_ns, u.totp_secret IS NOT NULL "
                    "FROM web_token t "
                    "JOIN web_user u ON u.id = t.user_id WHERE t.hash = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? reel_err_set(err, ENOENT, "no such token") : db_err(u, rc, err, "looking up token");
    }
    memset(ret, 0, sizeof(*ret));
    ret->user_id = sqlite3_column_int64(st, 0);
    snprintf(ret->user, sizeof(ret->user), "%s", (const char *)sqlite3_column_text(st, 1));
    ret->created_ns = sqlite3_column_int64(st, 2);
    int64_t last = sqlite3_column_int64(st, 3);
    snprintf(ret->role, sizeof(ret->role), "%s", (const char *)sqlite3_column_text(st, 4));
    int64_t expires = sqlite3_column_int64(st, 5);
    ret->totp = sqlite3_column_int(st, 6) != 0;
    sqlite3_finalize(st);
    bool expired = (expires > 0 && now_ns >= expires) || (max_age_ns > 0 && now_ns - ret->created_ns >= max_age_ns);
    if (expired) {
        memset(ret, 0, sizeof(*ret));
        if (prep(u, "DELETE FROM web_token WHERE hash = ?1", &st, NULL) == 0) {
            sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
            step_done(u, st, NULL, NULL, "deleting expired token"); /* best effort: refused either way */
        }
        return reel_err_set(err, ENOENT, "token expired");
    }
    if (now_ns - last > TOUCH_NS && prep(u, "UPDATE web_token SET last_ns = ?2 WHERE hash = ?1", &st, NULL) == 0) {
        sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now_ns);
        step_done(u, st, NULL, NULL, "refreshing token"); /* best effort: last use is informative */
    }
    return 0;
}

int reel_token_remove(struct reel_users *u, const char *user, const char *name, struct reel_err *err)
{
    sqlite3_stmt *st;
    static const char by_user[] =
        "DELETE FROM web_token WHERE name = ?1 AND user_id = (SELECT id FROM web_user WHERE name = ?2)";
    static const char only_one[] =
        "DELETE FROM web_token WHERE name = ?1 AND (SELECT COUNT(*) FROM web_token WHERE name = ?1) = 1";
    int r = prep(u, user ? by_user : only_one, &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (user)
        sqlite3_bind_text(st, 2, user, -1, SQLITE_TRANSIENT);
    int changes = 0;
    r = step_done(u, st, &changes, err, "removing token");
    if (r < 0 || changes > 0)
        return r;
    if (user)
        return reel_err_set(err, ENOENT, "user %s has no token '%s'", user, name);
    r = prep(u, "SELECT COUNT(*) FROM web_token WHERE name = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return n > 1 ? reel_err_set(err, EINVAL, "%lld users have a token '%s': name the user", (long long)n, name)
                 : reel_err_set(err, ENOENT, "no token '%s'", name);
}

int reel_token_list(struct reel_users *u, const char *user, struct reel_token_info **ret, size_t *ret_n,
                    struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(u, "SELECT t.id, t.name, u.name, t.created_ns, t.last_ns, t.expires_ns FROM web_token t "
                    "JOIN web_user u ON u.id = t.user_id WHERE ?1 IS NULL OR u.name = ?1 "
                    "ORDER BY u.name, t.name LIMIT 100000", &st, err);
    if (r < 0)
        return r;
    if (user)
        sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT);
    struct reel_token_info *v = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 8) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        v[n].id = sqlite3_column_int64(st, 0);
        snprintf(v[n].name, sizeof(v[n].name), "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(v[n].user, sizeof(v[n].user), "%s", (const char *)sqlite3_column_text(st, 2));
        v[n].created_unix = sqlite3_column_int64(st, 3) / REEL_NS_PER_SEC;
        v[n].last_used_unix = sqlite3_column_int64(st, 4) / REEL_NS_PER_SEC;
        v[n].expires_unix = sqlite3_column_int64(st, 5) / REEL_NS_PER_SEC;
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return db_err(u, rc, err, "listing tokens");
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Web accounts, sessions and API tokens, kept in reel.db next to the
 * recordings (tables web_user, web_session, web_token of the schema that
 * src/db owns; the database is in WAL mode, so these small writes do not
 * block the recorder's readers).
 *
 * Passwords are hashed with argon2id (libsodium crypto_pwhash_str, opslimit
 * 2, memlimit 19 MiB). Session ids and API tokens are 256 random bits; only
 * their BLAKE2b hash is stored, so a copy of the database does not log
 * anyone in. One struct reel_users is one SQLite connection: use it from one
 * thread at a time.
 */
#ifndef REEL_HTTP_USERS_H
#define REEL_HTTP_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

struct reel_users;

#define REEL_USER_NAME_MAX 64
#define REEL_PASSWORD_MAX 1024
#define REEL_PASSWORD_MIN 8
/* Session ids and tokens: 64 hex digits; tokens carry a "reel_" prefix. */
#define REEL_SECRET_MAX 80

/* Opens datadir/reel.db (must exist: `reel init`) for writing, through
 * src/db: an older schema is upgraded here (the account tables of a
 * version-1 database are created if missing), a newer one refused. Errors
 * are src/db's (-ENOENT only when not initialised). *ret owned by the
 * caller: reel_users_close(). */
int reel_users_open(struct reel_users **ret, const char *datadir, struct reel_err *err);
void reel_users_close(struct reel_users *u);

/* [A-Za-z0-9_.@-]{1,63} */
bool reel_user_name_valid(const char *name);
/* A random password of len (< cap) characters from [A-Za-z0-9]. */
void reel_users_random_password(char *buf, size_t len);

int reel_users_count(struct reel_users *u, int64_t *ret, struct reel_err *err);
/* -EEXIST for a duplicate, -EINVAL for a bad name or a password shorter than
 * REEL_PASSWORD_MIN / longer than REEL_PASSWORD_MAX. */
int reel_users_add(struct reel_users *u, const char *name, const char *password, struct reel_err *err);
/* Changes a password and ends the user's sessions and API tokens. -ENOENT. */
int reel_users_passwd(struct reel_users *u, const char *name, const char *password, struct reel_err *err);
/* Roles (web_user.role, schema version 2): what a signed-in user may do.
 * New users and the users of an upgraded version-1 database are "admin"
 * (they had every right before roles existed); the HTTP side decides what
 * each role may do. */
#define REEL_ROLE_MAX 16
/* admin, operator, viewer or auditor. */
bool reel_role_valid(const char *role);
/* -EINVAL for an unknown role, -ENOENT for an unknown user. */
int reel_users_set_role(struct reel_users *u, const char *name, const char *role, struct reel_err *err);
/* The same, but -EMLINK (nothing changed) when name is the only admin and role
 * is not "admin": the count and the change are one SQL statement, so two
 * administrators demoting each other at once cannot both succeed. */
int reel_users_set_role_keep_admin(struct reel_users *u, const char *name, const char *role, struct reel_err *err);
/* Ends every session of user name (signs it out in every browser; its API
 * tokens stay). *ret_n: how many ended (NULL ok). -ENOENT for an unknown user. */
int reel_users_sessions_end(struct reel_users *u, const char *name, int64_t *ret_n, struct reel_err *err);
/* Removes a user with their sessions and tokens. -ENOENT. */
int reel_users_remove(struct reel_users *u, const char *name, struct reel_err *err);
/* The same, but -EMLINK (nothing removed) for the only admin (one statement). */
int reel_users_remove_keep_admin(struct reel_users *u, const char *name, struct reel_err *err);
struct reel_user_info {
    int64_t id;
    char name[REEL_USER_NAME_MAX];
    int64_t created_unix;
    int64_t sessions, tokens;
    char role[REEL_ROLE_MAX];
    bool cameras_all;             /* sees every camera (operators, viewers; see reel_users_set_cameras) */
    bool totp;                    /* has an active TOTP second factor */
};
/* *ret malloc'd (free()). */
int reel_users_list(struct reel_users *u, struct reel_user_info **ret, size_t *ret_n, struct reel_err *err);
/* 0 and *ret_id when name/password are right; -EACCES otherwise (an unknown
 * name costs as much time as a wrong password). */
int reel_users_verify(struct reel_users *u, const char *name, const char *password, int64_t *ret_id,
                      struct reel_err *err);

/* What a session or token authenticates. */
struct reel_auth {
    int64_t user_id;
    char user[REEL_USER_NAME_MAX];
    char csrf[REEL_SECRET_MAX];   /* sessions only; "" for tokens */
    int64_t created_ns;           /* wall ns */
    char role[REEL_ROLE_MAX];     /* the user's role (see reel_role_valid) */
    bool totp;                    /* the user has an active TOTP second factor */
    bool enrol_only;              /* set by the server: may only enrol TOTP (totp.required_admin) */
};

/* Creates a session for user_id; ret_id gets the cookie value and ret the
 * session (with a fresh CSRF token). now_ns: wall clock. */
int reel_session_create(struct reel_users *u, int64_t user_id, int64_t now_ns, char ret_id[REEL_SECRET_MAX],
                        struct reel_auth *ret, struct reel_err *err);
/* Looks a session up; -ENOENT when unknown, or expired (idle longer than
 * idle_ns since last use, or older than max_ns), in which case it is
 * deleted. Refreshes its last use at most once a minute. */
int reel_session_lookup(struct reel_users *u, const char *id, int64_t now_ns, int64_t idle_ns, int64_t max_ns,
                        struct reel_auth *ret, struct reel_err *err);
int reel_session_delete(struct reel_users *u, const char *id, struct reel_err *err);

/* API tokens (schema version 3). A token's name is unique per user. A token
 * ends at its own expiry (expires_ns, wall; 0 = none of its own), when
 * older than the server's maximum lifetime (max_age_ns at lookup, from its
 * creation), when its user's password changes, or with its user.
 * REEL_TOKEN_DEFAULT_DAYS / REEL_TOKEN_MAX_DAYS: the defaults of `reel run
 * --token-default-days` / `--token-max-days`. */
#define REEL_TOKEN_DEFAULT_DAYS 90
#define REEL_TOKEN_MAX_DAYS 365

/* Creates API token `name` ([A-Za-z0-9_-]{1,63}) for user, ending at
 * expires_ns (wall; 0 = no expiry of its own); ret_token gets the token
 * (shown once). -EEXIST (that user has a token of that name), -ENOENT (no
 * such user), -EINVAL. */
int reel_token_add(struct reel_users *u, const char *name, const char *user, int64_t now_ns, int64_t expires_ns,
                   char ret_token[REEL_SECRET_MAX], struct reel_err *err);
/* -ENOENT when unknown or ended (expired: past expires_ns, or older than
 * max_age_ns when max_age_ns > 0; then also deleted). */
int reel_token_lookup(struct reel_users *u, const char *token, int64_t now_ns, int64_t max_age_ns,
                      struct reel_auth *ret, struct reel_err *err);
/* Removes user's token `name`; user NULL: the one token of that name,
 * whoever's (-EINVAL when several users have one: name the user). -ENOENT. */
int reel_token_remove(struct reel_users *u, const char *user, const char *name, struct reel_err *err);
struct reel_token_info {
    int64_t id;
    char name[REEL_USER_NAME_MAX];
    char user[REEL_USER_NAME_MAX];
    int64_t created_unix;
    int64_t expires_unix;         /* 0 = none of its own */
    int64_t last_used_unix;       /* 0 = never */
};
/* user's tokens, or every token when user is NULL; by user, then name.
 * Never the secret (only its hash is stored). *ret malloc'd (free()). */
int reel_token_list(struct reel_users *u, const char *user, struct reel_token_info **ret, size_t *ret_n,
                    struct reel_err *err);

/* ---- camera lists and TOTP (src/http/user_access.c, schema version 4) ----
 * Operators and viewers see the cameras of their list (table
 * web_user_camera) or, with cameras_all, every camera; admins see every
 * camera and auditors none whatever the list says (http/access.c decides).
 * A new user's list is empty; users that existed before version 4 were
 * given cameras_all at the upgrade. */
#define REEL_USER_CAMERAS_MAX 1024
#define REEL_CAMERA_NAME_MAX 64
/* Replaces user name's list: all, or exactly names[0..n) (main cameras by
 * name, n <= REEL_USER_CAMERAS_MAX), in one transaction. -ENOENT for an
 * unknown user or camera (err names it), -EINVAL for too many. */
int reel_users_set_cameras(struct reel_users *u, const char *name, bool all, const char *const *names, size_t n,
                           struct reel_err *err);
/* user_id's list: *ret_all, and the camera names in *ret (malloc'd, free();
 * NULL when none), at most REEL_USER_CAMERAS_MAX. */
int reel_users_cameras(struct reel_users *u, int64_t user_id, bool *ret_all, char (**ret)[REEL_CAMERA_NAME_MAX],
                       size_t *ret_n, struct reel_err *err);
/* The same by user name; -ENOENT for an unknown user. */
int reel_users_cameras_by_name(struct reel_users *u, const char *name, bool *ret_all,
                               char (**ret)[REEL_CAMERA_NAME_MAX], size_t *ret_n, struct reel_err *err);

/* TOTP (http/totp.h). The secret is kept in web_user (totp_secret; a
 * secret being enrolled in totp_pending until a code confirms it). */
#define REEL_TOTP_KEY_LEN 20
/* Makes a new pending secret for user_id (replacing any pending one; an
 * active secret stays active until the new one is confirmed) and copies it
 * to key. */
int reel_users_totp_begin(struct reel_users *u, int64_t user_id, uint8_t key[REEL_TOTP_KEY_LEN], struct reel_err *err);
/* Checks code against the pending secret (confirm = true) or the active
 * one, at Unix time now_s: 0 when right (confirm: the pending secret
 * becomes the active one; the code's step is recorded so that it cannot be
 * used again); -EACCES when wrong, reused, or there is no such secret
 * (-ENOENT: none, pending or active as asked). */
int reel_users_totp_verify(struct reel_users *u, int64_t user_id, const char *code, int64_t now_s, bool confirm,
                           struct reel_err *err);
/* Removes user name's TOTP (active and pending). -ENOENT for an unknown user. */
int reel_users_totp_clear(struct reel_users *u, const char *name, struct reel_err *err);
/* A site setting's value ("" when unset) read through the accounts
 * connection (table setting): the login and the dispatcher read
 * totp.required_admin without a store handle. */
int reel_users_setting(struct reel_users *u, const char *key, char *out, size_t cap, struct reel_err *err);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Accounts, sessions and API tokens against a real reel.db in a temporary
 * data directory: argon2id hashes only, secrets stored hashed, expiry,
 * CSRF tokens, password change ending sessions, removal cascading.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/clock.h"
#include "http/users.h"
#include "store/store.h"

struct fx {
    char tmp[64];
    char dir[128];
    struct reel_users *u;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/reel-test-users-XXXXXX");
    if (!mkdtemp(f->tmp))
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/data", f->tmp);
    struct reel_err err = { "" };
    if (reel_store_init(f->dir, &err) < 0)
        return -1;
    if (reel_users_open(&f->u, f->dir, &err) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    reel_users_close(f->u);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->tmp);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Every secret column of the database, dumped, must not contain s. */
static void assert_not_in_db(const char *dir, const char *s)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/reel.db", dir);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    assert_null(memmem(buf, n, s, strlen(s)));
    snprintf(path, sizeof(path), "%s/reel.db-wal", dir);
    fp = fopen(path, "rb");
    if (fp) {
        n = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
        assert_null(memmem(buf, n, s, strlen(s)));
    }
}

static void test_users(void **state)
{
    struct fx *f = *state;
    struct reel_err err = { "" };
    int64_t n = -1;
    assert_int_equal(reel_users_count(f->u, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(reel_users_add(f->u, "alice", "correct horse", &err), 0);
    assert_int_equal(reel_users_add(f->u, "alice", "correct horse", &err), -EEXIST);
    assert_int_equal(reel_users_add(f->u, "bad/name", "correct horse", &err), -EINVAL);
    assert_int_equal(reel_users_add(f->u, "bob", "short", &err), -EINVAL);
    assert_int_equal(reel_users_count(f->u, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_not_in_db(f->dir, "correct horse");
    int64_t id = 0;
    assert_int_equal(reel_users_verify(f->u, "alice", "correct horse", &id, &err), 0);
    assert_true(id > 0);
    assert_int_equal(reel_users_verify(f->u, "alice", "wrong horse", &id, &err), -EACCES);
    assert_int_equal(reel_users_verify(f->u, "nobody", "correct horse", &id, &err), -EACCES);
    /* the stored hash is argon2id */
    char path[256];
    snprintf(path, sizeof(path), "%s/reel.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT pwhash FROM web_user", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *h = (const char *)sqlite3_column_text(st, 0);
    assert_non_null(strstr(h, "$argon2id$"));
    assert_non_null(strstr(h, "m=19456,t=2"));
    sqlite3_finalize(st);
    sqlite3_close(db);

    assert_int_equal(reel_users_passwd(f->u, "alice", "battery staple", &err), 0);
    assert_int_equal(reel_users_verify(f->u, "alice", "correct horse", &id, &err), -EACCES);
    assert_int_equal(reel_users_verify(f->u, "alice", "battery staple", &id, &err), 0);
    assert_int_equal(reel_users_passwd(f->u, "nobody", "battery staple", &err), -ENOENT);

    char pw[17];
    reel_users_random_password(pw, 16);
    assert_int_equal(strlen(pw), 16);
}

static void test_sessions_tokens(void **state)
{
    struct fx *f = *state;
    struct reel_err err = { "" };
    assert_int_equal(reel_users_add(f->u, "alice", "correct horse", &err), 0);
    int64_t id = 0;
    assert_int_equal(reel_users_verify(f->u, "alice", "correct horse", &id, &err), 0);
    const int64_t S = REEL_NS_PER_SEC, now = INT64_C(1700000000) * S;
    const int64_t idle = 3600 * S, max = 86400 * S;
    char sid[REEL_SECRET_MAX], sid2[REEL_SECRET_MAX];
    struct reel_auth a, b;
    assert_int_equal(reel_session_create(f->u, id, now, sid, &a, &err), 0);
    assert_int_equal(strlen(sid), 64);
    assert_string_equal(a.user, "alice");
    assert_int_equal(strlen(a.csrf), 64);
    assert_string_not_equal(a.csrf, sid);
    assert_not_in_db(f->dir, sid);
    assert_int_equal(reel_session_lookup(f->u, sid, now + 10 * S, idle, max, &b, &err), 0);
    assert_string_equal(b.user, "alice");
    assert_string_equal(b.csrf, a.csrf);
    assert_int_equal(reel_session_lookup(f->u, "0000", now, idle, max, &b, &err), -ENOENT);
    /* idle expiry, refreshed by use */
    assert_int_equal(reel_session_lookup(f->u, sid, now + 3000 * S, idle, max, &b, &err), 0);
    assert_int_equal(reel_session_lookup(f->u, sid, now + 6000 * S, idle, max, &b, &err), 0);
    assert_int_equal(reel_session_lookup(f->u, sid, now + 6000 * S + idle + S, idle, max, &b, &err), -ENOENT);
    /* expired sessions are gone for good */
    assert_int_equal(reel_session_lookup(f->u, sid, now + 6000 * S, idle, max, &b, &err), -ENOENT);
    /* absolute expiry even when used */
    assert_int_equal(reel_session_create(f->u, id, now, sid, &a, &err), 0);
    for (int64_t t = now; t < now + max; t += 1800 * S)
        assert_int_equal(reel_session_lookup(f->u, sid, t, idle, max, &b, &err), 0);
    assert_int_equal(reel_session_lookup(f->u, sid, now + max + S, idle, max, &b, &err), -ENOENT);
    /* logout, and a password change ends every session */
    assert_int_equal(reel_session_create(f->u, id, now, sid, &a, &err), 0);
    assert_int_equal(reel_session_create(f->u, id, now, sid2, &a, &err), 0);
    assert_int_equal(reel_session_delete(f->u, sid, &err), 0);
    assert_int_equal(reel_session_lookup(f->u, sid, now, idle, max, &b, &err), -ENOENT);
    assert_int_equal(reel_session_lookup(f->u, sid2, now, idle, max, &b, &err), 0);
    assert_int_equal(reel_users_passwd(f->u, "alice", "battery staple", &err), 0);
    assert_int_equal(reel_session_lookup(f->u, sid2, now, idle, max, &b, &err), -ENOENT);

    char tok[REEL_SECRET_MAX];
    assert_int_equal(reel_token_add(f->u, "backup", "alice", now, 0, tok, &err), 0);
    assert_int_equal(strncmp(tok, "reel_", 5), 0);
    assert_not_in_db(f->dir, tok + 5);
    assert_int_equal(reel_token_add(f->u, "backup", "alice", now, 0, tok, &err), -EEXIST);
    char tok2[REEL_SECRET_MAX];
    assert_int_equal(reel_token_add(f->u, "x", "nobody", now, 0, tok2, &err), -ENOENT);
    assert_int_equal(reel_token_add(f->u, "a.b", "alice", now, 0, tok2, &err), -EINVAL);
    assert_int_equal(reel_token_lookup(f->u, tok, now, 0, &b, &err), 0);
    assert_string_equal(b.user, "alice");
    assert_string_equal(b.csrf, "");
    tok[10] = tok[10] == 'a' ? 'b' : 'a';
    assert_int_equal(reel_token_lookup(f->u, tok, now, 0, &b, &err), -ENOENT);
    struct reel_token_info *ti = NULL;
    size_t n = 0;
    assert_int_equal(reel_token_list(f->u, NULL, &ti, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ti[0].name, "backup");
    free(ti);
    /* removing the user removes their tokens */
    assert_int_equal(reel_users_add(f->u, "bob", "correct horse", &err), 0);
    assert_int_equal(reel_token_add(f->u, "bobs", "bob", now, 0, tok2, &err), 0);
    assert_int_equal(reel_users_remove(f->u, "bob", &err), 0);
    assert_int_equal(reel_token_lookup(f->u, tok2, now, 0, &b, &err), -ENOENT);
    assert_int_equal(reel_users_remove(f->u, "bob", &err), -ENOENT);
    assert_int_equal(reel_token_remove(f->u, "alice", "backup", &err), 0);
    assert_int_equal(reel_token_remove(f->u, "alice", "backup", &err), -ENOENT);
}

/* Issue 11: tokens expire, end with a password change, are listed without
 * their secret, revoked by name, and named per user. */
static void test_token_lifetime(void **state)
{
    struct fx *f = *state;
    struct reel_err err = { "" };
    const int64_t S = REEL_NS_PER_SEC, day = 86400 * S, now = INT64_C(1795734000) * S;
    assert_int_equal(reel_users_add(f->u, "alice", "correct horse", &err), 0);
    assert_int_equal(reel_users_add(f->u, "bob", "correct horse", &err), 0);
    char t1[REEL_SECRET_MAX], t2[REEL_SECRET_MAX], t3[REEL_SECRET_MAX];
    struct reel_auth b;
    /* its own expiry */
    assert_int_equal(reel_token_add(f->u, "ci", "alice", now, now + 30 * day, t1, &err), 0);
    assert_int_equal(reel_token_lookup(f->u, t1, now + 30 * day - S, 365 * day, &b, &err), 0);
    assert_int_equal(reel_token_lookup(f->u, t1, now + 30 * day, 365 * day, &b, &err), -ENOENT);
    assert_int_equal(reel_token_lookup(f->u, t1, now, 365 * day, &b, &err), -ENOENT); /* deleted */
    /* the server's maximum ends a token whatever its own expiry (or none) */
    assert_int_equal(reel_token_add(f->u, "ci", "alice", now, 0, t1, &err), 0);
    assert_int_equal(reel_token_lookup(f->u, t1, now + 9 * day, 10 * day, &b, &err), 0);
    assert_int_equal(reel_token_lookup(f->u, t1, now + 10 * day, 10 * day, &b, &err), -ENOENT);
    /* names are per user: bob may have a "ci" too */
    assert_int_equal(reel_token_add(f->u, "ci", "alice", now, now + day, t1, &err), 0);
    assert_int_equal(reel_token_add(f->u, "ci", "bob", now, now + 2 * day, t2, &err), 0);
    assert_int_equal(reel_token_add(f->u, "ci", "alice", now, now + day, t3, &err), -EEXIST);
    assert_int_equal(reel_token_add(f->u, "other", "alice", now, now + day, t3, &err), 0);
    struct reel_token_info *ti = NULL;
    size_t n = 0;
    assert_int_equal(reel_token_list(f->u, "bob", &ti, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ti[0].name, "ci");
    assert_string_equal(ti[0].user, "bob");
    assert_true(ti[0].expires_unix == now / S + 2 * 86400);
    assert_true(ti[0].created_unix == now / S);
    free(ti);
    assert_int_equal(reel_token_list(f->u, NULL, &ti, &n, &err), 0);
    assert_int_equal(n, 3);
    free(ti);
    /* revoking by name without a user: ambiguous */
    assert_int_equal(reel_token_remove(f->u, NULL, "ci", &err), -EINVAL);
    assert_int_equal(reel_token_remove(f->u, "bob", "ci", &err), 0);
    assert_int_equal(reel_token_lookup(f->u, t2, now, 0, &b, &err), -ENOENT);
    assert_int_equal(reel_token_lookup(f->u, t1, now, 0, &b, &err), 0);
    assert_int_equal(reel_token_remove(f->u, "bob", "ci", &err), -ENOENT);
    /* a password change ends the user's tokens, not other users' */
    assert_int_equal(reel_token_add(f->u, "ci", "bob", now, 0, t2, &err), 0);
    assert_int_equal(reel_users_passwd(f->u, "alice", "battery staple", &err), 0);
    assert_int_equal(reel_token_lookup(f->u, t1, now, 0, &b, &err), -ENOENT);
    assert_int_equal(reel_token_lookup(f->u, t3, now, 0, &b, &err), -ENOENT);
    assert_int_equal(reel_token_lookup(f->u, t2, now, 0, &b, &err), 0);
    assert_int_equal(reel_token_remove(f->u, NULL, "ci", &err), 0); /* now the only one */
}

/* The guarded role change and removal keep one admin, counted in the same
 * statement (a second connection sees the first's change); sessions end. */
static void test_keep_last_admin(void **state)
{
    struct fx *f = *state;
    struct reel_err err = { "" };
    struct reel_users *u2;
    assert_int_equal(reel_users_open(&u2, f->dir, &err), 0);
    assert_int_equal(reel_users_add(f->u, "alice", "correct horse", &err), 0);
    assert_int_equal(reel_users_add(f->u, "bob", "correct horse", &err), 0);
    /* both admins (the default); each connection demotes the other */
    assert_int_equal(reel_users_set_role_keep_admin(f->u, "bob", "viewer", &err), 0);
    assert_int_equal(reel_users_set_role_keep_admin(u2, "alice", "viewer", &err), -EMLINK);
    assert_int_equal(reel_users_remove_keep_admin(u2, "alice", &err), -EMLINK);
    assert_int_equal(reel_users_set_role_keep_admin(u2, "alice", "admin", &err), 0);   /* admin to admin: fine */
    assert_int_equal(reel_users_set_role_keep_admin(u2, "nobody", "viewer", &err), -ENOENT);
    assert_int_equal(reel_users_remove_keep_admin(u2, "nobody", &err), -ENOENT);
    assert_int_equal(reel_users_remove_keep_admin(u2, "bob", &err), 0);               /* not an admin */
    /* the unguarded ones (the CLI's) still do as told */
    assert_int_equal(reel_users_set_role(f->u, "alice", "viewer", &err), 0);
    /* sessions end, tokens stay */
    int64_t id = 0, n = -1;
    assert_int_equal(reel_users_verify(f->u, "alice", "correct horse", &id, &err), 0);
    char sid[REEL_SECRET_MAX], sid2[REEL_SECRET_MAX], tok[REEL_SECRET_MAX];
    struct reel_auth a;
    assert_int_equal(reel_session_create(f->u, id, 1000, sid, &a, &err), 0);
    assert_int_equal(reel_session_create(f->u, id, 1000, sid2, &a, &err), 0);
    assert_int_equal(reel_token_add(f->u, "script", "alice", 1000, 0, tok, &err), 0);
    assert_int_equal(reel_users_sessions_end(u2, "alice", &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(reel_session_lookup(f->u, sid, 2000, INT64_MAX / 4, INT64_MAX / 4, &a, &err), -ENOENT);
    assert_int_equal(reel_token_lookup(f->u, tok, 2000, 0, &a, &err), 0);
    assert_int_equal(reel_users_sessions_end(u2, "nobody", &n, &err), -ENOENT);
    reel_users_close(u2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_last_admin, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unit tests for reel.db's owner (src/db) and the store's narrow queries
 * (src/store/query.c), against real SQLite files in temporary data
 * directories: a new database is the current version with every table; a version-1
 * database (made here by the SQL the previous release ran) is refused by a
 * reader, upgraded by a writer (store or accounts) to exactly the schema of a
 * new one, its users made admins; a newer database is refused by everyone;
 * a failing upgrade step leaves the database as it was; spans equal the
 * recordings without their blobs; the view ETag is the documented hash and
 * changes when a recording grows, but not inside a read snapshot; a database
 * error (table dropped, file corrupted) is an error, never -ENOENT or a
 * short result.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "base/strutil.h"
#include "db/db.h"
#include "http/users.h"
#include "store/store.h"

#define WALL0 (INT64_C(1700000000) * REEL_NS_PER_SEC)

/* The schema of version 1, as the previous release (68dd335) created it:
 * the store's tables at `reel init` ... */
static const char v1_store_sql[] =
    "CREATE TABLE storage_dir (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, uuid TEXT NOT NULL UNIQUE);"
    "CREATE TABLE camera (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL,"
    "  user TEXT NOT NULL DEFAULT '', password TEXT, udp INTEGER NOT NULL DEFAULT 0,"
    "  retain_bytes INTEGER NOT NULL DEFAULT 0 CHECK (retain_bytes >= 0),"
    "  retain_seconds INTEGER NOT NULL DEFAULT 0 CHECK (retain_seconds >= 0),"
    "  dir_id INTEGER NOT NULL REFERENCES storage_dir (id));"
    "CREATE TABLE sample_entry (id INTEGER PRIMARY KEY, width INTEGER NOT NULL, height INTEGER NOT NULL,"
    "  codec_string TEXT NOT NULL, data BLOB NOT NULL UNIQUE);"
    "CREATE TABLE recording (id INTEGER PRIMARY KEY, camera_id INTEGER NOT NULL REFERENCES camera (id),"
    "  run_id INTEGER NOT NULL DEFAULT 0, run_index INTEGER NOT NULL DEFAULT 0, start90k INTEGER NOT NULL DEFAULT 0,"
    "  wall_duration90k INTEGER NOT NULL DEFAULT 0, media_duration90k INTEGER NOT NULL DEFAULT 0,"
    "  frames INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    "  sample_entry_id INTEGER REFERENCES sample_entry (id), dir_id INTEGER NOT NULL REFERENCES storage_dir (id),"
    "  open INTEGER NOT NULL DEFAULT 1, video_index BLOB NOT NULL DEFAULT x'');"
    "CREATE INDEX recording_camera_start ON recording (camera_id, start90k);"
    "CREATE TABLE garbage (dir_id INTEGER NOT NULL, camera_id INTEGER NOT NULL, recording_id INTEGER NOT NULL,"
    "  PRIMARY KEY (dir_id, recording_id));"
    "CREATE TABLE outage (id INTEGER PRIMARY KEY, camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,"
    "  start90k INTEGER NOT NULL, end90k INTEGER, reason TEXT NOT NULL);"
    "CREATE INDEX outage_camera_start ON outage (camera_id, start90k);"
    "CREATE TABLE deletion (id INTEGER PRIMARY KEY, camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,"
    "  start90k INTEGER NOT NULL, end90k INTEGER NOT NULL, reason TEXT NOT NULL);"
    "CREATE INDEX deletion_camera_start ON deletion (camera_id, start90k);"
    "CREATE TABLE camera_status (camera_id INTEGER PRIMARY KEY REFERENCES camera (id) ON DELETE CASCADE,"
    "  connected INTEGER NOT NULL, state TEXT NOT NULL, last_error TEXT NOT NULL, fps REAL NOT NULL,"
    "  bitrate_bps REAL NOT NULL, updated90k INTEGER NOT NULL);"
    "PRAGMA user_version = 1;";
/* ... and the account tables its HTTP side added when it first ran. */
static const char v1_accounts_sql[] =
    "CREATE TABLE IF NOT EXISTS web_user (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  pwhash TEXT NOT NULL, created_ns INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS web_session (hash BLOB PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES web_user(id) ON DELETE CASCADE, csrf TEXT NOT NULL,"
    "  created_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS web_token (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  hash BLOB NOT NULL UNIQUE, user_id INTEGER NOT NULL REFERENCES web_user(id) ON DELETE CASCADE,"
    "  created_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL DEFAULT 0);";

struct fx {
    char dir[64];           /* a data dir made by reel_store_init */
    char ref[64];           /* a second, new one: the schema to compare with */
    struct reel_clock_fake clk;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/reel-db-test-XXXXXX");
    snprintf(f->ref, sizeof(f->ref), "/tmp/reel-db-ref-XXXXXX");
    if (!mkdtemp(f->dir) || !mkdtemp(f->ref))
        return -1;
    struct reel_err err = { "" };
    if (reel_store_init(f->dir, &err) < 0 || reel_store_init(f->ref, &err) < 0) {
        fprintf(stderr, "init: %s\n", err.msg);
        return -1;
    }
    reel_clock_fake_init(&f->clk, 1000 * REEL_NS_PER_SEC, WALL0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    nftw(f->ref, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static sqlite3 *raw_open(const char *dir)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/reel.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void raw_exec(const char *dir, const char *sql)
{
    sqlite3 *db = raw_open(dir);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, msg);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

/* The first column of the first row of sql, as an integer (-1: no row). */
static int64_t raw_int(const char *dir, const char *sql)
{
    sqlite3 *db = raw_open(dir);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Replaces f->dir's reel.db by a version-1 database with the same storage
 * dir row (so its identity file still matches), one camera, and with
 * accounts: the account tables and two users. */
static void make_v1(struct fx *f, bool accounts)
{
    sqlite3 *db = raw_open(f->dir);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT path, uuid FROM storage_dir", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *ins = sqlite3_mprintf("INSERT INTO storage_dir (id, path, uuid) VALUES (1, %Q, %Q);"
                                "INSERT INTO camera (name, url, dir_id) VALUES ('front', 'rtsp://192.0.2.1/s', 1);",
                                (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
    char path[128];
    snprintf(path, sizeof(path), "%s/reel.db", f->dir);
    assert_int_equal(unlink(path), 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    raw_exec(f->dir, "PRAGMA journal_mode = WAL");
    raw_exec(f->dir, v1_store_sql);
    raw_exec(f->dir, ins);
    sqlite3_free(ins);
    if (accounts) {
        raw_exec(f->dir, v1_accounts_sql);
        raw_exec(f->dir, "INSERT INTO web_user (name, pwhash, created_ns) VALUES ('alice', 'x', 1), ('bob', 'y', 2);"
                         "INSERT INTO web_token (name, hash, user_id, created_ns) VALUES ('t', x'01', 1, 3);");
    }
    assert_int_equal(raw_int(f->dir, "PRAGMA user_version"), 1);
}

static int open_store(struct fx *f, const char *dir, enum reel_store_mode mode, struct reel_store **ret,
                      struct reel_err *err)
{
    struct reel_store_cfg cfg = { .datadir = dir, .mode = mode, .clock = &f->clk.clock,
                                  .checkpoint_ns = 3600 * REEL_NS_PER_SEC, .rotate_ns = REEL_NS_PER_SEC };
    return reel_store_open(ret, &cfg, err);
}

/* Every table and index of dir's reel.db with its columns, indexes and
 * foreign keys, as one text. */
static char *schema_text(const char *dir)
{
    sqlite3 *db = raw_open(dir);
    size_t cap = 65536, n = 0;
    char *out = calloc(1, cap);
    sqlite3_stmt *t;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT type, name FROM sqlite_master ORDER BY type, name", -1, &t, NULL),
                     SQLITE_OK);
    while (sqlite3_step(t) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(t, 0), *name = (const char *)sqlite3_column_text(t, 1);
        n += (size_t)snprintf(out + n, cap - n, "%s %s\n", type, name);
        static const char *const pragmas[] = { "table_info", "index_list", "foreign_key_list", "index_info" };
        for (size_t p = 0; p < 4; p++) {
            if ((p < 3) != (strcmp(type, "table") == 0))
                continue;
            char *sql = sqlite3_mprintf("PRAGMA %s(%Q)", pragmas[p], name);
            sqlite3_stmt *q;
            assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
            sqlite3_free(sql);
            while (sqlite3_step(q) == SQLITE_ROW) {
                n += (size_t)snprintf(out + n, cap - n, "  %s:", pragmas[p]);
                for (int c = 0; c < sqlite3_column_count(q); c++) {
                    const char *v = (const char *)sqlite3_column_text(q, c);
                    /* names of automatic indexes and the "id" of foreign
                     * keys depend on creation order, not on the schema */
                    if (p == 1 && c == 0)
                        continue;
                    if (p == 1 && c == 1 && v && strncmp(v, "sqlite_autoindex_", 17) == 0)
                        v = "(auto)";
                    n += (size_t)snprintf(out + n, cap - n, " %s", v ? v : "NULL");
                }
                n += (size_t)snprintf(out + n, cap - n, "\n");
            }
            sqlite3_finalize(q);
        }
        assert_true(n < cap - 1024);
    }
    sqlite3_finalize(t);
    sqlite3_close(db);
    return out;
}

static void test_new_database(void **state)
{
    struct fx *f = *state;
    assert_int_equal(raw_int(f->dir, "PRAGMA user_version"), REEL_DB_VERSION);
    assert_int_equal(raw_int(f->dir, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                     "('camera', 'recording', 'web_user', 'web_session', 'web_token')"), 5);
    /* reel init on it again: EEXIST, database untouched */
    struct reel_err err = { "" };
    assert_int_equal(reel_store_init(f->dir, &err), -EEXIST);
    /* no reel.db at all, and an empty one: not initialised */
    char empty[80];
    snprintf(empty, sizeof(empty), "%s/empty", f->dir);
    assert_int_equal(mkdir(empty, 0700), 0);
    struct reel_store *s = NULL;
    assert_int_equal(open_store(f, empty, REEL_STORE_READ, &s, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "not initialised"));
    char p[128];
    snprintf(p, sizeof(p), "%s/reel.db", empty);
    close(open(p, O_WRONLY | O_CREAT, 0600));
    assert_int_equal(open_store(f, empty, REEL_STORE_ADMIN, &s, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "not initialised (run reel init)"));
    struct reel_users *u = NULL;
    assert_int_equal(reel_users_open(&u, empty, &err), -ENOENT);
}

static void test_upgrade_v1_by_store(void **state)
{
    struct fx *f = *state;
    make_v1(f, true);
    struct reel_err err = { "" };
    struct reel_store *s = NULL;
    /* a reader refuses, says what to do, changes nothing */
    assert_int_equal(open_store(f, f->dir, REEL_STORE_READ, &s, &err), -EPROTO);
    assert_non_null(strstr(err.msg, "is schema version 1, this Reel needs 4"));
    assert_non_null(strstr(err.msg, "reel run"));
    assert_int_equal(raw_int(f->dir, "PRAGMA user_version"), 1);
    /* a writer upgrades */
    assert_int_equal(open_store(f, f->dir, REEL_STORE_ADMIN, &s, &err), 0);
    assert_int_equal(raw_int(f->dir, "PRAGMA user_version"), REEL_DB_VERSION);
    struct reel_camera c;
    assert_int_equal(reel_store_camera_get(s, "front", &c, &err), 0);
    assert_false(c.disabled);
    reel_store_close(s);
    /* users kept, made admins; their token kept */
    assert_int_equal(raw_int(f->dir, "SELECT COUNT(*) FROM web_user WHERE role = 'admin'"), 2);
    assert_int_equal(raw_int(f->dir, "SELECT COUNT(*) FROM web_token"), 1);
    /* issue 14 (ac-roles): users that existed keep seeing every camera */
    assert_int_equal(raw_int(f->dir, "SELECT COUNT(*) FROM web_user WHERE cameras_all = 1"), 2);
    /* exactly the schema of a new database */
    char *a = schema_text(f->dir), *b = schema_text(f->ref);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* now readers open it */
    assert_int_equal(open_store(f, f->dir, REEL_STORE_READ, &s, &err), 0);
    reel_store_close(s);
    /* the role is enforced by the schema */
    sqlite3 *db = raw_open(f->dir);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE web_user SET role = 'root'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_upgrade_v1_by_accounts(void **state)
{
    struct fx *f = *state;
    make_v1(f, false); /* the HTTP side never ran: no account tables */
    assert_int_equal(raw_int(f->dir, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'web_%'"), 0);
    struct reel_err err = { "" };
    struct reel_users *u = NULL;
    assert_int_equal(reel_users_open(&u, f->dir, &err), 0);
    assert_int_equal(raw_int(f->dir, "PRAGMA user_version"), REEL_DB_VERSION);
    assert_int_equal(reel_users_add(u, "carol", "a-long-password", &err), 0);
    struct reel_user_info *list = NULL;
    size_t n = 0;
    assert_int_equal(reel_users_list(u, &list, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].role, "admin");
    free(list);
    assert_int_equal(reel_users_set_role(u, "carol", "viewer", &err), 0);
    assert_int_equal(reel_users_set_role(u, "carol", "root", &err), -EINVAL);
    assert_int_equal(reel_users_set_role(u, "dave", "viewer", &err), -ENOENT);
    int64_t id = 0;
    assert_int_equal(reel_users_verify(u, "carol", "a-long-password", &id, &err), 0);
    char sid[REEL_SECRET_MAX];
    struct reel_auth auth;
    assert_int_equal(reel_session_create(u, id, WALL0, sid, &auth, &err), 0);
    assert_string_equal(auth.role, "viewer");
    assert_int_equal(reel_session_lookup(u, sid, WALL0, REEL_NS_PER_SEC, REEL_NS_PER_SEC, &auth, &err), 0);
    assert_string_equal(auth.role, "viewer");
    reel_users_close(u);
    char *a = schema_text(f->dir), *b = schema_text(f->ref);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* 2 -> 3, the accounts' block (issue 11): tokens keep their rows, gain
 * expires_ns = 0, and their names become unique per user. */
static void test_upgrade_v2_tokens(void **state)
{
    struct fx *f = *state;
    make_v1(f, true);
    sqlite3 *db = raw_open(f->dir);
    struct reel_err err = { "" };
    assert_int_equal(reel_db_upgrade_to(db, 2, &err), 0);
    sqlite3_close(db);
    assert_int_equal(raw_int(f->dir, "PRAGMA user_version"), 2);
    /* version 2: token names unique across users */
    db = raw_open(f->dir);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO web_token (name, hash, user_id, created_ns) "
                                          "VALUES ('t', x'02', 2, 4)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct reel_users *u = NULL;
    assert_int_equal(reel_users_open(&u, f->dir, &err), 0);
    assert_int_equal(raw_int(f->dir, "PRAGMA user_version"), REEL_DB_VERSION);
    /* the token kept, with no expiry of its own */
    assert_int_equal(raw_int(f->dir, "SELECT COUNT(*) FROM web_token WHERE id = 1 AND name = 't' AND user_id = 1 "
                                     "AND created_ns = 3 AND hash = x'01' AND expires_ns = 0"), 1);
    /* now bob may have a "t" too; alice not a second one */
    char tok[REEL_SECRET_MAX];
    assert_int_equal(reel_token_add(u, "t", "bob", WALL0, 0, tok, &err), 0);
    assert_int_equal(reel_token_add(u, "t", "alice", WALL0, 0, tok, &err), -EEXIST);
    reel_users_close(u);
    char *a = schema_text(f->dir), *b = schema_text(f->ref);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* Site-wide settings: unset is -ENOENT, set, replace, remove; bad keys and
 * values over the cap refused; a value that does not fit the caller's
 * buffer is -ENAMETOOLONG, not cut. */
static void test_settings(void **state)
{
    struct fx *f = *state;
    struct reel_err err = { "" };
    struct reel_store *s = NULL;
    assert_int_equal(open_store(f, f->dir, REEL_STORE_ADMIN, &s, &err), 0);
    char v[REEL_SETTING_MAX];
    assert_int_equal(reel_store_setting_get(s, "retention.cap_days", v, sizeof(v), &err), -ENOENT);
    assert_string_equal(v, "");
    assert_int_equal(reel_store_setting_set(s, "retention.cap_days", "30", &err), 0);
    assert_int_equal(reel_store_setting_set(s, "retention.cap_days", "14", &err), 0);
    assert_int_equal(reel_store_setting_get(s, "retention.cap_days", v, sizeof(v), &err), 0);
    assert_string_equal(v, "14");
    char small[2];
    assert_int_equal(reel_store_setting_get(s, "retention.cap_days", small, sizeof(small), &err), -ENAMETOOLONG);
    assert_int_equal(reel_store_setting_set(s, "Bad Key", "1", &err), -EINVAL);
    assert_int_equal(reel_store_setting_get(s, "", v, sizeof(v), &err), -EINVAL);
    char big[REEL_SETTING_MAX + 1];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(reel_store_setting_set(s, "k", big, &err), -EINVAL);
    assert_int_equal(reel_store_setting_set(s, "retention.cap_days", NULL, &err), 0);
    assert_int_equal(reel_store_setting_get(s, "retention.cap_days", v, sizeof(v), &err), -ENOENT);
    reel_store_close(s);
}

static void test_newer_refused(void **state)
{
    struct fx *f = *state;
    raw_exec(f->dir, "PRAGMA user_version = 99");
    struct reel_err err = { "" };
    struct reel_store *s = NULL;
    for (int mode = REEL_STORE_READ; mode <= REEL_STORE_RECORD; mode++) {
        memset(&err, 0, sizeof(err));
        assert_int_equal(open_store(f, f->dir, (enum reel_store_mode)mode, &s, &err), -EPROTONOSUPPORT);
        assert_non_null(strstr(err.msg, "is schema version 99, this Reel knows up to 4: use a newer Reel"));
    }
    struct reel_users *u = NULL;
    assert_int_equal(reel_users_open(&u, f->dir, &err), -EPROTONOSUPPORT);
    assert_int_equal(reel_store_init(f->dir, &err), -EPROTONOSUPPORT);
    assert_int_equal(raw_int(f->dir, "PRAGMA user_version"), 99);
}

static void test_failed_upgrade_rolls_back(void **state)
{
    struct fx *f = *state;
    /* A version-1 database whose camera table already has "enabled": the
     * step's ALTER TABLE camera fails after it has created the account
     * tables. Nothing of it may remain. */
    make_v1(f, false);
    raw_exec(f->dir, "ALTER TABLE camera ADD COLUMN enabled INTEGER");
    struct reel_err err = { "" };
    struct reel_store *s = NULL;
    int r = open_store(f, f->dir, REEL_STORE_ADMIN, &s, &err);
    assert_true(r < 0 && r != -ENOENT);
    assert_non_null(strstr(err.msg, "nothing changed"));
    assert_non_null(strstr(err.msg, "duplicate column name"));
    assert_int_equal(raw_int(f->dir, "PRAGMA user_version"), 1);
    assert_int_equal(raw_int(f->dir, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'web_%'"), 0);
    assert_int_equal(raw_int(f->dir, "SELECT COUNT(*) FROM camera"), 1);
}

static int step_ok(sqlite3 *db, struct reel_err *err) { return reel_db_exec(db, "CREATE TABLE t2 (x)", err); }
static int step_fail(sqlite3 *db, struct reel_err *err)
{
    int r = reel_db_exec(db, "CREATE TABLE t3 (x); INSERT INTO t1 VALUES (2)", err);
    return r < 0 ? r : reel_db_exec(db, "INSERT INTO no_such_table VALUES (1)", err);
}
static int step_fk(sqlite3 *db, struct reel_err *err)
{
    return reel_db_exec(db, "CREATE TABLE c (p INTEGER REFERENCES t1 (x)); INSERT INTO c VALUES (42)", err);
}

static void test_upgrade_engine(void **state)
{
    (void)state;
    char path[] = "/tmp/reel-db-engine-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t1 (x INTEGER PRIMARY KEY); INSERT INTO t1 VALUES (1); "
                                      "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    struct reel_err err = { "" };
    const struct reel_db_step steps[] = { { 1, step_ok }, { 2, step_fail } };
    int r = reel_db_upgrade_with(db, steps, 2, 3, &err);
    assert_true(r < 0 && r != -ENOENT);
    assert_non_null(strstr(err.msg, "from schema version 1 to 3 failed at the step from 2"));
    int v = 0;
    assert_int_equal(reel_db_version(db, &v, &err), 0);
    assert_int_equal(v, 1);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT COUNT(*) FROM sqlite_master), (SELECT COUNT(*) FROM t1)",
                                        -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1); /* only t1: no t2, no t3 */
    assert_int_equal(sqlite3_column_int(st, 1), 1);
    sqlite3_finalize(st);
    assert_true(sqlite3_get_autocommit(db)); /* no transaction left open */
    /* a step that breaks a foreign key is refused at the end, rolled back */
    const struct reel_db_step fk[] = { { 1, step_fk } };
    assert_int_equal(reel_db_upgrade_with(db, fk, 1, 2, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "foreign key"));
    assert_int_equal(reel_db_version(db, &v, &err), 0);
    assert_int_equal(v, 1);
    /* no step for a version: refused */
    assert_int_equal(reel_db_upgrade_with(db, steps, 1, 3, &err), -EPROTO);
    /* the good path: both steps, one commit */
    const struct reel_db_step good[] = { { 1, step_ok } };
    assert_int_equal(reel_db_upgrade_with(db, good, 1, 2, &err), 0);
    assert_int_equal(reel_db_version(db, &v, &err), 0);
    assert_int_equal(v, 2);
    /* nothing to do: 0, version unchanged */
    assert_int_equal(reel_db_upgrade_with(db, good, 1, 2, &err), 0);
    sqlite3_close(db);
    unlink(path);
}

/* ---- queries ---- */

static void make_frame(int i, uint8_t *buf, size_t len)
{
    uint32_t nl = (uint32_t)(len - 4);
    buf[0] = (uint8_t)(nl >> 24); buf[1] = (uint8_t)(nl >> 16); buf[2] = (uint8_t)(nl >> 8); buf[3] = (uint8_t)nl;
    for (size_t k = 4; k < len; k++)
        buf[k] = (uint8_t)(i * 31 + (int)k);
}

/* Frames [from, to) at 30 fps, a key frame every 15. */
static void record(struct fx *f, struct reel_run *run, int from, int to, int64_t entry)
{
    uint8_t buf[4096];
    for (int i = from; i < to; i++) {
        bool key = i % 15 == 0;
        size_t len = key ? 2000 : 200 + (size_t)(i % 50);
        make_frame(i, buf, len);
        struct reel_frame_in in = { .data = buf, .len = len, .ts90k = (int64_t)i * 3000, .key = key,
                                    .sample_entry_id = entry };
        struct reel_err err = { "" };
        assert_int_equal(reel_run_frame(run, &in, &err), 0);
        f->clk.mono += REEL_NS_PER_SEC / 30;
        f->clk.wall += REEL_NS_PER_SEC / 30;
    }
}

/* The tag as documented: BLAKE2b-128 over the camera, range and each
 * recording's id, bytes and frames, one line each. */
static void expected_etag(int64_t cam, int64_t from, int64_t to, const struct reel_span *v, size_t n, char out[40])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 16);
    char line[128];
    int len = snprintf(line, sizeof(line), "reel-mp4 v1 %lld %lld %lld\n", (long long)cam, (long long)from,
                       (long long)to);
    crypto_generichash_update(&h, (const uint8_t *)line, (size_t)len);
    for (size_t i = 0; i < n; i++) {
        len = snprintf(line, sizeof(line), "%lld %llu %u\n", (long long)v[i].id, (unsigned long long)v[i].bytes,
                       v[i].frames);
        crypto_generichash_update(&h, (const uint8_t *)line, (size_t)len);
    }
    uint8_t sum[16];
    crypto_generichash_final(&h, sum, sizeof(sum));
    char hex[33];
    reel_hex_encode(sum, sizeof(sum), hex);
    snprintf(out, 40, "\"%s\"", hex);
}

static void test_spans_etag_snapshot(void **state)
{
    struct fx *f = *state;
    struct reel_err err = { "" };
    struct reel_store *w = NULL, *rd = NULL;
    assert_int_equal(open_store(f, f->dir, REEL_STORE_RECORD, &w, &err), 0);
    struct reel_camera c = { .retain_bytes = 0 };
    snprintf(c.name, sizeof(c.name), "front");
    snprintf(c.url, sizeof(c.url), "rtsp://192.0.2.1/s");
    assert_int_equal(reel_store_camera_add(w, &c, NULL, &err), 0);
    int64_t se = 0;
    assert_int_equal(reel_store_sample_entry_put(w, (const uint8_t *)"avc1-box", 8, 640, 360, "avc1.64001e", &se,
                                                 &err), 0);
    struct reel_run *run = NULL;
    assert_int_equal(reel_run_open(w, c.id, &run, &err), 0);
    record(f, run, 0, 100, se); /* rotates about every second: several recordings, the last open */
    assert_int_equal(reel_store_sync(w, &err), 0);

    assert_int_equal(open_store(f, f->dir, REEL_STORE_READ, &rd, &err), 0);
    int64_t from = 0, to = INT64_MAX / 2;
    struct reel_recording *recs = NULL;
    size_t nrecs = 0;
    assert_int_equal(reel_store_recordings(rd, c.id, from, to, &recs, &nrecs, &err), 0);
    assert_true(nrecs >= 3);
    struct reel_span *sp = NULL;
    size_t nsp = 0;
    assert_int_equal(reel_store_spans(rd, c.id, from, to, &sp, &nsp, &err), 0);
    assert_int_equal(nsp, nrecs);
    bool any_open = false;
    for (size_t i = 0; i < nsp; i++) {
        assert_int_equal(sp[i].id, recs[i].id);
        assert_int_equal(sp[i].run_id, recs[i].run_id);
        assert_int_equal(sp[i].start90k, recs[i].start90k);
        assert_int_equal(sp[i].wall_duration90k, recs[i].wall_duration90k);
        assert_int_equal(sp[i].sample_entry_id, recs[i].sample_entry_id);
        assert_int_equal(sp[i].frames, recs[i].frames);
        assert_int_equal(sp[i].bytes, recs[i].bytes);
        assert_int_equal(sp[i].open, recs[i].open);
        any_open |= sp[i].open;
    }
    assert_true(any_open);
    /* a sub-range: the same rows as reel_store_recordings() */
    int64_t mid = recs[1].start90k + 10;
    struct reel_span *sp2 = NULL;
    size_t nsp2 = 0;
    assert_int_equal(reel_store_spans(rd, c.id, mid, mid + 1, &sp2, &nsp2, &err), 0);
    assert_int_equal(nsp2, 1);
    assert_int_equal(sp2[0].id, recs[1].id);
    free(sp2);
    reel_recordings_free(recs, nrecs);

    struct reel_view_tag t1, t2, t3;
    assert_int_equal(reel_store_view_etag(rd, c.id, from, to, &t1, &err), 0);
    char want[40];
    expected_etag(c.id, from, to, sp, nsp, want);
    assert_string_equal(t1.etag, want);
    assert_int_equal(t1.recordings, nsp);
    assert_int_equal(t1.last90k, sp[nsp - 1].start90k + sp[nsp - 1].wall_duration90k);
    /* nothing changed: same tag */
    assert_int_equal(reel_store_view_etag(rd, c.id, from, to, &t2, &err), 0);
    assert_string_equal(t1.etag, t2.etag);

    /* in a snapshot, the recorder's next commit is not seen */
    assert_int_equal(reel_store_read_begin(rd, &err), 0);
    assert_int_equal(reel_store_read_begin(rd, &err), -EBUSY);
    record(f, run, 100, 110, se); /* the open recording grows */
    assert_int_equal(reel_store_sync(w, &err), 0);
    assert_int_equal(reel_store_view_etag(rd, c.id, from, to, &t2, &err), 0);
    assert_string_equal(t1.etag, t2.etag);
    struct reel_span *sp3 = NULL;
    size_t nsp3 = 0;
    assert_int_equal(reel_store_spans(rd, c.id, from, to, &sp3, &nsp3, &err), 0);
    assert_int_equal(nsp3, nsp);
    assert_int_equal(sp3[nsp3 - 1].frames, sp[nsp - 1].frames);
    free(sp3);
    reel_store_read_end(rd);
    /* after it: the grown recording changes the tag */
    assert_int_equal(reel_store_view_etag(rd, c.id, from, to, &t3, &err), 0);
    assert_string_not_equal(t1.etag, t3.etag);
    assert_int_equal(reel_store_spans(rd, c.id, from, to, &sp3, &nsp3, &err), 0);
    expected_etag(c.id, from, to, sp3, nsp3, want);
    assert_string_equal(t3.etag, want);
    assert_true(sp3[nsp3 - 1].frames > sp[nsp - 1].frames || nsp3 > nsp);
    free(sp3);
    /* an empty range: no recordings, a tag all the same */
    assert_int_equal(reel_store_view_etag(rd, c.id, 1, 2, &t3, &err), 0);
    assert_int_equal(t3.recordings, 0);
    assert_int_equal(t3.last90k, 0);
    free(sp);
    reel_run_close(run);
    reel_store_close(w);
    reel_store_close(rd);
}

static void test_db_error_is_not_enoent(void **state)
{
    struct fx *f = *state;
    struct reel_err err = { "" };
    struct reel_store *s = NULL;
    assert_int_equal(open_store(f, f->dir, REEL_STORE_ADMIN, &s, &err), 0);
    struct reel_camera c = { .retain_bytes = 0 };
    snprintf(c.name, sizeof(c.name), "front");
    snprintf(c.url, sizeof(c.url), "rtsp://192.0.2.1/s");
    assert_int_equal(reel_store_camera_add(s, &c, "pw", &err), 0);
    /* another process drops the tables under the open store */
    raw_exec(f->dir, "DROP TABLE recording; DROP TABLE outage; DROP TABLE deletion; "
                     "DROP TABLE camera");
    int r = reel_store_camera_get(s, "front", &c, &err);
    assert_true(r < 0 && r != -ENOENT);
    assert_non_null(strstr(err.msg, "no such table: camera"));
    assert_non_null(strstr(err.msg, "database "));
    char pw[32];
    r = reel_store_camera_password(s, c.id, pw, sizeof(pw));
    assert_true(r < 0 && r != -ENOENT);
    struct reel_camera *cams = NULL;
    size_t n = 0;
    r = reel_store_camera_list(s, &cams, &n, &err);
    assert_true(r < 0 && r != -ENOENT);
    struct reel_recording *recs = NULL;
    r = reel_store_recordings(s, c.id, 0, INT64_MAX / 2, &recs, &n, &err);
    assert_true(r < 0 && r != -ENOENT);
    assert_non_null(strstr(err.msg, "no such table: recording"));
    struct reel_span *sp = NULL;
    r = reel_store_spans(s, c.id, 0, INT64_MAX / 2, &sp, &n, &err);
    assert_true(r < 0 && r != -ENOENT);
    struct reel_view_tag t;
    r = reel_store_view_etag(s, c.id, 0, INT64_MAX / 2, &t, &err);
    assert_true(r < 0 && r != -ENOENT);
    int64_t bytes;
    r = reel_store_camera_usage(s, c.id, &bytes, NULL, NULL, &err);
    assert_true(r < 0 && r != -ENOENT);
    struct reel_gap *gaps = NULL;
    r = reel_store_gaps(s, c.id, 0, INT64_MAX / 2, &gaps, &n, &err);
    assert_true(r < 0 && r != -ENOENT);
    struct reel_check_report rep;
    r = reel_store_check(s, 0, NULL, NULL, &rep, &err);
    assert_true(r < 0 && r != -ENOENT);
    reel_store_close(s);
}

/* A read that fails part way through a table (a corrupted page) is an
 * error, not the rows read so far. */
static void test_corrupt_mid_read(void **state)
{
    struct fx *f = *state;
    struct reel_err err = { "" };
    raw_exec(f->dir, "INSERT INTO camera (id, name, url, dir_id, retain_bytes) "
                     "VALUES (1, 'front', 'rtsp://192.0.2.1/s', 1, 1000000000)");
    /* 400 recordings of 1 KiB of index each: about 100 leaf pages, written
     * in order at the end of the file */
    raw_exec(f->dir, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) "
                     "INSERT INTO recording (id, camera_id, start90k, wall_duration90k, media_duration90k, frames, "
                     "bytes, dir_id, open, video_index) SELECT i, 1, i * 90000, 90000, 90000, 30, 1000, 1, 0, "
                     "zeroblob(1024) FROM n");
    /* the reads below would come from the timeline's covering index
     * (recording_span, a few pages that the garbage may miss): without it
     * they read the table's pages */
    raw_exec(f->dir, "DROP INDEX recording_span");
    raw_exec(f->dir, "PRAGMA wal_checkpoint(TRUNCATE)");
    struct reel_store *s = NULL;
    assert_int_equal(open_store(f, f->dir, REEL_STORE_READ, &s, &err), 0);
    struct reel_span *sp = NULL;
    size_t n = 0;
    assert_int_equal(reel_store_spans(s, 1, 0, INT64_MAX / 2, &sp, &n, &err), 0);
    assert_int_equal(n, 400);
    free(sp);
    reel_store_close(s);
    /* garbage over the pages three quarters into the file */
    char path[128];
    snprintf(path, sizeof(path), "%s/reel.db", f->dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    uint8_t junk[4 * 4096];
    memset(junk, 0xa5, sizeof(junk));
    off_t at = (sb.st_size * 3 / 4) & ~(off_t)4095;
    assert_int_equal(pwrite(fd, junk, sizeof(junk), at), (ssize_t)sizeof(junk));
    close(fd);
    assert_int_equal(open_store(f, f->dir, REEL_STORE_READ, &s, &err), 0);
    sp = NULL;
    n = 0;
    int r = reel_store_spans(s, 1, 0, INT64_MAX / 2, &sp, &n, &err);
    assert_true(r < 0 && r != -ENOENT);
    assert_null(sp);
    assert_non_null(strstr(err.msg, "malformed"));
    struct reel_recording *recs = NULL;
    r = reel_store_recordings(s, 1, 0, INT64_MAX / 2, &recs, &n, &err);
    assert_true(r < 0 && r != -ENOENT);
    struct reel_check_report rep;
    r = reel_store_check(s, 0, NULL, NULL, &rep, &err);
    assert_true(r < 0 && r != -ENOENT);
    reel_store_close(s);
    /* retention cannot read the camera's total: an error, not "under its limit" */
    assert_int_equal(open_store(f, f->dir, REEL_STORE_ADMIN, &s, &err), 0);
    err.msg[0] = '\0';
    r = reel_store_retention(s, &err);
    assert_true(r < 0 && r != -ENOENT);
    assert_non_null(strstr(err.msg, "retention"));
    reel_store_close(s);
}

static void test_error_mapping(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    struct reel_err err = { "" };
    assert_int_equal(reel_db_exec(db, "CREATE TABLE t (x UNIQUE CHECK (x > 0)); INSERT INTO t VALUES (1)", &err), 0);
    assert_int_equal(reel_db_exec(db, "INSERT INTO t VALUES (1)", &err), -EEXIST);
    assert_int_equal(reel_db_exec(db, "INSERT INTO t VALUES (-1)", &err), -EINVAL);
    assert_int_equal(reel_db_exec(db, "SELECT * FROM absent", &err), -EIO);
    assert_non_null(strstr(err.msg, "SELECT * FROM absent: no such table: absent"));
    assert_int_equal(reel_db_err(NULL, SQLITE_BUSY, &err, "x"), -EBUSY);
    assert_int_equal(reel_db_err(NULL, SQLITE_LOCKED, &err, "x"), -EBUSY);
    assert_int_equal(reel_db_err(NULL, SQLITE_CORRUPT, &err, "x"), -EIO);
    assert_int_equal(reel_db_err(db, SQLITE_DONE, &err, "x"), -EIO);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_v1_by_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_v1_by_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_v2_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_upgrade_rolls_back, setup, teardown),
        cmocka_unit_test(test_upgrade_engine),
        cmocka_unit_test_setup_teardown(test_spans_etag_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_db_error_is_not_enoent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_mid_read, setup, teardown),
        cmocka_unit_test(test_error_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Opening reel.db (the pragmas every connection uses, the schema version
 * check, the upgrade at open for writers) and the one way to turn an SQLite
 * error into an errno and a message. The schema and its upgrade steps are in
 * schema.c; see db.h.
 */
#include "db/db.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *reel_db_path(sqlite3 *db)
{
    const char *p = db ? sqlite3_db_filename(db, "main") : NULL;
    return p ? p : "";
}

int reel_db_err(sqlite3 *db, int rc, struct reel_err *err, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE)
        rc = SQLITE_ERROR;
    int e = EIO;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        e = EBUSY;
        break;
    case SQLITE_FULL:
        e = ENOSPC;
        break;
    case SQLITE_NOMEM:
        e = ENOMEM;
        break;
    case SQLITE_CONSTRAINT: {
        int x = db ? sqlite3_extended_errcode(db) : rc;
        e = x == SQLITE_CONSTRAINT_UNIQUE || x == SQLITE_CONSTRAINT_PRIMARYKEY ? EEXIST : EINVAL;
        break;
    }
    default:
        break;
    }
    return reel_err_set(err, e, "database %s: %s: %s", reel_db_path(db), what,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int reel_db_exec(sqlite3 *db, const char *sql, struct reel_err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    char what[64];
    size_t n = strcspn(sql, "\n");
    snprintf(what, sizeof(what), "%.*s%s", (int)(n < 48 ? n : 48), sql, n > 48 || sql[n] ? "..." : "");
    return reel_db_err(db, rc, err, what);
}

int reel_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret, struct reel_err *err)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);
    if (rc != SQLITE_OK) {
        *ret = NULL;
        return reel_db_err(db, rc, err, "preparing a query");
    }
    return 0;
}

void reel_db_rollback(sqlite3 *db)
{
    if (db && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int reel_db_version(sqlite3 *db, int *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, "PRAGMA user_version", &st, err);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : reel_db_err(db, rc, err, "reading the schema version");
}

static int count_tables(sqlite3 *db, int *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, "SELECT COUNT(*) FROM sqlite_master", &st, err);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : reel_db_err(db, rc, err, "reading the schema");
}

static int check_version(sqlite3 *db, const char *datadir, enum reel_db_mode mode, struct reel_err *err)
{
    int v = 0, tables = 0;
    int r = reel_db_version(db, &v, err);
    if (r == 0 && v == 0)
        r = count_tables(db, &tables, err);
    if (r < 0)
        return r;
    if (v == 0 && tables > 0)
        return reel_err_set(err, EPROTO, "database %s: not a Reel database (schema version 0 with tables)",
                            reel_db_path(db));
    if (mode == REEL_DB_CREATE)
        return v == 0 ? 0 : reel_err_set(err, EEXIST, "database %s: already initialised", reel_db_path(db));
    if (v == 0)
        return reel_err_set(err, ENOENT, "data dir %s: not initialised (run reel init)", datadir);
    if (v > REEL_DB_VERSION)
        return reel_err_set(err, EPROTONOSUPPORT,
                            "reel.db in %s is schema version %d, this Reel knows up to %d: use a newer Reel",
                            datadir, v, REEL_DB_VERSION);
    if (v == REEL_DB_VERSION)
        return 0;
    if (mode == REEL_DB_READ)
        return reel_err_set(err, EPROTO,
                            "reel.db in %s is schema version %d, this Reel needs %d: it is upgraded when opened "
                            "for writing; run `reel run` or `reel check` once", datadir, v, REEL_DB_VERSION);
    r = reel_db_upgrade(db, err);
    if (r < 0)
        return r;
    /* another process may have upgraded it further meanwhile */
    r = reel_db_version(db, &v, err);
    if (r == 0 && v != REEL_DB_VERSION)
        r = reel_err_set(err, EPROTONOSUPPORT,
                         "reel.db in %s is schema version %d, this Reel knows up to %d: use a newer Reel", datadir,
                         v, REEL_DB_VERSION);
    return r;
}

int reel_db_open(sqlite3 **ret, const char *datadir, enum reel_db_mode mode, struct reel_err *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", datadir, REEL_DB_FILE);
    struct stat sb;
    if (stat(path, &sb) < 0) {
        if (errno == ENOENT)
            return reel_err_set(err, ENOENT, "data dir %s: not initialised (no %s: run reel init)", datadir,
                                REEL_DB_FILE);
        return reel_err_set(err, errno == EACCES ? EACCES : EIO, "database %s: %s", path, strerror(errno));
    }
    bool ro = mode == REEL_DB_READ;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_NOMUTEX | (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE),
                             NULL);
    if (rc != SQLITE_OK) {
        int e = access(path, ro ? R_OK : R_OK | W_OK) < 0 && errno == EACCES ? EACCES : EIO;
        int r = reel_err_set(err, e, "database %s: cannot open: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return r;
    }
    sqlite3_busy_timeout(db, REEL_DB_BUSY_MS);
    sqlite3_extended_result_codes(db, 0);
    int r = reel_db_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", err);
    if (r == 0 && !ro)
        r = reel_db_exec(db, "PRAGMA journal_mode = WAL", err);
    if (r == 0)
        r = check_version(db, datadir, mode, err);
    if (r < 0) {
        sqlite3_close(db);
        return r;
    }
    *ret = db;
    return 0;
}

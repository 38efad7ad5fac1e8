/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel.db's one owner: the schema (every table of the database, the store's
 * and the web accounts', under one version number in PRAGMA user_version),
 * the upgrade steps from each older version, the one way to open a
 * connection (pragmas, version check, upgrade) and the one way to report a
 * database error. Layering: uses only src/base and SQLite; src/store and
 * src/http/users.c sit above it. See docs/database.md.
 *
 * Versions: 1 is what Reel wrote up to commit 68dd335 (the store's tables,
 * plus web_user/web_session/web_token once the accounts code had run);
 * 2 adds camera.enabled and web_user.role and makes the account tables part
 * of the schema. A connection opened for writing upgrades an older database
 * at open, all steps in one transaction; a read-only one refuses it; every
 * connection refuses a database newer than REEL_DB_VERSION.
 *
 * Errors: negative errno and a message "database PATH: WHAT: sqlite's
 * message". Never -ENOENT for a database error: -ENOENT only when reel.db
 * does not exist or is not initialised, so that callers may keep -ENOENT for
 * "no such camera/row".
 *
 * Threads: a connection (sqlite3 *) is used by one thread at a time
 * (SQLITE_OPEN_NOMUTEX); the functions here keep no state of their own.
 */
#ifndef REEL_DB_DB_H
#define REEL_DB_DB_H

#include <stddef.h>

#include <sqlite3.h>

#include "base/log.h"

#define REEL_DB_VERSION 4          /* the schema this Reel writes */
#define REEL_DB_FILE "reel.db"
#define REEL_DB_BUSY_MS 10000      /* busy timeout of every connection */

enum reel_db_mode {
    REEL_DB_READ = 0,   /* read-only; refuses an older database (-EPROTO: "run reel run or reel check once") */
    REEL_DB_WRITE = 1,  /* read-write; upgrades an older database at open */
    REEL_DB_CREATE = 2, /* read-write on an existing, empty reel.db (version 0, no tables): for reel_db_create() */
};

/* Opens datadir/reel.db with the pragmas every connection uses
 * (foreign_keys ON, synchronous FULL, busy timeout REEL_DB_BUSY_MS; WAL set
 * by writers; plain result codes), then checks the schema version:
 *   - no reel.db, or version 0 with no tables: -ENOENT "not initialised
 *     (run reel init)" (except REEL_DB_CREATE, which wants exactly that);
 *   - version 0 with tables: -EPROTO "not a Reel database";
 *   - newer than REEL_DB_VERSION: -EPROTONOSUPPORT "reel.db in D is schema
 *     version N, this Reel knows up to M: use a newer Reel";
 *   - older: REEL_DB_WRITE upgrades it (see reel_db_upgrade()); REEL_DB_READ
 *     gives -EPROTO asking to run `reel run` or `reel check` once.
 * *ret is owned by the caller: sqlite3_close(). Untouched on failure. */
int reel_db_open(sqlite3 **ret, const char *datadir, enum reel_db_mode mode, struct reel_err *err);

/* Creates every table of the current schema and sets user_version to
 * REEL_DB_VERSION, inside the caller's transaction (BEGIN IMMEDIATE ...
 * COMMIT, so that the caller's first rows go in the same commit). The
 * database must be empty. */
int reel_db_create(sqlite3 *db, struct reel_err *err);

/* Upgrades db to REEL_DB_VERSION: BEGIN IMMEDIATE, re-reads the version
 * (another process may have upgraded it meanwhile), runs each step from
 * that version up, PRAGMA foreign_key_check, sets user_version, COMMIT. Steps
 * run with foreign keys off (so that a step may rebuild a table), and they
 * are back on afterwards. On any failure everything is rolled back: the
 * database is exactly as before (same version, no partial tables). 0 when
 * nothing was to do. */
int reel_db_upgrade(sqlite3 *db, struct reel_err *err);
/* reel_db_upgrade() that stops at an older version target (2..current):
 * for tests that need a database of an intermediate version. */
int reel_db_upgrade_to(sqlite3 *db, int target, struct reel_err *err);

/* The schema version (PRAGMA user_version). */
int reel_db_version(sqlite3 *db, int *ret, struct reel_err *err);

/* ---- errors and small helpers, for every module that talks to reel.db ---- */

/* Sets err to "database PATH: WHAT: sqlite's message" (PATH from the
 * connection; db may be NULL, then sqlite3_errstr(rc)) and returns the
 * negative errno for rc: -EBUSY for SQLITE_BUSY/LOCKED, -ENOSPC for FULL,
 * -ENOMEM for NOMEM, -EEXIST for a UNIQUE/PRIMARY KEY constraint, -EINVAL
 * for another constraint (CHECK, NOT NULL, FOREIGN KEY), -EIO otherwise
 * (never -ENOENT). rc SQLITE_OK or SQLITE_ROW/DONE is taken as SQLITE_ERROR. */
int reel_db_err(sqlite3 *db, int rc, struct reel_err *err, const char *what);
/* sqlite3_exec of statements that return no rows; errors as reel_db_err()
 * with the start of sql as WHAT. */
int reel_db_exec(sqlite3 *db, const char *sql, struct reel_err *err);
/* sqlite3_prepare_v2; *ret owned by the caller (sqlite3_finalize). */
int reel_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret, struct reel_err *err);
/* ROLLBACK if a transaction is open; for error paths (never fails). */
void reel_db_rollback(sqlite3 *db);
/* The file of the main database ("" for a memory database). */
const char *reel_db_path(sqlite3 *db);

/* ---- the upgrade machinery, exposed for tests ---- */

/* One upgrade step: takes a database at version `from` to from + 1. Runs
 * inside the upgrade's transaction with foreign keys off; must not COMMIT,
 * ROLLBACK or set user_version. */
struct reel_db_step {
    int from;
    int (*run)(sqlite3 *db, struct reel_err *err);
};
/* reel_db_upgrade() with a given list of steps (steps[i].from = first + i)
 * and target version: what reel_db_upgrade() does with Reel's own list. */
int reel_db_upgrade_with(sqlite3 *db, const struct reel_db_step *steps, size_t n, int target,
                         struct reel_err *err);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store's database side: schema creation, opening (lock, storage
 * directory identity, start-up recovery), cameras, storage directories,
 * sample entries, outages, status and the queries that read recordings back.
 * Crash-safe deletion (row -> garbage -> unlink -> dir fsync -> drop garbage)
 * lives here too; the recording path and the syncer are in writer.c.
 */
#include "store/store_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char schema_sql[] =
    "CREATE TABLE storage_dir (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  path TEXT NOT NULL UNIQUE,\n"
    "  uuid TEXT NOT NULL UNIQUE);\n"
    "CREATE TABLE camera (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  url TEXT NOT NULL,\n"
    "  user TEXT NOT NULL DEFAULT '',\n"
    "  password TEXT,\n"
    "  udp INTEGER NOT NULL DEFAULT 0,\n"
    "  retain_bytes INTEGER NOT NULL DEFAULT 0 CHECK (retain_bytes >= 0),\n"
    "  retain_seconds INTEGER NOT NULL DEFAULT 0 CHECK (retain_seconds >= 0),\n"
    "  dir_id INTEGER NOT NULL REFERENCES storage_dir (id));\n"
    "CREATE TABLE sample_entry (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  width INTEGER NOT NULL,\n"
    "  height INTEGER NOT NULL,\n"
    "  codec_string TEXT NOT NULL,\n"
    "  data BLOB NOT NULL UNIQUE);\n"
    "CREATE TABLE recording (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  camera_id INTEGER NOT NULL REFERENCES camera (id),\n"
    "  run_id INTEGER NOT NULL DEFAULT 0,\n"
    "  run_index INTEGER NOT NULL DEFAULT 0,\n"
    "  start90k INTEGER NOT NULL DEFAULT 0,\n"
    "  wall_duration90k INTEGER NOT NULL DEFAULT 0,\n"
    "  media_duration90k INTEGER NOT NULL DEFAULT 0,\n"
    "  frames INTEGER NOT NULL DEFAULT 0,\n"
    "  bytes INTEGER NOT NULL DEFAULT 0,\n"
    "  sample_entry_id INTEGER REFERENCES sample_entry (id),\n"
    "  dir_id INTEGER NOT NULL REFERENCES storage_dir (id),\n"
    "  open INTEGER NOT NULL DEFAULT 1,\n"
    "  video_index BLOB NOT NULL DEFAULT x'');\n"
    "CREATE INDEX recording_camera_start ON recording (camera_id, start90k);\n"
    "CREATE TABLE garbage (\n"
    "  dir_id INTEGER NOT NULL,\n"
    "  camera_id INTEGER NOT NULL,\n"
    "  recording_id INTEGER NOT NULL,\n"
    "  PRIMARY KEY (dir_id, recording_id));\n"
    "CREATE TABLE outage (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  start90k INTEGER NOT NULL,\n"
    "  end90k INTEGER,\n"
    "  reason TEXT NOT NULL);\n"
    "CREATE INDEX outage_camera_start ON outage (camera_id, start90k);\n"
    "CREATE TABLE deletion (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  start90k INTEGER NOT NULL,\n"
    "  end90k INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL);\n"
    "CREATE INDEX deletion_camera_start ON deletion (camera_id, start90k);\n"
    "CREATE TABLE camera_status (\n"
    "  camera_id INTEGER PRIMARY KEY REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  connected INTEGER NOT NULL,\n"
    "  state TEXT NOT NULL,\n"
    "  last_error TEXT NOT NULL,\n"
    "  fps REAL NOT NULL,\n"
    "  bitrate_bps REAL NOT NULL,\n"
    "  updated90k INTEGER NOT NULL);\n";

/* ---- small helpers ---- */

int reel__db_err(sqlite3 *db, int rc, struct reel_err *err, const char *what)
{
    int e = EIO;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        e = EBUSY;
    else if (rc == SQLITE_FULL)
        e = ENOSPC;
    else if ((rc & 0xff) == SQLITE_CONSTRAINT)
        e = EEXIST;
    else if (rc == SQLITE_NOMEM)
        e = ENOMEM;
    return reel_err_set(err, e, "database: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int reel__db_exec(sqlite3 *db, const char *sql, struct reel_err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return reel__db_err(db, rc, err, sql);
    return 0;
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct reel_err *err)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return reel__db_err(db, rc, err, "prepare");
    return 0;
}

static void rollback(sqlite3 *db) { sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); }

int reel__fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

void reel__event(struct reel_store *s, int level, const char *fmt, ...)
{
    if (!s->cfg.on_event)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    s->cfg.on_event(s->cfg.opaque, level, line);
}

const struct reel_dir_rt *reel__dir(const struct reel_store *s, int64_t dir_id)
{
    for (size_t i = 0; i < s->ndirs; i++)
        if (s->dirs[i].id == dir_id)
            return &s->dirs[i];
    return NULL;
}

void reel__rec_path(const struct reel_store *s, int64_t dir_id, int64_t camera_id, int64_t rec_id,
                    char *buf, size_t cap)
{
    const struct reel_dir_rt *d = reel__dir(s, dir_id);
    snprintf(buf, cap, "%s/%" PRId64 "/%016" PRIx64, d ? d->path : "(unknown storage dir)", camera_id,
             (uint64_t)rec_id);
}

static int new_uuid(char out[37])
{
    uint8_t b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return -EIO;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

/* Writes dir/reel-storage-id durably (file fsync, then dir fsync). */
static int write_identity(const char *dir, const char *uuid, struct reel_err *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, REEL_IDENTITY_FILE);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return reel_err_set(err, errno, "storage dir %s: cannot create identity file: %s", dir, strerror(errno));
    char line[64];
    int n = snprintf(line, sizeof(line), "%s\n", uuid);
    int r = 0;
    if (write(fd, line, (size_t)n) != n || fsync(fd) < 0)
        r = reel_err_set(err, errno ? errno : EIO, "storage dir %s: writing identity file: %s", dir,
                         strerror(errno ? errno : EIO));
    close(fd);
    if (r == 0 && reel__fsync_dir(dir) < 0)
        r = reel_err_set(err, EIO, "storage dir %s: fsync failed", dir);
    return r;
}

/* 0 when dir holds the identity file naming uuid; else a message in msg. */
static int check_identity(const char *dir, const char *uuid, char *msg, size_t cap)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, REEL_IDENTITY_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            snprintf(msg, cap, "storage dir %s: identity file missing — disk not mounted?", dir);
        else
            snprintf(msg, cap, "storage dir %s: cannot read identity file: %s", dir, strerror(errno));
        return -ENOENT;
    }
    char buf[64] = { 0 };
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        n = 0;
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    if (strcmp(buf, uuid) != 0) {
        snprintf(msg, cap, "storage dir %s: identity file names another storage dir (%.40s, expected %s) — wrong disk mounted?",
                 dir, buf, uuid);
        return -ESTALE;
    }
    return 0;
}

static int open_db(const char *datadir, bool readonly, bool create, sqlite3 **ret, struct reel_err *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/reel.db", datadir);
    int flags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
    if (create)
        flags |= SQLITE_OPEN_CREATE;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        int e = reel_err_set(err, rc == SQLITE_CANTOPEN ? ENOENT : EIO, "database %s: cannot open: %s", path,
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return e;
    }
    sqlite3_busy_timeout(db, 10000);
    sqlite3_extended_result_codes(db, 0);
    int r = reel__db_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", err);
    if (r == 0 && !readonly)
        r = reel__db_exec(db, "PRAGMA journal_mode = WAL;", err);
    if (r < 0) {
        sqlite3_close(db);
        return r;
    }
    *ret = db;
    return 0;
}

int reel_store_init(const char *datadir, struct reel_err *err)
{
    if (mkdir(datadir, 0700) < 0 && errno != EEXIST)
        return reel_err_set(err, errno, "data dir %s: cannot create: %s", datadir, strerror(errno));
    char abs[4096];
    if (!realpath(datadir, abs))
        return reel_err_set(err, errno, "data dir %s: %s", datadir, strerror(errno));
    char path[4200];
    snprintf(path, sizeof(path), "%s/reel.db", abs);
    if (access(path, F_OK) == 0)
        return reel_err_set(err, EEXIST, "data dir %s: already initialised (%s exists)", abs, path);
    /* Created 0600: the database holds camera passwords. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return reel_err_set(err, errno, "database %s: cannot create: %s", path, strerror(errno));
    close(fd);
    char storage[4200];
    snprintf(storage, sizeof(storage), "%s/storage", abs);
    if (mkdir(storage, 0700) < 0 && errno != EEXIST)
        return reel_err_set(err, errno, "storage dir %s: cannot create: %s", storage, strerror(errno));
    char uuid[37];
    int r = new_uuid(uuid);
    if (r < 0)
        return reel_err_set(err, EIO, "data dir %s: no random bytes for a uuid", abs);
    r = write_identity(storage, uuid, err);
    if (r < 0)
        return r;
    sqlite3 *db;
    r = open_db(abs, false, false, &db, err);
    if (r < 0)
        return r;
    r = reel__db_exec(db, "BEGIN IMMEDIATE", err);
    if (r == 0)
        r = reel__db_exec(db, schema_sql, err);
    if (r == 0) {
        char *sql = sqlite3_mprintf("INSERT INTO storage_dir (path, uuid) VALUES (%Q, %Q); PRAGMA user_version = %d; COMMIT",
                                    storage, uuid, REEL_SCHEMA_VERSION);
        r = sql ? reel__db_exec(db, sql, err) : reel_err_set(err, ENOMEM, "out of memory");
        sqlite3_free(sql);
    }
    if (r < 0)
        rollback(db);
    sqlite3_close(db);
    if (r == 0)
        reel__fsync_dir(abs);
    return r;
}

static int load_dirs(struct reel_store *s, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(s->db, "SELECT id, path, uuid FROM storage_dir ORDER BY id", &st, err);
    if (r < 0)
        return r;
    s->ndirs = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && s->ndirs < REEL_MAX_DIRS) {
        struct reel_dir_rt *d = &s->dirs[s->ndirs++];
        memset(d, 0, sizeof(*d));
        d->id = sqlite3_column_int64(st, 0);
        snprintf(d->path, sizeof(d->path), "%s", (const char *)sqlite3_column_text(st, 1));
        const char *uuid = (const char *)sqlite3_column_text(st, 2);
        if (s->cfg.mode == REEL_STORE_READ) {
            d->usable = true; /* not verified in READ mode */
            continue;
        }
        d->usable = check_identity(d->path, uuid ? uuid : "", d->error, sizeof(d->error)) == 0;
        if (!d->usable)
            reel__event(s, REEL_LOG_ERROR, "%s; not recording into it", d->error);
    }
    sqlite3_finalize(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : reel__db_err(s->db, rc, err, "reading storage dirs");
}

/* ---- deletion ---- */

int reel__collect_garbage(struct reel_store *s, sqlite3 *db, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(db, "SELECT dir_id, camera_id, recording_id FROM garbage", &st, err);
    if (r < 0)
        return r;
    int64_t (*rows)[3] = NULL;
    size_t n = 0, alloc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 64;
            void *p = realloc(rows, na * sizeof(*rows));
            if (!p)
                break;
            rows = p;
            alloc = na;
        }
        for (int i = 0; i < 3; i++)
            rows[n][i] = sqlite3_column_int64(st, i);
        n++;
    }
    sqlite3_finalize(st);
    if (n == 0) {
        free(rows);
        return 0;
    }
    /* unlink everything whose directory is usable, then fsync those dirs */
    bool *done = calloc(n, sizeof(bool));
    if (!done) {
        free(rows);
        return reel_err_set(err, ENOMEM, "out of memory collecting garbage");
    }
    for (size_t i = 0; i < n; i++) {
        const struct reel_dir_rt *d = reel__dir(s, rows[i][0]);
        if (!d || !d->usable)
            continue;
        char path[4200];
        reel__rec_path(s, rows[i][0], rows[i][1], rows[i][2], path, sizeof(path));
        if (unlink(path) == 0 || errno == ENOENT)
            done[i] = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (!done[i])
            continue;
        char dir[4200];
        const struct reel_dir_rt *d = reel__dir(s, rows[i][0]);
        snprintf(dir, sizeof(dir), "%s/%" PRId64, d->path, rows[i][1]);
        if (reel__fsync_dir(dir) < 0 && errno != ENOENT) {
            /* keep the garbage rows of this dir for the next try */
            for (size_t j = i; j < n; j++)
                if (rows[j][0] == rows[i][0] && rows[j][1] == rows[i][1])
                    done[j] = false;
        }
    }
    r = reel__db_exec(db, "BEGIN IMMEDIATE", err);
    if (r == 0) {
        r = prep(db, "DELETE FROM garbage WHERE dir_id = ? AND recording_id = ?", &st, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
            if (!done[i])
                continue;
            sqlite3_bind_int64(st, 1, rows[i][0]);
            sqlite3_bind_int64(st, 2, rows[i][2]);
            int rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc != SQLITE_DONE)
                r = reel__db_err(db, rc, err, "dropping garbage rows");
        }
        if (r == 0)
            sqlite3_finalize(st);
        r = r == 0 ? reel__db_exec(db, "COMMIT", err) : r;
        if (r < 0) {
            sqlite3_finalize(st);
            rollback(db);
        }
    }
    free(done);
    free(rows);
    return r;
}

int reel__delete_recordings(struct reel_store *s, sqlite3 *db, const int64_t *ids, size_t n,
                            const char *reason, struct reel_err *err)
{
    if (n == 0)
        return 0;
    int r = reel__db_exec(db, "BEGIN IMMEDIATE", err);
    if (r < 0)
        return r;
    sqlite3_stmt *sel = NULL, *gar = NULL, *del = NULL, *last = NULL, *ext = NULL, *ins = NULL;
    r = prep(db, "SELECT camera_id, dir_id, start90k, start90k + wall_duration90k, frames FROM recording WHERE id = ?",
             &sel, err);
    if (r == 0)
        r = prep(db, "INSERT OR IGNORE INTO garbage (dir_id, camera_id, recording_id) VALUES (?, ?, ?)", &gar, err);
    if (r == 0)
        r = prep(db, "DELETE FROM recording WHERE id = ?", &del, err);
    if (r == 0)
        r = prep(db, "SELECT id, end90k FROM deletion WHERE camera_id = ? AND reason = ? ORDER BY end90k DESC LIMIT 1",
                 &last, err);
    if (r == 0)
        r = prep(db, "UPDATE deletion SET end90k = ? WHERE id = ?", &ext, err);
    if (r == 0)
        r = prep(db, "INSERT INTO deletion (camera_id, start90k, end90k, reason) VALUES (?, ?, ?, ?)", &ins, err);
    for (size_t i = 0; r == 0 && i < n; i++) {
        sqlite3_reset(sel);
        sqlite3_bind_int64(sel, 1, ids[i]);
        if (sqlite3_step(sel) != SQLITE_ROW)
            continue;
        int64_t cam = sqlite3_column_int64(sel, 0), dir = sqlite3_column_int64(sel, 1);
        int64_t start = sqlite3_column_int64(sel, 2), end = sqlite3_column_int64(sel, 3);
        int64_t frames = sqlite3_column_int64(sel, 4);
        sqlite3_reset(sel);
        sqlite3_reset(gar);
        sqlite3_bind_int64(gar, 1, dir);
        sqlite3_bind_int64(gar, 2, cam);
        sqlite3_bind_int64(gar, 3, ids[i]);
        int rc = sqlite3_step(gar);
        if (rc == SQLITE_DONE) {
            sqlite3_reset(del);
            sqlite3_bind_int64(del, 1, ids[i]);
            rc = sqlite3_step(del);
        }
        if (rc == SQLITE_DONE && reason && frames > 0) {
            /* extend the camera's last range of this reason when contiguous */
            sqlite3_reset(last);
            sqlite3_bind_int64(last, 1, cam);
            sqlite3_bind_text(last, 2, reason, -1, SQLITE_STATIC);
            if (sqlite3_step(last) == SQLITE_ROW && sqlite3_column_int64(last, 1) == start) {
                int64_t did = sqlite3_column_int64(last, 0);
                sqlite3_reset(last);
                sqlite3_reset(ext);
                sqlite3_bind_int64(ext, 1, end);
                sqlite3_bind_int64(ext, 2, did);
                rc = sqlite3_step(ext);
            } else {
                sqlite3_reset(last);
                sqlite3_reset(ins);
                sqlite3_bind_int64(ins, 1, cam);
                sqlite3_bind_int64(ins, 2, start);
                sqlite3_bind_int64(ins, 3, end);
                sqlite3_bind_text(ins, 4, reason, -1, SQLITE_STATIC);
                rc = sqlite3_step(ins);
            }
        }
        if (rc != SQLITE_DONE)
            r = reel__db_err(db, rc, err, "moving recordings to garbage");
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(gar);
    sqlite3_finalize(del);
    sqlite3_finalize(last);
    sqlite3_finalize(ext);
    sqlite3_finalize(ins);
    if (r == 0)
        r = reel__db_exec(db, "COMMIT", err);
    if (r < 0) {
        rollback(db);
        return r;
    }
    return reel__collect_garbage(s, db, err);
}

/* ---- start-up recovery (RECORD mode) ---- */

static bool parse_hex16(const char *name, int64_t *ret)
{
    if (strlen(name) != 16)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        int c = name[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return false;
        v = v << 4 | (uint64_t)d;
    }
    if (v > INT64_MAX)
        return false;
    *ret = (int64_t)v;
    return true;
}

static bool rec_exists(sqlite3_stmt *q, int64_t id, int64_t dir_id, int64_t cam)
{
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, dir_id);
    sqlite3_bind_int64(q, 3, cam);
    bool found = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_reset(q);
    return found;
}

int reel__scan_orphans(struct reel_store *s, sqlite3 *db, bool remove,
                       void (*cb)(void *opaque, const char *path), void *opaque, uint64_t *ret_n);

/* Calls cb for each sample file (hex-named, under <dir>/<camera id>/) that no
 * recording or garbage row knows; with remove, unlinks it (and fsyncs). */
int reel__scan_orphans(struct reel_store *s, sqlite3 *db, bool remove,
                       void (*cb)(void *opaque, const char *path), void *opaque, uint64_t *ret_n)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM recording WHERE id = ?1 AND dir_id = ?2 AND camera_id = ?3 "
                           "UNION ALL SELECT 1 FROM garbage WHERE recording_id = ?1 AND dir_id = ?2",
                           -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    uint64_t n = 0;
    for (size_t i = 0; i < s->ndirs; i++) {
        struct reel_dir_rt *d = &s->dirs[i];
        if (!d->usable)
            continue;
        DIR *top = opendir(d->path);
        if (!top)
            continue;
        struct dirent *de;
        while ((de = readdir(top))) {
            int64_t cam;
            if (reel_parse_i64_name(de->d_name, &cam) < 0)
                continue;
            char sub[4200];
            snprintf(sub, sizeof(sub), "%s/%s", d->path, de->d_name);
            DIR *cd = opendir(sub);
            if (!cd)
                continue;
            struct dirent *fe;
            bool removed = false;
            while ((fe = readdir(cd))) {
                int64_t id;
                if (!parse_hex16(fe->d_name, &id) || rec_exists(q, id, d->id, cam))
                    continue;
                char path[4400];
                snprintf(path, sizeof(path), "%s/%s", sub, fe->d_name);
                n++;
                if (cb)
                    cb(opaque, path);
                if (remove && unlink(path) == 0)
                    removed = true;
            }
            closedir(cd);
            if (removed)
                reel__fsync_dir(sub);
        }
        closedir(top);
    }
    sqlite3_finalize(q);
    if (ret_n)
        *ret_n = n;
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store's database side: opening (lock, storage directory identity,
 * start-up recovery; the schema, its version and upgrades belong to src/db), cameras, storage directories,
 * sample entries, outages, status and the queries that read recordings back.
 * Crash-safe deletion (row -> garbage -> unlink -> dir fsync -> drop garbage)
 * lives here too; the run is in run.c, the syncer in syncer.c, the writer thread in writer.c.
 */
#include "store/store_int.h"
#include "store/locks.h"

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

/* ---- small helpers ---- */

int reel__fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct reel_err *err)
{
    return reel_db_prepare(db, sql, st, err);
}

static void rollback(sqlite3 *db) { reel_db_rollback(db); }

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
    reel__fmt(buf, cap, "%s/%" PRId64 "/%016" PRIx64, d ? d->path : "(unknown storage dir)", camera_id,
             (uint64_t)rec_id);
}

static int new_uuid(char out[37])
{
    uint8_t b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return -EIO;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    reel__fmt(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

/* Writes dir/reel-storage-id durably (file fsync, then dir fsync). */
static int write_identity(const char *dir, const char *uuid, struct reel_err *err)
{
    char path[4200];
    reel__fmt(path, sizeof(path), "%s/%s", dir, REEL_IDENTITY_FILE);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return reel_err_set(err, errno, "storage dir %s: cannot create identity file: %s", dir, strerror(errno));
    char line[64];
    int n = reel__fmt(line, sizeof(line), "%s\n", uuid);
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
    reel__fmt(path, sizeof(path), "%s/%s", dir, REEL_IDENTITY_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            reel__fmt(msg, cap, "storage dir %s: identity file missing — disk not mounted?", dir);
        else
            reel__fmt(msg, cap, "storage dir %s: cannot read identity file: %s", dir, strerror(errno));
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
        reel__fmt(msg, cap, "storage dir %s: identity file names another storage dir (%.40s, expected %s) — wrong disk mounted?",
                 dir, buf, uuid);
        return -ESTALE;
    }
    return 0;
}

/* check_identity with a bound on the wait: a storage dir on a disk that does
 * not answer (a dead NFS server, a hung FUSE mount) must not hang the open of
 * a store (a web request, `reel status`). The check runs on a thread of its
 * own; past the bound the directory is taken as not answering and the
 * thread, detached, frees the shared state when it finally returns. A reader
 * waits half a second; the recorder and admin commands wait 30 s, long
 * enough for a sleeping disk to spin up. */
#define IDENTITY_WAIT_READ_NS (REEL_NS_PER_SEC / 2)
#define IDENTITY_WAIT_NS (30 * REEL_NS_PER_SEC)

struct identity_job {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int refs;                       /* the opener and the thread */
    bool done;
    int r;
    char dir[4096], uuid[64], msg[256];
};

static void identity_job_put(struct identity_job *j)
{
    pthread_mutex_lock(&j->mu);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (last) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cond);
        free(j);
    }
}

static void *identity_main(void *arg)
{
    struct identity_job *j = arg;
    char msg[256];
    int r = check_identity(j->dir, j->uuid, msg, sizeof(msg));
    pthread_mutex_lock(&j->mu);
    j->r = r;
    memcpy(j->msg, msg, sizeof(msg));
    j->done = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->mu);
    identity_job_put(j);
    return NULL;
}

static int check_identity_bounded(const char *dir, const char *uuid, int64_t wait_ns, char *msg, size_t cap)
{
    struct identity_job *j = calloc(1, sizeof(*j));
    if (!j)
        return check_identity(dir, uuid, msg, cap);
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cond, &ca);
    pthread_condattr_destroy(&ca);
    j->refs = 2;
    reel__fmt(j->dir, sizeof(j->dir), "%s", dir);
    reel__fmt(j->uuid, sizeof(j->uuid), "%s", uuid);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int e = pthread_create(&t, &at, identity_main, j);
    pthread_attr_destroy(&at);
    if (e) {
        j->refs = 1;
        identity_job_put(j);
        return check_identity(dir, uuid, msg, cap);
    }
    pthread_mutex_lock(&j->mu);
    while (!j->done)
        if (reel__cond_wait_rel(&j->cond, &j->mu, wait_ns) == ETIMEDOUT)
            break;
    int r = j->done ? j->r : -ETIMEDOUT;
    if (j->done)
        reel__fmt(msg, cap, "%s", j->msg);
    else
        reel__fmt(msg, cap, "storage dir %s: not answering (its identity file could not be read within %.1f s)", dir,
                  (double)wait_ns / REEL_NS_PER_SEC);
    pthread_mutex_unlock(&j->mu);
    identity_job_put(j);
    return r;
}

int reel__open_db(const char *datadir, sqlite3 **ret, struct reel_err *err)
{
    return reel_db_open(ret, datadir, REEL_DB_WRITE, err);
}

int reel_store_init(const char *datadir, struct reel_err *err)
{
    if (mkdir(datadir, 0700) < 0 && errno != EEXIST)
        return reel_err_set(err, errno, "data dir %s: cannot create: %s", datadir, strerror(errno));
    char abs[4096];
    if (!realpath(datadir, abs))
        return reel_err_set(err, errno, "data dir %s: %s", datadir, strerror(errno));
    char path[4200];
    reel__fmt(path, sizeof(path), "%s/reel.db", abs);
    if (access(path, F_OK) == 0) {
        /* Already initialised: bring its schema up to date (src/db upgrades
         * at a writer's open), then say so. */
        sqlite3 *db;
        int r = reel_db_open(&db, abs, REEL_DB_WRITE, err);
        if (r < 0 && r != -ENOENT)
            return r;
        if (r == 0)
            sqlite3_close(db);
        return reel_err_set(err, EEXIST, "data dir %s: already initialised (%s exists)", abs, path);
    }
    /* Created 0600: the database holds camera passwords. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return reel_err_set(err, errno, "database %s: cannot create: %s", path, strerror(errno));
    close(fd);
    char storage[4200];
    reel__fmt(storage, sizeof(storage), "%s/storage", abs);
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
    r = reel_db_open(&db, abs, REEL_DB_CREATE, err);
    if (r < 0)
        return r;
    /* the schema (src/db) and the first storage dir in one commit */
    r = reel__db_exec(db, "BEGIN IMMEDIATE", err);
    if (r == 0)
        r = reel_db_create(db, err);
    if (r == 0) {
        char *sql = sqlite3_mprintf("INSERT INTO storage_dir (path, uuid) VALUES (%Q, %Q); COMMIT", storage, uuid);
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
        reel__fmt(d->path, sizeof(d->path), "%s", (const char *)sqlite3_column_text(st, 1));
        const char *uuid = (const char *)sqlite3_column_text(st, 2);
        /* verified in every mode (reading it changes nothing), so that check
         * and storage list tell an unmounted disk from missing files */
        d->usable = check_identity_bounded(d->path, uuid ? uuid : "",
                                           s->cfg.mode == REEL_STORE_READ ? IDENTITY_WAIT_READ_NS : IDENTITY_WAIT_NS,
                                           d->error, sizeof(d->error)) == 0;
        if (!d->usable && s->cfg.mode != REEL_STORE_READ)
            reel__event(s, REEL_LOG_ERROR, "%s; not recording into it", d->error);
    }
    sqlite3_finalize(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : reel__db_err(s->db, rc, err, "reading storage dirs");
}

/* ---- deletion ---- */

int reel__collect_garbage(struct reel_store *s, sqlite3 *db, int64_t dir_id, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(db, "SELECT dir_id, camera_id, recording_id FROM garbage WHERE ?1 < 0 OR dir_id = ?1", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, dir_id);
    int64_t (*rows)[3] = NULL;
    size_t n = 0, alloc = 0;
    int lrc;
    while ((lrc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&rows, &alloc, n, sizeof(*rows), 64) < 0)
            break;
        for (int i = 0; i < 3; i++)
            rows[n][i] = sqlite3_column_int64(st, i);
        n++;
    }
    if (lrc != SQLITE_ROW && lrc != SQLITE_DONE) {
        r = reel__db_err(db, lrc, err, "reading garbage rows");
        sqlite3_finalize(st);
        free(rows);
        return r;
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
        if (unlink(path) == 0 || errno == ENOENT) {
            done[i] = true;
            /* the recording's thumbnails go with it (a cache: no fsync) */
            if (reel_store_thumb_path(s->datadir, rows[i][1], rows[i][2], path, sizeof(path)) == 0)
                unlink(path);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!done[i])
            continue;
        char dir[4200];
        const struct reel_dir_rt *d = reel__dir(s, rows[i][0]);
        reel__fmt(dir, sizeof(dir), "%s/%" PRId64, d->path, rows[i][1]);
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
    int64_t dirs[REEL_MAX_DIRS]; /* the directories that get garbage: only theirs is collected */
    size_t ndirs = 0;
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
        bool seen = false;
        for (size_t k = 0; k < ndirs; k++)
            seen |= dirs[k] == dir;
        if (!seen && ndirs < REEL_MAX_DIRS)
            dirs[ndirs++] = dir;
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
    for (size_t k = 0; r == 0 && k < ndirs; k++)
        r = reel__collect_garbage(s, db, dirs[k], err);
    return r;
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
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc != SQLITE_DONE; /* a failed lookup is not "no row": never an orphan */
}

static int parse_dec_name(const char *name, int64_t *ret)
{
    size_t n = strlen(name);
    if (n == 0 || n > 18)
        return -EINVAL;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -EINVAL;
        v = v * 10 + (name[i] - '0');
    }
    *ret = v;
    return 0;
}

/* Calls cb for each sample file (a regular file with a 16-hex-digit name,
 * under <dir>/<camera id>/) that no recording or garbage row knows; with
 * remove, unlinks it (and fsyncs). */
int reel__scan_orphans(struct reel_store *s, sqlite3 *db, bool remove,
                       void (*cb)(void *opaque, const char *path), void *opaque, uint64_t *ret_n)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM recording WHERE id = ?1 AND dir_id = ?2 AND camera_id = ?3 "
                           "UNION ALL SELECT 1 FROM garbage WHERE recording_id = ?1 AND dir_id = ?2 AND camera_id = ?3",
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
            if (parse_dec_name(de->d_name, &cam) < 0)
                continue;
            char sub[4200];
            reel__fmt(sub, sizeof(sub), "%s/%s", d->path, de->d_name);
            DIR *cd = opendir(sub);
            if (!cd)
                continue;
            struct dirent *fe;
            bool removed = false;
            while ((fe = readdir(cd))) {
                int64_t id;
                if (!parse_hex16(fe->d_name, &id) || rec_exists(q, id, d->id, cam))
                    continue;
                /* only regular files are sample files: a directory of that
                 * name cannot be unlinked, and is not ours to report */
                struct stat sb;
                if (fe->d_type != DT_REG &&
                    (fe->d_type != DT_UNKNOWN || fstatat(dirfd(cd), fe->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
                     !S_ISREG(sb.st_mode)))
                    continue;
                char path[4400];
                reel__fmt(path, sizeof(path), "%s/%s", sub, fe->d_name);
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

static int recover(struct reel_store *s, struct reel_err *err)
{
    int r = reel__collect_garbage(s, s->db, -1, err);
    if (r < 0)
        return r;
    /* 1. open rows with nothing committed: delete with their (empty) file */
    sqlite3_stmt *st;
    r = prep(s->db, "SELECT id, dir_id FROM recording WHERE open = 1 AND frames = 0", &st, err);
    if (r < 0)
        return r;
    int64_t *ids = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const struct reel_dir_rt *d = reel__dir(s, sqlite3_column_int64(st, 1));
        if (!d || !d->usable)
            continue;
        if (reel_array_grow(&ids, &alloc, n, sizeof(*ids), 16) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {       /* never recover from half a list */
        free(ids);
        return reel__db_err(s->db, rc, err, "recovery: listing empty open recordings");
    }
    r = reel__delete_recordings(s, s->db, ids, n, NULL, err);
    free(ids);
    if (r < 0)
        return r;
    /* 2. every file longer than its committed bytes is cut back; open rows close */
    r = prep(s->db, "SELECT id, camera_id, dir_id, bytes, open FROM recording", &st, err);
    if (r < 0)
        return r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), cam = sqlite3_column_int64(st, 1);
        int64_t dir = sqlite3_column_int64(st, 2), bytes = sqlite3_column_int64(st, 3);
        const struct reel_dir_rt *d = reel__dir(s, dir);
        if (!d || !d->usable)
            continue;
        char path[4200];
        reel__rec_path(s, dir, cam, id, path, sizeof(path));
        struct stat sb;
        if (stat(path, &sb) < 0 || sb.st_size <= bytes)
            continue;
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ftruncate(fd, bytes) < 0 || fsync(fd) < 0)
            reel__event(s, REEL_LOG_ERROR, "recovery: %s: cannot cut back to %" PRId64 " bytes: %s", path, bytes,
                        strerror(errno));
        else
            reel__event(s, REEL_LOG_INFO, "recovery: %s: dropped %" PRId64 " unsynced bytes", path,
                        (int64_t)sb.st_size - bytes);
        if (fd >= 0)
            close(fd);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return reel__db_err(s->db, rc, err, "recovery: listing recordings");
    r = reel__db_exec(s->db, "UPDATE recording SET open = 0 WHERE open = 1", err);
    if (r < 0)
        return r;
    /* 3. files that no row knows */
    return reel__scan_orphans(s, s->db, true, NULL, NULL, NULL);
}

int reel_store_open(struct reel_store **ret, const struct reel_store_cfg *cfg, struct reel_err *err)
{
    struct reel_store *s = calloc(1, sizeof(*s));
    if (!s)
        return reel_err_set(err, ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->lock_fd = -1;
    s->clock = cfg->clock ? cfg->clock : reel_clock_system();
    if (s->cfg.checkpoint_ns <= 0)
        s->cfg.checkpoint_ns = REEL_NS_PER_SEC;
    if (s->cfg.rotate_ns <= 0)
        s->cfg.rotate_ns = 60 * REEL_NS_PER_SEC;
    if (s->cfg.stall_ns <= 0)
        s->cfg.stall_ns = REEL_STALL_NS;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->trouble_mu, NULL);
    int r;
    if (!cfg->datadir || !realpath(cfg->datadir, s->datadir)) {
        r = reel_err_set(err, ENOENT, "data dir %s: %s", cfg->datadir ? cfg->datadir : "(null)",
                         cfg->datadir ? strerror(errno) : "not set");
        goto fail;
    }
    if (cfg->mode == REEL_STORE_RECORD) {
        char lock[4200];
        reel__fmt(lock, sizeof(lock), "%s/reel.lock", s->datadir);
        s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (s->lock_fd < 0) {
            r = reel_err_set(err, errno, "data dir %s: cannot open %s: %s", s->datadir, lock, strerror(errno));
            goto fail;
        }
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
            r = reel_err_set(err, EBUSY, "data dir %s: another recorder holds %s", s->datadir, lock);
            goto fail;
        }
    }
    /* src/db checks the schema version; writers upgrade an older one */
    r = reel_db_open(&s->db, s->datadir, cfg->mode == REEL_STORE_READ ? REEL_DB_READ : REEL_DB_WRITE, err);
    if (r < 0)
        goto fail;
    sqlite3_stmt *st;
    r = load_dirs(s, err);
    if (r < 0)
        goto fail;
    if (cfg->mode == REEL_STORE_RECORD) {
        r = recover(s, err);
        if (r < 0)
            goto fail;
        r = prep(s->db, "SELECT MAX(COALESCE((SELECT MAX(id) FROM recording), 0), "
                        "COALESCE((SELECT MAX(recording_id) FROM garbage), 0))", &st, err);
        if (r < 0)
            goto fail;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            s->next_rec_id = sqlite3_column_int64(st, 0) + 1;
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW) { /* never guess: a reused id would name another recording's file */
            r = reel__db_err(s->db, rc, err, "reading the last recording id");
            goto fail;
        }
        r = prep(s->db, "SELECT COALESCE(MAX(id), 0) FROM sample_entry", &st, err);
        if (r < 0)
            goto fail;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            s->next_entry_id = sqlite3_column_int64(st, 0) + 1;
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW) { /* a reused id would make two entries one */
            r = reel__db_err(s->db, rc, err, "reading the last sample entry id");
            goto fail;
        }
        /* one writer and one syncer per usable storage directory */
        /* the hasher first: the syncers wake it */
        r = reel__hasher_start(s, err);
        if (r == 0)
            r = reel__pipelines_start(s, err);
        if (r < 0)
            goto fail;
    }
    *ret = s;
    return 0;
fail:
    reel_store_close(s);
    return r;
}

void reel_store_close(struct reel_store *s)
{
    if (!s)
        return;
    while (s->runs)
        reel_run_close(s->runs);
    reel__pipelines_stop(s);
    if (!reel__hasher_stop(s))
        s->abandoned = true;
    if (s->noutages || s->npending_entries) {
        /* what no syncer wrote (none running, or one stuck): written here */
        struct reel_err err;
        size_t n = 0;
        int64_t max_id = 0;
        int r = reel__db_exec(s->db, "BEGIN IMMEDIATE", &err);
        if (r == 0)
            r = reel__entries_write(s, s->db, &max_id);
        if (r == 0)
            r = reel__outages_write(s, s->db, &n);
        if (r == 0)
            r = reel__db_exec(s->db, "COMMIT", &err);
        if (r < 0)
            rollback(s->db);
        reel__outages_done(s, n, r == 0);
    }
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    if (s->abandoned)
        return; /* threads stuck on a dead disk still point at s */
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->trouble_mu);
    for (size_t i = 0; i < s->nentries; i++)
        free(s->entries[i].data);
    free(s->entries);
    free(s->outages);
    free(s);
}

/* ---- storage directories ---- */

int reel_store_dir_add(struct reel_store *s, const char *path, int64_t *ret_id, struct reel_err *err)
{
    if (s->cfg.mode != REEL_STORE_ADMIN)
        return reel_err_set(err, EPERM, "storage dir %s: adding a storage dir needs ADMIN mode (recorder stopped)", path);
    if (s->ndirs >= REEL_MAX_DIRS)
        return reel_err_set(err, ENOSPC, "storage dir %s: at most %d storage dirs", path, REEL_MAX_DIRS);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return reel_err_set(err, errno, "storage dir %s: cannot create: %s", path, strerror(errno));
    char abs[4096];
    if (!realpath(path, abs))
        return reel_err_set(err, errno, "storage dir %s: %s", path, strerror(errno));
    char uuid[37];
    if (new_uuid(uuid) < 0)
        return reel_err_set(err, EIO, "storage dir %s: no random bytes for a uuid", abs);
    char *sql = sqlite3_mprintf("INSERT INTO storage_dir (path, uuid) VALUES (%Q, %Q)", abs, uuid);
    if (!sql)
        return reel_err_set(err, ENOMEM, "out of memory");
    /* identity file first: a row without its file would make the dir unusable */
    int r = write_identity(abs, uuid, err);
    if (r == 0)
        r = reel__db_exec(s->db, sql, err);
    sqlite3_free(sql);
    if (r < 0)
        return r;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    struct reel_dir_rt *d = &s->dirs[s->ndirs++];
    memset(d, 0, sizeof(*d));
    d->id = id;
    reel__fmt(d->path, sizeof(d->path), "%s", abs);
    d->usable = true;
    if (ret_id)
        *ret_id = id;
    return 0;
}

int reel_store_dir_list(struct reel_store *s, struct reel_storage_dir **ret, size_t *ret_n, struct reel_err *err)
{
    struct reel_storage_dir *v = calloc(s->ndirs ? s->ndirs : 1, sizeof(*v));
    if (!v)
        return reel_err_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; i < s->ndirs; i++) {
        v[i].id = s->dirs[i].id;
        reel__fmt(v[i].path, sizeof(v[i].path), "%s", s->dirs[i].path);
        v[i].usable = s->dirs[i].usable;
        reel__fmt(v[i].error, sizeof(v[i].error), "%s", s->dirs[i].error);
    }
    *ret = v;
    *ret_n = s->ndirs;
    return 0;
}

/* ---- cameras ---- */

const char *reel_stream_kind_name(enum reel_stream_kind k)
{
    switch (k) {
    case REEL_STREAM_MAIN: return "main";
    case REEL_STREAM_SUB: return "sub";
    case REEL_STREAM_AUDIO: return "audio";
    }
    return NULL;
}

int reel_stream_kind_parse(const char *name)
{
    for (int k = REEL_STREAM_MAIN; k <= REEL_STREAM_AUDIO; k++)
        if (name && strcmp(name, reel_stream_kind_name((enum reel_stream_kind)k)) == 0)
            return k;
    return -1;
}

static int check_camera(const struct reel_camera *c, struct reel_err *err)
{
    size_t n = strnlen(c->name, sizeof(c->name));
    if (n >= sizeof(c->name))
        return reel_err_set(err, EINVAL, "camera name must be 1 to 63 characters");
    if ((c->parent_id != 0) != (c->kind != REEL_STREAM_MAIN) || !reel_stream_kind_name(c->kind))
        return reel_err_set(err, EINVAL, "camera %s: a stream row needs its camera, and only a stream row has one",
                            c->name);
    if (c->parent_id) {
        /* "<camera>~<kind>" */
        const char *k = reel_stream_kind_name(c->kind);
        size_t kl = strlen(k);
        if (n < kl + 2 || c->name[n - kl - 1] != '~' || strcmp(c->name + n - kl, k) != 0)
            return reel_err_set(err, EINVAL, "camera %s: a %s stream row is named <camera>~%s", c->name, k, k);
        n -= kl + 1;
    }
    if (n == 0 || n > 63)
        return reel_err_set(err, EINVAL, "camera name must be 1 to 63 characters");
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)c->name[i]) && c->name[i] != '_' && c->name[i] != '-')
            return reel_err_set(err, EINVAL, "camera name \"%s\": only letters, digits, _ and - allowed", c->name);
    size_t ul = strnlen(c->url, sizeof(c->url));
    if (ul >= sizeof(c->url) || strncmp(c->url, "rtsp://", 7) != 0 || ul == 7)
        return reel_err_set(err, EINVAL, "camera %s: URL must start with rtsp:// and name a host", c->name);
    size_t auth = strcspn(c->url + 7, "/?#");
    if (memchr(c->url + 7, '@', auth))
        return reel_err_set(err, EINVAL, "camera %s: URL must not carry user:password@ (give them separately)", c->name);
    for (size_t i = 0; i < ul; i++)
        if ((unsigned char)c->url[i] <= ' ' || c->url[i] == 0x7f)
            return reel_err_set(err, EINVAL, "camera %s: URL holds a space or control character", c->name);
    if (strnlen(c->user, sizeof(c->user)) >= sizeof(c->user))
        return reel_err_set(err, EINVAL, "camera %s: user name too long", c->name);
    if (c->retain_bytes < 0 || c->retain_seconds < 0)
        return reel_err_set(err, EINVAL, "camera %s: negative retention", c->name);
    return 0;
}

static int64_t pick_dir(struct reel_store *s, int64_t dir_id)
{
    if (dir_id == 0)
        return s->ndirs ? s->dirs[0].id : 0;
    return reel__dir(s, dir_id) ? dir_id : -1;
}

int reel_store_camera_add(struct reel_store *s, struct reel_camera *cam, const char *password,
                          struct reel_err *err)
{
    int r = check_camera(cam, err);
    if (r < 0)
        return r;
    /* the site's retention cap (a stream row copies its camera's limit) */
    if (!cam->parent_id && (r = reel_store_retention_cap_check(s, cam->retain_seconds, err)) < 0)
        return r;
    int64_t dir = pick_dir(s, cam->dir_id);
    if (dir <= 0)
        return reel_err_set(err, EINVAL, "camera %s: no storage dir %" PRId64, cam->name, cam->dir_id);
    sqlite3_stmt *st;
    if (cam->parent_id) { /* "x~sub" only for a sub row of camera x */
        r = prep(s->db, "SELECT name FROM camera WHERE id = ? AND parent_id IS NULL", &st, err);
        if (r < 0)
            return r;
        sqlite3_bind_int64(st, 1, cam->parent_id);
        int rc = sqlite3_step(st);
        size_t pl = rc == SQLITE_ROW ? (size_t)sqlite3_column_bytes(st, 0) : 0;
        bool ok = rc == SQLITE_ROW && strncmp(cam->name, (const char *)sqlite3_column_text(st, 0), pl) == 0 &&
                  cam->name[pl] == '~' && strcmp(cam->name + pl + 1, reel_stream_kind_name(cam->kind)) == 0;
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return reel__db_err(s->db, rc, err, "reading the stream's camera");
        if (rc == SQLITE_DONE)
            return reel_err_set(err, EINVAL, "stream %s: its camera (id %" PRId64 ") does not exist or is a stream",
                                cam->name, cam->parent_id);
        if (!ok)
            return reel_err_set(err, EINVAL, "stream %s: a stream of camera id %" PRId64 " is named <camera>~%s",
                                cam->name, cam->parent_id, reel_stream_kind_name(cam->kind));
    }
    r = prep(s->db, "INSERT INTO camera (name, url, user, password, udp, retain_bytes, retain_seconds, dir_id, enabled, "
                    "parent_id, kind, audio, allow_redirect, allow_basic) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, cam->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, cam->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, cam->user, -1, SQLITE_STATIC);
    if (password)
        sqlite3_bind_text(st, 4, password, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, cam->udp);
    sqlite3_bind_int64(st, 6, cam->retain_bytes);
    sqlite3_bind_int64(st, 7, cam->retain_seconds);
    sqlite3_bind_int64(st, 8, dir);
    sqlite3_bind_int(st, 9, !cam->disabled);
    if (cam->parent_id)
        sqlite3_bind_int64(st, 10, cam->parent_id);
    sqlite3_bind_text(st, 11, reel_stream_kind_name(cam->kind), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 12, cam->audio);
    sqlite3_bind_int(st, 13, cam->allow_redirect);
    sqlite3_bind_int(st, 14, cam->allow_basic);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return reel_err_set(err, EEXIST, "camera %s already exists", cam->name);
    if (rc != SQLITE_DONE)
        return reel__db_err(s->db, rc, err, "adding camera");
    cam->id = sqlite3_last_insert_rowid(s->db);
    cam->dir_id = dir;
    cam->has_password = password != NULL;
    return 0;
}

int reel_store_camera_update(struct reel_store *s, const struct reel_camera *cam, const char *password,
                             struct reel_err *err)
{
    int r = check_camera(cam, err);
    if (r < 0)
        return r;
    int64_t dir = pick_dir(s, cam->dir_id);
    if (dir <= 0)
        return reel_err_set(err, EINVAL, "camera %s: no storage dir %" PRId64, cam->name, cam->dir_id);
    sqlite3_stmt *st;
    /* the site's retention cap, for a changed age limit: one set before the
     * cap may stay (retention applies the cap to it anyway) */
    r = prep(s->db, "SELECT retain_seconds FROM camera WHERE id = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, cam->id);
    bool changed = sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) != cam->retain_seconds;
    sqlite3_finalize(st);
    if (changed && (r = reel_store_retention_cap_check(s, cam->retain_seconds, err)) < 0)
        return r;
    r = prep(s->db, "UPDATE camera SET url = ?, user = ?, udp = ?, retain_bytes = ?, retain_seconds = ?, dir_id = ?, "
                    "password = CASE WHEN ?8 THEN ?7 ELSE password END, enabled = ?10, audio = ?11, "
                    "allow_redirect = ?12, allow_basic = ?13 WHERE id = ?9", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, cam->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, cam->user, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, cam->udp);
    sqlite3_bind_int64(st, 4, cam->retain_bytes);
    sqlite3_bind_int64(st, 5, cam->retain_seconds);
    sqlite3_bind_int64(st, 6, dir);
    if (password)
        sqlite3_bind_text(st, 7, password, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, password != NULL);
    sqlite3_bind_int64(st, 9, cam->id);
    sqlite3_bind_int(st, 10, !cam->disabled);
    sqlite3_bind_int(st, 11, cam->audio);
    sqlite3_bind_int(st, 12, cam->allow_redirect);
    sqlite3_bind_int(st, 13, cam->allow_basic);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return reel__db_err(s->db, rc, err, "updating camera");
    if (sqlite3_changes(s->db) == 0)
        return reel_err_set(err, ENOENT, "camera %s (id %" PRId64 ") not found", cam->name, cam->id);
    return 0;
}

static void camera_from_row(sqlite3_stmt *st, struct reel_camera *c)
{
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(st, 0);
    reel__fmt(c->name, sizeof(c->name), "%s", (const char *)sqlite3_column_text(st, 1));
    reel__fmt(c->url, sizeof(c->url), "%s", (const char *)sqlite3_column_text(st, 2));
    reel__fmt(c->user, sizeof(c->user), "%s", (const char *)sqlite3_column_text(st, 3));
    c->has_password = sqlite3_column_int(st, 4);
    c->udp = sqlite3_column_int(st, 5);
    c->retain_bytes = sqlite3_column_int64(st, 6);
    c->retain_seconds = sqlite3_column_int64(st, 7);
    c->dir_id = sqlite3_column_int64(st, 8);
    c->disabled = !sqlite3_column_int(st, 9);
    c->parent_id = sqlite3_column_int64(st, 10);
    int k = reel_stream_kind_parse((const char *)sqlite3_column_text(st, 11));
    c->kind = k < 0 ? REEL_STREAM_MAIN : (enum reel_stream_kind)k;
    c->audio = sqlite3_column_int(st, 12);
    c->allow_redirect = sqlite3_column_int(st, 13);
    c->allow_basic = sqlite3_column_int(st, 14);
}

#define CAMERA_COLS "id, name, url, user, password IS NOT NULL, udp, retain_bytes, retain_seconds, dir_id, enabled, " \
                    "coalesce(parent_id, 0), kind, audio, allow_redirect, allow_basic"

int reel_store_camera_list(struct reel_store *s, struct reel_camera **ret, size_t *ret_n, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(s->db, "SELECT " CAMERA_COLS " FROM camera ORDER BY id", &st, err);
    if (r < 0)
        return r;
    struct reel_camera *v = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 8) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        camera_from_row(st, &v[n++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return reel__db_err(s->db, rc, err, "listing cameras");
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_store_camera_get(struct reel_store *s, const char *name, struct reel_camera *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(s->db, "SELECT " CAMERA_COLS " FROM camera WHERE name = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        camera_from_row(st, ret);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return reel_err_set(err, ENOENT, "camera %s not found", name);
    return reel__db_err(s->db, rc, err, "reading camera");
}

int reel_store_camera_password(struct reel_store *s, int64_t camera_id, char *buf, size_t cap)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT password FROM camera WHERE id = ? AND password IS NOT NULL", -1, &st,
                           NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, camera_id);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? -ENOENT : rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY : -EIO;
    if (rc == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n >= cap) {
            r = -ENAMETOOLONG;
        } else {
            memcpy(buf, p, n);
            buf[n] = 0;
            r = 0;
        }
    }
    sqlite3_finalize(st);
    return r;
}

int reel_store_camera_remove(struct reel_store *s, const char *name, bool delete_footage, struct reel_err *err)
{
    struct reel_camera c;
    int r = reel_store_camera_get(s, name, &c, err);
    if (r < 0)
        return r;
    pthread_mutex_lock(&s->mu);
    bool recording = false;
    for (struct reel_run *run = s->runs; run; run = run->next)
        recording |= run->camera_id == c.id;
    pthread_mutex_unlock(&s->mu);
    if (recording)
        return reel_err_set(err, EBUSY, "camera %s is recording", name);
    sqlite3_stmt *st;
    if (c.parent_id == 0) { /* its streams go first, each by itself */
        r = prep(s->db, "SELECT name FROM camera WHERE parent_id = ? ORDER BY id LIMIT 1", &st, err);
        if (r < 0)
            return r;
        sqlite3_bind_int64(st, 1, c.id);
        int rc = sqlite3_step(st);
        char child[REEL_NAME_MAX] = "";
        if (rc == SQLITE_ROW)
            reel__fmt(child, sizeof(child), "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (rc == SQLITE_ROW)
            return reel_err_set(err, ENOTEMPTY, "camera %s still has stream %s: remove its streams first", name,
                                child);
        if (rc != SQLITE_DONE)
            return reel__db_err(s->db, rc, err, "listing the camera's streams");
    }
    /* footage under an active evidence lock is never deleted, not with its camera */
    int64_t held = 0;
    if ((r = reel_store_locked_bytes(s, c.id, &held, err)) < 0)
        return r;
    if (held > 0)
        return reel_err_set(err, EBUSY, "camera %s has footage under an evidence lock: remove or expire the lock "
                            "first", name);
    r = prep(s->db, "SELECT id FROM recording WHERE camera_id = ? ORDER BY id", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, c.id);
    int64_t *ids = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&ids, &alloc, n, sizeof(*ids), 64) < 0) {
            sqlite3_finalize(st);
            free(ids);
            return reel_err_set(err, ENOMEM, "out of memory");
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE) { /* never remove a camera on a partial list of its recordings */
        r = reel__db_err(s->db, rc, err, "listing the camera's recordings");
        sqlite3_finalize(st);
        free(ids);
        return r;
    }
    sqlite3_finalize(st);
    if (n > 0 && !delete_footage) {
        free(ids);
        return reel_err_set(err, EBUSY, "camera %s has %zu recordings (remove them with its footage)", name, n);
    }
    r = reel__delete_recordings(s, s->db, ids, n, NULL, err);
    free(ids);
    if (r < 0)
        return r;
    char *sql = sqlite3_mprintf("DELETE FROM camera WHERE id = %lld", (long long)c.id);
    r = sql ? reel__db_exec(s->db, sql, err) : reel_err_set(err, ENOMEM, "out of memory");
    sqlite3_free(sql);
    return r;
}

/* ---- sample entries ----
 * The recorder (RECORD mode) never commits one from the caller thread: a new
 * entry gets its id from an in-memory cache at once (pending), and every
 * syncer inserts the pending entries at the start of its checkpoint
 * transaction, so a recording is never committed before the entry it
 * references. Other modes write the row at once. */

static struct reel_entry_rt *entry_find(struct reel_store *s, const uint8_t *box, size_t len, int64_t id)
{
    for (size_t i = 0; i < s->nentries; i++) {
        struct reel_entry_rt *e = &s->entries[i];
        if (box ? e->len == len && memcmp(e->data, box, len) == 0 : e->id == id)
            return e;
    }
    return NULL;
}

/* Adds an entry to the cache (under s->mu); the oldest committed one goes
 * when REEL_ENTRIES_MAX are known. */
static int entry_add(struct reel_store *s, int64_t id, bool pending, const uint8_t *box, size_t len,
                     uint16_t width, uint16_t height, const char *codec_string)
{
    if (s->nentries >= REEL_ENTRIES_MAX) {
        size_t k = 0;
        while (k < s->nentries && s->entries[k].pending)
            k++;
        if (k == s->nentries)
            return -ENOSPC;
        free(s->entries[k].data);
        memmove(&s->entries[k], &s->entries[k + 1], (s->nentries - k - 1) * sizeof(*s->entries));
        s->nentries--;
    }
    if (reel_array_grow(&s->entries, &s->aentries, s->nentries, sizeof(*s->entries), 16) < 0)
        return -ENOMEM;
    uint8_t *data = malloc(len);
    if (!data)
        return -ENOMEM;
    memcpy(data, box, len);
    struct reel_entry_rt *e = &s->entries[s->nentries++];
    memset(e, 0, sizeof(*e));
    e->id = id;
    e->pending = pending;
    e->width = width;
    e->height = height;
    reel__fmt(e->codec_string, sizeof(e->codec_string), "%s", codec_string);
    e->data = data;
    e->len = len;
    if (pending)
        s->npending_entries++;
    return 0;
}

static int entry_select(sqlite3 *db, const uint8_t *box, size_t len, int64_t *ret_id, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(db, "SELECT id FROM sample_entry WHERE data = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, box, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_id = sqlite3_column_int64(st, 0);
        r = 1;
    } else if (rc == SQLITE_DONE) {
        r = 0;
    } else {
        r = reel__db_err(db, rc, err, "looking up sample entry");
    }
    sqlite3_finalize(st);
    return r;
}

int reel_store_sample_entry_put(struct reel_store *s, const uint8_t *box, size_t len, uint16_t width,
                                uint16_t height, const char *codec_string, int64_t *ret_id, struct reel_err *err)
{
    if (len == 0 || len > 65536 || !codec_string || strlen(codec_string) >= 48)
        return reel_err_set(err, EINVAL, "sample entry: bad length %zu or codec string", len);
    if (s->recording) {
        pthread_mutex_lock(&s->mu);
        struct reel_entry_rt *e = entry_find(s, box, len, 0);
        int64_t id = e ? e->id : 0;
        pthread_mutex_unlock(&s->mu);
        if (id) {
            *ret_id = id;
            return 0;
        }
        /* a read of reel.db (never waits for a writer in WAL mode) */
        int r = entry_select(s->db, box, len, &id, err);
        if (r < 0)
            return r;
        pthread_mutex_lock(&s->mu);
        bool pending = r == 0;
        if (pending)
            id = s->next_entry_id++;
        r = entry_add(s, id, pending, box, len, width, height, codec_string);
        pthread_mutex_unlock(&s->mu);
        if (r < 0)
            return reel_err_set(err, -r, "sample entry: %s", r == -ENOSPC ? "too many new entries waiting for a commit"
                                                                          : "out of memory");
        *ret_id = id;
        return 0;
    }
    int64_t id;
    int r = entry_select(s->db, box, len, &id, err);
    if (r < 0)
        return r;
    if (r == 1) {
        *ret_id = id;
        return 0;
    }
    sqlite3_stmt *st;
    r = prep(s->db, "INSERT INTO sample_entry (width, height, codec_string, data) VALUES (?, ?, ?, ?)", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int(st, 1, width);
    sqlite3_bind_int(st, 2, height);
    sqlite3_bind_text(st, 3, codec_string, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, box, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return reel__db_err(s->db, rc, err, "adding sample entry");
    *ret_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

bool reel__entry_known(struct reel_store *s, int64_t id)
{
    if (s->recording) {
        pthread_mutex_lock(&s->mu);
        bool known = entry_find(s, NULL, 0, id) != NULL;
        pthread_mutex_unlock(&s->mu);
        if (known)
            return true;
    }
    sqlite3_stmt *st;
    bool ok = false;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sample_entry WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        ok = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return ok;
}

int reel__entries_write(struct reel_store *s, sqlite3 *db, int64_t *ret_max)
{
    *ret_max = 0;
    pthread_mutex_lock(&s->mu);
    size_t n = s->npending_entries;
    struct reel_entry_rt *v = n ? calloc(n, sizeof(*v)) : NULL;
    size_t k = 0;
    for (size_t i = 0; v && i < s->nentries && k < n; i++) {
        struct reel_entry_rt *e = &s->entries[i];
        if (!e->pending)
            continue;
        v[k] = *e;
        v[k].data = malloc(e->len);
        if (!v[k].data)
            break;
        memcpy(v[k].data, e->data, e->len);
        k++;
    }
    pthread_mutex_unlock(&s->mu);
    if (n && (!v || k < n)) {
        for (size_t i = 0; i < k; i++)
            free(v[i].data);
        free(v);
        return -ENOMEM;
    }
    int r = 0;
    sqlite3_stmt *st = NULL;
    if (n && sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO sample_entry (id, width, height, codec_string, data) "
                                    "VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
        r = -EIO;
    int64_t max = 0;
    for (size_t i = 0; i < n; i++) {
        if (r == 0) {
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, v[i].id);
            sqlite3_bind_int(st, 2, v[i].width);
            sqlite3_bind_int(st, 3, v[i].height);
            sqlite3_bind_text(st, 4, v[i].codec_string, -1, SQLITE_STATIC);
            sqlite3_bind_blob(st, 5, v[i].data, (int)v[i].len, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                reel__event(s, REEL_LOG_ERROR, "sample entry %" PRId64 ": cannot insert: %s", v[i].id,
                            sqlite3_errmsg(db));
                r = -EIO;
            }
            if (v[i].id > max)
                max = v[i].id;
        }
        free(v[i].data);
    }
    sqlite3_finalize(st);
    free(v);
    if (r == 0)
        *ret_max = max;
    return r;
}

void reel__entries_done(struct reel_store *s, int64_t max_id)
{
    if (max_id <= 0)
        return;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nentries; i++) {
        struct reel_entry_rt *e = &s->entries[i];
        if (e->pending && e->id <= max_id) {
            e->pending = false;
            s->npending_entries--;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

int reel_store_sample_entry_get(struct reel_store *s, int64_t id, struct reel_sample_entry *ret, struct reel_err *err)
{
    if (s->recording) {
        pthread_mutex_lock(&s->mu);
        struct reel_entry_rt *e = entry_find(s, NULL, 0, id);
        uint8_t *data = e ? malloc(e->len) : NULL;
        if (data) {
            memcpy(data, e->data, e->len);
            memset(ret, 0, sizeof(*ret));
            ret->id = id;
            ret->width = e->width;
            ret->height = e->height;
            reel__fmt(ret->codec_string, sizeof(ret->codec_string), "%s", e->codec_string);
            ret->data = data;
            ret->len = e->len;
        }
        pthread_mutex_unlock(&s->mu);
        if (data)
            return 0;
    }
    sqlite3_stmt *st;
    int r = prep(s->db, "SELECT width, height, codec_string, data FROM sample_entry WHERE id = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? reel_err_set(err, ENOENT, "sample entry %" PRId64 " not found", id)
                                 : reel__db_err(s->db, rc, err, "reading sample entry");
    }
    size_t n = (size_t)sqlite3_column_bytes(st, 3);
    uint8_t *data = malloc(n ? n : 1);
    if (!data) {
        sqlite3_finalize(st);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    memcpy(data, sqlite3_column_blob(st, 3), n);
    memset(ret, 0, sizeof(*ret));
    ret->id = id;
    ret->width = (uint16_t)sqlite3_column_int(st, 0);
    ret->height = (uint16_t)sqlite3_column_int(st, 1);
    reel__fmt(ret->codec_string, sizeof(ret->codec_string), "%s", (const char *)sqlite3_column_text(st, 2));
    ret->data = data;
    ret->len = n;
    sqlite3_finalize(st);
    return 0;
}

/* ---- outages and status ----
 * The recorder queues outage changes in memory (bounded); the next syncer
 * to commit writes them in its checkpoint transaction, in order, one syncer
 * at a time. Other modes, or a recorder with no directory to record into,
 * write them at once. */

static int outage_begin_db(sqlite3 *db, int64_t camera_id, int64_t start90k, const char *reason, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(db, "UPDATE outage SET reason = ?2 WHERE camera_id = ?1 AND end90k IS NULL", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_text(st, 2, reason ? reason : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return reel__db_err(db, rc, err, "updating outage");
    if (sqlite3_changes(db) > 0)
        return 0;
    r = prep(db, "INSERT INTO outage (camera_id, start90k, reason) VALUES (?, ?, ?)", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, start90k);
    sqlite3_bind_text(st, 3, reason ? reason : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : reel__db_err(db, rc, err, "adding outage");
}

static int outage_end_db(sqlite3 *db, int64_t camera_id, int64_t end90k, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(db, "UPDATE outage SET end90k = MAX(start90k, ?2) WHERE camera_id = ?1 AND end90k IS NULL", &st,
                 err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, end90k);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : reel__db_err(db, rc, err, "ending outage");
}

/* Queues an outage change; 1 when queued, 0 when the caller writes it now. */
static int outage_queue(struct reel_store *s, int64_t camera_id, int64_t t90k, bool end, const char *reason,
                        struct reel_err *err)
{
    bool any = false;
    for (size_t i = 0; i < s->ndirs && s->recording; i++)
        any |= s->dirs[i].sd != NULL;
    if (!any)
        return 0;
    pthread_mutex_lock(&s->mu);
    if (s->noutages >= REEL_OUTAGE_QUEUE_MAX) {
        pthread_mutex_unlock(&s->mu);
        return reel_err_set(err, ENOSPC, "camera %" PRId64 ": %d outage changes wait for a commit (database not "
                            "answering?); this one is not recorded", camera_id, REEL_OUTAGE_QUEUE_MAX);
    }
    if (!s->outages) {
        s->outages = calloc(REEL_OUTAGE_QUEUE_MAX, sizeof(*s->outages));
        if (!s->outages) {
            pthread_mutex_unlock(&s->mu);
            return reel_err_set(err, ENOMEM, "out of memory");
        }
    }
    struct reel_outage_op *o = &s->outages[s->noutages++];
    o->camera_id = camera_id;
    o->t90k = t90k;
    o->end = end;
    reel__fmt(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
    pthread_mutex_unlock(&s->mu);
    return 1;
}

int reel__outages_write(struct reel_store *s, sqlite3 *db, size_t *ret_n)
{
    *ret_n = 0;
    pthread_mutex_lock(&s->mu);
    if (s->outages_busy || s->noutages == 0) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    size_t n = s->noutages;
    struct reel_outage_op *v = malloc(n * sizeof(*v));
    if (v) {
        memcpy(v, s->outages, n * sizeof(*v));
        s->outages_busy = true;
    }
    pthread_mutex_unlock(&s->mu);
    if (!v)
        return -ENOMEM;
    /* taken (busy) from here on: reel__outages_done() gives them back */
    *ret_n = n;
    int r = 0;
    struct reel_err err;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = v[i].end ? outage_end_db(db, v[i].camera_id, v[i].t90k, &err)
                     : outage_begin_db(db, v[i].camera_id, v[i].t90k, v[i].reason, &err);
    if (r < 0)
        reel__event(s, REEL_LOG_ERROR, "outages: %s; will retry", err.msg);
    free(v);
    return r;
}

void reel__outages_done(struct reel_store *s, size_t n, bool ok)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&s->mu);
    if (ok) {
        memmove(s->outages, s->outages + n, (s->noutages - n) * sizeof(*s->outages));
        s->noutages -= n;
    }
    s->outages_busy = false;
    pthread_mutex_unlock(&s->mu);
}

int reel_store_outage_begin(struct reel_store *s, int64_t camera_id, int64_t start90k, const char *reason,
                            struct reel_err *err)
{
    int q = outage_queue(s, camera_id, start90k, false, reason, err);
    return q != 0 ? (q < 0 ? q : 0) : outage_begin_db(s->db, camera_id, start90k, reason, err);
}

int reel_store_outage_end(struct reel_store *s, int64_t camera_id, int64_t end90k, struct reel_err *err)
{
    int q = outage_queue(s, camera_id, end90k, true, NULL, err);
    return q != 0 ? (q < 0 ? q : 0) : outage_end_db(s->db, camera_id, end90k, err);
}

/* ---- reading recordings ---- */

void reel_recordings_free(struct reel_recording *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        free(r[i].index);
    free(r);
}

int reel_store_recordings(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                          struct reel_recording **ret, size_t *ret_n, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(s->db, "SELECT id, camera_id, run_id, start90k, wall_duration90k, media_duration90k, "
                        "sample_entry_id, frames, bytes, open, dir_id, video_index, blake2b FROM recording "
                        "WHERE camera_id = ? AND frames > 0 AND start90k < ? AND start90k + wall_duration90k > ? "
                        "ORDER BY start90k, id", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, to90k);
    sqlite3_bind_int64(st, 3, from90k);
    struct reel_recording *v = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 16) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        struct reel_recording *x = &v[n];
        memset(x, 0, sizeof(*x));
        x->id = sqlite3_column_int64(st, 0);
        x->camera_id = sqlite3_column_int64(st, 1);
        x->run_id = sqlite3_column_int64(st, 2);
        x->start90k = sqlite3_column_int64(st, 3);
        x->wall_duration90k = sqlite3_column_int64(st, 4);
        x->media_duration90k = sqlite3_column_int64(st, 5);
        x->sample_entry_id = sqlite3_column_int64(st, 6);
        x->frames = (uint32_t)sqlite3_column_int64(st, 7);
        x->bytes = (uint64_t)sqlite3_column_int64(st, 8);
        x->open = sqlite3_column_int(st, 9);
        reel__rec_path(s, sqlite3_column_int64(st, 10), x->camera_id, x->id, x->path, sizeof(x->path));
        size_t il = (size_t)sqlite3_column_bytes(st, 11);
        x->index = malloc(il ? il : 1);
        if (!x->index) {
            rc = SQLITE_NOMEM;
            break;
        }
        if (il)
            memcpy(x->index, sqlite3_column_blob(st, 11), il);
        x->index_len = il;
        if (sqlite3_column_bytes(st, 12) == (int)sizeof(x->blake2b)) {
            memcpy(x->blake2b, sqlite3_column_blob(st, 12), sizeof(x->blake2b));
            x->hash_len = sizeof(x->blake2b);
        }
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        reel_recordings_free(v, n);
        return reel__db_err(s->db, rc, err, "reading recordings");
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_store_camera_usage(struct reel_store *s, int64_t camera_id, int64_t *ret_bytes, int64_t *ret_duration90k,
                            int64_t *ret_oldest90k, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(s->db, "SELECT COALESCE(SUM(bytes), 0), COALESCE(SUM(wall_duration90k), 0), "
                        "COALESCE(MIN(start90k), 0) FROM recording WHERE camera_id = ? AND frames > 0", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (ret_bytes)
            *ret_bytes = sqlite3_column_int64(st, 0);
        if (ret_duration90k)
            *ret_duration90k = sqlite3_column_int64(st, 1);
        if (ret_oldest90k)
            *ret_oldest90k = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : reel__db_err(s->db, rc, err, "reading camera usage");
}

int reel_store_gaps(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k, struct reel_gap **ret,
                    size_t *ret_n, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = prep(s->db, "SELECT start90k, COALESCE(end90k, -1), reason FROM outage WHERE camera_id = ?1 "
                        "AND start90k < ?3 AND (end90k IS NULL OR end90k > ?2) "
                        "UNION ALL SELECT start90k, end90k, reason FROM deletion WHERE camera_id = ?1 "
                        "AND start90k < ?3 AND end90k > ?2 ORDER BY 1 LIMIT 100000", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, from90k);
    sqlite3_bind_int64(st, 3, to90k);
    struct reel_gap *v = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 16) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        v[n].start90k = sqlite3_column_int64(st, 0);
        v[n].end90k = sqlite3_column_int64(st, 1);
        reel__fmt(v[n].reason, sizeof(v[n].reason), "%s", (const char *)sqlite3_column_text(st, 2));
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return reel__db_err(s->db, rc, err, "reading gaps");
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

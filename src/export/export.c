/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Export jobs: the manager (table `export`, one connection behind a mutex,
 * the list of running jobs) and the job thread that writes the MP4s, hands
 * each to the sign hook, zips several and publishes the result. See
 * export.h for the contract.
 */
#include "export/export.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sqlite3.h>
#include <zip.h>

#include "db/db.h"
#include "export/sign_hook.h"
#include "mp4/mp4.h"
#include "mp4/range.h"
#include "store/store.h"

#define BLOCK (1u << 20)
#define PROGRESS_EVERY_NS INT64_C(500000000)
#define GC_EVERY_NS (INT64_C(3600) * 1000000000)
#define DAY_NS (INT64_C(86400) * 1000000000)

struct job {
    struct reel_exports *x;
    struct reel_export_info info;
    bool audio;
    atomic_bool cancel;
    atomic_bool finished;
    pthread_t th;
    struct job *next;
};

struct reel_exports {
    char datadir[4096];
    const struct reel_clock *clock;
    const struct reel_logger *log;
    unsigned keep_days, running_max, user_max;
    pthread_mutex_t mu;         /* db, jobs, last_gc_ns */
    sqlite3 *db;
    struct job *jobs;
    int64_t last_gc_ns;
};

static int64_t wall_ns(const struct reel_exports *x) { return reel_clock_wall(x->clock); }

static int dir_path(const struct reel_exports *x, const char *id, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/exports/%s", x->datadir, id);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Removes dir and the files in it (one level: exports hold no subdirectory). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

static bool valid_id(const char *id)
{
    if (strlen(id) != 16)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* ---- rows (x->mu held) ---- */

static const char *const SELECT_COLS =
    "SELECT e.id, e.user_id, COALESCE(u.name, ''), e.cameras, e.start90k, e.end90k, e.reason, e.created_ns,"
    " e.status, e.progress, e.bytes, e.file, COALESCE(e.error, ''), COALESCE(e.sha256, ''), e.signed"
    " FROM export e LEFT JOIN web_user u ON u.id = e.user_id ";

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static void row_info(sqlite3_stmt *st, struct reel_export_info *o)
{
    memset(o, 0, sizeof(*o));
    copy_text(o->id, sizeof(o->id), sqlite3_column_text(st, 0));
    o->user_id = sqlite3_column_int64(st, 1);
    copy_text(o->user, sizeof(o->user), sqlite3_column_text(st, 2));
    json_t *cams = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(cams, i, v) {
        if (o->ncameras < REEL_EXPORT_CAMERAS_MAX && json_is_string(v))
            snprintf(o->cameras[o->ncameras++], sizeof(o->cameras[0]), "%s", json_string_value(v));
    }
    json_decref(cams);
    o->start90k = sqlite3_column_int64(st, 4);
    o->end90k = sqlite3_column_int64(st, 5);
    copy_text(o->reason, sizeof(o->reason), sqlite3_column_text(st, 6));
    o->created_ns = sqlite3_column_int64(st, 7);
    copy_text(o->status, sizeof(o->status), sqlite3_column_text(st, 8));
    o->progress = sqlite3_column_double(st, 9);
    o->bytes = sqlite3_column_int64(st, 10);
    copy_text(o->file, sizeof(o->file), sqlite3_column_text(st, 11));
    copy_text(o->error, sizeof(o->error), sqlite3_column_text(st, 12));
    copy_text(o->sha256, sizeof(o->sha256), sqlite3_column_text(st, 13));
    o->sign = sqlite3_column_int(st, 14) != 0;
}

static int get_locked(struct reel_exports *x, const char *id, struct reel_export_info *ret, struct reel_err *err)
{
    if (!valid_id(id))
        return -ENOENT;
    char sql[600];
    snprintf(sql, sizeof(sql), "%s WHERE e.id = ?", SELECT_COLS);
    sqlite3_stmt *st;
    int r = reel_db_prepare(x->db, sql, &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        row_info(st, ret);
    else
        r = step == SQLITE_DONE ? -ENOENT : reel_db_err(x->db, step, err, "reading an export");
    sqlite3_finalize(st);
    return r;
}

/* Deletes the rows (and files) of exports created before cutoff_ns that
 * are not running. */
static void gc_locked(struct reel_exports *x, int64_t cutoff_ns)
{
    sqlite3_stmt *st;
    struct reel_err err = { "" };
    if (reel_db_prepare(x->db, "SELECT id FROM export WHERE created_ns < ? AND status != 'running'", &st, &err) < 0)
        return;
    sqlite3_bind_int64(st, 1, cutoff_ns);
    char (*ids)[17] = NULL;
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 10000) {
        void *p = realloc(ids, (n + 1) * sizeof(*ids));
        if (!p)
            break;
        ids = p;
        copy_text(ids[n++], sizeof(ids[0]), sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        char dir[4200];
        if (valid_id(ids[i]) && dir_path(x, ids[i], dir, sizeof(dir)) == 0)
            remove_dir(dir);
        if (reel_db_prepare(x->db, "DELETE FROM export WHERE id = ?", &st, &err) == 0) {
            sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
            sqlite3_step(st);
            sqlite3_finalize(st);
        }
    }
    free(ids);
}

static void update_progress(struct reel_exports *x, const char *id, double p)
{
    pthread_mutex_lock(&x->mu);
    sqlite3_stmt *st;
    struct reel_err err = { "" };
    if (reel_db_prepare(x->db, "UPDATE export SET progress = ? WHERE id = ? AND status = 'running'", &st, &err) == 0) {
        sqlite3_bind_double(st, 1, p);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&x->mu);
}

static void finish_row(struct reel_exports *x, const char *id, const char *error, int64_t bytes, const char *file,
                       const char *sha256)
{
    pthread_mutex_lock(&x->mu);
    sqlite3_stmt *st;
    struct reel_err err = { "" };
    if (reel_db_prepare(x->db,
                        "UPDATE export SET status = ?, progress = ?, error = ?, bytes = ?, file = ?, sha256 = ?"
                        " WHERE id = ?",
                        &st, &err) == 0) {
        sqlite3_bind_text(st, 1, error ? "failed" : "done", -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 2, error ? 0.0 : 1.0);
        if (error)
            sqlite3_bind_text(st, 3, error, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, bytes);
        sqlite3_bind_text(st, 5, file, -1, SQLITE_TRANSIENT);
        if (sha256 && sha256[0])
            sqlite3_bind_text(st, 6, sha256, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 6);
        sqlite3_bind_text(st, 7, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            reel_log(x->log, REEL_LOG_ERROR, "export %s: cannot record its end: %s", id, sqlite3_errmsg(x->db));
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&x->mu);
}

/* ---- the job ---- */

struct progress {
    struct job *j;
    size_t ncams, cam;          /* the camera being written (0-based) */
    int64_t last_ns;
};

static void progress_at(struct progress *p, double cam_frac)
{
    int64_t now = reel_clock_mono(p->j->x->clock);
    if (now - p->last_ns < PROGRESS_EVERY_NS)
        return;
    p->last_ns = now;
    double v = ((double)p->cam + cam_frac) / (double)p->ncams;
    update_progress(p->j->x, p->j->info.id, v > 0.99 ? 0.99 : v);
}

/* Writes camera cam's MP4 over the job's range to path, then signs it. */
static int write_camera(struct job *j, struct reel_store *s, const char *cam_name, const char *path,
                        struct progress *pg, struct reel_err *err)
{
    struct reel_export_info *in = &j->info;
    struct reel_camera cam;
    int r = reel_store_camera_get(s, cam_name, &cam, err);
    if (r == -ENOENT)
        return reel_err_set(err, ENOENT, "camera %s no longer exists", cam_name);
    if (r < 0)
        return r;
    struct reel_mp4 *m = NULL;
    struct reel_recording *recs = NULL;
    size_t nrecs = 0;
    const struct reel_mp4_range_opts opts = { .audio = j->audio };
    r = reel_store_read_begin(s, err);
    if (r < 0)
        return r;
    r = reel_store_recordings(s, cam.id, in->start90k, in->end90k, &recs, &nrecs, err);
    if (r == 0 && nrecs == 0)
        r = reel_err_set(err, ENOENT, "camera %s has no footage in the range", cam_name);
    if (r == 0)
        r = reel_mp4_for_range_opts(s, cam.id, in->start90k, in->end90k, &opts, &m, err);
    reel_store_read_end(s);
    int64_t *ids = NULL;
    if (r == 0 && !(ids = calloc(nrecs, sizeof(*ids))))
        r = reel_err_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; r == 0 && i < nrecs; i++)
        ids[i] = recs[i].id;
    reel_recordings_free(recs, nrecs);
    if (r < 0) {
        free(ids);
        reel_mp4_free(m);
        return r;
    }
    uint32_t frames = reel_mp4_frames(m);
    uint64_t size = reel_mp4_size(m);
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.part", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    char *buf = fd >= 0 ? malloc(BLOCK) : NULL;
    if (fd < 0 || !buf)
        r = reel_err_set(err, fd < 0 ? errno : ENOMEM, "cannot create the file of camera %s: %s", cam_name,
                         strerror(fd < 0 ? errno : ENOMEM));
    for (uint64_t off = 0; r == 0 && off < size;) {
        if (atomic_load(&j->cancel)) {
            r = reel_err_set(err, ECANCELED, "cancelled");
            break;
        }
        size_t want = size - off < BLOCK ? (size_t)(size - off) : BLOCK;
        ssize_t n = reel_mp4_read(m, off, buf, want);
        if (n <= 0) {
            r = reel_err_set(err, EIO, "reading the footage of camera %s at byte %llu failed", cam_name,
                             (unsigned long long)off);
            break;
        }
        for (ssize_t done = 0; r == 0 && done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                r = reel_err_set(err, w < 0 ? errno : EIO, "writing the export failed: %s",
                                 strerror(w < 0 ? errno : EIO));
            else
                done += w;
        }
        off += (uint64_t)n;
        progress_at(pg, (double)off / (double)size * 0.98);
    }
    free(buf);
    reel_mp4_free(m);
    if (fd >= 0) {
        if (r == 0 && fsync(fd) < 0)
            r = reel_err_set(err, errno, "syncing the export failed: %s", strerror(errno));
        close(fd);
    }
    if (r == 0 && rename(tmp, path) < 0)
        r = reel_err_set(err, errno, "publishing the export failed: %s", strerror(errno));
    if (r < 0) {
        unlink(tmp);
        free(ids);
        return r;
    }
    const struct reel_export_job_file f = {
        .camera = cam_name, .path = path, .start90k = in->start90k, .end90k = in->end90k, .recordings = ids,
        .nrecordings = nrecs, .frames = frames, .user = in->user, .reason = in->reason,
        .created_ns = in->created_ns, .datadir = j->x->datadir,
    };
    r = reel_export_sign_hook(&f, err);
    free(ids);
    return r;
}

/* Zips files[0..n) (and each one's ".sig.json" when the sign hook made one)
 * stored, into path, then removes them. */
static int zip_files(char (*files)[4300], char (*names)[REEL_EXPORT_NAME_MAX], size_t n, const char *path,
                     struct reel_err *err)
{
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_EXCL, &zerr);
    if (!z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int r = reel_err_set(err, EIO, "cannot create the zip: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return r;
    }
    for (size_t i = 0; i < n; i++) {
        for (int sig = 0; sig < 2; sig++) {
            char src[4400], name[REEL_EXPORT_NAME_MAX + 16];
            snprintf(src, sizeof(src), "%s%s", files[i], sig ? ".sig.json" : "");
            snprintf(name, sizeof(name), "%s%s", names[i], sig ? ".sig.json" : "");
            if (sig && access(src, F_OK) != 0)
                continue;
            zip_source_t *zs = zip_source_file(z, src, 0, -1);
            zip_int64_t idx = zs ? zip_file_add(z, name, zs, ZIP_FL_ENC_UTF_8) : -1;
            if (idx < 0) {
                if (zs)
                    zip_source_free(zs);
                int r = reel_err_set(err, EIO, "adding %s to the zip: %s", name, zip_strerror(z));
                zip_discard(z);
                return r;
            }
            zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
        }
    }
    if (zip_close(z) < 0) {
        int r = reel_err_set(err, EIO, "writing the zip: %s", zip_strerror(z));
        zip_discard(z);
        return r;
    }
    chmod(path, 0600);
    for (size_t i = 0; i < n; i++) {
        char sig[4400];
        snprintf(sig, sizeof(sig), "%s.sig.json", files[i]);
        unlink(files[i]);
        unlink(sig);
    }
    return 0;
}

static int sha256_file(const char *path, char out[65], int64_t *ret_size, struct reel_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return reel_err_set(err, errno, "cannot read the export back: %s", strerror(errno));
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t *buf = malloc(BLOCK);
    int r = c && buf && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 ? 0 : reel_err_set(err, ENOMEM, "sha256");
    int64_t total = 0;
    while (r == 0) {
        ssize_t n = read(fd, buf, BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            r = reel_err_set(err, errno, "reading the export back: %s", strerror(errno));
        if (n <= 0)
            break;
        EVP_DigestUpdate(c, buf, (size_t)n);
        total += n;
    }
    uint8_t md[32];
    unsigned mdlen = 0;
    if (r == 0 && EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32) {
        for (int i = 0; i < 32; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
        *ret_size = total;
    }
    EVP_MD_CTX_free(c);
    free(buf);
    close(fd);
    return r;
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct reel_exports *x = j->x;
    struct reel_export_info *in = &j->info;
    struct reel_err err = { "" };
    char dir[4200];
    dir_path(x, in->id, dir, sizeof(dir));
    struct reel_store *s = NULL;
    const struct reel_store_cfg scfg = { .datadir = x->datadir, .mode = REEL_STORE_READ, .clock = x->clock };
    int r = reel_store_open(&s, &scfg, &err);
    char (*files)[4300] = calloc(in->ncameras, sizeof(*files));
    char (*names)[REEL_EXPORT_NAME_MAX] = calloc(in->ncameras, sizeof(*names));
    if (r == 0 && (!files || !names))
        r = reel_err_set(&err, ENOMEM, "out of memory");
    struct progress pg = { .j = j, .ncams = in->ncameras, .last_ns = reel_clock_mono(x->clock) };
    for (size_t i = 0; r == 0 && i < in->ncameras; i++) {
        const char *cam = in->cameras[i];
        if (in->ncameras == 1)
            snprintf(names[i], sizeof(names[i]), "%s", in->file);
        else
            reel_export_file_name(&cam, 1, in->start90k, in->end90k, "mp4", names[i], sizeof(names[i]));
        snprintf(files[i], sizeof(files[i]), "%s/%s", dir, names[i]);
        pg.cam = i;
        r = write_camera(j, s, cam, files[i], &pg, &err);
    }
    reel_store_close(s);
    char final[4300];
    if (snprintf(final, sizeof(final), "%s/%s", dir, in->file) >= (int)sizeof(final) && r == 0)
        r = reel_err_set(&err, ENAMETOOLONG, "the export's path is too long");
    if (r == 0 && in->ncameras > 1 && !atomic_load(&j->cancel))
        r = zip_files(files, names, in->ncameras, final, &err);
    free(files);
    free(names);
    char sha[65] = "";
    int64_t bytes = 0;
    if (r == 0)
        r = sha256_file(final, sha, &bytes, &err);
    if (atomic_load(&j->cancel)) {
        remove_dir(dir);
    } else if (r < 0) {
        remove_dir(dir);
        reel_log(x->log, REEL_LOG_WARN, "export %s by %s failed: %s", in->id, in->user, err.msg);
        finish_row(x, in->id, err.msg, 0, "", NULL);
    } else {
        reel_log(x->log, REEL_LOG_INFO, "export %s by %s done: %s, %lld bytes", in->id, in->user, in->file,
                 (long long)bytes);
        finish_row(x, in->id, NULL, bytes, in->file, sha);
    }
    atomic_store(&j->finished, true);
    return NULL;
}

/* Joins the finished jobs' threads (x->mu held). */
static void reap_locked(struct reel_exports *x)
{
    for (struct job **pp = &x->jobs; *pp;) {
        struct job *j = *pp;
        if (atomic_load(&j->finished)) {
            pthread_join(j->th, NULL);
            *pp = j->next;
            free(j);
        } else {
            pp = &j->next;
        }
    }
}

/* ---- the manager ---- */

int reel_exports_new(struct reel_exports **ret, const struct reel_exports_cfg *cfg, struct reel_err *err)
{
    *ret = NULL;
    struct reel_exports *x = calloc(1, sizeof(*x));
    if (!x)
        return reel_err_set(err, ENOMEM, "out of memory");
    snprintf(x->datadir, sizeof(x->datadir), "%s", cfg->datadir);
    x->clock = cfg->clock ? cfg->clock : reel_clock_system();
    x->log = cfg->log;
    x->keep_days = cfg->keep_days ? cfg->keep_days : REEL_EXPORT_KEEP_DAYS;
    x->running_max = cfg->running_max ? cfg->running_max : REEL_EXPORT_RUNNING_MAX;
    x->user_max = cfg->user_max ? cfg->user_max : REEL_EXPORT_USER_MAX;
    pthread_mutex_init(&x->mu, NULL);
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/exports", x->datadir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        free(x);
        return reel_err_set(err, e, "cannot create %s: %s", dir, strerror(e));
    }
    int r = reel_db_open(&x->db, x->datadir, REEL_DB_WRITE, err);
    if (r == 0)
        r = reel_db_exec(x->db,
                         "UPDATE export SET status = 'failed', progress = 0,"
                         " error = 'the server stopped while the export was running' WHERE status = 'running'",
                         err);
    if (r < 0) {
        sqlite3_close(x->db);
        pthread_mutex_destroy(&x->mu);
        free(x);
        return r;
    }
    /* failed jobs' leftovers and expired exports */
    x->last_gc_ns = wall_ns(x);
    gc_locked(x, x->last_gc_ns - (int64_t)x->keep_days * DAY_NS);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            struct reel_export_info info;
            struct reel_err e2 = { "" };
            if (!valid_id(e->d_name) || get_locked(x, e->d_name, &info, &e2) == -ENOENT ||
                (get_locked(x, e->d_name, &info, &e2) == 0 && strcmp(info.status, "failed") == 0)) {
                char sub[4400];
                snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                    remove_dir(sub);
            }
        }
        closedir(d);
    }
    *ret = x;
    return 0;
}

void reel_exports_free(struct reel_exports *x)
{
    if (!x)
        return;
    pthread_mutex_lock(&x->mu);
    for (struct job *j = x->jobs; j; j = j->next)
        atomic_store(&j->cancel, true);
    pthread_mutex_unlock(&x->mu);
    /* a cancelled job removes its files; its row becomes failed at the next start */
    for (struct job *j = x->jobs, *next; j; j = next) {
        next = j->next;
        pthread_join(j->th, NULL);
        free(j);
    }
    sqlite3_close(x->db);
    pthread_mutex_destroy(&x->mu);
    free(x);
}

int reel_exports_create(struct reel_exports *x, const struct reel_export_req *req, struct reel_export_info *ret,
                        struct reel_err *err)
{
    if (req->ncameras < 1 || req->ncameras > REEL_EXPORT_CAMERAS_MAX || req->end90k <= req->start90k ||
        req->end90k - req->start90k > REEL_EXPORT_RANGE_MAX || strlen(req->reason) > REEL_EXPORT_REASON_MAX)
        return reel_err_set(err, EINVAL, "bad export request");
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return reel_err_set(err, ENOMEM, "out of memory");
    struct reel_export_info *in = &j->info;
    j->x = x;
    j->audio = req->audio;
    uint8_t rnd[8];
    randombytes_buf(rnd, sizeof(rnd));
    for (int i = 0; i < 8; i++)
        snprintf(in->id + 2 * i, 3, "%02x", rnd[i]);
    in->user_id = req->user_id;
    snprintf(in->user, sizeof(in->user), "%s", req->user);
    json_t *cams = json_array();
    for (size_t i = 0; i < req->ncameras; i++) {
        snprintf(in->cameras[i], sizeof(in->cameras[i]), "%s", req->cameras[i]);
        json_array_append_new(cams, json_string(req->cameras[i]));
    }
    in->ncameras = req->ncameras;
    in->start90k = req->start90k;
    in->end90k = req->end90k;
    in->created_ns = wall_ns(x);
    snprintf(in->reason, sizeof(in->reason), "%s", req->reason);
    snprintf(in->status, sizeof(in->status), "running");
    reel_export_file_name(req->cameras, req->ncameras, req->start90k, req->end90k,
                          req->ncameras == 1 ? "mp4" : "zip", in->file, sizeof(in->file));
    char *cams_text = json_dumps(cams, JSON_COMPACT);
    json_decref(cams);
    if (!cams_text) {
        free(j);
        return reel_err_set(err, ENOMEM, "out of memory");
    }

    pthread_mutex_lock(&x->mu);
    reap_locked(x);
    unsigned all = 0, mine = 0;
    for (struct job *o = x->jobs; o; o = o->next) {
        all++;
        mine += o->info.user_id == req->user_id;
    }
    int r = mine >= x->user_max ? -EUSERS : all >= x->running_max ? -EAGAIN : 0;
    char dir[4200];
    if (r == 0 && dir_path(x, in->id, dir, sizeof(dir)) == 0 && mkdir(dir, 0700) < 0)
        r = reel_err_set(err, errno, "cannot create the export's directory: %s", strerror(errno));
    sqlite3_stmt *st = NULL;
    if (r == 0)
        r = reel_db_prepare(x->db,
                            "INSERT INTO export (id, user_id, cameras, start90k, end90k, reason, created_ns, status,"
                            " file) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)",
                            &st, err);
    if (r == 0) {
        sqlite3_bind_text(st, 1, in->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, in->user_id);
        sqlite3_bind_text(st, 3, cams_text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, in->start90k);
        sqlite3_bind_int64(st, 5, in->end90k);
        sqlite3_bind_text(st, 6, in->reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, in->created_ns);
        sqlite3_bind_text(st, 8, in->file, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE)
            r = reel_db_err(x->db, step, err, "adding an export");
        sqlite3_finalize(st);
        if (r < 0)
            rmdir(dir);
    }
    if (r == 0) {
        int pe = pthread_create(&j->th, NULL, job_main, j);
        if (pe != 0) {
            r = reel_err_set(err, pe, "cannot start the export's thread: %s", strerror(pe));
            sqlite3_stmt *d;
            if (reel_db_prepare(x->db, "DELETE FROM export WHERE id = ?", &d, err) == 0) {
                sqlite3_bind_text(d, 1, in->id, -1, SQLITE_STATIC);
                sqlite3_step(d);
                sqlite3_finalize(d);
            }
            rmdir(dir);
        }
    }
    if (r == 0) {
        *ret = *in;
        j->next = x->jobs;
        x->jobs = j;
    }
    pthread_mutex_unlock(&x->mu);
    free(cams_text);
    if (r < 0)
        free(j);
    return r;
}

int reel_exports_list(struct reel_exports *x, int64_t user_id, struct reel_export_info **ret, size_t *ret_n,
                      struct reel_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    char sql[700];
    snprintf(sql, sizeof(sql), "%s WHERE ?1 = 0 OR e.user_id = ?1 ORDER BY e.created_ns DESC, e.id LIMIT %d",
             SELECT_COLS, REEL_EXPORT_LIST_MAX);
    pthread_mutex_lock(&x->mu);
    reap_locked(x);
    int64_t now = wall_ns(x);
    if (now - x->last_gc_ns > GC_EVERY_NS) {
        x->last_gc_ns = now;
        gc_locked(x, now - (int64_t)x->keep_days * DAY_NS);
    }
    sqlite3_stmt *st;
    int r = reel_db_prepare(x->db, sql, &st, err);
    struct reel_export_info *out = NULL;
    size_t n = 0;
    if (r == 0) {
        sqlite3_bind_int64(st, 1, user_id);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            void *p = realloc(out, (n + 1) * sizeof(*out));
            if (!p) {
                r = reel_err_set(err, ENOMEM, "out of memory");
                break;
            }
            out = p;
            row_info(st, &out[n++]);
        }
        if (r == 0 && step != SQLITE_DONE)
            r = reel_db_err(x->db, step, err, "listing exports");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&x->mu);
    if (r < 0) {
        free(out);
        return r;
    }
    *ret = out;
    *ret_n = n;
    return 0;
}

int reel_exports_get(struct reel_exports *x, const char *id, struct reel_export_info *ret, struct reel_err *err)
{
    pthread_mutex_lock(&x->mu);
    int r = get_locked(x, id, ret, err);
    pthread_mutex_unlock(&x->mu);
    return r;
}

int reel_exports_open(struct reel_exports *x, const char *id, int *ret_fd, uint64_t *ret_size, struct reel_err *err)
{
    struct reel_export_info info;
    int r = reel_exports_get(x, id, &info, err);
    if (r < 0)
        return r;
    if (strcmp(info.status, "done") != 0)
        return -EBUSY;
    char path[4400];
    snprintf(path, sizeof(path), "%s/exports/%s/%s", x->datadir, info.id, info.file);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        int e = fd < 0 ? errno : EIO;
        if (fd >= 0)
            close(fd);
        return reel_err_set(err, e == ENOENT ? EIO : e, "export %s: cannot open its file: %s", id, strerror(e));
    }
    *ret_fd = fd;
    *ret_size = (uint64_t)sb.st_size;
    return 0;
}

int reel_exports_delete(struct reel_exports *x, const char *id, struct reel_err *err)
{
    if (!valid_id(id))
        return -ENOENT;
    pthread_mutex_lock(&x->mu);
    bool running = false;
    for (struct job *j = x->jobs; j; j = j->next)
        if (strcmp(j->info.id, id) == 0 && !atomic_load(&j->finished)) {
            atomic_store(&j->cancel, true);   /* its thread removes the directory */
            running = true;
        }
    sqlite3_stmt *st;
    int r = reel_db_prepare(x->db, "DELETE FROM export WHERE id = ?", &st, err);
    if (r == 0) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE)
            r = reel_db_err(x->db, step, err, "deleting an export");
        else if (sqlite3_changes(x->db) == 0)
            r = -ENOENT;
        sqlite3_finalize(st);
    }
    if (r == 0 && !running) {
        char dir[4200];
        if (dir_path(x, id, dir, sizeof(dir)) == 0)
            remove_dir(dir);
    }
    pthread_mutex_unlock(&x->mu);
    return r;
}

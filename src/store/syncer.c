/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The syncer: all durability work of the store, on its own thread.
 * The loop thread (run.c) appends frames into a per-recording batch and
 * hands each full batch to the writer thread (writer.c); it never writes,
 * fsyncs or commits. The syncer thread does all durability work, in this order:
 *   1. for each wanted recording: insert its row (open=1, nothing committed)
 *      and commit, then create the file with O_EXCL (O_DIRECT where the
 *      filesystem takes it), then fsync the directory; only then are its
 *      batches written;
 *   2. every checkpoint: under the mutex queue every batch's unwritten bytes
 *      and take a snapshot of each recording's complete frames (frames,
 *      bytes, index); wait until the writer has written them; fdatasync each
 *      file; then one transaction updates every recording row with its
 *      snapshot. A row therefore never describes bytes that are not on disk;
 *   3. finished recordings get their final row (open=0) and their fd closed;
 *      never-used ones are deleted (row -> garbage -> unlink -> dir fsync);
 *   4. retention.
 * See docs/storage.md.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


static int64_t real_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * REEL_NS_PER_SEC + ts.tv_nsec;
}

/* ---- syncer ---- */

/* BEGIN IMMEDIATE on the syncer's connection. Another process holding the
 * write lock (the busy timeout waits up to 10 s) delays durability but loses
 * nothing: frames wait in memory. A wait longer than a checkpoint interval
 * is reported, once per spell. */
static int begin_write(struct reel_store *s, const char *what, struct reel_err *err)
{
    int64_t t0 = real_mono_ns();
    int r = reel__db_exec(s->sdb, "BEGIN IMMEDIATE", err);
    int64_t waited = real_mono_ns() - t0;
    if (waited >= s->cfg.checkpoint_ns && waited >= REEL_NS_PER_SEC / 2)
        reel__event(s, REEL_LOG_WARN, "database busy: the %s waited %.1f s for the write lock on %s/reel.db "
                    "(another process writing it?); frames are kept in memory meanwhile", what,
                    (double)waited / REEL_NS_PER_SEC, s->datadir);
    return r;
}

/* Inserts rows for wanted recordings (one commit), then creates their files. */
static void prepare_files(struct reel_store *s)
{
    struct reel_rec *todo[256];
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    for (struct reel_rec **pp = &s->recs; *pp;) {
        struct reel_rec *x = *pp;
        if (x->state == REC_REQ && x->discard && !x->in_use) {
            *pp = x->next; /* never created: nothing to undo */
            reel__rec_free(s, x);
            continue;
        }
        if (x->state == REC_REQ && n < 256) {
            x->state = REC_PREP;
            todo[n++] = x;
        }
        pp = &x->next;
    }
    pthread_mutex_unlock(&s->mu);
    if (n == 0)
        return;
    struct reel_err err;
    int r = begin_write(s, "creation of new recordings", &err);
    sqlite3_stmt *st = NULL;
    if (r == 0 && sqlite3_prepare_v2(s->sdb, "INSERT INTO recording (id, camera_id, dir_id, open) VALUES (?, ?, ?, 1)",
                                     -1, &st, NULL) != SQLITE_OK)
        r = reel__db_err(s->sdb, SQLITE_ERROR, &err, "preparing recording insert");
    for (size_t i = 0; r == 0 && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, todo[i]->id);
        sqlite3_bind_int64(st, 2, todo[i]->camera_id);
        sqlite3_bind_int64(st, 3, todo[i]->dir_id);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            r = reel__db_err(s->sdb, rc, &err, "inserting recording rows");
    }
    sqlite3_finalize(st);
    if (r == 0)
        r = reel__db_exec(s->sdb, "COMMIT", &err);
    if (r < 0)
        sqlite3_exec(s->sdb, "ROLLBACK", NULL, NULL, NULL);
    int64_t failed[256];
    size_t nfailed = 0;
    for (size_t i = 0; i < n; i++) {
        struct reel_rec *x = todo[i];
        int fd = -1;
        char msg[256] = "";
        if (r < 0) {
            reel__fmt(msg, sizeof(msg), "%s", err.msg);
        } else {
            const struct reel_dir_rt *d = reel__dir(s, x->dir_id);
            char camdir[4200];
            reel__fmt(camdir, sizeof(camdir), "%s/%" PRId64, d ? d->path : "?", x->camera_id);
            if (mkdir(camdir, 0700) == 0)
                reel__fsync_dir(d->path);
            fd = open(x->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
            if (fd < 0) {
                reel__fmt(msg, sizeof(msg), "sample file %s: cannot create: %s", x->path, strerror(errno));
            } else if (reel__fsync_dir(camdir) < 0) {
                reel__fmt(msg, sizeof(msg), "storage dir %s: fsync failed after creating %s", camdir, x->path);
                close(fd);
                fd = -1;
            }
            if (fd < 0)
                failed[nfailed++] = x->id;
        }
        if (fd < 0)
            reel__event(s, REEL_LOG_ERROR, "camera %" PRId64 ": %s", x->camera_id, msg);
        pthread_mutex_lock(&s->mu);
        if (fd >= 0) {
            /* O_DIRECT where the filesystem takes it (writer.c); else the page cache */
            int fl = s->cfg.buffered_io ? -1 : fcntl(fd, F_GETFL);
            bool direct = fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
            x->fd = fd;
            x->direct = direct;
            x->state = REC_READY;
            reel__writer_ready(s, x); /* full batches that waited for the file */
            if (x->closing) {
                int e = reel__writer_submit(s, x, true);
                if (e < 0)
                    reel__rec_write_failed(s, x, e);
            }
        } else {
            x->state = REC_FAILED;
            x->io_error = true;
            reel__fmt(x->error, sizeof(x->error), "%s", msg);
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (nfailed)
        reel__delete_recordings(s, s->sdb, failed, nfailed, NULL, &err);
}

struct ckpt_item {
    struct reel_rec *x;
    struct reel_snap snap;
    uint8_t *index;
    int64_t run_id, run_index, start90k, sample_entry_id;
    uint64_t file_end;
    bool final, discard, sync_failed, done;
    int sync_errno;
};

static void checkpoint(struct reel_store *s)
{
    size_t cap = 0, n = 0;
    struct ckpt_item *items = NULL;
    pthread_mutex_lock(&s->mu);
    for (struct reel_rec **pp = &s->recs; *pp;) {
        struct reel_rec *x = *pp;
        if (x->state == REC_FAILED && (x->closing || x->discard)) {
            *pp = x->next; /* its row is already gone */
            reel__rec_free(s, x);
            continue;
        }
        pp = &x->next;
        if (x->state != REC_READY)
            continue;
        if (!x->in_use && !x->discard)
            continue; /* a spare, ready and waiting */
        if (x->bbuf && !x->io_error) {
            /* what the batch holds goes to the writer too (all of it, buffer
             * included, once the run is done with the recording) */
            int e = reel__writer_submit(s, x, x->closing);
            if (e < 0)
                reel__rec_write_failed(s, x, e);
        }
        bool final = x->closing && (!x->bbuf || x->io_error);
        bool changed = memcmp(&x->good, &x->committed, sizeof(x->good)) != 0;
        if (!final && !x->discard && !changed)
            continue;
        if (reel_array_grow(&items, &cap, n, sizeof(*items), 16) < 0)
            break;
        struct ckpt_item *it = &items[n];
        memset(it, 0, sizeof(*it));
        it->x = x;
        it->snap = x->io_error ? x->committed : x->good;
        it->index = malloc(it->snap.index_len ? it->snap.index_len : 1);
        if (!it->index)
            continue;
        if (it->snap.index_len)
            memcpy(it->index, x->idx.out.data, it->snap.index_len);
        it->run_id = x->run_id;
        it->run_index = x->run_index;
        it->start90k = x->start90k;
        it->sample_entry_id = x->sample_entry_id;
        it->final = final;
        it->discard = x->discard;
        n++;
    }
    /* wait until the writer has written what each snapshot describes; a
     * recording whose writes are set aside (disk full) stays where it was */
    for (size_t i = 0; i < n; i++) {
        struct ckpt_item *it = &items[i];
        struct reel_rec *x = it->x;
        if (it->discard)
            continue;
        /* a closing recording gets no more jobs: wait for all of them, so
         * that none refers to it once it is freed */
        int urgent = 0;
        while (!x->stalled && s->writer_running &&
               (x->closing ? x->inflight > 0 : !x->io_error && x->written < it->snap.bytes)) {
            if (!urgent)
                reel__writer_urgent(s, urgent = 1);
            pthread_cond_wait(&s->wdone, &s->mu);
        }
        reel__writer_urgent(s, -urgent);
        if (x->io_error) {
            it->snap = x->committed;
        } else if (x->written < it->snap.bytes) {
            it->snap = x->committed;
            it->final = false;
        }
        if (x->inflight > 0)
            it->final = false;
        it->file_end = x->file_end;
    }
    pthread_mutex_unlock(&s->mu);

    /* durability of the data before the rows that describe it */
    for (size_t i = 0; i < n; i++) {
        struct ckpt_item *it = &items[i];
        if (it->discard)
            continue;
        bool cut = it->final && it->file_end > it->snap.bytes;
        if (cut && ftruncate(it->x->fd, (off_t)it->snap.bytes) < 0)
            cut = false; /* recovery cuts it back at the next start */
        if (!cut && memcmp(&it->snap, &it->x->committed, sizeof(it->snap)) == 0)
            continue;
        if (fdatasync(it->x->fd) < 0) {
            /* never retry a failed fsync: the kernel may have dropped the pages */
            it->sync_failed = true;
            it->sync_errno = errno;
            it->snap = it->x->committed;
            reel__event(s, REEL_LOG_ERROR, "sample file %s: fdatasync failed: %s; recording closed at its last checkpoint",
                        it->x->path, strerror(errno));
        }
    }
    struct reel_err err;
    int r = begin_write(s, "checkpoint", &err);
    sqlite3_stmt *st = NULL;
    if (r == 0 && sqlite3_prepare_v2(s->sdb,
                                     "UPDATE recording SET run_id = ?, run_index = ?, start90k = ?, wall_duration90k = ?, "
                                     "media_duration90k = ?, frames = ?, bytes = ?, sample_entry_id = ?, open = ?, "
                                     "video_index = ? WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        r = reel__db_err(s->sdb, SQLITE_ERROR, &err, "preparing checkpoint");
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct ckpt_item *it = &items[i];
        if (it->discard)
            continue;
        bool closed = it->final || it->sync_failed;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, it->run_id);
        sqlite3_bind_int64(st, 2, it->run_index);
        sqlite3_bind_int64(st, 3, it->start90k);
        sqlite3_bind_int64(st, 4, it->snap.wall_dur);
        sqlite3_bind_int64(st, 5, it->snap.media_dur);
        sqlite3_bind_int64(st, 6, it->snap.frames);
        sqlite3_bind_int64(st, 7, (int64_t)it->snap.bytes);
        if (it->snap.frames > 0)
            sqlite3_bind_int64(st, 8, it->sample_entry_id);
        else
            sqlite3_bind_null(st, 8);
        sqlite3_bind_int(st, 9, closed ? 0 : 1);
        sqlite3_bind_blob(st, 10, it->index, (int)it->snap.index_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, it->x->id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            it->done = true;
        else
            reel__event(s, REEL_LOG_ERROR, "recording %" PRId64 ": checkpoint update failed: %s", it->x->id,
                        sqlite3_errmsg(s->sdb));
    }
    sqlite3_finalize(st);
    if (r == 0)
        r = reel__db_exec(s->sdb, "COMMIT", &err);
    if (r < 0) {
        sqlite3_exec(s->sdb, "ROLLBACK", NULL, NULL, NULL);
        reel__event(s, REEL_LOG_ERROR, "checkpoint failed: %s; will retry", err.msg);
        for (size_t i = 0; i < n; i++)
            items[i].done = false;
    }
    int64_t *del = calloc(n ? n : 1, sizeof(int64_t));
    size_t ndel = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        struct ckpt_item *it = &items[i];
        struct reel_rec *x = it->x;
        if (it->done) {
            x->committed = it->snap;
            if (it->sync_failed && !x->io_error) {
                x->io_error = true;
                reel__fmt(x->error, sizeof(x->error),
                          "sample file %s: fdatasync failed: %s; recording closed at its last checkpoint", x->path,
                          strerror(it->sync_errno));
            }
            if (it->final || (it->sync_failed && x->closing)) {
                if (it->snap.frames == 0 && del)
                    del[ndel++] = x->id; /* nothing was ever committed */
                reel__rec_unlink(s, x);
                reel__rec_free(s, x);
            }
        } else if (it->discard && del) {
            del[ndel++] = x->id;
            reel__rec_unlink(s, x);
            reel__rec_free(s, x);
        }
        free(it->index);
    }
    pthread_mutex_unlock(&s->mu);
    free(items);
    if (ndel)
        reel__delete_recordings(s, s->sdb, del, ndel, NULL, &err);
    free(del);
}

static void *syncer_main(void *arg)
{
    struct reel_store *s = arg;
    int64_t next_ckpt = real_mono_ns() + s->cfg.checkpoint_ns;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        int64_t now = real_mono_ns();
        bool due = now >= next_ckpt || s->ckpt_req != s->ckpt_done || s->stop;
        if (!due && !s->work) {
            struct timespec ts = { .tv_sec = next_ckpt / REEL_NS_PER_SEC, .tv_nsec = next_ckpt % REEL_NS_PER_SEC };
            pthread_cond_timedwait(&s->cond, &s->mu, &ts);
            continue;
        }
        bool stopping = s->stop;
        uint64_t serving = s->ckpt_req;
        s->work = false;
        pthread_mutex_unlock(&s->mu);
        prepare_files(s);
        if (due) {
            checkpoint(s);
            struct reel_err err;
            if (reel__retention(s, s->sdb, &err) < 0)
                reel__event(s, REEL_LOG_ERROR, "retention: %s", err.msg);
            next_ckpt = real_mono_ns() + s->cfg.checkpoint_ns;
        }
        pthread_mutex_lock(&s->mu);
        s->cycles++;
        if (due)
            s->ckpt_done = serving;
        pthread_cond_broadcast(&s->done_cond);
        if (stopping)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int reel__syncer_start(struct reel_store *s, struct reel_err *err)
{
    int r = reel__writer_start(s, err);
    if (r < 0)
        return r;
    int e = pthread_create(&s->syncer, NULL, syncer_main, s);
    if (e)
        return reel_err_set(err, e, "cannot start the syncer thread: %s", strerror(e));
    s->syncer_running = true;
    return 0;
}

void reel__syncer_stop(struct reel_store *s)
{
    if (!s->syncer_running) {
        reel__writer_stop(s);
        return;
    }
    /* a last cycle, with everything closed, makes everything durable */
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->syncer, NULL);
    s->syncer_running = false;
    /* a closing recording whose file was created in the last cycle gets its final checkpoint */
    prepare_files(s);
    checkpoint(s);
    checkpoint(s);
    reel__writer_stop(s);
    while (s->recs) {
        struct reel_rec *x = s->recs;
        s->recs = x->next;
        reel__rec_free(s, x);
    }
    reel__writer_pool_free(s);
}

int reel_store_sync(struct reel_store *s, struct reel_err *err)
{
    if (!s->syncer_running)
        return reel_err_set(err, EPERM, "store not opened for recording");
    pthread_mutex_lock(&s->mu);
    uint64_t mine = ++s->ckpt_req;
    pthread_cond_signal(&s->cond);
    while (s->ckpt_done < mine && !s->stop)
        pthread_cond_wait(&s->done_cond, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* ---- retention and freeing space ---- */

int reel__retention(struct reel_store *s, sqlite3 *db, struct reel_err *err)
{
    sqlite3_stmt *cams, *recs, *tot;
    if (sqlite3_prepare_v2(db, "SELECT id, name, retain_bytes, retain_seconds FROM camera "
                               "WHERE retain_bytes > 0 OR retain_seconds > 0", -1, &cams, NULL) != SQLITE_OK)
        return reel__db_err(db, SQLITE_ERROR, err, "retention");
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(SUM(bytes), 0) FROM recording WHERE camera_id = ?", -1, &tot, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(cams);
        return reel__db_err(db, SQLITE_ERROR, err, "retention");
    }
    if (sqlite3_prepare_v2(db, "SELECT id, bytes, start90k + wall_duration90k FROM recording WHERE camera_id = ? "
                               "AND open = 0 AND frames > 0 ORDER BY start90k, id LIMIT 10000", -1, &recs, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(cams);
        sqlite3_finalize(tot);
        return reel__db_err(db, SQLITE_ERROR, err, "retention");
    }
    int64_t now90k = reel_ns_to_90k(reel_clock_wall(s->clock));
    struct cam_ret {
        int64_t id, rb, rs;
        char name[REEL_NAME_MAX];
    } *cv = NULL;
    size_t ncv = 0, acv = 0;
    while (sqlite3_step(cams) == SQLITE_ROW) {
        if (ncv == acv) {
            size_t na = acv ? acv * 2 : 16;
            void *p = realloc(cv, na * sizeof(*cv));
            if (!p)
                break;
            cv = p;
            acv = na;
        }
        cv[ncv].id = sqlite3_column_int64(cams, 0);
        reel__fmt(cv[ncv].name, sizeof(cv[ncv].name), "%s", (const char *)sqlite3_column_text(cams, 1));
        cv[ncv].rb = sqlite3_column_int64(cams, 2);
        cv[ncv].rs = sqlite3_column_int64(cams, 3);
        ncv++;
    }
    sqlite3_reset(cams);
    int r = 0;
    for (size_t ci = 0; r == 0 && ci < ncv; ci++) {
        int64_t cam = cv[ci].id, rb = cv[ci].rb, rs = cv[ci].rs;
        const char *name = cv[ci].name;
        sqlite3_reset(tot);
        sqlite3_bind_int64(tot, 1, cam);
        int64_t total = sqlite3_step(tot) == SQLITE_ROW ? sqlite3_column_int64(tot, 0) : 0;
        sqlite3_reset(tot);
        int64_t *ids = NULL;
        size_t n = 0, alloc = 0;
        int64_t freed = 0;
        sqlite3_reset(recs);
        sqlite3_bind_int64(recs, 1, cam);
        while (sqlite3_step(recs) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(recs, 0), bytes = sqlite3_column_int64(recs, 1);
            int64_t end = sqlite3_column_int64(recs, 2);
            bool over = rb > 0 && total > rb;
            bool old = rs > 0 && end < now90k - rs * REEL_90K;
            if (!over && !old)
                break;
            if (reel_array_grow(&ids, &alloc, n, sizeof(*ids), 16) < 0)
                break;
            ids[n++] = id;
            total -= bytes;
            freed += bytes;
        }
        sqlite3_reset(recs);
        if (n) {
            r = reel__delete_recordings(s, db, ids, n, "deleted by retention", err);
            if (r == 0)
                reel__event(s, REEL_LOG_INFO, "camera %s: retention deleted %zu recordings (%" PRId64 " bytes)", name, n,
                            freed);
        }
        free(ids);
    }
    free(cv);
    sqlite3_finalize(cams);
    sqlite3_finalize(tot);
    sqlite3_finalize(recs);
    return r;
}

int reel_store_retention(struct reel_store *s, struct reel_err *err)
{
    if (s->cfg.mode == REEL_STORE_READ)
        return reel_err_set(err, EROFS, "retention: store opened read-only");
    return reel__retention(s, s->db, err);
}

int reel_store_free_oldest(struct reel_store *s, int64_t dir_id, unsigned max, unsigned *ret_deleted,
                           struct reel_err *err)
{
    if (s->cfg.mode == REEL_STORE_READ)
        return reel_err_set(err, EROFS, "freeing space: store opened read-only");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT r.id, r.bytes, c.name FROM recording r JOIN camera c ON c.id = r.camera_id "
                                  "WHERE r.dir_id = ? AND r.open = 0 AND r.frames > 0 ORDER BY r.start90k, r.id LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return reel__db_err(s->db, SQLITE_ERROR, err, "freeing space");
    sqlite3_bind_int64(st, 1, dir_id);
    sqlite3_bind_int64(st, 2, max);
    struct victim {
        int64_t id, bytes;
        char name[REEL_NAME_MAX];
    } *v = calloc(max ? max : 1, sizeof(*v));
    if (!v) {
        sqlite3_finalize(st);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    size_t nv = 0;
    while (nv < max && sqlite3_step(st) == SQLITE_ROW) {
        v[nv].id = sqlite3_column_int64(st, 0);
        v[nv].bytes = sqlite3_column_int64(st, 1);
        reel__fmt(v[nv].name, sizeof(v[nv].name), "%s", (const char *)sqlite3_column_text(st, 2));
        nv++;
    }
    sqlite3_finalize(st);
    unsigned n = 0;
    int r = 0;
    const struct reel_dir_rt *d = reel__dir(s, dir_id);
    for (size_t i = 0; r == 0 && i < nv; i++) {
        r = reel__delete_recordings(s, s->db, &v[i].id, 1, "deleted: disk full", err);
        if (r == 0) {
            n++;
            reel__event(s, REEL_LOG_WARN, "storage dir %s: disk full: deleted recording %" PRId64 " of camera %s (%" PRId64 " bytes)",
                        d ? d->path : "?", v[i].id, v[i].name, v[i].bytes);
        }
    }
    free(v);
    if (r < 0)
        return r;
    if (ret_deleted)
        *ret_deleted = n;
    return 0;
}

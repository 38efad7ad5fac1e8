/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The syncer: the durability work of one storage directory, on a thread of
 * its own (one per usable directory, started with its writer by
 * reel__pipelines_start). The loop thread (run.c) appends frames into a
 * per-recording batch and hands each full batch to the directory's writer
 * thread (writer.c); it never writes, fsyncs, commits or waits for a disk.
 * The syncer does, in this order:
 *   1. for each wanted recording: insert its row (open=1, nothing committed)
 *      and commit, then create the file with O_EXCL (O_DIRECT where the
 *      filesystem takes it), then fsync the directory; only then are its
 *      batches written;
 *   2. every checkpoint (cfg.checkpoint_ns of the store's clock): under the
 *      directory's mutex queue every batch's unwritten bytes and take a
 *      snapshot of each recording's complete frames (frames, bytes, index);
 *      wait until the writer has written them; fdatasync each file; then one
 *      transaction inserts the sample entries not yet committed, writes the
 *      queued outage changes and updates every recording row of the
 *      directory with its snapshot. A row therefore never describes bytes
 *      that are not on disk, nor an entry that is not committed. After the
 *      commit, cfg.on_recording hears of what became durable;
 *   3. finished recordings get their final row (open=0) and their fd closed
 *      (outside the mutex); never-used ones are deleted (row -> garbage ->
 *      unlink -> dir fsync);
 *   4. retention of the directory's cameras; and, whenever the writer sets
 *      jobs aside on ENOSPC, freeing the directory's oldest recording.
 * No transaction is open across a disk operation on the directory, so a
 * hung disk holds nobody else's commits. Each disk operation is marked
 * (disk_busy) so that the run can tell a directory that does not answer
 * (reel__sdir_stalled). reel_store_sync() and the bounded stop at close are
 * here too.
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

#include "audit/audit.h"
#include "base/timefmt.h"

static int64_t real_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * REEL_NS_PER_SEC + ts.tv_nsec;
}

/* Condition variables are on CLOCK_MONOTONIC (store.c): pthread needs real
 * time for its deadlines, whatever the store's clock says. */
int reel__cond_wait_rel(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t rel_ns)
{
    if (rel_ns < 0)
        rel_ns = 0;
    int64_t t = real_ns(CLOCK_MONOTONIC) + rel_ns;
    struct timespec ts = { .tv_sec = t / REEL_NS_PER_SEC, .tv_nsec = t % REEL_NS_PER_SEC };
    return pthread_cond_timedwait(cond, mu, &ts);
}

/* A disk operation of the syncer starts (busy) or ends: how long one has
 * been waiting tells the run whether the directory answers. */
static void disk_busy(struct reel_sdir *sd, bool busy)
{
    pthread_mutex_lock(&sd->mu);
    sd->y.busy_since = busy ? reel_clock_mono(sd->s->clock) | 1 : 0;
    pthread_mutex_unlock(&sd->mu);
}

const char *reel__sdir_stalled(struct reel_sdir *sd, int64_t now, char *buf, size_t cap)
{
    int64_t since = sd->w.busy_since;
    if (!since || (sd->y.busy_since && sd->y.busy_since < since))
        since = sd->y.busy_since;
    bool slow = since && now - since >= sd->s->cfg.stall_ns;
    bool full = sd->w.out * (size_t)REEL_BATCH_CAP >= REEL_IO_QUEUE_MAX;
    buf[0] = 0;
    if (slow)
        reel__fmt(buf, cap, "storage stalled: %s not answering (a write or sync has waited %.0f s)", sd->d->path,
                  (double)(now - since) / REEL_NS_PER_SEC);
    else if (full)
        reel__fmt(buf, cap, "storage stalled: %s too slow (%u MiB waiting to be written)", sd->d->path,
                  REEL_IO_QUEUE_MAX >> 20);
    if (buf[0] && !sd->stall_logged) {
        sd->stall_logged = true;
        reel__event(sd->s, REEL_LOG_ERROR, "%s; its cameras stop recording until it answers", buf);
        reel__trouble(sd->s, REEL_STORE_TROUBLE_WRITE, 0, "%s; its cameras stop recording until it answers", buf);
    } else if (!buf[0] && sd->stall_logged) {
        sd->stall_logged = false;
        reel__event(sd->s, REEL_LOG_INFO, "storage dir %s: answering again", sd->d->path);
    }
    return buf;
}

/* fds of freed recordings, closed once sd->mu is released */
struct fdlist {
    int *v;
    size_t n, cap;
};

static void fdlist_add(struct fdlist *l, int fd)
{
    if (fd < 0)
        return;
    if (reel_array_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 16) < 0) {
        close(fd); /* out of memory: close it here */
        return;
    }
    l->v[l->n++] = fd;
}

static void fdlist_close(struct fdlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        close(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---- syncer ---- */

/* BEGIN IMMEDIATE on the syncer's connection. Another process holding the
 * write lock (the busy timeout waits up to 10 s) delays durability but loses
 * nothing: frames wait in memory. A wait longer than a checkpoint interval
 * is reported, once per spell. */
static int begin_write(struct reel_sdir *sd, const char *what, struct reel_err *err)
{
    struct reel_store *s = sd->s;
    int64_t t0 = reel_clock_mono(s->clock);
    int r = reel__db_exec(sd->y.db, "BEGIN IMMEDIATE", err);
    int64_t waited = reel_clock_mono(s->clock) - t0;
    if (waited >= s->cfg.checkpoint_ns && waited >= REEL_NS_PER_SEC / 2)
        reel__event(s, REEL_LOG_WARN, "database busy: the %s waited %.1f s for the write lock on %s/reel.db "
                    "(another process writing it?); frames are kept in memory meanwhile", what,
                    (double)waited / REEL_NS_PER_SEC, s->datadir);
    return r;
}

/* Inserts rows for wanted recordings (one commit), then creates their files. */
static void prepare_files(struct reel_sdir *sd)
{
    struct reel_store *s = sd->s;
    struct reel_rec *todo[256];
    size_t n = 0;
    struct fdlist fds = { 0 };
    pthread_mutex_lock(&sd->mu);
    for (struct reel_rec **pp = &sd->recs; *pp;) {
        struct reel_rec *x = *pp;
        if (x->state == REC_REQ && x->discard && !x->in_use) {
            *pp = x->next; /* never created: nothing to undo */
            fdlist_add(&fds, reel__rec_free(sd, x));
            continue;
        }
        if (x->state == REC_REQ && n < 256) {
            x->state = REC_PREP;
            todo[n++] = x;
        }
        pp = &x->next;
    }
    pthread_mutex_unlock(&sd->mu);
    fdlist_close(&fds);
    if (n == 0)
        return;
    struct reel_err err;
    int r = begin_write(sd, "creation of new recordings", &err);
    sqlite3_stmt *st = NULL;
    if (r == 0 && sqlite3_prepare_v2(sd->y.db, "INSERT INTO recording (id, camera_id, dir_id, open) VALUES (?, ?, ?, 1)",
                                     -1, &st, NULL) != SQLITE_OK)
        r = reel__db_err(sd->y.db, SQLITE_ERROR, &err, "preparing recording insert");
    for (size_t i = 0; r == 0 && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, todo[i]->id);
        sqlite3_bind_int64(st, 2, todo[i]->camera_id);
        sqlite3_bind_int64(st, 3, todo[i]->dir_id);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            r = reel__db_err(sd->y.db, rc, &err, "inserting recording rows");
    }
    sqlite3_finalize(st);
    if (r == 0)
        r = reel__db_exec(sd->y.db, "COMMIT", &err);
    if (r < 0)
        sqlite3_exec(sd->y.db, "ROLLBACK", NULL, NULL, NULL);
    int64_t failed[256];
    size_t nfailed = 0;
    for (size_t i = 0; i < n; i++) {
        struct reel_rec *x = todo[i];
        int fd = -1;
        char msg[256] = "";
        if (r < 0) {
            reel__fmt(msg, sizeof(msg), "%s", err.msg);
        } else {
            const struct reel_dir_rt *d = sd->d;
            disk_busy(sd, true);
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
            disk_busy(sd, false);
            if (fd < 0)
                failed[nfailed++] = x->id;
        }
        if (fd < 0) {
            reel__event(s, REEL_LOG_ERROR, "camera %" PRId64 ": %s", x->camera_id, msg);
            reel__trouble(s, REEL_STORE_TROUBLE_WRITE, x->camera_id, "%s", msg);
        }
        /* O_DIRECT where the filesystem takes it (writer.c); else the page cache */
        int fl = fd < 0 || s->cfg.buffered_io ? -1 : fcntl(fd, F_GETFL);
        bool direct = fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
        pthread_mutex_lock(&sd->mu);
        if (fd >= 0) {
            x->fd = fd;
            x->direct = direct;
            x->state = REC_READY;
            reel__writer_ready(sd, x); /* full batches that waited for the file */
            if (x->closing) {
                int e = reel__writer_submit(sd, x, true);
                if (e < 0)
                    reel__rec_write_failed(sd, x, e);
            }
        } else {
            x->state = REC_FAILED;
            x->io_error = true;
            reel__fmt(x->error, sizeof(x->error), "%s", msg);
        }
        pthread_mutex_unlock(&sd->mu);
    }
    if (nfailed)
        reel__delete_recordings(s, sd->y.db, failed, nfailed, NULL, &err);
}

struct ckpt_item {
    struct reel_rec *x;
    struct reel_snap snap;
    uint8_t *index;
    int64_t run_id, run_index, start90k, sample_entry_id;
    uint64_t file_end;
    int64_t camera_id;
    bool final, discard, sync_failed, done;
    int sync_errno;
};

static void checkpoint(struct reel_sdir *sd)
{
    struct reel_store *s = sd->s;
    size_t cap = 0, n = 0;
    struct ckpt_item *items = NULL;
    struct fdlist fds = { 0 };
    pthread_mutex_lock(&sd->mu);
    for (struct reel_rec **pp = &sd->recs; *pp;) {
        struct reel_rec *x = *pp;
        if (x->state == REC_FAILED && (x->closing || x->discard)) {
            *pp = x->next; /* its row is already gone */
            fdlist_add(&fds, reel__rec_free(sd, x));
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
            int e = reel__writer_submit(sd, x, x->closing);
            if (e < 0)
                reel__rec_write_failed(sd, x, e);
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
        it->camera_id = x->camera_id;
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
        while (!x->stalled && sd->w.running &&
               (x->closing ? x->inflight > 0 : !x->io_error && x->written < it->snap.bytes)) {
            if (!urgent)
                reel__writer_urgent(sd, urgent = 1);
            pthread_cond_wait(&sd->w.done, &sd->mu);
        }
        reel__writer_urgent(sd, -urgent);
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
    pthread_mutex_unlock(&sd->mu);
    fdlist_close(&fds);

    /* durability of the data before the rows that describe it (never inside
     * a transaction: the other directories' syncers commit meanwhile) */
    for (size_t i = 0; i < n; i++) {
        struct ckpt_item *it = &items[i];
        if (it->discard)
            continue;
        bool cut = it->final && it->file_end > it->snap.bytes;
        disk_busy(sd, true);
        if (cut && ftruncate(it->x->fd, (off_t)it->snap.bytes) < 0)
            cut = false; /* recovery cuts it back at the next start */
        if (!cut && memcmp(&it->snap, &it->x->committed, sizeof(it->snap)) == 0) {
            disk_busy(sd, false);
            continue;
        }
        int sr = fdatasync(it->x->fd);
        int se = errno;
        disk_busy(sd, false);
        errno = se;
        if (sr < 0) {
            /* never retry a failed fsync: the kernel may have dropped the pages */
            it->sync_failed = true;
            it->sync_errno = errno;
            it->snap = it->x->committed;
            reel__event(s, REEL_LOG_ERROR, "sample file %s: fdatasync failed: %s; recording closed at its last checkpoint",
                        it->x->path, strerror(errno));
            reel__trouble(s, REEL_STORE_TROUBLE_WRITE, it->x->camera_id,
                          "sample file %s: fdatasync failed: %s; recording closed at its last checkpoint",
                          it->x->path, strerror(it->sync_errno));
        }
    }
    struct reel_err err;
    int r = begin_write(sd, "checkpoint", &err);
    /* sample entries first (a committed recording never references an
     * uncommitted entry), then the queued outages, then the recordings */
    int64_t entries_max = 0;
    size_t nout = 0;
    if (r == 0)
        r = reel__entries_write(s, sd->y.db, &entries_max);
    if (r == 0) {
        /* a failed outage write is undone alone and left queued for the next commit */
        sqlite3_exec(sd->y.db, "SAVEPOINT outages", NULL, NULL, NULL);
        if (reel__outages_write(s, sd->y.db, &nout) < 0) {
            sqlite3_exec(sd->y.db, "ROLLBACK TO outages", NULL, NULL, NULL);
            reel__outages_done(s, nout, false);
            nout = 0;
        }
        sqlite3_exec(sd->y.db, "RELEASE outages", NULL, NULL, NULL);
    }
    sqlite3_stmt *st = NULL;
    if (r == 0 && sqlite3_prepare_v2(sd->y.db,
                                     "UPDATE recording SET run_id = ?, run_index = ?, start90k = ?, wall_duration90k = ?, "
                                     "media_duration90k = ?, frames = ?, bytes = ?, sample_entry_id = ?, open = ?, "
                                     "video_index = ? WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        r = reel__db_err(sd->y.db, SQLITE_ERROR, &err, "preparing checkpoint");
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
                        sqlite3_errmsg(sd->y.db));
    }
    sqlite3_finalize(st);
    if (r == 0)
        r = reel__db_exec(sd->y.db, "COMMIT", &err);
    if (r < 0) {
        sqlite3_exec(sd->y.db, "ROLLBACK", NULL, NULL, NULL);
        reel__event(s, REEL_LOG_ERROR, "checkpoint failed: %s; will retry", err.msg);
        for (size_t i = 0; i < n; i++)
            items[i].done = false;
    }
    reel__outages_done(s, nout, r == 0);
    if (r == 0)
        reel__entries_done(s, entries_max);
    /* a recording that closed: the hasher hashes it now rather than at its next poll */
    for (size_t i = 0; r == 0 && i < n; i++)
        if (items[i].done && (items[i].final || items[i].sync_failed)) {
            reel__hasher_wake(s);
            break;
        }
    /* the hub hears of frames once they are durable */
    for (size_t i = 0; r == 0 && s->cfg.on_recording && i < n; i++) {
        struct ckpt_item *it = &items[i];
        if (!it->done || it->snap.frames == 0 ||
            (!it->final && !it->sync_failed && memcmp(&it->snap, &it->x->committed, sizeof(it->snap)) == 0))
            continue;
        struct reel_recording_event ev = {
            .camera_id = it->camera_id, .recording_id = it->x->id, .run_id = it->run_id,
            .start90k = it->start90k, .wall_duration90k = it->snap.wall_dur, .frames = it->snap.frames,
            .bytes = it->snap.bytes, .closed = it->final || it->sync_failed,
        };
        s->cfg.on_recording(s->cfg.opaque, &ev);
    }
    int64_t *del = calloc(n ? n : 1, sizeof(int64_t));
    size_t ndel = 0;
    pthread_mutex_lock(&sd->mu);
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
                reel__rec_unlink(sd, x);
                fdlist_add(&fds, reel__rec_free(sd, x));
            }
        } else if (it->discard && del) {
            del[ndel++] = x->id;
            reel__rec_unlink(sd, x);
            fdlist_add(&fds, reel__rec_free(sd, x));
        }
        free(it->index);
    }
    pthread_mutex_unlock(&sd->mu);
    fdlist_close(&fds);
    free(items);
    if (ndel)
        reel__delete_recordings(s, sd->y.db, del, ndel, NULL, &err);
    free(del);
}

/* The directory's pipeline at its end, on the syncer thread: a closing
 * recording whose file was created in the last cycle gets its final
 * checkpoint, the writer stops once it has written everything, the
 * recordings are freed. */
static void syncer_finish(struct reel_sdir *sd)
{
    prepare_files(sd);
    checkpoint(sd);
    checkpoint(sd);
    pthread_mutex_lock(&sd->mu);
    sd->w.stop = true;
    pthread_cond_signal(&sd->w.cond);
    pthread_mutex_unlock(&sd->mu);
    /* untimed: reel_store_close bounds its own wait for this thread */
    reel__writer_stop(sd, INT64_MAX);
    struct fdlist fds = { 0 };
    pthread_mutex_lock(&sd->mu);
    while (sd->recs) {
        struct reel_rec *x = sd->recs;
        sd->recs = x->next;
        fdlist_add(&fds, reel__rec_free(sd, x));
    }
    reel__writer_pool_free(sd);
    pthread_mutex_unlock(&sd->mu);
    fdlist_close(&fds);
}

static void *syncer_main(void *arg)
{
    struct reel_sdir *sd = arg;
    struct reel_store *s = sd->s;
    const struct reel_clock *clk = s->clock;
    int64_t next_ckpt = reel_clock_mono(clk) + s->cfg.checkpoint_ns;
    pthread_mutex_lock(&sd->mu);
    for (;;) {
        if (sd->y.nospace)
            reel__writer_nospace(sd); /* disk full: free space, or fail what cannot be written */
        int64_t now = reel_clock_mono(clk);
        bool due = now >= next_ckpt || sd->y.ckpt_req != sd->y.ckpt_done || sd->y.stop;
        if (!due && !sd->y.work) {
            /* the store's clock decides when a checkpoint is due; the wait
             * itself is in real time, at most a second at a time, so that a
             * test's clock moved forward is seen */
            int64_t rel = next_ckpt - now;
            reel__cond_wait_rel(&sd->y.cond, &sd->mu, rel < REEL_NS_PER_SEC ? rel : REEL_NS_PER_SEC);
            continue;
        }
        bool stopping = sd->y.stop;
        uint64_t serving = sd->y.ckpt_req;
        sd->y.work = false;
        pthread_mutex_unlock(&sd->mu);
        prepare_files(sd);
        if (due) {
            checkpoint(sd);
            struct reel_err err;
            if (reel__retention(s, sd->y.db, sd->d->id, &sd->y.evret, &err) < 0)
                reel__event(s, REEL_LOG_ERROR, "retention: %s", err.msg);
            next_ckpt = reel_clock_mono(clk) + s->cfg.checkpoint_ns;
        }
        if (stopping)
            syncer_finish(sd);
        pthread_mutex_lock(&sd->mu);
        sd->y.cycles++;
        if (due)
            sd->y.ckpt_done = serving;
        if (stopping)
            sd->y.exited = true;
        pthread_cond_broadcast(&sd->y.done_cond);
        if (stopping)
            break;
    }
    pthread_mutex_unlock(&sd->mu);
    return NULL;
}

static void sdir_free(struct reel_sdir *sd)
{
    sqlite3_close(sd->y.db);
    pthread_mutex_destroy(&sd->mu);
    pthread_cond_destroy(&sd->y.cond);
    pthread_cond_destroy(&sd->y.done_cond);
    pthread_cond_destroy(&sd->w.cond);
    pthread_cond_destroy(&sd->w.done);
    free(sd);
}

/* Starts the pipeline of one usable directory: its own db connection, its
 * writer, its syncer. */
static int sdir_start(struct reel_store *s, struct reel_dir_rt *d, struct reel_err *err)
{
    struct reel_sdir *sd = calloc(1, sizeof(*sd));
    if (!sd)
        return reel_err_set(err, ENOMEM, "out of memory");
    sd->s = s;
    sd->d = d;
    pthread_mutex_init(&sd->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sd->y.cond, &ca);
    pthread_cond_init(&sd->y.done_cond, &ca);
    pthread_cond_init(&sd->w.cond, &ca);
    pthread_cond_init(&sd->w.done, &ca);
    pthread_condattr_destroy(&ca);
    int r = reel__open_db(s->datadir, &sd->y.db, err);
    if (r == 0)
        r = reel__writer_start(sd, err);
    if (r < 0) {
        sdir_free(sd);
        return r;
    }
    int e = pthread_create(&sd->y.thread, NULL, syncer_main, sd);
    if (e) {
        reel__writer_stop(sd, INT64_MAX);
        reel__writer_pool_free(sd);
        sdir_free(sd);
        return reel_err_set(err, e, "cannot start the syncer thread: %s", strerror(e));
    }
    sd->y.running = true;
    d->sd = sd;
    return 0;
}

int reel__pipelines_start(struct reel_store *s, struct reel_err *err)
{
    (void)err;
    for (size_t i = 0; i < s->ndirs; i++) {
        struct reel_dir_rt *d = &s->dirs[i];
        if (!d->usable)
            continue;
        struct reel_err e2 = { "" };
        if (sdir_start(s, d, &e2) < 0) {
            /* this directory does not record; the others do */
            d->usable = false;
            reel__fmt(d->error, sizeof(d->error), "storage dir %s: %s", d->path, e2.msg);
            reel__event(s, REEL_LOG_ERROR, "%s; not recording into it", d->error);
        }
    }
    s->recording = true;
    return 0;
}

void reel__pipelines_stop(struct reel_store *s)
{
    if (!s->recording)
        return;
    /* every directory makes its last cycle at once, in parallel */
    for (size_t i = 0; i < s->ndirs; i++) {
        struct reel_sdir *sd = s->dirs[i].sd;
        if (!sd)
            continue;
        pthread_mutex_lock(&sd->mu);
        sd->y.stop = true;
        pthread_cond_signal(&sd->y.cond);
        pthread_mutex_unlock(&sd->mu);
    }
    int64_t deadline = real_ns(CLOCK_MONOTONIC) + REEL_CLOSE_WAIT_NS;
    bool abandoned = false;
    for (size_t i = 0; i < s->ndirs; i++) {
        struct reel_sdir *sd = s->dirs[i].sd;
        if (!sd)
            continue;
        pthread_mutex_lock(&sd->mu);
        while (!sd->y.exited) {
            int64_t rel = deadline - real_ns(CLOCK_MONOTONIC);
            if (rel <= 0 || reel__cond_wait_rel(&sd->y.done_cond, &sd->mu, rel) == ETIMEDOUT)
                break;
        }
        bool exited = sd->y.exited;
        size_t open = 0;
        uint64_t queued = sd->w.out;
        for (struct reel_rec *x = sd->recs; x; x = x->next)
            open += x->in_use && !x->discard;
        pthread_mutex_unlock(&sd->mu);
        if (exited) {
            pthread_join(sd->y.thread, NULL);
            sdir_free(sd);
        } else {
            /* the thread is stuck in a system call on a disk that does not
             * answer: it and its memory stay (a process about to exit) */
            abandoned = true;
            reel__event(s, REEL_LOG_ERROR, "storage dir %s: not answering after %.0f s at close; %zu recordings "
                        "and %zu MiB of queued frames not made durable past their last checkpoint "
                        "(recovery at the next start keeps what was committed)", s->dirs[i].path,
                        (double)REEL_CLOSE_WAIT_NS / REEL_NS_PER_SEC, open, (size_t)(queued * REEL_BATCH_CAP >> 20));
        }
        s->dirs[i].sd = NULL;
    }
    s->recording = false;
    if (abandoned) {
        /* the stuck threads still point at s: it is left allocated, and they
         * report nothing more (racy by design: they may be mid-call) */
        s->abandoned = true;
        s->cfg.on_event = NULL;
        s->cfg.on_recording = NULL;
    }
}

int reel_store_sync(struct reel_store *s, struct reel_err *err)
{
    return reel_store_sync_within(s, -1, err);
}

int reel_store_sync_within(struct reel_store *s, int64_t timeout_ns, struct reel_err *err)
{
    if (!s->recording)
        return reel_err_set(err, EPERM, "store not opened for recording");
    uint64_t mine[REEL_MAX_DIRS] = { 0 };
    int64_t deadline = timeout_ns < 0 ? 0 : real_ns(CLOCK_MONOTONIC) + timeout_ns;
    for (size_t i = 0; i < s->ndirs; i++) {
        struct reel_sdir *sd = s->dirs[i].sd;
        if (!sd)
            continue;
        pthread_mutex_lock(&sd->mu);
        mine[i] = ++sd->y.ckpt_req;
        pthread_cond_signal(&sd->y.cond);
        pthread_mutex_unlock(&sd->mu);
    }
    for (size_t i = 0; i < s->ndirs; i++) {
        struct reel_sdir *sd = s->dirs[i].sd;
        if (!sd)
            continue;
        pthread_mutex_lock(&sd->mu);
        bool late = false;
        while (sd->y.ckpt_done < mine[i] && !sd->y.exited && !late) {
            if (timeout_ns < 0) {
                pthread_cond_wait(&sd->y.done_cond, &sd->mu);
                continue;
            }
            int64_t left = deadline - real_ns(CLOCK_MONOTONIC);
            late = left <= 0 || reel__cond_wait_rel(&sd->y.done_cond, &sd->mu, left) == ETIMEDOUT;
            late = late && sd->y.ckpt_done < mine[i] && !sd->y.exited;
        }
        pthread_mutex_unlock(&sd->mu);
        if (late)
            return reel_err_set(err, ETIMEDOUT, "storage dir %s: not made durable within %.1f s (not answering?)",
                                s->dirs[i].path, (double)timeout_ns / REEL_NS_PER_SEC);
    }
    return 0;
}

/* ---- retention and freeing space ---- */

/* A camera's bytes (all recordings) and those held by active locks; total
 * is returned without the locked ones. */
static int camera_total(sqlite3 *db, sqlite3_stmt *tot, int64_t cam, int64_t now_ns, int64_t *ret_total,
                        int64_t *ret_locked, struct reel_err *err)
{
    sqlite3_reset(tot);
    sqlite3_bind_int64(tot, 1, cam);
    sqlite3_bind_int64(tot, 2, now_ns);
    int step = sqlite3_step(tot);
    if (step != SQLITE_ROW) {
        sqlite3_reset(tot);
        return reel__db_err(db, step, err, "retention: a camera's total");
    }
    *ret_locked = sqlite3_column_int64(tot, 1);
    *ret_total = sqlite3_column_int64(tot, 0) - *ret_locked;
    sqlite3_reset(tot);
    return 0;
}

/* Retention lists a camera's recordings window by window: the stretches
 * of start times between its active locks (merged), so that a long locked
 * stretch is skipped by the index instead of scanned every pass. With more
 * locks than RET_LOCKS_MAX, one window (everything; the query's NOT EXISTS
 * still keeps locked recordings out). */
#define RET_LOCKS_MAX 256
#define RET_LOCKS_MAX_S "257"
#define RET_WINDOWS_MAX (RET_LOCKS_MAX + 1)
struct lock_win {
    int64_t lo, hi; /* start90k in [lo, hi) */
};
static int unlocked_windows(sqlite3 *db, sqlite3_stmt *wins, int64_t cam, int64_t now_ns, struct lock_win *wv,
                            size_t *ret_n, struct reel_err *err)
{
    sqlite3_reset(wins);
    sqlite3_bind_int64(wins, 1, cam);
    sqlite3_bind_int64(wins, 2, now_ns);
    size_t n = 0, nl = 0;
    int64_t lo = INT64_MIN;
    int step;
    while ((step = sqlite3_step(wins)) == SQLITE_ROW) {
        int64_t a = sqlite3_column_int64(wins, 0), b = sqlite3_column_int64(wins, 1);
        if (++nl > RET_LOCKS_MAX) {
            n = 0;              /* too many: one window, the SQL guard does the work */
            lo = INT64_MIN;
            break;
        }
        if (a > lo)
            wv[n++] = (struct lock_win){ lo, a };
        if (b > lo)
            lo = b;
    }
    sqlite3_reset(wins);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return reel__db_err(db, step, err, "retention: reading locks");
    wv[n++] = (struct lock_win){ lo, INT64_MAX };
    *ret_n = n;
    return 0;
}

/* The longest of camera owner's motion events (an open one lasting until now90k),
 * in 90k units: bounds the index range REEL__EVENT_KEPT_SQL scans. */
static int events_longest(sqlite3 *db, int64_t owner, int64_t now90k, int64_t *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(COALESCE(end90k, ?2) - start90k), 0) FROM event WHERE camera_id = ?1 "
                               "AND kind = 'motion'",
                           -1, &st, NULL) != SQLITE_OK)
        return reel__db_err(db, SQLITE_ERROR, err, "retention: events");
    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_int64(st, 2, now90k);
    int rc = sqlite3_step(st);
    *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (*ret < 0)
        *ret = 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : reel__db_err(db, rc, err, "retention: events");
}

/* The longest motion event of any camera (90k; an open one until now90k). */
static int events_longest_all(sqlite3 *db, int64_t now90k, int64_t *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(COALESCE(end90k, ?1) - start90k), 0) FROM event WHERE kind = 'motion'",
                           -1, &st, NULL) != SQLITE_OK)
        return reel__db_err(db, SQLITE_ERROR, err, "retention: events");
    sqlite3_bind_int64(st, 1, now90k);
    int rc = sqlite3_step(st);
    *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (*ret < 0)
        *ret = 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : reel__db_err(db, rc, err, "retention: events");
}

/* Deletes camera cam's motion_minute rows of minutes that end before its
 * oldest remaining recording starts; with no recording left, those older
 * than its longest retention (keep_s seconds; nothing when 0). */
static int prune_motion(sqlite3 *db, int64_t cam, int64_t now90k, int64_t keep_s, struct reel_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "DELETE FROM motion_minute WHERE camera_id = ?1 AND minute90k + 60 * 90000 <= "
                               "COALESCE((SELECT MIN(start90k) FROM recording WHERE camera_id = ?1 AND frames > 0), ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return reel__db_err(db, SQLITE_ERROR, err, "retention: motion grid");
    sqlite3_bind_int64(st, 1, cam);
    sqlite3_bind_int64(st, 2, keep_s > 0 ? now90k - keep_s * REEL_90K : INT64_MIN);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : reel__db_err(db, rc, err, "retention: motion grid");
}

/* Issue 15: tells on_trouble when active locks hold recordings of cam
 * that its age limit rs (seconds) wants gone. Errors only skip the check. */
static void locks_blocking(struct reel_store *s, sqlite3 *db, int64_t cam, const char *name, int64_t rs,
                           int64_t now_ns, int64_t now90k)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM recording r WHERE camera_id = ?1 "
                               "AND start90k < ?2 AND start90k + wall_duration90k < ?2 AND "
                               REEL__LOCKED_SQL("r", "?3"), -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, cam);
    sqlite3_bind_int64(st, 2, now90k - rs * REEL_90K);
    sqlite3_bind_int64(st, 3, now_ns);
    int64_t n = 0, bytes = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        bytes = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    char age[32];
    if (rs % 86400 == 0)
        snprintf(age, sizeof(age), "%" PRId64 " day%s", rs / 86400, rs == 86400 ? "" : "s");
    else
        snprintf(age, sizeof(age), "%" PRId64 " s", rs);
    if (n > 0)
        reel__trouble(s, REEL_STORE_TROUBLE_LOCKS, cam,
                      "camera %s: evidence locks keep %" PRId64 " recordings (%" PRId64 " bytes) older than its "
                      "retention of %s", name, n, bytes, age);
    reel__lock_checked(s, cam, now_ns, n > 0);
}

int reel__retention(struct reel_store *s, sqlite3 *db, int64_t dir_id, struct reel_evret *ev, struct reel_err *err)
{
    sqlite3_stmt *cams, *recs, *tot;
    /* the site's cap (retention.max_days) bounds every camera's age limit,
     * one with none included */
    /* event retention (issue 15): the settings of the camera the stream
     * belongs to (its events are the main camera's) */
    if (sqlite3_prepare_v2(db, "SELECT c.id, c.name, c.retain_bytes, c.retain_seconds, " REEL__CAP_SECONDS_SQL ", "
                               "COALESCE(ce.event_retain_seconds, 0), COALESCE(ce.pre_roll_s, 0), "
                               "COALESCE(ce.post_roll_s, 0), COALESCE(c.parent_id, c.id), c.parent_id IS NULL "
                               "FROM camera c LEFT JOIN camera_events ce ON ce.camera_id = COALESCE(c.parent_id, c.id) "
                               "WHERE (c.retain_bytes > 0 OR c.retain_seconds > 0 OR " REEL__CAP_SECONDS_SQL " > 0) "
                               "AND (?1 < 0 OR c.dir_id = ?1)", -1, &cams,
                           NULL) != SQLITE_OK)
        return reel__db_err(db, SQLITE_ERROR, err, "retention");
    sqlite3_bind_int64(cams, 1, dir_id);
    /* footage under an active evidence lock is held outside the camera's
     * byte limit (and never deleted): neither counted nor listed */
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(SUM(bytes), 0), COALESCE(SUM(CASE WHEN " REEL__LOCKED_SQL("r", "?2")
                               " THEN bytes END), 0) FROM recording r WHERE camera_id = ?1", -1, &tot, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(cams);
        return reel__db_err(db, SQLITE_ERROR, err, "retention");
    }
    /* ?8 = 0: recordings that event retention does not hold (REEL__EVENT_KEPT_SQL);
     * ?8 = 1: only those (a byte limit takes them last) */
    if (sqlite3_prepare_v2(db, "SELECT id, bytes, start90k + wall_duration90k, start90k FROM recording r WHERE camera_id = ?1 "
                               "AND (?2 < 0 OR dir_id = ?2) AND open = 0 AND frames > 0 AND start90k >= ?4 "
                               "AND start90k < ?5 AND NOT " REEL__LOCKED_SQL("r", "?3")
                               " AND " REEL__EVENT_KEPT_SQL("r") " = ?8"
                               " ORDER BY start90k, id LIMIT 10000", -1, &recs, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(cams);
        sqlite3_finalize(tot);
        return reel__db_err(db, SQLITE_ERROR, err, "retention");
    }
    sqlite3_stmt *wins;
    if (sqlite3_prepare_v2(db, "SELECT l.start90k, l.end90k FROM evidence_lock l JOIN evidence_lock_camera lc "
                               "ON lc.lock_id = l.id WHERE lc.camera_id IN (?1, (SELECT parent_id FROM camera "
                               "WHERE id = ?1)) AND (l.expires_ns = 0 OR l.expires_ns > ?2) "
                               "ORDER BY l.start90k LIMIT " RET_LOCKS_MAX_S, -1, &wins, NULL) != SQLITE_OK) {
        sqlite3_finalize(cams);
        sqlite3_finalize(tot);
        sqlite3_finalize(recs);
        return reel__db_err(db, SQLITE_ERROR, err, "retention");
    }
    int64_t now_ns = reel_clock_wall(s->clock);
    int64_t now90k = reel_ns_to_90k(now_ns);
    /* event retention: a full pass every REEL__EVRET_FULL_NS (and after the
     * wall clock went back), else only what can have become deletable since
     * (struct reel_evret); a pass cut short is not remembered as full */
    int64_t mono = reel_clock_mono(s->clock);
    bool full = !ev || ev->full_ns == 0 || mono - ev->full_ns >= REEL__EVRET_FULL_NS || now90k < ev->full90k;
    bool complete = true;
    struct cam_ret {
        int64_t id, rb, rs;
        int64_t er, pre, post, owner; /* event retention (seconds), rolls (seconds), the events' camera */
        bool main;
        char name[REEL_NAME_MAX];
    } *cv = NULL;
    size_t ncv = 0, acv = 0;
    int step;
    bool oom = false;
    while ((step = sqlite3_step(cams)) == SQLITE_ROW) {
        if (ncv == acv) {
            size_t na = acv ? acv * 2 : 16;
            void *p = realloc(cv, na * sizeof(*cv));
            if (!p) {
                oom = true;
                break;
            }
            cv = p;
            acv = na;
        }
        cv[ncv].id = sqlite3_column_int64(cams, 0);
        reel__fmt(cv[ncv].name, sizeof(cv[ncv].name), "%s", (const char *)sqlite3_column_text(cams, 1));
        cv[ncv].rb = sqlite3_column_int64(cams, 2);
        cv[ncv].rs = sqlite3_column_int64(cams, 3);
        int64_t cap = sqlite3_column_int64(cams, 4);
        if (cap > 0 && (cv[ncv].rs <= 0 || cv[ncv].rs > cap))
            cv[ncv].rs = cap;
        cv[ncv].er = sqlite3_column_int64(cams, 5);
        if (cap > 0 && cv[ncv].er > cap)
            cv[ncv].er = cap;
        cv[ncv].pre = sqlite3_column_int64(cams, 6);
        cv[ncv].post = sqlite3_column_int64(cams, 7);
        cv[ncv].owner = sqlite3_column_int64(cams, 8);
        cv[ncv].main = sqlite3_column_int(cams, 9) != 0;
        ncv++;
    }
    sqlite3_reset(cams);
    /* a failed read is an error, never a shorter list of cameras to keep in bounds */
    int r = oom ? reel_err_set(err, ENOMEM, "retention: out of memory")
          : step != SQLITE_DONE ? reel__db_err(db, step, err, "retention: listing cameras") : 0;
    /* the audit log's summary of this run: one row for every camera that lost footage */
    struct reel_buf summary;
    reel_buf_init(&summary, REEL_AUDIT_DETAIL_MAX - 64);
    size_t summarised = 0;
    for (size_t ci = 0; r == 0 && ci < ncv; ci++) {
        int64_t cam = cv[ci].id, rb = cv[ci].rb, rs = cv[ci].rs;
        const char *name = cv[ci].name;
        /* the camera's bytes (without locked ones): only a byte limit needs them */
        int64_t total = 0, locked = -1;
        if (rb > 0 && (r = camera_total(db, tot, cam, now_ns, &total, &locked, err)) < 0)
            break;
        /* the windows between active locks, oldest first: locked recordings
         * are neither listed nor scanned (the query's NOT EXISTS is the
         * guard for the ones straddling a window's edge) */
        struct lock_win wv[RET_WINDOWS_MAX];
        size_t nw = 0;
        if ((r = unlocked_windows(db, wins, cam, now_ns, wv, &nw, err)) < 0)
            break;
        /* event retention: footage around the camera's events stays until
         * er when that is longer than rs (pass 0 leaves it out); a byte
         * limit still over after everything else takes it last (pass 1) */
        bool evret = rs > 0 && cv[ci].er > rs;
        int64_t maxdur = 0;
        if (evret && full && (r = events_longest(db, cv[ci].owner, now90k, &maxdur, err)) < 0)
            break;
        /* issue 15: locks holding footage past the age limit (lock.blocking) */
        if (rs > 0 && nw >= 2 && wv[0].hi < now90k - rs * REEL_90K && reel__lock_check_due(s, cam, now_ns))
            locks_blocking(s, db, cam, name, rs, now_ns, now90k);
        /* between full passes an upper bound: events grew by at most the
         * time since, and one written late (the bus queues) by a few minutes */
        if (evret && !full)
            maxdur = ev->maxdur90k + (now90k - ev->full90k) + 600 * REEL_90K;
        /* between full passes pass 0 reads two ranges of start times: the
         * expired (before now - er) and those that can have crossed now - rs
         * since the last full pass (a recording lasts at most an hour) */
        int64_t a_hi = now90k - cv[ci].er * REEL_90K;
        int64_t b_lo = full ? INT64_MIN : ev->full90k - rs * REEL_90K - 3600 * REEL_90K;
        bool split = evret && !full && b_lo > a_hi;
        int64_t *ids = NULL;
        size_t n = 0, alloc = 0;
        int64_t freed = 0, first90k = INT64_MAX, last90k = INT64_MIN;
        bool stop = false;
        for (int pass = 0; pass < 2 && !stop; pass++) {
            if (pass == 1 && !(evret && rb > 0 && total > rb))
                break;
            for (size_t k = 0; !stop && k < 2 * nw; k++) {
                size_t w = k % nw, part = k / nw;   /* every window's range A, then every one's B */
                int64_t lo = wv[w].lo, hi = wv[w].hi;
                if (part == 1 && !(split && pass == 0))
                    break;
                if (split && pass == 0) {
                    if (part == 0 && hi > a_hi)
                        hi = a_hi;
                    if (part == 1 && lo < b_lo)
                        lo = b_lo;
                    if (lo >= hi)
                        continue;
                }
                sqlite3_reset(recs);
                sqlite3_bind_int64(recs, 1, cam);
                sqlite3_bind_int64(recs, 2, dir_id);
                sqlite3_bind_int64(recs, 3, now_ns);
                sqlite3_bind_int64(recs, 4, lo);
                sqlite3_bind_int64(recs, 5, hi);
                sqlite3_bind_int(recs, 6, evret);
                sqlite3_bind_int64(recs, 7, now90k - cv[ci].er * REEL_90K);
                sqlite3_bind_int(recs, 8, pass);
                sqlite3_bind_int64(recs, 9, cv[ci].owner);
                sqlite3_bind_int64(recs, 10, cv[ci].pre * REEL_90K);
                sqlite3_bind_int64(recs, 11, cv[ci].post * REEL_90K);
                sqlite3_bind_int64(recs, 12, maxdur);
                sqlite3_bind_int64(recs, 13, now90k);
                int got = 0;
                while ((step = sqlite3_step(recs)) == SQLITE_ROW) {
                    got++;
                    int64_t id = sqlite3_column_int64(recs, 0), bytes = sqlite3_column_int64(recs, 1);
                    int64_t end = sqlite3_column_int64(recs, 2);
                    bool over = rb > 0 && total > rb;
                    bool old = pass == 0 && rs > 0 && end < now90k - rs * REEL_90K;
                    if (!over && !old) {
                        stop = true;
                        break;
                    }
                    if (reel_array_grow(&ids, &alloc, n, sizeof(*ids), 16) < 0 || n >= 10000) {
                        stop = true;
                        complete = false;
                        break;          /* delete what is listed; the next pass does the rest */
                    }
                    ids[n++] = id;
                    total -= bytes;
                    freed += bytes;
                    int64_t st90k = sqlite3_column_int64(recs, 3);
                    first90k = st90k < first90k ? st90k : first90k;
                    last90k = end > last90k ? end : last90k;
                }
                sqlite3_reset(recs);
                if (got >= 10000)
                    complete = false;
                if (step != SQLITE_ROW && step != SQLITE_DONE) {
                    r = reel__db_err(db, step, err, "retention: listing recordings");
                    break;
                }
            }
            if (r < 0)
                break;
        }
        if (r < 0) {
            free(ids);
            break;
        }
        if (n && locked < 0 && (r = camera_total(db, tot, cam, now_ns, &total, &locked, err)) < 0) {
            free(ids);
            break;
        }
        if (n) {
            r = reel__delete_recordings(s, db, ids, n, "deleted by retention", err);
            if (r == 0) {
                reel__event(s, REEL_LOG_INFO,
                            "camera %s: retention deleted %zu recordings (%" PRId64 " bytes); %" PRId64
                            " bytes held by evidence locks",
                            name, n, freed, locked);
                char a[40], b[40];
                reel_time_format(first90k, a, sizeof(a));
                reel_time_format(last90k, b, sizeof(b));
                /* names are [A-Za-z0-9_~-]: no escaping needed; a summary
                 * over its cap keeps the cameras that fit */
                if (reel_buf_printf(&summary, "%s{\"camera\":\"%s\",\"recordings\":%zu,\"bytes\":%" PRId64
                                    ",\"start\":\"%s\",\"end\":\"%s\"}", summarised ? "," : "", name, n, freed,
                                    a, b) == 0)
                    summarised++;
            }
        }
        free(ids);
        /* the motion grid goes with the footage: a camera's minutes older
         * than its oldest remaining recording (issue 15) */
        if (r == 0 && cv[ci].main)
            r = prune_motion(db, cam, now90k, rs > cv[ci].er ? rs : cv[ci].er, err);
    }
    if (ev && full && complete && r == 0) {
        int64_t md = 0;
        struct reel_err e2;
        if (events_longest_all(db, now90k, &md, &e2) == 0)
            *ev = (struct reel_evret){ .full_ns = mono, .full90k = now90k, .maxdur90k = md };
    }
    sqlite3_finalize(wins);
    free(cv);
    sqlite3_finalize(cams);
    sqlite3_finalize(tot);
    sqlite3_finalize(recs);
    if (summarised) {
        char *detail = malloc(summary.len + 32);
        if (detail) {
            snprintf(detail, summary.len + 32, "{\"cameras\":[%.*s]}", (int)summary.len, (const char *)summary.data);
            struct reel_audit_rec rec = { .ts_ns = reel_clock_wall(s->clock), .user = "reel", .via = "recorder",
                                          .addr = "", .action = "retention.delete", .camera = "", .detail = detail };
            struct reel_err aerr;
            if (reel_audit_append(db, &rec, NULL, &aerr) < 0)
                reel__event(s, REEL_LOG_ERROR, "retention: the audit log's summary not written: %s", aerr.msg);
            free(detail);
        }
    }
    reel_buf_free(&summary);
    return r;
}

int reel_store_retention(struct reel_store *s, struct reel_err *err)
{
    if (s->cfg.mode == REEL_STORE_READ)
        return reel_err_set(err, EROFS, "retention: store opened read-only");
    return reel__retention(s, s->db, -1, NULL, err);
}

int reel_store_free_oldest(struct reel_store *s, int64_t dir_id, unsigned max, unsigned *ret_deleted,
                           struct reel_err *err)
{
    if (s->cfg.mode == REEL_STORE_READ)
        return reel_err_set(err, EROFS, "freeing space: store opened read-only");
    return reel__free_oldest(s, s->db, dir_id, max, ret_deleted, err);
}

int reel__free_oldest(struct reel_store *s, sqlite3 *db, int64_t dir_id, unsigned max, unsigned *ret_deleted,
                      struct reel_err *err)
{
    sqlite3_stmt *st;
    /* the oldest UNLOCKED footage: an evidence lock's is never deleted */
    if (sqlite3_prepare_v2(db, "SELECT r.id, r.bytes, c.name FROM recording r JOIN camera c ON c.id = r.camera_id "
                                  "WHERE r.dir_id = ?1 AND r.open = 0 AND r.frames > 0 AND NOT "
                                  REEL__LOCKED_SQL("r", "?3") " ORDER BY r.start90k, r.id LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return reel__db_err(db, SQLITE_ERROR, err, "freeing space");
    sqlite3_bind_int64(st, 1, dir_id);
    sqlite3_bind_int64(st, 2, max);
    sqlite3_bind_int64(st, 3, reel_clock_wall(s->clock));
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
        r = reel__delete_recordings(s, db, &v[i].id, 1, "deleted: disk full", err);
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

int reel__dir_locked(struct reel_store *s, sqlite3 *db, int64_t dir_id, int64_t *ret_bytes, int64_t *ret_n,
                     struct reel_err *err)
{
    *ret_bytes = *ret_n = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(SUM(bytes), 0), COUNT(*) FROM recording r WHERE r.dir_id = ?1 AND "
                               REEL__LOCKED_SQL("r", "?2"), -1, &st, NULL) != SQLITE_OK)
        return reel__db_err(db, SQLITE_ERROR, err, "locked footage");
    sqlite3_bind_int64(st, 1, dir_id);
    sqlite3_bind_int64(st, 2, reel_clock_wall(s->clock));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_bytes = sqlite3_column_int64(st, 0);
        *ret_n = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : reel__db_err(db, rc, err, "locked footage");
}

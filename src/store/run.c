/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The recording run: one unbroken connection of one camera, cut into
 * recordings. On the caller's event-loop thread, reel_run_frame appends each
 * frame to the current recording's batch buffer and hands full batches to
 * its storage directory's writer (writer.c); it never writes a file, fsyncs,
 * commits or waits for a disk: a directory that does not answer fails the
 * run instead (reel__sdir_stalled). It also keeps each recording's frame
 * index and durations (the wall timeline anchored to the monotonic clock,
 * see docs/storage.md "Time") and rotates recordings at key frames. The
 * directory's syncer (syncer.c) makes what the run appended durable.
 *
 * Locks: a frame takes its directory's mutex once (sd->mu); the store's
 * mutex (s->mu, the list of runs) is taken only to open and close a run,
 * and never while sd->mu is held.
 */
#include "store/store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PPM_LIMIT 500

/* ---- recordings (under sd->mu) ---- */

struct reel_rec *reel__rec_new(struct reel_sdir *sd, int64_t camera_id)
{
    struct reel_store *s = sd->s;
    struct reel_rec *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->sd = sd;
    x->fd = -1;
    x->state = REC_REQ;
    x->id = s->next_rec_id++; /* only the caller thread makes recordings */
    x->camera_id = camera_id;
    x->dir_id = sd->d->id;
    reel__rec_path(s, x->dir_id, camera_id, x->id, x->path, sizeof(x->path));
    reel_index_enc_init(&x->idx, REEL_INDEX_CAP);
    x->next = sd->recs;
    sd->recs = x;
    sd->y.work = true;
    pthread_cond_signal(&sd->y.cond);
    return x;
}

int reel__rec_free(struct reel_sdir *sd, struct reel_rec *x)
{
    if (!x)
        return -1;
    int fd = x->fd;
    reel__writer_buf_free(sd, x->bbuf);
    reel__writer_free_jobs(sd, x->held);
    reel__writer_free_jobs(sd, x->stalled);
    reel_index_enc_free(&x->idx);
    free(x);
    return fd;
}

void reel__rec_unlink(struct reel_sdir *sd, struct reel_rec *x)
{
    for (struct reel_rec **pp = &sd->recs; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            return;
        }
}

static void update_good(struct reel_rec *x)
{
    x->good.frames = x->idx.frames;
    x->good.bytes = x->idx_bytes;
    x->good.index_len = x->idx.out.len;
    x->good.media_dur = x->media_dur;
    x->good.wall_dur = x->wall_dur;
}

/* A write into x failed (under sd->mu). A failed write is never retried: the
 * recording is closed at its last committed checkpoint, and the run gets
 * -EIO with x->error on its next frame. (ENOSPC is writer.c's: set aside, space
 * freed, written again.) */
void reel__rec_write_failed(struct reel_sdir *sd, struct reel_rec *x, int e)
{
    if (x->io_error)
        return;
    x->io_error = true;
    x->blen = x->bsent;
    reel__fmt(x->error, sizeof(x->error), "sample file %s: write failed: %s; recording closed at its last checkpoint",
              x->path, strerror(-e));
    reel__event(sd->s, REEL_LOG_ERROR, "%s", x->error);
    reel__trouble(sd->s, REEL_STORE_TROUBLE_WRITE, x->camera_id, "%s", x->error);
}

/* ---- the run (caller thread) ---- */

int reel_run_open(struct reel_store *s, int64_t camera_id, struct reel_run **ret, struct reel_err *err)
{
    if (s->cfg.mode != REEL_STORE_RECORD)
        return reel_err_set(err, EPERM, "camera %" PRId64 ": store not opened for recording", camera_id);
    sqlite3_stmt *st;
    int64_t dir_id = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT dir_id FROM camera WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, camera_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            dir_id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (dir_id < 0)
        return reel_err_set(err, ENOENT, "camera %" PRId64 " not found", camera_id);
    const struct reel_dir_rt *d = reel__dir(s, dir_id);
    if (!d)
        return reel_err_set(err, EIO, "camera %" PRId64 ": storage dir %" PRId64 " unknown", camera_id, dir_id);
    if (!d->usable || !d->sd)
        return reel_err_set(err, EIO, "camera %" PRId64 ": %s; not recording", camera_id,
                            d->error[0] ? d->error : "storage dir not started");
    struct reel_sdir *sd = d->sd;
    struct reel_run *r = calloc(1, sizeof(*r));
    if (!r)
        return reel_err_set(err, ENOMEM, "out of memory");
    r->s = s;
    r->sd = sd;
    r->camera_id = camera_id;
    r->dir_id = dir_id;
    pthread_mutex_lock(&s->mu);
    for (struct reel_run *o = s->runs; o; o = o->next)
        if (o->camera_id == camera_id && !o->dead) {
            pthread_mutex_unlock(&s->mu);
            free(r);
            return reel_err_set(err, EBUSY, "camera %" PRId64 " already has a run", camera_id);
        }
    pthread_mutex_unlock(&s->mu);
    /* a directory that does not answer takes no new run (it would only hold
     * frames in memory); the camera retries and records once it answers */
    pthread_mutex_lock(&sd->mu);
    char why[300];
    if (reel__sdir_stalled(sd, reel_clock_mono(s->clock), why, sizeof(why))[0]) {
        pthread_mutex_unlock(&sd->mu);
        free(r);
        return reel_err_set(err, EIO, "%s", why);
    }
    r->spare = reel__rec_new(sd, camera_id);
    pthread_mutex_unlock(&sd->mu);
    if (!r->spare) {
        free(r);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    pthread_mutex_lock(&s->mu);
    r->next = s->runs;
    s->runs = r;
    pthread_mutex_unlock(&s->mu);
    *ret = r;
    return 0;
}

static int64_t clamp_corr(int64_t corr, int64_t media)
{
    int64_t lim = media * PPM_LIMIT / 1000000;
    return corr > lim ? lim : corr < -lim ? -lim : corr;
}

/* Completes the previous frame of r->cur now that its duration is known. */
static int complete_prev(struct reel_run *r, int64_t dur, int64_t mono)
{
    struct reel_rec *x = r->cur;
    struct reel_frame_info fi = { .size = r->prev_size, .duration90k = (int32_t)dur, .key = r->prev_key };
    int e = reel_index_enc_add(&x->idx, &fi);
    if (e < 0)
        return e;
    x->idx_bytes += r->prev_size;
    x->media_dur += dur;
    if (mono != INT64_MIN) {
        /* move the run's wall timeline toward the monotonic elapsed time */
        int64_t target_end = r->run_wall90k + reel_ns_to_90k(mono - r->run_mono_ns);
        x->corr = target_end - x->start90k - x->media_dur;
    }
    x->wall_dur = x->media_dur + clamp_corr(x->corr, x->media_dur);
    update_good(x);
    return 0;
}

/* The run is done with its current recording. */
static void finish_cur(struct reel_run *r)
{
    struct reel_rec *x = r->cur;
    struct reel_sdir *sd = r->sd;
    if (!x)
        return;
    x->closing = true;
    if (x->fd >= 0) {
        /* the last batch goes with its buffer; before the file exists the
         * syncer queues it (prepare_files) */
        int e = reel__writer_submit(sd, x, true);
        if (e < 0)
            reel__rec_write_failed(sd, x, e);
    }
    r->next_start90k = x->start90k + x->wall_dur;
    r->cur = NULL;
    sd->y.work = true;
    pthread_cond_signal(&sd->y.cond);
}

/* Ends the run after a storage failure; every later frame gets rc. */
static int kill_run(struct reel_run *r, int rc, struct reel_err *err, const char *msg)
{
    if (r->cur) {
        r->cur->blen = r->cur->bsent; /* unwritable: the committed part is what is kept */
        r->cur->io_error = r->cur->io_error || rc == -EIO;
        finish_cur(r);
    }
    if (r->spare) {
        r->spare->discard = true;
        r->spare = NULL;
    }
    r->dead = rc;
    reel__fmt(r->dead_msg, sizeof(r->dead_msg), "%s", msg);
    r->sd->y.work = true;
    pthread_cond_signal(&r->sd->y.cond);
    return reel_err_set(err, -rc, "%s", r->dead_msg);
}

static void run_close_locked(struct reel_run *r);
static void run_unlink(struct reel_run *r);

/* kill_run, then the run is closed and freed (called with sd->mu held;
 * returns with it released). */
static int fail_run(struct reel_run *r, int rc, struct reel_err *err, const char *msg)
{
    int e = kill_run(r, rc, err, msg);
    run_close_locked(r);
    pthread_mutex_unlock(&r->sd->mu);
    run_unlink(r);
    free(r);
    return e;
}

/* Appends a frame's bytes to cur's batch; each full batch goes to the writer. */
static int append_locked(struct reel_sdir *sd, struct reel_rec *x, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (!x->bbuf) {
            x->bbuf = reel__writer_buf_get(sd);
            if (!x->bbuf)
                return -ENOMEM;
            x->blen = x->bsent = 0;
        }
        size_t k = REEL_BATCH_CAP - x->blen;
        if (k > n)
            k = n;
        memcpy(x->bbuf + x->blen, p, k);
        x->blen += k;
        p += k;
        n -= k;
        if (x->blen == REEL_BATCH_CAP) {
            int e = reel__writer_submit(sd, x, true);
            if (e < 0) {
                x->blen -= k; /* the frame is not kept */
                return e;
            }
        }
    }
    return 0;
}

int reel_run_frame(struct reel_run *r, const struct reel_frame_in *f, struct reel_err *err)
{
    struct reel_store *s = r->s;
    if (r->dead)
        return reel_err_set(err, -r->dead, "%s", r->dead_msg);
    if (!f->data || f->len == 0 || f->len > UINT32_MAX)
        return reel_err_set(err, EINVAL, "camera %" PRId64 ": frame of %zu bytes", r->camera_id, f->len);
    if (!r->have_prev && !f->key)
        return reel_err_set(err, EINVAL, "camera %" PRId64 ": a run must start with a key frame", r->camera_id);
    int64_t dur = 0;
    if (r->have_prev) {
        if (f->ts90k <= r->prev_ts)
            return reel_err_set(err, EINVAL, "camera %" PRId64 ": timestamp %" PRId64 " does not increase (previous %" PRId64 ")",
                                r->camera_id, f->ts90k, r->prev_ts);
        if (f->ts90k - r->prev_ts > INT32_MAX)
            return reel_err_set(err, EINVAL, "camera %" PRId64 ": timestamp jumps by %" PRId64 " ticks",
                                r->camera_id, f->ts90k - r->prev_ts);
        dur = f->ts90k - r->prev_ts;
    }
    bool entry_change = !r->have_prev || f->sample_entry_id != r->prev_entry;
    if (entry_change) {
        if (!f->key)
            return reel_err_set(err, EINVAL, "camera %" PRId64 ": sample entry changes on a non-key frame",
                                r->camera_id);
        if (!reel__entry_known(s, f->sample_entry_id))
            return reel_err_set(err, EINVAL, "camera %" PRId64 ": unknown sample entry %" PRId64, r->camera_id,
                                f->sample_entry_id);
    }
    int64_t mono = reel_clock_mono(s->clock);
    struct reel_sdir *sd = r->sd;
    pthread_mutex_lock(&sd->mu);
    char why[300];
    if (reel__sdir_stalled(sd, mono, why, sizeof(why))[0])
        return fail_run(r, -EIO, err, why); /* never wait for a disk that does not answer */
    if (r->cur && r->cur->io_error) {
        return fail_run(r, r->cur->nospace_dead ? -ENOSPC : -EIO, err,
                        r->cur->error[0] ? r->cur->error : "sample file: I/O error");
    }
    if (r->have_prev) {
        int e = complete_prev(r, dur, mono);
        if (e < 0) {
            char msg[200];
            reel__fmt(msg, sizeof(msg), "camera %" PRId64 ": frame index full (no key frame for too long)",
                     r->camera_id);
            return fail_run(r, -EIO, err, msg);
        }
    }
    struct reel_rec *x = r->cur;
    bool rotate = !x || (f->key && (entry_change || f->ts90k - r->rec_start_ts >= r->rec_limit90k ||
                                    x->idx.out.len > REEL_INDEX_ROTATE));
    if (rotate) {
        bool first = !r->have_prev;
        if (first) {
            r->run_wall90k = reel_ns_to_90k(reel_clock_wall(s->clock));
            r->run_mono_ns = mono;
            r->run_ts0 = f->ts90k;
            r->next_start90k = r->run_wall90k;
        }
        finish_cur(r);
        x = r->spare;
        if (x->state == REC_FAILED) {
            return fail_run(r, -EIO, err, x->error);
        }
        r->cur = x;
        r->spare = reel__rec_new(sd, r->camera_id);
        x->in_use = true;
        if (first)
            r->run_id = x->id;
        x->run_id = r->run_id;
        x->run_index = r->run_index++;
        x->start90k = r->next_start90k;
        x->sample_entry_id = f->sample_entry_id;
        r->rec_start_ts = f->ts90k;
        int64_t rot90k = reel_ns_to_90k(s->cfg.rotate_ns);
        /* stagger: a camera's first recording lasts rotate * (1 + frac(id * 0.37)) */
        r->rec_limit90k = first ? rot90k + rot90k / 100 * ((r->camera_id * 37) % 100) : rot90k;
        if (!r->spare) {
            return fail_run(r, -ENOMEM, err, "out of memory");
        }
    }
    int e = append_locked(sd, x, f->data, f->len);
    if (e < 0) {
        char msg[256];
        const struct reel_dir_rt *d = reel__dir(s, x->dir_id);
        if (e == -EAGAIN)
            reel__fmt(msg, sizeof(msg), "storage dir %s: sample file %s not created in time; run ended",
                     d ? d->path : "?", x->path);
        else
            reel__fmt(msg, sizeof(msg), "sample file %s: write failed: %s; recording closed (committed part kept)",
                     x->path, strerror(-e));
        reel__event(s, REEL_LOG_ERROR, "%s", msg);
        reel__trouble(s, REEL_STORE_TROUBLE_WRITE, r->camera_id, "%s", msg);
        return fail_run(r, -EIO, err, msg);
    }
    r->have_prev = true;
    r->prev_ts = f->ts90k;
    r->prev_dur = dur;
    r->prev_size = (uint32_t)f->len;
    r->prev_key = f->key;
    r->prev_entry = f->sample_entry_id;
    pthread_mutex_unlock(&sd->mu);
    return 0;
}

static void run_close_locked(struct reel_run *r)
{
    struct reel_sdir *sd = r->sd;
    if (r->cur && r->have_prev && !r->dead) {
        /* the last frame gets the previous frame's duration */
        if (complete_prev(r, r->prev_dur, INT64_MIN) < 0)
            r->cur->io_error = true;
    }
    finish_cur(r);
    if (r->spare) {
        r->spare->discard = true;
        r->spare = NULL;
    }
    sd->y.work = true;
    pthread_cond_signal(&sd->y.cond);
}

/* Takes r off the store's list of runs (s->mu, never held with sd->mu). */
static void run_unlink(struct reel_run *r)
{
    struct reel_store *s = r->s;
    pthread_mutex_lock(&s->mu);
    for (struct reel_run **pp = &s->runs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    pthread_mutex_unlock(&s->mu);
}

void reel_run_close(struct reel_run *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->sd->mu);
    run_close_locked(r);
    pthread_mutex_unlock(&r->sd->mu);
    run_unlink(r);
    free(r);
}

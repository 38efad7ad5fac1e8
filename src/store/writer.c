/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The writer thread of one storage directory (one per usable directory): it
 * takes the sample-file writes off the event loop. The loop thread fills a
 * recording's batch buffer (REEL_BATCH_CAP, aligned); a full batch becomes a
 * job on the directory's FIFO queue and the loop takes a fresh buffer from
 * the directory's small pool. The loop never waits for the writer: a
 * directory whose writes do not complete is reported stalled to the run
 * (reel__sdir_stalled in syncer.c), which fails instead of waiting. The syncer, at each checkpoint, queues the
 * not yet written part of every batch ("partial" jobs) and waits until the
 * writer has written what its snapshot describes, then fdatasyncs.
 *
 * Sample files are opened with O_DIRECT where the filesystem allows it: the
 * data goes from our buffer to the device without a copy into the page cache,
 * and the checkpoint's fdatasync no longer has pages to write back. Direct
 * I/O needs offsets and lengths in whole blocks (REEL_IO_ALIGN): a partial
 * job writes the batch's whole blocks from the buffer itself and the last,
 * incomplete block from a zero-padded copy; that block is written again, with
 * more data, by the batch's next job. The file may therefore be up to one
 * block longer than its data until the recording's final checkpoint cuts it
 * back (recovery cuts back any file longer than its committed bytes). Where
 * O_DIRECT is refused (tmpfs, some network filesystems) the same jobs are
 * written through the page cache, without padding.
 *
 * Size set ahead: before an O_DIRECT write would extend the file, the
 * writer extends it with ftruncate, REEL_IO_AHEAD past the write (a hole: no
 * block is allocated). ext4 (and others) complete a direct write that extends
 * i_size synchronously, in the submitting thread, because the new size may
 * only be published once the data is on the device: through io_uring that
 * parks one of its kernel workers per write until the device answers. A
 * write inside i_size is issued and the worker moves on (the measured gain
 * is in BENCHMARKS.md, "the file's size set ahead of its data"). The final
 * checkpoint cuts the file to its data, and
 * recovery cuts any file longer than its committed bytes, as for padding.
 *
 * Order: one writer thread, jobs in queue order, so the jobs of a recording
 * reach its file in the order they were made and a later job's bytes are
 * never overwritten by an earlier job's padding. The bytes a job writes from
 * the batch buffer lie below the batch's length when the job was made, and
 * the loop only appends above it, so nobody writes them while they are read.
 *
 * Disk full: a job that fails with ENOSPC is set aside (x->stalled), and so
 * is every later job of that recording, in order; sd->y.nospace wakes the
 * directory's syncer, which frees the directory's oldest recording and puts
 * the set-aside jobs back at the head of the queue, or, with nothing left to
 * delete, fails them (reel__writer_nospace). The loop thread never commits.
 * Any other write error closes the recording at its
 * last checkpoint (reel__rec_write_failed in run.c).
 *
 * Everything here runs under sd->mu except the pwrite calls themselves.
 */
#include "store/store_int.h"
#include "store/locks.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static size_t align_down(size_t v, size_t a)
{
    return v / a * a;
}

/* ---- batch buffers ----
 * Mapped one by one rather than taken from the heap: aligned 256 KiB blocks
 * coming and going through malloc fragment the heap until it holds several
 * times what is in use. A small pool keeps the steady flow free of system
 * calls; past it a buffer is unmapped, and its memory goes back at once. */

static uint8_t *buf_map(void)
{
    void *p = mmap(NULL, REEL_BATCH_CAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void reel__writer_buf_free(struct reel_sdir *sd, uint8_t *p)
{
    if (!p)
        return;
    munmap(p, REEL_BATCH_CAP);
    sd->w.nbufs--;
}

uint8_t *reel__writer_buf_get(struct reel_sdir *sd)
{
    /* never waits: a writer that falls behind is the run's to judge
     * (reel__sdir_stalled), so that a hung disk never holds the loop */
    if (sd->w.npool)
        return sd->w.pool[--sd->w.npool];
    uint8_t *p = buf_map();
    if (p && ++sd->w.nbufs > sd->w.nbufs_peak)
        sd->w.nbufs_peak = sd->w.nbufs;
    return p;
}

static void buf_put(struct reel_sdir *sd, uint8_t *p)
{
    if (!p)
        return;
    if (sd->w.npool < REEL_IO_POOL_KEEP)
        sd->w.pool[sd->w.npool++] = p;
    else
        reel__writer_buf_free(sd, p);
}

void reel__writer_pool_free(struct reel_sdir *sd)
{
    while (sd->w.npool)
        reel__writer_buf_free(sd, sd->w.pool[--sd->w.npool]);
    while (sd->w.ntails)
        free(sd->w.tails[--sd->w.ntails]);
}

/* ---- jobs ---- */

static void list_append(struct reel_wjob **head, struct reel_wjob ***tail, struct reel_wjob *j)
{
    j->next = NULL;
    if (!*tail)
        *tail = head;
    **tail = j;
    *tail = &j->next;
}

static void enqueue(struct reel_sdir *sd, struct reel_wjob *j)
{
    list_append(&sd->w.q, &sd->w.q_tail, j);
    sd->w.q_len++;
    if (j->release) {
        sd->w.q_bytes += REEL_BATCH_CAP;
        if (sd->w.q_bytes > sd->w.q_peak)
            sd->w.q_peak = sd->w.q_bytes;
    }
    /* the writer gathers a batch: wake it for the first job and a full batch */
    if (!sd->w.ring_ok || sd->w.q_len == 1 || sd->w.q_len >= REEL_IO_BATCH || sd->w.urgent)
        pthread_cond_signal(&sd->w.cond);
}

void reel__writer_urgent(struct reel_sdir *sd, int delta)
{
    sd->w.urgent += delta;
    if (delta > 0)
        pthread_cond_signal(&sd->w.cond);
}

/* Tail blocks: one aligned block per partial job, reused. */
static uint8_t *tail_get(struct reel_sdir *sd)
{
    if (sd->w.ntails)
        return sd->w.tails[--sd->w.ntails];
    return aligned_alloc(REEL_IO_ALIGN, REEL_IO_ALIGN);
}

static void tail_put(struct reel_sdir *sd, uint8_t *t)
{
    if (!t)
        return;
    if (sd->w.ntails < REEL_IO_TAILS_KEEP)
        sd->w.tails[sd->w.ntails++] = t;
    else
        free(t);
}

/* A job leaves: its buffer (if released) goes back to the pool. */
static void job_done(struct reel_sdir *sd, struct reel_wjob *j)
{
    j->x->inflight--;
    if (j->release) {
        buf_put(sd, j->buf);
        sd->w.out--;
    }
    tail_put(sd, j->tail);
    free(j);
    pthread_cond_broadcast(&sd->w.done);
}

void reel__writer_free_jobs(struct reel_sdir *sd, struct reel_wjob *j)
{
    while (j) {
        struct reel_wjob *next = j->next;
        j->x->inflight--;
        if (j->release) {
            reel__writer_buf_free(sd, j->buf);
            sd->w.out--;
        }
        tail_put(sd, j->tail);
        free(j);
        j = next;
    }
}

int reel__writer_submit(struct reel_sdir *sd, struct reel_rec *x, bool release)
{
    if (!x->bbuf)
        return 0;
    if (x->fd < 0) {
        /* no file yet: only full batches are held, the rest waits in bbuf */
        if (!release || x->blen < REEL_BATCH_CAP)
            return 0;
        if (x->nheld >= REEL_IO_HELD_MAX)
            return -EAGAIN;
    } else if (!release && x->blen == x->bsent) {
        return 0;
    }
    struct reel_wjob *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->x = x;
    j->buf = x->bbuf;
    j->off = x->boff;
    j->release = release;
    if (x->blen > x->bsent) {
        size_t a = x->direct ? REEL_IO_ALIGN : 1;
        j->start = align_down(x->bsent, a);
        j->end = align_down(x->blen, a);
        if (j->end < x->blen) {
            j->tail = tail_get(sd);
            if (!j->tail) {
                free(j);
                return -ENOMEM;
            }
            j->tail_len = x->blen - j->end;
            memcpy(j->tail, x->bbuf + j->end, j->tail_len);
            memset(j->tail + j->tail_len, 0, REEL_IO_ALIGN - j->tail_len);
        }
    }
    j->data_end = x->boff + x->blen;
    x->bsent = x->blen;
    x->inflight++;
    if (release) {
        sd->w.out++;
        x->bbuf = NULL;
        x->boff += x->blen;
        x->blen = x->bsent = 0;
    }
    if (x->fd < 0) {
        list_append(&x->held, &x->held_tail, j);
        x->nheld++;
    } else {
        enqueue(sd, j);
    }
    return 0;
}

void reel__writer_ready(struct reel_sdir *sd, struct reel_rec *x)
{
    while (x->held) {
        struct reel_wjob *j = x->held;
        x->held = j->next;
        enqueue(sd, j);
    }
    x->held_tail = NULL;
    x->nheld = 0;
}

/* ---- the writer thread ---- */

/* Writes iov[0..n) at off, whole (a short write goes on where it stopped). */
static int pwritev_all(int fd, struct iovec *iov, int n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwritev(fd, iov, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -EIO;
        off += (uint64_t)w;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* The iovecs of a job: the whole blocks from the batch and the tail block
 * (always a whole, zero-padded block: a job has a tail only with O_DIRECT),
 * contiguous in the file, so one system call and one request to the device. */
static int job_iov(const struct reel_wjob *j, struct iovec *iov)
{
    int n = 0;
    if (j->end > j->start)
        iov[n++] = (struct iovec){ j->buf + j->start, j->end - j->start };
    if (j->tail)
        iov[n++] = (struct iovec){ j->tail, REEL_IO_ALIGN };
    return n;
}

static size_t job_len(const struct reel_wjob *j)
{
    return j->end - j->start + (j->tail ? REEL_IO_ALIGN : 0);
}

/* Writes what is left of a job from byte done on, synchronously. */
static int job_write_sync(int fd, const struct reel_wjob *j, size_t done)
{
    struct iovec iov[2];
    int n = job_iov(j, iov);
    uint64_t off = j->off + j->start + done;
    for (int i = 0; i < n && done > 0; i++) {
        size_t k = done < iov[i].iov_len ? done : iov[i].iov_len;
        iov[i].iov_base = (uint8_t *)iov[i].iov_base + k;
        iov[i].iov_len -= k;
        done -= k;
    }
    int first = 0;
    while (first < n && iov[first].iov_len == 0)
        first++;
    return first < n ? pwritev_all(fd, iov + first, n - first, off) : 0;
}

/* ---- one batch: up to REEL_IO_BATCH jobs, at most one per recording ---- */

struct wbatch {
    struct reel_wjob *j[REEL_IO_BATCH];
    int fd[REEL_IO_BATCH];
    bool direct[REEL_IO_BATCH];
    int err[REEL_IO_BATCH];
    struct iovec iov[REEL_IO_BATCH][2];
    int n;
};

/* Takes jobs from the head of the queue (under sd->mu). A job of a recording
 * already in the batch ends it, so that a recording's writes never run
 * concurrently and land in order. Jobs of a recording that is set aside or
 * failed are dealt with here. */
static void batch_take(struct reel_sdir *sd, struct wbatch *b)
{
    b->n = 0;
    while (sd->w.q && b->n < REEL_IO_BATCH) {
        struct reel_wjob *j = sd->w.q;
        struct reel_rec *x = j->x;
        bool dup = false;
        for (int i = 0; i < b->n && !dup; i++)
            dup = b->j[i]->x == x;
        if (dup)
            break;
        sd->w.q = j->next;
        if (!sd->w.q)
            sd->w.q_tail = NULL;
        sd->w.q_len--;
        if (j->release)
            sd->w.q_bytes -= REEL_BATCH_CAP;
        if (x->stalled) {
            list_append(&x->stalled, &x->stalled_tail, j); /* stays behind the stalled one */
            continue;
        }
        if (x->io_error) {
            job_done(sd, j);
            continue;
        }
        b->j[b->n] = j;
        b->fd[b->n] = x->fd;
        b->direct[b->n] = x->direct;
        b->err[b->n] = 0;
        b->n++;
    }
}

/* With O_DIRECT, extends the file ahead of job i's write so that the write
 * does not extend it (see the top of this file). Writer thread, no lock:
 * x->ahead is only touched by the writer. A failed ftruncate only means the
 * write extends the file itself. */
static void extend_ahead(struct wbatch *b, int i)
{
    struct reel_wjob *j = b->j[i];
    struct reel_rec *x = j->x;
    uint64_t end = j->off + j->start + job_len(j);
    if (!b->direct[i] || end <= x->ahead)
        return;
    uint64_t want = end + REEL_IO_AHEAD;
    if (ftruncate(b->fd[i], (off_t)want) == 0)
        x->ahead = want;
}

/* Writes the batch with sd->mu released: one io_uring submission for all of
 * it where the kernel allows, else one pwritev per job. A short or refused
 * asynchronous write is finished synchronously. */
static void batch_write(struct reel_sdir *sd, struct wbatch *b)
{
    size_t done[REEL_IO_BATCH] = { 0 };
    bool sync[REEL_IO_BATCH];
    for (int i = 0; i < b->n; i++) {
        sync[i] = true;
        extend_ahead(b, i);
    }
#ifdef REEL_HAVE_IO_URING
    if (sd->w.ring_ok && b->n > 0) {
        int queued = 0;
        for (int i = 0; i < b->n; i++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&sd->w.ring);
            if (!sqe)
                break;
            int niov = job_iov(b->j[i], b->iov[i]);
            io_uring_prep_writev(sqe, b->fd[i], b->iov[i], (unsigned)niov, b->j[i]->off + b->j[i]->start);
            io_uring_sqe_set_data(sqe, (void *)(intptr_t)i);
            queued++;
        }
        int r;
        do
            r = io_uring_submit_and_wait(&sd->w.ring, (unsigned)queued);
        while (r == -EINTR);
        /* only what was submitted completes: wait for that many */
        int expect = r < 0 ? 0 : r < queued ? r : queued, reaped = 0;
        bool got[REEL_IO_BATCH] = { false };
        while (reaped < expect) {
            struct io_uring_cqe *cqe;
            int w = io_uring_wait_cqe(&sd->w.ring, &cqe);
            if (w == -EINTR)
                continue;
            if (w < 0)
                break;
            int i = (int)(intptr_t)io_uring_cqe_get_data(cqe);
            int res = cqe->res;
            io_uring_cqe_seen(&sd->w.ring, cqe);
            reaped++;
            if (i < 0 || i >= b->n)
                continue;
            got[i] = true;
            if (res >= 0) {
                done[i] = (size_t)res;
                sync[i] = done[i] < job_len(b->j[i]);
            } else if (res != -EAGAIN && res != -EINTR && res != -EINVAL) {
                b->err[i] = res; /* EINVAL: retried below, where O_DIRECT may be dropped */
                sync[i] = false;
            }
        }
        if (r < queued || reaped < expect) {
            /* a submission refused (memory) or a ring in an unknown state:
             * what got no completion is written below, and pwritev from now
             * on (closing the ring drops the SQEs it did not take) */
            io_uring_queue_exit(&sd->w.ring);
            sd->w.ring_ok = false;
            for (int i = 0; i < b->n; i++)
                if (!got[i]) {
                    sync[i] = true;
                    done[i] = 0;
                    b->err[i] = 0;
                }
        }
    }
#endif
    for (int i = 0; i < b->n; i++) {
        if (!sync[i])
            continue;
        int e = job_write_sync(b->fd[i], b->j[i], done[i]);
        if (e == -EINVAL && b->direct[i]) {
            /* the device wants a larger alignment than ours: page cache from now on */
            int fl = fcntl(b->fd[i], F_GETFL);
            if (fl >= 0 && fcntl(b->fd[i], F_SETFL, fl & ~O_DIRECT) == 0) {
                b->direct[i] = false;
                e = job_write_sync(b->fd[i], b->j[i], 0);
            }
        }
        b->err[i] = e;
    }
}

/* Accounts for a written batch (under sd->mu). */
static void batch_finish(struct reel_sdir *sd, struct wbatch *b)
{
    for (int i = 0; i < b->n; i++) {
        struct reel_wjob *j = b->j[i];
        struct reel_rec *x = j->x;
        int e = b->err[i];
        if (!b->direct[i])
            x->direct = false;
        if (x->ahead > x->file_end)
            x->file_end = x->ahead;   /* whatever became of the write */
        if (e == 0) {
            sd->w.jobs++;
            sd->w.direct_jobs += b->direct[i];
            if (j->data_end > x->written)
                x->written = j->data_end;
            uint64_t fend = j->off + j->start + job_len(j);
            if (fend > x->file_end)
                x->file_end = fend;
            job_done(sd, j);
        } else if (e == -ENOSPC) {
            list_append(&x->stalled, &x->stalled_tail, j);
            sd->y.nospace = true;
            sd->y.work = true;
            pthread_cond_signal(&sd->y.cond);
            pthread_cond_broadcast(&sd->w.done);
        } else {
            reel__rec_write_failed(sd, x, e);
            job_done(sd, j);
        }
    }
    sd->w.batches++;
}

static void *writer_main(void *arg)
{
    struct reel_sdir *sd = arg;
    const struct reel_clock *clk = sd->s->clock;
    struct wbatch batch, *b = &batch;
    int64_t gather_until = 0;
    pthread_mutex_lock(&sd->mu);
    for (;;) {
        if (!sd->w.q) {
            if (sd->w.stop)
                break;
            gather_until = 0;
            pthread_cond_wait(&sd->w.cond, &sd->mu);
            continue;
        }
        /* with io_uring, let a few more jobs arrive (at most REEL_IO_GATHER_NS
         * of the store's clock, and one wait of that length in real time, so
         * that a clock a test holds still never stops the writer) so that one
         * submission carries them all; not when somebody waits */
        if (sd->w.ring_ok && sd->w.q_len < REEL_IO_BATCH && !sd->w.urgent && !sd->w.stop) {
            int64_t now = reel_clock_mono(clk);
            if (gather_until == 0) {
                gather_until = now + REEL_IO_GATHER_NS;
                if (reel__cond_wait_rel(&sd->w.cond, &sd->mu, REEL_IO_GATHER_NS) == 0)
                    continue; /* woken: more jobs, urgent or stop */
            } else if (now < gather_until && reel__cond_wait_rel(&sd->w.cond, &sd->mu, gather_until - now) == 0) {
                continue;
            }
        }
        gather_until = 0;
        batch_take(sd, b);
        if (b->n == 0)
            continue;
        sd->w.busy_since = reel_clock_mono(clk);
        if (sd->w.busy_since == 0)
            sd->w.busy_since = 1;
        pthread_mutex_unlock(&sd->mu);
        batch_write(sd, b);
        pthread_mutex_lock(&sd->mu);
        sd->w.busy_since = 0;
        batch_finish(sd, b);
    }
    pthread_mutex_unlock(&sd->mu);
    return NULL;
}

int reel__writer_start(struct reel_sdir *sd, struct reel_err *err)
{
#ifdef REEL_HAVE_IO_URING
    /* io_uring where the kernel (or a container's seccomp policy) allows it */
    int q = sd->s->cfg.no_io_uring ? -ENOSYS : io_uring_queue_init(2 * REEL_IO_BATCH, &sd->w.ring, 0);
    sd->w.ring_ok = q == 0;
    if (q < 0 && !sd->s->cfg.no_io_uring)
        reel__event(sd->s, REEL_LOG_INFO, "writer: io_uring unavailable (%s); one pwritev per write", strerror(-q));
#endif
    int e = pthread_create(&sd->w.thread, NULL, writer_main, sd);
    if (e) {
#ifdef REEL_HAVE_IO_URING
        if (sd->w.ring_ok)
            io_uring_queue_exit(&sd->w.ring);
#endif
        sd->w.ring_ok = false;
        return reel_err_set(err, e, "cannot start the writer thread: %s", strerror(e));
    }
    sd->w.running = true;
    return 0;
}

bool reel__writer_stop(struct reel_sdir *sd, int64_t deadline_real_ns)
{
    if (!sd->w.running)
        return true;
    pthread_mutex_lock(&sd->mu);
    sd->w.stop = true;
    pthread_cond_signal(&sd->w.cond);
    pthread_mutex_unlock(&sd->mu);
    struct timespec ts = { .tv_sec = deadline_real_ns / REEL_NS_PER_SEC, .tv_nsec = deadline_real_ns % REEL_NS_PER_SEC };
    int e;
    do
        e = pthread_timedjoin_np(sd->w.thread, NULL, &ts);
    while (e == EINTR);
    if (e != 0)
        return false; /* stuck in a write: the thread and sd stay */
    sd->w.running = false;
    pthread_cond_broadcast(&sd->w.done);
#ifdef REEL_HAVE_IO_URING
    if (sd->w.ring_ok)
        io_uring_queue_exit(&sd->w.ring);
#endif
    reel__event(sd->s, REEL_LOG_INFO, "writer: %" PRIu64 " writes (%" PRIu64 " direct) in %" PRIu64 " batches%s, "
                "at most %zu MiB queued, at most %zu batch buffers (storage dir %s)", sd->w.jobs, sd->w.direct_jobs,
                sd->w.batches, sd->w.ring_ok ? " (io_uring)" : "", sd->w.q_peak >> 20, sd->w.nbufs_peak, sd->d->path);
    sd->w.ring_ok = false;
    return true;
}

/* ---- disk full ---- */

static struct reel_rec *first_stalled(struct reel_sdir *sd)
{
    for (struct reel_rec *x = sd->recs; x; x = x->next)
        if (x->stalled)
            return x;
    return NULL;
}

void reel__writer_nospace(struct reel_sdir *sd)
{
    struct reel_rec *x = first_stalled(sd);
    if (!x) {
        sd->y.nospace = false;
        return;
    }
    int64_t dir_id = sd->d->id;
    pthread_mutex_unlock(&sd->mu);
    unsigned n = 0;
    struct reel_err e2;
    int fr = reel__free_oldest(sd->s, sd->y.db, dir_id, 1, &n, &e2);
    int64_t locked_bytes = 0, locked_n = 0;
    if (fr == 0 && n == 0)
        reel__dir_locked(sd->s, sd->y.db, dir_id, &locked_bytes, &locked_n, &e2);
    pthread_mutex_lock(&sd->mu);
    bool freed = fr == 0 && n > 0;
    if (freed)
        sd->y.full_locked = false;
    else if (locked_n > 0 && !sd->y.full_locked) {
        /* loud, once per episode (not per camera, run or frame): what is
         * held, and that it is kept */
        sd->y.full_locked = true;
        reel__event(sd->s, REEL_LOG_ERROR,
                    "storage dir %s: disk full and " REEL_STORE_FULL_LOCKED " (%" PRId64 " recordings, %" PRId64
                    " bytes); it is never deleted: cameras recording here stop until space is freed (remove or "
                    "expire a lock, free or add storage)",
                    sd->d ? sd->d->path : "?", locked_n, locked_bytes);
        reel__trouble(sd->s, REEL_STORE_TROUBLE_NO_ROOM, 0,
                      "storage dir %s: disk full and " REEL_STORE_FULL_LOCKED " (%" PRId64 " recordings, %" PRId64
                      " bytes): cameras recording here stop until space is freed",
                      sd->d ? sd->d->path : "?", locked_n, locked_bytes);
    }
    const struct reel_dir_rt *d = sd->d;
    for (struct reel_rec *y = sd->recs; y; y = y->next) {
        if (!y->stalled)
            continue;
        if (freed) {
            /* back at the head of the queue, in order, before y's newer jobs */
            *y->stalled_tail = sd->w.q;
            if (!sd->w.q)
                sd->w.q_tail = y->stalled_tail;
            sd->w.q = y->stalled;
            for (struct reel_wjob *j = y->stalled; j && j != *y->stalled_tail; j = j->next) {
                sd->w.q_len++;
                if (j->release)
                    sd->w.q_bytes += REEL_BATCH_CAP;
            }
        } else {
            if (!y->io_error) {
                y->io_error = true;
                y->nospace_dead = true;
                y->blen = y->bsent;
                if (locked_n > 0) {
                    reel__fmt(y->error, sizeof(y->error),
                              "storage dir %s: disk full and " REEL_STORE_FULL_LOCKED
                              " (%" PRId64 " bytes); not deleting it: not recording", d ? d->path : "?",
                              locked_bytes);
                } else {
                    reel__fmt(y->error, sizeof(y->error),
                              "storage dir %s: no space left and nothing left to delete; camera %" PRId64
                              " stops recording (committed footage kept)", d ? d->path : "?", y->camera_id);
                    reel__event(sd->s, REEL_LOG_ERROR, "%s", y->error);
                    reel__trouble(sd->s, REEL_STORE_TROUBLE_NO_ROOM, y->camera_id, "%s", y->error);
                }
            }
            while (y->stalled) {
                struct reel_wjob *j = y->stalled;
                y->stalled = j->next;
                job_done(sd, j);
            }
        }
        y->stalled = NULL;
        y->stalled_tail = NULL;
    }
    pthread_cond_signal(&sd->w.cond);
    sd->y.nospace = first_stalled(sd) != NULL;
}

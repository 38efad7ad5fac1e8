/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store's writer thread: it takes the sample-file writes off the event
 * loop. The loop thread fills a recording's batch buffer (REEL_BATCH_CAP,
 * aligned); a full batch becomes a job on one FIFO queue and the loop takes a
 * fresh buffer from a small pool. The syncer, at each checkpoint, queues the
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
 * Order: one writer thread, jobs in queue order, so the jobs of a recording
 * reach its file in the order they were made and a later job's bytes are
 * never overwritten by an earlier job's padding. The bytes a job writes from
 * the batch buffer lie below the batch's length when the job was made, and
 * the loop only appends above it, so nobody writes them while they are read.
 *
 * Disk full: a job that fails with ENOSPC is set aside (x->stalled), and so
 * is every later job of that recording, in order; s->nospace tells the loop
 * thread, which frees the directory's oldest recording and puts the set-aside
 * jobs back at the head of the queue, or, with nothing left to delete, fails
 * them (reel__io_nospace). Any other write error closes the recording at its
 * last checkpoint (write_failed in writer.c).
 *
 * Everything here runs under s->mu except the pwrite calls themselves.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
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

void reel__io_buf_free(struct reel_store *s, uint8_t *p)
{
    if (!p)
        return;
    munmap(p, REEL_BATCH_CAP);
    s->nbufs--;
}

uint8_t *reel__io_buf_get(struct reel_store *s)
{
    /* a writer that falls behind makes the loop wait here, as a full page
     * cache would make write(2) wait; not while the disk is full, which the
     * loop thread itself must resolve */
    while (s->npool == 0 && s->wq_bytes >= REEL_IO_QUEUE_CAP && s->writer_running && !s->nospace)
        pthread_cond_wait(&s->wdone, &s->mu);
    if (s->npool)
        return s->pool[--s->npool];
    uint8_t *p = buf_map();
    if (p && ++s->nbufs > s->nbufs_peak)
        s->nbufs_peak = s->nbufs;
    return p;
}

static void buf_put(struct reel_store *s, uint8_t *p)
{
    if (!p)
        return;
    if (s->npool < REEL_IO_POOL_KEEP)
        s->pool[s->npool++] = p;
    else
        reel__io_buf_free(s, p);
}

void reel__io_pool_free(struct reel_store *s)
{
    while (s->npool)
        reel__io_buf_free(s, s->pool[--s->npool]);
    while (s->ntails)
        free(s->tails[--s->ntails]);
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

static void enqueue(struct reel_store *s, struct reel_wjob *j)
{
    list_append(&s->wq, &s->wq_tail, j);
    if (j->release) {
        s->wq_bytes += REEL_BATCH_CAP;
        if (s->wq_bytes > s->wq_peak)
            s->wq_peak = s->wq_bytes;
    }
    pthread_cond_signal(&s->wcond);
}

/* Tail blocks: one aligned block per partial job, reused. */
static uint8_t *tail_get(struct reel_store *s)
{
    if (s->ntails)
        return s->tails[--s->ntails];
    return aligned_alloc(REEL_IO_ALIGN, REEL_IO_ALIGN);
}

static void tail_put(struct reel_store *s, uint8_t *t)
{
    if (!t)
        return;
    if (s->ntails < REEL_IO_TAILS_KEEP)
        s->tails[s->ntails++] = t;
    else
        free(t);
}

/* A job leaves: its buffer (if released) goes back to the pool. */
static void job_done(struct reel_store *s, struct reel_wjob *j)
{
    j->x->inflight--;
    if (j->release)
        buf_put(s, j->buf);
    tail_put(s, j->tail);
    free(j);
    pthread_cond_broadcast(&s->wdone);
}

void reel__io_free_list(struct reel_store *s, struct reel_wjob *j)
{
    while (j) {
        struct reel_wjob *next = j->next;
        j->x->inflight--;
        if (j->release)
            reel__io_buf_free(s, j->buf);
        tail_put(s, j->tail);
        free(j);
        j = next;
    }
}

int reel__io_submit(struct reel_store *s, struct reel_rec *x, bool release)
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
            j->tail = tail_get(s);
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
        x->bbuf = NULL;
        x->boff += x->blen;
        x->blen = x->bsent = 0;
    }
    if (x->fd < 0) {
        list_append(&x->held, &x->held_tail, j);
        x->nheld++;
    } else {
        enqueue(s, j);
    }
    return 0;
}

void reel__io_ready(struct reel_store *s, struct reel_rec *x)
{
    while (x->held) {
        struct reel_wjob *j = x->held;
        x->held = j->next;
        enqueue(s, j);
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

/* One system call, one request to the device: the whole blocks from the
 * batch and the tail block are contiguous in the file. */
static int job_write(int fd, const struct reel_wjob *j, bool direct)
{
    struct iovec iov[2];
    int n = 0;
    if (j->end > j->start)
        iov[n++] = (struct iovec){ j->buf + j->start, j->end - j->start };
    if (j->tail)
        iov[n++] = (struct iovec){ j->tail, direct ? REEL_IO_ALIGN : j->tail_len };
    return n ? pwritev_all(fd, iov, n, j->off + j->start) : 0;
}

static void *writer_main(void *arg)
{
    struct reel_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (!s->wq) {
            if (s->wstop)
                break;
            pthread_cond_wait(&s->wcond, &s->mu);
            continue;
        }
        struct reel_wjob *j = s->wq;
        s->wq = j->next;
        if (!s->wq)
            s->wq_tail = NULL;
        if (j->release)
            s->wq_bytes -= REEL_BATCH_CAP;
        struct reel_rec *x = j->x;
        if (x->stalled) {
            list_append(&x->stalled, &x->stalled_tail, j); /* stays behind the stalled one */
            continue;
        }
        if (x->io_error) {
            job_done(s, j);
            continue;
        }
        int fd = x->fd;
        bool direct = x->direct;
        pthread_mutex_unlock(&s->mu);
        int e = job_write(fd, j, direct);
        if (e == -EINVAL && direct) {
            /* the device wants a larger alignment than ours: page cache from now on */
            int fl = fcntl(fd, F_GETFL);
            if (fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_DIRECT) == 0) {
                direct = false;
                e = job_write(fd, j, true);
            }
        }
        pthread_mutex_lock(&s->mu);
        if (!direct)
            x->direct = false;
        if (e == 0) {
            s->jobs++;
            s->direct_jobs += direct;
            if (j->data_end > x->written)
                x->written = j->data_end;
            uint64_t fend = j->tail ? j->off + j->end + (direct ? REEL_IO_ALIGN : j->tail_len) : j->off + j->end;
            if (fend > x->file_end)
                x->file_end = fend;
            job_done(s, j);
        } else if (e == -ENOSPC) {
            list_append(&x->stalled, &x->stalled_tail, j);
            s->nospace = true;
            pthread_cond_broadcast(&s->wdone);
        } else {
            reel__write_failed(s, x, e);
            job_done(s, j);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int reel__io_start(struct reel_store *s, struct reel_err *err)
{
    int e = pthread_create(&s->writer, NULL, writer_main, s);
    if (e)
        return reel_err_set(err, e, "cannot start the writer thread: %s", strerror(e));
    s->writer_running = true;
    return 0;
}

void reel__io_stop(struct reel_store *s)
{
    if (!s->writer_running)
        return;
    pthread_mutex_lock(&s->mu);
    s->wstop = true;
    pthread_cond_signal(&s->wcond);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
    s->writer_running = false;
    pthread_cond_broadcast(&s->wdone);
    reel__event(s, REEL_LOG_INFO, "writer: %" PRIu64 " writes (%" PRIu64 " direct), at most %zu MiB queued, "
                "at most %zu batch buffers", s->jobs, s->direct_jobs, s->wq_peak >> 20, s->nbufs_peak);
}

/* ---- disk full ---- */

static struct reel_rec *first_stalled(struct reel_store *s)
{
    for (struct reel_rec *x = s->recs; x; x = x->next)
        if (x->stalled)
            return x;
    return NULL;
}

void reel__io_nospace(struct reel_store *s)
{
    struct reel_rec *x = first_stalled(s);
    if (!x) {
        s->nospace = false;
        return;
    }
    int64_t dir_id = x->dir_id;
    pthread_mutex_unlock(&s->mu);
    unsigned n = 0;
    struct reel_err e2;
    int fr = reel_store_free_oldest(s, dir_id, 1, &n, &e2);
    pthread_mutex_lock(&s->mu);
    bool freed = fr == 0 && n > 0;
    const struct reel_dir_rt *d = reel__dir(s, dir_id);
    for (struct reel_rec *y = s->recs; y; y = y->next) {
        if (!y->stalled || y->dir_id != dir_id)
            continue;
        if (freed) {
            /* back at the head of the queue, in order, before y's newer jobs */
            *y->stalled_tail = s->wq;
            if (!s->wq)
                s->wq_tail = y->stalled_tail;
            s->wq = y->stalled;
            for (struct reel_wjob *j = y->stalled; j && j != *y->stalled_tail; j = j->next)
                if (j->release)
                    s->wq_bytes += REEL_BATCH_CAP;
        } else {
            if (!y->io_error) {
                y->io_error = true;
                y->nospace_dead = true;
                y->blen = y->bsent;
                reel__fmt(y->error, sizeof(y->error),
                          "storage dir %s: no space left and nothing left to delete; camera %" PRId64
                          " stops recording (committed footage kept)", d ? d->path : "?", y->camera_id);
                reel__event(s, REEL_LOG_ERROR, "%s", y->error);
            }
            while (y->stalled) {
                struct reel_wjob *j = y->stalled;
                y->stalled = j->next;
                job_done(s, j);
            }
        }
        y->stalled = NULL;
        y->stalled_tail = NULL;
    }
    pthread_cond_signal(&s->wcond);
    s->nospace = first_stalled(s) != NULL;
}

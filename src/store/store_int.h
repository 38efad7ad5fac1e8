/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Private to src/store: the store and run structures shared by store.c (the
 * database, recovery), writer.c (the recording path and the syncer) and
 * check.c. Not a contract for other modules.
 */
#ifndef REEL_STORE_STORE_INT_H
#define REEL_STORE_STORE_INT_H

#include <pthread.h>
#include <stdio.h>
#include <sqlite3.h>
#ifdef REEL_HAVE_IO_URING
#include <liburing.h>
#endif

#include "base/buf.h"
#include "db/db.h"
#include "store/index.h"
#include "store/store.h"

#define REEL_SCHEMA_VERSION REEL_DB_VERSION /* owned by src/db */
#define REEL_IDENTITY_FILE "reel-storage-id"
#define REEL_BATCH_CAP (256 * 1024)          /* one write per batch (a multiple of REEL_IO_ALIGN) */
#define REEL_IO_ALIGN 4096                   /* O_DIRECT offsets, lengths and buffer addresses */
#define REEL_IO_HELD_MAX 32                  /* full batches held while a file is being created */
#define REEL_IO_QUEUE_CAP (16 * 1024 * 1024) /* full batches queued for the writer before the loop waits */
#define REEL_IO_POOL_KEEP (REEL_IO_QUEUE_CAP / REEL_BATCH_CAP) /* free batch buffers kept for reuse */
#define REEL_IO_TAILS_KEEP 1024              /* free tail blocks kept for reuse */
#define REEL_IO_BATCH 32                     /* jobs per io_uring submission */
#define REEL_IO_GATHER_NS (10 * 1000 * 1000) /* how long the writer lets a batch gather */
#define REEL_IO_AHEAD (8u << 20)             /* O_DIRECT files: size set this far past the data */
#define REEL_INDEX_CAP (1024 * 1024)         /* index blob of one recording */
#define REEL_INDEX_ROTATE (512 * 1024)       /* rotate at the next key frame past this */
#define REEL_MAX_DIRS 64

struct reel_dir_rt {
    int64_t id;
    char path[4096];
    bool usable;
    char error[256];
};

/* One sample file, shared by the loop thread and the syncer under store->mu.
 * .state is the file's life (the syncer's side); in_use/closing/discard are
 * the loop's side. The object is linked in store->recs and freed only by the
 * syncer: once a closing recording's final state is committed, or once a
 * discarded (never used) one has been deleted. */
enum rec_state {
    REC_REQ,        /* wanted: syncer must insert the row and create the file */
    REC_PREP,       /* syncer is creating it */
    REC_READY,      /* row committed, file created, its name durable (fd valid) */
    REC_FAILED,     /* creation failed (error in .error); no row, no file */
};

struct reel_snap {                  /* a prefix of the recording that is write(2)'d */
    uint32_t frames;
    uint64_t bytes;
    size_t index_len;
    int64_t media_dur, wall_dur;
};

/* One write for the writer thread (io.c): bytes [start, end) of buf, then
 * tail (tail_len bytes of data, written as a whole REEL_IO_ALIGN block when
 * direct), at file offset off + start. */
struct reel_wjob {
    struct reel_wjob *next;
    struct reel_rec *x;
    uint8_t *buf;                   /* the batch buffer; owned by the job when release */
    size_t start, end;
    uint8_t *tail;                  /* NULL or an aligned zero-padded copy, owned */
    size_t tail_len;
    uint64_t off;                   /* file offset of buf[0] */
    uint64_t data_end;              /* file offset just past the job's real data */
    bool release;                   /* buf goes back to the pool once written */
};

struct reel_rec {
    struct reel_rec *next;          /* store->recs */
    enum rec_state state;
    bool in_use;                    /* the run writes (or wrote) frames into it */
    bool closing;                   /* the run is done with it */
    bool discard;                   /* never used: delete it */
    bool io_error;                  /* a write or fdatasync failed: nothing more is trusted */
    bool nospace_dead;              /* io_error because the disk is full with nothing to delete */
    bool direct;                    /* fd has O_DIRECT (io.c) */
    int err_no;
    char error[256];
    int64_t id, camera_id, dir_id;
    int fd;
    char path[4200];
    /* set when put in use */
    int64_t run_id, run_index, start90k, sample_entry_id;
    /* data path (io.c): the batch being filled holds file bytes [boff, boff + blen);
     * [0, bsent) of it are already in jobs */
    uint8_t *bbuf;                  /* NULL until the first byte; REEL_BATCH_CAP, aligned */
    size_t blen, bsent;
    uint64_t boff;
    struct reel_wjob *held, **held_tail;    /* full batches waiting for the file to exist */
    size_t nheld;
    struct reel_wjob *stalled, **stalled_tail; /* jobs set aside on ENOSPC, in order */
    unsigned inflight;              /* jobs made and not yet done (queued, held, stalled) */
    uint64_t written;               /* bytes written by finished jobs */
    uint64_t file_end;              /* the file's size (padding and size set ahead included) */
    uint64_t ahead;                 /* writer thread only: size set ahead of the data (io.c) */
    struct reel_index_enc idx;      /* complete frames (duration known) */
    uint64_t idx_bytes;             /* sum of their sizes */
    int64_t media_dur, wall_dur, corr;
    struct reel_snap good;          /* latest prefix of complete frames (appended) */
    struct reel_snap committed;     /* latest prefix in the database */
};

struct reel_store {
    struct reel_store_cfg cfg;
    char datadir[4096];
    const struct reel_clock *clock;
    sqlite3 *db;                    /* caller thread */
    sqlite3 *sdb;                   /* syncer thread */
    int lock_fd;
    struct reel_dir_rt dirs[REEL_MAX_DIRS];
    size_t ndirs;

    pthread_mutex_t mu;             /* everything below */
    pthread_cond_t cond;            /* wakes the syncer */
    pthread_cond_t done_cond;       /* syncer finished a cycle */
    bool syncer_running, stop, work;
    uint64_t ckpt_req, ckpt_done;  /* reel_store_sync() requests / served */
    uint64_t cycles;                /* syncer cycles completed */
    int64_t next_rec_id;            /* recording ids are given by the caller thread */
    struct reel_rec *recs;
    struct reel_run *runs;
    pthread_t syncer;
    /* the writer thread (io.c) */
    pthread_t writer;
    pthread_cond_t wcond;           /* wakes the writer */
    pthread_cond_t wdone;           /* a job finished or was set aside */
    bool writer_running, wstop;
    bool nospace;                   /* some recording has jobs set aside on ENOSPC */
    bool ring_ok;                   /* ring is set up: batches go through it */
#ifdef REEL_HAVE_IO_URING
    struct io_uring ring;           /* the writer thread's */
#endif
    int wurgent;                    /* threads waiting for the writer: no gathering */
    size_t wq_len;                  /* jobs in wq */
    struct reel_wjob *wq, **wq_tail;
    size_t wq_bytes;                /* full batches in wq */
    uint8_t *pool[REEL_IO_POOL_KEEP];
    size_t npool;
    uint8_t *tails[REEL_IO_TAILS_KEEP];
    size_t ntails;
    size_t nbufs, nbufs_peak;       /* batch buffers allocated (pool included) */
    size_t wq_peak;                 /* most bytes of full batches ever queued */
    uint64_t jobs, direct_jobs;     /* jobs written, of which with O_DIRECT */
    uint64_t batches;               /* writer batches (system calls with io_uring) */
};

struct reel_run {
    struct reel_run *next;          /* store->runs */
    struct reel_store *s;
    int64_t camera_id, dir_id;
    struct reel_rec *cur, *spare;
    int64_t run_id;                 /* id of the first recording */
    int64_t run_index;
    bool have_prev;
    int64_t prev_ts, prev_dur, prev_entry;
    uint32_t prev_size;
    bool prev_key;
    int64_t rec_start_ts;           /* media ts of cur's first frame */
    int64_t rec_limit90k;           /* media length after which cur rotates */
    int64_t run_wall90k, run_mono_ns, run_ts0;  /* anchors */
    int64_t next_start90k;          /* wall start of the next recording */
    int dead;                       /* 0, or the -errno every frame now gets */
    char dead_msg[256];
};

/* store.c */
/* vsnprintf into buf (always NUL-terminated, truncates); returns its result.
 * A function of our own so that truncation of long paths in messages is
 * deliberate and not a -Wformat-truncation error. */
int reel__fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The store's names for src/db's error helpers (one implementation, in db.c). */
static inline int reel__db_exec(sqlite3 *db, const char *sql, struct reel_err *err)
{
    return reel_db_exec(db, sql, err);
}
static inline int reel__db_err(sqlite3 *db, int rc, struct reel_err *err, const char *what)
{
    return reel_db_err(db, rc, err, what);
}
const struct reel_dir_rt *reel__dir(const struct reel_store *s, int64_t dir_id);
void reel__rec_path(const struct reel_store *s, int64_t dir_id, int64_t camera_id, int64_t rec_id,
                    char *buf, size_t cap);
int reel__fsync_dir(const char *path);
void reel__event(struct reel_store *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Deletes recordings crash-safely: rows -> garbage + deletions (one commit),
 * unlink, directory fsync, drop garbage. ids[] of n rows. reason NULL = no
 * deletion range recorded. */
int reel__delete_recordings(struct reel_store *s, sqlite3 *db, const int64_t *ids, size_t n,
                            const char *reason, struct reel_err *err);
int reel__collect_garbage(struct reel_store *s, sqlite3 *db, struct reel_err *err);
/* Calls cb for each sample file (hex-named, under <dir>/<camera id>/) that no
 * recording or garbage row knows; with remove, unlinks it (and fsyncs). */
int reel__scan_orphans(struct reel_store *s, sqlite3 *db, bool remove,
                       void (*cb)(void *opaque, const char *path), void *opaque, uint64_t *ret_n);
/* writer.c */
int reel__syncer_start(struct reel_store *s, struct reel_err *err);
void reel__syncer_stop(struct reel_store *s);
int reel__retention(struct reel_store *s, sqlite3 *db, struct reel_err *err);
/* A write into x failed with e (under s->mu): x is closed at its last checkpoint. */
void reel__write_failed(struct reel_store *s, struct reel_rec *x, int e);
/* io.c, all under s->mu */
/* A batch buffer from the pool or newly allocated (NULL: out of memory). May
 * wait (s->mu released) while the writer has REEL_IO_QUEUE_CAP queued. */
uint8_t *reel__io_buf_get(struct reel_store *s);
void reel__io_pool_free(struct reel_store *s);
/* Queues x's batch bytes not yet in a job; with release the buffer goes with
 * them and x starts a new batch at the next file offset. Before x's file
 * exists only full batches are queued (held); -EAGAIN when REEL_IO_HELD_MAX
 * are held, -ENOMEM. */
int reel__io_submit(struct reel_store *s, struct reel_rec *x, bool release);
/* x's file now exists (fd, direct set): its held batches go to the queue. */
void reel__io_ready(struct reel_store *s, struct reel_rec *x);
/* Someone starts (+1) or stops (-1) waiting for the writer: while anyone
 * waits it writes at once instead of gathering a batch. */
void reel__io_urgent(struct reel_store *s, int delta);
/* Frees a list of jobs that will never be written. */
void reel__io_free_list(struct reel_store *s, struct reel_wjob *j);
/* Unmaps a batch buffer (from reel__io_buf_get). NULL ok. */
void reel__io_buf_free(struct reel_store *s, uint8_t *p);
/* Disk full: frees the oldest recording of the first stalled recording's
 * directory (s->mu released meanwhile) and requeues that directory's stalled
 * jobs, or fails them when nothing is left to delete. Caller thread only. */
void reel__io_nospace(struct reel_store *s);
int reel__io_start(struct reel_store *s, struct reel_err *err);
void reel__io_stop(struct reel_store *s);

#endif

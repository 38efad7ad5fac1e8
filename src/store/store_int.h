/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Private to src/store: the store and run structures shared by store.c (the
 * database, recovery), run.c (the recording run), syncer.c (durability),
 * writer.c (the writer thread) and check.c. Not a contract for other modules.
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
/* per directory: free batch buffers kept for reuse, in bytes. Only buffers
 * that were once in flight together are kept, so a directory with few
 * cameras keeps few; one with hundreds of cameras has 20-60 MiB in flight
 * between fdatasyncs, and unmapping what returns past this cap made every
 * new batch fault its pages in again (a fifth of the loop's time at 768
 * cameras: BENCHMARKS.md, fourth session). */
#define REEL_IO_QUEUE_CAP (64 * 1024 * 1024)
#define REEL_IO_QUEUE_MAX (256u * 1024 * 1024) /* per directory: past this a run fails (disk too slow) */
#define REEL_IO_POOL_KEEP (REEL_IO_QUEUE_CAP / REEL_BATCH_CAP) /* free batch buffers kept for reuse */
#define REEL_STALL_NS (10 * REEL_NS_PER_SEC) /* default cfg.stall_ns */
#define REEL_CLOSE_WAIT_NS (10 * REEL_NS_PER_SEC) /* reel_store_close waits this long for each pipeline */
#define REEL_OUTAGE_QUEUE_MAX 4096          /* outage changes waiting for a commit */
#define REEL_ENTRIES_MAX 4096               /* sample entries known to the recorder */
#define REEL_IO_TAILS_KEEP 1024              /* free tail blocks kept for reuse */
#define REEL_IO_BATCH 32                     /* jobs per io_uring submission */
#define REEL_IO_GATHER_NS (10 * 1000 * 1000) /* how long the writer lets a batch gather */
#define REEL_IO_AHEAD (8u << 20)             /* O_DIRECT files: size set this far past the data */
#define REEL_INDEX_CAP (1024 * 1024)         /* index blob of one recording */
#define REEL_INDEX_ROTATE (512 * 1024)       /* rotate at the next key frame past this */
#define REEL_MAX_DIRS 64

struct reel_sdir;

struct reel_dir_rt {
    int64_t id;
    char path[4096];
    bool usable;
    char error[256];
    struct reel_sdir *sd;           /* RECORD mode, usable dirs: its pipeline */
};

/* One sample file, shared by the loop thread, the writer and the syncer of
 * its directory under sd->mu.
 * .state is the file's life (the syncer's side); in_use/closing/discard are
 * the loop's side. The object is linked in sd->recs and freed only by the
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

/* One write for the writer thread (writer.c): bytes [start, end) of buf, then
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
    struct reel_rec *next;          /* sd->recs */
    struct reel_sdir *sd;
    enum rec_state state;
    bool in_use;                    /* the run writes (or wrote) frames into it */
    bool closing;                   /* the run is done with it */
    bool discard;                   /* never used: delete it */
    bool io_error;                  /* a write or fdatasync failed: nothing more is trusted */
    bool nospace_dead;              /* io_error because the disk is full with nothing to delete */
    bool direct;                    /* fd has O_DIRECT (writer.c) */
    int err_no;
    char error[256];
    int64_t id, camera_id, dir_id;
    int fd;
    char path[4200];
    /* set when put in use */
    int64_t run_id, run_index, start90k, sample_entry_id;
    /* data path (writer.c): the batch being filled holds file bytes [boff, boff + blen);
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
    uint64_t ahead;                 /* writer thread only: size set ahead of the data (writer.c) */
    struct reel_index_enc idx;      /* complete frames (duration known) */
    uint64_t idx_bytes;             /* sum of their sizes */
    int64_t media_dur, wall_dur, corr;
    struct reel_snap good;          /* latest prefix of complete frames (appended) */
    struct reel_snap committed;     /* latest prefix in the database */
};

/* The writer thread of one storage directory (writer.c). Fields under the
 * directory's mutex (sd->mu) unless said otherwise. */
struct reel_writer {
    pthread_t thread;
    pthread_cond_t cond;            /* wakes the writer */
    pthread_cond_t done;            /* a job finished or was set aside */
    bool running, stop;
    bool ring_ok;                   /* ring is set up: batches go through it */
#ifdef REEL_HAVE_IO_URING
    struct io_uring ring;           /* the writer thread's */
#endif
    int urgent;                     /* threads waiting for the writer: no gathering */
    size_t q_len;                   /* jobs in q */
    struct reel_wjob *q, **q_tail;
    size_t q_bytes;                 /* full batches in q */
    size_t out;                     /* full batches made and not yet done (queued, held, set aside, in flight) */
    int64_t busy_since;             /* clock mono when the write in progress started; 0: none */
    uint8_t *pool[REEL_IO_POOL_KEEP];
    size_t npool;
    uint8_t *tails[REEL_IO_TAILS_KEEP];
    size_t ntails;
    size_t nbufs, nbufs_peak;       /* batch buffers allocated (pool included) */
    size_t q_peak;                  /* most bytes of full batches ever queued */
    uint64_t jobs, direct_jobs;     /* jobs written, of which with O_DIRECT */
    uint64_t batches;               /* writer batches (system calls with io_uring) */
};

/* Event retention's memory between retention passes of one syncer
 * (syncer.c; the syncer thread's own, like its connection). A full pass
 * checks every recording of the event-retention zone against the events;
 * the passes in between only the recordings that can have become deletable
 * since: those that ended before now - event_retain_seconds, and those
 * that crossed now - retain_seconds since the last full pass. */
#define REEL__EVRET_FULL_NS (600 * REEL_NS_PER_SEC)   /* a full pass at least this often */
struct reel_evret {
    int64_t full_ns;                /* clock mono of the last complete full pass; 0: none yet */
    int64_t full90k;                /* its wall time (90k) */
    int64_t maxdur90k;              /* the longest motion event of any camera then (90k) */
};

/* The syncer thread of one storage directory (syncer.c); under sd->mu. */
struct reel_syncer {
    pthread_t thread;
    pthread_cond_t cond;            /* wakes the syncer */
    pthread_cond_t done_cond;       /* the syncer finished a cycle */
    bool running, stop, work, exited;
    bool nospace;                   /* some recording has jobs set aside on ENOSPC */
    bool full_locked;               /* disk full with only evidence-locked footage left: said once */
    uint64_t ckpt_req, ckpt_done;   /* reel_store_sync() requests / served */
    uint64_t cycles;                /* cycles completed */
    int64_t busy_since;             /* clock mono when a disk operation in progress started; 0: none */
    sqlite3 *db;                    /* the syncer thread's own connection */
    struct reel_evret evret;        /* the syncer thread's own: event retention between passes */
};

/* The recording pipeline of one usable storage directory: its recordings,
 * its writer and its syncer, all under its own mutex, so that a directory
 * whose disk hangs stalls only the cameras recording to it. Allocated at
 * open in RECORD mode (reel_dir_rt.sd); freed at close, or left allocated
 * (leaked on purpose) when its threads do not stop in time. */
struct reel_sdir {
    struct reel_store *s;
    struct reel_dir_rt *d;
    pthread_mutex_t mu;             /* everything here and the recs' shared fields */
    struct reel_rec *recs;
    struct reel_writer w;
    struct reel_syncer y;
    bool stall_logged;              /* "not answering" reported for this spell */
};

/* A change to the outage table queued by the loop thread; written by the
 * next syncer that commits (syncer.c). */
struct reel_outage_op {
    int64_t camera_id;
    int64_t t90k;
    bool end;
    char reason[200];
};

/* A sample entry the recorder knows: ids come from the cache, and new ones
 * are inserted by a syncer in the same transaction as (or before) the first
 * recording that references them. */
struct reel_entry_rt {
    int64_t id;
    bool pending;                   /* not yet committed */
    uint16_t width, height;
    char codec_string[48];
    uint8_t *data;
    size_t len;
};

struct reel_store {
    struct reel_store_cfg cfg;
    char datadir[4096];
    const struct reel_clock *clock;
    sqlite3 *db;                    /* caller thread */
    int lock_fd;
    struct reel_dir_rt dirs[REEL_MAX_DIRS];
    size_t ndirs;
    int64_t next_rec_id;            /* recording ids are given by the caller thread */
    bool recording;                 /* RECORD mode and the pipelines started */
    bool abandoned;                 /* a pipeline did not stop at close: s is left allocated */

    struct reel_hasher *hasher;     /* RECORD mode: hashes closed recordings (hasher.c) */
    pthread_mutex_t mu;             /* the runs list, the outage queue, the sample entries */
    struct reel_run *runs;
    struct reel_outage_op *outages; /* FIFO, at most REEL_OUTAGE_QUEUE_MAX */
    size_t noutages;
    bool outages_busy;              /* a syncer is writing the first outages_taken */
    size_t outages_taken;
    struct reel_entry_rt *entries;
    size_t nentries, aentries;
    int64_t next_entry_id;
    size_t npending_entries;

    /* issue 15 (trouble.c): when each camera's blocking locks were last
     * looked for / told about; a small table, the oldest entry reused */
    pthread_mutex_t trouble_mu;
    struct reel_lock_said {
        int64_t camera_id, next_ns;
    } lock_said[64];
};

struct reel_run {
    struct reel_run *next;          /* store->runs (under s->mu) */
    struct reel_store *s;
    struct reel_sdir *sd;           /* its directory's pipeline */
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
/* Issue 15 (trouble.c): tells cfg.on_trouble (if any). */
void reel__trouble(struct reel_store *s, enum reel_store_trouble_kind kind, int64_t camera_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Whether retention should look for camera_id's locked footage past its
 * age limit now (at most every REEL_LOCK_CHECK_NS, every hour once told);
 * told: it was found and reported. Any thread (s->trouble_mu). */
bool reel__lock_check_due(struct reel_store *s, int64_t camera_id, int64_t now_ns);
void reel__lock_checked(struct reel_store *s, int64_t camera_id, int64_t now_ns, bool told);
/* SQL: whether recording R (a table alias) overlaps an evidence lock active
 * at NOW (an expression in ns, e.g. a parameter) on its camera or on the
 * camera it is a stream of (store/locks.h). */
#define REEL__LOCKED_SQL(R, NOW)                                                                                  \
    "EXISTS (SELECT 1 FROM evidence_lock_camera lc JOIN evidence_lock l ON l.id = lc.lock_id "                   \
    "WHERE lc.camera_id IN (" R ".camera_id, (SELECT parent_id FROM camera WHERE id = " R ".camera_id)) "          \
    "AND (l.expires_ns = 0 OR l.expires_ns > " NOW ") AND l.start90k < " R ".start90k + " R ".wall_duration90k " \
    "AND l.end90k > " R ".start90k)"
/* SQL: whether recording R is held by event retention (issue 15: motion
 * events, from the detector or ONVIF; docs/motion.md), with the
 * retention query's parameters: ?6 the camera keeps event footage longer
 * (0/1), ?7 the oldest end90k it keeps (now - event_retain_seconds), ?9 the
 * camera whose events count (the main camera of a stream), ?10/?11 pre and
 * post roll (90k), ?12 its longest event (90k, bounds the index range),
 * ?13 now (90k; an open event lasts until now). */
#define REEL__EVENT_KEPT_SQL(R)                                                                                   \
    "(?6 <> 0 AND " R ".start90k + " R ".wall_duration90k >= ?7 AND EXISTS (SELECT 1 FROM event e "                \
    "WHERE e.camera_id = ?9 AND e.kind = 'motion' "                                                              \
    "AND e.start90k < " R ".start90k + " R ".wall_duration90k + ?10 "                                              \
    "AND e.start90k >= " R ".start90k - ?11 - ?12 AND COALESCE(e.end90k, ?13) + ?11 > " R ".start90k))"
/* SQL: the retention cap in seconds (0 = none), from table setting. */
#define REEL__CAP_SECONDS_SQL                                                                                     \
    "(COALESCE((SELECT CAST(value AS INTEGER) FROM setting WHERE key = 'retention.max_days'), 0) * 86400)"
/* Deletes recordings crash-safely: rows -> garbage + deletions (one commit),
 * unlink, directory fsync, drop garbage. ids[] of n rows. reason NULL = no
 * deletion range recorded. */
int reel__delete_recordings(struct reel_store *s, sqlite3 *db, const int64_t *ids, size_t n,
                            const char *reason, struct reel_err *err);
/* Unlinks the files of garbage rows (of storage dir dir_id only, or of every
 * usable one when dir_id < 0), fsyncs their directories, drops the rows. */
int reel__collect_garbage(struct reel_store *s, sqlite3 *db, int64_t dir_id, struct reel_err *err);
/* Writes the queued outage changes in the transaction open on db (syncer.c
 * and reel_store_close); ret_n: how many were taken (0: none or another
 * syncer has them). reel__outages_done() then drops them (ok) or keeps them. */
int reel__outages_write(struct reel_store *s, sqlite3 *db, size_t *ret_n);
void reel__outages_done(struct reel_store *s, size_t n, bool ok);
/* The same for sample entries not yet committed: inserted (INSERT OR IGNORE)
 * in the transaction open on db; *ret_max = the highest id written. */
int reel__entries_write(struct reel_store *s, sqlite3 *db, int64_t *ret_max);
void reel__entries_done(struct reel_store *s, int64_t max_id);
/* Whether the recorder knows sample entry id (committed or pending). */
bool reel__entry_known(struct reel_store *s, int64_t id);
/* Waits on cond for at most rel_ns of real time; 0 when woken, ETIMEDOUT. */
int reel__cond_wait_rel(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t rel_ns);
/* Opens the db connection a syncer uses. */
int reel__open_db(const char *datadir, sqlite3 **ret, struct reel_err *err);
/* Calls cb for each sample file (hex-named, under <dir>/<camera id>/) that no
 * recording or garbage row knows; with remove, unlinks it (and fsyncs). */
int reel__scan_orphans(struct reel_store *s, sqlite3 *db, bool remove,
                       void (*cb)(void *opaque, const char *path), void *opaque, uint64_t *ret_n);
/* run.c (recordings: under sd->mu) */
struct reel_rec *reel__rec_new(struct reel_sdir *sd, int64_t camera_id);
/* Frees x; returns its fd (or -1) for the caller to close once sd->mu is
 * released (close() of a file on a hung FUSE/NFS mount can block). */
int reel__rec_free(struct reel_sdir *sd, struct reel_rec *x);
void reel__rec_unlink(struct reel_sdir *sd, struct reel_rec *x);
/* A write into x failed with e (under sd->mu): x is closed at its last checkpoint. */
void reel__rec_write_failed(struct reel_sdir *sd, struct reel_rec *x, int e);
/* syncer.c */
/* Starts the writer and the syncer of every usable storage directory. A
 * directory whose threads cannot start is marked unusable (with an error);
 * returns < 0 only for the store as a whole (out of memory). */
int reel__pipelines_start(struct reel_store *s, struct reel_err *err);
/* Makes everything durable and stops the threads, waiting at most
 * REEL_CLOSE_WAIT_NS for a directory that does not answer (then reports what
 * was not made durable and leaves its pipeline allocated). */
void reel__pipelines_stop(struct reel_store *s);
/* Retention for the cameras of storage dir dir_id (< 0: all). ev: event
 * retention's state between passes (NULL: every pass full). */
int reel__retention(struct reel_store *s, sqlite3 *db, int64_t dir_id, struct reel_evret *ev, struct reel_err *err);
/* Bytes and recordings of dir_id held by active evidence locks (syncer.c). */
int reel__dir_locked(struct reel_store *s, sqlite3 *db, int64_t dir_id, int64_t *ret_bytes, int64_t *ret_n,
                     struct reel_err *err);
/* Frees the oldest closed recordings of dir_id (see reel_store_free_oldest) on db. */
int reel__free_oldest(struct reel_store *s, sqlite3 *db, int64_t dir_id, unsigned max, unsigned *ret_deleted,
                      struct reel_err *err);
/* Why sd cannot take frames now ("" when it can): its disk has not answered
 * for REEL_STALL_NS, or REEL_IO_QUEUE_MAX is queued. Under sd->mu; now from
 * the store's clock. */
const char *reel__sdir_stalled(struct reel_sdir *sd, int64_t now, char *buf, size_t cap);
/* hasher.c: the thread that hashes closed recordings (RECORD mode) */
int reel__hasher_start(struct reel_store *s, struct reel_err *err);
/* BLAKE2b-256 of the first bytes of path, read through buf (REEL_HASH_BUF
 * bytes). 0, or -errno with msg (-ENOENT: no such file). */
#define REEL_HASH_BUF (1u << 20)
int reel__hash_file(const char *path, uint64_t bytes, uint8_t *buf, uint8_t out[32], char *msg, size_t cap);
/* Wakes it now (a recording closed). Any thread. */
void reel__hasher_wake(struct reel_store *s);
/* Stops it (waits REEL_CLOSE_WAIT_NS at most); false when it did not stop. */
bool reel__hasher_stop(struct reel_store *s);
/* writer.c, all under sd->mu */
/* A batch buffer from the pool or newly allocated (NULL: out of memory).
 * Never waits. */
uint8_t *reel__writer_buf_get(struct reel_sdir *sd);
void reel__writer_pool_free(struct reel_sdir *sd);
/* Queues x's batch bytes not yet in a job; with release the buffer goes with
 * them and x starts a new batch at the next file offset. Before x's file
 * exists only full batches are queued (held); -EAGAIN when REEL_IO_HELD_MAX
 * are held, -ENOMEM. */
int reel__writer_submit(struct reel_sdir *sd, struct reel_rec *x, bool release);
/* x's file now exists (fd, direct set): its held batches go to the queue. */
void reel__writer_ready(struct reel_sdir *sd, struct reel_rec *x);
/* Someone starts (+1) or stops (-1) waiting for the writer: while anyone
 * waits it writes at once instead of gathering a batch. */
void reel__writer_urgent(struct reel_sdir *sd, int delta);
/* Frees a list of jobs that will never be written. */
void reel__writer_free_jobs(struct reel_sdir *sd, struct reel_wjob *j);
/* Unmaps a batch buffer (from reel__writer_buf_get). NULL ok. */
void reel__writer_buf_free(struct reel_sdir *sd, uint8_t *p);
/* Disk full, on the syncer thread: frees the oldest recording of the
 * directory (sd->mu released meanwhile, on the syncer's connection) and
 * requeues the set-aside jobs, or fails them when nothing is left to delete. */
void reel__writer_nospace(struct reel_sdir *sd);
int reel__writer_start(struct reel_sdir *sd, struct reel_err *err);
/* Stops the writer once its queue is empty; waits until deadline_real_ns
 * (absolute CLOCK_REALTIME, as pthread_timedjoin_np wants; INT64_MAX: no
 * limit); false when the thread did not stop (stuck in a write). */
bool reel__writer_stop(struct reel_sdir *sd, int64_t deadline_real_ns);

#endif

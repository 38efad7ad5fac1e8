/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store: an SQLite database (WAL) holding cameras, storage directories,
 * recordings with their compact per-frame index, outages and retention, plus
 * one or more storage directories holding the sample files (the concatenated
 * frames of one recording, exactly an MP4 'mdat' body: length-prefixed NAL
 * units). See docs/storage.md for the on-disk format and the fsync protocol.
 *
 * Threads: a store opened for recording (REEL_STORE_RECORD) is driven by one
 * caller thread (the event loop) through the reel_run_* functions, the
 * outage and the sample entry functions; those never call fsync, never
 * commit to SQLite and never wait for a disk. Each usable storage directory
 * has its own writer thread (sample-file writes) and syncer thread (the
 * durability work: fdatasync of sample files, directory fsync, the
 * checkpoint transaction with queued outages and new sample entries,
 * retention, deletion, freeing space on a full disk), so a directory whose
 * disk hangs stalls only the cameras recording to it. All other functions
 * are for the caller thread only.
 *
 * Times: "90k" values are 90 kHz units since the Unix epoch (wall time) or,
 * for media timestamps, the stream's unwrapped RTP clock.
 */
#ifndef REEL_STORE_STORE_H
#define REEL_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"

struct reel_store;
struct reel_run;

/* A recording's committed state, as told to cfg.on_recording. */
struct reel_recording_event {
    int64_t camera_id, recording_id, run_id;
    int64_t start90k, wall_duration90k;  /* committed so far */
    uint32_t frames;
    uint64_t bytes;
    bool closed;
};

/* Issue 15: trouble the store tells cfg.on_trouble about, for the event
 * bus (src/events/events.h; the store does not depend on it). */
enum reel_store_trouble_kind {
    REEL_STORE_TROUBLE_WRITE = 0,  /* "storage.error": a sample file's write, sync or create failed,
                                    * or a storage dir stopped answering */
    REEL_STORE_TROUBLE_NO_ROOM,    /* "retention.blocked": a full disk and nothing it may delete */
    REEL_STORE_TROUBLE_LOCKS,      /* "lock.blocking": evidence locks hold a camera's footage past its
                                    * age limit (told at most once per camera per hour) */
};
struct reel_store_trouble {
    enum reel_store_trouble_kind kind;
    int64_t camera_id;              /* 0: a storage dir's or the site's */
    const char *detail;             /* one line; valid during the call */
};

#define REEL_NAME_MAX 72          /* 63 characters, plus "~audio" for a stream row */
#define REEL_URL_MAX 1024

enum reel_store_mode {
    REEL_STORE_READ = 0,     /* read-only: export, status, check (no repair) */
    REEL_STORE_ADMIN = 1,    /* camera/storage changes, check --repair */
    REEL_STORE_RECORD = 2,   /* the daemon: runs recovery at open and the syncer */
};

struct reel_store_cfg {
    const char *datadir;            /* holds reel.db and the default storage dir */
    enum reel_store_mode mode;
    const struct reel_clock *clock; /* NULL = system clock */
    int64_t checkpoint_ns;          /* durability interval; 0 = 1 s */
    int64_t rotate_ns;              /* nominal recording length; 0 = 60 s */
    int64_t stall_ns;               /* a storage dir whose write or sync waits this long is
                                     * "not answering" (its runs fail); 0 = 10 s */
    bool buffered_io;               /* sample files through the page cache, never O_DIRECT */
    bool no_io_uring;               /* one pwritev per write, never io_uring */
    /* Called from the syncer thread for each problem it meets (one line of
     * text, e.g. "storage dir /x: write failed: No space left on device;
     * deleted 3 oldest recordings"); may be NULL. Must be thread safe. */
    void (*on_event)(void *opaque, int level /* enum reel_log_level */, const char *line);
    /* Called on a syncer thread after each commit that makes a recording's
     * frames durable (closed = its last commit); must be thread safe and must
     * not block. May be NULL. */
    void (*on_recording)(void *opaque, const struct reel_recording_event *ev);
    /* Issue 15: called from the store's threads (syncer, writer, the
     * caller's for a failed run write) for each trouble an operator must
     * hear about, besides on_event's line; must be thread safe and must not
     * block. May be NULL. */
    void (*on_trouble)(void *opaque, const struct reel_store_trouble *t);
    void *opaque;
};

/* Creates datadir, reel.db (schema) and datadir/storage as the first storage
 * directory with its identity file. -EEXIST if already initialised. */
int reel_store_init(const char *datadir, struct reel_err *err);

/* Opens an initialised data directory. In RECORD mode also: takes an
 * exclusive lock (a second recorder gets -EBUSY), verifies each storage
 * directory's identity file (a missing or foreign one marks that directory
 * unusable, with an error, rather than recording into an empty mount point),
 * runs start-up recovery (see docs/storage.md) and starts the syncer thread.
 * *ret owned by the caller: reel_store_close(). */
int reel_store_open(struct reel_store **ret, const struct reel_store_cfg *cfg, struct reel_err *err);
/* Closes open runs' recordings durably, stops the syncers and writers,
 * closes the db. Waits at most about 10 s for a directory whose disk does not
 * answer, then reports (on_event) what was not made durable and returns,
 * leaving that directory's threads and the store's memory behind. NULL ok. */
void reel_store_close(struct reel_store *s);

/* ---- storage directories ---- */
struct reel_storage_dir {
    int64_t id;
    char path[4096];
    bool usable;                    /* identity verified (RECORD/ADMIN mode) */
    char error[256];                /* why it is not usable ("" when usable) */
};
/* Adds a storage directory (created if missing) and writes its identity file.
 * ADMIN mode only (-EPERM otherwise). */
int reel_store_dir_add(struct reel_store *s, const char *path, int64_t *ret_id, struct reel_err *err);
/* *ret is malloc'd (free()), one entry per storage dir, with its usability. */
int reel_store_dir_list(struct reel_store *s, struct reel_storage_dir **ret, size_t *ret_n, struct reel_err *err);

/* ---- cameras ---- */
enum reel_stream_kind { REEL_STREAM_MAIN = 0, REEL_STREAM_SUB = 1, REEL_STREAM_AUDIO = 2 };
/* "main", "sub", "audio"; NULL for anything else. */
const char *reel_stream_kind_name(enum reel_stream_kind k);
/* -1 for an unknown name. */
int reel_stream_kind_parse(const char *name);
struct reel_camera {
    int64_t id;
    char name[REEL_NAME_MAX];       /* [A-Za-z0-9_-]{1,63} */
    char url[REEL_URL_MAX];         /* rtsp://host[:port]/path, no userinfo */
    char user[128];
    bool has_password;
    bool udp;                       /* RTP over UDP instead of TCP interleaved */
    int64_t retain_bytes;           /* 0 = no byte limit */
    int64_t retain_seconds;         /* 0 = no age limit */
    int64_t dir_id;                 /* storage directory; 0 = the first one */
    bool disabled;                  /* kept, not recorded (zero = enabled) */
    /* A camera's other streams are rows of their own, linked to it: a
     * sub-stream (its own URL, usually low resolution, own retention) and
     * the main stream's audio. Such a row is named "<camera>~sub" or
     * "<camera>~audio" ('~' is outside the characters of a camera name) and
     * records, retains and plays back like any camera. */
    int64_t parent_id;              /* 0 = a camera (its main stream); else the camera it belongs to */
    enum reel_stream_kind kind;     /* REEL_STREAM_MAIN exactly when parent_id == 0 */
    bool audio;                     /* main rows: record the camera's audio (off by default) */
    /* Hostile-camera guards (docs/security.md), off by default: follow a
     * redirect to another host (never with credentials), and send the
     * password in Basic after the camera has offered Digest. */
    bool allow_redirect;
    bool allow_basic;
};
/* Adds a camera (cam->id ignored; set on return). password may be NULL.
 * -EEXIST for a duplicate name or a second stream of one kind, -EINVAL for a
 * bad name/URL; a stream row's parent must be a camera (not a stream) and
 * its name "<that camera>~<kind>" (reel_store_camera_stream() does this). */
int reel_store_camera_add(struct reel_store *s, struct reel_camera *cam, const char *password,
                          struct reel_err *err);
/* Updates url/user/udp/retention/dir of an existing camera (by id); password
 * NULL keeps the stored one. */
int reel_store_camera_update(struct reel_store *s, const struct reel_camera *cam,
                             const char *password, struct reel_err *err);
/* Removes a camera or a stream row; with delete_footage its recordings are
 * deleted (crash safe), otherwise -EBUSY when it has recordings. A camera
 * that still has stream rows is refused with -ENOTEMPTY: remove its streams
 * first (each with this function). */
int reel_store_camera_remove(struct reel_store *s, const char *name, bool delete_footage,
                             struct reel_err *err);
/* Finds camera parent_id's stream row of that kind (REEL_STREAM_SUB or
 * REEL_STREAM_AUDIO); with create, inserts it when absent, named
 * "<camera>~<kind>", copying user, password, udp, dir, retention and enabled
 * from the camera (the caller then changes what differs, e.g. the URL, with
 * reel_store_camera_update). -ENOENT when absent and !create (or no camera
 * parent_id); -EINVAL for REEL_STREAM_MAIN or when parent_id is itself a
 * stream row. (src/store/stream.c) */
int reel_store_camera_stream(struct reel_store *s, int64_t parent_id, enum reel_stream_kind kind, bool create,
                             struct reel_camera *ret, struct reel_err *err);
/* Every row, cameras and their stream rows alike (callers filter on
 * parent_id). *ret is malloc'd, caller frees. */
int reel_store_camera_list(struct reel_store *s, struct reel_camera **ret, size_t *ret_n,
                           struct reel_err *err);
int reel_store_camera_get(struct reel_store *s, const char *name, struct reel_camera *ret,
                          struct reel_err *err);
/* Copies the stored password (NUL-terminated) into buf. Only the recorder
 * needs this; it is never printed. -ENOENT when none. */
int reel_store_camera_password(struct reel_store *s, int64_t camera_id, char *buf, size_t cap);

/* ---- sample entries (opaque 'avc1'/'hvc1' boxes, deduplicated) ----
 * In RECORD mode put gives a new entry its id from memory at once; its row is
 * inserted by a syncer no later than the first recording that references it
 * (reel_store_sync() to wait for it). */
struct reel_sample_entry {
    int64_t id;
    uint16_t width, height;
    char codec_string[48];
    uint8_t *data;                  /* malloc'd box bytes */
    size_t len;
};
int reel_store_sample_entry_put(struct reel_store *s, const uint8_t *box, size_t len,
                                uint16_t width, uint16_t height, const char *codec_string,
                                int64_t *ret_id, struct reel_err *err);
/* Fills ret; caller frees ret->data. */
int reel_store_sample_entry_get(struct reel_store *s, int64_t id, struct reel_sample_entry *ret,
                                struct reel_err *err);

/* ---- recording (RECORD mode, caller thread) ----
 * A run is one unbroken connection of one camera. Frames go in decode order;
 * the first frame of a run must be a key frame. The store cuts the run into
 * recordings of about rotate_ns, each starting at a key frame, staggered
 * across cameras, and always at a change of sample entry. A frame's duration
 * is the difference of consecutive ts90k values (media clock); wall time is
 * anchored to the monotonic clock at the run's first frame and may drift
 * from media time by at most 500 ppm; the correction applied is kept per
 * recording. Frames are written in batches; every checkpoint the syncer makes
 * everything appended so far (but the last frame, whose duration is not yet
 * known) durable and visible in the index. */
struct reel_frame_in {
    const uint8_t *data;            /* length-prefixed NAL units */
    size_t len;
    int64_t ts90k;                  /* media timestamp, unwrapped, increasing */
    bool key;
    int64_t sample_entry_id;
};
/* Starts a run for a camera. -EBUSY when the camera already has a live run,
 * -EIO when its storage dir is unusable (identity file missing or foreign,
 * its threads not started) or does not answer ("storage stalled: ..."),
 * -EPERM unless the store is in RECORD mode. *ret owned by the caller:
 * reel_run_close(). */
int reel_run_open(struct reel_store *s, int64_t camera_id, struct reel_run **ret, struct reel_err *err);
/* -EINVAL for a non-key first frame, a timestamp that does not increase, a
 * gap longer than INT32_MAX ticks, or a sample entry change on a non-key
 * frame (the caller decides: drop it, or end the run); -ENOSPC/-EIO when the
 * storage cannot take it: the run is then closed and freed (what was
 * committed is kept; err says why): do not use r again, not even for
 * reel_run_close(); open a new run.
 * f->data is copied (or written) before the call returns. */
int reel_run_frame(struct reel_run *r, const struct reel_frame_in *f, struct reel_err *err);
/* Ends the run: the last frame gets the previous frame's duration; the final
 * recording is made durable asynchronously by the syncer. r is freed. NULL ok.
 * reel_store_close() closes runs still open: r must not be used after it. */
void reel_run_close(struct reel_run *r);
/* A storage directory that does not answer (a write or sync pending for stall_ns,
 * or 256 MiB waiting to be written) never makes reel_run_frame wait: the run
 * fails with -EIO and "storage stalled: /path not answering ...", and
 * reel_run_open fails the same way until the directory answers again. */

/* Makes everything appended so far durable now: wakes every syncer for a full
 * cycle (file creation, write of pending batches, fdatasync, checkpoint
 * commit, deletion of discarded files, retention) and waits for it, on
 * every storage directory (one that does not answer included: no bound).
 * Used by tests; the daemon never needs it. RECORD mode only. */
int reel_store_sync(struct reel_store *s, struct reel_err *err);
/* The same, waiting at most timeout_ns (< 0: no bound) for all directories
 * together: -ETIMEDOUT names the first directory not done by then (its
 * cycle goes on; nothing is lost by giving up the wait). */
int reel_store_sync_within(struct reel_store *s, int64_t timeout_ns, struct reel_err *err);

/* Frees space in storage directory dir_id: deletes up to max of its oldest
 * closed recordings (any camera; never an open one), crash-safely, recording
 * each range in deletions as "deleted: disk full" and reporting each through
 * on_event. *ret_deleted (may be NULL) = how many were deleted; 0 means
 * nothing is left to delete. The recorder does the same on the directory's
 * syncer thread when a write fails with ENOSPC; this call is for tools. */
int reel_store_free_oldest(struct reel_store *s, int64_t dir_id, unsigned max, unsigned *ret_deleted,
                           struct reel_err *err);

/* Runs retention now (what the syncer does after each checkpoint): for each
 * camera, deletes its oldest closed recordings while its bytes exceed
 * retain_bytes or they end before now - retain_seconds. */
int reel_store_retention(struct reel_store *s, struct reel_err *err);

/* ---- outages: why footage is missing ---- */
/* Opens (or updates the reason of) the camera's open outage starting at
 * start90k; reason is one short line ("connection refused", "auth failed",
 * "stalled: no frame for 10 s"). In RECORD mode both calls only queue the
 * change (at most 4096 waiting: -ENOSPC past that); a syncer writes it in
 * its next checkpoint transaction (reel_store_sync() to wait for it). */
int reel_store_outage_begin(struct reel_store *s, int64_t camera_id, int64_t start90k,
                            const char *reason, struct reel_err *err);
int reel_store_outage_end(struct reel_store *s, int64_t camera_id, int64_t end90k,
                          struct reel_err *err);

/* ---- live status: held in memory by the recorder (src/hub), read by `reel status`
 * over the control socket and by the web API; never stored ---- */
struct reel_camera_status {
    int64_t camera_id;
    bool connected;
    char state[64];                 /* "recording", "connecting", "backoff" ... */
    char last_error[256];
    double fps;
    double bitrate_bps;
    uint64_t udp_foreign;           /* UDP packets dropped: not from the camera's address and ports */
    int64_t updated90k;
};

/* ---- reading recordings ---- */
struct reel_recording {
    int64_t id;
    int64_t camera_id;
    int64_t run_id;                 /* recordings of one run are contiguous */
    int64_t start90k;               /* wall time of the first frame */
    int64_t wall_duration90k;
    int64_t media_duration90k;
    int64_t sample_entry_id;
    uint32_t frames;
    uint64_t bytes;
    bool open;                      /* still being written (committed part only) */
    char path[4200];                /* the sample file */
    /* BLAKE2b-256 of the sample file, stored when it closed; hash_len 0
     * when it has none (open, not hashed yet, or closed before hashing) */
    uint8_t blake2b[32];
    size_t hash_len;
    uint8_t *index;                 /* encoded frame index, malloc'd */
    size_t index_len;
};
/* Recordings of a camera overlapping [from90k, to90k), oldest first. *ret is
 * malloc'd; free with reel_recordings_free(). */
int reel_store_recordings(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                          struct reel_recording **ret, size_t *ret_n, struct reel_err *err);
void reel_recordings_free(struct reel_recording *r, size_t n);

/* Totals for status: bytes and seconds (wall) kept for a camera. */
int reel_store_camera_usage(struct reel_store *s, int64_t camera_id, int64_t *ret_bytes,
                            int64_t *ret_duration90k, int64_t *ret_oldest90k, struct reel_err *err);

/* Gaps: outages and deletions overlapping a range. */
struct reel_gap {
    int64_t start90k, end90k;       /* end90k = -1: still open */
    char reason[256];
};
int reel_store_gaps(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                    struct reel_gap **ret, size_t *ret_n, struct reel_err *err);

/* ---- check ---- */
enum { REEL_CHECK_HASH = 1, REEL_CHECK_REPAIR = 2 };
struct reel_check_report {
    uint64_t recordings, files, bytes;
    uint64_t problems;              /* each one reported through cb */
    uint64_t repaired;
    /* REEL_CHECK_HASH: closed recordings whose file matched the BLAKE2b in
     * the index, those not hashed yet (the recorder hashes each within
     * seconds of its close), those closed before Reel hashed recordings */
    uint64_t hash_ok, hash_pending, hash_none;
};
/* What to check: one camera's recordings overlapping [from90k, to90k). */
struct reel_check_scope {
    int64_t camera_id;
    int64_t from90k, to90k;
};
/* Verifies the index against the files: every recording's file present, its
 * size at least the committed bytes, the index decodes to exactly frames
 * entries summing to bytes and media_duration; with REEL_CHECK_HASH every
 * frame parses as length-prefixed NAL units; files no recording knows.
 * Changes nothing unless REEL_CHECK_REPAIR. Each problem is one line to cb. */
int reel_store_check(struct reel_store *s, int flags, void (*cb)(void *opaque, const char *line),
                     void *opaque, struct reel_check_report *ret, struct reel_err *err);
/* The same for scope's recordings only (NULL = all); with a scope no orphan
 * files are looked for. With REEL_CHECK_HASH each closed recording's sample
 * file is also hashed (BLAKE2b-256 of its committed bytes) and compared with
 * the hash the recorder stored when it closed: a mismatch is one problem
 * line naming the recording, its camera and start. */
int reel_store_check_scope(struct reel_store *s, int flags, const struct reel_check_scope *scope,
                           void (*cb)(void *opaque, const char *line), void *opaque,
                           struct reel_check_report *ret, struct reel_err *err);

/* ---- narrow queries for readers (src/store/query.c) ----
 * What the HTTP API and the commands need without reading index blobs, and a
 * read snapshot so that several queries see one state of the database. A
 * database error is always returned as such (a negative errno other than
 * -ENOENT, the message naming SQLite's error), never as a short result. */

/* One recording as a span of time: no index, no path. */
struct reel_span {
    int64_t id;
    int64_t run_id;                 /* recordings of one run are contiguous */
    int64_t start90k;               /* wall time of the first frame */
    int64_t wall_duration90k;
    int64_t sample_entry_id;
    uint32_t frames;
    uint64_t bytes;
    bool open;                      /* still being written (committed part only) */
};
/* The recordings of a camera overlapping [from90k, to90k) (those with at
 * least one committed frame), oldest first: the same rows as
 * reel_store_recordings() without the index blobs. *ret malloc'd (free());
 * NULL with *ret_n 0 when none. At most 1,000,000 rows (-EFBIG beyond). */
int reel_store_spans(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                     struct reel_span **ret, size_t *ret_n, struct reel_err *err);

/* Calls cb for each recording of camera_id starting at or after from90k
 * (open ones and those without frames included), by start: for a cache of
 * spans (src/http/tlcache.c) that reads only what is new. A negative cb
 * return stops the scan and is returned. */
int reel_store_span_scan(struct reel_store *s, int64_t camera_id, int64_t from90k,
                         int (*cb)(void *opaque, const struct reel_span *x), void *opaque, struct reel_err *err);
/* A number that changes whenever a row of the deletion table is added,
 * removed or extended (count, largest id and a sum of the ends): a reader
 * caching spans re-reads the deletions only when it changes. */
int reel_store_deletions_sig(struct reel_store *s, int64_t *ret, struct reel_err *err);
/* Every deleted range of every camera (retention, disk full: the store
 * extends a row when the next deleted recording is contiguous, so there are
 * few). *ret malloc'd (free()); -EFBIG beyond 1,000,000 rows. */
struct reel_deletion {
    int64_t camera_id, start90k, end90k;
};
int reel_store_deletions(struct reel_store *s, struct reel_deletion **ret, size_t *ret_n, struct reel_err *err);

/* At most max of the recordings reel_store_spans() returns (the oldest
 * first), but for those ending within 1 ms after from90k: a page (the next
 * one asked from the last one's end, in ms, does not repeat it). *ret malloc'd (free(); non-NULL even when none). max in
 * 1..1,000,000 (-EINVAL). */
int reel_store_spans_page(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k, size_t max,
                          struct reel_span **ret, size_t *ret_n, struct reel_err *err);
/* One recording by id, with its index and path (whatever its camera: the
 * caller checks ret->camera_id). -ENOENT when there is none; free ret->index. */
int reel_store_recording_get(struct reel_store *s, int64_t id, struct reel_recording *ret, struct reel_err *err);
/* 0 when some recording of camera_id uses sample entry entry_id, -ENOENT
 * when none does. */
int reel_store_camera_used_entry(struct reel_store *s, int64_t camera_id, int64_t entry_id, struct reel_err *err);

#define REEL_ETAG_MAX 40            /* a quote, 32 hex digits, a quote, NUL (with room) */
struct reel_view_tag {
    char etag[REEL_ETAG_MAX];       /* strong entity tag, quoted: "<32 hex digits>" */
    size_t recordings;              /* how many recordings the range covers (0: no footage) */
    int64_t last90k;                /* latest end of them (for Last-Modified); 0 when none */
};
/* A strong ETag for the MP4 of camera_id over [from90k, to90k): a hash of
 * the camera, the range and each covered recording's id, bytes and frames
 * (a recording only grows, so these name its committed content), read
 * without the blobs. Equal to what src/http computed from full recordings
 * (reel_http_etag), so tags already handed out stay valid. Read it in the
 * same snapshot as the MP4 (reel_store_read_begin) to describe its bytes. */
int reel_store_view_etag(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                         struct reel_view_tag *ret, struct reel_err *err);

/* A read snapshot on the caller's connection: BEGIN DEFERRED and a first
 * read, so that every query until reel_store_read_end() sees the database
 * as it was at this moment (WAL: the recorder's commits meanwhile are not
 * seen, and do not wait). Use it instead of re-reading until two reads
 * agree. -EBUSY when a transaction is already open on this store's
 * connection. Between begin and end, do not call functions that write (they
 * would join the snapshot's transaction). */
int reel_store_read_begin(struct reel_store *s, struct reel_err *err);
/* Ends the snapshot (COMMIT of the read transaction). Never fails in a way
 * the caller must handle; a no-op without a snapshot. */
void reel_store_read_end(struct reel_store *s);
/* Issue 15: the handle's connection, for reading another module's tables
 * (the events' on the timeline) in the same snapshot. Borrowed: valid
 * while s is open, on the thread that uses s; never closed or written
 * through by the caller. */
struct sqlite3;
struct sqlite3 *reel_store_sqlite(struct reel_store *s);

/* Brings datadir's reel.db to the current schema version and closes it
 * again: for commands that otherwise only read, such as `reel check`, which
 * is what to run after installing a newer Reel. 0 also when it was current.
 * (reel_store_open() checks the version through src/db: in RECORD and ADMIN
 * mode it upgrades an older database the same way; in READ mode it refuses
 * one with -EPROTO; every mode refuses a newer one with -EPROTONOSUPPORT.
 * See docs/database.md.) */
int reel_store_upgrade(const char *datadir, struct reel_err *err);

/* A recording's BLAKE2b-256 (issue 14): stored by the recorder's hasher once
 * the recording is closed (store/hasher.c). */
enum reel_hash_state {
    REEL_HASH_PENDING = 0,          /* open, or closed and not hashed yet */
    REEL_HASH_OK = 1,               /* blake2b holds it */
    REEL_HASH_NONE = 2,             /* closed before Reel hashed recordings: never will be */
};
struct reel_recording_hash {
    int64_t camera_id, start90k;
    bool open;
    enum reel_hash_state state;
    uint8_t blake2b[32];
};
/* -ENOENT when no recording has that id (deleted by retention...). */
int reel_store_recording_hash(struct reel_store *s, int64_t id, struct reel_recording_hash *ret,
                              struct reel_err *err);

/* ---- thumbnail packs (thumbpath.c) ----
 * A recording's scrub-preview thumbnails live in one file,
 * DATADIR/thumbs/CAMERA_ID/REC_ID.thm (src/media/thumbs.h); garbage
 * collection deletes it with the recording's sample file. */
#define REEL_THUMBS_DIR "thumbs"
/* The pack's path into buf; -ENAMETOOLONG when it does not fit. */
int reel_store_thumb_path(const char *datadir, int64_t camera_id, int64_t rec_id, char *buf, size_t cap);

/* ---- site-wide settings (table setting; settings.c) ----
 * Keys are short names ([a-z0-9_.]{1,63}), values text up to
 * REEL_SETTING_MAX - 1 bytes. Who may change which key, and the audit of
 * the change, are the callers' (the admin API). */
#define REEL_SETTING_MAX 1024
/* The value of key into buf (cap bytes); -ENOENT when unset (buf gets ""),
 * -ENAMETOOLONG when it does not fit, other negative errno on a database
 * error (err says which). */
int reel_store_setting_get(struct reel_store *s, const char *key, char *buf, size_t cap, struct reel_err *err);
/* Sets key to value (NULL removes it). -EINVAL for a bad key or a value
 * over the cap. Needs a store opened for writing (ADMIN or RECORD). */
int reel_store_setting_set(struct reel_store *s, const char *key, const char *value, struct reel_err *err);

#endif

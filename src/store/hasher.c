/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The hasher (issue 14, "Proof"): one thread per recording store that gives
 * each closed recording the BLAKE2b-256 of its sample file (recording.blake2b),
 * reading the file back once it is closed. Closed recordings include those
 * that start-up recovery closed after a crash (cut back to what was
 * committed first), so a recovered recording is hashed at recovery.
 *
 * Why read back rather than hash in the writer as bytes go out: the writer
 * rewrites the last partial block of O_DIRECT files (the same bytes more than
 * once), a failed write closes a recording at its last checkpoint (shorter
 * than what was written), and recovery cuts files back: each needs the hash
 * of a prefix that is only known at the end. Reading back costs one read of
 * each file (BENCH in docs/accountability.md), never on the recorder's loop
 * thread nor its writers or syncers, at a lowered priority.
 *
 * The thread polls the partial index recording_unhashed every second, hashes
 * in id order and writes each hash with a guard (still closed, same bytes,
 * still unhashed). A file it cannot read is reported once (on_event) and left
 * unhashed until the next start.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HASH_BATCH 16
#define HASH_POLL_NS (1000LL * 1000 * 1000)
#define HASH_BUF REEL_HASH_BUF
#define HASH_DRAIN_NS (3LL * 1000 * 1000 * 1000)

struct reel_hasher {
    struct reel_store *s;
    sqlite3 *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop, running;
    bool draining;                 /* stopping: last batches (thread's own) */
    int64_t after_id;              /* ids <= this were tried since the start */
    uint64_t hashed;
};

/* BLAKE2b-256 of the first bytes of path. 0, or -errno with msg. */
int reel__hash_file(const char *path, uint64_t bytes, uint8_t *buf, uint8_t out[32], char *msg, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        reel__fmt(msg, cap, "cannot open: %s", strerror(e));
        return -e;
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    uint64_t off = 0;
    int r = 0;
    while (off < bytes) {
        size_t want = bytes - off < HASH_BUF ? (size_t)(bytes - off) : HASH_BUF;
        ssize_t n = pread(fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : -ENODATA;
            reel__fmt(msg, cap, "%s at byte %" PRIu64 " of %" PRIu64, n < 0 ? strerror(errno) : "file ends", off,
                      bytes);
            break;
        }
        crypto_generichash_update(&st, buf, (size_t)n);
        off += (uint64_t)n;
    }
    /* the file was read for this only: leave the page cache to live view and playback */
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    if (r == 0)
        crypto_generichash_final(&st, out, 32);
    return r;
}

struct todo {
    int64_t id, camera_id, dir_id;
    uint64_t bytes;
};

/* One batch: lists up to HASH_BATCH unhashed closed recordings after
 * h->after_id, hashes them and stores the hashes. *ret_n = how many listed. */
static int hash_batch(struct reel_hasher *h, uint8_t *buf, size_t *ret_n)
{
    struct reel_store *s = h->s;
    *ret_n = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, "SELECT id, camera_id, dir_id, bytes FROM recording WHERE blake2b IS NULL "
                                  "AND open = 0 AND id > ? ORDER BY id LIMIT ?", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, h->after_id);
    sqlite3_bind_int(st, 2, HASH_BATCH);
    struct todo t[HASH_BATCH];
    size_t n = 0;
    while (n < HASH_BATCH && sqlite3_step(st) == SQLITE_ROW) {
        t[n].id = sqlite3_column_int64(st, 0);
        t[n].camera_id = sqlite3_column_int64(st, 1);
        t[n].dir_id = sqlite3_column_int64(st, 2);
        t[n].bytes = (uint64_t)sqlite3_column_int64(st, 3);
        n++;
    }
    sqlite3_finalize(st);
    *ret_n = n;
    if (n == 0)
        return 0;
    if (sqlite3_prepare_v2(h->db, "UPDATE recording SET blake2b = ?1 WHERE id = ?2 AND blake2b IS NULL "
                                  "AND open = 0 AND bytes = ?3", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&h->mu);
        bool stop = h->stop && !h->draining;
        pthread_mutex_unlock(&h->mu);
        if (stop)
            break;
        h->after_id = t[i].id;
        const struct reel_dir_rt *d = reel__dir(s, t[i].dir_id);
        if (!d || !d->usable)
            continue;
        char path[4200], msg[300];
        reel__rec_path(s, t[i].dir_id, t[i].camera_id, t[i].id, path, sizeof(path));
        uint8_t hash[32];
        int r = reel__hash_file(path, t[i].bytes, buf, hash, msg, sizeof(msg));
        if (r == -ENOENT)
            continue;   /* deleted meanwhile (retention) */
        if (r < 0) {
            reel__event(s, REEL_LOG_ERROR, "hashing recording %" PRId64 " (%s): %s; left unhashed until the next "
                        "start", t[i].id, path, msg);
            continue;
        }
        sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, t[i].id);
        sqlite3_bind_int64(st, 3, (int64_t)t[i].bytes);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            reel__event(s, REEL_LOG_ERROR, "storing the hash of recording %" PRId64 ": %s; retried", t[i].id,
                        sqlite3_errmsg(h->db));
            h->after_id = t[i].id - 1;
            break;
        }
        h->hashed++;
    }
    sqlite3_finalize(st);
    return 0;
}

static void *hasher_main(void *arg)
{
    struct reel_hasher *h = arg;
    /* below the recorder's threads: hashing can wait, frames cannot */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    uint8_t *buf = malloc(HASH_BUF);
    pthread_mutex_lock(&h->mu);
    while (buf && !h->stop) {
        pthread_mutex_unlock(&h->mu);
        size_t n = 0;
        hash_batch(h, buf, &n);
        pthread_mutex_lock(&h->mu);
        if (n < HASH_BATCH && !h->stop)
            reel__cond_wait_rel(&h->cond, &h->mu, HASH_POLL_NS);
    }
    pthread_mutex_unlock(&h->mu);
    /* at a clean stop, the recordings that closed last (the store closed
     * them just before) are hashed now rather than at the next start:
     * for at most HASH_DRAIN_NS, what is left waits for the next start */
    int64_t t0 = reel_clock_mono(h->s->clock);
    h->draining = true;
    for (size_t n = 1; buf && n > 0;) {
        if (reel_clock_mono(h->s->clock) - t0 > HASH_DRAIN_NS)
            break;
        hash_batch(h, buf, &n);
    }
    free(buf);
    return NULL;
}

int reel__hasher_start(struct reel_store *s, struct reel_err *err)
{
    if (sodium_init() < 0)
        return reel_err_set(err, EIO, "libsodium cannot start");
    struct reel_hasher *h = calloc(1, sizeof(*h));
    if (!h)
        return reel_err_set(err, ENOMEM, "out of memory");
    h->s = s;
    int r = reel__open_db(s->datadir, &h->db, err);
    if (r < 0) {
        free(h);
        return r;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cond, NULL);
    int e = pthread_create(&h->thread, NULL, hasher_main, h);
    if (e) {
        sqlite3_close(h->db);
        pthread_cond_destroy(&h->cond);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return reel_err_set(err, e, "cannot start the hasher thread: %s", strerror(e));
    }
    h->running = true;
    s->hasher = h;
    return 0;
}

void reel__hasher_wake(struct reel_store *s)
{
    struct reel_hasher *h = s->hasher;
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->mu);
}

bool reel__hasher_stop(struct reel_store *s)
{
    struct reel_hasher *h = s->hasher;
    if (!h)
        return true;
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->mu);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += REEL_CLOSE_WAIT_NS / REEL_NS_PER_SEC;
    if (pthread_timedjoin_np(h->thread, NULL, &ts) != 0) {
        reel__event(s, REEL_LOG_ERROR, "the hasher did not stop (a storage disk does not answer): left behind");
        return false;   /* h and s stay allocated: the thread still uses them */
    }
    sqlite3_close(h->db);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->mu);
    free(h);
    s->hasher = NULL;
    return true;
}

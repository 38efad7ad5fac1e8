/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel_store_check: verifies the database against the sample files. Works in
 * READ mode next to a running recorder (a WAL reader sees the last committed
 * checkpoint; a file may then be longer than its open row, which is fine).
 * Repairs only with REEL_CHECK_REPAIR (ADMIN mode, recorder stopped).
 */
#include "store/store_int.h"

#include "base/strutil.h"
#include "base/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define FRAME_MAX (64u * 1024 * 1024)

struct check_ctx {
    void (*cb)(void *opaque, const char *line);
    void *opaque;
    struct reel_check_report rep;
};

static void problem(struct check_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct check_ctx *c, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->rep.problems++;
    if (c->cb)
        c->cb(c->opaque, line);
}

/* Each frame must be 4-byte-length-prefixed NAL units filling it exactly. */
static int check_frames(int fd, const struct reel_frame_info *fi, uint32_t n, char *msg, size_t cap)
{
    uint8_t *buf = NULL;
    size_t alloc = 0;
    uint64_t off = 0;
    int r = 0;
    for (uint32_t i = 0; i < n && r == 0; i++) {
        size_t len = fi[i].size;
        if (len > FRAME_MAX) {
            reel__fmt(msg, cap, "frame %u: %zu bytes is over the %u limit", i, len, FRAME_MAX);
            r = -EBADMSG;
            break;
        }
        if (len > alloc) {
            uint8_t *p = realloc(buf, len);
            if (!p) {
                r = -ENOMEM;
                reel__fmt(msg, cap, "out of memory");
                break;
            }
            buf = p;
            alloc = len;
        }
        ssize_t got = pread(fd, buf, len, (off_t)off);
        if (got != (ssize_t)len) {
            reel__fmt(msg, cap, "frame %u: cannot read %zu bytes at offset %" PRIu64, i, len, off);
            r = -EIO;
            break;
        }
        size_t p = 0;
        while (p < len) {
            if (len - p < 4) {
                reel__fmt(msg, cap, "frame %u (offset %" PRIu64 "): %zu stray bytes after the last NAL unit", i, off,
                         len - p);
                r = -EBADMSG;
                break;
            }
            uint32_t nl = reel_rd_be32(buf + p);
            p += 4;
            if (nl == 0 || nl > len - p) {
                reel__fmt(msg, cap, "frame %u (offset %" PRIu64 "): NAL unit length %u does not fit the frame", i, off,
                         nl);
                r = -EBADMSG;
                break;
            }
            p += nl;
        }
        off += len;
    }
    free(buf);
    return r;
}

struct orphan_ctx {
    struct check_ctx *c;
    bool repair;
};

static void orphan_cb(void *opaque, const char *path)
{
    struct orphan_ctx *o = opaque;
    o->c->rep.files++;
    problem(o->c, "%s: orphan sample file (no recording knows it)%s", path, o->repair ? "; deleted" : "");
    if (o->repair)
        o->c->rep.repaired++;
}

int reel_store_check(struct reel_store *s, int flags, void (*cb)(void *opaque, const char *line), void *opaque,
                     struct reel_check_report *ret, struct reel_err *err)
{
    return reel_store_check_scope(s, flags, NULL, cb, opaque, ret, err);
}

/* With REEL_CHECK_HASH, a closed recording's file against its stored hash. */
static void check_hash(struct check_ctx *c, sqlite3_stmt *st, int64_t id, const char *path, int64_t bytes,
                       uint8_t **buf)
{
    int hl = sqlite3_column_bytes(st, 8);
    if (sqlite3_column_type(st, 8) == SQLITE_NULL) {
        c->rep.hash_pending++;
        return;
    }
    if (hl == 0) {
        c->rep.hash_none++;
        return;
    }
    char when[40];
    reel_time_format(sqlite3_column_int64(st, 10), when, sizeof(when));
    const char *cam = (const char *)sqlite3_column_text(st, 9);
    if (hl != 32) {
        problem(c, "recording %" PRId64 " (camera %s, %s): the stored hash is %d bytes, not 32", id, cam ? cam : "?",
                when, hl);
        return;
    }
    if (!*buf && !(*buf = malloc(REEL_HASH_BUF))) {
        problem(c, "recording %" PRId64 ": out of memory to hash it", id);
        return;
    }
    uint8_t h[32];
    char msg[300];
    if (reel__hash_file(path, (uint64_t)bytes, *buf, h, msg, sizeof(msg)) < 0) {
        problem(c, "recording %" PRId64 " (camera %s, %s): cannot hash %s: %s", id, cam ? cam : "?", when, path, msg);
        return;
    }
    const uint8_t *want = sqlite3_column_blob(st, 8);
    if (memcmp(h, want, 32) != 0) {
        char a[65], b[65];
        reel_hex_encode(want, 32, a);
        reel_hex_encode(h, 32, b);
        problem(c, "recording %" PRId64 " (camera %s, %s): HASH MISMATCH: %s changed since it was closed "
                "(BLAKE2b stored %.16s..., file now %.16s...)", id, cam ? cam : "?", when, path, a, b);
        return;
    }
    c->rep.hash_ok++;
}

int reel_store_check_scope(struct reel_store *s, int flags, const struct reel_check_scope *scope,
                           void (*cb)(void *opaque, const char *line), void *opaque,
                           struct reel_check_report *ret, struct reel_err *err)
{
    bool repair = flags & REEL_CHECK_REPAIR;
    if (repair && s->cfg.mode != REEL_STORE_ADMIN)
        return reel_err_set(err, EPERM, "check --repair needs the store opened in ADMIN mode");
    int lock_fd = -1;
    if (repair) {
        char lock[4200];
        reel__fmt(lock, sizeof(lock), "%s/reel.lock", s->datadir);
        lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
            if (lock_fd >= 0)
                close(lock_fd);
            return reel_err_set(err, EBUSY, "check --repair: the recorder is running on %s; stop it first",
                                s->datadir);
        }
    }
    struct check_ctx c = { .cb = cb, .opaque = opaque };
    /* identity files */
    for (size_t i = 0; i < s->ndirs; i++)
        if (!s->dirs[i].usable)
            problem(&c, "%s", s->dirs[i].error);

    sqlite3_stmt *st;
    int r = 0;
    uint8_t *hbuf = NULL;
    if (sqlite3_prepare_v2(s->db, scope ?
            "SELECT id, camera_id, dir_id, frames, bytes, media_duration90k, open, video_index, blake2b, "
            "(SELECT name FROM camera WHERE camera.id = camera_id), start90k FROM recording "
            "WHERE camera_id = ?1 AND start90k < ?3 AND start90k + wall_duration90k > ?2 ORDER BY id" :
            "SELECT id, camera_id, dir_id, frames, bytes, media_duration90k, open, video_index, blake2b, "
            "(SELECT name FROM camera WHERE camera.id = camera_id), start90k FROM recording ORDER BY id",
            -1, &st, NULL) != SQLITE_OK) {
        r = reel__db_err(s->db, SQLITE_ERROR, err, "check");
        goto out;
    }
    if (scope) {
        sqlite3_bind_int64(st, 1, scope->camera_id);
        sqlite3_bind_int64(st, 2, scope->from90k);
        sqlite3_bind_int64(st, 3, scope->to90k);
    }
    int64_t *bad = NULL; /* rows to drop on repair */
    size_t nbad = 0, abad = 0;
    struct reel_frame_info *fi = NULL;
    size_t fi_alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), cam = sqlite3_column_int64(st, 1);
        int64_t dir = sqlite3_column_int64(st, 2), frames = sqlite3_column_int64(st, 3);
        int64_t bytes = sqlite3_column_int64(st, 4), media = sqlite3_column_int64(st, 5);
        bool open_ = sqlite3_column_int(st, 6);
        const uint8_t *blob = sqlite3_column_blob(st, 7);
        size_t blen = (size_t)sqlite3_column_bytes(st, 7);
        const struct reel_dir_rt *d = reel__dir(s, dir);
        if (!d || !d->usable)
            continue; /* reported above: its files are not there to check */
        c.rep.recordings++;
        char path[4200];
        reel__rec_path(s, dir, cam, id, path, sizeof(path));
        bool drop = false;
        struct stat sb;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &sb) < 0) {
            if (frames > 0 || !open_) {
                problem(&c, "recording %" PRId64 ": sample file %s missing (%s)%s", id, path, strerror(errno),
                        repair ? "; row deleted" : "");
                drop = true;
            }
            if (fd >= 0)
                close(fd);
            fd = -1;
        } else if (!S_ISREG(sb.st_mode)) {
            problem(&c, "recording %" PRId64 ": %s is not a regular file%s", id, path,
                    repair ? "; row deleted" : "");
            drop = true;
            close(fd);
            fd = -1;
        } else {
            c.rep.files++;
            c.rep.bytes += (uint64_t)sb.st_size;
            if (bytes < 0) {
                problem(&c, "recording %" PRId64 ": negative byte count %" PRId64 "%s", id, bytes,
                        repair ? "; row deleted" : "");
                drop = true;
            } else if (sb.st_size < bytes) {
                problem(&c, "recording %" PRId64 ": sample file %s holds %lld bytes, the index says %" PRId64 "%s", id,
                        path, (long long)sb.st_size, bytes, repair ? "; row deleted" : "");
                drop = true;
            } else if (sb.st_size > bytes && !open_) {
                problem(&c, "recording %" PRId64 ": sample file %s is %lld bytes longer than its index%s", id, path,
                        (long long)(sb.st_size - bytes), repair ? "; cut back" : "");
                if (repair) {
                    int wfd = open(path, O_WRONLY | O_CLOEXEC);
                    if (wfd >= 0 && ftruncate(wfd, bytes) == 0 && fsync(wfd) == 0)
                        c.rep.repaired++;
                    if (wfd >= 0)
                        close(wfd);
                }
            }
        }
        /* Every frame takes at least two bytes of the index: a count the
         * blob cannot hold is refused before anything is allocated for it. */
        if (!drop && (frames < 0 || frames > UINT32_MAX || (uint64_t)frames > blen / 2)) {
            problem(&c, "recording %" PRId64 ": corrupt index (%" PRId64 " frames in %zu bytes)%s", id, frames,
                    blen, repair ? "; row deleted" : "");
            drop = true;
        }
        if (!drop) {
            if ((size_t)frames > fi_alloc) {
                void *p = realloc(fi, (size_t)frames * sizeof(*fi));
                if (!p) {
                    r = reel_err_set(err, ENOMEM, "check: out of memory");
                    if (fd >= 0)
                        close(fd);
                    break;
                }
                fi = p;
                fi_alloc = (size_t)frames;
            }
            struct reel_err e2;
            if (reel_index_decode(blob, blen, (uint32_t)frames, fi, &e2) < 0) {
                problem(&c, "recording %" PRId64 ": corrupt index (%s)%s", id, e2.msg, repair ? "; row deleted" : "");
                drop = true;
            } else {
                uint64_t sb_ = 0;
                int64_t sd = 0;
                for (int64_t i = 0; i < frames; i++) {
                    sb_ += fi[i].size;
                    sd += fi[i].duration90k;
                }
                if (bytes < 0 || sb_ != (uint64_t)bytes || sd != media) {
                    problem(&c, "recording %" PRId64 ": index sums to %" PRIu64 " bytes / %" PRId64 " ticks, row says %" PRId64 " / %" PRId64 "%s",
                            id, sb_, sd, bytes, media, repair ? "; row deleted" : "");
                    drop = true;
                } else if ((flags & REEL_CHECK_HASH) && fd >= 0 && frames > 0) {
                    char msg[300];
                    if (check_frames(fd, fi, (uint32_t)frames, msg, sizeof(msg)) < 0)
                        problem(&c, "recording %" PRId64 ": %s: %s", id, path, msg);
                    if (!open_)
                        check_hash(&c, st, id, path, bytes, &hbuf);
                }
            }
        }
        if (fd >= 0)
            close(fd);
        if (drop && repair) {
            if (nbad == abad) {
                size_t na = abad ? abad * 2 : 16;
                int64_t *p = realloc(bad, na * sizeof(*bad));
                if (!p)
                    continue;
                bad = p;
                abad = na;
            }
            bad[nbad++] = id;
        }
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE) /* a failed read is not a clean check */
        r = reel__db_err(s->db, rc, err, "check: reading recordings");
    sqlite3_finalize(st);
    free(fi);
    free(hbuf);
    if (r == 0 && nbad) {
        r = reel__delete_recordings(s, s->db, bad, nbad, "deleted by check: damaged", err);
        if (r == 0)
            c.rep.repaired += nbad;
    }
    free(bad);
    if (r == 0 && !scope) {
        struct orphan_ctx o = { &c, repair };
        reel__scan_orphans(s, s->db, repair, orphan_cb, &o, NULL);
    }
out:
    if (lock_fd >= 0)
        close(lock_fd);
    if (r == 0 && ret)
        *ret = c.rep;
    return r;
}

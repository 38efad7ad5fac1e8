/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * faultfs: an LD_PRELOAD shim that puts storage faults under the recorder,
 * for the integration tests (tests/integration/test_storage.py). It wraps the
 * libc calls that Reel and SQLite use to write files (open, write, pwrite,
 * pwritev, writev, ftruncate, fsync, fdatasync, close, unlink), and refuses
 * io_uring (see the end of this file) and acts only on files
 * whose absolute path starts with FAULTFS_PREFIX. Two modes:
 *
 * FAULTFS_MODE=fail: the chosen calls (FAULTFS_OPS, a comma list of write,
 *   pwrite (pwritev too), writev, ftruncate, fsync, fdatasync; default all
 *   but ftruncate)
 *   fail with FAULTFS_ERRNO (EIO, ENOSPC or a number; default EIO):
 *   after FAULTFS_AFTER matching calls succeeded (default 0), for
 *   FAULTFS_COUNT calls (default: for ever), and, when FAULTFS_TRIGGER names
 *   a file, only while that file exists (calls are counted only then).
 *
 * FAULTFS_MODE=crash: a power cut that drops unsynced writes. Every write and
 *   truncation of a file under the prefix goes through to the real file and
 *   is also journaled as an undo record (the bytes it overwrote and the size
 *   before it). fsync/fdatasync of the file forgets its records: what was
 *   synced stays. A file created under the prefix is only durable once its
 *   directory has been fsynced (or fdatasynced, as SQLite does). When
 *   FAULTFS_TRIGGER appears (polled every millisecond by a thread) or at the
 *   FAULTFS_AFTER-th write/sync call, every other call is held, and for each
 *   file: a file whose creation was never made durable is unlinked; otherwise
 *   the file is rolled back to its synced contents plus a random prefix of
 *   its unsynced writes (in order), the first dropped write possibly torn
 *   (a random prefix of its bytes kept), and, one time in four, the file is
 *   then extended with zeros to the size it had (the inode size made it to
 *   disk but the data did not). Then the process _exit()s with
 *   FAULTFS_EXIT (default 99). FAULTFS_SEED seeds the choices.
 *
 * FAULTFS_LOG, if set, gets one line per injected failure and per file rolled
 * back. Files ending in a suffix of FAULTFS_EXCLUDE (comma list, default
 * "-shm") are left alone: SQLite's shared-memory index is rebuilt at open.
 *
 * Limits of the model: directory operations other than creation (unlink,
 * mkdir, rename) are taken as durable at once; a dropped write is either
 * entirely kept, torn at one point, or entirely dropped, and writes are kept
 * in order (no reordering of writes within a file); mmap writes are not seen;
 * fds above FD_TRACK_MAX and dup'd fds are not tracked. See docs/storage.md
 * ("Testing crash safety").
 *
 * This is test code preloaded into a process: its state is necessarily
 * process-global (one table from fd to file, under one mutex).
 */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define FD_TRACK_MAX 65536

enum { OP_WRITE = 1, OP_PWRITE = 2, OP_WRITEV = 4, OP_FTRUNCATE = 8, OP_FSYNC = 16, OP_FDATASYNC = 32 };

struct undo {
    bool trunc;                 /* a truncation (else a write) */
    off_t off;                  /* write: offset; trunc: the new size */
    size_t len;                 /* write: its length */
    off_t old_size;             /* file size before the call */
    uint8_t *old;               /* the bytes the call overwrote or cut off */
    size_t old_len;
};

struct ffile {
    struct ffile *next;
    char *path;
    bool dir;
    bool deleted;
    bool created_pending;       /* created, its directory not fsynced since */
    int rfd;                    /* our own read fd, for saving old bytes */
    struct undo *undo;
    size_t nundo, aundo;
};

static struct {
    bool on, crash_mode;
    char prefix[PATH_MAX];
    size_t prefix_len;
    char exclude[512];
    unsigned ops;
    int err_no;
    long long after, count, seen, failed;
    char trigger[PATH_MAX];
    int exit_code;
    int log_fd;
    uint64_t rnd;
    bool crashing;
    pthread_mutex_t mu;
    struct ffile *files;
    struct ffile *fds[FD_TRACK_MAX];
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*pwrite)(int, const void *, size_t, off_t);
    ssize_t (*pwrite64)(int, const void *, size_t, off64_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
    ssize_t (*pwritev64)(int, const struct iovec *, int, off64_t);
    int (*ftruncate)(int, off_t);
    int (*ftruncate64)(int, off64_t);
    int (*fsync)(int);
    int (*fdatasync)(int);
    int (*open)(const char *, int, ...);
    int (*open64)(const char *, int, ...);
    int (*close)(int);
    int (*unlink)(const char *);
} F = { .mu = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP, .log_fd = -1 };

static void resolve(void)
{
    if (F.write)
        return;
    F.pwrite = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    F.pwrite64 = (ssize_t (*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
    F.writev = (ssize_t (*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    F.pwritev = (ssize_t (*)(int, const struct iovec *, int, off_t))dlsym(RTLD_NEXT, "pwritev");
    F.pwritev64 = (ssize_t (*)(int, const struct iovec *, int, off64_t))dlsym(RTLD_NEXT, "pwritev64");
    F.ftruncate = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
    F.ftruncate64 = (int (*)(int, off64_t))dlsym(RTLD_NEXT, "ftruncate64");
    F.fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    F.fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    F.open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    F.open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    F.close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    F.unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    F.write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
}

static uint64_t rnd_next(void)
{
    /* xorshift64* */
    F.rnd ^= F.rnd >> 12;
    F.rnd ^= F.rnd << 25;
    F.rnd ^= F.rnd >> 27;
    return F.rnd * 2685821657736338717ULL;
}

static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd_next() % n : 0;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    if (F.log_fd < 0)
        return;
    char line[PATH_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (F.write(F.log_fd, line, (size_t)n) < 0)
        return;
}

/* ---- which files ---- */

static bool abs_path(const char *path, char *out, size_t cap)
{
    if (path[0] == '/')
        return (size_t)snprintf(out, cap, "%s", path) < cap;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return false;
    return (size_t)snprintf(out, cap, "%s/%s", cwd, path) < cap;
}

static bool excluded(const char *path)
{
    size_t pl = strlen(path);
    const char *p = F.exclude;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && n <= pl && memcmp(path + pl - n, p, n) == 0)
            return true;
        p += n + (e ? 1 : 0);
    }
    return false;
}

static bool watched(const char *abs)
{
    if (!F.on)
        return false;
    /* the prefix directory itself, when the prefix ends in '/' (its fsync
     * makes the creation of files in it durable) */
    size_t n = strlen(abs);
    if (F.prefix_len > 1 && F.prefix[F.prefix_len - 1] == '/' && n == F.prefix_len - 1 &&
        memcmp(abs, F.prefix, n) == 0)
        return true;
    return strncmp(abs, F.prefix, F.prefix_len) == 0 && !excluded(abs);
}

static struct ffile *file_find(const char *abs)
{
    for (struct ffile *f = F.files; f; f = f->next)
        if (!f->deleted && strcmp(f->path, abs) == 0)
            return f;
    return NULL;
}

static struct ffile *file_get(const char *abs, bool dir)
{
    struct ffile *f = file_find(abs);
    if (f)
        return f;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->path = strdup(abs);
    if (!f->path) {
        free(f);
        return NULL;
    }
    f->dir = dir;
    f->rfd = -1;
    f->next = F.files;
    F.files = f;
    return f;
}

static struct ffile *fd_file(int fd)
{
    return fd >= 0 && fd < FD_TRACK_MAX ? F.fds[fd] : NULL;
}

static void undo_clear(struct ffile *f)
{
    for (size_t i = 0; i < f->nundo; i++)
        free(f->undo[i].old);
    f->nundo = 0;
}

/* ---- fail mode ---- */

static bool trigger_present(void)
{
    return F.trigger[0] && access(F.trigger, F_OK) == 0;
}

/* true when this call must fail (errno set) */
static bool inject(int fd, unsigned op, const char *name)
{
    if (F.crash_mode || !(F.ops & op))
        return false;
    struct ffile *f = fd_file(fd);
    if (!f)
        return false;
    if (F.trigger[0] && !trigger_present())
        return false;
    if (!F.trigger[0] && F.after < 0)
        return false;
    long long n = F.seen++;
    if (n < (F.after < 0 ? 0 : F.after))
        return false;
    if (F.count >= 0 && F.failed >= F.count)
        return false;
    F.failed++;
    logf_("fail %s %s: %s", name, f->path, strerror(F.err_no));
    errno = F.err_no;
    return true;
}

/* ---- crash mode ---- */

static int rfd_of(struct ffile *f)
{
    if (f->rfd < 0)
        f->rfd = F.open(f->path, O_RDONLY | O_CLOEXEC);
    return f->rfd;
}

static struct undo *undo_push(struct ffile *f)
{
    if (f->nundo == f->aundo) {
        size_t na = f->aundo ? f->aundo * 2 : 64;
        void *p = realloc(f->undo, na * sizeof(*f->undo));
        if (!p)
            return NULL;
        f->undo = p;
        f->aundo = na;
    }
    struct undo *u = &f->undo[f->nundo++];
    memset(u, 0, sizeof(*u));
    return u;
}

/* Saves what a write of len bytes at off (or a truncation to off) is about to
 * destroy. Called before the real call. */
static void journal(int fd, struct ffile *f, bool trunc, off_t off, size_t len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return;
    struct undo *u = undo_push(f);
    if (!u)
        return;
    u->trunc = trunc;
    u->off = off;
    u->len = len;
    u->old_size = st.st_size;
    off_t from = off, to = trunc ? st.st_size : off + (off_t)len;
    if (to > st.st_size)
        to = st.st_size;
    if (to > from) {
        u->old_len = (size_t)(to - from);
        u->old = malloc(u->old_len);
        int r = rfd_of(f);
        if (!u->old || r < 0 || pread(r, u->old, u->old_len, from) != (ssize_t)u->old_len) {
            free(u->old);
            u->old = NULL;
            u->old_len = 0;
        }
    }
}

/* Undoes u; keep > 0 keeps the first keep bytes of a write (a torn write). */
static void undo_apply(int wfd, const struct undo *u, size_t keep)
{
    if (u->trunc) {
        if (F.ftruncate(wfd, u->old_size) == 0 && u->old_len)
            (void)!F.pwrite(wfd, u->old, u->old_len, u->off);
        return;
    }
    if (u->old_len > keep)
        (void)!F.pwrite(wfd, u->old + keep, u->old_len - keep, u->off + (off_t)keep);
    off_t size = u->old_size;
    if (keep && u->off + (off_t)keep > size)
        size = u->off + (off_t)keep;
    (void)!F.ftruncate(wfd, size);
}

static void crash_now(const char *why)
{
    F.crashing = true;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    logf_("crash (%s) at %lld.%03ld", why, (long long)now.tv_sec, now.tv_nsec / 1000000);
    for (struct ffile *f = F.files; f; f = f->next) {
        if (f->deleted || f->dir)
            continue;
        if (f->created_pending) {
            F.unlink(f->path);
            logf_("crash %s: creation not durable, removed", f->path);
            continue;
        }
        if (f->nundo == 0)
            continue;
        int wfd = F.open(f->path, O_WRONLY | O_CLOEXEC);
        if (wfd < 0)
            continue;
        struct stat st;
        off_t pre = fstat(wfd, &st) == 0 ? st.st_size : 0;
        size_t n = f->nundo, k = (size_t)rnd_below(n + 1);
        size_t torn = 0;
        for (size_t i = n; i-- > k;) {
            const struct undo *u = &f->undo[i];
            size_t keep = 0;
            if (i == k && !u->trunc && u->len > 1 && rnd_below(2))
                keep = torn = 1 + (size_t)rnd_below(u->len - 1);
            undo_apply(wfd, u, keep);
        }
        bool zeros = k < n && rnd_below(4) == 0;
        if (zeros && fstat(wfd, &st) == 0 && st.st_size < pre)
            (void)!F.ftruncate(wfd, pre);
        else
            zeros = false;
        F.fdatasync(wfd);
        F.close(wfd);
        logf_("crash %s: kept %zu of %zu unsynced writes%s%s", f->path, k, n, torn ? " (next one torn)" : "",
              zeros ? ", zero-filled to its size" : "");
    }
    _exit(F.exit_code);
}

static void *trigger_thread(void *arg)
{
    (void)arg;
    /* the program's signals (e.g. a signalfd for SIGTERM) are not ours */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    struct timespec ts = { 0, 1000000 };
    for (;;) {
        if (access(F.trigger, F_OK) == 0) {
            pthread_mutex_lock(&F.mu);
            crash_now("trigger file");
        }
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Countdown: crash at the after-th write or sync call on a watched file. */
static void countdown(void)
{
    if (F.crash_mode && F.seen++ >= F.after && F.after >= 0)
        crash_now("countdown");
}

__attribute__((constructor)) static void faultfs_init(void)
{
    resolve();
    const char *p = getenv("FAULTFS_PREFIX");
    if (!p || !*p || !abs_path(p, F.prefix, sizeof(F.prefix)))
        return;
    F.prefix_len = strlen(F.prefix);
    const char *v;
    snprintf(F.exclude, sizeof(F.exclude), "%s", (v = getenv("FAULTFS_EXCLUDE")) ? v : "-shm");
    F.crash_mode = (v = getenv("FAULTFS_MODE")) && strcmp(v, "crash") == 0;
    F.after = (v = getenv("FAULTFS_AFTER")) ? atoll(v) : -1;
    F.count = (v = getenv("FAULTFS_COUNT")) ? atoll(v) : -1;
    F.exit_code = (v = getenv("FAULTFS_EXIT")) ? atoi(v) : 99;
    F.rnd = (v = getenv("FAULTFS_SEED")) ? strtoull(v, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    F.rnd = F.rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    if (!F.rnd)
        F.rnd = 1;
    F.err_no = EIO;
    if ((v = getenv("FAULTFS_ERRNO")))
        F.err_no = strcmp(v, "EIO") == 0 ? EIO : strcmp(v, "ENOSPC") == 0 ? ENOSPC : atoi(v);
    F.ops = OP_WRITE | OP_PWRITE | OP_WRITEV | OP_FSYNC | OP_FDATASYNC;
    if ((v = getenv("FAULTFS_OPS"))) {
        F.ops = 0;
        static const struct { const char *name; unsigned op; } names[] = {
            { "write", OP_WRITE }, { "pwrite", OP_PWRITE }, { "writev", OP_WRITEV },
            { "ftruncate", OP_FTRUNCATE }, { "fsync", OP_FSYNC }, { "fdatasync", OP_FDATASYNC },
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            size_t n = strlen(names[i].name);
            for (const char *q = v; (q = strstr(q, names[i].name)); q += n)
                if ((q == v || q[-1] == ',') && (q[n] == ',' || q[n] == '\0'))
                    F.ops |= names[i].op;
        }
    }
    if ((v = getenv("FAULTFS_TRIGGER")))
        snprintf(F.trigger, sizeof(F.trigger), "%s", v);
    if ((v = getenv("FAULTFS_LOG")))
        F.log_fd = F.open(v, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    F.on = true;
    if (F.crash_mode && F.trigger[0]) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_create(&t, &a, trigger_thread, NULL);
        pthread_attr_destroy(&a);
    }
}

__attribute__((destructor)) static void faultfs_fini(void)
{
    if (F.on)
        logf_("exit after %lld write/sync calls on watched files", F.seen);
}

/* ---- the wrapped calls ---- */

static void opened(int fd, const char *path, int flags, bool existed)
{
    char abs[PATH_MAX];
    if (fd < 0 || fd >= FD_TRACK_MAX || !abs_path(path, abs, sizeof(abs)) || !watched(abs))
        return;
    struct stat st;
    bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    pthread_mutex_lock(&F.mu);
    struct ffile *f = file_get(abs, dir);
    F.fds[fd] = f;
    if (f && !existed && (flags & O_CREAT) && F.crash_mode)
        f->created_pending = true;
    pthread_mutex_unlock(&F.mu);
}

static int do_open(int (*real)(const char *, int, ...), const char *path, int flags, mode_t mode)
{
    bool existed = true;
    if (F.on && (flags & O_CREAT))
        existed = access(path, F_OK) == 0;
    if (F.on && F.crash_mode && (flags & O_TRUNC) && existed) {
        /* journal the truncation through a temporary fd */
        int t = real(path, O_WRONLY | O_CLOEXEC);
        if (t >= 0) {
            char abs[PATH_MAX];
            if (abs_path(path, abs, sizeof(abs)) && watched(abs)) {
                pthread_mutex_lock(&F.mu);
                struct ffile *f = file_get(abs, false);
                if (f)
                    journal(t, f, true, 0, 0);
                pthread_mutex_unlock(&F.mu);
            }
            F.close(t);
        }
    }
    int fd = real(path, flags, mode);
    if (F.on)
        opened(fd, path, flags, existed);
    return fd;
}

int open(const char *path, int flags, ...)
{
    resolve();
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return do_open(F.open, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    resolve();
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return do_open(F.open64, path, flags, mode);
}

int close(int fd)
{
    resolve();
    if (F.on && fd >= 0 && fd < FD_TRACK_MAX) {
        pthread_mutex_lock(&F.mu);
        F.fds[fd] = NULL;
        pthread_mutex_unlock(&F.mu);
    }
    return F.close(fd);
}

int unlink(const char *path)
{
    resolve();
    if (!F.on)
        return F.unlink(path);
    char abs[PATH_MAX];
    pthread_mutex_lock(&F.mu);
    int r = F.unlink(path);
    if (r == 0 && abs_path(path, abs, sizeof(abs))) {
        struct ffile *f = file_find(abs);
        if (f) {
            f->deleted = true;
            undo_clear(f);
            if (f->rfd >= 0)
                F.close(f->rfd);
            f->rfd = -1;
        }
    }
    pthread_mutex_unlock(&F.mu);
    return r;
}

/* Common path for the writes: off < 0 means "at the fd's offset". */
static ssize_t do_write(int fd, unsigned op, const char *name, off_t off, size_t len,
                        ssize_t (*call)(int, const void *, size_t, off_t, const void *), const void *arg)
{
    resolve();
    if (!F.on || !fd_file(fd))
        return call(fd, NULL, len, off, arg);
    pthread_mutex_lock(&F.mu);
    struct ffile *f = fd_file(fd);
    if (!f) {
        pthread_mutex_unlock(&F.mu);
        return call(fd, NULL, len, off, arg);
    }
    if (inject(fd, op, name)) {
        pthread_mutex_unlock(&F.mu);
        return -1;
    }
    countdown();
    if (F.crash_mode && !f->dir) {
        off_t at = off;
        if (at < 0) {
            int fl = fcntl(fd, F_GETFL);
            struct stat st;
            if (fl >= 0 && (fl & O_APPEND) && fstat(fd, &st) == 0)
                at = st.st_size;
            else
                at = lseek(fd, 0, SEEK_CUR);
        }
        if (at >= 0)
            journal(fd, f, false, at, len);
    }
    ssize_t r = call(fd, NULL, len, off, arg);
    int e = errno;
    pthread_mutex_unlock(&F.mu);
    errno = e;
    return r;
}

static ssize_t call_write(int fd, const void *unused, size_t len, off_t off, const void *buf)
{
    (void)unused;
    (void)off;
    return F.write(fd, buf, len);
}

static ssize_t call_pwrite(int fd, const void *unused, size_t len, off_t off, const void *buf)
{
    (void)unused;
    return F.pwrite64 ? F.pwrite64(fd, buf, len, off) : F.pwrite(fd, buf, len, off);
}

struct iov_arg {
    const struct iovec *iov;
    int n;
};

static ssize_t call_writev(int fd, const void *unused, size_t len, off_t off, const void *arg)
{
    (void)unused;
    (void)len;
    (void)off;
    const struct iov_arg *a = arg;
    return F.writev(fd, a->iov, a->n);
}

static ssize_t call_pwritev(int fd, const void *unused, size_t len, off_t off, const void *arg)
{
    (void)unused;
    (void)len;
    const struct iov_arg *a = arg;
    return F.pwritev64 ? F.pwritev64(fd, a->iov, a->n, off) : F.pwritev(fd, a->iov, a->n, off);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    resolve();
    return do_write(fd, OP_WRITE, "write", -1, len, call_write, buf);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    resolve();
    return do_write(fd, OP_PWRITE, "pwrite", off, len, call_pwrite, buf);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
    resolve();
    return do_write(fd, OP_PWRITE, "pwrite", off, len, call_pwrite, buf);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    resolve();
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    struct iov_arg a = { iov, n };
    return do_write(fd, OP_WRITEV, "writev", -1, len, call_writev, &a);
}

static ssize_t pwritev_common(int fd, const struct iovec *iov, int n, off_t off)
{
    resolve();
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    struct iov_arg a = { iov, n };
    return do_write(fd, OP_PWRITE, "pwritev", off, len, call_pwritev, &a);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
    return pwritev_common(fd, iov, n, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off64_t off)
{
    return pwritev_common(fd, iov, n, off);
}

static int do_truncate(int fd, off_t size)
{
    resolve();
    if (!F.on || !fd_file(fd))
        return F.ftruncate(fd, size);
    pthread_mutex_lock(&F.mu);
    struct ffile *f = fd_file(fd);
    if (f && inject(fd, OP_FTRUNCATE, "ftruncate")) {
        pthread_mutex_unlock(&F.mu);
        return -1;
    }
    if (f) {
        countdown();
        if (F.crash_mode && !f->dir)
            journal(fd, f, true, size, 0);
    }
    int r = F.ftruncate(fd, size);
    int e = errno;
    pthread_mutex_unlock(&F.mu);
    errno = e;
    return r;
}

int ftruncate(int fd, off_t size)
{
    return do_truncate(fd, size);
}

int ftruncate64(int fd, off64_t size)
{
    return do_truncate(fd, size);
}

static int do_sync(int fd, unsigned op, const char *name, int (*real)(int))
{
    resolve();
    if (!F.on || !fd_file(fd))
        return real(fd);
    pthread_mutex_lock(&F.mu);
    struct ffile *f = fd_file(fd);
    if (f && inject(fd, op, name)) {
        pthread_mutex_unlock(&F.mu);
        return -1;
    }
    if (f)
        countdown();
    int r = real(fd);
    int e = errno;
    if (r == 0 && f && F.crash_mode) {
        if (f->dir) {
            size_t n = strlen(f->path);
            for (struct ffile *g = F.files; g; g = g->next) {
                const char *slash = strrchr(g->path, '/');
                if (g->created_pending && slash && (size_t)(slash - g->path) == n &&
                    strncmp(g->path, f->path, n) == 0)
                    g->created_pending = false;
            }
        } else {
            undo_clear(f);
        }
    }
    pthread_mutex_unlock(&F.mu);
    errno = e;
    return r;
}

int fsync(int fd)
{
    return do_sync(fd, OP_FSYNC, "fsync", F.fsync ? F.fsync : (resolve(), F.fsync));
}

int fdatasync(int fd)
{
    return do_sync(fd, OP_FDATASYNC, "fdatasync", F.fdatasync ? F.fdatasync : (resolve(), F.fdatasync));
}

/* io_uring writes bypass the libc calls above, so a process under the shim
 * gets no ring (liburing's set-up fails as in a container whose seccomp
 * policy forbids io_uring) and Reel writes with pwritev, which is seen. */
int io_uring_queue_init(unsigned entries, void *ring, unsigned flags);
int io_uring_queue_init(unsigned entries, void *ring, unsigned flags)
{
    (void)entries;
    (void)ring;
    (void)flags;
    return -ENOSYS;
}

int io_uring_queue_init_params(unsigned entries, void *ring, void *params);
int io_uring_queue_init_params(unsigned entries, void *ring, void *params)
{
    (void)entries;
    (void)ring;
    (void)params;
    return -ENOSYS;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The thumbnail cache's packs, caps and sweep (thumbs.h).
 */
#include "media/thumbs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR 16
#define SWEEP_EVERY_NS INT64_C(10000000000)

struct reel_thumbs {
    char dir[4096];
    uint64_t cache_max;
    unsigned decodes_max;
    const struct reel_clock *clock;
    pthread_mutex_t mu;         /* all below */
    unsigned decoding;
    uint64_t bytes;
    int64_t last_sweep_ns;
    bool swept;
};

struct pack {
    char path[4400];
    uint64_t rec;
    uint64_t size;
};

/* Every pack under th->dir: *ret malloc'd (at most 1 << 20 entries). */
static int list_packs(const struct reel_thumbs *th, struct pack **ret, size_t *ret_n, uint64_t *ret_total)
{
    *ret = NULL;
    *ret_n = 0;
    *ret_total = 0;
    DIR *top = opendir(th->dir);
    if (!top)
        return errno == ENOENT ? 0 : -errno;
    struct pack *v = NULL;
    size_t n = 0, alloc = 0;
    struct dirent *c;
    while ((c = readdir(top)) != NULL) {
        if (c->d_name[0] == '.')
            continue;
        char cdir[4200];
        if (snprintf(cdir, sizeof(cdir), "%s/%s", th->dir, c->d_name) >= (int)sizeof(cdir))
            continue;
        DIR *d = opendir(cdir);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && n < (1u << 20)) {
            uint64_t rec;
            char tail[8];
            if (sscanf(e->d_name, "%16" SCNx64 "%7s", &rec, tail) != 2 || strcmp(tail, ".thm") != 0)
                continue;
            struct stat sb;
            if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
                continue;
            if (n == alloc) {
                size_t na = alloc ? alloc * 2 : 256;
                void *p = realloc(v, na * sizeof(*v));
                if (!p)
                    break;
                v = p;
                alloc = na;
            }
            if (snprintf(v[n].path, sizeof(v[n].path), "%s/%s", cdir, e->d_name) >= (int)sizeof(v[n].path))
                continue;
            v[n].rec = rec;
            v[n].size = (uint64_t)sb.st_size;
            *ret_total += v[n].size;
            n++;
        }
        closedir(d);
    }
    closedir(top);
    *ret = v;
    *ret_n = n;
    return 0;
}

static int by_rec(const void *a, const void *b)
{
    const struct pack *x = a, *y = b;
    return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* Recounts the cache and deletes the oldest packs until it holds at most
 * 3/4 of the cap (th->mu held). */
static void sweep_locked(struct reel_thumbs *th)
{
    struct pack *v;
    size_t n;
    uint64_t total;
    if (list_packs(th, &v, &n, &total) < 0)
        return;
    if (total > th->cache_max / 4 * 3) {
        qsort(v, n, sizeof(*v), by_rec);
        for (size_t i = 0; i < n && total > th->cache_max / 4 * 3; i++)
            if (unlink(v[i].path) == 0)
                total -= v[i].size;
    }
    th->bytes = total;
    free(v);
}

int reel_thumbs_new(struct reel_thumbs **ret, const struct reel_thumbs_cfg *cfg, struct reel_err *err)
{
    *ret = NULL;
    struct reel_thumbs *th = calloc(1, sizeof(*th));
    if (!th)
        return reel_err_set(err, ENOMEM, "out of memory");
    snprintf(th->dir, sizeof(th->dir), "%s", cfg->dir);
    th->cache_max = cfg->cache_max ? cfg->cache_max : REEL_THUMBS_CACHE_DEFAULT;
    th->decodes_max = cfg->decodes_max ? cfg->decodes_max : REEL_THUMBS_DECODES_DEFAULT;
    th->clock = cfg->clock ? cfg->clock : reel_clock_system();
    if (mkdir(th->dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        free(th);
        return reel_err_set(err, e, "thumbnails: cannot create %s: %s", cfg->dir, strerror(e));
    }
    pthread_mutex_init(&th->mu, NULL);
    struct pack *v;
    size_t n;
    if (list_packs(th, &v, &n, &th->bytes) == 0)
        free(v);
    *ret = th;
    return 0;
}

void reel_thumbs_free(struct reel_thumbs *th)
{
    if (!th)
        return;
    pthread_mutex_destroy(&th->mu);
    free(th);
}

static uint32_t get_u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int reel_thumbs_lookup(struct reel_thumbs *th, const char *path, uint32_t key, uint16_t w, uint8_t **jpeg,
                       size_t *len)
{
    (void)th;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -ENOENT;
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)REEL_THUMBS_PACK_MAX) {
        close(fd);
        return -ENOENT;
    }
    uint8_t hdr[HDR];
    int r = -ENOENT;
    for (off_t off = 0; off + HDR <= sb.st_size;) {
        if (pread(fd, hdr, HDR, off) != HDR || memcmp(hdr, "RTH1", 4) != 0)
            break;
        uint32_t k = get_u32(hdr + 4), jl = get_u32(hdr + 12);
        uint16_t hw = (uint16_t)(hdr[8] | hdr[9] << 8);
        if (jl == 0 || jl > REEL_THUMBS_JPEG_MAX || off + HDR + (off_t)jl > sb.st_size)
            break;
        if (k == key && hw == w) {
            uint8_t *b = malloc(jl);
            if (b && pread(fd, b, jl, off + HDR) == (ssize_t)jl) {
                *jpeg = b;
                *len = jl;
                r = 0;
            } else {
                free(b);
            }
            break;
        }
        off += HDR + (off_t)jl;
    }
    close(fd);
    return r;
}

int reel_thumbs_decode_begin(struct reel_thumbs *th)
{
    pthread_mutex_lock(&th->mu);
    int r = th->decoding < th->decodes_max ? 0 : -EBUSY;
    if (r == 0)
        th->decoding++;
    pthread_mutex_unlock(&th->mu);
    return r;
}

void reel_thumbs_decode_end(struct reel_thumbs *th)
{
    pthread_mutex_lock(&th->mu);
    th->decoding--;
    pthread_mutex_unlock(&th->mu);
}

int reel_thumbs_add(struct reel_thumbs *th, const char *path, uint32_t key, uint16_t w, const uint8_t *jpeg,
                    size_t len)
{
    if (len == 0 || len > REEL_THUMBS_JPEG_MAX)
        return -EMSGSIZE;
    pthread_mutex_lock(&th->mu);
    int r = 0;
    if (th->bytes + HDR + len > th->cache_max) {
        int64_t now = reel_clock_mono(th->clock);
        if (!th->swept || now - th->last_sweep_ns >= SWEEP_EVERY_NS) {
            th->swept = true;
            th->last_sweep_ns = now;
            sweep_locked(th);
        }
        if (th->bytes + HDR + len > th->cache_max)
            r = -ENOSPC;
    }
    int fd = -1;
    if (r == 0) {
        /* the camera's directory */
        char dir[4400];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                r = -errno;
        }
    }
    if (r == 0) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            r = -errno;
    }
    struct stat sb;
    if (r == 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size + HDR + len > REEL_THUMBS_PACK_MAX))
        r = -ENOSPC;
    uint8_t *rec = r == 0 ? malloc(HDR + len) : NULL;
    if (r == 0 && !rec)
        r = -ENOMEM;
    if (r == 0) {
        memcpy(rec, "RTH1", 4);
        put_u32(rec + 4, key);
        rec[8] = (uint8_t)w;
        rec[9] = (uint8_t)(w >> 8);
        rec[10] = rec[11] = 0;
        put_u32(rec + 12, (uint32_t)len);
        memcpy(rec + HDR, jpeg, len);
        /* one write under the mutex: records of two requests never interleave */
        ssize_t n = write(fd, rec, HDR + len);
        if (n == (ssize_t)(HDR + len))
            th->bytes += HDR + len;
        else
            r = n < 0 ? -errno : -EIO;
    }
    free(rec);
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&th->mu);
    return r;
}

uint64_t reel_thumbs_bytes(struct reel_thumbs *th)
{
    pthread_mutex_lock(&th->mu);
    uint64_t b = th->bytes;
    pthread_mutex_unlock(&th->mu);
    return b;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The hub (see hub.h): per-camera subscriber lists, per-subscriber bounded
 * rings, shared reference-counted copies of access units.
 *
 * Locks, always taken in this order: hub->mu (the camera table, the list
 * of every-camera subscriptions, entry lifetimes) -> cam->mu (one camera's
 * subscriber list and status) -> sub->mu (one queue) -> hub->cache_mu
 * (every camera's GOP cache, the LRU list) -> hub->pool_mu. The AU
 * publisher takes only cam->mu, the cache's and the queues' locks, and only
 * when someone listens or the cache is on. A GOP subscription copies the
 * cache under cam->mu, so it misses no AU and gets none twice.
 */
#include "hub/hub.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ENTRIES 256
#define MAX_ENTRIES 65536
#define DEFAULT_BYTES (16u << 20)
#define MAX_BYTES (1u << 30)
/* Freed buffers are kept for reuse, by size class (4 KiB steps up to
 * 256 KiB), at most POOL_BYTES in all: a fresh 20 KB malloc per published
 * AU costs page faults when the allocator gives memory back and takes it
 * again. */
#define POOL_STEP 4096u
#define POOL_CLASSES 64u
#define POOL_BYTES (8u << 20)

struct reel_hub_buf {
    atomic_size_t refs;
    struct reel_hub *hub;
    struct reel_hub_buf *next;       /* in the pool */
    size_t len, cap;
    uint8_t data[];
};

/* A queue entry: small, so that a deep queue costs little memory; the
 * payload (AU bytes, or an event's struct) is in a shared buffer. */
struct entry {
    struct reel_hub_buf *buf;
    int64_t ts90k, wall90k, sample_entry_id;
    uint64_t lost;
    uint32_t len;
    uint8_t kind;
    bool key;
};

struct reel_hub_sub {
    struct reel_hub *hub;
    struct reel_hub_cam *cam;        /* NULL: every camera (events) */
    unsigned kinds;
    struct reel_hub_sub *next;       /* in cam->subs or hub->all (under their lock) */
    bool linked;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct entry *ring;
    size_t cap, head, n;
    size_t bytes, max_bytes;
    bool need_key;                   /* no AU until a key frame */
    bool lagging;                    /* need_key because the queue overflowed */
    uint64_t lost_pending, lost_total, lost_events_pending;
    int efd;
    bool efd_set;
    bool gop;
};

/* A camera's GOP cache (hub->cache_mu). */
struct gop {
    struct entry *v;
    size_t n, a;
    size_t bytes;
    bool off;                        /* over a cap: nothing until the next key frame */
    bool listed;                     /* in hub->cached */
    struct reel_hub_cam *prev, *next;
    unsigned watchers;               /* .gop subscriptions */
    uint64_t watched;                /* hub->watch_clock at the last watch start/end; 0 never */
};

/* A sample entry (cam->mu). */
struct centry {
    int64_t id;
    uint8_t *box;
    size_t len;
    int width, height;
    char codec[32];
};

#define GOP_ENTRIES_MAX 4096u

struct reel_hub_cam {
    struct reel_hub *hub;
    struct gop gop;
    struct centry entries[REEL_HUB_ENTRIES_MAX];
    size_t nentries, entry_next;
    int64_t id;
    atomic_uint nau;                 /* subscriptions to AUs */
    size_t refs;                     /* registration + subscriptions (hub->mu) */
    bool registered;                 /* (hub->mu and mu) */
    pthread_mutex_t mu;
    struct reel_hub_sub *subs;
    struct reel_hub_state status;
};

struct reel_hub {
    pthread_mutex_t mu;
    struct reel_hub_cam **cams;      /* sorted by id */
    size_t ncams, acams;
    struct reel_hub_sub *all;
    atomic_uint nrec;                /* subscriptions to recording events */
    atomic_uint nall_state;          /* every-camera subscriptions to states */
    atomic_uint_fast64_t au_published, au_copies, bytes_copied;
    pthread_mutex_t pool_mu;
    struct reel_hub_buf *pool[POOL_CLASSES];
    size_t pool_bytes;
    atomic_bool cache_on;
    pthread_mutex_t cache_mu;
    size_t cache_max, cache_bytes;
    uint64_t watch_clock, cache_evictions;
    struct reel_hub_cam *cached;     /* cameras with a non-empty cache */
};

static void cam_forget(struct reel_hub *h, struct reel_hub_cam *c);
static void gop_clear_locked(struct reel_hub *h, struct reel_hub_cam *c);

int reel_hub_new(struct reel_hub **ret)
{
    struct reel_hub *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->pool_mu, NULL);
    pthread_mutex_init(&h->cache_mu, NULL);
    *ret = h;
    return 0;
}

void reel_hub_free(struct reel_hub *h)
{
    if (!h)
        return;
    /* Entries left by a caller that forgot to remove them. */
    for (size_t i = 0; i < h->ncams; i++) {
        pthread_mutex_destroy(&h->cams[i]->mu);
        cam_forget(h, h->cams[i]);
        free(h->cams[i]);
    }
    free(h->cams);
    for (size_t k = 0; k < POOL_CLASSES; k++)
        while (h->pool[k]) {
            struct reel_hub_buf *b = h->pool[k];
            h->pool[k] = b->next;
            free(b);
        }
    pthread_mutex_destroy(&h->pool_mu);
    pthread_mutex_destroy(&h->cache_mu);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* ---- camera table (hub->mu held) ---- */

static size_t cam_pos(const struct reel_hub *h, int64_t id)
{
    size_t lo = 0, hi = h->ncams;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->cams[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct reel_hub_cam *cam_find(const struct reel_hub *h, int64_t id)
{
    size_t i = cam_pos(h, id);
    return i < h->ncams && h->cams[i]->id == id ? h->cams[i] : NULL;
}

static struct reel_hub_cam *cam_get(struct reel_hub *h, int64_t id)
{
    struct reel_hub_cam *c = cam_find(h, id);
    if (c)
        return c;
    if (h->ncams == h->acams) {
        size_t na = h->acams ? h->acams * 2 : 16;
        struct reel_hub_cam **v = realloc(h->cams, na * sizeof(*v));
        if (!v)
            return NULL;
        h->cams = v;
        h->acams = na;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->hub = h;
    c->id = id;
    c->status.camera_id = id;
    pthread_mutex_init(&c->mu, NULL);
    size_t i = cam_pos(h, id);
    memmove(&h->cams[i + 1], &h->cams[i], (h->ncams - i) * sizeof(*h->cams));
    h->cams[i] = c;
    h->ncams++;
    return c;
}

static void cam_unref(struct reel_hub *h, struct reel_hub_cam *c)
{
    if (--c->refs > 0)
        return;
    size_t i = cam_pos(h, c->id);
    memmove(&h->cams[i], &h->cams[i + 1], (h->ncams - i - 1) * sizeof(*h->cams));
    h->ncams--;
    pthread_mutex_destroy(&c->mu);
    cam_forget(h, c);
    free(c);
}

int reel_hub_cam_add(struct reel_hub *h, int64_t camera_id, const struct reel_hub_state *initial,
                     struct reel_hub_cam **ret)
{
    if (camera_id == 0)
        return -EINVAL;
    pthread_mutex_lock(&h->mu);
    struct reel_hub_cam *c = cam_get(h, camera_id);
    int r = 0;
    if (!c) {
        r = -ENOMEM;
    } else if (c->registered) {
        r = -EEXIST;
    } else {
        pthread_mutex_lock(&c->mu);
        c->registered = true;
        memset(&c->status, 0, sizeof(c->status));
        if (initial)
            c->status = *initial;
        c->status.camera_id = camera_id;
        pthread_mutex_unlock(&c->mu);
        c->refs++;
        *ret = c;
    }
    pthread_mutex_unlock(&h->mu);
    return r;
}

void reel_hub_cam_remove(struct reel_hub *h, struct reel_hub_cam *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&h->mu);
    pthread_mutex_lock(&c->mu);
    c->registered = false;
    gop_clear_locked(h, c);
    pthread_mutex_unlock(&c->mu);
    cam_unref(h, c);
    pthread_mutex_unlock(&h->mu);
}

/* ---- queues (sub->mu held) ---- */

/* A buffer for len bytes with one reference, from the pool or malloc. */
static struct reel_hub_buf *buf_new(struct reel_hub *h, size_t len)
{
    size_t cap = (len + POOL_STEP - 1) / POOL_STEP * POOL_STEP;
    if (cap == 0)
        cap = POOL_STEP;
    size_t k = cap / POOL_STEP - 1;
    struct reel_hub_buf *b = NULL;
    if (k < POOL_CLASSES) {
        pthread_mutex_lock(&h->pool_mu);
        b = h->pool[k];
        if (b) {
            h->pool[k] = b->next;
            h->pool_bytes -= b->cap;
        }
        pthread_mutex_unlock(&h->pool_mu);
    }
    if (!b) {
        if (len > SIZE_MAX - sizeof(*b) - POOL_STEP)
            return NULL;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->hub = h;
        b->cap = cap;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    b->next = NULL;
    return b;
}

static void buf_unref(struct reel_hub_buf *b)
{
    if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    struct reel_hub *h = b->hub;
    size_t k = b->cap / POOL_STEP - 1;
    if (k < POOL_CLASSES) {
        pthread_mutex_lock(&h->pool_mu);
        if (h->pool_bytes + b->cap <= POOL_BYTES) {
            b->next = h->pool[k];
            h->pool[k] = b;
            h->pool_bytes += b->cap;
            b = NULL;
        }
        pthread_mutex_unlock(&h->pool_mu);
    }
    free(b);
}

static void sub_wake(struct reel_hub_sub *s)
{
    pthread_cond_signal(&s->cv);
    if (s->efd >= 0 && !s->efd_set) {
        uint64_t one = 1;
        if (write(s->efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
            s->efd_set = true;
    }
}

/* The queue is empty: the eventfd must not stay readable. */
static void sub_efd_clear(struct reel_hub_sub *s)
{
    uint64_t v;
    if (s->efd_set && (read(s->efd, &v, sizeof(v)) == (ssize_t)sizeof(v) || errno == EAGAIN))
        s->efd_set = false;
}

static void sub_enqueue(struct reel_hub_sub *s, const struct entry *m)
{
    s->ring[(s->head + s->n) % s->cap] = *m;
    if (s->n++ == 0)
        sub_wake(s);
}

/* Drops every queued access unit (counted as lost); events stay in order. */
static void sub_drop_aus(struct reel_hub_sub *s)
{
    size_t kept = 0, n0 = s->n;
    for (size_t i = 0; i < s->n; i++) {
        struct entry *m = &s->ring[(s->head + i) % s->cap];
        if (m->kind == REEL_HUB_AU) {
            buf_unref(m->buf);
            s->lost_pending++;
            s->lost_total++;
            continue;
        }
        s->ring[(s->head + kept++) % s->cap] = *m;
    }
    s->n = kept;
    s->bytes = 0;
    if (kept < n0)
        s->need_key = s->lagging = true;
    if (kept == 0)
        sub_efd_clear(s);
}

/* The AU being published is lost: nothing more until a key frame. */
static void sub_lose(struct reel_hub_sub *s)
{
    s->lost_pending++;
    s->lost_total++;
    s->need_key = s->lagging = true;
}

static void sub_push_au(struct reel_hub_sub *s, struct reel_hub_cam *c, const struct reel_hub_au *au,
                        struct reel_hub_buf **bufp)
{
    if (au->len > UINT32_MAX) {
        sub_lose(s);
        return;
    }
    if (s->need_key && !au->key) {
        if (s->lagging) {
            s->lost_pending++;
            s->lost_total++;
        }
        return;
    }
    if (s->n == s->cap || s->bytes + au->len > s->max_bytes) {
        sub_drop_aus(s);
        if (s->n == s->cap || au->len > s->max_bytes || !au->key) {
            sub_lose(s);
            return;
        }
    }
    if (!*bufp) {
        struct reel_hub_buf *b = buf_new(c->hub, au->len);   /* the publisher's reference */
        if (!b) {
            sub_drop_aus(s);
            sub_lose(s);
            return;
        }
        memcpy(b->data, au->data, au->len);
        atomic_fetch_add_explicit(&c->hub->au_copies, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->hub->bytes_copied, au->len, memory_order_relaxed);
        *bufp = b;
    }
    struct reel_hub_buf *b = *bufp;
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    struct entry m = { .kind = REEL_HUB_AU, .buf = b, .ts90k = au->ts90k, .wall90k = au->wall90k,
                       .sample_entry_id = au->sample_entry_id, .len = (uint32_t)au->len, .key = au->key };
    if (au->key) {
        m.lost = s->lost_pending;
        s->lost_pending = 0;
        s->need_key = s->lagging = false;
    }
    s->bytes += au->len;
    sub_enqueue(s, &m);
}

static void sub_push_event(struct reel_hub_sub *s, unsigned kind, const void *ev, size_t len,
                           struct reel_hub_buf **bufp)
{
    if (!*bufp) {
        struct reel_hub_buf *b = buf_new(s->hub, len);   /* the publisher's reference */
        if (!b) {
            s->lost_events_pending++;
            return;
        }
        memcpy(b->data, ev, len);
        *bufp = b;
    }
    if (s->n == s->cap)
        sub_drop_aus(s);
    if (s->n == s->cap) {
        /* full of events: the oldest goes */
        buf_unref(s->ring[s->head].buf);
        s->head = (s->head + 1) % s->cap;
        s->n--;
        s->lost_events_pending++;
    }
    atomic_fetch_add_explicit(&(*bufp)->refs, 1, memory_order_relaxed);
    struct entry m = { .kind = (uint8_t)kind, .buf = *bufp };
    sub_enqueue(s, &m);
}

/* ---- GOP cache ---- */

/* hub->cache_mu held. */
static void gop_clear(struct reel_hub *h, struct reel_hub_cam *c)
{
    struct gop *g = &c->gop;
    for (size_t i = 0; i < g->n; i++)
        buf_unref(g->v[i].buf);
    h->cache_bytes -= g->bytes;
    g->n = 0;
    g->bytes = 0;
    if (g->listed) {
        if (g->prev)
            g->prev->gop.next = g->next;
        else
            h->cached = g->next;
        if (g->next)
            g->next->gop.prev = g->prev;
        g->prev = g->next = NULL;
        g->listed = false;
    }
}

/* Takes hub->cache_mu (cam->mu held, or the camera unreachable). */
static void gop_clear_locked(struct reel_hub *h, struct reel_hub_cam *c)
{
    pthread_mutex_lock(&h->cache_mu);
    gop_clear(h, c);
    pthread_mutex_unlock(&h->cache_mu);
}

/* The camera is freed: its cache and entries go. */
static void cam_forget(struct reel_hub *h, struct reel_hub_cam *c)
{
    gop_clear_locked(h, c);
    free(c->gop.v);
    c->gop.v = NULL;
    c->gop.a = 0;
    for (size_t i = 0; i < c->nentries; i++)
        free(c->entries[i].box);
    c->nentries = 0;
}

/* Which cache goes first: watched now last, then by last watch (0: never). */
static uint64_t gop_age(const struct reel_hub_cam *c)
{
    return c->gop.watchers > 0 ? (UINT64_C(1) << 63) + c->gop.watched : c->gop.watched;
}

/* cam->mu held: adds the AU being published to c's cache (hub->cache_mu).
 * *bufp: the shared copy, made here when none yet. */
static void gop_add(struct reel_hub_cam *c, const struct reel_hub_au *au, struct reel_hub_buf **bufp)
{
    struct reel_hub *h = c->hub;
    struct gop *g = &c->gop;
    pthread_mutex_lock(&h->cache_mu);
    if (au->key) {
        gop_clear(h, c);
        g->off = false;
    } else if (g->off || g->n == 0) {
        goto out;
    }
    if (au->len > UINT32_MAX || g->bytes + au->len > REEL_HUB_CACHE_CAM_MAX || g->n == GOP_ENTRIES_MAX)
        goto off;
    /* the budget: the least recently watched caches go first (maybe c's) */
    while (h->cache_bytes + au->len > h->cache_max) {
        struct reel_hub_cam *victim = g->n > 0 ? c : NULL;
        for (struct reel_hub_cam *o = h->cached; o; o = o->gop.next)
            if (o != c && (!victim || gop_age(o) < gop_age(victim)))
                victim = o;
        if (!victim || victim == c)
            goto off;
        gop_clear(h, victim);
        h->cache_evictions++;
    }
    if (g->n == g->a) {
        size_t na = g->a ? g->a * 2 : 64;
        struct entry *v = realloc(g->v, na * sizeof(*v));
        if (!v)
            goto off;
        g->v = v;
        g->a = na;
    }
    if (!*bufp) {
        struct reel_hub_buf *b = buf_new(h, au->len);     /* the publisher's reference */
        if (!b)
            goto off;
        memcpy(b->data, au->data, au->len);
        atomic_fetch_add_explicit(&h->au_copies, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&h->bytes_copied, au->len, memory_order_relaxed);
        *bufp = b;
    }
    atomic_fetch_add_explicit(&(*bufp)->refs, 1, memory_order_relaxed);
    g->v[g->n++] = (struct entry){ .kind = REEL_HUB_AU, .buf = *bufp, .ts90k = au->ts90k, .wall90k = au->wall90k,
                                   .sample_entry_id = au->sample_entry_id, .len = (uint32_t)au->len,
                                   .key = au->key };
    g->bytes += au->len;
    h->cache_bytes += au->len;
    if (!g->listed) {
        g->listed = true;
        g->prev = NULL;
        g->next = h->cached;
        if (h->cached)
            h->cached->gop.prev = c;
        h->cached = c;
    }
    goto out;
off:
    if (g->n > 0)
        h->cache_evictions++;
    gop_clear(h, c);
    g->off = true;
out:
    pthread_mutex_unlock(&h->cache_mu);
}

void reel_hub_set_cache_max(struct reel_hub *h, size_t bytes)
{
    pthread_mutex_lock(&h->cache_mu);
    h->cache_max = bytes;
    atomic_store(&h->cache_on, bytes > 0);
    pthread_mutex_unlock(&h->cache_mu);
}

int reel_hub_keyframe_get(struct reel_hub *h, int64_t camera_id, struct reel_hub_msg *ret)
{
    int r = -ENOENT;
    pthread_mutex_lock(&h->mu);
    struct reel_hub_cam *c = cam_find(h, camera_id);
    if (c) {
        pthread_mutex_lock(&h->cache_mu);
        if (c->gop.n > 0 && c->gop.v[0].key) {
            const struct entry *e = &c->gop.v[0];
            atomic_fetch_add_explicit(&e->buf->refs, 1, memory_order_relaxed);
            memset(ret, 0, sizeof(*ret));
            ret->kind = REEL_HUB_AU;
            ret->camera_id = camera_id;
            ret->buf = e->buf;
            ret->au = (struct reel_hub_au){ .data = e->buf->data, .len = e->len, .ts90k = e->ts90k,
                                            .wall90k = e->wall90k, .key = true,
                                            .sample_entry_id = e->sample_entry_id };
            r = 0;
        }
        pthread_mutex_unlock(&h->cache_mu);
    }
    pthread_mutex_unlock(&h->mu);
    return r;
}

/* ---- sample entries ---- */

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* The payload of child box `type` of a visual sample entry; NULL if none. */
static const uint8_t *entry_child(const uint8_t *box, size_t len, const char *type, size_t *plen)
{
    size_t off = 86;                     /* 8 header + 78 VisualSampleEntry */
    while (off + 8 <= len) {
        uint32_t sz = rd32(box + off);
        if (sz < 8 || sz > len - off)
            return NULL;
        if (memcmp(box + off + 4, type, 4) == 0) {
            *plen = sz - 8;
            return box + off + 8;
        }
        off += sz;
    }
    return NULL;
}

static void entry_codec(const uint8_t *box, size_t len, char out[32])
{
    size_t n;
    const uint8_t *p;
    out[0] = 0;
    if ((p = entry_child(box, len, "avcC", &n)) && n >= 4) {
        snprintf(out, 32, "%.4s.%02x%02x%02x", (const char *)box + 4, p[1], p[2], p[3]);
    } else if ((p = entry_child(box, len, "hvcC", &n)) && n >= 13) {
        static const char *space[] = { "", "A", "B", "C" };
        uint32_t compat = rd32(p + 2), rev = 0;
        for (int i = 0; i < 32; i++)
            rev |= ((compat >> i) & 1u) << (31 - i);
        int w = snprintf(out, 32, "%.4s.%s%u.%X.%c%u", (const char *)box + 4, space[p[1] >> 6], p[1] & 0x1fu, rev,
                         (p[1] & 0x20) ? 'H' : 'L', p[12]);
        int last = 5;
        while (last >= 0 && p[6 + last] == 0)
            last--;
        for (int i = 0; i <= last && w > 0 && w < 28; i++)
            w += snprintf(out + w, (size_t)(32 - w), ".%X", p[6 + i]);
    } else {
        snprintf(out, 32, "%.4s", (const char *)box + 4);
    }
}

int reel_hub_cam_set_entry_ex(struct reel_hub_cam *c, int64_t entry_id, const uint8_t *box, size_t len,
                              const char *codec_string)
{
    if (entry_id <= 0 || !box || len < 86 || len > REEL_HUB_ENTRY_MAX || rd32(box) != len)
        return -EINVAL;
    int r = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nentries; i++)
        if (c->entries[i].id == entry_id)
            goto out;
    uint8_t *copy = malloc(len);
    if (!copy) {
        r = -ENOMEM;
        goto out;
    }
    memcpy(copy, box, len);
    struct centry *e;
    if (c->nentries < REEL_HUB_ENTRIES_MAX) {
        e = &c->entries[c->nentries++];
    } else {
        e = &c->entries[c->entry_next];
        c->entry_next = (c->entry_next + 1) % REEL_HUB_ENTRIES_MAX;
        free(e->box);
    }
    e->id = entry_id;
    e->box = copy;
    e->len = len;
    e->width = box[32] << 8 | box[33];
    e->height = box[34] << 8 | box[35];
    if (codec_string)
        snprintf(e->codec, sizeof(e->codec), "%s", codec_string);
    else
        entry_codec(box, len, e->codec);
out:
    pthread_mutex_unlock(&c->mu);
    return r;
}

int reel_hub_cam_set_entry(struct reel_hub_cam *c, int64_t entry_id, const uint8_t *box, size_t len)
{
    return reel_hub_cam_set_entry_ex(c, entry_id, box, len, NULL);
}

int reel_hub_entry_get(struct reel_hub *h, int64_t camera_id, int64_t entry_id, uint8_t *buf, size_t cap,
                       size_t *len, int *width, int *height, char codec_string[32])
{
    int r = -ENOENT;
    pthread_mutex_lock(&h->mu);
    struct reel_hub_cam *c = cam_find(h, camera_id);
    if (c) {
        pthread_mutex_lock(&c->mu);
        for (size_t i = 0; i < c->nentries; i++) {
            const struct centry *e = &c->entries[i];
            if (e->id != entry_id)
                continue;
            *len = e->len;
            if (width)
                *width = e->width;
            if (height)
                *height = e->height;
            if (codec_string)
                snprintf(codec_string, 32, "%s", e->codec);
            r = e->len <= cap ? 0 : -ENOSPC;
            if (r == 0)
                memcpy(buf, e->box, e->len);
            break;
        }
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return r;
}

/* ---- publishing ---- */

static void publish_au_slow(struct reel_hub_cam *c, const struct reel_hub_au *au)
{
    struct reel_hub_buf *b = NULL;
    pthread_mutex_lock(&c->mu);
    if (atomic_load_explicit(&c->hub->cache_on, memory_order_relaxed))
        gop_add(c, au, &b);
    for (struct reel_hub_sub *s = c->subs; s; s = s->next) {
        if (!(s->kinds & REEL_HUB_AU))
            continue;
        pthread_mutex_lock(&s->mu);
        sub_push_au(s, c, au, &b);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&c->mu);
    atomic_fetch_add_explicit(&c->hub->au_published, 1, memory_order_relaxed);
    buf_unref(b);
}

void reel_hub_publish_au(struct reel_hub_cam *c, const struct reel_hub_au *au)
{
    if (atomic_load_explicit(&c->nau, memory_order_relaxed) == 0 &&
        !atomic_load_explicit(&c->hub->cache_on, memory_order_relaxed))
        return;
    publish_au_slow(c, au);
}

static void deliver_event(struct reel_hub_sub *list, unsigned kind, const void *ev, size_t len,
                          struct reel_hub_buf **bufp)
{
    for (struct reel_hub_sub *s = list; s; s = s->next) {
        if (!(s->kinds & kind))
            continue;
        pthread_mutex_lock(&s->mu);
        sub_push_event(s, kind, ev, len, bufp);
        pthread_mutex_unlock(&s->mu);
    }
}

static void state_put(struct reel_hub_cam *c, const struct reel_hub_state *st, bool event)
{
    struct reel_hub_state m;
    struct reel_hub_buf *b = NULL;
    pthread_mutex_lock(&c->mu);
    c->status = *st;
    c->status.camera_id = c->id;
    m = c->status;
    if (!st->connected)
        gop_clear_locked(c->hub, c);   /* a new connection starts a new GOP */
    if (event)
        deliver_event(c->subs, REEL_HUB_STATE, &m, sizeof(m), &b);
    pthread_mutex_unlock(&c->mu);
    if (event && atomic_load_explicit(&c->hub->nall_state, memory_order_relaxed) > 0) {
        pthread_mutex_lock(&c->hub->mu);
        deliver_event(c->hub->all, REEL_HUB_STATE, &m, sizeof(m), &b);
        pthread_mutex_unlock(&c->hub->mu);
    }
    buf_unref(b);
}

void reel_hub_publish_state(struct reel_hub_cam *c, const struct reel_hub_state *st) { state_put(c, st, true); }
void reel_hub_status_put(struct reel_hub_cam *c, const struct reel_hub_state *st) { state_put(c, st, false); }

void reel_hub_publish_recording(struct reel_hub *h, const struct reel_hub_recording *ev)
{
    if (atomic_load_explicit(&h->nrec, memory_order_relaxed) == 0)
        return;
    struct reel_hub_buf *b = NULL;
    pthread_mutex_lock(&h->mu);
    struct reel_hub_cam *c = cam_find(h, ev->camera_id);
    if (c) {
        pthread_mutex_lock(&c->mu);
        deliver_event(c->subs, REEL_HUB_RECORDING, ev, sizeof(*ev), &b);
        pthread_mutex_unlock(&c->mu);
    }
    deliver_event(h->all, REEL_HUB_RECORDING, ev, sizeof(*ev), &b);
    pthread_mutex_unlock(&h->mu);
    buf_unref(b);
}

/* ---- status readers ---- */

int reel_hub_status_get(struct reel_hub *h, int64_t camera_id, struct reel_hub_state *ret)
{
    int r = -ENOENT;
    pthread_mutex_lock(&h->mu);
    struct reel_hub_cam *c = cam_find(h, camera_id);
    if (c && c->registered) {
        pthread_mutex_lock(&c->mu);
        *ret = c->status;
        pthread_mutex_unlock(&c->mu);
        r = 0;
    }
    pthread_mutex_unlock(&h->mu);
    return r;
}

int reel_hub_status_list(struct reel_hub *h, struct reel_hub_state **ret, size_t *ret_n)
{
    pthread_mutex_lock(&h->mu);
    struct reel_hub_state *v = NULL;
    size_t n = 0;
    if (h->ncams > 0) {
        v = calloc(h->ncams, sizeof(*v));
        if (!v) {
            pthread_mutex_unlock(&h->mu);
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < h->ncams; i++) {
        struct reel_hub_cam *c = h->cams[i];
        pthread_mutex_lock(&c->mu);
        if (c->registered)
            v[n++] = c->status;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&h->mu);
    if (n == 0) {
        free(v);
        v = NULL;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* ---- subscriptions ---- */

/* hub->mu and c->mu held, s not yet readable by anyone: s starts with the
 * cached GOP when all of it fits its queue; the camera is watched. */
static void gop_watch(struct reel_hub *h, struct reel_hub_cam *c, struct reel_hub_sub *s)
{
    pthread_mutex_lock(&h->cache_mu);
    struct gop *g = &c->gop;
    g->watchers++;
    g->watched = ++h->watch_clock;
    if (g->n > 0 && g->v[0].key && g->n <= s->cap && g->bytes <= s->max_bytes) {
        for (size_t i = 0; i < g->n; i++) {
            atomic_fetch_add_explicit(&g->v[i].buf->refs, 1, memory_order_relaxed);
            s->ring[s->n++] = g->v[i];
        }
        s->bytes = g->bytes;
        s->need_key = false;
    }
    pthread_mutex_unlock(&h->cache_mu);
}

int reel_hub_subscribe(struct reel_hub *h, const struct reel_hub_sub_cfg *cfg, struct reel_hub_sub **ret)
{
    unsigned all_kinds = REEL_HUB_AU | REEL_HUB_STATE | REEL_HUB_RECORDING;
    size_t ent = cfg->max_entries ? cfg->max_entries : DEFAULT_ENTRIES;
    size_t bytes = cfg->max_bytes ? cfg->max_bytes : DEFAULT_BYTES;
    if (!cfg->kinds || (cfg->kinds & ~all_kinds) || 
        (cfg->camera_id == 0 && (cfg->kinds & REEL_HUB_AU)) || ent > MAX_ENTRIES || bytes > MAX_BYTES ||
        (cfg->gop && !(cfg->kinds & REEL_HUB_AU)))
        return -EINVAL;
    struct reel_hub_sub *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->ring = calloc(ent, sizeof(*s->ring));
    if (!s->ring) {
        free(s);
        return -ENOMEM;
    }
    s->efd = -1;                          /* made on demand: reel_hub_sub_fd() */
    s->hub = h;
    s->kinds = cfg->kinds;
    s->cap = ent;
    s->max_bytes = bytes;
    s->need_key = true;
    s->gop = cfg->gop;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);

    pthread_mutex_lock(&h->mu);
    if (cfg->camera_id) {
        struct reel_hub_cam *c = cam_get(h, cfg->camera_id);
        if (!c) {
            pthread_mutex_unlock(&h->mu);
            s->cam = NULL;
            reel_hub_unsubscribe(s);      /* not linked: only frees */
            return -ENOMEM;
        }
        c->refs++;
        s->cam = c;
        pthread_mutex_lock(&c->mu);
        s->next = c->subs;
        c->subs = s;
        if (s->kinds & REEL_HUB_AU)
            atomic_fetch_add(&c->nau, 1);
        if (s->gop)
            gop_watch(h, c, s);
        pthread_mutex_unlock(&c->mu);
    } else {
        s->next = h->all;
        h->all = s;
        s->linked = true;
        if (s->kinds & REEL_HUB_STATE)
            atomic_fetch_add(&h->nall_state, 1);
    }
    if (s->kinds & REEL_HUB_RECORDING)
        atomic_fetch_add(&h->nrec, 1);
    pthread_mutex_unlock(&h->mu);
    *ret = s;
    return 0;
}

static void unlink_sub(struct reel_hub_sub **list, struct reel_hub_sub *s)
{
    for (struct reel_hub_sub **p = list; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            return;
        }
}

void reel_hub_unsubscribe(struct reel_hub_sub *s)
{
    if (!s)
        return;
    struct reel_hub *h = s->hub;
    pthread_mutex_lock(&h->mu);
    if (s->cam) {
        struct reel_hub_cam *c = s->cam;
        pthread_mutex_lock(&c->mu);
        unlink_sub(&c->subs, s);
        if (s->kinds & REEL_HUB_AU)
            atomic_fetch_sub(&c->nau, 1);
        if (s->gop) {
            pthread_mutex_lock(&h->cache_mu);
            c->gop.watchers--;
            c->gop.watched = ++h->watch_clock;
            pthread_mutex_unlock(&h->cache_mu);
        }
        pthread_mutex_unlock(&c->mu);
        cam_unref(h, c);
        if (s->kinds & REEL_HUB_RECORDING)
            atomic_fetch_sub(&h->nrec, 1);
    } else if (s->linked) {
        unlink_sub(&h->all, s);
        if (s->kinds & REEL_HUB_STATE)
            atomic_fetch_sub(&h->nall_state, 1);
        if (s->kinds & REEL_HUB_RECORDING)
            atomic_fetch_sub(&h->nrec, 1);
    }
    pthread_mutex_unlock(&h->mu);
    /* Unlinked: no publisher can reach s any more. */
    for (size_t i = 0; i < s->n; i++)
        buf_unref(s->ring[(s->head + i) % s->cap].buf);
    if (s->efd >= 0)
        close(s->efd);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->ring);
    free(s);
}

int reel_hub_sub_read(struct reel_hub_sub *s, struct reel_hub_msg *ret, int64_t timeout_ns)
{
    pthread_mutex_lock(&s->mu);
    if (s->n == 0 && timeout_ns != 0) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        if (timeout_ns > 0) {
            int64_t ns = until.tv_nsec + timeout_ns % 1000000000;
            until.tv_sec += (time_t)(timeout_ns / 1000000000 + ns / 1000000000);
            until.tv_nsec = (long)(ns % 1000000000);
        }
        while (s->n == 0) {
            if (timeout_ns < 0) {
                pthread_cond_wait(&s->cv, &s->mu);
            } else if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT) {
                break;
            }
        }
    }
    if (s->n == 0) {
        sub_efd_clear(s);
        pthread_mutex_unlock(&s->mu);
        return timeout_ns == 0 ? -EAGAIN : -ETIMEDOUT;
    }
    struct entry e = s->ring[s->head];
    s->head = (s->head + 1) % s->cap;
    s->n--;
    memset(ret, 0, sizeof(*ret));
    ret->kind = e.kind;
    ret->camera_id = s->cam ? s->cam->id : 0;
    if (e.kind == REEL_HUB_AU) {
        s->bytes -= e.len;
        ret->buf = e.buf;                 /* the reference moves to the message */
        ret->lost = e.lost;
        ret->au = (struct reel_hub_au){ .data = e.buf->data, .len = e.len, .ts90k = e.ts90k,
                                        .wall90k = e.wall90k, .key = e.key,
                                        .sample_entry_id = e.sample_entry_id };
    } else if (e.kind == REEL_HUB_STATE) {
        memcpy(&ret->state, e.buf->data, sizeof(ret->state));
        ret->camera_id = ret->state.camera_id;
    } else {
        memcpy(&ret->rec, e.buf->data, sizeof(ret->rec));
        ret->camera_id = ret->rec.camera_id;
    }
    ret->lost_events = s->lost_events_pending;
    s->lost_events_pending = 0;
    if (e.kind != REEL_HUB_AU)
        buf_unref(e.buf);
    if (s->n == 0)
        sub_efd_clear(s);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void reel_hub_msg_release(struct reel_hub_msg *m)
{
    if (!m)
        return;
    buf_unref(m->buf);
    m->buf = NULL;
}

int reel_hub_sub_fd(struct reel_hub_sub *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->efd < 0) {
        s->efd = eventfd(s->n > 0 ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->efd < 0) {
            int e = errno;
            pthread_mutex_unlock(&s->mu);
            return -e;
        }
        s->efd_set = s->n > 0;
    }
    int fd = s->efd;
    pthread_mutex_unlock(&s->mu);
    return fd;
}

uint64_t reel_hub_sub_lost(struct reel_hub_sub *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->lost_total;
    pthread_mutex_unlock(&s->mu);
    return v;
}

void reel_hub_get_stats(struct reel_hub *h, struct reel_hub_stats *ret)
{
    ret->au_published = atomic_load(&h->au_published);
    ret->au_copies = atomic_load(&h->au_copies);
    ret->bytes_copied = atomic_load(&h->bytes_copied);
    pthread_mutex_lock(&h->cache_mu);
    ret->cache_bytes = h->cache_bytes;
    ret->cache_evictions = h->cache_evictions;
    pthread_mutex_unlock(&h->cache_mu);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The timeline's span cache; see tlcache.h.
 */
#include "http/tlcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/timeline.h"

/* ---- the merged spans of one camera ---- */

static int grow(struct reel_tlspans *t, size_t extra)
{
    if (t->n + extra <= t->alloc)
        return 0;
    if (t->n + extra > REEL_TLCACHE_SPANS_MAX)
        return -E2BIG;
    size_t na = t->alloc ? t->alloc * 2 : 16;
    while (na < t->n + extra)
        na *= 2;
    void *p = realloc(t->v, na * sizeof(*t->v));
    if (!p)
        return -ENOMEM;
    t->v = p;
    t->alloc = na;
    return 0;
}

/* The first span starting after t90k. */
static size_t upper(const struct reel_tlspans *t, int64_t t90k)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].start90k <= t90k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t reel_tlspans_find(const struct reel_tlspans *t, int64_t t90k)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].end90k <= t90k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool joins(int64_t end90k, int64_t run_a, int64_t start90k, int64_t run_b)
{
    return start90k <= end90k || (run_a == run_b && run_a != 0 && start90k - end90k <= REEL_TL_JOIN90K);
}

int reel_tlspans_add(struct reel_tlspans *t, int64_t start90k, int64_t end90k, int64_t run_id)
{
    if (end90k <= start90k)
        return 0;
    /* the common case: footage newer than everything, or the last span growing */
    if (t->n > 0) {
        struct reel_tlspan *last = &t->v[t->n - 1];
        if (start90k >= last->start90k && joins(last->end90k, last->run_id, start90k, run_id)) {
            if (end90k > last->end90k) {
                last->end90k = end90k;
                last->run_id = run_id;
            }
            return 0;
        }
    }
    size_t p = upper(t, start90k), a = p, b = p;
    struct reel_tlspan x = { start90k, end90k, run_id };
    if (p > 0 && joins(t->v[p - 1].end90k, t->v[p - 1].run_id, start90k, run_id)) {
        a = p - 1;
        x.start90k = t->v[a].start90k;
        if (t->v[a].end90k >= x.end90k) {
            x.end90k = t->v[a].end90k;
            x.run_id = t->v[a].run_id;
        }
    }
    while (b < t->n && joins(x.end90k, x.run_id, t->v[b].start90k, t->v[b].run_id)) {
        if (t->v[b].end90k > x.end90k) {
            x.end90k = t->v[b].end90k;
            x.run_id = t->v[b].run_id;
        }
        b++;
    }
    if (a == b) {
        int r = grow(t, 1);
        if (r < 0)
            return r;
        memmove(&t->v[a + 1], &t->v[a], (t->n - a) * sizeof(*t->v));
        t->n++;
    } else {
        memmove(&t->v[a + 1], &t->v[b], (t->n - b) * sizeof(*t->v));
        t->n -= b - a - 1;
    }
    t->v[a] = x;
    return 0;
}

int reel_tlspans_sub(struct reel_tlspans *t, int64_t start90k, int64_t end90k)
{
    if (end90k <= start90k)
        return 0;
    size_t i = reel_tlspans_find(t, start90k);
    while (i < t->n && t->v[i].start90k < end90k) {
        struct reel_tlspan *x = &t->v[i];
        bool left = x->start90k < start90k, right = x->end90k > end90k;
        if (left && right) {
            int r = grow(t, 1);
            if (r < 0)
                return r;
            x = &t->v[i];
            memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
            t->n++;
            t->v[i].end90k = start90k;
            t->v[i + 1].start90k = end90k;
            return 0;
        }
        if (left) {
            x->end90k = start90k;
            i++;
        } else if (right) {
            x->start90k = end90k;
            return 0;
        } else {
            memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
            t->n--;
        }
    }
    return 0;
}

void reel_tlspans_clear(struct reel_tlspans *t)
{
    free(t->v);
    memset(t, 0, sizeof(*t));
}

/* ---- the cache ---- */

struct cam {
    int64_t id;
    char name[REEL_NAME_MAX];
    struct reel_tlspans spans;
    int64_t tail90k;                     /* re-read recordings starting from here */
    uint64_t used;                       /* for eviction */
};

struct reel_tlcache {
    pthread_mutex_t mu;
    struct cam *cams;                    /* malloc'd array */
    size_t ncams, alloc;
    uint64_t tick;
    bool have_sig;
    int64_t del_sig;
};

int reel_tlcache_new(struct reel_tlcache **ret)
{
    struct reel_tlcache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    *ret = c;
    return 0;
}

static void forget_locked(struct reel_tlcache *c)
{
    for (size_t i = 0; i < c->ncams; i++)
        reel_tlspans_clear(&c->cams[i].spans);
    c->ncams = 0;
    c->have_sig = false;
}

void reel_tlcache_forget(struct reel_tlcache *c)
{
    pthread_mutex_lock(&c->mu);
    forget_locked(c);
    pthread_mutex_unlock(&c->mu);
}

void reel_tlcache_free(struct reel_tlcache *c)
{
    if (!c)
        return;
    forget_locked(c);
    free(c->cams);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

struct scan {
    struct cam *cam;
    int64_t min_open, max_start;
};

static int on_rec(void *opaque, const struct reel_span *x)
{
    struct scan *sc = opaque;
    if (x->open && x->start90k < sc->min_open)
        sc->min_open = x->start90k;
    if (x->start90k > sc->max_start)
        sc->max_start = x->start90k;
    if (x->frames == 0)
        return 0;
    return reel_tlspans_add(&sc->cam->spans, x->start90k, x->start90k + x->wall_duration90k, x->run_id);
}

/* The camera's entry, seeded or brought up to date. */
static int refresh_cam(struct reel_tlcache *c, struct reel_store *s, int64_t id, const char *name, struct cam **ret,
                       struct reel_err *err)
{
    struct cam *cam = NULL;
    for (size_t i = 0; i < c->ncams; i++)
        if (c->cams[i].id == id) {
            cam = &c->cams[i];
            break;
        }
    if (cam && strcmp(cam->name, name) != 0) {
        reel_tlspans_clear(&cam->spans);
        cam->tail90k = INT64_MIN;
    }
    if (!cam) {
        if (c->ncams >= REEL_TLCACHE_CAMERAS_MAX) {
            size_t lru = 0;
            for (size_t i = 1; i < c->ncams; i++)
                if (c->cams[i].used < c->cams[lru].used)
                    lru = i;
            reel_tlspans_clear(&c->cams[lru].spans);
            c->cams[lru] = c->cams[--c->ncams];
        }
        if (c->ncams == c->alloc) {
            size_t na = c->alloc ? c->alloc * 2 : 16;
            void *p = realloc(c->cams, na * sizeof(*c->cams));
            if (!p)
                return reel_err_set(err, ENOMEM, "out of memory");
            c->cams = p;
            c->alloc = na;
        }
        cam = &c->cams[c->ncams++];
        memset(cam, 0, sizeof(*cam));
        cam->id = id;
        cam->tail90k = INT64_MIN;
    }
    snprintf(cam->name, sizeof(cam->name), "%s", name);
    cam->used = ++c->tick;
    struct scan sc = { cam, INT64_MAX, INT64_MIN };
    int64_t from = cam->tail90k == INT64_MIN ? INT64_MIN : cam->tail90k - REEL_TLCACHE_TAIL90K;
    int r = reel_store_span_scan(s, id, from, on_rec, &sc, err);
    if (r < 0) {
        /* half merged: seed it again next time */
        reel_tlspans_clear(&cam->spans);
        cam->tail90k = INT64_MIN;
        return r;
    }
    if (sc.min_open != INT64_MAX)
        cam->tail90k = sc.min_open;
    else if (sc.max_start != INT64_MIN)
        cam->tail90k = sc.max_start;
    *ret = cam;
    return 0;
}

/* Subtracts every deleted range again when the deletion table changed. */
static int refresh_deletions(struct reel_tlcache *c, struct reel_store *s, struct reel_err *err)
{
    int64_t sig;
    int r = reel_store_deletions_sig(s, &sig, err);
    if (r < 0)
        return r;
    if (c->have_sig && sig == c->del_sig)
        return 0;
    struct reel_deletion *d = NULL;
    size_t n = 0;
    if ((r = reel_store_deletions(s, &d, &n, err)) < 0)
        return r;
    for (size_t i = 0; r == 0 && i < n; i++)
        for (size_t k = 0; k < c->ncams; k++)
            if (c->cams[k].id == d[i].camera_id)
                r = reel_tlspans_sub(&c->cams[k].spans, d[i].start90k, d[i].end90k);
    free(d);
    if (r < 0)
        return reel_err_set(err, -r, "out of memory");
    c->del_sig = sig;
    c->have_sig = true;
    return 0;
}

int reel_tlcache_spans(struct reel_tlcache *c, struct reel_store *s, int64_t cam_id, const char *cam_name,
                       int64_t from90k, int64_t to90k, struct reel_span **ret, size_t *ret_n, struct reel_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    pthread_mutex_lock(&c->mu);
    struct cam *cam = NULL;
    int r = refresh_cam(c, s, cam_id, cam_name, &cam, err);
    if (r == 0)
        r = refresh_deletions(c, s, err);
    if (r < 0) {
        pthread_mutex_unlock(&c->mu);
        return r;
    }
    /* refresh_deletions may not move entries: cam stays valid */
    size_t i = reel_tlspans_find(&cam->spans, from90k), j = i;
    while (j < cam->spans.n && cam->spans.v[j].start90k < to90k)
        j++;
    if (j > i) {
        struct reel_span *v = calloc(j - i, sizeof(*v));
        if (!v) {
            pthread_mutex_unlock(&c->mu);
            return reel_err_set(err, ENOMEM, "out of memory");
        }
        for (size_t k = i; k < j; k++)
            v[k - i] = (struct reel_span){ .run_id = (int64_t)(k + 1), .start90k = cam->spans.v[k].start90k,
                                           .wall_duration90k = cam->spans.v[k].end90k -
                                                               cam->spans.v[k].start90k };
        *ret = v;
        *ret_n = j - i;
    }
    pthread_mutex_unlock(&c->mu);
    return 0;
}

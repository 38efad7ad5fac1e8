/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Per-camera JPEG cache over the hub's key frames (snapcache.h).
 */
#include "media/snapcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "media/snapshot.h"

struct slot {
    int64_t camera_id;      /* 0: free */
    bool decoding;          /* one thread decodes; the others wait on cond */
    int64_t made_ns;        /* mono time of the JPEG */
    int64_t used_ns;        /* last request, for eviction */
    uint8_t *jpeg;
    size_t len;
    int fail;               /* the last decode's error (cached like a picture) */
    struct reel_err fail_err;
};

struct reel_snapcache {
    struct reel_hub *hub;
    const struct reel_clock *clock;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    _Atomic uint64_t decodes;
    struct slot slots[REEL_SNAPCACHE_CAMERAS];
};

int reel_snapcache_new(struct reel_snapcache **ret, struct reel_hub *hub,
                       const struct reel_clock *clock, struct reel_err *err)
{
    struct reel_snapcache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return reel_err_set(err, ENOMEM, "snapshot cache: out of memory");
    c->hub = hub;
    c->clock = clock != NULL ? clock : reel_clock_system();
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    *ret = c;
    return 0;
}

void reel_snapcache_free(struct reel_snapcache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < REEL_SNAPCACHE_CAMERAS; i++)
        free(c->slots[i].jpeg);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

uint64_t reel_snapcache_decodes(struct reel_snapcache *c)
{
    return atomic_load(&c->decodes);
}

/* Under mu: camera_id's slot, or a free one, or the least recently used
 * one that is not being decoded (NULL when all are: the caller decodes
 * without caching). */
static struct slot *slot_for(struct reel_snapcache *c, int64_t camera_id)
{
    struct slot *spare = NULL;
    for (size_t i = 0; i < REEL_SNAPCACHE_CAMERAS; i++) {
        struct slot *s = &c->slots[i];
        if (s->camera_id == camera_id)
            return s;
        if (s->decoding)
            continue;
        if (spare == NULL || (spare->camera_id != 0 &&
                              (s->camera_id == 0 || s->used_ns < spare->used_ns)))
            spare = s;
    }
    if (spare != NULL) {
        free(spare->jpeg);
        *spare = (struct slot){.camera_id = camera_id};
    }
    return spare;
}

/* The hub's key frame of camera_id to JPEG (no lock held). */
static int decode(struct reel_snapcache *c, int64_t camera_id, uint8_t **jpeg, size_t *len,
                  struct reel_err *err)
{
    struct reel_hub_msg m;
    int r = reel_hub_keyframe_get(c->hub, camera_id, &m);
    if (r < 0)
        return reel_err_set(err, ENOENT, "no key frame of the camera yet");
    uint8_t *entry = malloc(REEL_HUB_ENTRY_MAX);
    size_t elen = 0;
    if (entry == NULL) {
        r = reel_err_set(err, ENOMEM, "snapshot: out of memory");
    } else if (reel_hub_entry_get(c->hub, camera_id, m.au.sample_entry_id, entry,
                                  REEL_HUB_ENTRY_MAX, &elen, NULL, NULL, NULL) < 0) {
        r = reel_err_set(err, ENOENT, "no sample entry for the key frame");
    } else {
        atomic_fetch_add(&c->decodes, 1);
        r = reel_media_snapshot_jpeg(entry, elen, m.au.data, m.au.len, REEL_SNAPCACHE_WIDTH, jpeg,
                                     len, err);
    }
    free(entry);
    reel_hub_msg_release(&m);
    if (r == 0 && *len > REEL_SNAPCACHE_JPEG_MAX) {
        free(*jpeg);
        r = reel_err_set(err, EMSGSIZE, "snapshot: JPEG of %zu bytes over the cap", *len);
    }
    return r;
}

static int copy_out(const struct slot *s, uint8_t **jpeg, size_t *len, struct reel_err *err)
{
    uint8_t *p = malloc(s->len);
    if (p == NULL)
        return reel_err_set(err, ENOMEM, "snapshot: out of memory");
    memcpy(p, s->jpeg, s->len);
    *jpeg = p;
    *len = s->len;
    return 0;
}

int reel_snapcache_get(struct reel_snapcache *c, int64_t camera_id, uint8_t **jpeg, size_t *len,
                       bool *cached, struct reel_err *err)
{
    pthread_mutex_lock(&c->mu);
    struct slot *s;
    for (;;) {
        s = slot_for(c, camera_id);
        if (s == NULL || !s->decoding)
            break;
        pthread_cond_wait(&c->cond, &c->mu);   /* another request decodes this camera */
    }
    int64_t now = reel_clock_mono(c->clock);
    if (s != NULL && (s->jpeg != NULL || s->fail != 0) && now - s->made_ns < REEL_SNAPCACHE_TTL_NS) {
        s->used_ns = now;
        int r = s->fail;
        if (r != 0 && err != NULL)
            *err = s->fail_err;
        else
            r = copy_out(s, jpeg, len, err);
        pthread_mutex_unlock(&c->mu);
        *cached = true;
        return r;
    }
    if (s != NULL)
        s->decoding = true;
    pthread_mutex_unlock(&c->mu);

    *cached = false;
    int r = decode(c, camera_id, jpeg, len, err);

    pthread_mutex_lock(&c->mu);
    if (s != NULL) {
        s->decoding = false;
        s->used_ns = now;
        if (r < 0 && r != -ENOENT && r != -ENOMEM) {   /* a bad picture: not again for a while */
            free(s->jpeg);
            s->jpeg = NULL;
            s->fail = r;
            if (err != NULL)
                s->fail_err = *err;
            s->made_ns = reel_clock_mono(c->clock);
        } else if (r == 0) {
            s->fail = 0;
            uint8_t *keep = malloc(*len);
            if (keep != NULL) {
                memcpy(keep, *jpeg, *len);
                free(s->jpeg);
                s->jpeg = keep;
                s->len = *len;
                s->made_ns = reel_clock_mono(c->clock);
            }
        }
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

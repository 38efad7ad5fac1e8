/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The caps on playback (see playback.h): a count in all, a small table of
 * counts by user (as many rows as downloads in all, so it cannot grow) and
 * the bytes held.
 */
#include "http/playback.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct user_count {
    int64_t user_id;
    unsigned n;             /* 0: free row */
};

struct reel_http_playback {
    pthread_mutex_t mu;
    unsigned total, per_user, active;
    uint64_t mem_max, held;
    struct user_count *users;   /* total rows */
};

int reel_http_playback_new(struct reel_http_playback **ret, unsigned total, unsigned per_user, uint64_t mem_max)
{
    if (total < 1 || total > 4096 || per_user < 1 || per_user > total || mem_max == 0)
        return -EINVAL;
    struct reel_http_playback *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->users = calloc(total, sizeof(*p->users));
    if (!p->users) {
        free(p);
        return -ENOMEM;
    }
    p->total = total;
    p->per_user = per_user;
    p->mem_max = mem_max;
    pthread_mutex_init(&p->mu, NULL);
    *ret = p;
    return 0;
}

static struct user_count *row_of(struct reel_http_playback *p, int64_t user_id)
{
    for (unsigned i = 0; i < p->total; i++)
        if (p->users[i].n > 0 && p->users[i].user_id == user_id)
            return &p->users[i];
    return NULL;
}

int reel_http_playback_begin(struct reel_http_playback *p, int64_t user_id)
{
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    struct user_count *u = row_of(p, user_id);
    if (u && u->n >= p->per_user) {
        rc = -EUSERS;
    } else if (p->active >= p->total) {
        rc = -EBUSY;
    } else {
        if (!u) {
            /* a free row exists: rows in use <= active < total */
            for (unsigned i = 0; i < p->total && !u; i++)
                if (p->users[i].n == 0)
                    u = &p->users[i];
            u->user_id = user_id;
        }
        u->n++;
        p->active++;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void reel_http_playback_end(struct reel_http_playback *p, int64_t user_id)
{
    pthread_mutex_lock(&p->mu);
    struct user_count *u = row_of(p, user_id);
    if (u) {
        u->n--;
        p->active--;
    }
    pthread_mutex_unlock(&p->mu);
}

int reel_http_playback_reserve(struct reel_http_playback *p, uint64_t bytes)
{
    if (bytes > p->mem_max)
        return -EFBIG;
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    if (bytes > p->mem_max - p->held)
        rc = -ENOMEM;
    else
        p->held += bytes;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void reel_http_playback_release(struct reel_http_playback *p, uint64_t bytes)
{
    pthread_mutex_lock(&p->mu);
    p->held = bytes > p->held ? 0 : p->held - bytes;
    pthread_mutex_unlock(&p->mu);
}

unsigned reel_http_playback_active(struct reel_http_playback *p)
{
    pthread_mutex_lock(&p->mu);
    unsigned n = p->active;
    pthread_mutex_unlock(&p->mu);
    return n;
}

uint64_t reel_http_playback_held(struct reel_http_playback *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t n = p->held;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void reel_http_playback_free(struct reel_http_playback *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    free(p->users);
    free(p);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Login rate limiter; see ratelimit.h. A flat table scanned linearly: it is
 * only touched on login attempts and holds at most max_keys short keys.
 */
#include "http/ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 96

struct entry {
    char key[KEY_MAX];
    unsigned failures;
    int64_t last_ns;          /* last failure */
    int64_t locked_until_ns;
    bool used;
};

struct reel_ratelimit {
    struct reel_ratelimit_cfg cfg;
    const struct reel_clock *clock;
    pthread_mutex_t mu;
    struct entry *e;
};

int reel_ratelimit_new(struct reel_ratelimit **ret, const struct reel_ratelimit_cfg *cfg,
                       const struct reel_clock *clock)
{
    struct reel_ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return -ENOMEM;
    if (cfg)
        rl->cfg = *cfg;
    if (!rl->cfg.threshold)
        rl->cfg.threshold = 5;
    if (rl->cfg.base_ns <= 0)
        rl->cfg.base_ns = 30 * REEL_NS_PER_SEC;
    if (rl->cfg.max_ns <= 0)
        rl->cfg.max_ns = 15 * 60 * REEL_NS_PER_SEC;
    if (rl->cfg.forget_ns <= 0)
        rl->cfg.forget_ns = 3600 * REEL_NS_PER_SEC;
    if (!rl->cfg.max_keys)
        rl->cfg.max_keys = 4096;
    rl->clock = clock ? clock : reel_clock_system();
    rl->e = calloc(rl->cfg.max_keys, sizeof(*rl->e));
    if (!rl->e) {
        free(rl);
        return -ENOMEM;
    }
    pthread_mutex_init(&rl->mu, NULL);
    *ret = rl;
    return 0;
}

void reel_ratelimit_free(struct reel_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->e);
    free(rl);
}

static bool forgotten(const struct reel_ratelimit *rl, const struct entry *e, int64_t now)
{
    return now - e->last_ns >= rl->cfg.forget_ns && now >= e->locked_until_ns;
}

/* Under the lock: the key's entry, dropping it first if forgotten. */
static struct entry *find(struct reel_ratelimit *rl, const char *key, int64_t now)
{
    for (size_t i = 0; i < rl->cfg.max_keys; i++) {
        struct entry *e = &rl->e[i];
        if (!e->used || strncmp(e->key, key, KEY_MAX - 1) != 0)
            continue;
        if (forgotten(rl, e, now)) {
            e->used = false;
            return NULL;
        }
        return e;
    }
    return NULL;
}

int64_t reel_ratelimit_check(struct reel_ratelimit *rl, const char *key)
{
    int64_t now = reel_clock_mono(rl->clock), wait = 0;
    pthread_mutex_lock(&rl->mu);
    struct entry *e = find(rl, key, now);
    if (e && e->locked_until_ns > now)
        wait = e->locked_until_ns - now;
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

unsigned reel_ratelimit_failures(struct reel_ratelimit *rl, const char *key)
{
    int64_t now = reel_clock_mono(rl->clock);
    pthread_mutex_lock(&rl->mu);
    struct entry *e = find(rl, key, now);
    unsigned n = e ? e->failures : 0;
    pthread_mutex_unlock(&rl->mu);
    return n;
}

int64_t reel_ratelimit_fail(struct reel_ratelimit *rl, const char *key)
{
    int64_t now = reel_clock_mono(rl->clock), lock = 0;
    pthread_mutex_lock(&rl->mu);
    struct entry *e = find(rl, key, now);
    if (!e) {
        /* a free or forgotten slot, else the fewest failures, oldest first */
        struct entry *victim = NULL;
        for (size_t i = 0; i < rl->cfg.max_keys; i++) {
            struct entry *c = &rl->e[i];
            if (!c->used || forgotten(rl, c, now)) {
                victim = c;
                break;
            }
            if (!victim || c->failures < victim->failures ||
                (c->failures == victim->failures && c->last_ns < victim->last_ns))
                victim = c;
        }
        memset(victim, 0, sizeof(*victim));
        victim->used = true;
        strncpy(victim->key, key, KEY_MAX - 1);
        e = victim;
    }
    e->failures++;
    e->last_ns = now;
    if (e->failures >= rl->cfg.threshold) {
        unsigned k = e->failures - rl->cfg.threshold;
        lock = rl->cfg.base_ns;
        while (k-- > 0 && lock < rl->cfg.max_ns)
            lock *= 2;
        if (lock > rl->cfg.max_ns)
            lock = rl->cfg.max_ns;
        e->locked_until_ns = now + lock;
    }
    pthread_mutex_unlock(&rl->mu);
    return lock;
}

void reel_ratelimit_success(struct reel_ratelimit *rl, const char *key)
{
    int64_t now = reel_clock_mono(rl->clock);
    pthread_mutex_lock(&rl->mu);
    struct entry *e = find(rl, key, now);
    if (e)
        e->used = false;
    pthread_mutex_unlock(&rl->mu);
}

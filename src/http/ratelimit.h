/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Login rate limiting: failures are counted per key (an account name, or a
 * client address); from the threshold-th failure on the key is locked for
 * base, then twice as long after each further failure, up to max. A key's
 * count is forgotten forget_ns after its last failure, or on success.
 * Time comes from an injected clock. The table is capped: when full, a
 * forgotten key's slot is reused, else the key with the fewest failures
 * (the least recently failed among those) is evicted, even if locked: a
 * flood of new keys can at worst make the limiter forget, never refuse a
 * key it has not seen (it does not fail closed, so it cannot be filled to
 * block everyone). Thread safe (one mutex).
 */
#ifndef REEL_HTTP_RATELIMIT_H
#define REEL_HTTP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"

struct reel_ratelimit_cfg {
    unsigned threshold;        /* failures before the first lock; 0 = 5 */
    int64_t base_ns;           /* first lock; 0 = 30 s */
    int64_t max_ns;            /* longest lock; 0 = 15 min */
    int64_t forget_ns;         /* count reset after this quiet time; 0 = 1 h */
    size_t max_keys;           /* table size; 0 = 4096 */
};

struct reel_ratelimit;

/* clock NULL = system clock (it must outlive the limiter). *ret owned by the
 * caller: reel_ratelimit_free(). -ENOMEM. */
int reel_ratelimit_new(struct reel_ratelimit **ret, const struct reel_ratelimit_cfg *cfg,
                       const struct reel_clock *clock);
void reel_ratelimit_free(struct reel_ratelimit *rl);
/* 0 when key may try now, else the nanoseconds until it may (> 0). */
int64_t reel_ratelimit_check(struct reel_ratelimit *rl, const char *key);
/* Records a failure; returns the lock now in force for key (0 = none). */
int64_t reel_ratelimit_fail(struct reel_ratelimit *rl, const char *key);
/* The key's failures still counted (0 = none, or forgotten). */
unsigned reel_ratelimit_failures(struct reel_ratelimit *rl, const char *key);
/* Forgets key's failures. */
void reel_ratelimit_success(struct reel_ratelimit *rl, const char *key);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The login policy over two limiters (ratelimit.h): one counting failures
 * per client address (its limiter key, clientaddr.h), one per account
 * name. An address is locked after its own failures (it only hurts
 * itself). An account is never locked: after a few failures it is slowed,
 * a failed attempt then earning a short, growing wait (seconds) before the
 * next one is taken, and that wait applies only to addresses that have
 * failures of their own. An address with no failures always gets its
 * attempt, so the real user signs in at once even while someone guesses at
 * the account from elsewhere. A 429 answer costs no Argon2 hash and no
 * sleep: the caller answers with Retry-After.
 */
#ifndef REEL_HTTP_LOGINGUARD_H
#define REEL_HTTP_LOGINGUARD_H

#include <stdint.h>

struct reel_ratelimit;

/* Address limiter settings: locked from the 20th failure, 30 s doubling up
 * to 15 min, forgotten after 1 h quiet. */
#define REEL_LOGIN_ADDR_THRESHOLD 20
/* Account limiter settings: slowed from the 5th failure, 2 s doubling up to
 * 8 s, forgotten after 1 h quiet. */
#define REEL_LOGIN_USER_THRESHOLD 5
#define REEL_LOGIN_USER_BASE_S 2
#define REEL_LOGIN_USER_MAX_S 8

/* 0 when the attempt may go ahead, else nanoseconds to wait (> 0). */
int64_t reel_login_check(struct reel_ratelimit *addr_rl, struct reel_ratelimit *user_rl, const char *addr_key,
                         const char *user_key);
/* A wrong password: counted for both. */
void reel_login_failed(struct reel_ratelimit *addr_rl, struct reel_ratelimit *user_rl, const char *addr_key,
                       const char *user_key);
/* A right one: the account's count is forgotten (not the address's: an
 * attacker with an account of their own must not clear their address by
 * signing in to it). */
void reel_login_succeeded(struct reel_ratelimit *user_rl, const char *user_key);

#endif

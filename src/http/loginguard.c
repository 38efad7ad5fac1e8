/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The login policy; see loginguard.h.
 */
#include "http/loginguard.h"

#include "http/ratelimit.h"

int64_t reel_login_check(struct reel_ratelimit *addr_rl, struct reel_ratelimit *user_rl, const char *addr_key,
                         const char *user_key)
{
    int64_t wait = reel_ratelimit_check(addr_rl, addr_key);
    if (reel_ratelimit_failures(addr_rl, addr_key) > 0) {
        int64_t wu = reel_ratelimit_check(user_rl, user_key);
        if (wu > wait)
            wait = wu;
    }
    return wait;
}

void reel_login_failed(struct reel_ratelimit *addr_rl, struct reel_ratelimit *user_rl, const char *addr_key,
                       const char *user_key)
{
    reel_ratelimit_fail(addr_rl, addr_key);
    reel_ratelimit_fail(user_rl, user_key);
}

void reel_login_succeeded(struct reel_ratelimit *user_rl, const char *user_key)
{
    reel_ratelimit_success(user_rl, user_key);
}

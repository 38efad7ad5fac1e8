/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The descriptor budget of `reel run` (see fds.h).
 */
#include "reel/fds.h"

#include <errno.h>
#include <sys/resource.h>

int reel_fds_raise(uint64_t *ret_limit)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        *ret_limit = 1024;
        return -errno;
    }
    int rc = 0;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit want = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = rl.rlim_max;
        else
            rc = -errno;
    }
    *ret_limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    return rc;
}

void reel_fds_plan(uint64_t limit, size_t ncams, struct reel_fds_plan *ret)
{
    ret->limit = limit;
    uint64_t per = (uint64_t)REEL_FDS_PER_CAMERA * ncams;
    ret->reserve = REEL_FDS_BASE + per;
    uint64_t need = ret->reserve + REEL_FDS_HTTP_FIXED;
    uint64_t left = limit > need ? limit - need : 0;
    ret->scarce = left < REEL_FDS_CONN_MIN;
    if (left < REEL_FDS_CONN_MIN)
        left = REEL_FDS_CONN_MIN;
    if (left > REEL_FDS_CONN_MAX)
        left = REEL_FDS_CONN_MAX;
    ret->conn_max = (unsigned)left;
    /* a download is a connection; leave at least half for everything else */
    unsigned d = ret->conn_max / 2;
    ret->downloads_max = d < 32 ? d : 32;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The descriptor budget of `reel run` (issue 11): the soft RLIMIT_NOFILE is
 * raised to the hard limit at start, the recorder's share is reserved from
 * the number of cameras, and the HTTP server gets what is left: its
 * connection cap and its download cap follow, so that no number of HTTP
 * clients can take the descriptors a camera needs to record. Measured: 8
 * cameras over RTSP/TCP use about 3 descriptors each and the process 46 in
 * all; the reserve below is several times that (UDP transport, audio,
 * sub-streams, rotation overlap).
 */
#ifndef REEL_REEL_FDS_H
#define REEL_REEL_FDS_H

#include <stddef.h>
#include <stdint.h>

#define REEL_FDS_BASE 48u           /* the store, the loop, logs, control socket */
#define REEL_FDS_PER_CAMERA 12u     /* RTSP socket, 4 UDP, sample files of main/sub/audio, slack */
#define REEL_FDS_HTTP_FIXED 48u     /* pooled database handles, libmicrohttpd's own, reads in flight */
#define REEL_FDS_CONN_MIN 16u
#define REEL_FDS_CONN_MAX 256u

struct reel_fds_plan {
    uint64_t limit;             /* the soft limit the plan was made for */
    uint64_t reserve;           /* descriptors kept for the recorder */
    unsigned conn_max;          /* HTTP connections */
    unsigned downloads_max;     /* view.mp4 responses in progress */
    int scarce;                 /* 1: the limit is below what the plan needs (conn_max at its minimum) */
};

/* Raises the soft RLIMIT_NOFILE to the hard limit; *ret_limit gets the soft
 * limit in force after (also on failure). 0 or -errno. */
int reel_fds_raise(uint64_t *ret_limit);
/* The plan for limit descriptors and ncams cameras (pure). */
void reel_fds_plan(uint64_t limit, size_t ncams, struct reel_fds_plan *ret);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Merging playback requests into viewing sessions, so that the audit log
 * holds one row per person watching a camera's recordings, not one per
 * fragment or byte range. Pure: times are passed in; no locking (the sink
 * holds its mutex around every call).
 *
 * The merge rule (docs/accountability.md): requests of the same user,
 * credentials (session or token), client address and camera belong to one
 * session while they come less than idle_ns apart. A session's footage is
 * the union of the ranges sent, ranges that overlap or lie less than
 * REEL_AUDIT_PB_JOIN90K apart joined; past REEL_AUDIT_PB_RANGES ranges the
 * two closest are joined (the session is then marked coarse). A session
 * ends (is emitted) when it has been idle for idle_ns, when the table is
 * full and it is the oldest, or at shutdown.
 */
#ifndef REEL_AUDIT_PBMERGE_H
#define REEL_AUDIT_PBMERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"

#define REEL_AUDIT_PB_RANGES 32
#define REEL_AUDIT_PB_JOIN90K (2 * 90000)   /* 2 s */
#define REEL_AUDIT_PB_SESSIONS 1024         /* open sessions at most */
#define REEL_AUDIT_REASON_MAX 512

struct reel_audit_pb_session {
    char user[REEL_AUDIT_USER_MAX], via[REEL_AUDIT_VIA_MAX], addr[REEL_AUDIT_ADDR_MAX];
    char camera[REEL_AUDIT_CAMERA_MAX];
    char reason[REEL_AUDIT_REASON_MAX];
    int64_t first_ns, last_ns;          /* the first and the last request */
    int64_t requests;
    size_t nranges;
    int64_t ranges[REEL_AUDIT_PB_RANGES][2];  /* [start90k, end90k), sorted, disjoint */
    bool coarse;
};

struct reel_audit_pb;
typedef void reel_audit_pb_emit(const struct reel_audit_pb_session *s, void *arg);

/* *ret the caller's: reel_audit_pb_free(). -ENOMEM. */
int reel_audit_pb_new(struct reel_audit_pb **ret);
void reel_audit_pb_free(struct reel_audit_pb *pb);
/* Adds one request: [start90k, end90k) of camera sent at now_ns. A session
 * idle for idle_ns is ended (emitted) first; reason (NULL ok) is kept when
 * the session has none yet. Strings over their caps are cut. */
void reel_audit_pb_add(struct reel_audit_pb *pb, const char *user, const char *via, const char *addr,
                       const char *camera, const char *reason, int64_t start90k, int64_t end90k, int64_t now_ns,
                       int64_t idle_ns, reel_audit_pb_emit *emit, void *arg);
/* Emits and forgets the sessions idle for idle_ns at now_ns (every
 * session when idle_ns < 0). */
void reel_audit_pb_flush(struct reel_audit_pb *pb, int64_t now_ns, int64_t idle_ns, reel_audit_pb_emit *emit,
                         void *arg);
/* How many sessions are open. */
size_t reel_audit_pb_open(const struct reel_audit_pb *pb);

#endif

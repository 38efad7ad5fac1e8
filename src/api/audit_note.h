/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What handlers tell the audit log (issue 14; src/audit, docs/accountability.md).
 * A handler calls these after the action it reports succeeded (or, for
 * sign-ins, also when it failed); the actor is taken from the request: the
 * user, how they came (via "session" or "token:NAME") and the client's
 * address (the trusted proxy's X-Forwarded-For when configured). They
 * never fail the request: an audit row that cannot be written is logged by
 * the server's sink (audit/sink.h). detail (may be NULL) is stolen.
 */
#ifndef REEL_API_AUDIT_NOTE_H
#define REEL_API_AUDIT_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http/route.h"

/* One action: action is a short dotted name ("export.create",
 * "camera.change", "lock.add"...), camera the camera's name or NULL. */
void reel_api_audit(struct reel_http_req *r, const char *action, const char *camera, json_t *detail);

/* The same for a request that has no signed-in caller (sign-in): user is
 * the account named (cut to a valid name; "" when none). */
void reel_api_audit_as(struct reel_http_req *r, const char *user, const char *action, const char *camera,
                       json_t *detail);

/* Recorded video of camera over [start90k, end90k) was sent to the caller
 * (a playback fragment, a view.mp4 range, a thumbnail...). The audit log
 * merges these into playback sessions (audit/pbmerge.h: one row per
 * viewing session); calling it per request is fine. */
void reel_api_audit_playback(struct reel_http_req *r, const char *camera, int64_t start90k, int64_t end90k);

/* A live view: _start writes a row "live.start" and returns the view's
 * handle (NULL when out of memory: then nothing more is logged), which
 * the response owns; _end (NULL ok) writes "live.end" with the view's
 * start, end, length and bytes sent, and frees it. _end may run on any
 * thread after the request is gone (the server's sink outlives every
 * response). */
struct reel_api_live_audit;
struct reel_api_live_audit *reel_api_audit_live_start(struct reel_http_req *r, const char *camera);
void reel_api_audit_live_end(struct reel_api_live_audit *v, uint64_t bytes);

/* How the caller of r came: via "session" / "token:NAME" (cap bytes) and
 * the client's address. */
void reel_api_audit_actor(struct reel_http_req *r, char *via, size_t via_cap, char *addr, size_t addr_cap);

/* The key under which a caller's reason is remembered (audit/reasons.h):
 * via and, for a session, a prefix of its id (a new sign-in asks again).
 * Never logged. */
void reel_api_reason_key(struct reel_http_req *r, char *out, size_t cap);

/* The reason the request carries: header X-Reel-Reason, else query
 * parameter reason (percent-encoded; for non-ASCII text, since browsers
 * send headers as Latin-1). Trimmed. Returns its length (0: none),
 * -EINVAL when over cap - 1 bytes or holding control characters. */
int reel_api_reason_given(struct reel_http_req *r, char *out, size_t cap);

#endif

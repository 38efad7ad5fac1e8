/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What handlers tell the audit log (issue 14). A handler calls these after
 * the action it reports succeeded (or, for sign-ins, also when it failed);
 * the actor (user, token, address) is taken from the request. They never
 * fail the request: an audit row that cannot be written is logged by the
 * implementation. detail (may be NULL) is stolen.
 *
 * Until issue 14 lands these do nothing.
 */
#ifndef REEL_API_AUDIT_NOTE_H
#define REEL_API_AUDIT_NOTE_H

#include <stdint.h>

#include <jansson.h>

#include "http/route.h"

/* One action: action is a short dotted name ("export.create",
 * "camera.change", "lock.add"...), camera the camera's name or NULL. */
void reel_api_audit(struct reel_http_req *r, const char *action, const char *camera, json_t *detail);

/* Recorded video of camera over [start90k, end90k) was sent to the caller
 * (a playback fragment, a view.mp4 range, a thumbnail...). The audit log
 * merges these into playback sessions; calling it per request is fine. */
void reel_api_audit_playback(struct reel_http_req *r, const char *camera, int64_t start90k, int64_t end90k);

#endif

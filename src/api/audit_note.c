/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What handlers tell the audit log; see audit_note.h.
 */
#include "api/audit_note.h"

void reel_api_audit(struct reel_http_req *r, const char *action, const char *camera, json_t *detail)
{
    (void)r, (void)action, (void)camera;
    json_decref(detail);
}

void reel_api_audit_playback(struct reel_http_req *r, const char *camera, int64_t start90k, int64_t end90k)
{
    (void)r, (void)camera, (void)start90k, (void)end90k;
}

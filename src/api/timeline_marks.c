/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The timeline's marks other than footage, one function each, called by
 * GET /api/timeline (timeline.c) for each camera inside its read snapshot:
 * evidence locks (issue 14, ac-lock fills reel_api_timeline_locks) and
 * events (issue 15). Both add nothing for now.
 */
#include "api/api.h"

int reel_api_timeline_locks(struct reel_http_req *r, struct reel_store *s, const struct reel_camera *cam,
                            int64_t from90k, int64_t to90k, json_t *arr, struct reel_err *err)
{
    (void)r, (void)s, (void)cam, (void)from90k, (void)to90k, (void)arr, (void)err;
    return 0;
}

int reel_api_timeline_events(struct reel_http_req *r, struct reel_store *s, const struct reel_camera *cam,
                             int64_t from90k, int64_t to90k, json_t *arr, struct reel_err *err)
{
    (void)r, (void)s, (void)cam, (void)from90k, (void)to90k, (void)arr, (void)err;
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The timeline's marks other than footage, one function each, called by
 * GET /api/timeline (timeline.c) for each camera inside its read snapshot:
 * evidence locks (issue 14, ac-lock: the active locks) and events
 * (issue 15; nothing for now).
 */
#include <stdlib.h>

#include "api/api.h"
#include "store/locks.h"

/* ac-lock: the active evidence locks on the camera overlapping the range,
 * {"id","start","end","case"} (the lock's own range, not cut to the view). */
int reel_api_timeline_locks(struct reel_http_req *r, struct reel_store *s, const struct reel_camera *cam,
                            int64_t from90k, int64_t to90k, json_t *arr, struct reel_err *err)
{
    (void)r;
    struct reel_lock_span *v;
    size_t n;
    int rc = reel_store_lock_spans(s, cam->id, from90k, to90k, &v, &n, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:o, s:o, s:s}", "id", (json_int_t)v[i].id, "start",
                                             reel_http_json_time(v[i].start90k), "end",
                                             reel_http_json_time(v[i].end90k), "case", v[i].case_name));
    free(v);
    return 0;
}

int reel_api_timeline_events(struct reel_http_req *r, struct reel_store *s, const struct reel_camera *cam,
                             int64_t from90k, int64_t to90k, json_t *arr, struct reel_err *err)
{
    (void)r, (void)s, (void)cam, (void)from90k, (void)to90k, (void)arr, (void)err;
    return 0;
}

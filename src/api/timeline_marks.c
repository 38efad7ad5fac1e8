/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The timeline's marks other than footage, one function each, called by
 * GET /api/timeline (timeline.c) for each camera inside its read snapshot:
 * evidence locks (issue 14, ac-lock: the active locks) and events
 * (issue 15, ev-core: table event, src/events/query.h).
 */
#include <stdlib.h>

#include "api/api.h"
#include "events/query.h"
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

/* ev-core: the camera's events (and its sub-stream's) overlapping the
 * range, {"id","kind","start","end"(null while open),"zones":[..],"peak"},
 * by start, at most REEL_EVENT_SPANS_MAX. The camera is visible (the
 * timeline checked it). */
int reel_api_timeline_events(struct reel_http_req *r, struct reel_store *s, const struct reel_camera *cam,
                             int64_t from90k, int64_t to90k, json_t *arr, struct reel_err *err)
{
    (void)r;
    struct reel_event_row *v;
    size_t n;
    int rc = reel_event_spans(reel_store_sqlite(s), cam->id, from90k, to90k, &v, &n, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const struct reel_event *e = &v[i].ev;
        json_array_append_new(arr, json_pack("{s:I, s:s, s:o, s:o, s:o, s:i}", "id", (json_int_t)e->id, "kind", e->kind,
                                             "start", reel_http_json_time(e->start90k), "end",
                                             e->end90k > 0 ? reel_http_json_time(e->end90k) : json_null(), "zones",
                                             reel_event_zones_json(e->zones), "peak", e->peak));
    }
    free(v);
    return 0;
}

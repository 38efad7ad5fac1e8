/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A camera's recordings as a timeline: GET /api/cameras/{camera}/spans
 * gives the spans of footage over a range and the gaps between them with
 * their reasons (built by src/http/timeline.c from the store's spans and
 * gaps, read in one snapshot).
 */
#include <errno.h>
#include <stdlib.h>

#include "api/api.h"
#include "http/timeline.h"

enum MHD_Result reel_api_spans(struct reel_http_req *r)
{
    enum MHD_Result res;
    int64_t from, to;
    if (!reel_api_parse_range(r, false, &from, &to, &res))
        return res;
    struct reel_store *s;
    struct reel_camera cam;
    if (!reel_api_camera_for(r, &s, &cam, &res))
        return res;
    struct reel_span *recs = NULL;
    struct reel_gap *gaps = NULL;
    size_t nrecs = 0, ngaps = 0;
    struct reel_err err = { "" };
    /* spans and gaps of one state of the database */
    int rc = reel_store_read_begin(s, &err);
    if (rc == 0) {
        rc = reel_store_spans(s, cam.id, from, to, &recs, &nrecs, &err);
        if (rc == 0)
            rc = reel_store_gaps(s, cam.id, from, to, &gaps, &ngaps, &err);
        reel_store_read_end(s);
    }
    reel_http_store_put(r, s);
    struct reel_timeline tl = { 0 };
    if (rc == 0 && reel_timeline_build(recs, nrecs, gaps, ngaps, from, to, &tl) < 0)
        rc = reel_err_set(&err, ENOMEM, "out of memory");
    free(recs);
    if (rc < 0) {
        free(gaps);
        return reel_api_read_error(r, rc, &err, "timeline of '%s'", r->name);
    }
    json_t *spans = json_array(), *jg = json_array();
    for (size_t i = 0; i < tl.nspans; i++)
        json_array_append_new(spans, json_pack("{s:o, s:o}", "start", reel_http_json_time(tl.spans[i].start90k),
                                               "end", reel_http_json_time(tl.spans[i].end90k)));
    for (size_t i = 0; i < tl.ngaps; i++)
        json_array_append_new(jg, json_pack("{s:o, s:o, s:s}", "start", reel_http_json_time(tl.gaps[i].start90k),
                                            "end", reel_http_json_time(tl.gaps[i].end90k), "reason",
                                            tl.gaps[i].reason));
    reel_timeline_free(&tl);
    free(gaps);
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o}", "camera", cam.name, "start", reel_http_json_time(from), "end",
                          reel_http_json_time(to), "spans", spans, "gaps", jg);
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

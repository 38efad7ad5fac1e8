/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/cameras/{camera}/snapshot.jpg[?stream=main|sub]: the camera's
 * latest key frame (the hub's cached GOP) as a JPEG at most 1280 pixels
 * wide, through the snapshot cache (media/snapcache.h: at most one decode
 * per camera per 5 s; concurrent requests share it). On the worker pool: a
 * decode takes milliseconds to tens of milliseconds. The header
 * X-Reel-Snapshot says "decoded" or "cached". 404 unknown camera or
 * stream, 409 disabled/offline as live.mp4, 503 (Retry-After) when no key
 * frame has arrived yet or without the recorder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "hub/hub.h"
#include "media/snapcache.h"

#define RETRY_S 2

enum MHD_Result reel_api_snapshot(struct reel_http_req *r)
{
    struct reel_hub *hub = r->cfg->hub;
    struct reel_snapcache *cache = r->cfg->snapshots;
    if (!hub || !cache)
        return reel_http_send_busy(r, RETRY_S, "snapshots need the recorder (reel run)");
    struct reel_store *s;
    struct reel_camera cam;
    enum MHD_Result res;
    if (!reel_api_camera_for(r, &s, &cam, &res))
        return res;
    if (!reel_api_stream_for(r, s, &cam, &res))
        return res;
    reel_http_store_put(r, s);
    if (cam.disabled)
        return reel_http_send_json(r, MHD_HTTP_CONFLICT,
                                   json_pack("{s:s,s:s}", "error", "the camera is disabled", "reason", "disabled"),
                                   NULL);
    struct reel_hub_state st;
    bool known = reel_hub_status_get(hub, cam.id, &st) == 0;
    if (!known || !st.connected) {
        char msg[REEL_HUB_ERROR_MAX + 32];
        snprintf(msg, sizeof(msg), "the camera is offline%s%s", known && st.last_error[0] ? ": " : "",
                 known ? st.last_error : "");
        return reel_http_send_json(r, MHD_HTTP_CONFLICT, json_pack("{s:s,s:s}", "error", msg, "reason", "offline"),
                                   NULL);
    }
    uint8_t *jpeg = NULL;
    size_t len = 0;
    bool cached = false;
    struct reel_err err = { { 0 } };
    int rc = reel_snapcache_get(cache, cam.id, &jpeg, &len, &cached, &err);
    if (rc == -ENOENT)
        return reel_http_send_busy(r, RETRY_S, "no key frame from the camera yet: try again shortly");
    if (rc < 0)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "snapshot of camera %lld: %s",
                                    (long long)cam.id, err.msg);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, jpeg, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(jpeg);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    MHD_add_response_header(resp, "Content-Type", "image/jpeg");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Reel-Snapshot", cached ? "cached" : "decoded");
    return reel_http_queue(r, MHD_HTTP_OK, resp);
}

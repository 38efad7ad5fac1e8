/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The JSON API's handlers, one file per resource, and the routing table
 * that names them (routes.c). Only the server glue (src/http/server.c) uses
 * the table; the handlers are called by its dispatcher, on libmicrohttpd
 * threads, with a struct reel_http_req (src/http/route.h). docs/api.md is
 * the contract.
 *
 *   health.c      GET /api/health
 *   session.c     login, logout, the current session
 *   tokens.c      API tokens
 *   cameras.c     the camera list and the camera configuration (admin)
 *   recordings.c  a camera's timeline (spans and gaps)
 *   view.c        a time range as an MP4 (view.mp4)
 *   camera_test.c trying a camera before adding it (admin)
 *   users.c       web accounts (admin)
 *   storage.c     storage directories, their use and forecast (admin)
 *   thumb.c       scrub-preview thumbnails of recorded footage (thumb.jpg)
 *   exports.c     export jobs (/api/exports)
 *   settings.c    site-wide settings (admin)
 *   audit.c       the audit log for auditors: list, CSV, head, verify
 *   disclosures.c the disclosure log
 *   audit_note.c  what handlers tell the audit log (audit_note.h)
 *   locks.c       evidence locks, the retention cap
 *   motion_search.c motion search and activity over the stored grid
 *   webhooks.c    webhooks and their outbox (issue 15, admin)
 *   common.c      helpers shared by the handlers: time ranges, the camera in
 *                 the path, answers to failed reads (paths cut)
 */
#ifndef REEL_API_API_H
#define REEL_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/route.h"

extern const struct reel_http_route reel_api_routes[];
extern const size_t reel_api_nroutes;

/* health.c */
reel_http_handler reel_api_health;
/* session.c */
reel_http_handler reel_api_login;
reel_http_handler reel_api_logout;
reel_http_handler reel_api_session;
/* tokens.c */
reel_http_handler reel_api_token_add;
reel_http_handler reel_api_tokens_list;
reel_http_handler reel_api_token_delete;
/* cameras.c */
reel_http_handler reel_api_cameras_list;
reel_http_handler reel_api_camera_get;
reel_http_handler reel_api_camera_add;
reel_http_handler reel_api_camera_patch;
reel_http_handler reel_api_camera_enable;
reel_http_handler reel_api_camera_disable;
reel_http_handler reel_api_camera_delete;
/* recordings.c */
reel_http_handler reel_api_spans;
/* timeline.c: GET /api/timeline (several cameras' spans, gaps, locks, events) */
reel_http_handler reel_api_timeline;
#define REEL_API_TIMELINE_CAMERAS_MAX 64
#define REEL_API_TIMELINE_RANGE_MAX90K (INT64_C(62) * 86400 * 90000)
/* timeline_marks.c: the timeline's other rows for one camera over
 * [from90k, to90k), appended to arr (a JSON array, borrowed), read in the
 * caller's snapshot of s. Locks (ac-lock): {"id":N,"start":T,"end":T,
 * "case":"..."}; events (issue 15): {"id","kind","start","end"|null,
 * "zones":[..],"peak"}. 0, or a negative errno with err set (the request
 * then fails with 500). */
int reel_api_timeline_locks(struct reel_http_req *r, struct reel_store *s, const struct reel_camera *cam,
                            int64_t from90k, int64_t to90k, json_t *arr, struct reel_err *err);
int reel_api_timeline_events(struct reel_http_req *r, struct reel_store *s, const struct reel_camera *cam,
                             int64_t from90k, int64_t to90k, json_t *arr, struct reel_err *err);
/* fragments.c: a camera's recordings and their fMP4 for the timeline's player */
reel_http_handler reel_api_recordings_list;
reel_http_handler reel_api_init_mp4;
reel_http_handler reel_api_frag;
/* view.c */
reel_http_handler reel_api_view;
reel_http_handler reel_api_live;     /* live.c */
reel_http_handler reel_api_snapshot; /* snapshot.c */
reel_http_handler reel_api_thumb;    /* thumb.c */
/* exports.c */
reel_http_handler reel_api_export_create;
reel_http_handler reel_api_exports_list;
reel_http_handler reel_api_export_get;
reel_http_handler reel_api_export_file;
reel_http_handler reel_api_export_delete;
struct reel_mp4;
/* The MP4 of camera cam_id over [from90k, to90k) and its entity tag, read in
 * one snapshot of s (reel_store_read_begin/_end: the tag describes exactly
 * the bytes, however the recorder writes meanwhile). The snapshot is ended
 * on every path, so s may go back to its pool. -ENOENT when the range holds
 * no footage; otherwise the store's and reel_mp4_for_range()'s errors. *ret
 * the caller's (reel_mp4_free()). between (NULL in the server) is called
 * inside the snapshot after the tag is read and before the MP4 is built:
 * the unit test commits there to prove that the two agree. */
int reel_api_view_read(struct reel_store *s, int64_t cam_id, int64_t from90k, int64_t to90k,
                       struct reel_view_tag *ret_tag, struct reel_mp4 **ret, void (*between)(void *),
                       void *between_arg, struct reel_err *err);

/* redactions.c: redacted exports (issue 14) */
reel_http_handler reel_api_redaction_add;
reel_http_handler reel_api_redactions_list;
reel_http_handler reel_api_redaction_get;
reel_http_handler reel_api_redaction_file;
/* camera_test.c */
reel_http_handler reel_api_camera_test;
/* users.c */
reel_http_handler reel_api_users_list;
reel_http_handler reel_api_user_add;
reel_http_handler reel_api_user_patch;
reel_http_handler reel_api_user_delete;
reel_http_handler reel_api_user_sessions_end;
/* settings.c */
reel_http_handler reel_api_settings_get;
reel_http_handler reel_api_settings_patch;
/* audit.c */
reel_http_handler reel_api_audit_list;
reel_http_handler reel_api_audit_csv;
reel_http_handler reel_api_audit_head;
reel_http_handler reel_api_audit_verify;
/* disclosures.c */
reel_http_handler reel_api_disclosure_add;
reel_http_handler reel_api_disclosures_list;
/* totp.c (ac-roles): the TOTP second factor */
reel_http_handler reel_api_totp_begin;
reel_http_handler reel_api_totp_confirm;
reel_http_handler reel_api_totp_remove;
reel_http_handler reel_api_user_totp_reset;
/* A TOTP code field ("code" or "totp") of a JSON body: 1 and out set (a
 * string of at most 15 bytes), 0 when absent, -EINVAL when malformed. */
int reel_api_totp_field(const uint8_t *body, size_t len, const char *key, char out[16]);
/* storage.c */
reel_http_handler reel_api_storage;
/* One stream recording into a directory, for the forecast. */
struct reel_forecast_cam {
    double bitrate_bps;         /* measured; <= 0: unknown (left out) */
    int64_t retain_bytes;       /* 0 = no byte limit */
    int64_t retain_seconds;     /* 0 = no age limit */
};
/* How many days the directory keeps: the least over the streams with a
 * known bitrate of what each keeps under its own retention, and at most
 * what capacity_bytes (free space + Reel's use) holds at all their rates
 * together. -1 when no bitrate is known. Pure; tests/unit/test_http_api.c. */
double reel_api_forecast_days(const struct reel_forecast_cam *cams, size_t n, double capacity_bytes);

/* locks.c: evidence locks and the site's retention cap */
reel_http_handler reel_api_lock_add;
reel_http_handler reel_api_locks_list;
/* mo-core (issue 15): a camera's motion configuration (motion_cfg.c) */
reel_http_handler reel_api_motion_get;
reel_http_handler reel_api_motion_put;
reel_http_handler reel_api_lock_patch;
reel_http_handler reel_api_lock_delete;
reel_http_handler reel_api_retention_get;
reel_http_handler reel_api_retention_put;

/* events.c, events_stream.c (issue 15, ev-core): the event list and the
 * live event stream (Server-Sent Events) */
reel_http_handler reel_api_events_list;
reel_http_handler reel_api_events_stream;
/* motion_search.c (issue 15): motion search, activity and one second's grid */
reel_http_handler reel_api_motion_search;
reel_http_handler reel_api_motion_activity;
reel_http_handler reel_api_motion_grid;
/* webhooks.c (issue 15): webhooks and their outbox (admin) */
reel_http_handler reel_api_webhooks_list;
reel_http_handler reel_api_webhook_add;
reel_http_handler reel_api_webhook_patch;
reel_http_handler reel_api_webhook_delete;
reel_http_handler reel_api_webhook_test;
reel_http_handler reel_api_webhook_deliveries;
reel_http_handler reel_api_alerts_status;

/* common.c */
/* start/end query parameters into [*from, *to) (end defaults to now, start
 * to 24 h before end unless required). On failure a 400 was queued, its
 * result in *ret_result, and false is returned. */
bool reel_api_parse_range(struct reel_http_req *r, bool required, int64_t *from, int64_t *to,
                          enum MHD_Result *ret_result);
/* The same with a cap of max90k on the range's length (the above: 7 days). */
bool reel_api_parse_range_max(struct reel_http_req *r, bool required, int64_t max90k, int64_t *from, int64_t *to,
                              enum MHD_Result *ret_result);
/* Takes a pooled store handle and looks camera r->name up; on failure a
 * response (404, 500) was queued into *ret_result and false returned. On
 * success *ret_s is the caller's: reel_http_store_put(). */
bool reel_api_camera_for(struct reel_http_req *r, struct reel_store **ret_s, struct reel_camera *cam,
                         enum MHD_Result *ret_result);
/* A failed read of the database as the answer (500, or 400 for -EINVAL and
 * -EFBIG): "WHAT: MESSAGE" where what is printf-formatted. A 500 is logged
 * in full with a reference and the body has only the reference (see
 * reel_http_send_error); a 400's body has every absolute path in it cut to
 * its last component (an error names the database file, which tells a
 * client the server's layout). Never "not found": use it for errors, not
 * for absence. */
enum MHD_Result reel_api_read_error(struct reel_http_req *r, int rc, const struct reel_err *err, const char *fmt,
                                    ...) __attribute__((format(printf, 4, 5)));
/* Copies in to out (cap > 0), each absolute path cut to its last component:
 * "database /srv/reel/reel.db: disk I/O error" -> "database reel.db: disk
 * I/O error". Pure; tests/unit/test_http.c. */
void reel_api_scrub_paths(const char *in, char *out, size_t cap);
/* The ?stream=main|sub query parameter (default main): with sub, *cam (the
 * camera from reel_api_camera_for) becomes its sub-stream row. On failure
 * (400 for a bad value, 404 when the camera has no sub-stream) s was put
 * back, a response queued into *ret_result and false returned. */
bool reel_api_stream_for(struct reel_http_req *r, struct reel_store *s, struct reel_camera *cam,
                         enum MHD_Result *ret_result);

/* onvif.c (issue 15): POST /api/onvif/discover, POST /api/onvif/profiles */
reel_http_handler reel_api_onvif_discover;
reel_http_handler reel_api_onvif_profiles;

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The routing table of the HTTP API: one line per route (see
 * src/http/route.h for the pattern syntax and the fields). The server's
 * dispatcher searches it; docs/api.md lists the same routes for people.
 */
#include "api/api.h"

#define PUBLIC REEL_ACCESS_PUBLIC
#define USER REEL_ACCESS_USER
#define LIVE REEL_ACCESS_LIVE
#define PLAYBACK REEL_ACCESS_PLAYBACK
#define EXPORT REEL_ACCESS_EXPORT
#define LOCK REEL_ACCESS_LOCK
#define AUDIT REEL_ACCESS_AUDIT
#define ADMIN REEL_ACCESS_ADMIN

const struct reel_http_route reel_api_routes[] = {
    /* method   pattern                                  who     csrf   handler                  pool (on a worker) */
    { "GET",    "/api/health",                           PUBLIC, false, reel_api_health,         false },
    { "POST",   "/api/login",                            PUBLIC, false, reel_api_login,          true  },
    { "POST",   "/api/logout",                           USER,   true,  reel_api_logout,         false },
    { "GET",    "/api/session",                          USER,   true,  reel_api_session,        false },
    { "POST",   "/api/tokens",                           USER,   true,  reel_api_token_add,      false },
    { "GET",    "/api/tokens",                           USER,   true,  reel_api_tokens_list,    false },
    { "DELETE", "/api/tokens/{token}",                   USER,   true,  reel_api_token_delete,   false },
    { "GET",    "/api/cameras",                          USER,   true,  reel_api_cameras_list,   false },
    { "POST",   "/api/cameras",                          ADMIN,  true,  reel_api_camera_add,     false },
    { "GET",    "/api/cameras/{camera}/config",          ADMIN,  true,  reel_api_camera_get,     false },
    { "PATCH",  "/api/cameras/{camera}",                 ADMIN,  true,  reel_api_camera_patch,   false },
    { "DELETE", "/api/cameras/{camera}",                 ADMIN,  true,  reel_api_camera_delete,  false },
    { "POST",   "/api/cameras/{camera}/enable",          ADMIN,  true,  reel_api_camera_enable,  false },
    { "POST",   "/api/cameras/{camera}/disable",         ADMIN,  true,  reel_api_camera_disable, false },
    { "GET",    "/api/cameras/{camera}/spans",           PLAYBACK,  true,  reel_api_spans,          false },
    { "GET",    "/api/cameras/{camera}/view.mp4",        PLAYBACK,  true,  reel_api_view,           true  },
    { "GET",    "/api/cameras/{camera}/live.mp4",        LIVE,  true,  reel_api_live,           false },
    { "GET",    "/api/cameras/{camera}/snapshot.jpg",    LIVE,  true,  reel_api_snapshot,       true  },
    { "GET",    "/api/timeline",                         PLAYBACK, true, reel_api_timeline,      true  },
    { "GET",    "/api/cameras/{camera}/recordings",      PLAYBACK, true, reel_api_recordings_list, false },
    { "GET",    "/api/cameras/{camera}/init.mp4",        PLAYBACK, true, reel_api_init_mp4,      false },
    { "GET",    "/api/cameras/{camera}/frag.m4s",        PLAYBACK, true, reel_api_frag,          true  },
    { "POST",   "/api/cameras/test",                     ADMIN,  true,  reel_api_camera_test,    true  },
    { "GET",    "/api/storage",                          ADMIN,  true,  reel_api_storage,        true  },
    { "GET",    "/api/users",                            ADMIN,  true,  reel_api_users_list,     false },
    { "POST",   "/api/users",                            ADMIN,  true,  reel_api_user_add,       true  },
    { "PATCH",  "/api/users/{user}",                     ADMIN,  true,  reel_api_user_patch,     true  },
    { "DELETE", "/api/users/{user}",                     ADMIN,  true,  reel_api_user_delete,    false },
    { "DELETE", "/api/users/{user}/sessions",            ADMIN,  true,  reel_api_user_sessions_end, false },
    /* ac-redact: redacted exports (the job runs on its own thread) */
    { "POST",   "/api/redactions",                       EXPORT, true,  reel_api_redaction_add,  false },
    { "GET",    "/api/redactions",                       EXPORT, true,  reel_api_redactions_list, false },
    { "GET",    "/api/redactions/{redaction}",           EXPORT, true,  reel_api_redaction_get,  false },
    { "GET",    "/api/redactions/{redaction}/file",      EXPORT, true,  reel_api_redaction_file, false },
    /* ac-roles: TOTP second factor (src/api/totp.c) */
    { "POST",   "/api/session/totp",                     USER,   true,  reel_api_totp_begin,     false },
    { "POST",   "/api/session/totp/confirm",             USER,   true,  reel_api_totp_confirm,   false },
    { "DELETE", "/api/session/totp",                     USER,   true,  reel_api_totp_remove,    false },
    { "DELETE", "/api/users/{user}/totp",                ADMIN,  true,  reel_api_user_totp_reset, false },
    /* issue 15, ev-core: events (src/api/events.c, events_stream.c) */
    { "GET",    "/api/events",                           PLAYBACK, true, reel_api_events_list,   false },
    { "GET",    "/api/events/stream",                    PLAYBACK, true, reel_api_events_stream, false },
    /* issue 13, tl-media: thumbnails and exports */
    { "GET",    "/api/cameras/{camera}/thumb.jpg",       PLAYBACK, true, reel_api_thumb,         true  },
    { "POST",   "/api/exports",                          EXPORT, true,  reel_api_export_create,  true  },
    { "GET",    "/api/exports",                          USER,   true,  reel_api_exports_list,   false },
    { "GET",    "/api/exports/{export}",                 USER,   true,  reel_api_export_get,     false },
    { "GET",    "/api/exports/{export}/file",            USER,   true,  reel_api_export_file,    false },
    { "DELETE", "/api/exports/{export}",                 USER,   true,  reel_api_export_delete,  true  },
    { "GET",    "/api/settings",                         ADMIN,  true,  reel_api_settings_get,   false },
    { "PATCH",  "/api/settings",                         ADMIN,  true,  reel_api_settings_patch, false },
    { "GET",    "/api/audit",                            AUDIT,  true,  reel_api_audit_list,     true  },
    { "GET",    "/api/audit.csv",                        AUDIT,  true,  reel_api_audit_csv,      true  },
    { "GET",    "/api/audit/head",                       AUDIT,  true,  reel_api_audit_head,     false },
    { "GET",    "/api/audit/verify",                     AUDIT,  true,  reel_api_audit_verify,   true  },
    /* who hands footage out (EXPORT: operators, admins) records it; auditors read */
    { "POST",   "/api/disclosures",                      EXPORT, true,  reel_api_disclosure_add, true  },
    { "GET",    "/api/disclosures",                      AUDIT,  true,  reel_api_disclosures_list, true },
    { "POST",   "/api/locks",                            LOCK,   true,  reel_api_lock_add,       false },
    { "GET",    "/api/locks",                            LOCK,   true,  reel_api_locks_list,     false },
    { "PATCH",  "/api/locks/{lock}",                     ADMIN,  true,  reel_api_lock_patch,     false },
    { "DELETE", "/api/locks/{lock}",                     ADMIN,  true,  reel_api_lock_delete,    false },
    { "GET",    "/api/settings/retention",               ADMIN,  true,  reel_api_retention_get,  false },
    { "PUT",    "/api/settings/retention",               ADMIN,  true,  reel_api_retention_put,  false },
    /* issue 15: motion search over the stored grid (motion_search.c) */
    { "GET",    "/api/cameras/{camera}/motion/search",   PLAYBACK, true, reel_api_motion_search, true  },
    { "GET",    "/api/cameras/{camera}/motion/activity", PLAYBACK, true, reel_api_motion_activity, true },
    { "GET",    "/api/cameras/{camera}/motion/grid",     PLAYBACK, true, reel_api_motion_grid,   false },
    /* mo-core (issue 15): a camera's motion configuration, applied while recording */
    { "GET",    "/api/cameras/{camera}/motion",          PLAYBACK, true, reel_api_motion_get,    false },
    { "PUT",    "/api/cameras/{camera}/motion",          ADMIN,  true,  reel_api_motion_put,    false },
    /* issue 15, ev-out: webhooks (src/api/webhooks.c); writes on a worker (reel.db may be busy) */
    { "GET",    "/api/webhooks",                         ADMIN,  true,  reel_api_webhooks_list,  false },
    { "POST",   "/api/webhooks",                         ADMIN,  true,  reel_api_webhook_add,    true  },
    { "PATCH",  "/api/webhooks/{webhook}",               ADMIN,  true,  reel_api_webhook_patch,  true  },
    { "DELETE", "/api/webhooks/{webhook}",               ADMIN,  true,  reel_api_webhook_delete, true  },
    { "POST",   "/api/webhooks/{webhook}/test",          ADMIN,  true,  reel_api_webhook_test,   true  },
    { "GET",    "/api/webhooks/{webhook}/deliveries",    ADMIN,  true,  reel_api_webhook_deliveries, false },
    /* issue 15, onvif: find cameras and read their profiles (network calls: on a worker) */
    { "POST",   "/api/onvif/discover",                   ADMIN,  true,  reel_api_onvif_discover, true  },
    { "POST",   "/api/onvif/profiles",                   ADMIN,  true,  reel_api_onvif_profiles, true  },
    { "GET",    "/api/alerts/status",                    ADMIN,  true,  reel_api_alerts_status,  false },
};

const size_t reel_api_nroutes = sizeof(reel_api_routes) / sizeof(reel_api_routes[0]);

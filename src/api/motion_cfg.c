/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/cameras/{camera}/motion (PLAYBACK) and PUT (ADMIN, csrf): a
 * camera's motion configuration (table camera_events; CONTRACTS15.md
 * "Motion config", src/motion/mcfg.h for the fields and their caps). A
 * PUT changes the fields it names (a zone list replaces the old one),
 * checks everything before it writes (400 naming the field), writes in one
 * transaction, audits "camera.change" with the old and new configuration
 * (never the ONVIF password), and tells the detector, which applies it
 * while recording (start, stop or restart of that camera's detector).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "db/db.h"
#include "http/body.h"
#include "motion/mcfg.h"

/* The camera (a main stream) and whether it has a sub-stream. */
static bool camera_of(struct reel_http_req *r, struct reel_camera *cam, bool *has_sub, enum MHD_Result *res)
{
    struct reel_store *s;
    if (!reel_api_camera_for(r, &s, cam, res))
        return false;
    if (cam->kind != REEL_STREAM_MAIN) {
        reel_http_store_put(r, s);
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "'%s' is a stream of a camera: configure motion on "
                                    "the camera", r->name);
        return false;
    }
    struct reel_camera sub;
    struct reel_err err = { "" };
    int rc = reel_store_camera_stream(s, cam->id, REEL_STREAM_SUB, false, &sub, &err);
    reel_http_store_put(r, s);
    if (rc < 0 && rc != -ENOENT) {
        *res = reel_api_read_error(r, rc, &err, "camera '%s'", r->name);
        return false;
    }
    *has_sub = rc == 0;
    return true;
}

enum MHD_Result reel_api_motion_get(struct reel_http_req *r)
{
    enum MHD_Result res;
    struct reel_camera cam;
    bool has_sub;
    if (!camera_of(r, &cam, &has_sub, &res))
        return res;
    sqlite3 *db;
    struct reel_err err = { "" };
    int rc = reel_db_open(&db, r->cfg->datadir, REEL_DB_READ, &err);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "motion configuration");
    struct reel_motion_cfg c;
    rc = reel_motion_cfg_load(db, cam.id, &c, &err);
    sqlite3_close(db);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "motion configuration");
    json_t *o = reel_motion_cfg_json(&c, has_sub);
    sodium_memzero(&c, sizeof(c));
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

enum MHD_Result reel_api_motion_put(struct reel_http_req *r)
{
    if (r->body_too_big)
        return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
    json_error_t jerr;
    json_t *j = r->body ? json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object of motion settings");
    }
    enum MHD_Result res;
    struct reel_camera cam;
    bool has_sub;
    if (!camera_of(r, &cam, &has_sub, &res)) {
        json_decref(j);
        return res;
    }
    sqlite3 *db;
    struct reel_err err = { "" };
    int rc = reel_db_open(&db, r->cfg->datadir, REEL_DB_WRITE, &err);
    if (rc < 0) {
        json_decref(j);
        return reel_api_read_error(r, rc, &err, "motion configuration");
    }
    struct reel_motion_cfg old, c;
    rc = reel_db_exec(db, "BEGIN IMMEDIATE", &err);
    if (rc == 0)
        rc = reel_motion_cfg_load(db, cam.id, &old, &err);
    bool bad = false;
    if (rc == 0) {
        c = old;
        rc = reel_motion_cfg_from_json(&c, j, &err);
        bad = rc < 0;
    }
    if (rc == 0)
        rc = reel_motion_cfg_save(db, cam.id, &c, &err);
    if (rc == 0)
        rc = reel_db_exec(db, "COMMIT", &err);
    if (rc < 0) {
        struct reel_err e2 = { "" };
        reel_db_exec(db, "ROLLBACK", &e2);
    }
    sqlite3_close(db);
    json_decref(j);
    if (rc < 0) {
        sodium_memzero(&c, sizeof(c));
        sodium_memzero(&old, sizeof(old));
        if (bad)
            return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
        return reel_api_read_error(r, rc, &err, "motion configuration");
    }
    json_t *now = reel_motion_cfg_json(&c, has_sub);
    reel_api_audit(r, "camera.change", cam.name,
                   json_pack("{s:s, s:o, s:O}", "what", "motion", "old", reel_motion_cfg_json(&old, has_sub), "new",
                             now));
    reel_http_log(r, REEL_LOG_INFO, "camera %s: motion set to %s by %s", cam.name, reel_motion_mode_name(c.mode),
                  r->auth ? r->auth->user : "?");
    sodium_memzero(&c, sizeof(c));
    sodium_memzero(&old, sizeof(old));
    if (r->cfg->motion_changed)
        r->cfg->motion_changed(r->cfg->motion_opaque);
    return reel_http_send_json(r, MHD_HTTP_OK, now, NULL);
}

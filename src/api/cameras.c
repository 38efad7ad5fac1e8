/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Cameras as a resource. GET /api/cameras lists them with their live state
 * (from the recorder when one is attached, else from the status rows the
 * recorder writes), footage kept and codec, never their URL or
 * credentials. The configuration routes are for administrators: GET
 * .../config (one camera's configuration), POST (add), PATCH (change any subset of fields),
 * POST .../enable and .../disable, DELETE (refused while the camera has
 * footage unless ?delete_footage=1&confirm=NAME). Each change is written to
 * reel.db through a store handle in REEL_STORE_ADMIN mode, opened for the
 * change under the server's admin lock, and then handed to the recorder
 * (struct reel_http_recorder.camera_changed), which applies it within 5 s or
 * the request gets 503. Without a recorder the change is saved and
 * answered 202: it takes effect when the recorder next starts.
 *
 * The camera password is write-only: it is copied from the body into the
 * database and wiped; no response and no log line holds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "store/locks.h"
#include "api/camera_body.h"
#include "http/access.h"
#include "http/body.h"

#define NO_RECORDER_NOTE "no recorder is attached to this server: the change is saved and takes effect when " \
                         "`reel run` next starts"

/* The sample entry of the camera's latest footage (recent first, else the
 * oldest recording): its id in *ret, -1 when there is none. Errors of the
 * database are returned. */
static int latest_sample_entry(struct reel_store *s, int64_t cam_id, int64_t now90k, int64_t oldest90k,
                               int64_t *ret, struct reel_err *err)
{
    struct reel_span *v = NULL;
    size_t n = 0;
    *ret = -1;
    int rc = reel_store_spans(s, cam_id, now90k - 300 * REEL_90K, now90k + 60 * REEL_90K, &v, &n, err);
    if (rc < 0)
        return rc;
    if (n > 0)
        *ret = v[n - 1].sample_entry_id;
    free(v);
    if (*ret >= 0 || oldest90k <= 0)
        return 0;
    rc = reel_store_spans(s, cam_id, oldest90k, oldest90k + 1, &v, &n, err);
    if (rc < 0)
        return rc;
    if (n > 0)
        *ret = v[0].sample_entry_id;
    free(v);
    return 0;
}

/* codec/width/height of the camera's latest footage into o; fields null
 * when there is none. A failed read is returned (o is then incomplete). */
static int camera_codec(struct reel_store *s, int64_t cam_id, int64_t now90k, int64_t oldest90k, json_t *o,
                        struct reel_err *err)
{
    int64_t sample_entry;
    int rc = latest_sample_entry(s, cam_id, now90k, oldest90k, &sample_entry, err);
    if (rc < 0)
        return rc;
    struct reel_sample_entry se;
    if (sample_entry >= 0) {
        rc = reel_store_sample_entry_get(s, sample_entry, &se, err);
        if (rc < 0)
            return rc; /* a recording names it: -ENOENT is an error here too */
        free(se.data);
        bool hevc = strncmp(se.codec_string, "hvc1", 4) == 0 || strncmp(se.codec_string, "hev1", 4) == 0;
        json_object_set_new(o, "codec", json_string(hevc ? "h265" : "h264"));
        json_object_set_new(o, "codec_string", json_string(se.codec_string));
        json_object_set_new(o, "width", json_integer(se.width));
        json_object_set_new(o, "height", json_integer(se.height));
        return 0;
    }
    json_object_set_new(o, "codec", json_null());
    json_object_set_new(o, "codec_string", json_null());
    json_object_set_new(o, "width", json_null());
    json_object_set_new(o, "height", json_null());
    return 0;
}

/* One row of the list (a camera's main stream, or one of its other
 * streams) into a new object in *ret; a failed read is returned (and *ret
 * NULL). */
static int camera_entry(struct reel_http_req *r, struct reel_store *s, const struct reel_camera *cam, int64_t now,
                        json_t **ret, struct reel_err *err)
{
    const struct reel_http_recorder *rec = r->cfg->recorder;
    *ret = NULL;
    /* Only what the UI needs: never the URL (it may name the camera's
     * address layout) with userinfo, nor the user or password. */
    struct reel_camera_status st;
    memset(&st, 0, sizeof(st));
    bool have = false;
    const char *state;
    int rc;
    if (cam->disabled) {
        state = "disabled";
    } else if (rec && rec->camera_status) {
        rc = rec->camera_status(rec->opaque, cam->id, &st);
        have = rc == 0;
        state = have && st.state[0] ? st.state : rc == -ENOENT ? "not running" : "unknown";
    } else {
        state = "not running";   /* no recorder in this process: no live status */
    }
    int64_t bytes = 0, dur = 0, oldest = 0;
    rc = reel_store_camera_usage(s, cam->id, &bytes, &dur, &oldest, err);
    if (rc < 0)
        return rc;
    json_t *o = json_object();
    if (!o)
        return reel_err_set(err, ENOMEM, "out of memory");
    json_object_set_new(o, "name", json_string(cam->name));
    json_object_set_new(o, "enabled", json_boolean(!cam->disabled));
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "connected", json_boolean(have && st.connected));
    json_object_set_new(o, "fps", json_real(have ? st.fps : 0.0));
    json_object_set_new(o, "bitrate_bps", json_real(have ? st.bitrate_bps : 0.0));
    json_object_set_new(o, "last_error", have && st.last_error[0] ? json_string(st.last_error) : json_null());
    json_object_set_new(o, "udp_foreign_dropped", json_integer(have ? (json_int_t)st.udp_foreign : 0));
    json_object_set_new(o, "bytes_kept", json_integer(bytes));
    json_object_set_new(o, "seconds_kept", json_real((double)dur / REEL_90K));
    json_object_set_new(o, "oldest", bytes > 0 && oldest > 0 ? reel_http_json_time(oldest) : json_null());
    json_object_set_new(o, "retain_bytes", json_integer(cam->retain_bytes));
    json_object_set_new(o, "retain_seconds", json_integer(cam->retain_seconds));
    int64_t locked = 0;
    rc = reel_store_locked_bytes(s, cam->id, &locked, err);
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "bytes_locked", json_integer(locked));
    json_object_set_new(o, "storage_full_locked",
                        json_boolean(have && strstr(st.last_error, REEL_STORE_FULL_LOCKED) != NULL));
    rc = camera_codec(s, cam->id, now, bytes > 0 ? oldest : 0, o, err);
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    *ret = o;
    return 0;
}

/* Cameras only (rows with parent_id 0): each with its main stream's state
 * at the top level (as before streams existed) and every stream under
 * "streams": {"main": {...}, "sub": {...}} (sub only when it has one). */
enum MHD_Result reel_api_cameras_list(struct reel_http_req *r)
{
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_store_get(r, &s, &err);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "database");
    struct reel_camera *cams = NULL;
    size_t n = 0;
    int64_t now = reel_http_wall90k(r);
    json_t *arr = json_array();
    const char *failed = NULL; /* the camera whose read failed */
    /* the list, the usage and the codecs of one state of the database */
    rc = reel_store_read_begin(s, &err);
    if (rc == 0) {
        rc = reel_store_camera_list(s, &cams, &n, &err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (cams[i].parent_id || !reel_http_camera_visible(r, cams[i].name))
                continue; /* streams go inside their camera; cameras the caller may not see are left out */
            json_t *main_, *sub = NULL, *o = NULL, *streams = NULL;
            rc = camera_entry(r, s, &cams[i], now, &main_, &err);
            for (size_t k = 0; rc == 0 && k < n; k++)
                if (cams[k].parent_id == cams[i].id && cams[k].kind == REEL_STREAM_SUB)
                    rc = camera_entry(r, s, &cams[k], now, &sub, &err);
            if (rc == 0) {
                /* the camera: its main stream's fields, then its streams */
                o = json_copy(main_);
                streams = json_object();
                json_object_del(main_, "name");
                if (sub)
                    json_object_del(sub, "name");
                if (!o || !streams || json_object_set(streams, "main", main_) < 0 ||
                    (sub && json_object_set(streams, "sub", sub) < 0) ||
                    json_object_set_new(o, "streams", streams) < 0) /* steals streams */
                    rc = reel_err_set(&err, ENOMEM, "out of memory");
                streams = NULL;
            }
            json_decref(main_);
            json_decref(sub);
            json_decref(streams);
            if (rc < 0) {
                json_decref(o);
                failed = cams[i].name;
            } else if (json_array_append_new(arr, o) < 0) { /* steals o, also on failure (or arr NULL) */
                rc = reel_err_set(&err, ENOMEM, "out of memory");
            }
        }
        reel_store_read_end(s);
    }
    reel_http_store_put(r, s);
    if (rc < 0) {
        json_decref(arr);
        enum MHD_Result res = failed ? reel_api_read_error(r, rc, &err, "listing cameras: camera '%s'", failed)
                                     : reel_api_read_error(r, rc, &err, "listing cameras");
        free(cams);
        return res;
    }
    free(cams);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "cameras", arr), NULL);
}

/* ---- configuration (admin) ---- */

/* The configuration of a camera as the admin routes show it: never the
 * password, only whether one is set. sub: its sub-stream row, or NULL. */
static json_t *config_json(const struct reel_camera *c, const struct reel_camera *sub)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:b}", "name", c->name, "url", c->url, "user",
                          c->user, "has_password", c->has_password, "udp", c->udp, "retain_bytes",
                          (json_int_t)c->retain_bytes, "retain_seconds", (json_int_t)c->retain_seconds, "storage",
                          (json_int_t)c->dir_id, "enabled", !c->disabled);
    json_object_set_new(o, "allow_redirect", json_boolean(c->allow_redirect));
    json_object_set_new(o, "allow_basic", json_boolean(c->allow_basic));
    json_object_set_new(o, "sub", !sub ? json_null()
                                       : json_pack("{s:s, s:I, s:I, s:I, s:b}", "url", sub->url, "retain_bytes",
                                                   (json_int_t)sub->retain_bytes, "retain_seconds",
                                                   (json_int_t)sub->retain_seconds, "storage",
                                                   (json_int_t)sub->dir_id, "enabled", !sub->disabled));
    return o;
}

/* ---- the sub-stream: the camera's "<camera>~sub" row (src/store/stream.c) ---- */

/* The camera's sub-stream row into *sub; 1 when it has one, 0 when not, or
 * a store error. */
static int sub_get(struct reel_store *s, const struct reel_camera *cam, struct reel_camera *sub, struct reel_err *err)
{
    int rc = reel_store_camera_stream(s, cam->id, REEL_STREAM_SUB, false, sub, err);
    return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
}

/* After a change of camera cam (already saved): its sub-stream follows the
 * camera's user, password (when given) and transport, and its enabled flag
 * when follow_enabled; in's sub_url (a string) creates or changes it, its
 * sub_retain_* change its retention. *ret_has: the camera has a sub-stream
 * now (in *sub); *ret_touched: its row was written. A store error is
 * returned (-EINVAL for sub_retain_* without a sub-stream). */
static int sub_apply(struct reel_store *s, const struct reel_camera *cam, const struct reel_api_camera_in *in,
                     const char *password, bool follow_enabled, struct reel_camera *sub, bool *ret_has,
                     bool *ret_touched, struct reel_err *err)
{
    *ret_has = *ret_touched = false;
    int rc = sub_get(s, cam, sub, err);
    if (rc < 0)
        return rc;
    bool want = in && (in->has & REEL_API_CAM_SUB_URL) && !in->sub_none;
    bool retain = in && (in->has & (REEL_API_CAM_SUB_RETAIN_BYTES | REEL_API_CAM_SUB_RETAIN_SECONDS));
    if (rc == 0 && !want) {
        if (retain)
            return reel_err_set(err, EINVAL, "sub_retain_bytes, sub_retain_seconds: camera '%s' has no sub-stream "
                                "(give its sub_url)", cam->name);
        return 0;
    }
    bool created = rc == 0;
    if (created && (rc = reel_store_camera_stream(s, cam->id, REEL_STREAM_SUB, true, sub, err)) < 0)
        return rc;
    struct reel_camera before = *sub;
    snprintf(sub->user, sizeof(sub->user), "%s", cam->user);
    sub->udp = cam->udp;
    sub->allow_redirect = cam->allow_redirect;
    sub->allow_basic = cam->allow_basic;
    if (follow_enabled || created)
        sub->disabled = cam->disabled;
    if (want)
        snprintf(sub->url, sizeof(sub->url), "%s", in->sub_url);
    if (in && (in->has & REEL_API_CAM_SUB_RETAIN_BYTES))
        sub->retain_bytes = in->sub_retain_bytes;
    if (in && (in->has & REEL_API_CAM_SUB_RETAIN_SECONDS))
        sub->retain_seconds = in->sub_retain_seconds;
    *ret_has = true;
    if (!created && !password && memcmp(&before, sub, sizeof(before)) == 0)
        return 0;
    rc = reel_store_camera_update(s, sub, password, err);
    if (rc < 0) {
        struct reel_err e2 = { "" };
        if (created) { /* not half made */
            reel_store_camera_remove(s, sub->name, false, &e2);
            *ret_has = false;
        }
        return rc;
    }
    if (password)
        sub->has_password = true;
    *ret_touched = true;
    return 0;
}

/* Reads the body into *in; on failure a 400/413 was queued. */
static bool parse_body(struct reel_http_req *r, struct reel_api_camera_in *in, enum MHD_Result *ret_result)
{
    char why[256];
    int rc = r->body_too_big ? -E2BIG : reel_api_camera_parse(r->body, r->body_len, in, why, sizeof(why));
    if (rc == -E2BIG) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes",
                                           REEL_HTTP_BODY_MAX);
        return false;
    }
    if (rc < 0) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", why);
        return false;
    }
    return true;
}

static void apply_fields(const struct reel_api_camera_in *in, struct reel_camera *cam)
{
    if (in->has & REEL_API_CAM_URL)
        snprintf(cam->url, sizeof(cam->url), "%s", in->url);
    if (in->has & REEL_API_CAM_USER)
        snprintf(cam->user, sizeof(cam->user), "%s", in->user);
    if (in->has & REEL_API_CAM_UDP)
        cam->udp = in->udp;
    if (in->has & REEL_API_CAM_RETAIN_BYTES)
        cam->retain_bytes = in->retain_bytes;
    if (in->has & REEL_API_CAM_RETAIN_SECONDS)
        cam->retain_seconds = in->retain_seconds;
    if (in->has & REEL_API_CAM_STORAGE)
        cam->dir_id = in->storage;
    if (in->has & REEL_API_CAM_ENABLED)
        cam->disabled = !in->enabled;
    if (in->has & REEL_API_CAM_ALLOW_REDIRECT)
        cam->allow_redirect = in->allow_redirect;
    if (in->has & REEL_API_CAM_ALLOW_BASIC)
        cam->allow_basic = in->allow_basic;
}

/* A store error of a camera change as a response. */
static enum MHD_Result store_error(struct reel_http_req *r, int rc, const struct reel_err *err, const char *what)
{
    if (rc == -EINVAL)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", err->msg);
    if (rc == -EEXIST || rc == -EBUSY || rc == -ENOTEMPTY)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "%s", err->msg);
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no camera '%s'", r->name);
    return reel_api_read_error(r, rc, err, "%s camera", what);
}

/* Tells the recorder that camera name's row changed. 1 when it applied the
 * change, 0 when there is no recorder, or a negative errno with a response
 * queued into *ret_result (503 when it did not apply within its 5 s). */
static int notify(struct reel_http_req *r, const char *name, enum MHD_Result *ret_result)
{
    const struct reel_http_recorder *rec = r->cfg->recorder;
    if (!rec || !rec->camera_changed)
        return 0;
    struct reel_err err = { "" };
    int rc = rec->camera_changed(rec->opaque, name, &err);
    if (rc >= 0)
        return 1;
    const char *msg = err.msg[0] ? err.msg : strerror(-rc);
    if (rc == -ETIMEDOUT || rc == -EAGAIN || rc == -EBUSY) {
        /* what the client may know; the recorder's reason (it may name a
         * directory) goes to the log */
        reel_http_log(r, REEL_LOG_WARN, "camera '%s': saved, but the recorder did not apply the change within 5 s: %s",
                      name, msg);
        char text[160];
        snprintf(text, sizeof(text), "camera '%s': saved, but the recorder did not apply the change within 5 s", name);
        *ret_result = reel_http_send_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, json_pack("{s:s}", "error", text), NULL);
    } else
        *ret_result = reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                           "camera '%s': saved, but the recorder failed to apply it: %s", name, msg);
    return rc;
}

/* The answer to a change that was saved: the camera's configuration with
 * ok_status when the recorder applied it, 202 with a note without one. */
static enum MHD_Result changed(struct reel_http_req *r, int applied, const struct reel_camera *cam,
                               const struct reel_camera *sub, unsigned ok_status)
{
    json_t *o = config_json(cam, sub);
    if (applied == 0) {
        json_object_set_new(o, "note", json_string(NO_RECORDER_NOTE));
        return reel_http_send_json(r, MHD_HTTP_ACCEPTED, o, NULL);
    }
    return reel_http_send_json(r, ok_status, o, NULL);
}

/* The answer when the admin store cannot be had: another change is being
 * applied (503, retry in a second: waiting here would hold one of the
 * server's few threads, and every connection on it, for up to 5 s), or the
 * database failed. */
static enum MHD_Result admin_open_error(struct reel_http_req *r, int rc, const struct reel_err *err)
{
    if (rc == -EBUSY) {
        json_t *e = json_pack("{s:s}", "error", "another camera change is being applied: retry in a moment");
        return reel_http_send_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, e, "Retry-After", "1", NULL);
    }
    return reel_api_read_error(r, rc, err, "database");
}

static const char *who(const struct reel_http_req *r) { return r->auth ? r->auth->user : "?"; }

enum MHD_Result reel_api_camera_get(struct reel_http_req *r)
{
    enum MHD_Result res;
    struct reel_store *s;
    struct reel_camera cam;
    if (!reel_api_camera_for(r, &s, &cam, &res))
        return res;
    struct reel_camera sub;
    struct reel_err err = { "" };
    int has = sub_get(s, &cam, &sub, &err);
    reel_http_store_put(r, s);
    if (has < 0)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "camera '%s': %s", r->name, err.msg);
    return reel_http_send_json(r, MHD_HTTP_OK, config_json(&cam, has ? &sub : NULL), NULL);
}

enum MHD_Result reel_api_camera_add(struct reel_http_req *r)
{
    enum MHD_Result res;
    struct reel_api_camera_in in;
    if (!parse_body(r, &in, &res))
        return res;
    if (!(in.has & REEL_API_CAM_NAME) || !(in.has & REEL_API_CAM_URL) || in.sub_none) {
        const char *bad = !(in.has & REEL_API_CAM_NAME) ? "name: required"
                          : !(in.has & REEL_API_CAM_URL) ? "url: required" : "sub_url: null is for a change";
        sodium_memzero(&in, sizeof(in));
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", bad);
    }
    struct reel_camera cam;
    memset(&cam, 0, sizeof(cam));
    snprintf(cam.name, sizeof(cam.name), "%s", in.name);
    in.enabled = (in.has & REEL_API_CAM_ENABLED) ? in.enabled : true;
    in.has |= REEL_API_CAM_ENABLED;
    apply_fields(&in, &cam);
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_admin_open(r, &s, &err);
    if (rc < 0) {
        sodium_memzero(&in, sizeof(in));
        return admin_open_error(r, rc, &err);
    }
    const char *password = (in.has & REEL_API_CAM_PASSWORD) ? in.password : NULL;
    rc = reel_store_camera_add(s, &cam, password, &err);
    struct reel_camera sub;
    bool has_sub = false, sub_touched = false;
    if (rc == 0) {
        rc = sub_apply(s, &cam, &in, password, true, &sub, &has_sub, &sub_touched, &err);
        struct reel_err e2 = { "" };
        if (rc < 0) /* the camera goes again rather than stay half made */
            reel_store_camera_remove(s, cam.name, false, &e2);
    }
    sodium_memzero(&in, sizeof(in));
    if (rc < 0) {
        reel_http_admin_close(r, s);
        return store_error(r, rc, &err, "adding");
    }
    reel_http_log(r, REEL_LOG_INFO, "camera %s added by %s%s%s", cam.name, who(r), has_sub ? " with a sub-stream" : "",
                  cam.disabled ? " (disabled)" : "");
    reel_api_audit(r, "camera.add", cam.name, json_pack("{s:o}", "new", config_json(&cam, has_sub ? &sub : NULL)));
    int applied = notify(r, cam.name, &res);
    if (applied >= 0 && sub_touched)
        applied = notify(r, sub.name, &res);
    reel_http_admin_close(r, s);
    return applied < 0 ? res : changed(r, applied, &cam, has_sub ? &sub : NULL, MHD_HTTP_CREATED);
}

/* ?delete_footage=0|1&confirm=NAME of DELETE and of a PATCH with
 * "sub_url": null: false with a 400 queued when malformed. */
static bool footage_query(struct reel_http_req *r, bool *ret_delete, enum MHD_Result *ret_result)
{
    char del[8] = "", confirm[REEL_HTTP_SEG_MAX] = "";
    int q1 = reel_http_query_get(r->query, "delete_footage", del, sizeof(del));
    int q2 = reel_http_query_get(r->query, "confirm", confirm, sizeof(confirm));
    if (q1 < 0 || (q1 == 1 && strcmp(del, "0") != 0 && strcmp(del, "1") != 0)) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "delete_footage: expected 0 or 1");
        return false;
    }
    *ret_delete = q1 == 1 && strcmp(del, "1") == 0;
    if (*ret_delete && (q2 != 1 || strcmp(confirm, r->name) != 0)) {
        *ret_result = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                           "confirm: must repeat the camera name ('%s') to delete its footage",
                                           r->name);
        return false;
    }
    return true;
}

/* Removes a stream row (saved disabled and told to the recorder already):
 * the row goes with its footage when delete_footage, and the recorder is
 * told again. A failure is returned with err. */
static int stream_remove(struct reel_http_req *r, struct reel_store *s, const char *name, bool delete_footage,
                         struct reel_err *err)
{
    int rc = reel_store_camera_remove(s, name, delete_footage, err);
    if (rc < 0)
        return rc;
    const struct reel_http_recorder *rec = r->cfg->recorder;
    struct reel_err e2 = { "" };
    if (rec && rec->camera_changed && rec->camera_changed(rec->opaque, name, &e2) < 0)
        reel_http_log(r, REEL_LOG_WARN, "stream %s removed, but the recorder did not take note: %s", name, e2.msg);
    return 0;
}

/* Sets the fields of in (or only the enabled state when in is NULL) on
 * camera r->name and its sub-stream, and tells the recorder. "sub_url":
 * null stops and removes the sub-stream (409 while it has footage, unless
 * ?delete_footage=1&confirm=NAME as for DELETE). */
static enum MHD_Result change(struct reel_http_req *r, struct reel_api_camera_in *in, bool enabled)
{
    enum MHD_Result res;
    bool drop_sub = in && in->sub_none, delete_footage = false;
    if (drop_sub && (in->has & (REEL_API_CAM_SUB_RETAIN_BYTES | REEL_API_CAM_SUB_RETAIN_SECONDS))) {
        sodium_memzero(in, sizeof(*in));
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "sub_url: null removes the sub-stream: no sub_retain_*");
    }
    if (drop_sub && !footage_query(r, &delete_footage, &res)) {
        sodium_memzero(in, sizeof(*in));
        return res;
    }
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_admin_open(r, &s, &err);
    if (rc < 0) {
        if (in)
            sodium_memzero(in, sizeof(*in));
        return admin_open_error(r, rc, &err);
    }
    struct reel_camera cam, sub;
    bool has_sub = false, sub_touched = false;
    rc = reel_store_camera_get(s, r->name, &cam, &err);
    json_t *old = rc == 0 ? config_json(&cam, NULL) : NULL; /* for the audit log */
    if (rc == 0 && drop_sub && (rc = sub_get(s, &cam, &sub, &err)) > 0) {
        int64_t bytes = 0;
        rc = reel_store_camera_usage(s, sub.id, &bytes, NULL, NULL, &err);
        if (rc == 0 && bytes > 0 && !delete_footage) {
            reel_http_admin_close(r, s);
            sodium_memzero(in, sizeof(*in));
            json_decref(old);
            return reel_http_send_error(r, MHD_HTTP_CONFLICT,
                                        "camera '%s': its sub-stream has footage (%lld bytes): to remove it with "
                                        "its footage, add ?delete_footage=1&confirm=%s", r->name, (long long)bytes,
                                        r->name);
        }
        has_sub = rc == 0;
    }
    const char *password = NULL;
    if (rc == 0) {
        if (in) {
            apply_fields(in, &cam);
            password = (in->has & REEL_API_CAM_PASSWORD) ? in->password : NULL;
        } else {
            cam.disabled = !enabled;
        }
        rc = reel_store_camera_update(s, &cam, password, &err);
        if (rc == 0 && password)
            cam.has_password = true;
    }
    if (rc == 0 && drop_sub && has_sub && !sub.disabled) { /* stopped first, removed below */
        sub.disabled = true;
        rc = reel_store_camera_update(s, &sub, NULL, &err);
        sub_touched = rc == 0;
    } else if (rc == 0 && !drop_sub) {
        rc = sub_apply(s, &cam, in, password, !in || (in->has & REEL_API_CAM_ENABLED), &sub, &has_sub, &sub_touched,
                       &err);
    }
    if (in)
        sodium_memzero(in, sizeof(*in));
    if (rc < 0) {
        json_decref(old);
        reel_http_admin_close(r, s);
        return store_error(r, rc, &err, "changing");
    }
    reel_http_log(r, REEL_LOG_INFO, "camera %s %s by %s", cam.name,
                  in ? "changed" : enabled ? "enabled" : "disabled", who(r));
    reel_api_audit(r, in ? "camera.change" : enabled ? "camera.enable" : "camera.disable", cam.name,
                   json_pack("{s:o, s:o}", "old", old, "new", config_json(&cam, has_sub ? &sub : NULL)));
    int applied = notify(r, cam.name, &res);
    if (applied >= 0 && sub_touched)
        applied = notify(r, sub.name, &res);
    if (applied >= 0 && drop_sub && has_sub) {
        rc = stream_remove(r, s, sub.name, delete_footage, &err);
        if (rc < 0) {
            reel_http_admin_close(r, s);
            return store_error(r, rc, &err, "removing the sub-stream of");
        }
        reel_http_log(r, REEL_LOG_INFO, "stream %s removed by %s%s", sub.name, who(r),
                      delete_footage ? " with its footage" : "");
        has_sub = false;
    }
    reel_http_admin_close(r, s);
    return applied < 0 ? res : changed(r, applied, &cam, has_sub ? &sub : NULL, MHD_HTTP_OK);
}

enum MHD_Result reel_api_camera_patch(struct reel_http_req *r)
{
    enum MHD_Result res;
    struct reel_api_camera_in in;
    if (!parse_body(r, &in, &res))
        return res;
    const char *bad = NULL;
    if ((in.has & REEL_API_CAM_NAME) && strcmp(in.name, r->name) != 0)
        bad = "name: a camera cannot be renamed";
    else if ((in.has & ~(unsigned)REEL_API_CAM_NAME) == 0)
        bad = "nothing to change: give at least one field";
    if (bad) {
        sodium_memzero(&in, sizeof(in));
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", bad);
    }
    return change(r, &in, false);
}

enum MHD_Result reel_api_camera_enable(struct reel_http_req *r) { return change(r, NULL, true); }

enum MHD_Result reel_api_camera_disable(struct reel_http_req *r) { return change(r, NULL, false); }

enum MHD_Result reel_api_camera_delete(struct reel_http_req *r)
{
    enum MHD_Result res;
    bool delete_footage;
    if (!footage_query(r, &delete_footage, &res))
        return res;
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_admin_open(r, &s, &err);
    if (rc < 0)
        return admin_open_error(r, rc, &err);
    struct reel_camera cam, sub;
    rc = reel_store_camera_get(s, r->name, &cam, &err);
    int64_t bytes = 0, sub_bytes = 0;
    bool has_sub = false;
    if (rc == 0)
        rc = reel_store_camera_usage(s, cam.id, &bytes, NULL, NULL, &err);
    if (rc == 0 && (rc = sub_get(s, &cam, &sub, &err)) > 0) { /* its sub-stream goes too, first */
        has_sub = true;
        rc = reel_store_camera_usage(s, sub.id, &sub_bytes, NULL, NULL, &err);
        bytes += sub_bytes;
    }
    if (rc < 0) {
        reel_http_admin_close(r, s);
        return store_error(r, rc, &err, "removing");
    }
    if (bytes > 0 && !delete_footage) {
        reel_http_admin_close(r, s);
        return reel_http_send_error(r, MHD_HTTP_CONFLICT,
                                    "camera '%s' has footage (%lld bytes): to remove it with its footage, send "
                                    "DELETE /api/cameras/%s?delete_footage=1&confirm=%s",
                                    r->name, (long long)bytes, r->name, r->name);
    }
    /* First stop it: the recorder closes its run and commits it. Its
     * sub-stream likewise, and that row goes before the camera's. */
    bool was_disabled = cam.disabled;
    int applied = 0;
    if (has_sub) {
        if (!sub.disabled) {
            sub.disabled = true;
            rc = reel_store_camera_update(s, &sub, NULL, &err);
            if (rc < 0) {
                reel_http_admin_close(r, s);
                return store_error(r, rc, &err, "removing");
            }
        }
        applied = notify(r, sub.name, &res);
        if (applied < 0) {
            reel_http_admin_close(r, s);
            return res; /* saved disabled; not removed */
        }
        rc = stream_remove(r, s, sub.name, delete_footage, &err);
        if (rc < 0) {
            reel_http_admin_close(r, s);
            return store_error(r, rc, &err, "removing");
        }
    }
    if (!was_disabled) {
        cam.disabled = true;
        rc = reel_store_camera_update(s, &cam, NULL, &err);
        if (rc < 0) {
            reel_http_admin_close(r, s);
            return store_error(r, rc, &err, "removing");
        }
    }
    applied = notify(r, cam.name, &res);
    if (applied < 0) {
        reel_http_admin_close(r, s);
        return res; /* saved disabled; not removed */
    }
    rc = reel_store_camera_remove(s, cam.name, delete_footage, &err);
    if (rc < 0) {
        /* Not removed (footage appeared meanwhile): as it was. */
        if (!was_disabled) {
            struct reel_err e2 = { "" };
            cam.disabled = false;
            const struct reel_http_recorder *rec = r->cfg->recorder;
            if (reel_store_camera_update(s, &cam, NULL, &e2) == 0 && rec && rec->camera_changed)
                rec->camera_changed(rec->opaque, cam.name, &e2);
        }
        reel_http_admin_close(r, s);
        return store_error(r, rc, &err, "removing");
    }
    reel_http_log(r, REEL_LOG_INFO, "camera %s removed by %s%s", cam.name, who(r),
                  delete_footage ? " with its footage" : "");
    reel_api_audit(r, "camera.delete", cam.name, json_pack("{s:b, s:I}", "footage_deleted", delete_footage,
                                                           "bytes", (json_int_t)bytes));
    /* The row is gone: the recorder, which stopped the camera already,
     * forgets it. Its answer no longer changes ours. */
    const struct reel_http_recorder *rec = r->cfg->recorder;
    if (rec && rec->camera_changed) {
        struct reel_err e2 = { "" };
        if (rec->camera_changed(rec->opaque, cam.name, &e2) < 0)
            reel_http_log(r, REEL_LOG_WARN, "camera %s removed, but the recorder did not take note: %s", cam.name,
                          e2.msg);
    }
    reel_http_admin_close(r, s);
    json_t *o = json_pack("{s:s, s:b}", "deleted", cam.name, "footage_deleted", delete_footage);
    if (applied == 0) {
        json_object_set_new(o, "note", json_string(NO_RECORDER_NOTE));
        return reel_http_send_json(r, MHD_HTTP_ACCEPTED, o, NULL);
    }
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Redacted exports (issue 14, "Disclosure"; docs/accountability.md):
 *   POST /api/redactions            start one: {"camera","start","end","reason","boxes":[...]} -> 202
 *   GET  /api/redactions            the caller's (an admin: everyone's), newest first
 *   GET  /api/redactions/{id}       one, with its rectangles
 *   GET  /api/redactions/{id}/file  the MP4 (attachment)
 * The work runs on the server's redaction thread (http/redact_jobs.h), one
 * job at a time (503 with Retry-After when one runs). Caps: a range of at
 * most 10 minutes, 32 boxes of 64 key points each, and the body's 16 KiB.
 * Someone else's job, like an unknown one, is 404; so is a camera the
 * caller may not see.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "http/access.h"
#include "http/body.h"
#include "http/redact_jobs.h"

#define BUSY_RETRY_S 30

static bool sees_all(const struct reel_http_req *r)
{
    return r->auth && strcmp(r->auth->role, "admin") == 0;
}

/* The export reason's setting (export.reason: required unless "optional"). */
static bool reason_required(struct reel_store *s)
{
    char v[32] = "";
    struct reel_err err = { "" };
    if (reel_store_setting_get(s, "export.reason", v, sizeof(v), &err) < 0)
        return true;
    return strcmp(v, "optional") != 0;
}

enum MHD_Result reel_api_redaction_add(struct reel_http_req *r)
{
    if (r->body_too_big)
        return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                                    "request body over %d bytes: use fewer key points", REEL_HTTP_BODY_MAX);
    json_error_t jerr;
    json_t *j = r->body ? json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object");
    }
    const char *f;
    json_t *v;
    json_object_foreach(j, f, v) {
        if (strcmp(f, "camera") && strcmp(f, "start") && strcmp(f, "end") && strcmp(f, "reason") &&
            strcmp(f, "boxes")) {
            json_decref(j);
            return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                        "unknown field (expected camera, start, end, reason, boxes)");
        }
    }
    const char *camera = json_string_value(json_object_get(j, "camera"));
    const char *start = json_string_value(json_object_get(j, "start"));
    const char *end = json_string_value(json_object_get(j, "end"));
    json_t *jreason = json_object_get(j, "reason");
    const char *reason = json_is_string(jreason) ? json_string_value(jreason) : "";
    enum MHD_Result res;
    int64_t from, to;
    if (!camera || !reel_http_name_valid(camera)) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "camera: expected a camera name");
        goto out;
    }
    if (jreason && !json_is_string(jreason) && !json_is_null(jreason)) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "reason: expected a string");
        goto out;
    }
    if (strlen(reason) > REEL_REDACT_REASON_MAX) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "reason: at most %d bytes", REEL_REDACT_REASON_MAX);
        goto out;
    }
    if (!start || !end || strlen(start) > 64 || strlen(end) > 64 ||
        reel_http_time_parse(start, reel_http_wall90k(r), &from) < 0 ||
        reel_http_time_parse(end, reel_http_wall90k(r), &to) < 0) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "start, end: expected RFC 3339 times");
        goto out;
    }
    if (to <= from) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "end must be after start");
        goto out;
    }
    if (to - from > REEL_REDACT_RANGE_MAX90K) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "a redacted export is at most 10 minutes long");
        goto out;
    }
    struct reel_redact_spec *spec = malloc(sizeof(*spec));
    if (!spec) {
        res = reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        goto out;
    }
    struct reel_err err = { "" };
    if (reel_redact_spec_parse(json_object_get(j, "boxes"), from, to, spec, &err) < 0) {
        free(spec);
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
        goto out;
    }
    /* The camera: an invisible one is answered like an unknown one. */
    struct reel_store *s;
    struct reel_camera cam;
    int rc = reel_http_store_get(r, &s, &err);
    if (rc < 0) {
        free(spec);
        res = reel_api_read_error(r, rc, &err, "database");
        goto out;
    }
    rc = reel_http_camera_visible(r, camera) ? reel_store_camera_get(s, camera, &cam, &err) : -ENOENT;
    bool need_reason = rc == 0 && reason_required(s);
    reel_http_store_put(r, s);
    if (rc == -ENOENT) {
        free(spec);
        res = reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no camera '%s'", camera);
        goto out;
    }
    if (rc < 0) {
        free(spec);
        res = reel_api_read_error(r, rc, &err, "camera");
        goto out;
    }
    bool blank = true;
    for (const char *p = reason; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            blank = false;
    if (need_reason && blank) {
        free(spec);
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "a reason is required");
        goto out;
    }
    struct reel_redact_request req = { .user_id = r->auth->user_id, .user = r->auth->user, .camera = cam.name,
                                       .camera_id = cam.id, .from90k = from, .to90k = to, .reason = reason,
                                       .spec = spec };
    char id[17];
    rc = reel_redact_jobs_start(reel_http_redact_of(r), &req, id, &err);
    free(spec);
    if (rc == -EBUSY) {
        res = reel_http_send_busy(r, BUSY_RETRY_S, "a redacted export is already running: try again when it ends");
        goto out;
    }
    if (rc < 0) {
        reel_http_log(r, REEL_LOG_WARN, "redacted export: %s", err.msg);
        res = reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot start the redacted export");
        goto out;
    }
    json_t *o = reel_redact_jobs_get(reel_http_redact_of(r), id, true, 0);
    json_t *detail = json_pack("{s:s,s:s,s:O,s:O,s:s,s:O?,s:O?}", "id", id, "camera", cam.name, "start",
                               json_object_get(o, "start"), "end", json_object_get(o, "end"), "reason", reason,
                               "file", json_object_get(o, "file"), "redaction", json_object_get(o, "redaction"));
    reel_api_audit(r, "redaction.create", cam.name, detail);
    res = reel_http_send_json(r, MHD_HTTP_ACCEPTED, o, NULL);
out:
    json_decref(j);
    return res;
}

enum MHD_Result reel_api_redactions_list(struct reel_http_req *r)
{
    json_t *arr = reel_redact_jobs_list(reel_http_redact_of(r), sees_all(r), r->auth->user_id);
    if (!arr)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "redactions", arr), NULL);
}

enum MHD_Result reel_api_redaction_get(struct reel_http_req *r)
{
    json_t *o = reel_redact_jobs_get(reel_http_redact_of(r), r->name, sees_all(r), r->auth->user_id);
    if (!o)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no redacted export '%s'", r->name);
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

enum MHD_Result reel_api_redaction_file(struct reel_http_req *r)
{
    char path[4600], name[200];
    int rc = reel_redact_jobs_file(reel_http_redact_of(r), r->name, sees_all(r), r->auth->user_id, path,
                                   sizeof(path), name, sizeof(name));
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no redacted export '%s'", r->name);
    if (rc == -EAGAIN)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "the redacted export is not finished");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "the redacted export's file is gone");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    char disp[300];
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", name);
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    MHD_add_response_header(resp, "Content-Disposition", disp);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    reel_api_audit(r, "export.download", NULL, json_pack("{s:s,s:s}", "id", r->name, "file", name));
    return reel_http_queue(r, MHD_HTTP_OK, resp);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Export jobs (docs/exports.md): POST /api/exports starts one (EXPORT
 * right), GET /api/exports lists the caller's (an administrator's or an
 * auditor's: everyone's), GET /api/exports/{export} one, GET
 * /api/exports/{export}/file downloads a finished one (owner or
 * administrator; Range), DELETE /api/exports/{export} deletes or cancels
 * one (owner or administrator). The jobs run on their own threads
 * (src/export/export.h); these handlers only check, start and read. An
 * export the caller may not see is answered exactly like an unknown one
 * (404).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "base/timefmt.h"
#include "export/export.h"
#include "http/access.h"
#include "http/body.h"

#define BUSY_RETRY_S 10

static bool sees_all(const struct reel_http_req *r)
{
    return r->auth && (strcmp(r->auth->role, "admin") == 0 || strcmp(r->auth->role, "auditor") == 0);
}

static bool may_change(const struct reel_http_req *r, const struct reel_export_info *e)
{
    return r->auth && (e->user_id == r->auth->user_id || strcmp(r->auth->role, "admin") == 0);
}

static json_t *info_json(const struct reel_export_info *e)
{
    json_t *cams = json_array();
    for (size_t i = 0; i < e->ncameras; i++)
        json_array_append_new(cams, json_string(e->cameras[i]));
    char created[40];
    reel_time_format(reel_ns_to_90k(e->created_ns), created, sizeof(created));
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:f, s:I, s:s, s:o, s:o, s:b}", "id", e->id, "user",
                     e->user, "cameras", cams, "start", reel_http_json_time(e->start90k), "end",
                     reel_http_json_time(e->end90k), "reason", e->reason, "created", created, "status", e->status,
                     "progress", e->progress, "bytes", (json_int_t)e->bytes, "file", e->file, "error",
                     e->error[0] ? json_string(e->error) : json_null(), "sha256",
                     e->sha256[0] ? json_string(e->sha256) : json_null(), "signed", e->sign);
}

static struct reel_exports *exports_of(struct reel_http_req *r) { return r->cfg->exports; }

/* The export named in the path, if the caller may see it; else a 404 (or
 * 500) was queued into *res. */
static bool export_for(struct reel_http_req *r, struct reel_export_info *e, enum MHD_Result *res)
{
    struct reel_exports *x = exports_of(r);
    if (!x) {
        *res = reel_http_send_busy(r, BUSY_RETRY_S, "exports need the recorder (reel run)");
        return false;
    }
    struct reel_err err = { "" };
    int rc = reel_exports_get(x, r->name, e, &err);
    if (rc == 0 && e->user_id != r->auth->user_id && !sees_all(r))
        rc = -ENOENT;
    if (rc == -ENOENT) {
        *res = reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such export");
        return false;
    }
    if (rc < 0) {
        *res = reel_api_read_error(r, rc, &err, "export");
        return false;
    }
    return true;
}

/* Parses a time field of the body. */
static bool body_time(struct reel_http_req *r, json_t *j, const char *key, int64_t *ret)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_string(v) || json_string_length(v) > 64)
        return false;
    return reel_time_parse(json_string_value(v), reel_http_wall90k(r), ret) == 0;
}

enum MHD_Result reel_api_export_create(struct reel_http_req *r)
{
    struct reel_exports *x = exports_of(r);
    if (!x)
        return reel_http_send_busy(r, BUSY_RETRY_S, "exports need the recorder (reel run)");
    if (r->body_too_big)
        return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
    json_error_t jerr;
    json_t *j = r->body ? json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object");
    }
    enum MHD_Result res;
    const char *names[REEL_EXPORT_CAMERAS_MAX];
    json_t *cams = json_object_get(j, "cameras"), *reason = json_object_get(j, "reason"),
           *audio = json_object_get(j, "audio");
    size_t n = json_array_size(cams);
    int64_t start, end;
    if (!json_is_array(cams) || n < 1 || n > REEL_EXPORT_CAMERAS_MAX) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "cameras: expected 1 to %d camera names",
                                   REEL_EXPORT_CAMERAS_MAX);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(cams, i);
        const char *s = json_string_value(v);
        bool ok = s && strlen(s) >= 1 && strlen(s) <= 63;
        for (const char *p = s; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                 *p == '-';
        for (size_t k = 0; ok && k < i; k++)
            ok = strcmp(names[k], s) != 0;
        if (!ok) {
            res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                       "cameras: expected distinct names of 1-63 of A-Z a-z 0-9 _ -");
            goto out;
        }
        names[i] = s;
    }
    if (!body_time(r, j, "start", &start) || !body_time(r, j, "end", &end)) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "start and end: expected RFC 3339 times");
        goto out;
    }
    if (end <= start || end - start > REEL_EXPORT_RANGE_MAX) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "the range must end after it starts and last at most 24 h");
        goto out;
    }
    if ((reason && !json_is_string(reason)) || (audio && !json_is_boolean(audio))) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "reason: expected a string; audio: expected true or false");
        goto out;
    }
    const char *why = reason ? json_string_value(reason) : "";
    if (strlen(why) > REEL_EXPORT_REASON_MAX) {
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "reason: at most %d bytes", REEL_EXPORT_REASON_MAX);
        goto out;
    }
    bool blank = true;
    for (const char *p = why; *p && blank; p++)
        blank = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
    /* the cameras (visible main streams with footage in the range) and the reason policy */
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_store_get(r, &s, &err);
    if (rc < 0) {
        res = reel_api_read_error(r, rc, &err, "database");
        goto out;
    }
    char policy[32] = "";
    rc = reel_store_setting_get(s, "export.reason", policy, sizeof(policy), &err);
    if (rc < 0 && rc != -ENOENT && rc != -ENAMETOOLONG) {
        reel_http_store_put(r, s);
        res = reel_api_read_error(r, rc, &err, "settings");
        goto out;
    }
    if (blank && strcmp(policy, "optional") != 0) {
        reel_http_store_put(r, s);
        res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "a reason is required");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct reel_camera cam;
        struct reel_view_tag tag;
        rc = reel_store_camera_get(s, names[i], &cam, &err);
        if (rc == -ENOENT || (rc == 0 && (cam.parent_id != 0 || !reel_http_camera_visible(r, names[i])))) {
            reel_http_store_put(r, s);
            res = reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no camera '%s'", names[i]);
            goto out;
        }
        if (rc == 0)
            rc = reel_store_read_begin(s, &err);
        if (rc == 0) {
            rc = reel_store_view_etag(s, cam.id, start, end, &tag, &err);
            reel_store_read_end(s);
        }
        if (rc < 0) {
            reel_http_store_put(r, s);
            res = reel_api_read_error(r, rc, &err, "camera '%s'", names[i]);
            goto out;
        }
        if (tag.recordings == 0) {
            reel_http_store_put(r, s);
            res = reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "camera '%s' has no footage in that range", names[i]);
            goto out;
        }
    }
    reel_http_store_put(r, s);
    const struct reel_export_req req = {
        .cameras = names, .ncameras = n, .start90k = start, .end90k = end, .reason = why,
        .audio = audio ? json_is_true(audio) : true, .user_id = r->auth->user_id, .user = r->auth->user,
    };
    struct reel_export_info e;
    rc = reel_exports_create(x, &req, &e, &err);
    if (rc == -EUSERS || rc == -EAGAIN) {
        reel_http_log(r, REEL_LOG_WARN, "export by %s refused: %s", r->auth->user,
                      rc == -EUSERS ? "the user's exports cap" : "the exports cap");
        res = reel_http_send_busy(r, BUSY_RETRY_S, "%s: try again when one ends",
                                  rc == -EUSERS ? "too many exports running for this user"
                                                : "too many exports running");
        goto out;
    }
    if (rc < 0) {
        res = reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "starting an export: %s", err.msg);
        goto out;
    }
    json_t *detail = json_pack("{s:s, s:O, s:o, s:o, s:s, s:s}", "id", e.id, "cameras", cams, "start",
                               reel_http_json_time(start), "end", reel_http_json_time(end), "reason", e.reason,
                               "file", e.file);
    reel_api_audit(r, "export.create", n == 1 ? names[0] : NULL, detail);
    res = reel_http_send_json(r, MHD_HTTP_ACCEPTED, info_json(&e), NULL);
out:
    json_decref(j);
    return res;
}

enum MHD_Result reel_api_exports_list(struct reel_http_req *r)
{
    struct reel_exports *x = exports_of(r);
    if (!x)
        return reel_http_send_busy(r, BUSY_RETRY_S, "exports need the recorder (reel run)");
    struct reel_export_info *list;
    size_t n;
    struct reel_err err = { "" };
    int rc = reel_exports_list(x, sees_all(r) ? 0 : r->auth->user_id, &list, &n, &err);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "exports");
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, info_json(&list[i]));
    free(list);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "exports", a), NULL);
}

enum MHD_Result reel_api_export_get(struct reel_http_req *r)
{
    struct reel_export_info e;
    enum MHD_Result res;
    if (!export_for(r, &e, &res))
        return res;
    return reel_http_send_json(r, MHD_HTTP_OK, info_json(&e), NULL);
}

enum MHD_Result reel_api_export_delete(struct reel_http_req *r)
{
    struct reel_export_info e;
    enum MHD_Result res;
    if (!export_for(r, &e, &res))
        return res;
    if (!may_change(r, &e))
        return reel_http_send_error(r, MHD_HTTP_FORBIDDEN, "only its owner or an administrator may delete an export");
    struct reel_err err = { "" };
    int rc = reel_exports_delete(exports_of(r), e.id, &err);
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such export");
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "deleting export");
    reel_api_audit(r, "export.delete", e.ncameras == 1 ? e.cameras[0] : NULL,
                   json_pack("{s:s, s:s, s:s}", "id", e.id, "file", e.file, "status", e.status));
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:s}", "deleted", e.id), NULL);
}

enum MHD_Result reel_api_export_file(struct reel_http_req *r)
{
    struct reel_export_info e;
    enum MHD_Result res;
    if (!export_for(r, &e, &res))
        return res;
    if (!may_change(r, &e))
        return reel_http_send_error(r, MHD_HTTP_FORBIDDEN,
                                    "only its owner or an administrator may download an export");
    int fd = -1;
    uint64_t size = 0;
    struct reel_err err = { "" };
    int rc = reel_exports_open(exports_of(r), e.id, &fd, &size, &err);
    if (rc == -EBUSY)
        return reel_http_send_json(r, MHD_HTTP_CONFLICT,
                                   json_pack("{s:s, s:s}", "error",
                                             strcmp(e.status, "running") == 0 ? "the export is still running"
                                                                               : "the export failed",
                                             "status", e.status),
                                   NULL);
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such export");
    if (rc < 0)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
    char etag[40];
    snprintf(etag, sizeof(etag), "\"%.32s\"", e.sha256);
    uint64_t start = 0, len = size;
    enum reel_http_range rr = reel_http_range_parse(reel_http_header(r, "Range"), size, &start, &len);
    if (rr != REEL_RANGE_NONE && !reel_http_if_range_ok(reel_http_header(r, "If-Range"), etag, NULL)) {
        rr = REEL_RANGE_NONE;
        start = 0;
        len = size;
    }
    if (rr == REEL_RANGE_UNSATISFIABLE) {
        close(fd);
        char cr[64];
        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
        return reel_http_send_json(r, MHD_HTTP_RANGE_NOT_SATISFIABLE,
                                   json_pack("{s:s}", "error", "requested range not satisfiable"), "Content-Range", cr,
                                   NULL);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, start);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    char disp[REEL_EXPORT_NAME_MAX + 40];
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", e.file);
    bool zip = strlen(e.file) > 4 && strcmp(e.file + strlen(e.file) - 4, ".zip") == 0;
    MHD_add_response_header(resp, "Content-Type", zip ? "application/zip" : "video/mp4");
    MHD_add_response_header(resp, "Content-Disposition", disp);
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    MHD_add_response_header(resp, "ETag", etag);
    MHD_add_response_header(resp, "Cache-Control", "private, no-store");
    unsigned status = MHD_HTTP_OK;
    if (rr == REEL_RANGE_OK) {
        char cr[96];
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)start,
                 (unsigned long long)(start + len - 1), (unsigned long long)size);
        MHD_add_response_header(resp, "Content-Range", cr);
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    if (strcmp(r->method, "HEAD") != 0 && start == 0)
        reel_api_audit(r, "export.download", e.ncameras == 1 ? e.cameras[0] : NULL,
                       json_pack("{s:s, s:s, s:s}", "id", e.id, "file", e.file, "sha256", e.sha256));
    return reel_http_queue(r, status, resp);
}

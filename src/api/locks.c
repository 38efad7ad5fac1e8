/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Evidence locks as a resource (store/locks.h; docs/accountability.md):
 *   POST   /api/locks         LOCK   {"cameras":[..],"start":T,"end":T,"case":"..","reason":"..","expires":T|null}
 *   GET    /api/locks         LOCK   ?camera=NAME&active=1: locks with a camera the caller may see (only
 *                                    those cameras shown)
 *   PATCH  /api/locks/{lock}  ADMIN  {"case":"..","expires":T|null}
 *   DELETE /api/locks/{lock}  ADMIN
 * and the site's retention cap (setting retention.max_days):
 *   GET    /api/settings/retention  ADMIN  {"max_days":N}
 *   PUT    /api/settings/retention  ADMIN  {"max_days":N}  (0 = none)
 * Every change is audited (lock.add, lock.change, lock.remove,
 * settings.change). A camera the caller may not see is answered exactly like
 * one that does not exist.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "base/timefmt.h"
#include "http/access.h"
#include "http/body.h"
#include "store/locks.h"

static json_t *lock_json(struct reel_http_req *r, const struct reel_lock *l)
{
    json_t *cams = json_array();
    for (size_t i = 0; i < l->ncameras; i++)
        if (reel_http_camera_visible(r, l->cameras[i]))
            json_array_append_new(cams, json_string(l->cameras[i]));
    return json_pack("{s:I, s:o, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:b, s:I}", "id", (json_int_t)l->id, "cameras",
                     cams, "start", reel_http_json_time(l->start90k), "end", reel_http_json_time(l->end90k), "case",
                     l->case_name, "reason", l->reason, "created_by", l->created_by, "created",
                     reel_http_json_time(reel_ns_to_90k(l->created_ns)), "expires",
                     l->expires_ns ? reel_http_json_time(reel_ns_to_90k(l->expires_ns)) : json_null(), "active",
                     l->active, "held_bytes", (json_int_t)l->held_bytes);
}

/* A JSON object body, or a 400/413 queued (NULL returned). */
static json_t *body_object(struct reel_http_req *r, enum MHD_Result *res)
{
    if (r->body_too_big) {
        *res = reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
        return NULL;
    }
    json_error_t jerr;
    json_t *j = r->body ? json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object");
        return NULL;
    }
    return j;
}

/* A time member: a string reel_time_parse() accepts. */
static int time_member(struct reel_http_req *r, json_t *j, const char *key, int64_t *ret90k)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_string(v) || json_string_length(v) > 64)
        return -EINVAL;
    return reel_time_parse(json_string_value(v), reel_http_wall90k(r), ret90k) < 0 ? -EINVAL : 0;
}

/* "expires": absent (*ret_set false), null (0 = never) or a time. */
static int expires_member(struct reel_http_req *r, json_t *j, bool *ret_set, int64_t *ret_ns)
{
    json_t *v = json_object_get(j, "expires");
    *ret_set = v != NULL;
    *ret_ns = 0;
    if (!v || json_is_null(v))
        return 0;
    int64_t t90k;
    if (time_member(r, j, "expires", &t90k) < 0)
        return -EINVAL;
    *ret_ns = reel_90k_to_ns(t90k);
    return 0;
}

static int text_member(json_t *j, const char *key, char *out, size_t cap, bool required)
{
    json_t *v = json_object_get(j, key);
    if (!v)
        return required ? -EINVAL : 1;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap)
        return -EINVAL;
    const char *s = json_string_value(v);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -EINVAL;
    snprintf(out, cap, "%s", s);
    return 0;
}

static enum MHD_Result store_fail(struct reel_http_req *r, int rc, const struct reel_err *err, const char *what)
{
    if (rc == -EINVAL)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", err->msg);
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "%s", err->msg);
    if (rc == -EBUSY)
        return reel_http_send_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "another change is being made; try again");
    return reel_api_read_error(r, rc, err, "%s", what);
}

enum MHD_Result reel_api_lock_add(struct reel_http_req *r)
{
    enum MHD_Result res;
    json_t *j = body_object(r, &res);
    if (!j)
        return res;
    struct reel_lock *l = calloc(1, sizeof(*l));
    if (!l) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    const char *bad = NULL;
    json_t *cams = json_object_get(j, "cameras");
    if (!json_is_array(cams) || json_array_size(cams) == 0 || json_array_size(cams) > REEL_LOCK_CAMERAS_MAX)
        bad = "cameras: expected a list of 1-64 camera names";
    for (size_t i = 0; !bad && i < json_array_size(cams); i++) {
        json_t *c = json_array_get(cams, i);
        if (!json_is_string(c) || !reel_http_name_valid(json_string_value(c)))
            bad = "cameras: expected a list of 1-64 camera names";
        else
            snprintf(l->cameras[l->ncameras++], REEL_NAME_MAX, "%s", json_string_value(c));
    }
    bool set;
    if (!bad && (time_member(r, j, "start", &l->start90k) < 0 || time_member(r, j, "end", &l->end90k) < 0))
        bad = "start, end: expected times (RFC 3339)";
    if (!bad && l->end90k <= l->start90k)
        bad = "range: end must be after start";
    if (!bad && text_member(j, "case", l->case_name, sizeof(l->case_name), true) < 0)
        bad = "case: expected 1-127 characters, no control characters";
    if (!bad && text_member(j, "reason", l->reason, sizeof(l->reason), true) < 0)
        bad = "reason: a reason is required (1-1023 characters, no control characters)";
    if (!bad && expires_member(r, j, &set, &l->expires_ns) < 0)
        bad = "expires: expected a time (RFC 3339) or null";
    json_decref(j);
    /* a camera the caller may not see is no camera */
    for (size_t i = 0; !bad && i < l->ncameras; i++)
        if (!reel_http_camera_visible(r, l->cameras[i])) {
            free(l);
            return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such camera");
        }
    if (bad) {
        free(l);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", bad);
    }
    snprintf(l->created_by, sizeof(l->created_by), "%s", r->auth->user);
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_admin_open(r, &s, &err);
    if (rc == 0) {
        rc = reel_store_lock_add(s, l, &err);
        if (rc == 0)
            reel_store_lock_get(s, l->id, l, &err);
        reel_http_admin_close(r, s);
    }
    if (rc == -ENOENT) {
        free(l);
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such camera");
    }
    if (rc < 0) {
        free(l);
        return store_fail(r, rc, &err, "lock");
    }
    json_t *out = lock_json(r, l);
    reel_api_audit(r, "lock.add", l->ncameras == 1 ? l->cameras[0] : NULL, json_deep_copy(out));
    reel_http_log(r, REEL_LOG_INFO, "user %s locked %zu camera(s) as evidence: lock %" PRId64 " case '%s'",
                  r->auth->user, l->ncameras, l->id, l->case_name);
    free(l);
    return reel_http_send_json(r, MHD_HTTP_CREATED, out, NULL);
}

enum MHD_Result reel_api_locks_list(struct reel_http_req *r)
{
    char cam[REEL_NAME_MAX] = "", act[8] = "";
    if (r->query && (reel_http_query_get(r->query, "camera", cam, sizeof(cam)) < 0 ||
                     reel_http_query_get(r->query, "active", act, sizeof(act)) < 0))
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "camera, active: bad query parameter");
    if (cam[0] && !reel_http_name_valid(cam))
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "camera: expected a camera name");
    if (cam[0] && !reel_http_camera_visible(r, cam))
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such camera");
    if (act[0] && strcmp(act, "1") != 0 && strcmp(act, "0") != 0)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "active: expected 1 or 0");
    struct reel_store *s;
    struct reel_err err = { "" };
    struct reel_lock *v = NULL;
    size_t n = 0;
    int rc = reel_http_store_get(r, &s, &err);
    if (rc == 0) {
        struct reel_camera c;
        if (cam[0] && (rc = reel_store_camera_get(s, cam, &c, &err)) == 0 && c.parent_id != 0)
            rc = -ENOENT;
        if (rc == 0)
            rc = reel_store_lock_list(s, &v, &n, &err);
        reel_http_store_put(r, s);
    }
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such camera");
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "locks");
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        bool visible = false, has = !cam[0];
        for (size_t c = 0; c < v[i].ncameras; c++) {
            visible = visible || reel_http_camera_visible(r, v[i].cameras[c]);
            has = has || strcmp(v[i].cameras[c], cam) == 0;
        }
        if (!visible || !has || (act[0] && v[i].active != (act[0] == '1')))
            continue;
        json_array_append_new(a, lock_json(r, &v[i]));
    }
    free(v);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "locks", a), NULL);
}

/* {lock}: a decimal id. */
static bool lock_id(struct reel_http_req *r, int64_t *ret)
{
    char *end;
    errno = 0;
    long long v = strtoll(r->name, &end, 10);
    if (errno || *end || v <= 0 || r->name[0] < '0' || r->name[0] > '9')
        return false;
    *ret = v;
    return true;
}

enum MHD_Result reel_api_lock_patch(struct reel_http_req *r)
{
    int64_t id;
    if (!lock_id(r, &id))
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such lock");
    enum MHD_Result res;
    json_t *j = body_object(r, &res);
    if (!j)
        return res;
    char case_name[REEL_LOCK_CASE_MAX];
    bool set_exp;
    int64_t exp_ns;
    int tc = text_member(j, "case", case_name, sizeof(case_name), false);
    int ec = expires_member(r, j, &set_exp, &exp_ns);
    json_decref(j);
    if (tc < 0)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "case: expected 1-127 characters, no control characters");
    if (ec < 0)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expires: expected a time (RFC 3339) or null");
    if (tc == 1 && !set_exp)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected \"case\" and/or \"expires\"");
    struct reel_store *s;
    struct reel_err err = { "" };
    struct reel_lock *l = calloc(1, sizeof(*l));
    if (!l)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    int rc = reel_http_admin_open(r, &s, &err);
    if (rc == 0) {
        rc = reel_store_lock_change(s, id, tc == 0 ? case_name : NULL, set_exp, exp_ns, &err);
        if (rc == 0)
            rc = reel_store_lock_get(s, id, l, &err);
        reel_http_admin_close(r, s);
    }
    if (rc < 0) {
        free(l);
        return store_fail(r, rc, &err, "lock");
    }
    json_t *out = lock_json(r, l);
    reel_api_audit(r, "lock.change", NULL, json_deep_copy(out));
    free(l);
    return reel_http_send_json(r, MHD_HTTP_OK, out, NULL);
}

enum MHD_Result reel_api_lock_delete(struct reel_http_req *r)
{
    int64_t id;
    if (!lock_id(r, &id))
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no such lock");
    struct reel_store *s;
    struct reel_err err = { "" };
    struct reel_lock *l = calloc(1, sizeof(*l));
    if (!l)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    int rc = reel_http_admin_open(r, &s, &err);
    if (rc == 0) {
        rc = reel_store_lock_get(s, id, l, &err);
        if (rc == 0)
            rc = reel_store_lock_remove(s, id, &err);
        reel_http_admin_close(r, s);
    }
    if (rc < 0) {
        free(l);
        return store_fail(r, rc, &err, "lock");
    }
    reel_api_audit(r, "lock.remove", NULL, lock_json(r, l));
    reel_http_log(r, REEL_LOG_INFO, "user %s removed evidence lock %" PRId64 " (case '%s')", r->auth->user, id,
                  l->case_name);
    free(l);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), NULL);
}

/* ---- the retention cap ---- */

enum MHD_Result reel_api_retention_get(struct reel_http_req *r)
{
    struct reel_store *s;
    struct reel_err err = { "" };
    int64_t days = 0;
    int rc = reel_http_store_get(r, &s, &err);
    if (rc == 0) {
        rc = reel_store_retention_cap(s, &days, &err);
        reel_http_store_put(r, s);
    }
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "retention cap");
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:I}", "max_days", (json_int_t)days), NULL);
}

enum MHD_Result reel_api_retention_put(struct reel_http_req *r)
{
    enum MHD_Result res;
    json_t *j = body_object(r, &res);
    if (!j)
        return res;
    json_t *v = json_object_get(j, "max_days");
    bool ok = json_is_integer(v) && json_integer_value(v) >= 0 &&
              json_integer_value(v) <= REEL_RETENTION_CAP_MAX_DAYS;
    int64_t days = ok ? json_integer_value(v) : 0;
    json_decref(j);
    if (!ok)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "max_days: expected a whole number of days, 0 (none) to %d",
                                    REEL_RETENTION_CAP_MAX_DAYS);
    struct reel_store *s;
    struct reel_err err = { "" };
    int64_t old = 0;
    int rc = reel_http_admin_open(r, &s, &err);
    if (rc == 0) {
        reel_store_retention_cap(s, &old, &err);
        rc = reel_store_retention_cap_set(s, days, &err);
        reel_http_admin_close(r, s);
    }
    if (rc < 0)
        return store_fail(r, rc, &err, "retention cap");
    reel_api_audit(r, "settings.change", NULL,
                   json_pack("{s:s, s:I, s:I}", "key", REEL_RETENTION_CAP_KEY, "old", (json_int_t)old, "new",
                             (json_int_t)days));
    reel_http_log(r, REEL_LOG_INFO, "user %s set the retention cap from %" PRId64 " to %" PRId64 " days",
                  r->auth->user, old, days);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:I}", "max_days", (json_int_t)days), NULL);
}

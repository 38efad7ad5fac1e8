/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Web accounts as a resource, for administrators (the page's Users tab):
 * GET /api/users lists them, POST /api/users adds one, PATCH
 * /api/users/{name} resets its password and/or changes its role, DELETE
 * /api/users/{name} removes it and DELETE /api/users/{name}/sessions signs
 * it out everywhere. The same rules as `reel user` (src/http/users.c does
 * the work): names [A-Za-z0-9_.@-]{1,63}, passwords 8 to 1024 bytes, roles
 * admin|operator|viewer|auditor. The last administrator can be neither
 * removed nor demoted (nobody could then manage the server from the web).
 * Adding a user and resetting a password hash with argon2id: those routes
 * run on the worker pool. Passwords are wiped from memory after use and
 * never logged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "http/body.h"

/* The request body parsed: each field present or not. */
struct user_body {
    char name[REEL_USER_NAME_MAX];
    char password[REEL_PASSWORD_MAX + 1];
    char role[REEL_ROLE_MAX];
    bool has_name, has_password, has_role;
    /* "cameras": "all" or an array of camera names (ac-roles) */
    bool has_cameras, cameras_all;
    char (*cameras)[REEL_CAMERA_NAME_MAX];  /* malloc'd; wipe() frees */
    size_t ncameras;
    char error[128];
};

/* "cameras": "all", or an array of at most REEL_USER_CAMERAS_MAX camera
 * names. */
static bool copy_cameras(json_t *j, struct user_body *b)
{
    json_t *v = json_object_get(j, "cameras");
    if (!v || json_is_null(v))
        return true;
    if (json_is_string(v) && strcmp(json_string_value(v), "all") == 0) {
        b->has_cameras = b->cameras_all = true;
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) > REEL_USER_CAMERAS_MAX) {
        snprintf(b->error, sizeof(b->error), "cameras: expected \"all\" or an array of at most %d camera names",
                 REEL_USER_CAMERAS_MAX);
        return false;
    }
    size_t n = json_array_size(v);
    b->cameras = calloc(n ? n : 1, sizeof(*b->cameras));
    if (!b->cameras) {
        snprintf(b->error, sizeof(b->error), "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!s || !reel_http_name_valid(s)) {
            snprintf(b->error, sizeof(b->error), "cameras: each a camera name (1-63 of A-Z a-z 0-9 _ -)");
            return false;
        }
        snprintf(b->cameras[i], sizeof(b->cameras[i]), "%s", s);
    }
    b->ncameras = n;
    b->has_cameras = true;
    return true;
}

static bool copy_field(json_t *j, const char *key, char *out, size_t cap, bool *has, struct user_body *b)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return true;
    const char *s = json_string_value(v);
    if (!s) {
        snprintf(b->error, sizeof(b->error), "%s: expected a string", key);
        return false;
    }
    size_t n = strlen(s);
    if (n >= cap) {
        snprintf(b->error, sizeof(b->error), "%s: too long (at most %zu bytes)", key, cap - 1);
        return false;
    }
    memcpy(out, s, n + 1);
    *has = true;
    return true;
}

/* false with b->error set for a body that is not a JSON object of known
 * string fields within their caps. */
static bool parse_body(struct reel_http_req *r, struct user_body *b)
{
    memset(b, 0, sizeof(*b));
    if (!r->body || r->body_len == 0 || r->body_len > REEL_HTTP_BODY_MAX) {
        snprintf(b->error, sizeof(b->error), "expected a JSON object");
        return false;
    }
    json_error_t jerr;
    json_t *j = json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    bool ok = j && json_is_object(j);
    if (!ok)
        snprintf(b->error, sizeof(b->error), "expected a JSON object");
    const char *key;
    json_t *v;
    if (ok)
        json_object_foreach(j, key, v)
        {
            if (strcmp(key, "name") != 0 && strcmp(key, "password") != 0 && strcmp(key, "role") != 0 &&
                strcmp(key, "cameras") != 0) {
                snprintf(b->error, sizeof(b->error), "unknown field (expected name, password, role, cameras)");
                ok = false;
                break;
            }
        }
    ok = ok && copy_field(j, "name", b->name, sizeof(b->name), &b->has_name, b) &&
         copy_field(j, "password", b->password, sizeof(b->password), &b->has_password, b) &&
         copy_field(j, "role", b->role, sizeof(b->role), &b->has_role, b) && copy_cameras(j, b);
    if (j) {
        /* the password's copy inside jansson */
        json_t *p = json_object_get(j, "password");
        if (json_is_string(p)) {
            const char *s = json_string_value(p);
            sodium_memzero((void *)s, strlen(s));
        }
        json_decref(j);
    }
    if (ok && b->has_role && !reel_role_valid(b->role)) {
        snprintf(b->error, sizeof(b->error), "role: expected admin, operator, viewer or auditor");
        ok = false;
    }
    if (ok && b->has_password && strlen(b->password) < REEL_PASSWORD_MIN) {
        snprintf(b->error, sizeof(b->error), "password: at least %d characters", REEL_PASSWORD_MIN);
        ok = false;
    }
    if (ok && b->has_password && strlen(b->password) > REEL_PASSWORD_MAX) {
        snprintf(b->error, sizeof(b->error), "password: at most %d bytes", REEL_PASSWORD_MAX);
        ok = false;
    }
    return ok;
}

static void wipe(struct user_body *b)
{
    sodium_memzero(b->password, sizeof(b->password));
    free(b->cameras);
    b->cameras = NULL;
}

/* Sets user name's camera list from b (when it has one). */
static int set_cameras(struct reel_users *u, const char *name, const struct user_body *b, struct reel_err *err)
{
    if (!b->has_cameras)
        return 0;
    const char *names[REEL_USER_CAMERAS_MAX];
    for (size_t i = 0; i < b->ncameras; i++)
        names[i] = b->cameras[i];
    return reel_users_set_cameras(u, name, b->cameras_all, names, b->ncameras, err);
}

/* A user's camera list as the API shows it: "all", an array of names, or
 * null for roles that have none (admins see every camera, auditors none). */
static json_t *cameras_json(struct reel_users *u, const struct reel_user_info *v)
{
    if (strcmp(v->role, "operator") != 0 && strcmp(v->role, "viewer") != 0)
        return json_null();
    if (v->cameras_all)
        return json_string("all");
    bool all = false;
    char (*names)[REEL_CAMERA_NAME_MAX] = NULL;
    size_t n = 0;
    struct reel_err err = { "" };
    json_t *a = json_array();
    if (reel_users_cameras(u, v->id, &all, &names, &n, &err) == 0)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_string(names[i]));
    free(names);
    return a;
}

/* Parses the request's body into b. False when it is over the cap or not a
 * user body: then the error answer is sent, its result is in *res and b
 * holds no password. */
static bool read_body(struct reel_http_req *r, struct user_body *b, enum MHD_Result *res)
{
    if (r->body_too_big) {
        *res = reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
        return false;
    }
    if (!parse_body(r, b)) {
        wipe(b);
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", b->error);
        return false;
    }
    return true;
}

/* The role of user name ("" and -ENOENT when unknown) and how many
 * administrators there are. */
static int role_of(struct reel_users *u, const char *name, char role[REEL_ROLE_MAX], int64_t *admins,
                   struct reel_err *err)
{
    struct reel_user_info *v = NULL;
    size_t n = 0;
    int rc = reel_users_list(u, &v, &n, err);
    if (rc < 0)
        return rc;
    role[0] = '\0';
    *admins = 0;
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].role, "admin") == 0)
            (*admins)++;
        if (strcmp(v[i].name, name) == 0) {
            snprintf(role, REEL_ROLE_MAX, "%s", v[i].role);
            found = true;
        }
    }
    free(v);
    return found ? 0 : -ENOENT;
}

/* *sole: user name is the only administrator (-ENOENT when unknown). */
static int sole_admin(struct reel_users *u, const char *name, bool *sole, struct reel_err *err)
{
    char role[REEL_ROLE_MAX];
    int64_t admins = 0;
    int rc = role_of(u, name, role, &admins, err);
    *sole = rc == 0 && strcmp(role, "admin") == 0 && admins <= 1;
    return rc;
}

enum MHD_Result reel_api_users_list(struct reel_http_req *r)
{
    struct reel_users *u = NULL;
    struct reel_err err = { "" };
    struct reel_user_info *v = NULL;
    size_t n = 0;
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0)
        rc = reel_users_list(u, &v, &n, &err);
    if (rc < 0) {
        if (u)
            reel_http_users_put(r, u);
        return reel_api_read_error(r, rc, &err, "users");
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:b}", "name", v[i].name, "role",
                                           v[i].role, "created", (json_int_t)(v[i].created_unix), "sessions",
                                           (json_int_t)v[i].sessions, "tokens", (json_int_t)v[i].tokens, "cameras",
                                           cameras_json(u, &v[i]), "totp", v[i].totp));
    reel_http_users_put(r, u);
    free(v);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "users", a), NULL);
}

enum MHD_Result reel_api_user_add(struct reel_http_req *r)
{
    struct user_body b;
    enum MHD_Result res;
    if (!read_body(r, &b, &res))
        return res;
    if (!b.has_name || !reel_user_name_valid(b.name)) {
        wipe(&b);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "name: expected 1-63 of A-Z a-z 0-9 _ . @ -");
    }
    if (!b.has_password) {
        wipe(&b);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "password: required (at least %d characters)",
                                    REEL_PASSWORD_MIN);
    }
    /* least privilege unless asked (`reel user add` makes admins: there
     * the first user must be one) */
    const char *role = b.has_role ? b.role : "viewer";
    struct reel_users *u;
    struct reel_err err = { "" };
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_users_add(u, b.name, b.password, &err);
        if (rc == 0) {
            rc = reel_users_set_role(u, b.name, role, &err);
            if (rc == 0)
                rc = set_cameras(u, b.name, &b, &err);
            if (rc < 0) {
                struct reel_err e2 = { "" };
                reel_users_remove(u, b.name, &e2);
            }
        }
        reel_http_users_put(r, u);
    }
    wipe(&b);
    if (rc == -EEXIST)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "user '%s' already exists", b.name);
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "cameras: %s", err.msg);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "user");
    reel_http_log(r, REEL_LOG_INFO, "user %s added user %s (%s)", r->auth->user, b.name, role);
    return reel_http_send_json(r, MHD_HTTP_CREATED, json_pack("{s:s, s:s}", "name", b.name, "role", role), NULL);
}

enum MHD_Result reel_api_user_patch(struct reel_http_req *r)
{
    struct user_body b;
    enum MHD_Result res;
    if (!read_body(r, &b, &res))
        return res;
    if (b.has_name || (!b.has_password && !b.has_role && !b.has_cameras)) {
        wipe(&b);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected \"password\", \"role\" and/or \"cameras\" "
                                                             "(a user cannot be renamed)");
    }
    struct reel_users *u;
    struct reel_err err = { "" };
    int rc = reel_http_users_get(r, &u, &err);
    bool last_admin = false;
    if (rc == 0) {
        bool sole = false;
        rc = sole_admin(u, r->name, &sole, &err);
        if (rc == 0 && b.has_role && sole && strcmp(b.role, "admin") != 0)
            last_admin = true;
        if (rc == 0 && !last_admin && b.has_password)
            rc = reel_users_passwd(u, r->name, b.password, &err);
        if (rc == 0 && !last_admin && b.has_role)
            rc = reel_users_set_role_keep_admin(u, r->name, b.role, &err);
        if (rc == -EMLINK)
            last_admin = true;
        if (rc == 0 && !last_admin && b.has_cameras) {
            rc = set_cameras(u, r->name, &b, &err);
            if (rc == -ENOENT)
                rc = -ENXIO; /* an unknown camera, not an unknown user */
        }
        reel_http_users_put(r, u);
    }
    bool cams_changed = b.has_cameras;
    wipe(&b);
    if (rc == -ENXIO)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "cameras: %s", err.msg);
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no user '%s'", r->name);
    if (last_admin)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "'%s' is the last administrator: make another user an "
                                                          "administrator first", r->name);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "user '%s'", r->name);
    reel_http_log(r, REEL_LOG_INFO, "user %s changed user %s:%s%s%s%s", r->auth->user, r->name,
                  b.has_password ? " password reset" : "", b.has_role ? " role " : "", b.has_role ? b.role : "",
                  cams_changed ? " cameras" : "");
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), NULL);
}

enum MHD_Result reel_api_user_delete(struct reel_http_req *r)
{
    struct reel_users *u;
    struct reel_err err = { "" };
    int rc = reel_http_users_get(r, &u, &err);
    bool last_admin = false;
    if (rc == 0) {
        rc = sole_admin(u, r->name, &last_admin, &err);
        if (rc == 0 && !last_admin)
            rc = reel_users_remove_keep_admin(u, r->name, &err);
        if (rc == -EMLINK)
            last_admin = true;
        reel_http_users_put(r, u);
    }
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no user '%s'", r->name);
    if (last_admin)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "'%s' is the last administrator: it cannot be removed",
                                    r->name);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "user '%s'", r->name);
    reel_http_log(r, REEL_LOG_INFO, "user %s removed user %s", r->auth->user, r->name);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), NULL);
}

enum MHD_Result reel_api_user_sessions_end(struct reel_http_req *r)
{
    struct reel_users *u;
    struct reel_err err = { "" };
    int64_t n = 0;
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_users_sessions_end(u, r->name, &n, &err);
        reel_http_users_put(r, u);
    }
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no user '%s'", r->name);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "user '%s'", r->name);
    reel_http_log(r, REEL_LOG_INFO, "user %s ended %lld session(s) of user %s", r->auth->user, (long long)n, r->name);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b, s:I}", "ok", 1, "ended", (json_int_t)n), NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The caller's TOTP second factor (RFC 6238; http/totp.h): POST
 * /api/session/totp starts an enrolment (a new secret, shown once as base32
 * and as an otpauth:// URI for authenticator apps; not active yet), POST
 * /api/session/totp/confirm {"code"} activates it once a code made from it
 * is right, DELETE /api/session/totp {"code"} removes it (a code proves the
 * caller still holds the device), and an administrator removes anyone's
 * with DELETE /api/users/{user}/totp (a lost phone). Codes are counted by
 * the login limiter only at login (session.c); here a wrong code is a 403.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "http/body.h"
#include "http/totp.h"

int reel_api_totp_field(const uint8_t *body, size_t len, const char *key, char out[16])
{
    out[0] = '\0';
    if (!body || len == 0 || len > REEL_HTTP_BODY_MAX)
        return 0;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)body, len, 0, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return -EINVAL;
    }
    json_t *v = json_object_get(j, key);
    int rc = 0;
    if (v && !json_is_null(v)) {
        const char *s = json_string_value(v);
        if (!s || strlen(s) > 15)
            rc = -EINVAL;
        else {
            snprintf(out, 16, "%s", s);
            rc = 1;
        }
    }
    /* the login's body: wipe jansson's copy of the password */
    json_t *p = json_object_get(j, "password");
    if (json_is_string(p))
        sodium_memzero((void *)json_string_value(p), strlen(json_string_value(p)));
    json_decref(j);
    return rc;
}

enum MHD_Result reel_api_totp_begin(struct reel_http_req *r)
{
    if (r->auth->totp)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "a TOTP second factor is already active: remove it first "
                                                          "(DELETE /api/session/totp with a code)");
    struct reel_users *u;
    struct reel_err err = { "" };
    uint8_t key[REEL_TOTP_KEY_LEN];
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_users_totp_begin(u, r->auth->user_id, key, &err);
        reel_http_users_put(r, u);
    }
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "TOTP enrolment");
    char b32[REEL_TOTP_B32_MAX], uri[256];
    reel_base32_encode(key, sizeof(key), b32, sizeof(b32));
    sodium_memzero(key, sizeof(key));
    /* the user name is [A-Za-z0-9_.@-]: only '@' needs escaping in a label */
    char label[3 * REEL_USER_NAME_MAX] = "";
    size_t o = 0;
    for (const char *p = r->auth->user; *p && o + 4 < sizeof(label); p++) {
        if (*p == '@') {
            memcpy(label + o, "%40", 3);
            o += 3;
        } else {
            label[o++] = *p;
        }
    }
    label[o] = '\0';
    snprintf(uri, sizeof(uri), "otpauth://totp/Reel:%s?secret=%s&issuer=Reel&algorithm=SHA1&digits=6&period=30",
             label, b32);
    reel_http_log(r, REEL_LOG_INFO, "user %s started a TOTP enrolment", r->auth->user);
    json_t *o_ = json_pack("{s:s, s:s, s:b}", "secret", b32, "uri", uri, "active", 0);
    sodium_memzero(b32, sizeof(b32));
    sodium_memzero(uri, sizeof(uri));
    return reel_http_send_json(r, MHD_HTTP_OK, o_, "Cache-Control", "no-store", NULL);
}

/* The body's "code"; false with the answer sent when absent or malformed. */
static bool code_of(struct reel_http_req *r, char code[16], enum MHD_Result *res)
{
    if (r->body_too_big) {
        *res = reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
        return false;
    }
    if (reel_api_totp_field(r->body, r->body_len, "code", code) != 1) {
        *res = reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object with \"code\" (6 digits)");
        return false;
    }
    return true;
}

static enum MHD_Result verify_answer(struct reel_http_req *r, int rc, struct reel_err *err)
{
    if (rc == -EACCES)
        return reel_http_send_error(r, MHD_HTTP_FORBIDDEN, "wrong or already used TOTP code");
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "%s", err->msg);
    return reel_api_read_error(r, rc, err, "TOTP");
}

enum MHD_Result reel_api_totp_confirm(struct reel_http_req *r)
{
    char code[16];
    enum MHD_Result res;
    if (!code_of(r, code, &res))
        return res;
    struct reel_users *u;
    struct reel_err err = { "" };
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_users_totp_verify(u, r->auth->user_id, code, reel_http_wall_ns(r) / REEL_NS_PER_SEC, true, &err);
        reel_http_users_put(r, u);
    }
    if (rc < 0)
        return verify_answer(r, rc, &err);
    reel_http_log(r, REEL_LOG_INFO, "user %s enabled a TOTP second factor", r->auth->user);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "active", 1), NULL);
}

enum MHD_Result reel_api_totp_remove(struct reel_http_req *r)
{
    char code[16];
    enum MHD_Result res;
    if (!code_of(r, code, &res))
        return res;
    struct reel_users *u;
    struct reel_err err = { "" };
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_users_totp_verify(u, r->auth->user_id, code, reel_http_wall_ns(r) / REEL_NS_PER_SEC, false, &err);
        if (rc == 0)
            rc = reel_users_totp_clear(u, r->auth->user, &err);
        reel_http_users_put(r, u);
    }
    if (rc < 0)
        return verify_answer(r, rc, &err);
    reel_http_log(r, REEL_LOG_INFO, "user %s removed their TOTP second factor", r->auth->user);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "active", 0), NULL);
}

enum MHD_Result reel_api_user_totp_reset(struct reel_http_req *r)
{
    struct reel_users *u;
    struct reel_err err = { "" };
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_users_totp_clear(u, r->name, &err);
        reel_http_users_put(r, u);
    }
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no user '%s'", r->name);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "user '%s'", r->name);
    reel_http_log(r, REEL_LOG_INFO, "user %s removed the TOTP second factor of user %s", r->auth->user, r->name);
    reel_api_audit(r, "user.change", NULL, json_pack("{s:s, s:s}", "user", r->name, "totp", "removed"));
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), NULL);
}

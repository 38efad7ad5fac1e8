/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sessions as a resource: POST /api/login (password check, rate limited by
 * client address and slowed per account: http/loginguard.h; sets the
 * session cookie), POST
 * /api/logout and GET /api/session (who is signed in, with the CSRF token
 * the page sends back). Passwords are wiped from the stack after use and
 * never logged.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "audit/sink.h"
#include "http/body.h"
#include "http/loginguard.h"

enum MHD_Result reel_api_login(struct reel_http_req *r)
{
    if (!reel_http_origin_ok(reel_http_header(r, "Origin"), reel_http_header(r, "Host")))
        return reel_http_send_error(r, MHD_HTTP_FORBIDDEN, "Origin does not match Host");
    if (r->body_too_big)
        return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
    char user[REEL_USER_NAME_MAX], pass[REEL_PASSWORD_MAX + 1];
    int pr = reel_http_login_parse(r->body, r->body_len, user, pass);
    if (pr == -EMSGSIZE)
        return reel_http_send_error(r, MHD_HTTP_UNAUTHORIZED, "wrong user name or password");
    if (pr < 0)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST,
                                    "expected a JSON object with \"username\" and \"password\"");
    char code[16] = "";
    if (reel_api_totp_field(r->body, r->body_len, "totp", code) < 0) {
        sodium_memzero(pass, sizeof(pass));
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "totp: expected a string of digits");
    }
    char ukey[96], akey[96], addr[64], addr_key[64];
    reel_http_client(r, addr, addr_key);
    snprintf(ukey, sizeof(ukey), "user:%s", user);
    snprintf(akey, sizeof(akey), "addr:%s", addr_key);
    int64_t wait = reel_login_check(r->rl_addr, r->rl_user, akey, ukey);
    if (wait > 0) {
        sodium_memzero(pass, sizeof(pass));
        char ra[32];
        snprintf(ra, sizeof(ra), "%lld", (long long)((wait + REEL_NS_PER_SEC - 1) / REEL_NS_PER_SEC));
        reel_http_log(r, REEL_LOG_WARN, "login for '%s' from %s refused: too many failures (retry in %s s)",
                      ukey + 5, addr, ra);
        reel_api_audit_as(r, user, "login.refused", NULL, json_pack("{s:s}", "why", "too many failed logins"));
        json_t *e = json_pack("{s:s}", "error", "too many failed logins: try again later");
        return reel_http_send_json(r, MHD_HTTP_TOO_MANY_REQUESTS, e, "Retry-After", ra, NULL);
    }
    struct reel_users *u;
    struct reel_err err = { "" };
    int rc = reel_http_users_get(r, &u, &err);
    if (rc < 0) {
        sodium_memzero(pass, sizeof(pass));
        return reel_api_read_error(r, rc, &err, "accounts database");
    }
    int64_t uid = 0;
    rc = reel_users_verify(u, user, pass, &uid, &err);
    sodium_memzero(pass, sizeof(pass));
    if (rc == -EACCES) {
        reel_http_users_put(r, u);
        reel_login_failed(r->rl_addr, r->rl_user, akey, ukey);
        reel_http_log(r, REEL_LOG_WARN, "failed login for '%s' from %s", ukey + 5, addr);
        reel_api_audit_as(r, user, "login.failed", NULL, NULL);
        return reel_http_send_error(r, MHD_HTTP_UNAUTHORIZED, "wrong user name or password");
    }
    /* the second factor: a user with TOTP needs a right code not used
     * before; a missing or wrong one is a failed login for the limiter */
    if (rc == 0) {
        rc = reel_users_totp_verify(u, uid, code, reel_http_wall_ns(r) / REEL_NS_PER_SEC, false, &err);
        if (rc == -ENOENT)
            rc = 0; /* no second factor */
        if (rc == -EACCES) {
            reel_http_users_put(r, u);
            reel_login_failed(r->rl_addr, r->rl_user, akey, ukey);
            reel_http_log(r, REEL_LOG_WARN, "failed login for '%s' from %s: %s TOTP code", ukey + 5, addr,
                          code[0] ? "wrong or reused" : "no");
            reel_api_audit_as(r, user, "login.failed", NULL,
                              json_pack("{s:s}", "why", code[0] ? "wrong or reused TOTP code" : "no TOTP code"));
            json_t *e = json_pack("{s:s, s:b}", "error",
                                  code[0] ? "wrong or already used TOTP code" : "a TOTP code is needed",
                                  "totp_required", 1);
            return reel_http_send_json(r, MHD_HTTP_UNAUTHORIZED, e, NULL);
        }
    }
    char sid[REEL_SECRET_MAX];
    struct reel_auth a;
    if (rc == 0)
        rc = reel_session_create(u, uid, reel_http_wall_ns(r), sid, &a, &err);
    reel_http_users_put(r, u);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "login");
    reel_login_succeeded(r->rl_user, ukey);
    char cookie[256];
    reel_http_session_cookie(r, sid, r->cfg->session_max_ns / REEL_NS_PER_SEC, cookie, sizeof(cookie));
    reel_http_log(r, REEL_LOG_INFO, "user %s logged in from %s", a.user, addr);
    reel_api_audit_as(r, a.user, "login", NULL, json_pack("{s:s, s:b}", "role", a.role, "totp", a.totp));
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:s, s:s, s:s, s:b}", "user", a.user, "csrf_token", a.csrf,
                                                                 "role", a.role, "totp", a.totp),
                               "Set-Cookie", cookie, NULL);
}

enum MHD_Result reel_api_logout(struct reel_http_req *r)
{
    if (r->kind == REEL_AUTH_SESSION) {
        struct reel_users *u;
        struct reel_err err = { "" };
        int rc = reel_http_users_get(r, &u, &err);
        if (rc == 0) {
            rc = reel_session_delete(u, r->sid, &err);
            reel_http_users_put(r, u);
        }
        if (rc < 0)
            return reel_api_read_error(r, rc, &err, "logout");
        reel_api_audit(r, "logout", NULL, NULL);
    }
    char cookie[256];
    reel_http_session_cookie(r, "", 0, cookie, sizeof(cookie));
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), "Set-Cookie", cookie, NULL);
}

/* Whether the site requires a reason for key's kind (setting key, value
 * "required"/"optional"). */
static bool reason_required(struct reel_http_req *r, const char *key, const char *def)
{
    char v[16];
    reel_audit_sink_setting(reel_http_audit_of(r), key, def, v, sizeof(v));
    return strcmp(v, "required") == 0;
}

enum MHD_Result reel_api_session(struct reel_http_req *r)
{
    bool session = r->kind == REEL_AUTH_SESSION;
    json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:b, s:b, s:b, s:b, s:b}", "user", r->auth->user, "csrf_token",
                          session ? json_string(r->auth->csrf) : json_null(), "auth", session ? "session" : "token",
                          "role", r->auth->role, "totp", r->auth->totp, "totp_enrol_required", r->auth->enrol_only,
                          "export_reason_required", reason_required(r, "export.reason", "required"),
                          "live_reason_required", reason_required(r, "live.reason", "optional"),
                          "playback_reason_required", reason_required(r, "playback.reason", "optional"));
    return reel_http_send_json(r, MHD_HTTP_OK, o, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * POST /api/onvif/discover {timeout_ms} and POST /api/onvif/profiles
 * {xaddr, user, password} (admin, CSRF, on the worker pool): find ONVIF
 * cameras on the local network, and read one device's profiles and RTSP
 * URIs with a suggested main and sub-stream, for the add-camera dialog.
 *
 * SSRF: only administrators may make the server call an address (as with
 * POST /api/cameras/test); the address must be http(s), without userinfo,
 * at most REEL_ONVIF_URL_MAX bytes; libcurl follows no redirects and speaks
 * only http/https; each call is capped in time and reply bytes (src/onvif).
 * The password is wiped after the call and never logged or audited; the
 * audit row names the address and the user name only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "http/body.h"
#include "onvif/onvif_json.h"

static json_t *body_object(struct reel_http_req *r, const char **why)
{
    *why = NULL;
    if (r->body_too_big) {
        *why = "request body too big";
        return NULL;
    }
    json_error_t jerr;
    json_t *j = r->body && r->body_len ? json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr)
                                       : json_object();
    if (!j || !json_is_object(j)) {
        json_decref(j);
        *why = "expected a JSON object";
        return NULL;
    }
    return j;
}

enum MHD_Result reel_api_onvif_discover(struct reel_http_req *r)
{
    const char *why;
    json_t *j = body_object(r, &why);
    if (!j)
        return reel_http_send_error(r, r->body_too_big ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST, "%s", why);
    json_t *t = json_object_get(j, "timeout_ms");
    json_int_t ms = 2000;
    if (t && !json_is_integer(t)) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "timeout_ms: expected an integer");
    }
    if (t)
        ms = json_integer_value(t);
    json_decref(j);
    if (ms < REEL_ONVIF_TIMEOUT_MIN_MS || ms > REEL_ONVIF_TIMEOUT_MAX_MS)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "timeout_ms: %d..%d", REEL_ONVIF_TIMEOUT_MIN_MS,
                                    REEL_ONVIF_TIMEOUT_MAX_MS);
    struct reel_onvif_device *d = calloc(REEL_ONVIF_DEVICES_MAX, sizeof(*d));
    if (!d)
        return reel_http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    size_t n = 0;
    struct reel_err err = { "" };
    int rc = reel_onvif_discover(r->clock, NULL, 0, (int)ms, d, REEL_ONVIF_DEVICES_MAX, &n, &err);
    if (rc < 0) {
        free(d);
        /* 422, not 5xx: the server hides 5xx messages, and this one (the
         * network has no multicast route...) is what the admin needs */
        return reel_http_send_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "%s", err.msg);
    }
    json_t *out = reel_onvif_devices_json(d, n);
    free(d);
    reel_http_log(r, REEL_LOG_INFO, "user %s searched for ONVIF cameras: %zu found", r->auth->user, n);
    reel_api_audit(r, "onvif.discover", NULL, json_pack("{s:I}", "found", (json_int_t)n));
    return reel_http_send_json(r, MHD_HTTP_OK, out, NULL);
}

/* A string member of at most max bytes, without control characters: 1 and
 * out set; 0 when absent; -1 when bad. */
static int str_member(json_t *j, const char *key, char *out, size_t max)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return 0;
    const char *s = json_string_value(v);
    if (!s || json_string_length(v) > max || strlen(s) != json_string_length(v))
        return -1;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -1;
    memcpy(out, s, strlen(s) + 1);
    return 1;
}

static bool xaddr_ok(const char *x)
{
    const char *h = strncmp(x, "http://", 7) == 0 ? x + 7 : strncmp(x, "https://", 8) == 0 ? x + 8 : NULL;
    if (!h || !*h || *h == '/')
        return false;
    size_t auth = strcspn(h, "/?#");
    if (memchr(h, '@', auth))
        return false;   /* credentials go in user/password, never in the address */
    for (const char *p = x; *p; p++)
        if ((unsigned char)*p <= ' ')
            return false;
    return true;
}

enum MHD_Result reel_api_onvif_profiles(struct reel_http_req *r)
{
    const char *why;
    json_t *j = body_object(r, &why);
    if (!j)
        return reel_http_send_error(r, r->body_too_big ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST, "%s", why);
    char xaddr[REEL_ONVIF_URL_MAX] = "", user[REEL_ONVIF_USER_MAX + 1] = "", pw[REEL_ONVIF_PASSWORD_MAX + 1] = "";
    int rx = str_member(j, "xaddr", xaddr, sizeof(xaddr) - 1);
    int ru = str_member(j, "user", user, REEL_ONVIF_USER_MAX);
    int rp = str_member(j, "password", pw, REEL_ONVIF_PASSWORD_MAX);
    json_decref(j);   /* holds the password too: jansson frees it; our copy is wiped below */
    const char *bad = rx <= 0 || !xaddr_ok(xaddr) ? "xaddr: expected an http:// or https:// address without user "
                                                    "name or password, at most 511 bytes"
                      : ru < 0 ? "user: expected a string of at most 128 bytes without control characters"
                      : rp < 0 ? "password: expected a string of at most 128 bytes without control characters"
                               : NULL;
    if (bad) {
        sodium_memzero(pw, sizeof(pw));
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", bad);
    }
    struct reel_onvif_auth a = { .user = user, .password = pw, .timeout_ms = 5000, .clock = r->clock };
    struct reel_onvif_profile p[REEL_ONVIF_PROFILES_MAX];
    size_t n = 0;
    struct reel_err err = { "" };
    int rc = reel_onvif_profiles(xaddr, &a, p, REEL_ONVIF_PROFILES_MAX, &n, &err);
    sodium_memzero(pw, sizeof(pw));
    if (rc == -EACCES)
        return reel_http_send_error(r, MHD_HTTP_FORBIDDEN, "%s", err.msg);
    if (rc == -EINVAL)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
    if (rc < 0)   /* the device failed (cannot connect, no answer, a fault, a bad reply): 422 with why */
        return reel_http_send_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "%s", err.msg);
    reel_http_log(r, REEL_LOG_INFO, "user %s read %zu ONVIF profiles", r->auth->user, n);
    reel_api_audit(r, "onvif.profiles", NULL,
                   json_pack("{s:s, s:s, s:I}", "xaddr", xaddr, "user", user, "profiles", (json_int_t)n));
    return reel_http_send_json(r, MHD_HTTP_OK, reel_onvif_profiles_json(p, n), NULL);
}

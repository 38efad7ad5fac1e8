/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The camera configuration body (see camera_body.h): jansson parses it with
 * duplicate keys refused, then each member is checked against the table of
 * known fields. The jansson tree, which may hold the password, is wiped of
 * it before it is freed.
 */
#include "api/camera_body.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "http/body.h"
#include "http/parse.h"

enum kind { K_STRING, K_BOOL, K_COUNT };

struct field {
    const char *key;
    unsigned bit;
    enum kind kind;
};

static const struct field fields[] = {
    { "name", REEL_API_CAM_NAME, K_STRING },
    { "url", REEL_API_CAM_URL, K_STRING },
    { "user", REEL_API_CAM_USER, K_STRING },
    { "password", REEL_API_CAM_PASSWORD, K_STRING },
    { "udp", REEL_API_CAM_UDP, K_BOOL },
    { "retain_bytes", REEL_API_CAM_RETAIN_BYTES, K_COUNT },
    { "retain_seconds", REEL_API_CAM_RETAIN_SECONDS, K_COUNT },
    { "storage", REEL_API_CAM_STORAGE, K_COUNT },
    { "enabled", REEL_API_CAM_ENABLED, K_BOOL },
    { "sub_url", REEL_API_CAM_SUB_URL, K_STRING },
    { "sub_retain_bytes", REEL_API_CAM_SUB_RETAIN_BYTES, K_COUNT },
    { "sub_retain_seconds", REEL_API_CAM_SUB_RETAIN_SECONDS, K_COUNT },
    { "allow_redirect", REEL_API_CAM_ALLOW_REDIRECT, K_BOOL },
    { "allow_basic", REEL_API_CAM_ALLOW_BASIC, K_BOOL },
};

static int fail(char *why, size_t cap, const char *msg)
{
    snprintf(why, cap, "%s", msg);
    return -EINVAL;
}

/* A key for a message: printable ASCII, at most 40 bytes. */
static void printable_key(const char *k, char *out, size_t cap)
{
    size_t o = 0;
    for (; *k && o + 1 < cap && o < 40; k++)
        out[o++] = (*k >= 0x20 && *k < 0x7f) ? *k : '?';
    out[o] = '\0';
}

int reel_api_camera_url_check(const char *url, char *why, size_t why_cap)
{
    size_t n = strlen(url), skip;
    if (n >= REEL_URL_MAX)
        return fail(why, why_cap, "url: longer than 1023 bytes");
    if (strncmp(url, "rtsp://", 7) == 0)
        skip = 7;
    else if (strncmp(url, "rtsps://", 8) == 0)
        skip = 8;
    else
        return fail(why, why_cap, "url: must start with rtsp:// or rtsps://");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return fail(why, why_cap, "url: only printable ASCII without spaces");
    size_t auth = strcspn(url + skip, "/?#");
    if (memchr(url + skip, '@', auth))
        return fail(why, why_cap,
                    "url: credentials in the URL are refused; give \"user\" and \"password\" in their own fields");
    if (auth == 0 || url[skip] == ':')
        return fail(why, why_cap, "url: no host");
    return 0;
}

static int check_string(const struct field *f, const char *s, size_t n, struct reel_api_camera_in *ret, char *why,
                        size_t cap)
{
    switch (f->bit) {
    case REEL_API_CAM_NAME:
        if (n >= sizeof(ret->name) || !reel_http_name_valid(s))
            return fail(why, cap, "name: expected 1-63 of A-Z a-z 0-9 _ -");
        memcpy(ret->name, s, n + 1);
        return 0;
    case REEL_API_CAM_URL:
    case REEL_API_CAM_SUB_URL:
        if (n >= sizeof(ret->url))
            return fail(why, cap, f->bit == REEL_API_CAM_URL ? "url: longer than 1023 bytes"
                                                             : "sub_url: longer than 1023 bytes");
        if (reel_api_camera_url_check(s, why, cap) < 0) {
            if (f->bit == REEL_API_CAM_SUB_URL) { /* "url: ..." -> "sub_url: ..." */
                char m[256];
                snprintf(m, sizeof(m), "sub_%s", why);
                snprintf(why, cap, "%s", m);
            }
            return -EINVAL;
        }
        memcpy(f->bit == REEL_API_CAM_URL ? ret->url : ret->sub_url, s, n + 1);
        return 0;
    case REEL_API_CAM_USER:
        if (n > REEL_API_CAM_USER_MAX)
            return fail(why, cap, "user: longer than 127 bytes");
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ':')
                return fail(why, cap, "user: no control characters and no ':'");
        memcpy(ret->user, s, n + 1);
        return 0;
    case REEL_API_CAM_PASSWORD:
        if (n > REEL_API_CAM_PASSWORD_MAX)
            return fail(why, cap, "password: longer than 255 bytes");
        memcpy(ret->password, s, n + 1);
        return 0;
    }
    return fail(why, cap, "internal error");
}

int reel_api_camera_parse(const uint8_t *body, size_t len, struct reel_api_camera_in *ret, char *why,
                          size_t why_cap)
{
    memset(ret, 0, sizeof(*ret));
    why[0] = '\0';
    if (len > REEL_HTTP_BODY_MAX)
        return -E2BIG;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j || !json_is_object(j)) {
        /* jerr.text may quote the body (a password): only its position */
        if (j)
            snprintf(why, why_cap, "expected a JSON object");
        else
            snprintf(why, why_cap, "body is not valid JSON (line %d, column %d)", jerr.line, jerr.column);
        json_decref(j);
        return -EINVAL;
    }
    int r = 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        const struct field *f = NULL;
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            if (strcmp(fields[i].key, key) == 0)
                f = &fields[i];
        if (!f) {
            char k[48];
            printable_key(key, k, sizeof(k));
            snprintf(why, why_cap, "unknown field '%s'", k);
            r = -EINVAL;
            break;
        }
        if (f->bit == REEL_API_CAM_SUB_URL && json_is_null(v)) {
            ret->sub_none = true;
        } else if (f->kind == K_STRING) {
            if (!json_is_string(v)) {
                snprintf(why, why_cap, "%s: expected a string", f->key);
                r = -EINVAL;
                break;
            }
            const char *s = json_string_value(v);
            size_t n = json_string_length(v);
            if (memchr(s, '\0', n)) {
                snprintf(why, why_cap, "%s: holds a NUL", f->key);
                r = -EINVAL;
                break;
            }
            r = check_string(f, s, n, ret, why, why_cap);
            if (f->bit == REEL_API_CAM_PASSWORD)
                sodium_memzero((void *)s, n);
            if (r < 0)
                break;
        } else if (f->kind == K_BOOL) {
            if (!json_is_boolean(v)) {
                snprintf(why, why_cap, "%s: expected true or false", f->key);
                r = -EINVAL;
                break;
            }
            if (f->bit == REEL_API_CAM_UDP)
                ret->udp = json_is_true(v);
            else if (f->bit == REEL_API_CAM_ALLOW_REDIRECT)
                ret->allow_redirect = json_is_true(v);
            else if (f->bit == REEL_API_CAM_ALLOW_BASIC)
                ret->allow_basic = json_is_true(v);
            else
                ret->enabled = json_is_true(v);
        } else {
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                snprintf(why, why_cap, "%s: expected a non-negative integer", f->key);
                r = -EINVAL;
                break;
            }
            int64_t x = (int64_t)json_integer_value(v);
            if (f->bit == REEL_API_CAM_RETAIN_BYTES)
                ret->retain_bytes = x;
            else if (f->bit == REEL_API_CAM_RETAIN_SECONDS)
                ret->retain_seconds = x;
            else if (f->bit == REEL_API_CAM_SUB_RETAIN_BYTES)
                ret->sub_retain_bytes = x;
            else if (f->bit == REEL_API_CAM_SUB_RETAIN_SECONDS)
                ret->sub_retain_seconds = x;
            else
                ret->storage = x;
        }
        ret->has |= f->bit;
    }
    /* the password, if the loop stopped before it */
    json_t *pw = json_object_get(j, "password");
    if (json_is_string(pw))
        sodium_memzero((void *)json_string_value(pw), json_string_length(pw));
    json_decref(j);
    if (r < 0)
        sodium_memzero(ret->password, sizeof(ret->password));
    return r;
}

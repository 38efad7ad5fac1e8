/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * JSON request bodies (see body.h): jansson parses the bytes with duplicate
 * keys refused, and the members we need are checked for type and length
 * before they are copied out. The jansson tree is freed before returning.
 */
#include "http/body.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "http/parse.h"

/* Parses body as one JSON object; NULL when it is not one (or too big). */
static json_t *load_object(const uint8_t *body, size_t len, int *ret_err)
{
    if (len > REEL_HTTP_BODY_MAX) {
        *ret_err = -E2BIG;
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        *ret_err = -EBADMSG;
        return NULL;
    }
    return j;
}

/* The string member key of o: its bytes and length, or NULL when absent,
 * not a string, or holding a NUL. */
static const char *member(json_t *o, const char *key, size_t *ret_len)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (memchr(s, '\0', n))
        return NULL;
    *ret_len = n;
    return s;
}

int reel_http_login_parse(const uint8_t *body, size_t len, char user[REEL_USER_NAME_MAX],
                          char pass[REEL_PASSWORD_MAX + 1])
{
    int r;
    json_t *j = load_object(body, len, &r);
    if (!j)
        return r;
    size_t ul = 0, pl = 0;
    const char *u = member(j, "username", &ul), *p = member(j, "password", &pl);
    if (!u || !p) {
        r = -EBADMSG;
    } else if (ul >= REEL_USER_NAME_MAX || pl > REEL_PASSWORD_MAX) {
        r = -EMSGSIZE;
    } else {
        memcpy(user, u, ul);
        user[ul] = '\0';
        memcpy(pass, p, pl);
        pass[pl] = '\0';
        r = 0;
    }
    json_decref(j);
    return r;
}

int reel_http_token_parse(const uint8_t *body, size_t len, char name[REEL_HTTP_TOKEN_NAME_MAX])
{
    int r;
    json_t *j = load_object(body, len, &r);
    if (!j)
        return r;
    size_t nl = 0;
    const char *n = member(j, "name", &nl);
    if (!n) {
        r = -EBADMSG;
    } else if (nl >= REEL_HTTP_TOKEN_NAME_MAX || !reel_http_name_valid(n)) {
        r = -EINVAL;
    } else {
        memcpy(name, n, nl + 1);
        r = 0;
    }
    json_decref(j);
    return r;
}

int reel_http_token_days(const uint8_t *body, size_t len, int64_t *ret_days)
{
    int r;
    json_t *j = load_object(body, len, &r);
    if (!j)
        return r;
    json_t *v = json_object_get(j, "days");
    r = 0;
    *ret_days = 0;
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > REEL_HTTP_TOKEN_DAYS_MAX)
            r = -EINVAL;
        else
            *ret_days = json_integer_value(v);
    }
    json_decref(j);
    return r;
}

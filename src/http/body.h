/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The JSON request bodies of the HTTP API, decoded into plain values apart
 * from any socket so that they can be unit tested and fuzzed: the login body
 * {"username": ..., "password": ...} and the token body {"name": ...}. Each
 * takes the raw bytes of the body (not NUL-terminated) and copies the values
 * into buffers the caller owns; nothing is kept. Bodies over
 * REEL_HTTP_BODY_MAX are refused before jansson sees them; duplicate keys are
 * refused; strings holding NUL (\u0000) are refused by jansson; other keys
 * are ignored, so that a client may send more than we read.
 */
#ifndef REEL_HTTP_BODY_H
#define REEL_HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "http/users.h"

#define REEL_HTTP_BODY_MAX (16 * 1024)

/* POST /api/login. On success (0) user holds the user name (shorter than
 * REEL_USER_NAME_MAX) and pass the password (at most REEL_PASSWORD_MAX
 * bytes), both NUL-terminated; the caller should wipe pass after use.
 * -E2BIG: body over REEL_HTTP_BODY_MAX; -EBADMSG: not a JSON object with
 * string members "username" and "password"; -EMSGSIZE: a value too long
 * (answered like a wrong password). user and pass are untouched on failure. */
int reel_http_login_parse(const uint8_t *body, size_t len, char user[REEL_USER_NAME_MAX],
                          char pass[REEL_PASSWORD_MAX + 1]);

/* POST /api/tokens. On success (0) name holds a name that passes
 * reel_http_name_valid() ([A-Za-z0-9_-]{1,63}). -E2BIG: body too big;
 * -EBADMSG: not a JSON object with a string member "name"; -EINVAL: the
 * name is not valid. name is untouched on failure. */
#define REEL_HTTP_TOKEN_NAME_MAX 64
int reel_http_token_parse(const uint8_t *body, size_t len, char name[REEL_HTTP_TOKEN_NAME_MAX]);
/* The optional "days" member of the same body: *ret_days 0 when absent,
 * else an integer 1..REEL_HTTP_TOKEN_DAYS_MAX. -EINVAL for anything else
 * (a string, a fraction, out of range); errors of reel_http_token_parse()
 * for the body itself. */
#define REEL_HTTP_TOKEN_DAYS_MAX 36500
int reel_http_token_days(const uint8_t *body, size_t len, int64_t *ret_days);

#endif

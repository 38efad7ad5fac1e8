/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the JSON request bodies of the HTTP API (src/http/body.c):
 * the whole input is the body of POST /api/login and of POST /api/tokens.
 * Checks: a refused body leaves the output buffers untouched; an accepted
 * one yields NUL-terminated values within their caps (a token name passes
 * reel_http_name_valid) and survives a round trip: the values packed into a
 * new JSON object by jansson parse back to the same values.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "http/body.h"
#include "http/parse.h"

static void check_login(const uint8_t *data, size_t size)
{
    char user[REEL_USER_NAME_MAX], pass[REEL_PASSWORD_MAX + 1];
    memset(user, 0x5a, sizeof(user));
    memset(pass, 0x5a, sizeof(pass));
    int r = reel_http_login_parse(data, size, user, pass);
    FUZZ_CHECK(r == 0 || r == -E2BIG || r == -EBADMSG || r == -EMSGSIZE);
    if (r < 0) {
        for (size_t i = 0; i < sizeof(user); i++)
            FUZZ_CHECK(user[i] == 0x5a);
        for (size_t i = 0; i < sizeof(pass); i++)
            FUZZ_CHECK(pass[i] == 0x5a);
        return;
    }
    FUZZ_CHECK(memchr(user, '\0', sizeof(user)) != NULL);
    FUZZ_CHECK(memchr(pass, '\0', sizeof(pass)) != NULL);
    json_t *j = json_pack("{s:s, s:s}", "username", user, "password", pass);
    FUZZ_CHECK(j != NULL); /* both are valid UTF-8 without NUL */
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    FUZZ_CHECK(s != NULL);
    char user2[REEL_USER_NAME_MAX], pass2[REEL_PASSWORD_MAX + 1];
    FUZZ_CHECK(reel_http_login_parse((const uint8_t *)s, strlen(s), user2, pass2) == 0);
    FUZZ_CHECK(strcmp(user, user2) == 0 && strcmp(pass, pass2) == 0);
    free(s);
}

static void check_token(const uint8_t *data, size_t size)
{
    char name[REEL_HTTP_TOKEN_NAME_MAX];
    memset(name, 0x5a, sizeof(name));
    int r = reel_http_token_parse(data, size, name);
    FUZZ_CHECK(r == 0 || r == -E2BIG || r == -EBADMSG || r == -EINVAL);
    if (r < 0) {
        for (size_t i = 0; i < sizeof(name); i++)
            FUZZ_CHECK(name[i] == 0x5a);
        return;
    }
    FUZZ_CHECK(memchr(name, '\0', sizeof(name)) != NULL);
    FUZZ_CHECK(reel_http_name_valid(name));
    char body[REEL_HTTP_TOKEN_NAME_MAX + 16], name2[REEL_HTTP_TOKEN_NAME_MAX];
    int n = snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(body));
    FUZZ_CHECK(reel_http_token_parse((const uint8_t *)body, (size_t)n, name2) == 0);
    FUZZ_CHECK(strcmp(name, name2) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_login(data, size);
    check_token(data, size);
    return 0;
}

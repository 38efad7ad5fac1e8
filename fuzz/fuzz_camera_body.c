/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the JSON body of the camera configuration routes
 * (src/api/camera_body.c, POST /api/cameras and PATCH
 * /api/cameras/{camera}): the whole input is the body. Checks: the result
 * is 0, -E2BIG (exactly when the body is over REEL_HTTP_BODY_MAX) or
 * -EINVAL with a reason; the reason is one line of printable ASCII (so it
 * can never quote a password holding any other byte); a refused body leaves
 * no password behind; an accepted one has only the fields its bits name,
 * each NUL-terminated within its cap and of its documented form (a valid
 * name, a URL that reel_api_camera_url_check accepts, a user without
 * control characters or ':', counts >= 0), and survives a round trip: the
 * fields packed into a new JSON object by jansson parse back the same.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "api/camera_body.h"
#include "fuzz.h"
#include "http/body.h"
#include "http/parse.h"

static void check_why(const char *why, size_t cap)
{
    const char *end = memchr(why, '\0', cap);
    FUZZ_CHECK(end != NULL);
    for (const char *p = why; p < end; p++)
        FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static void check_accepted(const struct reel_api_camera_in *in)
{
    FUZZ_CHECK((in->has & ~0x1ffu) == 0);
    FUZZ_CHECK(memchr(in->name, '\0', sizeof(in->name)) != NULL);
    FUZZ_CHECK(memchr(in->url, '\0', sizeof(in->url)) != NULL);
    FUZZ_CHECK(memchr(in->user, '\0', sizeof(in->user)) != NULL);
    FUZZ_CHECK(memchr(in->password, '\0', sizeof(in->password)) != NULL);
    char why[256];
    if (in->has & REEL_API_CAM_NAME)
        FUZZ_CHECK(reel_http_name_valid(in->name));
    else
        FUZZ_CHECK(in->name[0] == '\0');
    if (in->has & REEL_API_CAM_URL)
        FUZZ_CHECK(reel_api_camera_url_check(in->url, why, sizeof(why)) == 0);
    else
        FUZZ_CHECK(in->url[0] == '\0');
    for (const char *p = in->user; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f && *p != ':');
    if (!(in->has & REEL_API_CAM_USER))
        FUZZ_CHECK(in->user[0] == '\0');
    if (!(in->has & REEL_API_CAM_PASSWORD))
        FUZZ_CHECK(all_zero(in->password, sizeof(in->password)));
    FUZZ_CHECK(in->retain_bytes >= 0 && in->retain_seconds >= 0 && in->storage >= 0);
    if (!(in->has & REEL_API_CAM_RETAIN_BYTES))
        FUZZ_CHECK(in->retain_bytes == 0);
    if (!(in->has & REEL_API_CAM_RETAIN_SECONDS))
        FUZZ_CHECK(in->retain_seconds == 0);
    if (!(in->has & REEL_API_CAM_STORAGE))
        FUZZ_CHECK(in->storage == 0);
    if (!(in->has & REEL_API_CAM_UDP))
        FUZZ_CHECK(!in->udp);
    if (!(in->has & REEL_API_CAM_ENABLED))
        FUZZ_CHECK(!in->enabled);
}

/* The accepted fields as a new body, parsed again: the same fields. */
static void round_trip(const struct reel_api_camera_in *in)
{
    json_t *o = json_object();
    FUZZ_CHECK(o != NULL);
    if (in->has & REEL_API_CAM_NAME)
        FUZZ_CHECK(json_object_set_new(o, "name", json_string(in->name)) == 0);
    if (in->has & REEL_API_CAM_URL)
        FUZZ_CHECK(json_object_set_new(o, "url", json_string(in->url)) == 0);
    if (in->has & REEL_API_CAM_USER)
        FUZZ_CHECK(json_object_set_new(o, "user", json_string(in->user)) == 0);
    if (in->has & REEL_API_CAM_PASSWORD)
        FUZZ_CHECK(json_object_set_new(o, "password", json_string(in->password)) == 0);
    if (in->has & REEL_API_CAM_UDP)
        FUZZ_CHECK(json_object_set_new(o, "udp", json_boolean(in->udp)) == 0);
    if (in->has & REEL_API_CAM_ENABLED)
        FUZZ_CHECK(json_object_set_new(o, "enabled", json_boolean(in->enabled)) == 0);
    if (in->has & REEL_API_CAM_RETAIN_BYTES)
        FUZZ_CHECK(json_object_set_new(o, "retain_bytes", json_integer(in->retain_bytes)) == 0);
    if (in->has & REEL_API_CAM_RETAIN_SECONDS)
        FUZZ_CHECK(json_object_set_new(o, "retain_seconds", json_integer(in->retain_seconds)) == 0);
    if (in->has & REEL_API_CAM_STORAGE)
        FUZZ_CHECK(json_object_set_new(o, "storage", json_integer(in->storage)) == 0);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    FUZZ_CHECK(s != NULL);
    size_t n = strlen(s);
    static struct reel_api_camera_in again;
    char why[256];
    int r = reel_api_camera_parse((const uint8_t *)s, n, &again, why, sizeof(why));
    free(s);
    if (n > REEL_HTTP_BODY_MAX) { /* escaping can make it longer than the input */
        FUZZ_CHECK(r == -E2BIG);
        return;
    }
    FUZZ_CHECK(r == 0);
    FUZZ_CHECK(again.has == in->has);
    FUZZ_CHECK(strcmp(again.name, in->name) == 0 && strcmp(again.url, in->url) == 0);
    FUZZ_CHECK(strcmp(again.user, in->user) == 0 && strcmp(again.password, in->password) == 0);
    FUZZ_CHECK(again.udp == in->udp && again.enabled == in->enabled);
    FUZZ_CHECK(again.retain_bytes == in->retain_bytes && again.retain_seconds == in->retain_seconds);
    FUZZ_CHECK(again.storage == in->storage);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct reel_api_camera_in in; /* ~1.5 KB: off the fuzzer's stack */
    char why[256];
    memset(why, 0x5a, sizeof(why));
    int r = reel_api_camera_parse(data, size, &in, why, sizeof(why));
    FUZZ_CHECK(r == 0 || r == -E2BIG || r == -EINVAL);
    FUZZ_CHECK((r == -E2BIG) == (size > REEL_HTTP_BODY_MAX));
    check_why(why, sizeof(why));
    if (r == -EINVAL)
        FUZZ_CHECK(why[0] != '\0');
    if (r < 0) {
        FUZZ_CHECK(all_zero(in.password, sizeof(in.password)));
        return 0;
    }
    check_accepted(&in);
    round_trip(&in);
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the pure HTTP request parsers of src/http/parse.c: path
 * splitting and percent-decoding, query parameters, Cookie, Range,
 * If-None-Match / If-Range, the Origin/CSRF checks, the Host check and time values. Input:
 * fields separated by newlines (path, query, cookie, range, if-none-match,
 * origin, time); missing fields are "". A Range accepted must lie inside
 * the entity.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "http/parse.h"

#define FIELDS 7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[4096];
    size_t l = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
    memcpy(buf, data, l);
    buf[l] = '\0';
    const char *f[FIELDS];
    char *p = buf;
    for (int i = 0; i < FIELDS; i++) {
        f[i] = p;
        char *nl = p ? strchr(p, '\n') : NULL;
        if (nl) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p = p + strlen(p);
        }
    }

    char segs[8][REEL_HTTP_SEG_MAX];
    int n = reel_http_path_split(f[0], segs, 8);
    FUZZ_CHECK(n <= 8);
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(memchr(segs[i], '\0', REEL_HTTP_SEG_MAX) != NULL);
    char out[256];
    if (reel_http_query_get(f[1], "from", out, sizeof(out)) == 1)
        FUZZ_CHECK(strlen(out) < sizeof(out));
    (void)reel_http_query_get(f[1], "", out, sizeof(out));
    if (reel_http_cookie_get(f[2], "reel_session", out, sizeof(out)) == 1)
        FUZZ_CHECK(strlen(out) < sizeof(out));
    static const uint64_t sizes[] = { 0, 1, 1000, UINT64_MAX };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t start = 0, len = 0;
        if (reel_http_range_parse(f[3], sizes[i], &start, &len) == REEL_RANGE_OK)
            FUZZ_CHECK(len > 0 && start < sizes[i] && len <= sizes[i] - start);
    }
    const char *etag = "\"0123456789abcdef\"";
    (void)reel_http_etag_none_match(f[4], etag);
    (void)reel_http_if_range_ok(f[4], etag, "Sun, 06 Nov 1994 08:49:37 GMT");
    const char *why = NULL;
    (void)reel_http_origin_ok(f[5], "127.0.0.1:8080");
    if (reel_http_csrf_check("POST", f[4], "0123456789abcdef", f[5], "127.0.0.1:8080", &why) < 0)
        FUZZ_CHECK(why != NULL);
    (void)reel_http_name_valid(f[0]);
    /* the Host check (field 5 as a Host header): allowed without names only
     * for an IP literal or localhost; a configured name matches itself */
    char name[REEL_HTTP_HOST_MAX + 1];
    int ip = reel_http_host_name(f[5], name, sizeof(name));
    const char *none[] = { NULL };
    if (reel_http_host_allowed(f[5], none, 0))
        FUZZ_CHECK(ip == 1 || (ip == 0 && strcmp(name, "localhost") == 0));
    if (ip == 0 && reel_http_host_name_valid(name) && name[strlen(name) - 1] != '.') {
        const char *self[] = { name };
        FUZZ_CHECK(reel_http_host_allowed(f[5], self, 1));
    }
    int64_t t;
    (void)reel_http_time_parse(f[6], 1700000000LL * 90000, &t);
    return 0;
}

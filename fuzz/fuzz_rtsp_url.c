/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: rtsp:// URL parsing, formatting, a=control joining and base
 * selection (src/rtsp/url.c), through reel_rtsp_url_fuzz; then checks that
 * a parsed URL formats without userinfo and that the formatted form parses
 * back to the same host, port and path (a round trip).
 */
#include <string.h>

#include "fuzz.h"
#include "rtsp/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)reel_rtsp_url_fuzz(data, size);

    struct reel_rtsp_url u, u2;
    char out[REEL_RTSP_URL_MAX + 300];
    if (reel_rtsp_url_parse((const char *)data, size, &u, NULL) < 0)
        return 0;
    FUZZ_CHECK(memchr(u.host, '\0', sizeof(u.host)) && memchr(u.path, '\0', sizeof(u.path)));
    FUZZ_CHECK(u.path[0] == '/');
    int l = reel_rtsp_url_format(&u, out, sizeof(out));
    if (l < 0)
        return 0;
    FUZZ_CHECK((size_t)l == strlen(out));
    FUZZ_CHECK(strchr(out + 7, '@') == NULL || strchr(u.path, '@') != NULL);
    if (reel_rtsp_url_parse(out, (size_t)l, &u2, NULL) == 0) {
        FUZZ_CHECK(strcmp(u.host, u2.host) == 0);
        FUZZ_CHECK(u.port == u2.port);
        FUZZ_CHECK(strcmp(u.path, u2.path) == 0);
    }
    return 0;
}

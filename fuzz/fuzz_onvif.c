/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the ONVIF reply parsers (src/onvif/xml.c) on one input, the
 * way a hostile device or a spoofed discovery reply would reach them:
 * ProbeMatches (with the 0.0.0.0 rewrite), faults, times, services,
 * profiles, stream URIs, subscriptions and notifications; checks that every
 * string filled in is terminated inside its buffer and counts stay in caps.
 */
#include <string.h>

#include "fuzz.h"
#include "onvif/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    struct reel_err err;
    struct reel_onvif_device dev[4];
    size_t n = 0;
    reel_onvif_parse_probe_matches(b, size, "10.0.0.1", NULL, dev, 4, &n);
    FUZZ_CHECK(n <= 4);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(memchr(dev[i].xaddr, '\0', sizeof(dev[i].xaddr)) && memchr(dev[i].name, '\0', sizeof(dev[i].name)));
        FUZZ_CHECK(dev[i].nscopes >= 0 && dev[i].nscopes <= REEL_ONVIF_SCOPES_MAX);
    }
    reel_onvif_parse_fault(b, size, &err);
    FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
    int64_t t;
    reel_onvif_parse_time(b, size, &t, &err);
    char m[REEL_ONVIF_URL_MAX], e[REEL_ONVIF_URL_MAX];
    if (reel_onvif_parse_services(b, size, m, e, &err) == 0)
        FUZZ_CHECK(memchr(m, '\0', sizeof(m)) && memchr(e, '\0', sizeof(e)));
    struct reel_onvif_profile p[4];
    if (reel_onvif_parse_profiles(b, size, p, 4, &n, &err) == 0) {
        FUZZ_CHECK(n <= 4);
        int mi, si;
        reel_onvif_suggest(p, n, &mi, &si);
        FUZZ_CHECK(mi < (int)n && si < (int)n);
    }
    reel_onvif_parse_stream_uri(b, size, m, &err);
    reel_onvif_parse_subscription(b, size, m, &t, &err);
    struct reel_onvif_motion mo[4];
    if (reel_onvif_parse_pull(b, size, mo, 4, &n, &err) == 0)
        FUZZ_CHECK(n <= 4);
    return 0;
}

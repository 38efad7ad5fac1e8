/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the Transport, RTP-Info and Session header parsers
 * (src/rtsp/transport.c), through reel_rtsp_transport_fuzz, plus checks on
 * what they return: strings terminated within their arrays, entry counts
 * within the caps, a session timeout always set.
 */
#include <string.h>

#include "fuzz.h"
#include "rtsp/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)reel_rtsp_transport_fuzz(data, size);

    char s[4096];
    size_t l = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
    memcpy(s, data, l);
    s[l] = '\0';
    struct reel_rtsp_transport t;
    if (reel_rtsp_transport_parse(s, &t, NULL) == 0) {
        FUZZ_CHECK(memchr(t.source, '\0', sizeof(t.source)) != NULL);
        FUZZ_CHECK(memchr(t.mode, '\0', sizeof(t.mode)) != NULL);
    }
    struct reel_rtsp_rtpinfo ri;
    reel_rtsp_rtpinfo_parse(s, &ri);
    FUZZ_CHECK(ri.n <= REEL_RTSP_RTPINFO_MAX);
    for (size_t i = 0; i < ri.n; i++)
        FUZZ_CHECK(memchr(ri.e[i].url, '\0', sizeof(ri.e[i].url)) != NULL);
    struct reel_rtsp_session se;
    if (reel_rtsp_session_parse(s, &se, NULL) == 0) {
        FUZZ_CHECK(se.id[0] != '\0' && memchr(se.id, '\0', sizeof(se.id)) != NULL);
        FUZZ_CHECK(se.timeout_s > 0);
    }
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the RTSP stream parser (src/rtsp/msg.c) on server bytes:
 * responses, server requests, '$'-interleaved frames and garbage. Runs
 * reel_rtsp_msg_fuzz (whole input, then byte by byte), then a third pass with
 * the channel filter on (channels 0 and 1 set up, as after SETUP) and chunk
 * sizes taken from the input, reading every field of every message and
 * parsing each WWW-Authenticate value with reel_auth_parse.
 */
#include <string.h>

#include "fuzz.h"
#include "rtsp/auth.h"
#include "rtsp/msg.h"

static void check_msg(const struct reel_rtsp_msg *m)
{
    if (m->kind == REEL_RTSP_MSG_FRAME) {
        FUZZ_CHECK(m->payload_len <= 65535);
        fuzz_touch(m->payload, m->payload_len);
        return;
    }
    FUZZ_CHECK(m->n_hdrs <= REEL_RTSP_HDRS_MAX);
    FUZZ_CHECK(m->body_len <= REEL_RTSP_BODY_MAX);
    for (size_t i = 0; i < m->n_hdrs; i++) {
        fuzz_touch(m->hdrs[i].name, strlen(m->hdrs[i].name) + 1);
        fuzz_touch(m->hdrs[i].value, strlen(m->hdrs[i].value) + 1);
    }
    if (m->kind == REEL_RTSP_MSG_RESPONSE) {
        fuzz_touch(m->reason, strlen(m->reason) + 1);
    } else {
        fuzz_touch(m->method, strlen(m->method) + 1);
        fuzz_touch(m->uri, strlen(m->uri) + 1);
    }
    if (m->body) {
        fuzz_touch(m->body, m->body_len + 1);
        FUZZ_CHECK(m->body[m->body_len] == 0);
    }
    struct reel_auth_challenge ch[REEL_AUTH_CHALLENGES_MAX];
    size_t n = 0, idx = 0;
    const char *v;
    while ((v = reel_rtsp_msg_header_next(m, "WWW-Authenticate", &idx)) != NULL)
        (void)reel_auth_parse(v, ch, REEL_AUTH_CHALLENGES_MAX, &n);
    FUZZ_CHECK(n <= REEL_AUTH_CHALLENGES_MAX);
    (void)reel_auth_choose(ch, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)reel_rtsp_msg_fuzz(data, size);

    struct reel_rtsp_parser p;
    reel_rtsp_parser_init(&p);
    reel_rtsp_parser_allow_channel(&p, 0);
    reel_rtsp_parser_allow_channel(&p, 1);
    size_t off = 0, step_i = 0;
    while (off < size) {
        size_t chunk = (size_t)data[step_i++ % size] % 23 + 1;
        if (chunk > size - off)
            chunk = size - off;
        const uint8_t *q = data + off;
        size_t left = chunk;
        for (int guard = 0; left > 0; guard++) {
            FUZZ_CHECK(guard < 1000000);
            size_t used = 0;
            struct reel_rtsp_msg m;
            int r = reel_rtsp_parser_feed(&p, q, left, &used, &m, NULL);
            FUZZ_CHECK(used <= left);
            if (r == 1)
                check_msg(&m);
            if (r == 0 && used == 0)
                break;
            q += used;
            left -= used;
        }
        off += chunk;
    }
    reel_rtsp_parser_free(&p);
    return 0;
}

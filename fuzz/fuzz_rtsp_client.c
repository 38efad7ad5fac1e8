/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the sans-I/O RTSP client (src/rtsp/client.c) fed the input
 * as the server's bytes. Runs reel_rtsp_client_fuzz, then drives a client
 * of its own: the first byte picks TCP or UDP, whether credentials are
 * configured and (bit 2) whether the audio stream is set up too; the rest is fed in records (2-byte length prefixes, see
 * fuzz.h), the requests the client queues are "sent" and the clock moves
 * 5 s between records, so keep-alives and timeouts run too. Interleaved RTP
 * handed out is read whole; what the client exposes at the end is checked.
 */
#include <string.h>

#include "fuzz.h"
#include "base/clock.h"
#include "rtsp/client.h"

static int on_rtp(void *opaque, uint8_t ch, const uint8_t *pkt, size_t len)
{
    (void)opaque;
    (void)ch;
    fuzz_touch(pkt, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)reel_rtsp_client_fuzz(data, size);
    if (size < 1)
        return 0;

    uint8_t flags = data[0];
    struct reel_rtsp_client_cfg cfg = {
        .url = "rtsp://127.0.0.1:8554/cam/0",
        .user = (flags & 2) ? "admin" : NULL,
        .password = (flags & 2) ? "secret" : NULL,
        .udp = flags & 1,
        .audio = (flags & 4) != 0,
        .client_rtp_port = 40000,
        .on_rtp = on_rtp,
    };
    struct reel_rtsp_client *c;
    if (reel_rtsp_client_new(&c, &cfg, NULL) < 0)
        return 0;
    int64_t now = 1000 * REEL_NS_PER_SEC;
    (void)reel_rtsp_client_start(c, now);
    struct fuzz_records rec = { data + 1, size - 1 };
    const uint8_t *p;
    size_t n, len;
    while (fuzz_next_record(&rec, &p, &n)) {
        const uint8_t *out = reel_rtsp_client_pending(c, &len);
        fuzz_touch(out, len);
        reel_rtsp_client_sent(c, len);
        struct reel_err err;
        if (reel_rtsp_client_feed(c, p, n, now, &err) < 0)
            FUZZ_CHECK(reel_rtsp_client_state(c) == REEL_RTSP_FAILED);
        now += 5 * REEL_NS_PER_SEC;
        if (reel_rtsp_client_deadline(c) <= now)
            (void)reel_rtsp_client_tick(c, now, &err);
    }
    const struct reel_rtsp_video *v = reel_rtsp_client_video(c);
    if (v) {
        FUZZ_CHECK(v->codec == REEL_CODEC_H264 || v->codec == REEL_CODEC_H265);
        for (size_t i = 0; i < v->sprop_n; i++)
            fuzz_touch(v->sprop_nals[i], v->sprop_lens[i]);
        fuzz_touch(v->tool, strlen(v->tool));
        fuzz_touch(v->control_url, strlen(v->control_url));
    }
    const struct reel_rtsp_audio *a = reel_rtsp_client_audio(c);
    if (a) {
        FUZZ_CHECK(cfg.audio && !cfg.udp && a->codec != REEL_AUDIO_NONE && a->clock_rate > 0);
        FUZZ_CHECK(a->rtp_channel != v->rtp_channel && a->rtcp_channel != v->rtcp_channel);
        fuzz_touch(a->aac_config, a->aac_config_len);
        fuzz_touch(a->control_url, strlen(a->control_url));
    }
    const char *note = reel_rtsp_client_audio_note(c);
    fuzz_touch(note, strlen(note));
    const char *e = reel_rtsp_client_error(c);
    fuzz_touch(e, strlen(e));
    if (reel_rtsp_client_state(c) == REEL_RTSP_REDIRECT) {
        const char *u = reel_rtsp_client_redirect_url(c);
        FUZZ_CHECK(u != NULL);
        fuzz_touch(u, strlen(u));
    }
    (void)reel_rtsp_client_stop(c, now);
    const uint8_t *out = reel_rtsp_client_pending(c, &len);
    fuzz_touch(out, len);
    reel_rtsp_client_free(c);
    return 0;
}

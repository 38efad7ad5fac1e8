/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the SDP parser with its fmtp handling (sprop-parameter-sets,
 * sprop-vps/sps/pps base64, profile-level-id, packetization-mode) in
 * src/rtsp/sdp.c. Runs reel_sdp_fuzz, then checks the caps and string
 * termination of what reel_sdp_parse returns, and hands the decoded
 * parameter sets of the video media to reel_video_params_build, as the
 * depacketiser does. For the first audio media: the AAC fields within
 * their caps, and the audio sample entry built from them as the recorder
 * does (its box size must equal its length).
 */
#include <string.h>

#include "fuzz.h"
#include "base/buf.h"
#include "rtsp/sdp.h"

static void check_str(const char *s, size_t cap)
{
    FUZZ_CHECK(memchr(s, '\0', cap) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)reel_sdp_fuzz(data, size);

    struct reel_sdp *s = NULL;
    if (reel_sdp_parse((const char *)data, size, &s, NULL) < 0)
        return 0;
    FUZZ_CHECK(s->n_media <= REEL_SDP_MEDIA_MAX);
    check_str(s->control, sizeof(s->control));
    check_str(s->tool, sizeof(s->tool));
    for (size_t i = 0; i < s->n_media; i++) {
        const struct reel_sdp_media *m = &s->media[i];
        check_str(m->type, sizeof(m->type));
        check_str(m->proto, sizeof(m->proto));
        check_str(m->encoding, sizeof(m->encoding));
        check_str(m->fmtp, sizeof(m->fmtp));
        check_str(m->control, sizeof(m->control));
        FUZZ_CHECK(m->n_pts <= REEL_SDP_PT_MAX);
        FUZZ_CHECK(m->n_sprop <= REEL_SDP_SPROP_MAX);
        const uint8_t *nals[REEL_SDP_SPROP_MAX];
        for (size_t k = 0; k < m->n_sprop; k++) {
            FUZZ_CHECK(m->sprop_len[k] <= REEL_PARAM_SET_MAX);
            nals[k] = m->sprop[k];
        }
        if ((m->codec == REEL_CODEC_H264 || m->codec == REEL_CODEC_H265) && m->n_sprop) {
            struct reel_video_params vp;
            struct reel_err err;
            if (reel_video_params_build(m->codec, nals, m->sprop_len, m->n_sprop, &vp, &err) == 0)
                reel_video_params_clear(&vp);
        }
    }
    int v = reel_sdp_find_video(s);
    FUZZ_CHECK(v < (int)s->n_media);
    int a = reel_sdp_find_audio(s);
    FUZZ_CHECK(a < (int)s->n_media);
    if (a >= 0) {
        const struct reel_sdp_media *m = &s->media[a];
        check_str(m->aac_mode, sizeof(m->aac_mode));
        FUZZ_CHECK(m->aac_config_len <= sizeof(m->aac_config));
        if (m->audio_codec == REEL_AUDIO_AAC)
            FUZZ_CHECK(m->aac_config_len > 0 && m->size_length >= 1 && m->size_length <= 16 &&
                       m->index_length >= 0 && m->index_length <= 16 &&
                       m->index_delta_length >= 0 && m->index_delta_length <= 16);
        if (m->audio_codec != REEL_AUDIO_NONE) {
            FUZZ_CHECK(m->clock_rate > 0);
            struct reel_audio_params ap;
            struct reel_err err;
            if (reel_audio_params_build(m->audio_codec, m->clock_rate, m->channels, m->aac_config,
                                        m->aac_config_len, &ap, &err) == 0) {
                FUZZ_CHECK(ap.sample_entry_len >= 36 && ap.sample_entry_len <= sizeof(ap.sample_entry));
                FUZZ_CHECK(reel_rd_be32(ap.sample_entry) == ap.sample_entry_len);
                FUZZ_CHECK(memchr(ap.codec_string, '\0', sizeof(ap.codec_string)));
            }
        }
    }
    reel_sdp_free(s);
    return 0;
}

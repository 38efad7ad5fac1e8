/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: parameter sets (src/codec): the H.264 and H.265 SPS parsers,
 * reel_video_params_build and the Annex-B splitter. Input: one byte whose
 * bit 0 picks H.265, then an Annex-B stream of parameter sets (as a camera
 * sends in-band or in sprop-parameter-sets). Each NAL unit goes to the SPS
 * parser of the codec; the set goes to reel_video_params_build, whose
 * sample entry must be a box whose size field matches its length.
 */
#include <string.h>

#include "fuzz.h"
#include "codec/annexb.h"
#include "codec/params.h"
#include "codec/sps.h"

#define NALS_MAX 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum reel_codec codec = (data[0] & 1) ? REEL_CODEC_H265 : REEL_CODEC_H264;
    struct reel_nal nal[NALS_MAX];
    int n = reel_annexb_split(data + 1, size - 1, nal, NALS_MAX);
    if (n < 0)
        n = NALS_MAX;
    const uint8_t *nals[NALS_MAX];
    size_t lens[NALS_MAX];
    struct reel_err err;
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(nal[i].len > 0 && nal[i].p >= data + 1 && nal[i].p + nal[i].len <= data + size);
        nals[i] = nal[i].p;
        lens[i] = nal[i].len;
        if (codec == REEL_CODEC_H264) {
            struct reel_h264_sps s;
            if (reel_h264_sps_parse(nal[i].p, nal[i].len, &s, &err) == 0)
                FUZZ_CHECK(s.chroma_format_idc <= 3);
        } else {
            struct reel_h265_sps s;
            if (reel_h265_sps_parse(nal[i].p, nal[i].len, &s, &err) == 0)
                FUZZ_CHECK(s.chroma_format_idc <= 3);
        }
    }
    struct reel_video_params vp;
    if (reel_video_params_build(codec, nals, lens, (size_t)n, &vp, &err) == 0) {
        FUZZ_CHECK(vp.codec == codec);
        FUZZ_CHECK(vp.sample_entry_len >= 8);
        uint32_t boxlen = (uint32_t)vp.sample_entry[0] << 24 | (uint32_t)vp.sample_entry[1] << 16 |
                          (uint32_t)vp.sample_entry[2] << 8 | vp.sample_entry[3];
        FUZZ_CHECK(boxlen == vp.sample_entry_len);
        FUZZ_CHECK(memchr(vp.codec_string, '\0', sizeof(vp.codec_string)) != NULL);
        reel_video_params_clear(&vp);
    }
    return 0;
}

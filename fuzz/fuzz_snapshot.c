/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: reel_media_snapshot_jpeg (src/media/snapshot.c) with a valid
 * sample entry and hostile access units. Input: one byte whose bit 0 picks
 * H.265 (else H.264), then the access unit (4-byte length-prefixed NAL
 * units, as the hub carries them). The entry is built by src/codec from the
 * parameter sets of tests/data/clip320x180.*; libavcodec decodes whatever
 * the AU holds: the call must return 0 with a JPEG or an error with one
 * line in err, never crash or leak.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "codec/params.h"
#include "media/snapshot.h"

/* h264: 2 parameter sets, each a 2-byte length + NAL */
static const uint8_t ps_h264[] = {0x00,0x18,0x67,0x64,0x00,0x0b,0xac,0xb4,0x0a,0x0c,0xfc,0xf8,0x08,0x80,0x00,0x00,0x03,0x00,0x80,0x00,0x00,0x0a,0x07,0x8a,0x15,0x50,0x00,0x04,0x68,0xef,0x0f,0xcb};
/* h265: 3 parameter sets, each a 2-byte length + NAL */
static const uint8_t ps_h265[] = {0x00,0x18,0x40,0x01,0x0c,0x01,0xff,0xff,0x01,0x60,0x00,0x00,0x03,0x00,0x90,0x00,0x00,0x03,0x00,0x00,0x03,0x00,0x3c,0xba,0x02,0x40,0x00,0x2a,0x42,0x01,0x01,0x01,0x60,0x00,0x00,0x03,0x00,0x90,0x00,0x00,0x03,0x00,0x00,0x03,0x00,0x3c,0xa0,0x0a,0x08,0x0b,0x9f,0x79,0x6e,0xa4,0x93,0x2b,0xc0,0x5a,0x02,0x00,0x00,0x03,0x00,0x02,0x00,0x00,0x03,0x00,0x14,0x10,0x00,0x07,0x44,0x01,0xc1,0x72,0xb4,0x62,0x40};

static int entry_of(enum reel_codec codec, struct reel_video_params *p)
{
    const uint8_t *ps = codec == REEL_CODEC_H264 ? ps_h264 : ps_h265;
    size_t len = codec == REEL_CODEC_H264 ? sizeof ps_h264 : sizeof ps_h265;
    const uint8_t *nals[4];
    size_t lens[4], n = 0;
    for (size_t off = 0; off + 2 <= len && n < 4; n++) {
        lens[n] = (size_t)ps[off] << 8 | ps[off + 1];
        nals[n] = ps + off + 2;
        off += 2 + lens[n];
    }
    struct reel_err err;
    return reel_video_params_build(codec, nals, lens, n, p, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum reel_codec codec = (data[0] & 1) ? REEL_CODEC_H265 : REEL_CODEC_H264;
    struct reel_video_params p;
    if (entry_of(codec, &p) != 0)
        abort();   /* the embedded parameter sets are valid */
    uint8_t *jpeg = NULL;
    size_t jlen = 0;
    struct reel_err err = {{0}};
    int r = reel_media_snapshot_jpeg(p.sample_entry, p.sample_entry_len, data + 1, size - 1, 320, &jpeg,
                                     &jlen, &err);
    if (r == 0) {
        if (jlen < 2 || jpeg[0] != 0xff || jpeg[1] != 0xd8)
            abort();
        free(jpeg);
    } else if (err.msg[0] == '\0' || strchr(err.msg, '\n') != NULL) {
        abort();
    }
    reel_video_params_clear(&p);
    return 0;
}

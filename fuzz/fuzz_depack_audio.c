/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the RTP audio depacketisers (src/rtp/audio.c: AAC-hbr per
 * RFC 3640 with AU headers, index deltas and fragments; G.711; Opus) and
 * the audio sample entry builder (src/codec/audio_entry.c).
 *
 * Input: one flags byte, then records (2-byte big-endian length, fuzz.h).
 * Flags bits 0-1: codec (AAC, PCMU, PCMA, Opus); bit 2: a small AU cap
 * (256 bytes); bit 3: the first record is not a packet but the AAC field
 * widths (sizelength, indexlength, indexdeltalength: one byte each, taken
 * mod 17) followed by an AudioSpecificConfig, else 13/3/3 and config 1408
 * (AAC-LC 16 kHz mono). Bits 4-5 pick the clock rate (8000, 16000, 44100,
 * 48000). The rest of the records are RTP packets (payload type 96).
 *
 * Checks: every AU handed out is non-empty, within the cap and inside
 * memory ASan can read; an accepted sample entry's box size equals its
 * length; the depacketiser's counters add up.
 */
#include <string.h>

#include "fuzz.h"
#include "base/buf.h"
#include "rtp/audio.h"

struct ctx {
    size_t cap;
    uint64_t aus;
};

static int on_au(void *opaque, const struct reel_audio_au *au)
{
    struct ctx *c = opaque;
    FUZZ_CHECK(au->len > 0 && au->len <= c->cap);
    fuzz_touch(au->data, au->len);
    c->aus++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const enum reel_audio_codec codecs[4] = {
        REEL_AUDIO_AAC, REEL_AUDIO_PCMU, REEL_AUDIO_PCMA, REEL_AUDIO_OPUS,
    };
    static const uint32_t rates[4] = { 8000, 16000, 44100, 48000 };
    uint8_t flags = data[0];
    struct fuzz_records rec = { data + 1, size - 1 };
    enum reel_audio_codec codec = codecs[flags & 3];
    struct ctx c = { .cap = (flags & 4) ? 256 : REEL_AUDIO_AU_MAX };
    unsigned sl = 13, il = 3, dl = 3;
    static const uint8_t lc16k[] = { 0x14, 0x08 };
    const uint8_t *asc = lc16k;
    size_t asc_len = sizeof(lc16k);
    const uint8_t *p;
    size_t n;
    if ((flags & 8) && fuzz_next_record(&rec, &p, &n) && n >= 3) {
        sl = p[0] % 17;
        il = p[1] % 17;
        dl = p[2] % 17;
        asc = p + 3;
        asc_len = n - 3;
    }
    struct reel_audio_params ap;
    struct reel_err err;
    uint32_t spa = 1024;
    if (reel_audio_params_build(codec, rates[(flags >> 4) & 3], 1 + (flags >> 6), asc, asc_len, &ap,
                                &err) == 0) {
        FUZZ_CHECK(ap.sample_entry_len >= 36 && ap.sample_entry_len <= sizeof(ap.sample_entry));
        FUZZ_CHECK(reel_rd_be32(ap.sample_entry) == ap.sample_entry_len);
        FUZZ_CHECK(memchr(ap.codec_string, '\0', sizeof(ap.codec_string)));
        if (ap.samples_per_au)
            spa = ap.samples_per_au;
    }
    struct reel_audio_depack_cfg cfg = {
        .codec = codec, .payload_type = 96, .clock_rate = rates[(flags >> 4) & 3],
        .size_length = sl, .index_length = il, .index_delta_length = dl, .samples_per_au = spa,
        .max_au_bytes = c.cap, .on_au = on_au, .opaque = &c,
    };
    struct reel_audio_depack *d;
    if (reel_audio_depack_new(&d, &cfg) < 0) {
        FUZZ_CHECK(codec == REEL_AUDIO_AAC && (sl < 1 || sl > 16));
        return 0;
    }
    while (fuzz_next_record(&rec, &p, &n))
        (void)reel_audio_depack_push(d, p, n, &err);
    struct reel_audio_depack_stats st;
    reel_audio_depack_get_stats(d, &st);
    FUZZ_CHECK(st.aus == c.aus);
    reel_audio_depack_free(d);
    return 0;
}

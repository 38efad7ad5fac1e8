/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the H.264 (RFC 6184) and H.265 (RFC 7798) depacketisers
 * (src/rtp), fed a sequence of RTP packets. Built twice, with
 * FUZZ_CODEC=REEL_CODEC_H264 and REEL_CODEC_H265.
 *
 * Input: one flags byte, then packets as records (2-byte big-endian length,
 * see fuzz.h). Flags: bit 0, the first record is not a packet but the SDP's
 * parameter sets (Annex-B, start codes between them); bit 1, a small AU cap
 * (64 KiB); bit 2, flush at the end; bit 3, a reorder window (RTP over UDP)
 * of 2 << (bits 4-6 mod 6) packets, 2 to 64. Payload type 96.
 *
 * Every AU handed out is checked: its 4-byte length prefixes tile it
 * exactly, it is within the cap, and its params (when present) carry a
 * sample entry; reel_vcl_digest must accept it.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "codec/annexb.h"
#include "rtp/depack.h"

#ifndef FUZZ_CODEC
#define FUZZ_CODEC REEL_CODEC_H264
#endif

struct ctx {
    size_t cap;
    uint64_t aus;
};

static int on_au(void *opaque, const struct reel_au *au)
{
    struct ctx *c = opaque;
    FUZZ_CHECK(au->len > 0 && au->len <= c->cap);
    size_t off = 0;
    while (off < au->len) {
        FUZZ_CHECK(au->len - off >= 4);
        uint32_t n = (uint32_t)au->data[off] << 24 | (uint32_t)au->data[off + 1] << 16 |
                     (uint32_t)au->data[off + 2] << 8 | au->data[off + 3];
        FUZZ_CHECK(n > 0 && n <= au->len - off - 4);
        off += 4 + n;
    }
    if (au->params) {
        FUZZ_CHECK(au->params->codec == FUZZ_CODEC);
        FUZZ_CHECK(au->params->sample_entry && au->params->sample_entry_len >= 8);
        fuzz_touch(au->params->sample_entry, au->params->sample_entry_len);
        FUZZ_CHECK(memchr(au->params->codec_string, '\0', sizeof(au->params->codec_string)));
    }
    uint8_t dig[REEL_VCL_DIGEST_LEN];
    FUZZ_CHECK(reel_vcl_digest(FUZZ_CODEC, au->data, au->len, dig) != -EBADMSG);
    c->aus++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    struct fuzz_records rec = { data + 1, size - 1 };
    struct ctx c = { .cap = (flags & 2) ? 64 * 1024 : 4 * 1024 * 1024 };
    struct reel_nal sprop[8];
    const uint8_t *nals[8];
    size_t lens[8];
    int nsprop = 0;
    const uint8_t *p;
    size_t n;
    if ((flags & 1) && fuzz_next_record(&rec, &p, &n)) {
        nsprop = reel_annexb_split(p, n, sprop, 8);
        if (nsprop < 0)
            nsprop = 8;
        for (int i = 0; i < nsprop; i++) {
            nals[i] = sprop[i].p;
            lens[i] = sprop[i].len;
        }
    }
    struct reel_depack_cfg cfg = {
        .codec = FUZZ_CODEC,
        .payload_type = 96,
        .max_au_bytes = (flags & 2) ? c.cap : 0,
        .reorder_window = (flags & 8) ? 2u << ((flags >> 4 & 7) % 6) : 0,
        .sprop_nals = nals,
        .sprop_lens = lens,
        .sprop_n = (size_t)nsprop,
        .on_au = on_au,
        .opaque = &c,
    };
    struct reel_depack *d;
    if (reel_depack_new(&d, &cfg) < 0)
        return 0;
    while (fuzz_next_record(&rec, &p, &n)) {
        struct reel_err err;
        int r = reel_depack_push(d, p, n, &err);
        FUZZ_CHECK(r <= 0);
    }
    if (flags & 4)
        FUZZ_CHECK(reel_depack_flush(d) <= 0);
    struct reel_depack_stats st;
    reel_depack_get_stats(d, &st);
    reel_depack_free(d);
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the RTP fixed header parser (src/rtp/rtp.c): version, CSRC
 * list, extension and padding. A packet it accepts must have its payload
 * inside the packet, after the 12-byte header.
 */
#include "fuzz.h"
#include "rtp/depack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reel_rtp_pkt pkt;
    struct reel_err err;
    if (reel_rtp_parse(data, size, &pkt, &err) < 0)
        return 0;
    FUZZ_CHECK(pkt.payload >= data + 12 && pkt.payload <= data + size);
    FUZZ_CHECK(pkt.payload_len <= size - (size_t)(pkt.payload - data));
    FUZZ_CHECK(pkt.pt < 128);
    fuzz_touch(pkt.payload, pkt.payload_len);
    return 0;
}

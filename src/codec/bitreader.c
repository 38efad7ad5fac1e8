/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RBSP bit reader for the SPS parsers: emulation-prevention removal,
 * fixed-width reads and Exp-Golomb codes, all bounds-checked.
 */
#include "codec/bitreader.h"

#include <errno.h>

int reel_rbsp_unescape(const uint8_t *in, size_t n, uint8_t *out, size_t out_cap)
{
    size_t o = 0;
    unsigned zeros = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = in[i];
        if (zeros >= 2 && b == 0x03) {
            zeros = 0;
            continue;
        }
        if (o >= out_cap || o >= (size_t)INT32_MAX)
            return -EMSGSIZE;
        out[o++] = b;
        zeros = b == 0 ? zeros + 1 : 0;
    }
    return (int)o;
}

void reel_br_init(struct reel_bitreader *br, const uint8_t *rbsp, size_t len)
{
    br->p = rbsp;
    br->len = len;
    br->pos = 0;
    br->error = false;
}

uint32_t reel_br_u(struct reel_bitreader *br, unsigned n)
{
    if (br->error || n > 32 || n > reel_br_left(br)) {
        br->error = true;
        return 0;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t bit = br->pos++;
        v = v << 1 | ((br->p[bit >> 3] >> (7 - (bit & 7))) & 1u);
    }
    return v;
}

void reel_br_skip(struct reel_bitreader *br, size_t n)
{
    if (br->error || n > reel_br_left(br)) {
        br->error = true;
        return;
    }
    br->pos += n;
}

uint32_t reel_br_ue(struct reel_bitreader *br)
{
    unsigned zeros = 0;
    while (!br->error && reel_br_u(br, 1) == 0) {
        if (++zeros > 31) {
            br->error = true;
            return 0;
        }
    }
    if (br->error)
        return 0;
    uint32_t rest = reel_br_u(br, zeros);
    if (br->error)
        return 0;
    return (uint32_t)((UINT64_C(1) << zeros) - 1 + rest);
}

int32_t reel_br_se(struct reel_bitreader *br)
{
    uint32_t k = reel_br_ue(br);
    if (br->error)
        return 0;
    int32_t mag = (int32_t)((k / 2) + (k & 1));   /* (k+1)/2 without overflow */
    return (k & 1) ? mag : -mag;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The reorder permutation and the oversized SEI of the simulator's faults
 * (see fault.h).
 */
#include "sim/fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t reel_sim_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

void reel_sim_reorder_perm(uint32_t *perm, size_t n, unsigned window, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    if (window < 2)
        return;
    for (size_t b = 0; b < n; b += window) {
        size_t m = n - b < window ? n - b : window;
        if (m < 2)
            break;
        uint32_t *blk = perm + b;
        for (size_t i = m - 1; i > 0; i--) {        /* Fisher-Yates */
            size_t j = (size_t)(reel_sim_rand(rng) >> 33) % (i + 1);
            uint32_t t = blk[i];
            blk[i] = blk[j];
            blk[j] = t;
        }
        bool identity = true;
        for (size_t i = 0; i < m && identity; i++)
            identity = blk[i] == b + i;
        if (identity) {
            blk[0] = (uint32_t)(b + 1);
            blk[1] = (uint32_t)b;
        }
    }
}

size_t reel_sim_bignal_len(enum reel_sim_codec codec, size_t payload)
{
    return (codec == REEL_SIM_H264 ? 1u : 2u) + 1 + (payload / 255 + 1) + payload + 1;
}

int reel_sim_bignal_make(enum reel_sim_codec codec, size_t payload, struct reel_sim_bignal *ret)
{
    if (payload < REEL_SIM_BIGNAL_MIN || payload > REEL_SIM_BIGNAL_MAX)
        return -EINVAL;
    struct reel_sim_bignal b = {.len = reel_sim_bignal_len(codec, payload)};
    b.nal = malloc(b.len);
    b.npkts = reel_sim_npackets(codec, b.len);
    b.pkts = calloc(b.npkts, sizeof(*b.pkts));
    if (!b.nal || !b.pkts) {
        reel_sim_bignal_free(&b);
        return -ENOMEM;
    }
    uint8_t *p = b.nal;
    if (codec == REEL_SIM_H264) {
        *p++ = 6;                         /* nal_ref_idc 0, SEI */
    } else {
        *p++ = 39 << 1;                   /* PREFIX_SEI_NUT, layer 0 */
        *p++ = 1;                         /* TemporalId 0 */
    }
    *p++ = 5;                             /* user_data_unregistered */
    size_t sz = payload;
    for (; sz >= 255; sz -= 255)
        *p++ = 0xff;
    *p++ = (uint8_t)sz;
    memcpy(p, REEL_SIM_BIGNAL_UUID, 16);
    p += 16;
    for (size_t i = 0; i < payload - 16; i++)
        *p++ = reel_sim_bignal_byte(i);
    *p++ = 0x80;                          /* rbsp_stop_one_bit + alignment */
    size_t k = reel_sim_packetise(codec, b.nal, b.len, b.pkts);
    if ((size_t)(p - b.nal) != b.len || k != b.npkts) {   /* cannot happen */
        reel_sim_bignal_free(&b);
        return -EINVAL;
    }
    *ret = b;
    return 0;
}

void reel_sim_bignal_free(struct reel_sim_bignal *b)
{
    if (!b)
        return;
    free(b->nal);
    free(b->pkts);
    *b = (struct reel_sim_bignal){0};
}

bool reel_sim_pkt_is_vcl(enum reel_sim_codec codec, const struct reel_sim_pkt *p)
{
    unsigned t;
    if (codec == REEL_SIM_H264) {
        t = p->pre_len ? p->pre[1] & 0x1fu : (p->len ? p->data[0] & 0x1fu : 0);
        return t >= 1 && t <= 5;
    }
    if (p->pre_len)
        t = p->pre[2] & 0x3fu;
    else if (p->len >= 2)
        t = (p->data[0] >> 1) & 0x3fu;
    else
        return false;
    return t <= 31;
}

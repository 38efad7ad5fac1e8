/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A bounds-checked bit reader over an RBSP (the payload of a NAL unit with
 * its emulation-prevention bytes removed), with Exp-Golomb ue(v)/se(v).
 *
 * Errors are sticky: a read past the end or an Exp-Golomb code longer than
 * 32 bits sets .error and returns 0 from then on, so a parser reads a run of
 * fields and checks reel_br_ok() once before trusting them.
 */
#ifndef REEL_CODEC_BITREADER_H
#define REEL_CODEC_BITREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reel_bitreader {
    const uint8_t *p;    /* borrowed: must outlive the reader */
    size_t len;          /* bytes */
    size_t pos;          /* bits consumed */
    bool error;
};

/* Copies a NAL unit (or a part of one) into out, dropping every 0x03 that
 * follows two zero bytes (emulation prevention). Returns the RBSP length,
 * or -EMSGSIZE if it would not fit in out_cap bytes. */
int reel_rbsp_unescape(const uint8_t *in, size_t n, uint8_t *out, size_t out_cap);

void reel_br_init(struct reel_bitreader *br, const uint8_t *rbsp, size_t len);
/* Reads n bits (0..32), most significant first. */
uint32_t reel_br_u(struct reel_bitreader *br, unsigned n);
static inline bool reel_br_flag(struct reel_bitreader *br) { return reel_br_u(br, 1) != 0; }
void reel_br_skip(struct reel_bitreader *br, size_t n);
/* ue(v): 0 .. 2^32-2; a code with more than 31 leading zeros is an error. */
uint32_t reel_br_ue(struct reel_bitreader *br);
/* se(v): -(2^31-1) .. 2^31-1. */
int32_t reel_br_se(struct reel_bitreader *br);
static inline bool reel_br_ok(const struct reel_bitreader *br) { return !br->error; }
static inline size_t reel_br_left(const struct reel_bitreader *br)
{
    return br->error ? 0 : br->len * 8 - br->pos;
}

#endif

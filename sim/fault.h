/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pure parts of two simulator faults, kept apart from the server so that
 * they can be unit-tested: the send order of --fault reorder (a permutation
 * of one tick's packets, shuffled inside small windows) and the oversized
 * NAL unit of --fault big-nal (a prefix SEI built once at start-up and
 * pre-packetised like the clip, so sending it costs what a clip packet
 * costs). See docs/simulator.md for how the server uses them.
 */
#ifndef REEL_SIM_FAULT_H
#define REEL_SIM_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/clip.h"

/* One step of xorshift64*; *state must not be 0. */
uint64_t reel_sim_rand(uint64_t *state);

/* Caps on --fault reorder=N. */
#define REEL_SIM_REORDER_MIN 2
#define REEL_SIM_REORDER_MAX 64

/* Fills perm[0..n) with a permutation of 0..n-1 in which each block of
 * `window` consecutive positions (the last one may be shorter) is shuffled
 * among itself, and left out of order when it holds 2 or more entries (a
 * shuffle that came out as the identity has its first two entries swapped).
 * So no entry moves `window` or more places. window < 2 gives the identity. */
void reel_sim_reorder_perm(uint32_t *perm, size_t n, unsigned window, uint64_t *rng);

/* --fault big-nal: the size is the SEI payload (16-byte UUID + pattern). */
#define REEL_SIM_BIGNAL_MIN 16
#define REEL_SIM_BIGNAL_MAX (256u << 20)
#define REEL_SIM_BIGNAL_UUID "reel-sim big-nal"    /* 16 bytes, no NUL */

struct reel_sim_bignal {
    uint8_t *nal;                 /* owned: the NAL unit, header included, no start code */
    size_t len;
    struct reel_sim_pkt *pkts;    /* owned: its RTP payloads (point into nal), no marker */
    size_t npkts;
};

/* Byte i of the pattern that follows the UUID: never 0, so the NAL holds no
 * start code and needs no emulation prevention. */
static inline uint8_t reel_sim_bignal_byte(size_t i) { return (uint8_t)(1 + (i + (i >> 8)) % 255); }

/* The NAL length for a payload of `payload` bytes: header (1 or 2), payload
 * type (1), payload size (payload/255 + 1), payload, rbsp trailing bits (1). */
size_t reel_sim_bignal_len(enum reel_sim_codec codec, size_t payload);

/* Builds a prefix SEI (H.264 type 6, H.265 type 39) holding one
 * user_data_unregistered message (payloadType 5) of `payload` bytes:
 * REEL_SIM_BIGNAL_UUID then reel_sim_bignal_byte(0..payload-17), and
 * packetises it. 0, -EINVAL (payload outside the caps) or -ENOMEM; *ret
 * untouched on failure, else the caller frees it with reel_sim_bignal_free(). */
int reel_sim_bignal_make(enum reel_sim_codec codec, size_t payload, struct reel_sim_bignal *ret);
/* Releases what b owns; accepts NULL and a zeroed struct. */
void reel_sim_bignal_free(struct reel_sim_bignal *b);

/* Whether an RTP payload of the clip carries (a fragment of) a VCL NAL unit. */
bool reel_sim_pkt_is_vcl(enum reel_sim_codec codec, const struct reel_sim_pkt *p);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The simulator's clip: an Annex-B H.264 or H.265 elementary stream read once
 * at start-up, split into access units and pre-packetised into RTP payloads
 * (RFC 6184 single NAL / FU-A, RFC 7798 single NAL / FU). At send time the
 * server only writes the 12-byte RTP header in front of each payload; the
 * payload bytes (a pointer into the clip plus a 0-3 byte FU prefix) are shared
 * by every camera.
 *
 * Independent of src/rtp and src/rtsp on purpose: the simulator must not share
 * our client's assumptions.
 */
#ifndef REEL_SIM_CLIP_H
#define REEL_SIM_CLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

enum reel_sim_codec { REEL_SIM_H264, REEL_SIM_H265 };

/* Largest RTP payload the packetiser emits (FU headers included). */
#define REEL_SIM_MAX_PAYLOAD 1400
/* Caps on what a clip may hold. */
#define REEL_SIM_CLIP_MAX_BYTES (512u << 20)
#define REEL_SIM_MAX_PSET 512          /* bytes per parameter set */

/* One RTP payload: pre[0..pre_len) followed by data[0..len). */
struct reel_sim_pkt {
    const uint8_t *data;     /* points into the clip's bytes */
    uint32_t len;
    uint8_t pre[3];          /* FU indicator+header (H.264) or PayloadHdr+FU header (H.265) */
    uint8_t pre_len;
    bool marker;             /* last packet of its access unit */
};

struct reel_sim_au {
    uint32_t first_pkt;      /* index into clip->pkts */
    uint32_t npkt;
    uint32_t bytes;          /* NAL bytes without start codes */
    bool key;                /* holds an IDR (H.264 type 5, H.265 IRAP 16..21) */
};

struct reel_sim_clip {
    enum reel_sim_codec codec;
    uint8_t *bytes;          /* owned: the whole file */
    size_t nbytes;
    struct reel_sim_pkt *pkts;   /* owned */
    size_t npkts;
    struct reel_sim_au *aus;     /* owned */
    size_t naus;
    /* First VPS (H.265 only) / SPS / PPS seen, pointers into bytes, no start code. */
    const uint8_t *vps, *sps, *pps;
    size_t vps_len, sps_len, pps_len;
};

/* Splits and packetises buf[0..len). On success the clip takes ownership of
 * buf (which must come from malloc) and fills *ret; on failure buf is freed
 * and *ret untouched. Fails with -EINVAL when the stream has no VCL NAL unit
 * or lacks SPS/PPS (and VPS for H.265). */
int reel_sim_clip_parse(uint8_t *buf, size_t len, enum reel_sim_codec codec,
                        struct reel_sim_clip *ret, struct reel_err *err);
/* Reads a file (at most REEL_SIM_CLIP_MAX_BYTES) and parses it. */
int reel_sim_clip_load(const char *path, enum reel_sim_codec codec,
                       struct reel_sim_clip *ret, struct reel_err *err);
/* Releases what the clip owns; accepts NULL and a zeroed clip. */
void reel_sim_clip_free(struct reel_sim_clip *c);

/* Calls fn for each NAL unit of an Annex-B buffer (start codes and trailing
 * zero bytes removed). Exposed for tests. Returns the number of NAL units. */
size_t reel_sim_annexb_split(const uint8_t *buf, size_t len,
                             void (*fn)(void *ctx, const uint8_t *nal, size_t n), void *ctx);

/* How many RTP payloads reel_sim_packetise() makes of an n-byte NAL unit:
 * 1 up to REEL_SIM_MAX_PAYLOAD bytes, else FU-A (H.264) / FU (H.265)
 * fragments. n must be at least the NAL header (1 or 2 bytes). */
size_t reel_sim_npackets(enum reel_sim_codec codec, size_t n);
/* Writes the payloads of one NAL unit p[0..n) at out (room for
 * reel_sim_npackets() entries; they point into p, which must outlive them)
 * and returns how many. No marker bit is set. */
size_t reel_sim_packetise(enum reel_sim_codec codec, const uint8_t *p, size_t n, struct reel_sim_pkt *out);

/* The SDP a=fmtp parameters for the clip (without "a=fmtp:96 "), e.g.
 * "packetization-mode=1;profile-level-id=64001f;sprop-parameter-sets=..,..".
 * Returns the length or -EMSGSIZE if out (cap bytes) is too small. */
int reel_sim_clip_fmtp(const struct reel_sim_clip *c, char *out, size_t cap);

#endif

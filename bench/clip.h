/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An Annex-B H.264 clip split into access units (length-prefixed NAL units),
 * for the benchmark tools that synthesise footage (fill.c, tl_fill.c).
 * Ownership: bench_clip_free() frees what bench_clip_load() allocated.
 */
#ifndef REEL_BENCH_CLIP_H
#define REEL_BENCH_CLIP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define CLIP_CAP (512u * 1024 * 1024)

struct au {
    size_t off, len;                   /* into the length-prefixed buffer */
    int key;
};

struct clip {
    struct reel_buf data;              /* every AU, length-prefixed NAL units */
    struct au *aus;
    size_t n, alloc;
    const uint8_t *sps, *pps;
    size_t sps_len, pps_len;
    uint8_t *raw;
};

/* Reads path; -EINVAL when it has no key frame or no SPS/PPS, -errno, -EFBIG. */
int bench_clip_load(struct clip *c, const char *path);
void bench_clip_free(struct clip *c);

#endif

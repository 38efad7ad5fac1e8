/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The scrub-preview thumbnail cache (GET /api/cameras/{camera}/thumb.jpg,
 * docs/timeline.md): JPEGs of key frames kept on disk in one pack file per
 * recording (the path is the store's, reel_store_thumb_path()), deleted with
 * the recording by the store's garbage collection, and a cap on what the
 * cache holds in all and on the decodes running at once.
 *
 * Pack format: records appended one after the other, each a 16-byte header
 * ("RTH1", the key frame's index in the recording as u32 LE, the width as
 * u16 LE, 2 zero bytes, the JPEG's length as u32 LE) and the JPEG. A reader
 * stops at the first record that does not parse (a torn append is a miss).
 * A pack holds at most REEL_THUMBS_PACK_MAX bytes.
 *
 * Cap: when an append would take the cache past cache_max bytes, the packs
 * of the oldest recordings (lowest ids) are deleted until it holds 3/4 of
 * it (at most one sweep per 10 s; meanwhile thumbnails are served without
 * being cached). Thread-safe: one mutex, never held during a decode.
 */
#ifndef REEL_MEDIA_THUMBS_H
#define REEL_MEDIA_THUMBS_H

#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"

#define REEL_THUMBS_PACK_MAX (8u << 20)
#define REEL_THUMBS_CACHE_DEFAULT (UINT64_C(512) << 20)
#define REEL_THUMBS_DECODES_DEFAULT 2
#define REEL_THUMBS_JPEG_MAX (256u << 10)   /* one thumbnail */

struct reel_thumbs;

struct reel_thumbs_cfg {
    const char *dir;                /* DATADIR/thumbs; created when missing; copied */
    uint64_t cache_max;             /* bytes; 0 = REEL_THUMBS_CACHE_DEFAULT */
    unsigned decodes_max;           /* at once; 0 = REEL_THUMBS_DECODES_DEFAULT */
    const struct reel_clock *clock; /* NULL = system */
};

/* Sums what the cache holds now. *ret owned by the caller. */
int reel_thumbs_new(struct reel_thumbs **ret, const struct reel_thumbs_cfg *cfg, struct reel_err *err);
void reel_thumbs_free(struct reel_thumbs *th);

/* The thumbnail of key frame key at width w in the pack at path: 0 and
 * *jpeg (malloc'd, the caller frees) or -ENOENT. */
int reel_thumbs_lookup(struct reel_thumbs *th, const char *path, uint32_t key, uint16_t w, uint8_t **jpeg,
                       size_t *len);
/* Takes a decode slot: 0, or -EBUSY when decodes_max are running. */
int reel_thumbs_decode_begin(struct reel_thumbs *th);
void reel_thumbs_decode_end(struct reel_thumbs *th);
/* Appends a thumbnail to the pack at path (creating its directory and the
 * file, 0600, O_NOFOLLOW). Best effort: -ENOSPC when a cap says no. */
int reel_thumbs_add(struct reel_thumbs *th, const char *path, uint32_t key, uint16_t w, const uint8_t *jpeg,
                    size_t len);
/* Bytes the cache holds (as counted; for tests and the bench). */
uint64_t reel_thumbs_bytes(struct reel_thumbs *th);

#endif

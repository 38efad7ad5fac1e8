/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What playback may hold at once: concurrent view.mp4 downloads (per user
 * and in all) and the bytes of the MP4 headers held by live responses. A
 * request over a cap is answered 503 with Retry-After by its handler
 * (view.c), never queued: descriptors and memory stay bounded however many
 * clients ask, so the recorder never runs out of either because of them.
 * Thread safe (one mutex); pure otherwise (unit tested in
 * tests/unit/test_http.c).
 */
#ifndef REEL_HTTP_PLAYBACK_H
#define REEL_HTTP_PLAYBACK_H

#include <stddef.h>
#include <stdint.h>

#define REEL_HTTP_DOWNLOADS_MAX 32u         /* default: downloads in all */
#define REEL_HTTP_DOWNLOADS_PER_USER 4u     /* default: downloads of one user */
#define REEL_HTTP_PLAYBACK_MEM ((uint64_t)256 << 20)   /* default: header bytes held */

struct reel_http_playback;

/* total downloads in all (1..4096), per_user for one user (1..total),
 * mem_max bytes of headers held at once (> 0). -EINVAL, -ENOMEM. *ret owned
 * by the caller: reel_http_playback_free(). */
int reel_http_playback_new(struct reel_http_playback **ret, unsigned total, unsigned per_user, uint64_t mem_max);
/* A download slot for user_id: 0, -EUSERS when the user has per_user
 * already, -EBUSY when total are in progress. Pair with _end(). */
int reel_http_playback_begin(struct reel_http_playback *p, int64_t user_id);
void reel_http_playback_end(struct reel_http_playback *p, int64_t user_id);
/* Takes bytes of the memory budget: 0, -EFBIG when bytes alone exceed it,
 * -ENOMEM when it would pass it now. Pair with _release(bytes). */
int reel_http_playback_reserve(struct reel_http_playback *p, uint64_t bytes);
void reel_http_playback_release(struct reel_http_playback *p, uint64_t bytes);
/* Downloads in progress and bytes held (for logs and tests). */
unsigned reel_http_playback_active(struct reel_http_playback *p);
uint64_t reel_http_playback_held(struct reel_http_playback *p);
void reel_http_playback_free(struct reel_http_playback *p);

#endif

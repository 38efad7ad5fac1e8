/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A camera test (POST /api/cameras/test): connects to a camera the way the
 * recorder does (src/reel/camera.c with no store: the same RTSP client,
 * redirect rule, Digest-then-no-Basic rule, UDP source check and
 * depacketiser) on a private event loop run on the calling thread, never
 * the recorder's, and reads until the first key frame and about 2 s more,
 * for the codec, size, frame rate, audio and bitrate. The camera is never
 * retried: its first failure is the answer, classified into one reason word.
 */
#ifndef REEL_REEL_PROBE_H
#define REEL_REEL_PROBE_H

#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"
#include "http/http.h"
#include "store/store.h"

/* Blocks until done, at most about deadline_ns (relative, e.g. 10 s) + 1 s.
 * row: url, user, udp, allow_redirect, allow_basic are used; password NULL
 * = none. 0 with *ret filled (ret->entry and ret->key the caller's: free());
 * -ENOMEM etc. when the loop cannot be made. */
int reel_probe_camera(const struct reel_clock *clock, const struct reel_logger *log, const struct reel_camera *row,
                      const char *password, int64_t deadline_ns, struct reel_http_probe *ret);

/* The reason word for a failure text of the recorder ("authentication
 * failed: ...", "connect: Connection refused", ...). Pure; test_reel.c. */
const char *reel_probe_reason(const char *last_error);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One camera's streamer: connects to the camera over RTSP, depacketises the
 * video, and hands access units to the store as a run of recordings. On any
 * failure it logs one line naming the camera and the cause, records an outage
 * with that reason, keeps every frame already received, and reconnects with a
 * capped exponential backoff. Cameras never affect each other: they share
 * only the loop and the store.
 *
 * The decisions (backoff, outage reasons, timestamp fix-ups, transport
 * fall-backs) are the policy's, src/ingest/policy.h, which documents them;
 * the sockets, loop registrations and name lookups are the transport's,
 * src/ingest/transport.h. This file glues them to the RTSP client, the
 * depacketiser and the store.
 *
 * Transport fall-backs, in short: a camera configured for UDP whose server
 * refuses it (461) or sends nothing over it is recorded over TCP; one
 * configured for TCP whose server refuses RTP over TCP (461) is recorded
 * over UDP, logged once, and TCP is tried again only on a reconnection at
 * least 1 h after the refusal, or when the camera is restarted.
 *
 * Hostile cameras (docs/security.md): credentials go only to the configured
 * URL's host (a redirect elsewhere, when allowed, gets none); once the
 * camera offered Digest, Basic is refused unless the row's allow_basic; UDP
 * packets from another source than the camera's address and announced
 * ports are dropped, counted (status udp_foreign) and logged at most once
 * a minute.
 *
 * Ownership: reel_cam_new() copies what it needs from the camera row and the
 * password; the recorder owns the struct reel_cam and frees it with
 * reel_cam_free() after reel_cam_stop(). opts->hooks and opts->resolver must
 * outlive the camera.
 */
#ifndef REEL_REEL_CAMERA_H
#define REEL_REEL_CAMERA_H

#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"
#include "ingest/resolve.h"
#include "reel/loop.h"
#include "rtp/depack.h"
#include "store/store.h"

struct reel_cam;

struct reel_cam_au {               /* one access unit as handed to the store */
    const uint8_t *data;           /* length-prefixed NAL units; valid only during the call */
    size_t len;
    int64_t ts90k;                 /* media timestamp after fix-ups (as stored) */
    int64_t wall90k;               /* wall time of arrival, 90 kHz since the epoch */
    bool key;
    int64_t sample_entry_id;
    const struct reel_video_params *params;   /* codec/size/sample entry in effect (rtp/depack.h) */
};

struct reel_cam_hooks {            /* all called on the loop thread; each may be NULL */
    void (*on_au)(void *opaque, int64_t camera_id, const struct reel_cam_au *au);
    void (*on_state)(void *opaque, const struct reel_camera_status *st);  /* at every state change */
    /* An outage (the table `outage`) began with reason ("connecting" at
     * start, "recorder stopped" at stop, else why the camera is down) or
     * ended (reason NULL), at wall90k (issue 15: camera.offline events). */
    void (*on_outage)(void *opaque, int64_t camera_id, int64_t wall90k, const char *reason);
    void *opaque;
};

struct reel_cam_opts {
    int64_t media_timeout_ns;       /* no frame for this long = stalled (default 10 s) */
    int64_t connect_timeout_ns;     /* TCP connect + each RTSP request (default 10 s) */
    int64_t backoff_min_ns;         /* first retry delay (default 1 s) */
    int64_t backoff_max_ns;         /* cap (default 30 s) */
    int64_t udp_silence_ns;         /* UDP without packets -> fall back to TCP (default 5 s) */
    int64_t resolve_timeout_ns;     /* name lookup (default 5 s) */
    int64_t tcp_retry_ns;           /* after a 461 for TCP, retry TCP after this (default 1 h) */
    const struct reel_cam_hooks *hooks;   /* NULL = none */
    /* Shared by the recorder's cameras (at most N lookups at once for all of
     * them); NULL = the camera makes its own, with one lookup at a time. */
    struct reel_resolver *resolver;
    /* The camera offered Digest before (reel_cam_digest_seen() of an
     * earlier streamer of it): Basic is refused from the start unless the
     * row's allow_basic. */
    bool digest_seen;
};

int reel_cam_new(struct reel_cam **ret, struct reel_loop *loop, struct reel_store *store,
                 const struct reel_logger *log, const struct reel_camera *cfg,
                 const char *password, const struct reel_cam_opts *opts);
/* store NULL: a probe (POST /api/cameras/test, src/reel/probe.c): the same
 * connection, guards and depacketising, nothing stored (no runs, outages nor
 * audio row); the audio stream is asked for so that it can be reported. */
/* Starts connecting (now). */
void reel_cam_start(struct reel_cam *c);
/* Tears the session down (best effort TEARDOWN), ends the run durably, and
 * records the outage "recorder stopped". */
void reel_cam_stop(struct reel_cam *c);
void reel_cam_free(struct reel_cam *c);
/* Whether the camera has offered Digest (kept by the recorder across
 * restarts of the streamer, opts.digest_seen). */
bool reel_cam_digest_seen(const struct reel_cam *c);

/* A probe: the audio codec the camera sent ("aac", ...), "" when none;
 * known from PLAYING on. Points into c. */
const char *reel_cam_probe_audio(const struct reel_cam *c);

/* Loop thread. Fills *ret from memory, no I/O: state, last error, fps and bitrate over
 * the last 5 to 10 s. */
void reel_cam_status(struct reel_cam *c, struct reel_camera_status *ret);

#endif

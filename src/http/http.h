/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The HTTP server of `reel run`: the JSON API (login, sessions, cameras and
 * their configuration, timeline, API tokens), playback and export of any time range as an MP4
 * with byte ranges (view.mp4), and the web UI's static files. It runs on
 * libmicrohttpd's own threads (epoll, a small thread pool), and the slow
 * requests (password hashing, MP4 building) on a pool of worker threads
 * (work.h) while their connection is suspended: the recorder's event loop
 * never waits for it, and one slow request never holds the threads that
 * serve everyone else. Handlers read the database through their
 * own read-only store handles and their own accounts connection, pooled and
 * used by one thread at a time; a change to a camera's configuration is
 * written through a store handle in admin mode opened for it, then handed
 * to the recorder (struct reel_http_recorder). The server glue is here
 * (server.c; route.h is what handlers get), the handlers are in src/api/
 * (one file per resource, the routing table in src/api/routes.c). See
 * docs/api.md for the routes and README.md ("Web server and TLS") for
 * deployment.
 *
 * Lifetime: reel_http_new(), then reel_http_static_add() for each embedded
 * file, then reel_http_start(); reel_http_free() stops the threads (waiting
 * for requests in progress) and frees everything.
 */
#ifndef REEL_HTTP_HTTP_H
#define REEL_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"

struct reel_http;
struct reel_camera_status;          /* store/store.h */
struct reel_hub;                    /* hub/hub.h */
struct reel_transcoders;            /* media/transcode.h */
struct reel_snapcache;              /* media/snapcache.h */
struct reel_thumbs;                 /* media/thumbs.h */
struct reel_exports;                /* export/export.h */
struct reel_events;                       /* events/events.h */
struct reel_onvif_source;                 /* onvif/source.h */
struct reel_camera;                 /* store/store.h */

/* What a camera test found (struct reel_http_recorder.camera_probe). */
#define REEL_HTTP_PROBES_MAX 2
#define REEL_HTTP_PROBE_KEY_MAX (8u << 20)   /* the key frame kept for the snapshot */
struct reel_http_probe {
    bool ok;
    /* ok false: "unreachable", "refused", "auth", "no_video", "unsupported_codec", "timeout",
     * "protocol" or "redirect", and the recorder's text for it (URLs cut to their origin) */
    char reason[24];
    char error[256];
    char codec[8];                  /* "h264", "h265" */
    char codec_string[48];          /* e.g. "avc1.640028" */
    int width, height;
    double fps, bitrate_bps;        /* over the AUs read after the key frame */
    char audio[16];                 /* "aac", "pcmu", ...; "" = none */
    /* The sample entry box and the first key frame (length-prefixed NALs), malloc'd, the
     * caller's (free()); NULL when none. */
    uint8_t *entry, *key;
    size_t entry_len, key_len;
};

/* The running recorder as the HTTP server sees it (implemented by `reel
 * run`). The camera configuration routes write reel.db, then call
 * camera_changed; GET /api/cameras reads camera_status. Both are called on
 * the server's threads, one request at a time for camera_changed (the
 * server serialises configuration changes). */
struct reel_http_recorder {
    /* Any thread. Camera `name`'s row in reel.db was added, changed, enabled/disabled or deleted:
     * the running recorder applies the row as it now is (start, restart, stop; a disabled or deleted
     * camera is stopped and its run closed and committed). Blocks until applied, at most 5 s
     * (-ETIMEDOUT). */
    int (*camera_changed)(void *opaque, const char *name, struct reel_err *err);
    /* Any thread. The camera's live status from memory; -ENOENT when the recorder does not run it
     * (not yet started, disabled). */
    int (*camera_status)(void *opaque, int64_t camera_id, struct reel_camera_status *ret);
    /* Any thread (a worker: it blocks up to deadline_ns + 1 s). Connects to the camera described by
     * row (url, user, udp, allow_redirect, allow_basic) with password (NULL: none) the way the
     * recorder would, on a private loop, and reads its stream until a key frame and about 2 s more
     * (POST /api/cameras/test). 0 with *ret filled (ret->ok false with its reason when the camera
     * failed); -EBUSY when max probes run (the server passes
     * at most REEL_HTTP_PROBES_MAX, and fewer than its workers); -ENOMEM. NULL: the route answers 501. */
    int (*camera_probe)(void *opaque, const struct reel_camera *row, const char *password, int64_t deadline_ns,
                        unsigned max, struct reel_http_probe *ret);
    void *opaque;
};

#define REEL_HTTP_LIVE_VIEWERS_MAX 64
#define REEL_HTTP_LIVE_VIEWERS_PER_CAMERA 16
#define REEL_HTTP_DEFAULT_LISTEN "127.0.0.1:8080"

/* Limits against hostile clients: at most 256 connections (cfg.conn_max), 64 from one
 * address; a connection idle for 60 s is closed (also while a response is
 * sent to a client that stopped reading); and a connection must complete
 * each request (head and body) within REEL_HTTP_REQUEST_DEADLINE_S of its
 * start or of the end of its previous response, else it is closed
 * (slowloris). A response being sent has no deadline (a view.mp4 download
 * may take hours). See deadline.h and docs/security.md. */
#define REEL_HTTP_REQUEST_DEADLINE_S 10
#define REEL_HTTP_HOSTS_MAX 16
#define REEL_HTTP_HSTS "max-age=31536000"

struct reel_http_cfg {
    const char *datadir;            /* initialised data directory; copied */
    const char *listen;             /* "ADDR:PORT" or "[V6ADDR]:PORT"; port 0 picks one;
                                     * NULL = REEL_HTTP_DEFAULT_LISTEN */
    bool secure_cookie;             /* add Secure to the session cookie (behind a TLS reverse proxy) */
    /* The Host names the server answers to besides IP literals and
     * "localhost" (against DNS rebinding: reel_http_host_allowed() in
     * parse.h; `reel run --http-host`); "*" allows any. Copied; at most
     * REEL_HTTP_HOSTS_MAX, each reel_http_host_name_valid() (-EINVAL).
     * Another Host gets 421 before authentication; an HTTP/1.1 request
     * without Host gets 400. */
    const char *const *hosts;
    size_t nhosts;
    /* Built-in TLS (`reel run --tls`, src/http/tls.h): the certificate
     * chain and the key as PEM; both NULL: plain HTTP. Copied (the key is
     * zeroed when the server is freed). With TLS every response carries
     * Strict-Transport-Security (but for Host "localhost": HSTS is for every
     * port of a name) and the session cookie is "__Host-reel_session" with
     * Secure, Path=/ and no Domain (the only name the server then reads). */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    int64_t session_idle_ns;        /* idle expiry; 0 = 12 h */
    int64_t session_max_ns;         /* absolute expiry; 0 = 7 days */
    unsigned threads;               /* libmicrohttpd thread pool; 0 = 2 */
    const struct reel_clock *clock; /* NULL = system clock; must outlive the server */
    /* One debug line per request, warnings for errors. NULL = silent. Must
     * outlive the server; reel_log is thread safe. */
    const struct reel_logger *log;
    /* The recorder to tell about camera changes and to ask for live status;
     * NULL: none (changes are saved and answered 202, status comes from the
     * database). Must outlive the server. */
    const struct reel_http_recorder *recorder;
    /* Reverse proxies whose X-Forwarded-For is believed ("ADDR" or
     * "ADDR/PREFIX", at most 16; copied): the client of a request from one
     * of them is the right-most forwarded address that is not itself
     * trusted. None: X-Forwarded-For is ignored. -EINVAL for a bad one. */
    const char *const *trusted_proxies;
    size_t ntrusted_proxies;
    /* API tokens: the longest life (older tokens are refused and deleted,
     * whatever expiry they were given) and the life of a token made without
     * "days". 0 = REEL_TOKEN_MAX_DAYS / REEL_TOKEN_DEFAULT_DAYS (users.h);
     * the default is capped at the maximum. */
    int64_t token_max_ns;
    int64_t token_default_ns;
    /* Resource caps (issue 11; docs/api.md "Busy: 503"). 0 = the default.
     * conn_max: connections in all (256; `reel run` lowers it when
     * descriptors are scarce, see cmd_run.c). downloads_max and
     * downloads_per_user: view.mp4 responses in progress in all (32) and of
     * one user (4). playback_mem_max: bytes of MP4 headers held by live
     * responses (256 MiB). workers: threads that run password hashing and
     * MP4 building off libmicrohttpd's threads (2). Over a cap: 503 with
     * Retry-After. */
    unsigned conn_max;
    unsigned downloads_max;
    unsigned downloads_per_user;
    uint64_t playback_mem_max;
    unsigned workers;
    /* Live view (GET /api/cameras/{camera}/live.mp4, src/api/live.c): the
     * recorder's hub (NULL: live view answers 503) and the viewer caps in
     * all (`reel run --live-viewers-max`, 0 = 64) and per camera (0 = 16). */
    struct reel_hub *hub;
    unsigned live_viewers_max;
    unsigned live_viewers_per_camera;
    /* Issue 12, src/media: the on-demand H.265 -> H.264 transcodes of
     * live.mp4?stream=h264 (NULL: 501) and the snapshot.jpg cache (NULL:
     * 503). Created by `reel run` over the hub; must outlive the server. */
    struct reel_transcoders *transcoders;
    struct reel_snapcache *snapshots;
    /* Issue 13 (tl-media): the thumbnail cache of thumb.jpg (NULL: 503) and
     * the export jobs of /api/exports (NULL: 503). Created by `reel run`;
     * must outlive the server. */
    struct reel_thumbs *thumbs;
    struct reel_exports *exports;
    /* Issue 15 (mo-core): called after a camera's motion configuration
     * was saved (PUT /api/cameras/{camera}/motion) so that the detector
     * applies it at once; NULL: the detector applies it at its next poll
     * (REEL_MOTION_POLL_NS). Any thread; must not block. */
    void (*motion_changed)(void *opaque);
    void *motion_opaque;
    /* Issue 15 (ev-core): the event bus, for the live event stream
     * (/api/events/stream; NULL: 503). The event list reads reel.db. Made
     * by `reel run`; must outlive the server. */
    struct reel_events *events;
    /* Issue 15 (onvif): the ONVIF motion source (src/onvif/source.h), for
     * routes that change camera_events or cameras to call
     * reel_onvif_source_reload(cfg->onvif) (NULL ok; it also re-reads the
     * table every 5 s on its own). Must outlive the server. */
    struct reel_onvif_source *onvif;
    /* Issue 15 (ev-out): what the alerts are doing (notify/status.h), for
     * GET /api/alerts/status; NULL: MQTT shown "off". Must outlive the server. */
    struct reel_alerts_status *alerts;
};

/* Checks cfg (-EINVAL for a bad listen address, with err). *ret owned by
 * the caller: reel_http_free(). */
int reel_http_new(struct reel_http **ret, const struct reel_http_cfg *cfg, struct reel_err *err);
/* Serves data at path (e.g. "/index.html"; "/" and "/login" serve
 * "/index.html") with content_type. data is NOT copied: it must outlive the
 * server (embedded arrays do). Before reel_http_start() only (-EBUSY after);
 * -EINVAL for a path not starting with '/', -ENOMEM. */
int reel_http_static_add(struct reel_http *h, const char *path, const char *content_type, const uint8_t *data,
                         size_t len);
/* Binds and starts the threads. -EADDRINUSE etc. with err. */
int reel_http_start(struct reel_http *h, struct reel_err *err);
/* The bound port (after a successful start). */
uint16_t reel_http_port(const struct reel_http *h);
/* "http://127.0.0.1:8080/" (https with TLS) into buf. */
void reel_http_url(const struct reel_http *h, char *buf, size_t cap);
/* Stops and frees. NULL ok. */
void reel_http_free(struct reel_http *h);

#endif

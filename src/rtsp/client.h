/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The RTSP 1.0 client session as a sans-I/O state machine: it never touches a
 * socket or a clock. The caller connects the TCP socket, feeds received bytes
 * with reel_rtsp_client_feed(), writes out what reel_rtsp_client_pending()
 * returns, and calls reel_rtsp_client_tick() when reel_rtsp_client_deadline()
 * passes. Media (RTP/RTCP) arriving interleaved on the TCP connection is
 * handed to on_rtp; for UDP the caller owns the sockets and feeds the
 * depacketiser itself.
 *
 * Sequence: OPTIONS -> DESCRIBE -> SETUP (video track; with cfg.audio also
 * the first audio track when its codec is supported and RTP goes over TCP,
 * on interleaved channels 2-3, in the same session; others are skipped) ->
 * PLAY, then keep-alive (GET_PARAMETER when the server's Public
 * header lists it, else OPTIONS) every min(timeout/2, 30 s), TEARDOWN on
 * reel_rtsp_client_stop(). Basic and Digest (MD5, SHA-256; qop=auth or none)
 * authentication when challenged, with one retry on a stale nonce; Basic
 * is refused after the camera offered Digest (cfg.digest_seen). 3xx
 * redirects are reported to the caller, which reconnects; a Location of
 * another scheme than rtsp:// fails the session.
 */
#ifndef REEL_RTSP_CLIENT_H
#define REEL_RTSP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "codec/audio_entry.h"
#include "codec/params.h"

struct reel_rtsp_client;

enum reel_rtsp_state {
    REEL_RTSP_INIT,
    REEL_RTSP_OPTIONS,
    REEL_RTSP_DESCRIBE,
    REEL_RTSP_SETUP,
    REEL_RTSP_PLAY,
    REEL_RTSP_PLAYING,
    REEL_RTSP_TEARDOWN,
    REEL_RTSP_DONE,        /* torn down cleanly */
    REEL_RTSP_REDIRECT,    /* reel_rtsp_client_redirect_url() says where */
    REEL_RTSP_FAILED,      /* reel_rtsp_client_error() says why */
};

/* What the camera offers for the video stream, known once SETUP succeeded. */
struct reel_rtsp_video {
    enum reel_codec codec;
    uint8_t payload_type;
    uint32_t clock_rate;              /* 90000 expected */
    /* Parameter sets from the SDP fmtp (sprop-parameter-sets or
     * sprop-vps/sps/pps), decoded from base64; hints only. */
    const uint8_t *const *sprop_nals;
    const size_t *sprop_lens;
    size_t sprop_n;
    uint8_t rtp_channel, rtcp_channel;  /* TCP interleaved channels */
    uint16_t server_rtp_port, server_rtcp_port;  /* UDP */
    uint32_t ssrc;                    /* from Transport, 0 if absent */
    bool has_ssrc;
    const char *tool;                 /* SDP a=tool, or "" */
    const char *control_url;          /* the SETUP URL of this stream */
    /* From the PLAY reply's RTP-Info (any url accepted with one stream). */
    bool has_rtpinfo_seq, has_rtpinfo_rtptime;
    uint16_t rtpinfo_seq;
    uint32_t rtpinfo_rtptime;
    uint32_t session_timeout_s;       /* from Session;timeout=, default 60 */
};

/* The audio stream set up next to the video (cfg.audio), known from PLAYING on. */
struct reel_rtsp_audio {
    enum reel_audio_codec codec;
    uint8_t payload_type;
    uint32_t clock_rate;
    uint8_t channels;                 /* from the rtpmap; 0 if absent */
    const uint8_t *aac_config;        /* AAC: the AudioSpecificConfig from the fmtp */
    size_t aac_config_len;
    unsigned size_length, index_length, index_delta_length;   /* AAC-hbr field widths */
    uint8_t rtp_channel, rtcp_channel;  /* TCP interleaved channels */
    const char *control_url;          /* the SETUP URL of this stream */
};

enum reel_rtsp_errkind {
    REEL_RTSP_ERR_NONE,
    REEL_RTSP_ERR_AUTH,      /* 401/403 after trying credentials */
    REEL_RTSP_ERR_NOT_FOUND, /* 404 */
    REEL_RTSP_ERR_PROTOCOL,  /* malformed or unexpected response */
    REEL_RTSP_ERR_STATUS,    /* another non-2xx status */
    REEL_RTSP_ERR_NO_VIDEO,  /* no H.264/H.265 stream in the SDP */
    REEL_RTSP_ERR_TIMEOUT,   /* no response within the request timeout */
    REEL_RTSP_ERR_TRANSPORT, /* the server refused the transport (461) */
};

struct reel_rtsp_client_cfg {
    const char *url;                  /* rtsp://host[:port]/path (userinfo accepted and used as credentials) */
    const char *user;                 /* may be NULL */
    const char *password;             /* may be NULL; never logged, never in a URI */
    bool udp;                         /* request RTP/AVP;unicast;client_port=... */
    /* Also SETUP the first audio stream of the SDP when its codec is
     * supported. Audio is recorded over RTP/TCP only: with udp it is not set
     * up (reel_rtsp_client_audio_note says so). An audio SETUP the server
     * refuses is not fatal: the session plays video only. */
    bool audio;
    uint16_t client_rtp_port;         /* UDP: the caller's bound even port (rtcp = +1) */
    const char *user_agent;           /* default "Reel/0.1" */
    /* Downgrade guard: once a camera has offered Digest (digest_seen: in an
     * earlier session, as reel_rtsp_client_offered_digest() told the
     * caller; or earlier in this one), a challenge offering only Basic
     * fails with REEL_RTSP_ERR_AUTH and the password is not sent, unless
     * allow_basic. */
    bool digest_seen;
    bool allow_basic;
    int64_t request_timeout_ns;       /* default 10 s */
    /* Interleaved RTP/RTCP packet for a channel we set up (packets on unknown
     * channels are dropped and counted). Called from reel_rtsp_client_feed;
     * pkt is valid only during the call. Return non-zero to stop feed: the
     * rest of that input is discarded and feed returns the value if negative,
     * else -ECANCELED; the session state is not changed. */
    int (*on_rtp)(void *opaque, uint8_t channel, const uint8_t *pkt, size_t len);
    void *opaque;
};

/* Copies cfg strings. -EINVAL with err for a bad URL. *ret owned by caller. */
int reel_rtsp_client_new(struct reel_rtsp_client **ret, const struct reel_rtsp_client_cfg *cfg,
                         struct reel_err *err);
void reel_rtsp_client_free(struct reel_rtsp_client *c);   /* NULL ok */

/* Host and port to connect to (from the URL, or the redirect target). */
const char *reel_rtsp_client_host(const struct reel_rtsp_client *c);
uint16_t reel_rtsp_client_port(const struct reel_rtsp_client *c);

/* Queues OPTIONS; call once the TCP connection is up. */
int reel_rtsp_client_start(struct reel_rtsp_client *c, int64_t now_ns);
/* Feeds bytes read from the socket. RTSP responses, server requests and
 * interleaved frames may be mixed in any order, split anywhere; garbage is
 * skipped by resyncing on '$' or "RTSP/". Returns 0, or a negative errno when
 * the session has failed (state FAILED; err says why, naming the request). */
int reel_rtsp_client_feed(struct reel_rtsp_client *c, const uint8_t *p, size_t n, int64_t now_ns,
                          struct reel_err *err);
/* Bytes waiting to be written to the socket, and how many were written. */
const uint8_t *reel_rtsp_client_pending(const struct reel_rtsp_client *c, size_t *ret_len);
void reel_rtsp_client_sent(struct reel_rtsp_client *c, size_t n);
/* Timers: keep-alive and request timeout. */
int64_t reel_rtsp_client_deadline(const struct reel_rtsp_client *c);   /* INT64_MAX if none */
int reel_rtsp_client_tick(struct reel_rtsp_client *c, int64_t now_ns, struct reel_err *err);
/* Queues TEARDOWN (when a session exists). */
int reel_rtsp_client_stop(struct reel_rtsp_client *c, int64_t now_ns);

enum reel_rtsp_state reel_rtsp_client_state(const struct reel_rtsp_client *c);
enum reel_rtsp_errkind reel_rtsp_client_errkind(const struct reel_rtsp_client *c);
/* Valid from PLAYING on; NULL before. Points into c. */
const struct reel_rtsp_video *reel_rtsp_client_video(const struct reel_rtsp_client *c);
/* With cfg.audio: valid from PLAYING on when the audio stream was set up;
 * NULL otherwise. Points into c. */
const struct reel_rtsp_audio *reel_rtsp_client_audio(const struct reel_rtsp_client *c);
/* With cfg.audio, from DESCRIBE's reply on: "" when the audio stream is set
 * up (or being set up), else one phrase saying why not ("the SDP has no audio
 * stream", "audio codec MP4A-LATM is not supported", ...). Points into c. */
const char *reel_rtsp_client_audio_note(const struct reel_rtsp_client *c);

/* The 3xx Location, normalised without userinfo (pass credentials again in
 * cfg.user/password when following it). NULL unless state is REDIRECT. */
const char *reel_rtsp_client_redirect_url(const struct reel_rtsp_client *c);
/* Whether this session's camera offered Digest in a challenge (the caller
 * keeps it for the camera's next sessions, cfg.digest_seen). */
bool reel_rtsp_client_offered_digest(const struct reel_rtsp_client *c);
/* One line saying why the session failed ("DESCRIBE rtsp://h/x: 404 Not
 * Found"), or "" while it has not. Points into c. */
const char *reel_rtsp_client_error(const struct reel_rtsp_client *c);

struct reel_rtsp_client_stats {
    uint64_t frames_delivered;       /* interleaved frames handed to on_rtp */
    uint64_t frames_dropped;         /* on channels not set up (or before SETUP's reply) */
    uint64_t bytes_skipped;          /* garbage skipped while resyncing */
    uint64_t server_requests;        /* requests from the server we answered */
    uint64_t keepalives_sent;
    uint64_t keepalive_failures;     /* non-2xx or unanswered keep-alives (not fatal) */
};
void reel_rtsp_client_stats(const struct reel_rtsp_client *c, struct reel_rtsp_client_stats *ret);

/* Fuzzing entry point: drives a client through start, feeding the input as
 * server bytes (in two halves), ticking and stopping. Never crashes. */
int reel_rtsp_client_fuzz(const uint8_t *p, size_t n);

#endif

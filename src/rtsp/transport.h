/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Parsers for the RTSP headers that describe a session once set up: the
 * Transport reply to SETUP ("RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=..."
 * and the variants cameras send), RTP-Info from the PLAY reply (url, seq,
 * rtptime; unparseable values are treated as absent) and Session
 * ("id;timeout=N", 60 s by default). Lenient: what is absurd is ignored.
 */
#ifndef REEL_RTSP_TRANSPORT_H
#define REEL_RTSP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

#define REEL_RTSP_SESSION_ID_MAX 256
#define REEL_RTSP_RTPINFO_MAX 8
#define REEL_RTSP_RTPINFO_URL_MAX 1024

struct reel_rtsp_transport {
    bool tcp;                        /* RTP/AVP/TCP, or interleaved= given */
    bool multicast;
    bool has_interleaved;
    uint8_t rtp_channel, rtcp_channel;
    bool has_server_port;
    uint16_t server_rtp_port, server_rtcp_port;
    bool has_client_port;
    uint16_t client_rtp_port, client_rtcp_port;
    bool has_ssrc;
    uint32_t ssrc;
    char source[64];                 /* "" if absent or unusable */
    char mode[16];                   /* "" if absent */
};

/* Parses the first transport spec of a Transport header value. -EINVAL when
 * it is not RTP/AVP at all. *ret untouched on failure. */
int reel_rtsp_transport_parse(const char *value, struct reel_rtsp_transport *ret,
                              struct reel_err *err);

struct reel_rtsp_rtpinfo_entry {
    char url[REEL_RTSP_RTPINFO_URL_MAX];  /* "" if absent */
    bool has_seq;
    uint16_t seq;
    bool has_rtptime;
    uint32_t rtptime;
};

struct reel_rtsp_rtpinfo {
    size_t n;
    struct reel_rtsp_rtpinfo_entry e[REEL_RTSP_RTPINFO_MAX];
};

/* Parses RTP-Info leniently; never fails (entries over the cap are ignored). */
void reel_rtsp_rtpinfo_parse(const char *value, struct reel_rtsp_rtpinfo *ret);

struct reel_rtsp_session {
    char id[REEL_RTSP_SESSION_ID_MAX];
    uint32_t timeout_s;              /* 60 when absent or unusable */
};

/* Parses a Session header value. -EINVAL for an empty or over-long id. */
int reel_rtsp_session_parse(const char *value, struct reel_rtsp_session *ret, struct reel_err *err);

/* Fuzzing entry point: runs all three parsers on the input. */
int reel_rtsp_transport_fuzz(const uint8_t *p, size_t n);

#endif

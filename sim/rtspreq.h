/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The simulator's RTSP server-side request parser and authentication checks.
 * Small and strict on purpose: anything malformed or oversized is an error,
 * and the server disconnects the client that sent it.
 *
 * Nothing here allocates: a parsed request points into the caller's buffer
 * and is valid as long as that buffer is unchanged.
 */
#ifndef REEL_SIM_RTSPREQ_H
#define REEL_SIM_RTSPREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

#define REEL_SIM_REQ_MAX_HEAD 8192     /* request line + headers */
#define REEL_SIM_REQ_MAX_BODY 4096
#define REEL_SIM_REQ_MAX_HEADERS 64

struct reel_sim_str {
    const char *p;   /* NULL when absent */
    size_t n;
};

struct reel_sim_req {
    bool response;                /* a reply sent by the client ("RTSP/1.0 200 OK"): method = status code, no uri */
    struct reel_sim_str method, uri;
    int64_t cseq;                 /* -1 when absent */
    struct reel_sim_str session, transport, authorization;
    size_t body_len;
};

/* Parses one request from buf[0..len). Returns 1 and fills *ret and
 * *ret_consumed (head + body bytes) when a whole request is there, 0 when more
 * bytes are needed, or a negative errno (with err) when the input is not a
 * well-formed RTSP/1.0 request or exceeds the caps. A well-formed RTSP/1.0
 * response (clients answer what they take for server requests) is returned
 * with ->response set so that the caller can skip it. */
int reel_sim_req_parse(const uint8_t *buf, size_t len, struct reel_sim_req *ret,
                       size_t *ret_consumed, struct reel_err *err);

/* Extracts the camera index from a request URI "rtsp://host[:port]/cam/<i>"
 * optionally followed by "/", "/trackID=0" or "/trackID=0/". Sets *ret_track
 * when the track suffix is present. -EINVAL when the path is anything else or
 * the index is >= ncams. */
int reel_sim_uri_camera(struct reel_sim_str uri, unsigned ncams, unsigned *ret_cam, bool *ret_track);

/* Transport selection from a Transport header: the first of its
 * comma-separated entries that is RTP/AVP[/UDP] with client_port or
 * RTP/AVP/TCP. -EINVAL when none is usable. */
struct reel_sim_transport {
    bool tcp;
    uint8_t ch[2];         /* interleaved channels (tcp) */
    uint16_t port[2];      /* client_port (udp) */
};
int reel_sim_transport_parse(struct reel_sim_str h, struct reel_sim_transport *ret);

/* Checks an Authorization header value against user/password. Basic compares
 * the decoded "user:password"; Digest (RFC 2617, MD5, with or without
 * qop=auth) needs realm and nonce as issued and uri equal to the request URI.
 * Returns 1 when valid, 0 when not (absent, wrong scheme, wrong credentials),
 * negative errno on internal failure. */
enum reel_sim_auth { REEL_SIM_AUTH_NONE, REEL_SIM_AUTH_BASIC, REEL_SIM_AUTH_DIGEST };
int reel_sim_auth_check(enum reel_sim_auth mode, struct reel_sim_str header,
                        struct reel_sim_str method, struct reel_sim_str uri,
                        const char *user, const char *password,
                        const char *realm, const char *nonce);

/* MD5 of the concatenation of parts[0..n) as 32 lower-case
 * hex characters + NUL into out. 0 or negative errno. Exposed for tests. */
int reel_sim_md5_hex(char out[33], const struct reel_sim_str *parts, size_t n);

#endif

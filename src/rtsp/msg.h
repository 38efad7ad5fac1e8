/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RTSP 1.0 wire format. A push parser over the TCP byte stream that yields,
 * in whatever order they arrive, responses (status, reason, headers, body by
 * Content-Length), requests the server sends to us (method, URI, headers,
 * body) and '$'-interleaved frames (channel, payload). Input may be split at
 * any byte. Garbage between messages is skipped by resyncing on '$',
 * "RTSP/" or the start of a line, and counted. Plus request and response
 * serialisation.
 *
 * Caps: header block (start line + headers) 16 KiB, 64 headers, body
 * 64 KiB; exceeding one is an error.
 */
#ifndef REEL_RTSP_MSG_H
#define REEL_RTSP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/log.h"

#define REEL_RTSP_HDR_BLOCK_MAX 16384
#define REEL_RTSP_HDRS_MAX 64
#define REEL_RTSP_BODY_MAX 65536

enum reel_rtsp_msg_kind {
    REEL_RTSP_MSG_RESPONSE,
    REEL_RTSP_MSG_REQUEST,
    REEL_RTSP_MSG_FRAME,     /* '$' channel len16 payload */
};

struct reel_rtsp_hdr {
    const char *name;        /* trimmed, NUL-terminated */
    const char *value;       /* trimmed, NUL-terminated, continuation lines folded */
};

/* One parsed message. Every pointer points into the parser and stays valid
 * until the next reel_rtsp_parser_feed() or reel_rtsp_parser_free(). */
struct reel_rtsp_msg {
    enum reel_rtsp_msg_kind kind;
    int status;              /* RESPONSE */
    const char *reason;      /* RESPONSE, may be "" */
    const char *method;      /* REQUEST */
    const char *uri;         /* REQUEST */
    struct reel_rtsp_hdr hdrs[REEL_RTSP_HDRS_MAX];
    size_t n_hdrs;
    const uint8_t *body;     /* NUL-terminated for convenience; body_len excludes it */
    size_t body_len;
    uint8_t channel;         /* FRAME */
    const uint8_t *payload;  /* FRAME */
    size_t payload_len;
};

enum reel_rtsp_parse_state {
    REEL_RTSP_PS_START,      /* at a message boundary */
    REEL_RTSP_PS_RESYNC,     /* skipping garbage */
    REEL_RTSP_PS_FRAME_HDR,  /* after '$': channel and length */
    REEL_RTSP_PS_FRAME_BODY,
    REEL_RTSP_PS_HEADERS,    /* start line and header lines */
    REEL_RTSP_PS_BODY,
};

struct reel_rtsp_hdr_off {
    uint32_t name, value;
};

/* Embed and initialise with reel_rtsp_parser_init(); free with
 * reel_rtsp_parser_free(). */
struct reel_rtsp_parser {
    enum reel_rtsp_parse_state state;
    struct reel_buf acc;     /* the message being assembled */
    size_t need;             /* bytes still wanted in FRAME_* / BODY */
    size_t body_off;
    size_t line_start;       /* offset of the current line in acc (HEADERS) */
    uint8_t frame_hdr[4];    /* channel, length (2), first payload byte */
    size_t frame_hdr_len;
    size_t frame_hdr_start;  /* offset of the '$' in the current feed call */
    bool frame_hdr_in_call;  /* ... valid only while this is true */
    bool chan_filter;        /* only channels in chan_ok are frames */
    uint8_t chan_ok[32];     /* bitmap of the 256 channels */
    struct reel_rtsp_hdr_off offs[REEL_RTSP_HDRS_MAX];
    size_t n_offs;
    bool is_response;
    int status;              /* response status, from the start line */
    size_t hdr_off;          /* first header line, after the start line */
    size_t sl_off;           /* reason (response) or URI (request) offset */
    uint64_t skipped;        /* garbage bytes skipped while resyncing */
    uint64_t messages;       /* RTSP messages (not frames) yielded */
    uint64_t frames;
};

void reel_rtsp_parser_init(struct reel_rtsp_parser *p);
/* Once SETUP has named the interleaved channels: a '$' followed by any other
 * channel, or by a payload that is not RTP/RTCP version 2, is garbage and is
 * skipped byte by byte instead of swallowing up to 64 KiB of good frames. */
void reel_rtsp_parser_allow_channel(struct reel_rtsp_parser *p, uint8_t channel);
void reel_rtsp_parser_free(struct reel_rtsp_parser *p);   /* NULL ok */

/* Consumes bytes from data[0..n) until one message is complete or the input
 * is used up; *ret_consumed says how many. Returns 1 with *ret_msg filled,
 * 0 when all input was consumed without completing a message, or a negative
 * errno (-EMSGSIZE over a cap, -EBADMSG bad Content-Length, -ENOMEM) with
 * err filled; after an error the parser resyncs and may be fed again. Call
 * again with the remaining bytes until it returns 0. The pointers in
 * *ret_msg are valid until the next call and while data is: an interleaved
 * frame that lies whole in data is handed out in place, without a copy. */
int reel_rtsp_parser_feed(struct reel_rtsp_parser *p, const uint8_t *data, size_t n,
                          size_t *ret_consumed, struct reel_rtsp_msg *ret_msg, struct reel_err *err);

/* Header lookup, case-insensitive. _header returns the first value or NULL;
 * _header_next iterates over repeated headers starting at *idx (set it to 0
 * first). */
const char *reel_rtsp_msg_header(const struct reel_rtsp_msg *m, const char *name);
const char *reel_rtsp_msg_header_next(const struct reel_rtsp_msg *m, const char *name, size_t *idx);

/* A request to serialise. NULL fields are left out. */
struct reel_rtsp_req {
    const char *method;
    const char *url;             /* never with userinfo */
    uint32_t cseq;
    const char *user_agent;
    const char *session;
    const char *authorization;
    const char *transport;
    bool range_npt0;             /* "Range: npt=0.000-" */
    bool accept_sdp;             /* "Accept: application/sdp" */
};

/* Appends the request to out. -EINVAL when a field holds CR or LF (header
 * injection) or a required one is missing, -EMSGSIZE over out's cap; out is
 * unchanged on failure. */
int reel_rtsp_req_write(struct reel_buf *out, const struct reel_rtsp_req *r);
/* Appends a bodiless response echoing cseq (may be NULL) and session (NULL
 * to omit). Same errors. */
int reel_rtsp_resp_write(struct reel_buf *out, int status, const char *reason, const char *cseq,
                         const char *session);

/* Fuzzing entry point: feeds the whole buffer, draining every message, then
 * the same bytes one at a time. Never crashes or leaks. Returns 0. */
int reel_rtsp_msg_fuzz(const uint8_t *data, size_t n);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * rtsp:// URLs: parsing (userinfo, host name, IPv4, [IPv6], port, path and
 * query), serialisation without the userinfo (credentials never go on the
 * wire in a URI), and the URL arithmetic RTSP needs: joining an SDP
 * a=control attribute to a base the way live555 does, and picking that base
 * from Content-Base, Content-Location or the request URL. Tolerates the
 * mangled forms cameras send ("rtsp://rtsp://host", a Content-Base without a
 * scheme).
 */
#ifndef REEL_RTSP_URL_H
#define REEL_RTSP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

#define REEL_RTSP_URL_MAX 2048       /* cap on a whole URL, bytes */
#define REEL_RTSP_HOST_MAX 256
#define REEL_RTSP_CRED_MAX 256       /* user or password after percent-decoding */

struct reel_rtsp_url {
    bool has_userinfo;
    char user[REEL_RTSP_CRED_MAX];       /* percent-decoded; "" when absent */
    char password[REEL_RTSP_CRED_MAX];   /* percent-decoded; "" when absent */
    char host[REEL_RTSP_HOST_MAX];       /* without the [] of an IPv6 literal */
    bool ipv6;
    uint16_t port;                       /* 554 when absent */
    char path[REEL_RTSP_URL_MAX];        /* path and query, starts with '/'; "/" when empty */
};

/* Parses s[0..len) ("rtsp://" case-insensitive; "rtsp://rtsp://" accepted).
 * Returns 0, or -EINVAL / -EMSGSIZE with err naming what was wrong. *ret is
 * untouched on failure. */
int reel_rtsp_url_parse(const char *s, size_t len, struct reel_rtsp_url *ret, struct reel_err *err);

/* Writes "rtsp://host[:port]/path" (no userinfo; port omitted when 554;
 * IPv6 in brackets) into out (capacity cap, NUL-terminated). Returns the
 * length, or -EMSGSIZE. */
int reel_rtsp_url_format(const struct reel_rtsp_url *u, char *out, size_t cap);

/* Resolves an SDP a=control value against base, live555 style: an absolute
 * rtsp:// control is used as is, "*" or "" means base, anything else is
 * base + "/" + control (no extra '/' when base ends in '/' or control starts
 * with one). Returns the length written to out, or -EMSGSIZE. */
int reel_rtsp_url_join(const char *base, const char *control, char *out, size_t cap);

/* Picks the base URL for controls: the first usable of content_base,
 * content_location (either may be NULL, lack the scheme, or be a path) and
 * request_url, normalised to rtsp://host[:port]/path without userinfo.
 * Returns the length written to out, or -EINVAL when even request_url is
 * unusable, -EMSGSIZE. */
int reel_rtsp_url_base(const char *content_base, const char *content_location,
                       const char *request_url, char *out, size_t cap);

/* The origin of a URL for messages: "rtsp://host:port" (IPv6 in brackets,
 * port always shown), never its userinfo, path or query (they may hold
 * credentials). url need not be an rtsp:// URL: for another scheme,
 * "scheme://host" as far as it is made of host characters; for text that is
 * no URL at all, "(unparsable URL)". Returns the length written to out
 * (capacity cap, NUL-terminated; truncated to fit). */
int reel_rtsp_url_origin(const char *url, char *out, size_t cap);

/* Whether a and b (rtsp:// URLs) name the same host (case-insensitive; the
 * port may differ). False when either does not parse. */
bool reel_rtsp_url_same_host(const char *a, const char *b);

/* Copies text into out (capacity cap, NUL-terminated, truncated to fit),
 * replacing every "scheme://..." URL in it (up to the next space, quote,
 * '>' or control byte) with its origin, reel_rtsp_url_origin(): an error
 * line that quotes a request URL keeps its host and port but loses path,
 * query and userinfo. Returns the length written. */
size_t reel_rtsp_url_redact(const char *text, char *out, size_t cap);

/* Fuzzing entry point: parses, formats and joins whatever it is given.
 * Never crashes, leaks or reads out of bounds on any input. Returns 0. */
int reel_rtsp_url_fuzz(const uint8_t *p, size_t n);

#endif

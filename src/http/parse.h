/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pure pieces of the HTTP server, apart from any socket so that they can
 * be unit tested: request-target splitting and percent-decoding, query
 * parameters, the Cookie header, Range (RFC 9110 section 14), entity tags and
 * their conditional headers, the CSRF rule, names, and time values in query
 * parameters. Nothing here allocates or keeps state.
 */
#ifndef REEL_HTTP_PARSE_H
#define REEL_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Percent-decodes one path segment raw[0..len) into out (capacity cap,
 * NUL-terminated). An encoded '/' or NUL, a bad escape, or a result longer
 * than cap - 1 is refused: -EINVAL / -EMSGSIZE. */
int reel_http_seg_decode(const char *raw, size_t len, char *out, size_t cap);

/* Splits a raw request path ("/api/cameras/x/view.mp4", no query) into at
 * most max decoded segments of REEL_HTTP_SEG_MAX bytes each. Empty segments
 * (from "//" or a trailing '/') are kept as "". Returns the number of
 * segments, or -EINVAL (no leading '/', bad escape), -E2BIG (too many
 * segments), -EMSGSIZE (a segment too long). */
#define REEL_HTTP_SEG_MAX 128
int reel_http_path_split(const char *path, char (*segs)[REEL_HTTP_SEG_MAX], int max);

/* Finds query parameter name in query ("a=1&b=x%20y", without '?'),
 * decoding '+' as space and %XX escapes, into out (capacity cap). Returns 1
 * when found, 0 when absent, -EINVAL for a bad escape or a decoded NUL,
 * -EMSGSIZE when the value does not fit. */
int reel_http_query_get(const char *query, const char *name, char *out, size_t cap);

/* Finds cookie name in a Cookie header ("a=1; reel_session=abc"). Values may
 * be quoted. Returns 1 when found, 0 when absent, -EMSGSIZE if too long. */
int reel_http_cookie_get(const char *hdr, const char *name, char *out, size_t cap);

/* A Range header against an entity of size bytes. Only "bytes=" with one
 * range is honoured; a malformed header or several ranges are answered with
 * the whole entity (allowed by RFC 9110).
 *   REEL_RANGE_NONE: serve everything (200);
 *   REEL_RANGE_OK: serve *ret_start, *ret_len (206);
 *   REEL_RANGE_UNSATISFIABLE: 416. */
enum reel_http_range { REEL_RANGE_NONE = 0, REEL_RANGE_OK = 1, REEL_RANGE_UNSATISFIABLE = 2 };
enum reel_http_range reel_http_range_parse(const char *hdr, uint64_t size, uint64_t *ret_start,
                                           uint64_t *ret_len);

/* The strong entity tag of a virtual MP4: camera id, range, and for each
 * recording its id, committed bytes and frame count (an open recording that
 * grows changes the tag). out gets a quoted tag ("\"...\""). */
#define REEL_HTTP_ETAG_MAX 48
struct reel_http_etag_rec {
    int64_t id;
    uint64_t bytes;
    uint32_t frames;
};
void reel_http_etag(int64_t camera_id, int64_t from90k, int64_t to90k, const struct reel_http_etag_rec *recs,
                    size_t n, char out[REEL_HTTP_ETAG_MAX]);
/* If-None-Match: true when hdr ("*" or a list of tags, weak or strong) matches
 * etag under the weak comparison. */
bool reel_http_etag_none_match(const char *hdr, const char *etag);
/* If-Range: true when the range may be served: hdr is exactly our strong tag,
 * or (not a tag) exactly our Last-Modified date. */
bool reel_http_if_range_ok(const char *hdr, const char *etag, const char *last_modified);

/* The CSRF rule for a request authenticated by the session cookie. A
 * state-changing method (POST, PUT, PATCH, DELETE) must carry csrf_hdr equal
 * to session_csrf (compared in constant time) and, when origin is present,
 * an Origin whose host[:port] equals the Host header. Returns 0 when allowed,
 * -EPERM otherwise with *ret_why set to a static reason. */
int reel_http_csrf_check(const char *method, const char *csrf_hdr, const char *session_csrf,
                         const char *origin, const char *host, const char **ret_why);
/* Origin "scheme://host[:port]" against Host; NULL origin is fine. */
bool reel_http_origin_ok(const char *origin, const char *host);
bool reel_http_method_changes_state(const char *method);

/* The Host header against DNS rebinding. A web page of attacker.example
 * whose name the attacker's DNS then points at 127.0.0.1 reaches a loopback
 * server from the victim's browser, but the browser still sends
 * "Host: attacker.example": refusing names the server does not know stops
 * it. An IP literal in Host is always allowed (a rebinding needs the
 * attacker's name there), as is "localhost"; other names only when they
 * are in names[0..n) (from `reel run --http-host`, compared without case
 * and without one trailing dot; "*" allows every name). The port, if any,
 * is not compared. A malformed value (empty, over REEL_HTTP_HOST_MAX bytes,
 * a bad port, an unbracketed or invalid IPv6 address) is refused. */
#define REEL_HTTP_HOST_MAX 261      /* a 253-byte name, ':' and a 5-digit port, 2 spare */
bool reel_http_host_allowed(const char *host, const char *const *names, size_t n);
/* The name part of a Host header: lower case, without the port, one
 * trailing dot or IPv6 brackets, into out (capacity cap). 1 when the name
 * is an IP literal, 0 for another name, -EINVAL when malformed (see
 * reel_http_host_allowed), -EMSGSIZE when it does not fit. */
int reel_http_host_name(const char *host, char *out, size_t cap);
/* A name for `--http-host`: "*", or 1-253 bytes of letters, digits, '-'
 * and '.', not starting or ending with '.' or '-' (one trailing dot is
 * allowed) and no ".." */
bool reel_http_host_name_valid(const char *name);

/* [A-Za-z0-9_-]{1,63}: camera and token names. */
bool reel_http_name_valid(const char *s);

/* A time in a query parameter: RFC 3339 (a '+' of an offset that arrived as
 * a space is put back), unix seconds ("1700000000" or "1700000000.5"), or any
 * form reel_time_parse() accepts. 0, -EINVAL, -ERANGE. */
int reel_http_time_parse(const char *s, int64_t now90k, int64_t *ret90k);

/* RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into buf (>= 32). */
void reel_http_date(int64_t unix_s, char *buf, size_t cap);

#endif

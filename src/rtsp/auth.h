/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RTSP authentication: parsing WWW-Authenticate challenges (several per
 * header, several headers, quoted strings with escapes), choosing the
 * strongest one we support (Digest SHA-256 > Digest MD5 > Basic), and
 * building the Authorization header: RFC 7616 Digest (qop=auth with nc and
 * cnonce, or the RFC 2069 form without qop; opaque echoed) and RFC 7617
 * Basic. Hashes come from OpenSSL libcrypto; the cnonce from getrandom().
 */
#ifndef REEL_RTSP_AUTH_H
#define REEL_RTSP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

#define REEL_AUTH_PARAM_MAX 256      /* cap on realm, nonce, opaque */
#define REEL_AUTH_CHALLENGES_MAX 8   /* challenges kept from one response */
#define REEL_AUTH_HEADER_MAX 1024    /* Authorization header value we build */

enum reel_auth_scheme {
    REEL_AUTH_NONE,                  /* unsupported or unknown */
    REEL_AUTH_BASIC,
    REEL_AUTH_DIGEST_MD5,
    REEL_AUTH_DIGEST_SHA256,
};

struct reel_auth_challenge {
    enum reel_auth_scheme scheme;
    char realm[REEL_AUTH_PARAM_MAX];
    char nonce[REEL_AUTH_PARAM_MAX];
    char opaque[REEL_AUTH_PARAM_MAX];
    bool has_opaque;
    bool has_algorithm;              /* the challenge named one: echo it */
    bool qop_auth;                   /* qop offered and includes "auth" */
    bool stale;
};

/* Parses one WWW-Authenticate value, appending up to cap - *n challenges to
 * out[*n..] and advancing *n (call once per header). Challenges with an
 * unsupported scheme or algorithm (or only qop=auth-int) are kept with scheme
 * REEL_AUTH_NONE; values over the caps mark a challenge unsupported.
 * Returns the number of challenges found (>= 0) or -EINVAL for a header
 * that is not a challenge list at all. */
int reel_auth_parse(const char *value, struct reel_auth_challenge *out, size_t cap, size_t *n);

/* Index of the strongest supported challenge in ch[0..n), or -ENOENT. */
int reel_auth_choose(const struct reel_auth_challenge *ch, size_t n);

/* Builds the Authorization header value for method + uri. For Digest with
 * qop=auth, nc is the nonce count (the caller increments it per request with
 * the same nonce) and cnonce is used as given, or generated when NULL.
 * Returns the length written to out (capacity cap), -EINVAL (no credentials,
 * a quote or CR/LF in user or uri, unsupported scheme), -EMSGSIZE, -EIO
 * (hash failed) with err filled. */
int reel_auth_header(const struct reel_auth_challenge *ch, const char *user, const char *password,
                     const char *method, const char *uri, uint32_t nc, const char *cnonce,
                     char *out, size_t cap, struct reel_err *err);

/* Fuzzing entry point: parses, chooses and builds from any input. */
int reel_auth_fuzz(const uint8_t *p, size_t n);

#endif

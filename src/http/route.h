/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The routing table of the HTTP API and what the server lends a handler.
 * Internal to src/http (the server glue) and src/api (one file per
 * resource); nothing outside those includes it.
 *
 * A route is one line: {method, path pattern, who may call it, whether a
 * session must show its CSRF token, handler}. The server finds the route
 * with reel_http_route_find() (pure, unit tested), then authenticates,
 * checks CSRF and the admin rule, and calls the handler on a
 * libmicrohttpd thread (or a worker, for routes marked pool) with a struct
 * reel_http_req that lives until the handler returns. The handler answers exactly once, through
 * reel_http_send_json(), reel_http_send_error() or reel_http_queue(), and
 * returns what those return. Adding a route is adding a line to
 * src/api/routes.c and, for a new resource, a file in src/api/.
 *
 * Patterns are absolute paths of literal segments and at most one
 * parameter segment written "{what}" (e.g. "/api/cameras/{camera}/spans").
 * A parameter matches one non-empty segment; after a match its decoded value
 * must be a name ([A-Za-z0-9_-]{1,63}), else the request gets 400 "WHAT
 * name: ...". When two patterns match a path, the one with more literal
 * segments wins. A GET route answers HEAD too.
 */
#ifndef REEL_HTTP_ROUTE_H
#define REEL_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "base/clock.h"
#include "base/log.h"
#include "http/http.h"
#include "http/parse.h"
#include "http/users.h"
#include "store/store.h"

/* Who may call a route. */
enum reel_http_access {
    REEL_ACCESS_PUBLIC = 0,   /* anyone, no credentials looked at */
    REEL_ACCESS_USER = 1,     /* a valid session or API token, any role (own session, own tokens) */
    /* Issue 14 (roles): what a route does, so that one function maps roles
     * to rights (src/http/access.c). Until that lands they act as USER. A
     * route with a {camera} parameter and one of these is also checked
     * against the caller's camera list (reel_http_camera_visible). */
    REEL_ACCESS_LIVE = 2,     /* watch live video, snapshots */
    REEL_ACCESS_PLAYBACK = 3, /* recorded video, timeline, thumbnails */
    REEL_ACCESS_EXPORT = 4,   /* export a range to a file */
    REEL_ACCESS_LOCK = 5,     /* evidence locks */
    REEL_ACCESS_AUDIT = 6,    /* the audit and disclosure logs */
    REEL_ACCESS_ADMIN = 7,    /* a valid session or token of an administrator */
};

/* How the request was authenticated. */
enum reel_http_auth_kind { REEL_AUTH_NONE = 0, REEL_AUTH_SESSION = 1, REEL_AUTH_TOKEN = 2 };

struct reel_http;
struct reel_ratelimit;

/* What a handler gets. Every pointer is valid until the handler returns. */
struct reel_http_req {
    struct MHD_Connection *conn;
    const char *method;                 /* "GET", "HEAD", "POST", ... */
    const char *query;                  /* after '?', NULL when none (raw, see reel_http_query_get) */
    const char *name;                   /* the decoded {parameter} segment, a valid name; "" if none */
    const uint8_t *body;                /* the request body (NULL when empty) */
    size_t body_len;
    bool body_too_big;                  /* over REEL_HTTP_BODY_MAX: body holds a prefix */
    enum reel_http_auth_kind kind;
    const struct reel_auth *auth;       /* the caller; NULL on public routes */
    const char *sid;                    /* the session id when kind == REEL_AUTH_SESSION, else "" */
    const struct reel_http_cfg *cfg;    /* the server's cfg with defaults filled; cfg->recorder may be NULL */
    const struct reel_clock *clock;     /* never NULL */
    struct reel_ratelimit *rl_user, *rl_addr;  /* login throttles by account name and by address */
    struct reel_http *h;                /* the server (opaque) */
    void *priv;                         /* the server's per-request state (opaque) */
};

typedef enum MHD_Result reel_http_handler(struct reel_http_req *r);

struct reel_http_route {
    const char *method;                 /* "GET" (and HEAD), "POST", "PATCH", "DELETE" */
    const char *pattern;                /* see above */
    enum reel_http_access access;
    bool csrf;                          /* a session must carry its X-CSRF-Token (state-changing methods) */
    reel_http_handler *handler;
    /* Runs on the server's worker pool (work.h), not on a libmicrohttpd
     * thread: for slow handlers (password hashing, MP4 building). The
     * handler is the same code; the connection is suspended meanwhile. */
    bool pool;
};

/* ---- the dispatcher's lookup (pure; tests/unit/test_http.c) ---- */

enum reel_http_route_result {
    REEL_ROUTE_FOUND = 0,       /* ->route and ->name set */
    REEL_ROUTE_NOT_FOUND,       /* no pattern matches the path (404) */
    REEL_ROUTE_BAD_METHOD,      /* patterns match but none for this method (405, ->allow) */
    REEL_ROUTE_BAD_NAME,        /* the route's {parameter} is not a valid name (400, ->route, ->label) */
    REEL_ROUTE_BAD_PATH,        /* the path cannot be split (->status: 400 bad escape, 404 too many or too
                                 * long segments) */
};

#define REEL_HTTP_SEGS_MAX 8

struct reel_http_match {
    enum reel_http_route_result result;
    const struct reel_http_route *route;
    char name[REEL_HTTP_SEG_MAX];       /* the parameter's decoded value ("" if none) */
    char label[32];                     /* the parameter's label ("camera" for "{camera}") */
    char allow[64];                     /* BAD_METHOD: e.g. "GET, HEAD, POST" */
    unsigned status;                    /* BAD_PATH: 400 or 404 */
    /* Who must be checked before the answer: the route's access (FOUND,
     * BAD_NAME); for BAD_METHOD the least of the path's routes (so that
     * wrong methods on public routes get 405 at once and others only after
     * authentication); REEL_ACCESS_USER for NOT_FOUND. */
    enum reel_http_access access;
    int nsegs;                          /* the decoded path (all but BAD_PATH) */
    char segs[REEL_HTTP_SEGS_MAX][REEL_HTTP_SEG_MAX];
};

/* Finds the route for method and path (raw, without the query) in table[n].
 * Fills *ret (always) and returns ret->result. */
enum reel_http_route_result reel_http_route_find(const struct reel_http_route *table, size_t n, const char *method,
                                                 const char *path, struct reel_http_match *ret);

/* ---- what the server offers handlers (src/http/server.c) ---- */

/* Sends j (stolen; NULL = out of memory) as the JSON body with status; then
 * extra headers as name/value string pairs, NULL-terminated. */
enum MHD_Result reel_http_send_json(struct reel_http_req *r, unsigned status, json_t *j, ...);
/* {"error": "..."} with status (401 adds WWW-Authenticate). The message
 * must never hold a secret. A status >= 500 other than 503 is logged with
 * the message, the request target and a random reference, and the client
 * gets only {"error": "internal error (reference R: ...)", "reference":
 * "R"}: the message may name a file or a directory (an absolute path tells
 * a client the server's layout) or hold a library's text. A 503 (busy,
 * retry later) is answered with its message, which must then be a fixed
 * text (no path, no library error). */
enum MHD_Result reel_http_send_error(struct reel_http_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queues resp (destroyed here; NULL = MHD_NO) with the security headers. */
enum MHD_Result reel_http_queue(struct reel_http_req *r, unsigned status, struct MHD_Response *resp);
/* 503 {"error": fmt...} with Retry-After: retry_after_s (a cap reached:
 * docs/api.md "Busy: 503"). */
enum MHD_Result reel_http_send_busy(struct reel_http_req *r, unsigned retry_after_s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The server's playback caps (playback.h); never NULL. */
struct reel_http_playback *reel_http_playback_of(struct reel_http_req *r);
/* The timeline's span cache (tlcache.h); never NULL. */
struct reel_tlcache *reel_http_tlcache_of(struct reel_http_req *r);
/* The live view's streams (viewer caps, suspended responses; stream.h). */
struct reel_http_streams *reel_http_streams_of(struct reel_http_req *r);
/* Issue 15: the live event stream's fan-out (sse.h); NULL without a bus. */
struct reel_http_sse;
struct reel_http_sse *reel_http_sse_of(struct reel_http_req *r);
/* The audit log's writer (audit/sink.h); NULL before the server started. */
struct reel_audit_sink;
struct reel_audit_sink *reel_http_audit_of(struct reel_http_req *r);
/* The redacted-export jobs (redact_jobs.h); never NULL. */
struct reel_redact_jobs *reel_http_redact_of(struct reel_http_req *r);
/* A request header, or NULL. */
const char *reel_http_header(struct reel_http_req *r, const char *name);
/* The client's address as text ("?" when unknown): the TCP peer, or the
 * address a trusted proxy forwarded (clientaddr.h). */
void reel_http_client_addr(struct reel_http_req *r, char *buf, size_t cap);
/* The same address and its login limiter key (an IPv6 address's /64);
 * each REEL_CLIENT_ADDR_MAX (64) bytes. */
void reel_http_client(struct reel_http_req *r, char addr[64], char key[64]);
/* One log line "http: ..." at lvl (when the server has a logger). */
void reel_http_log(struct reel_http_req *r, enum reel_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The Set-Cookie value for the session cookie with value and max age. */
void reel_http_session_cookie(struct reel_http_req *r, const char *value, int64_t max_age_s, char *out,
                              size_t cap);

/* A pooled read-only store handle (REEL_STORE_READ), the caller's until
 * reel_http_store_put(); then the pool's. */
int reel_http_store_get(struct reel_http_req *r, struct reel_store **ret, struct reel_err *err);
void reel_http_store_put(struct reel_http_req *r, struct reel_store *s);
/* A pooled accounts connection, likewise. */
int reel_http_users_get(struct reel_http_req *r, struct reel_users **ret, struct reel_err *err);
void reel_http_users_put(struct reel_http_req *r, struct reel_users *u);
/* A store handle in REEL_STORE_ADMIN mode for one change to the
 * configuration, opened for this call, with the server's admin lock held
 * (one change at a time, so that a read-modify-write of a camera and the
 * recorder's notification happen in the order of the writes). Pair with
 * reel_http_admin_close() (NULL ok: releases the lock only), which closes
 * the handle and releases the lock. -EBUSY at once when another change
 * holds the lock (it may wait up to 5 s for the recorder; waiting for it
 * would hold this libmicrohttpd thread and every connection on it). On
 * failure the lock is not held. */
int reel_http_admin_open(struct reel_http_req *r, struct reel_store **ret, struct reel_err *err);
void reel_http_admin_close(struct reel_http_req *r, struct reel_store *s);

static inline int64_t reel_http_wall_ns(const struct reel_http_req *r) { return reel_clock_wall(r->clock); }
static inline int64_t reel_http_wall90k(const struct reel_http_req *r)
{
    return reel_ns_to_90k(reel_clock_wall(r->clock));
}
/* An RFC 3339 time string (new reference). */
json_t *reel_http_json_time(int64_t t90k);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The HTTP server: libmicrohttpd glue, routing, authentication (session
 * cookie with CSRF token, or Bearer API token), the JSON handlers and the
 * view.mp4 streamer. See http.h for threads and lifetime, docs/api.md for
 * the contract.
 *
 * A request's path is taken from the raw request target (the URI log
 * callback), split at '/' and percent-decoded segment by segment, refusing
 * encoded '/' and NUL: nothing is ever looked up on the filesystem by a name
 * from a request (camera names are validated and looked up in the
 * database; static files come from an in-memory table).
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "base/buf.h"
#include "base/strutil.h"
#include "base/timefmt.h"
#include "http/body.h"
#include "http/deadline.h"
#include "http/parse.h"
#include "http/ratelimit.h"
#include "http/timeline.h"
#include "http/users.h"
#include "mp4/mp4.h"
#include "mp4/range.h"
#include "store/store.h"

#define URI_MAX 2048
#define POOL_MAX 8
#define STATIC_MAX 64
#define SEGS_MAX 8
#define STREAM_BLOCK (64 * 1024)
#define COOKIE_NAME "reel_session"
#define CONN_MAX 256                /* connections in all */
#define CONN_PER_ADDR_MAX 64        /* connections from one client address */
#define IDLE_TIMEOUT_S 60           /* inactivity, also while a response is sent */
#define DEADLINE_LOG_NS (60 * REEL_NS_PER_SEC)

struct static_file {
    char path[128];
    char content_type[96];
    const uint8_t *data;
    size_t len;
};

/* Idle connections (store read handles or accounts connections), each used
 * by one request at a time. */
struct pool {
    pthread_mutex_t mu;
    void *idle[POOL_MAX];
    size_t n;
};

struct reel_http {
    struct reel_http_cfg cfg;
    char datadir[4096];
    char listen[300];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    const struct reel_clock *clock;
    struct MHD_Daemon *d;
    uint16_t port;
    struct static_file statics[STATIC_MAX];
    size_t nstatics;
    struct pool stores, users;
    struct reel_ratelimit *rl_user, *rl_addr;
    struct reel_http_deadline *deadline;
    uint64_t deadline_closed;       /* since the last log line (watchdog thread only) */
    int64_t deadline_logged_ns;
};

/* Per request: allocated by the URI callback, freed when it completes. */
struct req {
    struct reel_http *h;
    char uri[URI_MAX];
    bool uri_too_long;
    struct reel_buf body;
    bool body_too_big;
    bool started;
    char method[12];
    unsigned status;
    int64_t t0;
};

/* ---- logging ---- */

static void hlog(struct reel_http *h, enum reel_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void hlog(struct reel_http *h, enum reel_log_level lvl, const char *fmt, ...)
{
    if (!h->cfg.log || lvl < h->cfg.log->min)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    reel_log(h->cfg.log, lvl, "http: %s", line);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct reel_http *h = cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    hlog(h, REEL_LOG_WARN, "%s", line);
}

/* A printable copy of a request target for the log (control bytes -> '?'). */
static void printable(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 1 < cap; s++)
        out[o++] = (*s < 0x20 || *s == 0x7f) ? '?' : *s;
    out[o] = '\0';
}

static void client_addr(struct MHD_Connection *c, char *buf, size_t cap)
{
    snprintf(buf, cap, "?");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)cap);
}

/* ---- pools ---- */

static void *pool_get(struct pool *p)
{
    void *v = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->n > 0)
        v = p->idle[--p->n];
    pthread_mutex_unlock(&p->mu);
    return v;
}

/* Returns false when the pool is full (the caller closes v). */
static bool pool_put(struct pool *p, void *v)
{
    bool kept = false;
    pthread_mutex_lock(&p->mu);
    if (p->n < POOL_MAX) {
        p->idle[p->n++] = v;
        kept = true;
    }
    pthread_mutex_unlock(&p->mu);
    return kept;
}

static int store_get(struct reel_http *h, struct reel_store **ret, struct reel_err *err)
{
    struct reel_store *s = pool_get(&h->stores);
    if (s) {
        *ret = s;
        return 0;
    }
    struct reel_store_cfg cfg = { .datadir = h->datadir, .mode = REEL_STORE_READ, .clock = h->cfg.clock };
    return reel_store_open(ret, &cfg, err);
}

static void store_put(struct reel_http *h, struct reel_store *s)
{
    if (s && !pool_put(&h->stores, s))
        reel_store_close(s);
}

static int users_get(struct reel_http *h, struct reel_users **ret, struct reel_err *err)
{
    struct reel_users *u = pool_get(&h->users);
    if (u) {
        *ret = u;
        return 0;
    }
    return reel_users_open(ret, h->datadir, err);
}

static void users_put(struct reel_http *h, struct reel_users *u)
{
    if (u && !pool_put(&h->users, u))
        reel_users_close(u);
}

static int64_t wall_ns(const struct reel_http *h) { return reel_clock_wall(h->clock); }
static int64_t wall90k(const struct reel_http *h) { return reel_ns_to_90k(wall_ns(h)); }

/* ---- responses ---- */

static void security_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'self'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result queue(struct req *rq, struct MHD_Connection *c, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    security_headers(resp);
    rq->status = status;
    enum MHD_Result r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Sends j (stolen) as the JSON body; extra headers as name/value pairs,
 * NULL-terminated. */
static enum MHD_Result send_json(struct req *rq, struct MHD_Connection *c, unsigned status, json_t *j, ...)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s)
        return MHD_NO;
    size_t n = strlen(s);
    char *body = realloc(s, n + 2);
    if (!body) {
        free(s);
        return MHD_NO;
    }
    body[n] = '\n';
    body[n + 1] = '\0';
    struct MHD_Response *resp = MHD_create_response_from_buffer(n + 1, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    va_list ap;
    va_start(ap, j);
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        MHD_add_response_header(resp, k, v);
    }
    va_end(ap);
    return queue(rq, c, status, resp);
}

static enum MHD_Result send_error(struct req *rq, struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct req *rq, struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (status >= 500) {
        char u[256];
        printable(rq->uri, u, sizeof(u));
        hlog(rq->h, REEL_LOG_WARN, "%s: %u %s", u, status, msg);
    }
    json_t *j = json_object();
    json_object_set_new(j, "error", json_string(msg));
    if (status == MHD_HTTP_UNAUTHORIZED)
        return send_json(rq, c, status, j, "WWW-Authenticate", "Bearer realm=\"reel\"", NULL);
    return send_json(rq, c, status, j, NULL);
}

static json_t *json_time(int64_t t90k)
{
    char buf[40];
    reel_time_format(t90k, buf, sizeof(buf));
    return json_string(buf);
}

/* ---- authentication ---- */

enum auth_kind { AUTH_NONE, AUTH_SESSION, AUTH_TOKEN };

/* 0 with *kind set (AUTH_NONE when no credentials were offered), or a
 * negative errno: -EACCES for credentials that are wrong or expired. */
static int authenticate(struct reel_http *h, struct MHD_Connection *c, struct reel_auth *a, char *sid,
                        size_t sid_cap, enum auth_kind *kind, struct reel_err *err)
{
    *kind = AUTH_NONE;
    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    char cookie[REEL_SECRET_MAX];
    int have_cookie = reel_http_cookie_get(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie"), COOKIE_NAME,
                                           cookie, sizeof(cookie));
    if (!authz && have_cookie <= 0)
        return 0;
    struct reel_users *u;
    int r = users_get(h, &u, err);
    if (r < 0)
        return r;
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0) {
            r = reel_err_set(err, EACCES, "Authorization: only Bearer tokens are accepted");
        } else {
            const char *tok = authz + 7;
            while (*tok == ' ')
                tok++;
            r = reel_token_lookup(u, tok, wall_ns(h), a, err);
            if (r == -ENOENT)
                r = reel_err_set(err, EACCES, "unknown API token");
            if (r == 0)
                *kind = AUTH_TOKEN;
        }
    } else {
        r = reel_session_lookup(u, cookie, wall_ns(h), h->cfg.session_idle_ns, h->cfg.session_max_ns, a, err);
        if (r == -ENOENT)
            r = reel_err_set(err, EACCES, "session expired or unknown: log in again");
        if (r == 0) {
            *kind = AUTH_SESSION;
            snprintf(sid, sid_cap, "%s", cookie);
        }
    }
    users_put(h, u);
    return r;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- handlers ---- */

static void session_cookie(struct reel_http *h, const char *value, int64_t max_age_s, char *out, size_t cap)
{
    snprintf(out, cap, COOKIE_NAME "=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s", value,
             (long long)max_age_s, h->cfg.secure_cookie ? "; Secure" : "");
}

static enum MHD_Result h_login(struct req *rq, struct MHD_Connection *c)
{
    struct reel_http *h = rq->h;
    if (!reel_http_origin_ok(header(c, "Origin"), header(c, "Host")))
        return send_error(rq, c, MHD_HTTP_FORBIDDEN, "Origin does not match Host");
    if (rq->body_too_big)
        return send_error(rq, c, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
    char user[REEL_USER_NAME_MAX], pass[REEL_PASSWORD_MAX + 1];
    int pr = reel_http_login_parse(rq->body.data, rq->body.len, user, pass);
    if (pr == -EMSGSIZE)
        return send_error(rq, c, MHD_HTTP_UNAUTHORIZED, "wrong user name or password");
    if (pr < 0)
        return send_error(rq, c, MHD_HTTP_BAD_REQUEST, "expected a JSON object with \"username\" and \"password\"");
    char ukey[96], akey[96], addr[64];
    client_addr(c, addr, sizeof(addr));
    snprintf(ukey, sizeof(ukey), "user:%s", user);
    snprintf(akey, sizeof(akey), "addr:%s", addr);
    int64_t wait = reel_ratelimit_check(h->rl_user, ukey), wa = reel_ratelimit_check(h->rl_addr, akey);
    if (wa > wait)
        wait = wa;
    if (wait > 0) {
        sodium_memzero(pass, sizeof(pass));
        char ra[32];
        snprintf(ra, sizeof(ra), "%lld", (long long)((wait + REEL_NS_PER_SEC - 1) / REEL_NS_PER_SEC));
        hlog(h, REEL_LOG_WARN, "login for '%s' from %s refused: too many failures (retry in %s s)", ukey + 5, addr,
             ra);
        json_t *e = json_pack("{s:s}", "error", "too many failed logins: try again later");
        return send_json(rq, c, MHD_HTTP_TOO_MANY_REQUESTS, e, "Retry-After", ra, NULL);
    }
    struct reel_users *u;
    struct reel_err err = { "" };
    int r = users_get(h, &u, &err);
    if (r < 0) {
        sodium_memzero(pass, sizeof(pass));
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "accounts database: %s", err.msg);
    }
    int64_t uid = 0;
    r = reel_users_verify(u, user, pass, &uid, &err);
    sodium_memzero(pass, sizeof(pass));
    if (r == -EACCES) {
        users_put(h, u);
        reel_ratelimit_fail(h->rl_user, ukey);
        reel_ratelimit_fail(h->rl_addr, akey);
        hlog(h, REEL_LOG_WARN, "failed login for '%s' from %s", ukey + 5, addr);
        return send_error(rq, c, MHD_HTTP_UNAUTHORIZED, "wrong user name or password");
    }
    char sid[REEL_SECRET_MAX];
    struct reel_auth a;
    if (r == 0)
        r = reel_session_create(u, uid, wall_ns(h), sid, &a, &err);
    users_put(h, u);
    if (r < 0)
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "login: %s", err.msg);
    reel_ratelimit_success(h->rl_user, ukey);
    char cookie[256];
    session_cookie(h, sid, h->cfg.session_max_ns / REEL_NS_PER_SEC, cookie, sizeof(cookie));
    hlog(h, REEL_LOG_INFO, "user %s logged in from %s", a.user, addr);
    return send_json(rq, c, MHD_HTTP_OK, json_pack("{s:s, s:s}", "user", a.user, "csrf_token", a.csrf),
                     "Set-Cookie", cookie, NULL);
}

static enum MHD_Result h_logout(struct req *rq, struct MHD_Connection *c, enum auth_kind kind, const char *sid)
{
    struct reel_http *h = rq->h;
    if (kind == AUTH_SESSION) {
        struct reel_users *u;
        struct reel_err err = { "" };
        int r = users_get(h, &u, &err);
        if (r == 0) {
            r = reel_session_delete(u, sid, &err);
            users_put(h, u);
        }
        if (r < 0)
            return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "logout: %s", err.msg);
    }
    char cookie[256];
    session_cookie(h, "", 0, cookie, sizeof(cookie));
    return send_json(rq, c, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), "Set-Cookie", cookie, NULL);
}

static enum MHD_Result h_tokens(struct req *rq, struct MHD_Connection *c, const struct reel_auth *a)
{
    struct reel_http *h = rq->h;
    if (rq->body_too_big)
        return send_error(rq, c, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
    char name[REEL_HTTP_TOKEN_NAME_MAX];
    int pr = reel_http_token_parse(rq->body.data, rq->body.len, name);
    if (pr == -EINVAL)
        return send_error(rq, c, MHD_HTTP_BAD_REQUEST, "token name: expected 1-63 of A-Z a-z 0-9 _ -");
    if (pr < 0)
        return send_error(rq, c, MHD_HTTP_BAD_REQUEST, "expected a JSON object with \"name\"");
    struct reel_users *u;
    struct reel_err err = { "" };
    char tok[REEL_SECRET_MAX];
    int r = users_get(h, &u, &err);
    if (r == 0) {
        r = reel_token_add(u, name, a->user, wall_ns(h), tok, &err);
        users_put(h, u);
    }
    json_t *out = r == 0 ? json_pack("{s:s, s:s, s:s}", "name", name, "user", a->user, "token", tok) : NULL;
    if (r == -EEXIST)
        return send_error(rq, c, MHD_HTTP_CONFLICT, "%s", err.msg);
    if (r < 0)
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "token: %s", err.msg);
    return send_json(rq, c, MHD_HTTP_OK, out, NULL);
}

/* codec/width/height of the camera's latest footage (recent first, else the
 * oldest recording); fields left null when there is none. */
static void camera_codec(struct reel_store *s, int64_t cam_id, int64_t now90k, int64_t oldest90k, json_t *o)
{
    struct reel_recording *recs = NULL;
    size_t n = 0;
    struct reel_err err = { "" };
    int64_t sample_entry = -1;
    if (reel_store_recordings(s, cam_id, now90k - 300 * REEL_90K, now90k + 60 * REEL_90K, &recs, &n, &err) == 0) {
        if (n > 0)
            sample_entry = recs[n - 1].sample_entry_id;
        reel_recordings_free(recs, n);
    }
    if (sample_entry < 0 && oldest90k > 0 &&
        reel_store_recordings(s, cam_id, oldest90k, oldest90k + 1, &recs, &n, &err) == 0) {
        if (n > 0)
            sample_entry = recs[0].sample_entry_id;
        reel_recordings_free(recs, n);
    }
    struct reel_sample_entry se;
    if (sample_entry >= 0 && reel_store_sample_entry_get(s, sample_entry, &se, &err) == 0) {
        free(se.data);
        bool hevc = strncmp(se.codec_string, "hvc1", 4) == 0 || strncmp(se.codec_string, "hev1", 4) == 0;
        json_object_set_new(o, "codec", json_string(hevc ? "h265" : "h264"));
        json_object_set_new(o, "codec_string", json_string(se.codec_string));
        json_object_set_new(o, "width", json_integer(se.width));
        json_object_set_new(o, "height", json_integer(se.height));
        return;
    }
    json_object_set_new(o, "codec", json_null());
    json_object_set_new(o, "codec_string", json_null());
    json_object_set_new(o, "width", json_null());
    json_object_set_new(o, "height", json_null());
}

static enum MHD_Result h_cameras(struct req *rq, struct MHD_Connection *c)
{
    struct reel_http *h = rq->h;
    struct reel_store *s;
    struct reel_err err = { "" };
    if (store_get(h, &s, &err) < 0)
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "database: %s", err.msg);
    struct reel_camera *cams = NULL;
    size_t n = 0;
    if (reel_store_camera_list(s, &cams, &n, &err) < 0) {
        store_put(h, s);
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "listing cameras: %s", err.msg);
    }
    int64_t now = wall90k(h);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        /* Only what the UI needs: never the URL (it may name the camera's
         * address layout) with userinfo, nor the user or password. */
        struct reel_camera_status st;
        memset(&st, 0, sizeof(st));
        bool have = reel_store_status_get(s, cams[i].id, &st, &err) == 0;
        const char *state = have && st.state[0] ? st.state : "unknown";
        if (have && now - st.updated90k > 30 * REEL_90K && strcmp(st.state, "stopped") != 0)
            state = "stale";
        int64_t bytes = 0, dur = 0, oldest = 0;
        reel_store_camera_usage(s, cams[i].id, &bytes, &dur, &oldest, &err);
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(cams[i].name));
        json_object_set_new(o, "state", json_string(state));
        json_object_set_new(o, "connected", json_boolean(have && st.connected));
        json_object_set_new(o, "fps", json_real(have ? st.fps : 0.0));
        json_object_set_new(o, "bitrate_bps", json_real(have ? st.bitrate_bps : 0.0));
        json_object_set_new(o, "last_error", have && st.last_error[0] ? json_string(st.last_error) : json_null());
        json_object_set_new(o, "bytes_kept", json_integer(bytes));
        json_object_set_new(o, "seconds_kept", json_real((double)dur / REEL_90K));
        json_object_set_new(o, "oldest", bytes > 0 && oldest > 0 ? json_time(oldest) : json_null());
        camera_codec(s, cams[i].id, now, bytes > 0 ? oldest : 0, o);
        json_array_append_new(arr, o);
    }
    free(cams);
    store_put(h, s);
    return send_json(rq, c, MHD_HTTP_OK, json_pack("{s:o}", "cameras", arr), NULL);
}

/* start/end query parameters into [from, to); on error a 400 was queued
 * and *ret_result holds it. */
static bool parse_range(struct req *rq, struct MHD_Connection *c, const char *query, bool required, int64_t *from,
                        int64_t *to, enum MHD_Result *ret_result)
{
    static const char *const names[2] = { "start", "end" };
    int64_t *vals[2] = { from, to };
    bool given[2] = { false, false };
    for (int i = 0; i < 2; i++) {
        char v[128];
        int r = reel_http_query_get(query, names[i], v, sizeof(v));
        if (r < 0) {
            *ret_result = send_error(rq, c, MHD_HTTP_BAD_REQUEST, "%s: malformed query parameter", names[i]);
            return false;
        }
        if (r == 0) {
            if (required) {
                *ret_result = send_error(rq, c, MHD_HTTP_BAD_REQUEST,
                                         "%s: required (RFC 3339 time or unix seconds)", names[i]);
                return false;
            }
            continue;
        }
        if (reel_http_time_parse(v, wall90k(rq->h), vals[i]) < 0) {
            *ret_result = send_error(rq, c, MHD_HTTP_BAD_REQUEST,
                                     "%s: cannot parse time '%s' (expected RFC 3339 or unix seconds)", names[i], v);
            return false;
        }
        given[i] = true;
    }
    if (!given[1])
        *to = wall90k(rq->h);
    if (!given[0])
        *from = *to - 86400 * REEL_90K;
    if (*to <= *from) {
        *ret_result = send_error(rq, c, MHD_HTTP_BAD_REQUEST, "end must be after start");
        return false;
    }
    if (*to - *from > REEL_MP4_RANGE_MAX90K) {
        *ret_result = send_error(rq, c, MHD_HTTP_BAD_REQUEST, "range longer than 7 days");
        return false;
    }
    return true;
}

/* Opens a store and looks the camera up; on failure a response was queued. */
static bool camera_for(struct req *rq, struct MHD_Connection *c, const char *name, struct reel_store **ret_s,
                       struct reel_camera *cam, enum MHD_Result *ret_result)
{
    struct reel_err err = { "" };
    if (store_get(rq->h, ret_s, &err) < 0) {
        *ret_result = send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "database: %s", err.msg);
        return false;
    }
    int r = reel_store_camera_get(*ret_s, name, cam, &err);
    if (r < 0) {
        store_put(rq->h, *ret_s);
        *ret_s = NULL;
        if (r == -ENOENT)
            *ret_result = send_error(rq, c, MHD_HTTP_NOT_FOUND, "no camera '%s'", name);
        else
            *ret_result = send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "camera '%s': %s", name, err.msg);
        return false;
    }
    return true;
}

static enum MHD_Result h_spans(struct req *rq, struct MHD_Connection *c, const char *name, const char *query)
{
    enum MHD_Result res;
    int64_t from, to;
    if (!parse_range(rq, c, query, false, &from, &to, &res))
        return res;
    struct reel_store *s;
    struct reel_camera cam;
    if (!camera_for(rq, c, name, &s, &cam, &res))
        return res;
    struct reel_recording *recs = NULL;
    struct reel_gap *gaps = NULL;
    size_t nrecs = 0, ngaps = 0;
    struct reel_err err = { "" };
    int r = reel_store_recordings(s, cam.id, from, to, &recs, &nrecs, &err);
    if (r == 0)
        r = reel_store_gaps(s, cam.id, from, to, &gaps, &ngaps, &err);
    store_put(rq->h, s);
    struct reel_timeline tl = { 0 };
    if (r == 0 && reel_timeline_build(recs, nrecs, gaps, ngaps, from, to, &tl) < 0)
        r = reel_err_set(&err, ENOMEM, "out of memory");
    reel_recordings_free(recs, nrecs);
    if (r < 0) {
        free(gaps);
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "timeline of '%s': %s", name, err.msg);
    }
    json_t *spans = json_array(), *jg = json_array();
    for (size_t i = 0; i < tl.nspans; i++)
        json_array_append_new(spans, json_pack("{s:o, s:o}", "start", json_time(tl.spans[i].start90k), "end",
                                               json_time(tl.spans[i].end90k)));
    for (size_t i = 0; i < tl.ngaps; i++)
        json_array_append_new(jg, json_pack("{s:o, s:o, s:s}", "start", json_time(tl.gaps[i].start90k), "end",
                                            json_time(tl.gaps[i].end90k), "reason", tl.gaps[i].reason));
    reel_timeline_free(&tl);
    free(gaps);
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o}", "camera", cam.name, "start", json_time(from), "end",
                          json_time(to), "spans", spans, "gaps", jg);
    return send_json(rq, c, MHD_HTTP_OK, o, NULL);
}

struct stream {
    struct reel_mp4 *m;
    uint64_t base;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    ssize_t n = reel_mp4_read(st->m, st->base + pos, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    reel_mp4_free(st->m);
    free(st);
}

/* The entity tag and newest end time of the recordings in [from, to). */
static int range_state(struct reel_store *s, int64_t cam_id, int64_t from, int64_t to, char etag[REEL_HTTP_ETAG_MAX],
                       int64_t *ret_last90k, size_t *ret_n, struct reel_err *err)
{
    struct reel_recording *recs = NULL;
    size_t n = 0;
    int r = reel_store_recordings(s, cam_id, from, to, &recs, &n, err);
    if (r < 0)
        return r;
    struct reel_http_etag_rec *er = calloc(n ? n : 1, sizeof(*er));
    if (!er) {
        reel_recordings_free(recs, n);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    int64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        er[i] = (struct reel_http_etag_rec){ recs[i].id, recs[i].bytes, recs[i].frames };
        if (recs[i].start90k + recs[i].wall_duration90k > last)
            last = recs[i].start90k + recs[i].wall_duration90k;
    }
    reel_http_etag(cam_id, from, to, er, n, etag);
    free(er);
    reel_recordings_free(recs, n);
    *ret_last90k = last;
    *ret_n = n;
    return 0;
}

static enum MHD_Result h_view(struct req *rq, struct MHD_Connection *c, const char *name, const char *query)
{
    enum MHD_Result res;
    int64_t from, to;
    if (!parse_range(rq, c, query, true, &from, &to, &res))
        return res;
    struct reel_store *s;
    struct reel_camera cam;
    if (!camera_for(rq, c, name, &s, &cam, &res))
        return res;
    struct reel_err err = { "" };
    char etag[REEL_HTTP_ETAG_MAX], etag2[REEL_HTTP_ETAG_MAX];
    int64_t last90k = 0;
    size_t nrecs = 0;
    struct reel_mp4 *m = NULL;
    int r = 0;
    /* The tag must describe the bytes served: an open recording may grow
     * while the MP4 is built, so the recordings are read before and after
     * and the build is retried if they changed. */
    for (int attempt = 0; attempt < 4; attempt++) {
        reel_mp4_free(m);
        m = NULL;
        r = range_state(s, cam.id, from, to, etag, &last90k, &nrecs, &err);
        if (r < 0 || nrecs == 0)
            break;
        r = reel_mp4_for_range(s, cam.id, from, to, &m, &err);
        if (r < 0)
            break;
        r = range_state(s, cam.id, from, to, etag2, &last90k, &nrecs, &err);
        if (r < 0 || strcmp(etag, etag2) == 0)
            break;
    }
    store_put(rq->h, s);
    if (r == 0 && (nrecs == 0 || !m))
        r = -ENOENT;
    if (r < 0) {
        reel_mp4_free(m);
        if (r == -ENOENT)
            return send_error(rq, c, MHD_HTTP_NOT_FOUND, "camera '%s' has no footage in that range", name);
        if (r == -EINVAL || r == -EFBIG)
            return send_error(rq, c, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "building the MP4 of '%s': %s", name,
                          err.msg[0] ? err.msg : strerror(-r));
    }
    uint64_t size = reel_mp4_size(m);
    char lastmod[40], disp[160], fromtxt[40];
    reel_http_date(last90k / REEL_90K, lastmod, sizeof(lastmod));
    reel_time_format(from, fromtxt, sizeof(fromtxt));
    /* "2026-11-26T23:00:00.000Z" -> "20261126T230000Z" */
    char compact[24];
    size_t k = 0;
    for (const char *p = fromtxt; *p && *p != '.' && k + 2 < sizeof(compact); p++)
        if (*p != '-' && *p != ':')
            compact[k++] = *p;
    compact[k++] = 'Z';
    compact[k] = '\0';
    snprintf(disp, sizeof(disp), "inline; filename=\"%s-%s.mp4\"", cam.name, compact);

    const char *inm = header(c, "If-None-Match");
    if (inm && reel_http_etag_none_match(inm, etag)) {
        reel_mp4_free(m);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "ETag", etag);
        MHD_add_response_header(resp, "Last-Modified", lastmod);
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        return queue(rq, c, MHD_HTTP_NOT_MODIFIED, resp);
    }
    uint64_t start = 0, len = size;
    enum reel_http_range rr = reel_http_range_parse(header(c, "Range"), size, &start, &len);
    if (rr != REEL_RANGE_NONE && !reel_http_if_range_ok(header(c, "If-Range"), etag, lastmod)) {
        rr = REEL_RANGE_NONE;
        start = 0;
        len = size;
    }
    if (rr == REEL_RANGE_UNSATISFIABLE) {
        reel_mp4_free(m);
        char cr[64];
        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
        json_t *e = json_pack("{s:s}", "error", "requested range not satisfiable");
        return send_json(rq, c, MHD_HTTP_RANGE_NOT_SATISFIABLE, e, "Content-Range", cr, "ETag", etag, NULL);
    }
    struct stream *st = calloc(1, sizeof(*st));
    if (!st) {
        reel_mp4_free(m);
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    st->m = m;
    st->base = start;
    struct MHD_Response *resp = MHD_create_response_from_callback(len, STREAM_BLOCK, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    MHD_add_response_header(resp, "ETag", etag);
    MHD_add_response_header(resp, "Last-Modified", lastmod);
    MHD_add_response_header(resp, "Content-Disposition", disp);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    unsigned status = MHD_HTTP_OK;
    if (rr == REEL_RANGE_OK) {
        char cr[96];
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)start,
                 (unsigned long long)(start + len - 1), (unsigned long long)size);
        MHD_add_response_header(resp, "Content-Range", cr);
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    return queue(rq, c, status, resp);
}

static enum MHD_Result h_static(struct req *rq, struct MHD_Connection *c, const char *path)
{
    struct reel_http *h = rq->h;
    if (strcmp(path, "/") == 0 || strcmp(path, "/login") == 0)
        path = "/index.html";
    for (size_t i = 0; i < h->nstatics; i++) {
        struct static_file *f = &h->statics[i];
        if (strcmp(f->path, path) != 0)
            continue;
        struct MHD_Response *resp = MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", f->content_type);
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        return queue(rq, c, MHD_HTTP_OK, resp);
    }
    return send_error(rq, c, MHD_HTTP_NOT_FOUND, "not found");
}

static enum MHD_Result method_not_allowed(struct req *rq, struct MHD_Connection *c, const char *allow)
{
    json_t *e = json_pack("{s:s}", "error", "method not allowed");
    return send_json(rq, c, MHD_HTTP_METHOD_NOT_ALLOWED, e, "Allow", allow, NULL);
}

static enum MHD_Result route(struct req *rq, struct MHD_Connection *c, const char *method)
{
    struct reel_http *h = rq->h;
    if (rq->uri_too_long)
        return send_error(rq, c, MHD_HTTP_URI_TOO_LONG, "request target too long");
    char *q = strchr(rq->uri, '?');
    const char *query = NULL;
    if (q) {
        *q = '\0';
        query = q + 1;
    }
    const char *path = rq->uri;
    char segs[SEGS_MAX][REEL_HTTP_SEG_MAX];
    int n = reel_http_path_split(path, segs, SEGS_MAX);
    if (n < 0)
        return send_error(rq, c, n == -E2BIG || n == -EMSGSIZE ? MHD_HTTP_NOT_FOUND : MHD_HTTP_BAD_REQUEST,
                          "bad request path");
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    if (strcmp(segs[0], "api") != 0) {
        if (!get)
            return method_not_allowed(rq, c, "GET, HEAD");
        return h_static(rq, c, path);
    }
    /* Public API routes. */
    if (n == 2 && strcmp(segs[1], "health") == 0) {
        if (!get)
            return method_not_allowed(rq, c, "GET, HEAD");
        return send_json(rq, c, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), NULL);
    }
    if (n == 2 && strcmp(segs[1], "login") == 0) {
        if (!post)
            return method_not_allowed(rq, c, "POST");
        return h_login(rq, c);
    }
    /* Everything else needs a session or a token. */
    struct reel_auth a;
    char sid[REEL_SECRET_MAX] = "";
    enum auth_kind kind;
    struct reel_err err = { "" };
    int r = authenticate(h, c, &a, sid, sizeof(sid), &kind, &err);
    if (r == -EACCES)
        return send_error(rq, c, MHD_HTTP_UNAUTHORIZED, "%s", err.msg);
    if (r < 0)
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "accounts database: %s", err.msg);
    if (kind == AUTH_NONE)
        return send_error(rq, c, MHD_HTTP_UNAUTHORIZED, "authentication required: log in or send a Bearer token");
    if (kind == AUTH_SESSION) {
        const char *why;
        if (reel_http_csrf_check(method, header(c, "X-CSRF-Token"), a.csrf, header(c, "Origin"), header(c, "Host"),
                                 &why) < 0)
            return send_error(rq, c, MHD_HTTP_FORBIDDEN, "%s", why);
    }
    if (n == 2 && strcmp(segs[1], "logout") == 0)
        return post ? h_logout(rq, c, kind, sid) : method_not_allowed(rq, c, "POST");
    if (n == 2 && strcmp(segs[1], "session") == 0) {
        if (!get)
            return method_not_allowed(rq, c, "GET, HEAD");
        json_t *o = json_pack("{s:s, s:o, s:s}", "user", a.user, "csrf_token",
                              kind == AUTH_SESSION ? json_string(a.csrf) : json_null(), "auth",
                              kind == AUTH_SESSION ? "session" : "token");
        return send_json(rq, c, MHD_HTTP_OK, o, NULL);
    }
    if (n == 2 && strcmp(segs[1], "tokens") == 0)
        return post ? h_tokens(rq, c, &a) : method_not_allowed(rq, c, "POST");
    if (n == 2 && strcmp(segs[1], "cameras") == 0)
        return get ? h_cameras(rq, c) : method_not_allowed(rq, c, "GET, HEAD");
    if (n == 4 && strcmp(segs[1], "cameras") == 0) {
        if (!reel_http_name_valid(segs[2]))
            return send_error(rq, c, MHD_HTTP_BAD_REQUEST, "camera name: expected 1-63 of A-Z a-z 0-9 _ -");
        if (strcmp(segs[3], "spans") == 0)
            return get ? h_spans(rq, c, segs[2], query) : method_not_allowed(rq, c, "GET, HEAD");
        if (strcmp(segs[3], "view.mp4") == 0)
            return get ? h_view(rq, c, segs[2], query) : method_not_allowed(rq, c, "GET, HEAD");
    }
    return send_error(rq, c, MHD_HTTP_NOT_FOUND, "no such API route");
}

/* ---- libmicrohttpd callbacks ---- */

/* The connection's slot in the deadline table (-1 when it has none). */
static int conn_slot(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    intptr_t v = ci ? (intptr_t)ci->socket_context : 0;
    return v > 0 ? (int)(v - 1) : -1;
}

/* Connection start and end: every connection gets a slot in the deadline
 * table (its socket context holds slot + 1), given back before
 * libmicrohttpd closes the socket. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct reel_http *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        int slot = ci ? reel_http_deadline_add(h->deadline, ci->connect_fd) : -EBADF;
        if (slot < 0) {
            /* not watched, so not kept: its event loop sees the end at once */
            if (ci)
                shutdown(ci->connect_fd, SHUT_RDWR);
            *socket_context = NULL;
            return;
        }
        *socket_context = (void *)(intptr_t)(slot + 1);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        intptr_t v = (intptr_t)*socket_context;
        if (v > 0)
            reel_http_deadline_remove(h->deadline, (int)(v - 1));
        *socket_context = NULL;
    }
}

/* Watchdog thread: n connections were shut down for missing the deadline.
 * One log line a minute at most (idle keep-alive connections of browsers
 * end this way too). */
static void on_deadline(void *opaque, unsigned n)
{
    struct reel_http *h = opaque;
    h->deadline_closed += n;
    int64_t now = reel_clock_mono(h->clock);
    if (h->deadline_logged_ns != 0 && now - h->deadline_logged_ns < DEADLINE_LOG_NS)
        return;
    hlog(h, REEL_LOG_INFO,
         "closed %llu connection(s) without a complete request within %d s (idle keep-alive or slow clients)",
         (unsigned long long)h->deadline_closed, REEL_HTTP_REQUEST_DEADLINE_S);
    h->deadline_closed = 0;
    h->deadline_logged_ns = now;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    struct reel_http *h = cls;
    struct req *rq = calloc(1, sizeof(*rq));
    if (!rq)
        return NULL;
    rq->h = h;
    rq->t0 = reel_clock_mono(h->clock);
    size_t n = strlen(uri);
    if (n >= sizeof(rq->uri)) {
        rq->uri_too_long = true;
        n = sizeof(rq->uri) - 1;
    }
    memcpy(rq->uri, uri, n);
    rq->uri[n] = '\0';
    reel_buf_init(&rq->body, REEL_HTTP_BODY_MAX);
    return rq;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    struct req *rq = *con_cls;
    if (!rq)
        return MHD_NO;
    if (!rq->started) {
        rq->started = true;
        snprintf(rq->method, sizeof(rq->method), "%s", method);
        if (reel_http_method_changes_state(method))
            return MHD_YES; /* the body comes in the next calls */
    } else if (*upload_data_size > 0) {
        if (!rq->body_too_big && reel_buf_append(&rq->body, upload_data, *upload_data_size) < 0)
            rq->body_too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* The request is complete: no deadline while it is answered. */
    reel_http_deadline_responding(rq->h->deadline, conn_slot(c));
    return route(rq, c, method);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct reel_http *h = cls;
    /* keep-alive: the next request must be complete within the deadline */
    reel_http_deadline_waiting(h->deadline, conn_slot(c));
    struct req *rq = *con_cls;
    if (!rq)
        return;
    if (h->cfg.log && h->cfg.log->min <= REEL_LOG_DEBUG) {
        char addr[64], u[300];
        client_addr(c, addr, sizeof(addr));
        printable(rq->uri, u, sizeof(u));
        double ms = (double)(reel_clock_mono(h->clock) - rq->t0) / 1e6;
        hlog(h, REEL_LOG_DEBUG, "%s %s %s -> %u%s (%.1f ms)", addr, rq->method, u, rq->status,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)", ms);
    }
    reel_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

/* ---- lifetime ---- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, struct reel_err *err)
{
    char host[256];
    const char *port;
    if (listen[0] == '[') {
        const char *e = strchr(listen, ']');
        if (!e || e[1] != ':' || (size_t)(e - listen - 1) >= sizeof(host))
            return reel_err_set(err, EINVAL, "listen address '%s': expected [ADDR]:PORT", listen);
        memcpy(host, listen + 1, (size_t)(e - listen - 1));
        host[e - listen - 1] = '\0';
        port = e + 2;
    } else {
        const char *e = strrchr(listen, ':');
        if (!e || (size_t)(e - listen) >= sizeof(host) || e == listen)
            return reel_err_set(err, EINVAL, "listen address '%s': expected ADDR:PORT", listen);
        memcpy(host, listen, (size_t)(e - listen));
        host[e - listen] = '\0';
        port = e + 1;
    }
    int64_t pv;
    if (reel_parse_i64(port, strlen(port), 0, 65535, &pv) < 0)
        return reel_err_set(err, EINVAL, "listen address '%s': bad port", listen);
    struct addrinfo hints = { .ai_flags = AI_NUMERICSERV | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0 || !ai)
        return reel_err_set(err, EINVAL, "listen address '%s': %s", listen, gai_strerror(rc));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int reel_http_new(struct reel_http **ret, const struct reel_http_cfg *cfg, struct reel_err *err)
{
    struct reel_http *h = calloc(1, sizeof(*h));
    if (!h)
        return reel_err_set(err, ENOMEM, "out of memory");
    h->cfg = *cfg;
    h->clock = cfg->clock ? cfg->clock : reel_clock_system();
    if (h->cfg.session_idle_ns <= 0)
        h->cfg.session_idle_ns = 12 * 3600 * REEL_NS_PER_SEC;
    if (h->cfg.session_max_ns <= 0)
        h->cfg.session_max_ns = 7 * 86400 * REEL_NS_PER_SEC;
    if (!h->cfg.threads)
        h->cfg.threads = 2;
    snprintf(h->listen, sizeof(h->listen), "%s", cfg->listen ? cfg->listen : REEL_HTTP_DEFAULT_LISTEN);
    pthread_mutex_init(&h->stores.mu, NULL);
    pthread_mutex_init(&h->users.mu, NULL);
    int r;
    if (!cfg->datadir || !realpath(cfg->datadir, h->datadir)) {
        r = reel_err_set(err, ENOENT, "data dir %s: %s", cfg->datadir ? cfg->datadir : "(null)", strerror(errno));
        goto fail;
    }
    r = parse_listen(h->listen, &h->addr, &h->addrlen, err);
    if (r < 0)
        goto fail;
    struct reel_ratelimit_cfg user_rl = { .threshold = 5 }, addr_rl = { .threshold = 20 };
    if (reel_ratelimit_new(&h->rl_user, &user_rl, h->clock) < 0 ||
        reel_ratelimit_new(&h->rl_addr, &addr_rl, h->clock) < 0) {
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    *ret = h;
    return 0;
fail:
    reel_http_free(h);
    return r;
}

int reel_http_static_add(struct reel_http *h, const char *path, const char *content_type, const uint8_t *data,
                         size_t len)
{
    if (h->d)
        return -EBUSY;
    if (path[0] != '/' || strlen(path) >= sizeof(h->statics[0].path) ||
        strlen(content_type) >= sizeof(h->statics[0].content_type))
        return -EINVAL;
    if (h->nstatics >= STATIC_MAX)
        return -ENOMEM;
    struct static_file *f = &h->statics[h->nstatics++];
    snprintf(f->path, sizeof(f->path), "%s", path);
    snprintf(f->content_type, sizeof(f->content_type), "%s", content_type);
    f->data = data;
    f->len = len;
    return 0;
}

int reel_http_start(struct reel_http *h, struct reel_err *err)
{
    if (h->d)
        return reel_err_set(err, EBUSY, "http server already started");
    /* The account tables must exist before the first request. */
    struct reel_users *u;
    int r = reel_users_open(&u, h->datadir, err);
    if (r < 0)
        return r;
    users_put(h, u);
    if (!h->deadline) {
        r = reel_http_deadline_new(&h->deadline, 2 * CONN_MAX, REEL_HTTP_REQUEST_DEADLINE_S * REEL_NS_PER_SEC,
                                   h->clock, on_deadline, h);
        if (r == 0)
            r = reel_http_deadline_start(h->deadline);
        if (r < 0)
            return reel_err_set(err, -r, "http request deadlines: %s", strerror(-r));
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (h->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&h->addr,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)h->cfg.threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_MAX,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)CONN_PER_ADDR_MAX,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
                            MHD_OPTION_END);
    if (!h->d) {
        int e = errno ? errno : EADDRINUSE;
        return reel_err_set(err, e, "cannot listen on %s: %s", h->listen, strerror(e));
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    return 0;
}

uint16_t reel_http_port(const struct reel_http *h) { return h->port; }

void reel_http_url(const struct reel_http *h, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (h->addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)&h->addr)->sin6_addr, host, sizeof(host));
        snprintf(buf, cap, "http://[%s]:%u/", host, h->port);
    } else {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)&h->addr)->sin_addr, host, sizeof(host));
        snprintf(buf, cap, "http://%s:%u/", host, h->port);
    }
}

void reel_http_free(struct reel_http *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    reel_http_deadline_free(h->deadline); /* after the daemon: it gave every slot back */
    for (size_t i = 0; i < h->stores.n; i++)
        reel_store_close(h->stores.idle[i]);
    for (size_t i = 0; i < h->users.n; i++)
        reel_users_close(h->users.idle[i]);
    pthread_mutex_destroy(&h->stores.mu);
    pthread_mutex_destroy(&h->users.mu);
    reel_ratelimit_free(h->rl_user);
    reel_ratelimit_free(h->rl_addr);
    free(h);
}

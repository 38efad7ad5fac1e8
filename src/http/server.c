/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The HTTP server glue: libmicrohttpd start and stop, per-request state and
 * body reading, the dispatcher over the API's routing table
 * (src/api/routes.c, matched by route.c), authentication (session cookie
 * with CSRF token, or Bearer API token) and the admin rule, the pools of
 * database handles lent to handlers, error replies and the static files of
 * the web page. The handlers themselves live in src/api/, one file per
 * resource. See http.h for threads and lifetime, route.h for what handlers
 * get, docs/api.md for the contract.
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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "audit/pbmerge.h"
#include "audit/sink.h"
#include "base/buf.h"
#include "base/strutil.h"
#include "base/timefmt.h"
#include "http/body.h"
#include "http/access.h"
#include "http/clientaddr.h"
#include "http/deadline.h"
#include "http/loginguard.h"
#include "http/parse.h"
#include "http/playback.h"
#include "http/redact_jobs.h"
#include "http/sse.h"
#include "http/stream.h"
#include "http/tlcache.h"
#include "http/ratelimit.h"
#include "http/route.h"
#include "http/users.h"
#include "http/work.h"
#include "store/store.h"

#define URI_MAX 2048
#define POOL_MAX 8
#define STATIC_MAX 64
#define COOKIE_NAME "reel_session"
#define COOKIE_NAME_TLS "__Host-reel_session"   /* with built-in TLS: Secure, Path=/, no Domain */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define HOST_LOG_NS (60 * REEL_NS_PER_SEC)      /* one line a minute at most about refused Host names */
#define CONN_MAX 256                /* connections in all (default of cfg.conn_max) */
#define CONN_PER_ADDR_MAX 64        /* connections from one client address */
#define WORKERS 2                   /* default of cfg.workers */
#define WORK_QUEUE_MAX 32           /* requests waiting for a worker; more get 503 */
#define BUSY_RETRY_S "2"            /* Retry-After when the worker queue is full */
#define IDLE_TIMEOUT_S 60           /* inactivity, also while a response is sent */
#define DEADLINE_LOG_NS (60 * REEL_NS_PER_SEC)
#define INTERNAL_REF_BYTES 4        /* a 5xx answer's reference to its log line */

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
    struct reel_http_cfg cfg;       /* defaults filled; cfg.clock never NULL */
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
    pthread_mutex_t admin_mu;       /* held through one configuration change */
    struct reel_ratelimit *rl_user, *rl_addr;
    struct reel_netmask trusted[REEL_TRUSTED_PROXY_MAX];
    size_t ntrusted;
    struct reel_http_deadline *deadline;
    struct reel_http_work *work;    /* the worker pool of the routes marked pool */
    struct reel_http_playback *playback;
    struct reel_http_streams *streams; /* live.mp4 responses */
    struct reel_http_sse *sse;       /* issue 15: /api/events/stream's fan-out; NULL without a bus */
    struct reel_tlcache *tlcache;   /* the timeline's spans (tlcache.h) */
    struct reel_redact_jobs *redact;   /* redacted exports (ac-redact) */
    uint64_t deadline_closed;       /* since the last log line (watchdog thread only) */
    int64_t deadline_logged_ns;
    char hosts[REEL_HTTP_HOSTS_MAX][256];   /* cfg.hosts points here */
    const char *host_ptrs[REEL_HTTP_HOSTS_MAX];
    _Atomic int64_t host_logged_ns; /* the last line about a refused Host (any thread) */
    char *tls_cert, *tls_key;       /* cfg.tls_* point here; NULL: plain HTTP */
    struct reel_audit_sink *audit;  /* the audit log's writer (from start; NULL before) */
};

/* Per request: allocated by the URI callback, freed when it completes. */
struct req {
    struct reel_http *h;
    struct MHD_Connection *c;       /* set when the request is complete */
    char uri[URI_MAX];
    bool uri_too_long;
    struct reel_buf body;
    bool body_too_big;
    bool started;
    char method[12];
    bool http11;                    /* HTTP/1.1 (Host required) */
    unsigned status;
    int64_t t0;
    /* A request handed to the worker pool: the connection is suspended
     * until the job is done; the handler's answer waits in resp (queue()
     * keeps it), queued by on_request when libmicrohttpd resumes. */
    bool offloaded;
    bool job_done;
    struct MHD_Response *resp;
    enum MHD_Result job_res;
    struct reel_http_acl acl;       /* the caller's camera list, read at first use (access.h) */
};

/* What a handler on a worker needs after dispatch() has returned. */
struct job {
    struct req *rq;
    const struct reel_http_route *route;
    struct reel_http_req r;
    struct reel_auth a;
    char sid[REEL_SECRET_MAX];
    char name[REEL_HTTP_SEG_MAX];
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
    struct reel_store_cfg cfg = { .datadir = h->datadir, .mode = REEL_STORE_READ, .clock = h->clock };
    return reel_store_open(ret, &cfg, err);
}

static void store_put(struct reel_http *h, struct reel_store *s)
{
    /* Handlers end their snapshots; should one not, the pool must still not
     * keep a read transaction open (it would pin the WAL: the recorder's
     * checkpoints could not reset it). A no-op without one. */
    reel_store_read_end(s);
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

static struct req *req_of(struct reel_http_req *r) { return r->priv; }

struct reel_http_acl *reel_http_acl_of(struct reel_http_req *r) { return r->priv ? &req_of(r)->acl : NULL; }

int reel_http_store_get(struct reel_http_req *r, struct reel_store **ret, struct reel_err *err)
{
    return store_get(r->h, ret, err);
}

void reel_http_store_put(struct reel_http_req *r, struct reel_store *s) { store_put(r->h, s); }

int reel_http_users_get(struct reel_http_req *r, struct reel_users **ret, struct reel_err *err)
{
    return users_get(r->h, ret, err);
}

void reel_http_users_put(struct reel_http_req *r, struct reel_users *u) { users_put(r->h, u); }

int reel_http_admin_open(struct reel_http_req *r, struct reel_store **ret, struct reel_err *err)
{
    struct reel_http *h = r->h;
    if (pthread_mutex_trylock(&h->admin_mu) != 0)
        return reel_err_set(err, EBUSY, "another configuration change is being applied");
    struct reel_store_cfg cfg = { .datadir = h->datadir, .mode = REEL_STORE_ADMIN, .clock = h->clock };
    int rc = reel_store_open(ret, &cfg, err);
    if (rc < 0)
        pthread_mutex_unlock(&h->admin_mu);
    return rc;
}

void reel_http_admin_close(struct reel_http_req *r, struct reel_store *s)
{
    reel_store_close(s);
    pthread_mutex_unlock(&r->h->admin_mu);
}

void reel_http_log(struct reel_http_req *r, enum reel_log_level lvl, const char *fmt, ...)
{
    struct reel_http *h = r->h;
    if (!h->cfg.log || lvl < h->cfg.log->min)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    hlog(h, lvl, "%s", line);
}

void reel_http_client(struct reel_http_req *r, char addr[64], char key[64])
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *xff = r->h->ntrusted ? reel_http_header(r, "X-Forwarded-For") : NULL;
    reel_client_addr(ci ? ci->client_addr : NULL, xff, r->h->trusted, r->h->ntrusted, addr, key);
}

void reel_http_client_addr(struct reel_http_req *r, char *buf, size_t cap)
{
    char addr[REEL_CLIENT_ADDR_MAX], key[REEL_CLIENT_ADDR_MAX];
    reel_http_client(r, addr, key);
    snprintf(buf, cap, "%s", addr);
}

const char *reel_http_header(struct reel_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void reel_http_session_cookie(struct reel_http_req *r, const char *value, int64_t max_age_s, char *out, size_t cap)
{
    bool tls = r->cfg->tls_cert_pem != NULL;
    snprintf(out, cap, "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s", tls ? COOKIE_NAME_TLS : COOKIE_NAME,
             value, (long long)max_age_s, tls || r->cfg->secure_cookie ? "; Secure" : "");
}

json_t *reel_http_json_time(int64_t t90k)
{
    char buf[40];
    reel_time_format(t90k, buf, sizeof(buf));
    return json_string(buf);
}

/* ---- responses ---- */

/* The policy of every response: resources from this origin only; no page
 * may frame ours (clickjacking), no <base> may redirect relative URLs, and
 * forms post only here. media-src adds blob: for the live view: a <video>
 * fed by Media Source Extensions plays the page's own MediaSource through
 * a blob: URL the page made (no other origin can name one). */
#define CSP "default-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

static void security_headers(struct req *rq, struct MHD_Response *resp)
{
    if (rq->h->tls_cert) {
        /* HSTS binds every port of a name: not for "localhost", where other
         * local servers speak plain HTTP (browsers ignore it for IP
         * addresses and for certificates they do not trust anyway). */
        char name[REEL_HTTP_HOST_MAX + 1];
        const char *host = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Host");
        if (!(reel_http_host_name(host, name, sizeof(name)) == 0 && strcmp(name, "localhost") == 0))
            MHD_add_response_header(resp, "Strict-Transport-Security", REEL_HTTP_HSTS);
    }
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result queue(struct req *rq, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    security_headers(rq, resp);
    if (rq->offloaded && !rq->job_done) {
        /* on a worker: kept for on_request once the connection is resumed */
        if (rq->resp) {
            MHD_destroy_response(resp);     /* a handler answers once */
            return MHD_NO;
        }
        rq->status = status;
        rq->resp = resp;
        return MHD_YES;
    }
    rq->status = status;
    enum MHD_Result r = MHD_queue_response(rq->c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

enum MHD_Result reel_http_queue(struct reel_http_req *r, unsigned status, struct MHD_Response *resp)
{
    return queue(req_of(r), status, resp);
}

static enum MHD_Result send_json_va(struct req *rq, unsigned status, json_t *j, va_list ap)
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
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        MHD_add_response_header(resp, k, v);
    }
    return queue(rq, status, resp);
}

/* Sends j (stolen) as the JSON body; extra headers as name/value pairs,
 * NULL-terminated. */
static enum MHD_Result send_json(struct req *rq, unsigned status, json_t *j, ...)
{
    va_list ap;
    va_start(ap, j);
    enum MHD_Result res = send_json_va(rq, status, j, ap);
    va_end(ap);
    return res;
}

enum MHD_Result reel_http_send_json(struct reel_http_req *r, unsigned status, json_t *j, ...)
{
    va_list ap;
    va_start(ap, j);
    enum MHD_Result res = send_json_va(req_of(r), status, j, ap);
    va_end(ap);
    return res;
}

static enum MHD_Result send_error_va(struct req *rq, unsigned status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static enum MHD_Result send_error_va(struct req *rq, unsigned status, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    json_t *j = json_object();
    if (status >= 500 && status != MHD_HTTP_SERVICE_UNAVAILABLE) {
        /* The detail (which may name a file, a directory or a database
         * error) goes to the log only; the client gets a reference to it.
         * 503 (busy: retry later) keeps its text, a fixed one chosen by
         * the caller. */
        char u[256], ref[2 * INTERNAL_REF_BYTES + 1];
        uint8_t rb[INTERNAL_REF_BYTES];
        randombytes_buf(rb, sizeof(rb));
        reel_hex_encode(rb, sizeof(rb), ref);
        printable(rq->uri, u, sizeof(u));
        hlog(rq->h, REEL_LOG_WARN, "%s %s: %u %s (reference %s)", rq->method, u, status, msg, ref);
        snprintf(msg, sizeof(msg), "internal error (reference %s: the server's log has the details)", ref);
        json_object_set_new(j, "reference", json_string(ref));
    }
    json_object_set_new(j, "error", json_string(msg));
    if (status == MHD_HTTP_UNAUTHORIZED)
        return send_json(rq, status, j, "WWW-Authenticate", "Bearer realm=\"reel\"", NULL);
    return send_json(rq, status, j, NULL);
}

static enum MHD_Result send_error(struct req *rq, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result send_error(struct req *rq, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result res = send_error_va(rq, status, fmt, ap);
    va_end(ap);
    return res;
}

enum MHD_Result reel_http_send_error(struct reel_http_req *r, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result res = send_error_va(req_of(r), status, fmt, ap);
    va_end(ap);
    return res;
}

enum MHD_Result reel_http_send_busy(struct reel_http_req *r, unsigned retry_after_s, const char *fmt, ...)
{
    char msg[256], ra[16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ra, sizeof(ra), "%u", retry_after_s);
    return reel_http_send_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, json_pack("{s:s}", "error", msg), "Retry-After", ra,
                               NULL);
}

struct reel_http_playback *reel_http_playback_of(struct reel_http_req *r) { return r->h->playback; }
struct reel_tlcache *reel_http_tlcache_of(struct reel_http_req *r) { return r->h->tlcache; }
struct reel_redact_jobs *reel_http_redact_of(struct reel_http_req *r) { return r->h->redact; }
struct reel_http_streams *reel_http_streams_of(struct reel_http_req *r) { return r->h->streams; }
struct reel_http_sse *reel_http_sse_of(struct reel_http_req *r) { return r->h->sse; }
struct reel_audit_sink *reel_http_audit_of(struct reel_http_req *r) { return r->h->audit; }

/* ---- the worker pool (work.h) ---- */

/* On a worker: runs the handler, then gives the connection back to
 * libmicrohttpd, which calls on_request again (finish_offloaded()). */
static void run_job(void *arg)
{
    struct job *j = arg;
    struct req *rq = j->rq;
    rq->job_res = j->route->handler(&j->r);
    struct MHD_Connection *c = rq->c;
    free(j);
    rq->job_done = true;
    MHD_resume_connection(c);
}

/* Suspends the connection and queues the handler on the pool; a full queue
 * (or a server stopping) is answered 503 with Retry-After. */
static enum MHD_Result offload(struct req *rq, const struct reel_http_route *route, const struct reel_http_req *r,
                               const struct reel_auth *a, const char *sid, const char *name)
{
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return send_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    j->rq = rq;
    j->route = route;
    j->r = *r;
    if (a)
        j->a = *a;
    snprintf(j->sid, sizeof(j->sid), "%s", sid);
    snprintf(j->name, sizeof(j->name), "%s", name);
    j->r.auth = a ? &j->a : NULL;
    j->r.sid = j->sid;
    j->r.name = j->name;
    j->r.method = rq->method;
    rq->offloaded = true;
    MHD_suspend_connection(rq->c);
    int e = reel_http_work_submit(rq->h->work, run_job, j);
    if (e == 0)
        return MHD_YES;
    free(j);
    /* answered at once, through the same path as a worker's answer */
    hlog(rq->h, REEL_LOG_WARN, "%s: worker queue full (%d waiting): 503", route->pattern, WORK_QUEUE_MAX);
    json_t *err = json_pack("{s:s}", "error", "server busy: try again shortly");
    send_json(rq, MHD_HTTP_SERVICE_UNAVAILABLE, err, "Retry-After", BUSY_RETRY_S, NULL);
    rq->job_res = MHD_YES;
    rq->job_done = true;
    MHD_resume_connection(rq->c);
    return MHD_YES;
}

/* libmicrohttpd resumed an offloaded request: queue the handler's answer
 * (none: the connection is closed). */
static enum MHD_Result finish_offloaded(struct req *rq)
{
    if (!rq->job_done)
        return MHD_YES;
    struct MHD_Response *resp = rq->resp;
    rq->resp = NULL;
    if (!resp)
        return MHD_NO;
    enum MHD_Result res = MHD_queue_response(rq->c, rq->status, resp);
    MHD_destroy_response(resp);
    return res == MHD_YES ? rq->job_res : MHD_NO;
}

/* ---- authentication ---- */


/* 0 with *kind set (REEL_AUTH_NONE when no credentials were offered), or a
 * negative errno: -EACCES for credentials that are wrong or expired. */
static int authenticate(struct reel_http *h, struct MHD_Connection *c, struct reel_auth *a, char *sid,
                        size_t sid_cap, enum reel_http_auth_kind *kind, struct reel_err *err)
{
    *kind = REEL_AUTH_NONE;
    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    char cookie[REEL_SECRET_MAX];
    int have_cookie = reel_http_cookie_get(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie"),
                                           h->tls_cert ? COOKIE_NAME_TLS : COOKIE_NAME, cookie, sizeof(cookie));
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
            r = reel_token_lookup(u, tok, wall_ns(h), h->cfg.token_max_ns, a, err);
            if (r == -ENOENT)
                r = reel_err_set(err, EACCES, "unknown API token");
            if (r == 0)
                *kind = REEL_AUTH_TOKEN;
        }
    } else {
        r = reel_session_lookup(u, cookie, wall_ns(h), h->cfg.session_idle_ns, h->cfg.session_max_ns, a, err);
        if (r == -ENOENT)
            r = reel_err_set(err, EACCES, "session expired or unknown: log in again");
        if (r == 0) {
            *kind = REEL_AUTH_SESSION;
            snprintf(sid, sid_cap, "%s", cookie);
        }
    }
    /* totp.required_admin: an administrator without a second factor may
     * only enrol one (docs/accountability.md) */
    if (r == 0 && *kind != REEL_AUTH_NONE && strcmp(a->role, "admin") == 0 && !a->totp) {
        char v[8];
        r = reel_users_setting(u, "totp.required_admin", v, sizeof(v), err);
        a->enrol_only = r == 0 && strcmp(v, "1") == 0;
    }
    users_put(h, u);
    return r;
}

/* The routes an administrator limited to TOTP enrolment may call. */
static bool enrol_route(const struct reel_http_route *route)
{
    return route && (strcmp(route->pattern, "/api/session") == 0 || strcmp(route->pattern, "/api/logout") == 0 ||
                     strncmp(route->pattern, "/api/session/totp", 17) == 0);
}

/* Routes with a {camera} parameter whose camera the caller must be allowed
 * to see (access.h); an invisible camera gets the unknown camera's answer. */
static bool camera_route(const struct reel_http_route *route)
{
    return route && strstr(route->pattern, "{camera}") &&
           (route->access == REEL_ACCESS_LIVE || route->access == REEL_ACCESS_PLAYBACK ||
            route->access == REEL_ACCESS_EXPORT || route->access == REEL_ACCESS_LOCK);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}


/* ---- static files and the dispatcher ---- */

static enum MHD_Result h_static(struct req *rq, const char *path)
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
        return queue(rq, MHD_HTTP_OK, resp);
    }
    return send_error(rq, MHD_HTTP_NOT_FOUND, "not found");
}

static enum MHD_Result method_not_allowed(struct req *rq, const char *allow)
{
    json_t *e = json_pack("{s:s}", "error", "method not allowed");
    return send_json(rq, MHD_HTTP_METHOD_NOT_ALLOWED, e, "Allow", allow, NULL);
}

/* Finds the route, then in this order: the path's own errors, the static
 * files outside /api/, a 405 on a public route, authentication (401), CSRF
 * for sessions (403), the admin rule (403), a bad name (400), 405, 404, and
 * at last the handler. So nothing about a non-public route, not even
 * whether it exists, is told to a caller who is not signed in. */
/* The site's reason policy (settings live.reason, playback.reason): when
 * required, a live view's or a playback session's first request carries a
 * reason (header X-Reel-Reason, else query parameter reason), remembered
 * for the caller's following requests (audit/reasons.h). */
static int reason_ok(struct req *rq, enum reel_http_access access, const char *query, const struct reel_auth *a,
                     enum reel_http_auth_kind kind, const char *sid)
{
    const char *kind_name = access == REEL_ACCESS_LIVE ? "live" : access == REEL_ACCESS_PLAYBACK ? "playback" : NULL;
    if (!kind_name)
        return 0;
    struct reel_http_req r = { .conn = rq->c, .query = query, .kind = kind, .auth = a, .sid = sid,
                               .cfg = &rq->h->cfg, .clock = rq->h->clock, .h = rq->h, .priv = rq };
    char given[REEL_AUDIT_REASON_MAX], out[REEL_AUDIT_REASON_MAX];
    int g = reel_api_reason_given(&r, given, sizeof(given));
    if (g < 0)
        return g;
    char key[32], policy[16];
    snprintf(key, sizeof(key), "%s.reason", kind_name);
    reel_audit_sink_setting(rq->h->audit, key, "optional", policy, sizeof(policy));
    char via[REEL_AUDIT_VIA_MAX], addr[REEL_AUDIT_ADDR_MAX], rkey[REEL_AUDIT_VIA_MAX];
    reel_api_audit_actor(&r, via, sizeof(via), addr, sizeof(addr));
    reel_api_reason_key(&r, rkey, sizeof(rkey));
    bool have = reel_audit_sink_reason(rq->h->audit, kind_name, a->user, rkey, addr, g > 0 ? given : NULL, out,
                                       sizeof(out));
    return have || strcmp(policy, "required") != 0 ? 0 : -ENOENT;
}

static enum MHD_Result dispatch(struct req *rq, const char *method)
{
    struct reel_http *h = rq->h;
    struct MHD_Connection *c = rq->c;
    if (rq->uri_too_long)
        return send_error(rq, MHD_HTTP_URI_TOO_LONG, "request target too long");
    char *q = strchr(rq->uri, '?');
    const char *query = NULL;
    if (q) {
        *q = '\0';
        query = q + 1;
    }
    const char *path = rq->uri;
    struct reel_http_match *m = malloc(sizeof(*m));
    if (!m)
        return MHD_NO;
    enum MHD_Result res;
    enum reel_http_route_result found = reel_http_route_find(reel_api_routes, reel_api_nroutes, method, path, m);
    if (found == REEL_ROUTE_BAD_PATH) {
        res = send_error(rq, m->status, "bad request path");
        goto out;
    }
    if (strcmp(m->segs[0], "api") != 0) {
        bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
        res = get ? h_static(rq, path) : method_not_allowed(rq, "GET, HEAD");
        goto out;
    }
    if (found == REEL_ROUTE_BAD_METHOD && m->access == REEL_ACCESS_PUBLIC) {
        res = method_not_allowed(rq, m->allow);
        goto out;
    }
    struct reel_auth a;
    char sid[REEL_SECRET_MAX] = "";
    enum reel_http_auth_kind kind = REEL_AUTH_NONE;
    if (m->access != REEL_ACCESS_PUBLIC) {
        struct reel_err err = { "" };
        int r = authenticate(h, c, &a, sid, sizeof(sid), &kind, &err);
        if (r == -EACCES) {
            res = send_error(rq, MHD_HTTP_UNAUTHORIZED, "%s", err.msg);
            goto out;
        }
        if (r < 0) {
            res = send_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "accounts database: %s", err.msg);
            goto out;
        }
        if (kind == REEL_AUTH_NONE) {
            res = send_error(rq, MHD_HTTP_UNAUTHORIZED, "authentication required: log in or send a Bearer token");
            goto out;
        }
        /* Unknown routes and wrong methods are checked like a route that
         * needs the token: a state-changing request by cookie without it
         * learns nothing. */
        const char *why;
        if (kind == REEL_AUTH_SESSION && (!m->route || m->route->csrf) &&
            reel_http_csrf_check(method, header(c, "X-CSRF-Token"), a.csrf, header(c, "Origin"), header(c, "Host"),
                                 &why) < 0) {
            res = send_error(rq, MHD_HTTP_FORBIDDEN, "%s", why);
            goto out;
        }
        if (!reel_http_role_allows(a.role, m->access)) {
            const char *right = reel_http_access_name(m->access);
            if (m->access == REEL_ACCESS_ADMIN)
                res = send_error(rq, MHD_HTTP_FORBIDDEN, "only an administrator may do this (the %s role lacks the "
                                 "admin right)", a.role);
            else
                res = send_error(rq, MHD_HTTP_FORBIDDEN, "the %s role lacks the %s right", a.role, right);
            goto out;
        }
        if (a.enrol_only && found == REEL_ROUTE_FOUND && !enrol_route(m->route)) {
            res = send_error(rq, MHD_HTTP_FORBIDDEN, "administrators need a TOTP second factor on this server: "
                             "enrol one first (POST /api/session/totp)");
            goto out;
        }
        int why_not = found == REEL_ROUTE_FOUND ? reason_ok(rq, m->access, query, &a, kind, sid) : 0;
        if (why_not < 0) {
            res = send_error(rq, MHD_HTTP_BAD_REQUEST, why_not == -ENOENT ? "a reason is required"
                                                                          : "reason: at most %d bytes of text",
                             REEL_AUDIT_REASON_MAX - 1);
            goto out;
        }
    }
    switch (found) {
    case REEL_ROUTE_BAD_NAME:
        res = send_error(rq, MHD_HTTP_BAD_REQUEST, "%s name: expected 1-63 of A-Z a-z 0-9 _ -", m->label);
        break;
    case REEL_ROUTE_BAD_METHOD:
        res = method_not_allowed(rq, m->allow);
        break;
    case REEL_ROUTE_NOT_FOUND:
    case REEL_ROUTE_BAD_PATH:
        res = send_error(rq, MHD_HTTP_NOT_FOUND, "no such API route");
        break;
    case REEL_ROUTE_FOUND:
    default: {
        struct reel_http_req r = {
            .conn = c, .method = method, .query = query, .name = m->name,
            .body = rq->body.len ? rq->body.data : NULL, .body_len = rq->body.len, .body_too_big = rq->body_too_big,
            .kind = kind, .auth = kind == REEL_AUTH_NONE ? NULL : &a, .sid = sid, .cfg = &h->cfg, .clock = h->clock,
            .rl_user = h->rl_user, .rl_addr = h->rl_addr, .h = h, .priv = rq,
        };
        if (camera_route(m->route) && !reel_http_camera_visible(&r, m->name)) {
            res = send_error(rq, MHD_HTTP_NOT_FOUND, "no camera '%s'", m->name);
            break;
        }
        if (m->route->pool && h->work)
            res = offload(rq, m->route, &r, kind == REEL_AUTH_NONE ? NULL : &a, sid, m->name);
        else
            res = m->route->handler(&r);
        break;
    }
    }
out:
    free(m);
    return res;
}

/* ---- the Host check (DNS rebinding) ---- */

/* A Host value for a message: letters, digits and . : [ ] - kept, anything
 * else '?', at most 64 bytes. */
static void host_text(const char *host, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = host; *p && o + 1 < cap && o < 64; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == ':' || c == '[' || c == ']' || c == '-';
        out[o++] = ok ? c : '?';
    }
    out[o] = '\0';
}

/* Before anything else: an HTTP/1.1 request without Host or with a
 * malformed one gets 400; a Host that is no name of this server
 * (reel_http_host_allowed) 421, with one log line a minute at most. True
 * with the answer's result in *ret_res; false (*ret_res untouched) when the
 * request may go on. */
static bool host_refused(struct req *rq, enum MHD_Result *ret_res)
{
    struct reel_http *h = rq->h;
    const char *host = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Host");
    if (!host) {
        if (!rq->http11)
            return false; /* HTTP/1.0: no browser sends it */
        *ret_res = send_error(rq, MHD_HTTP_BAD_REQUEST, "missing Host header");
        return true;
    }
    if (reel_http_host_allowed(host, h->cfg.hosts, h->cfg.nhosts))
        return false;
    char txt[80], name[REEL_HTTP_HOST_MAX + 1];
    host_text(host, txt, sizeof(txt));
    if (reel_http_host_name(host, name, sizeof(name)) < 0) {
        *ret_res = send_error(rq, MHD_HTTP_BAD_REQUEST, "malformed Host header");
        return true;
    }
    int64_t now = reel_clock_mono(h->clock), last = atomic_load(&h->host_logged_ns);
    if ((last == 0 || now - last >= HOST_LOG_NS) && atomic_compare_exchange_strong(&h->host_logged_ns, &last, now)) {
        char addr[64];
        client_addr(rq->c, addr, sizeof(addr));
        hlog(h, REEL_LOG_WARN, "refused a request for Host '%s' from %s: not a name of this server (start reel run "
             "with --http-host %s if it is; more of these are not logged for a minute)", txt, addr, txt);
    }
    *ret_res = send_error(rq, MHD_HTTP_MISDIRECTED_REQUEST,
                          "Host '%s' is not a name of this server (a guard against DNS rebinding): reach it by an "
                          "IP address or localhost, or start reel run with --http-host %s", txt, txt);
    return true;
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
    struct req *rq = *con_cls;
    if (!rq)
        return MHD_NO;
    if (rq->offloaded)
        return finish_offloaded(rq);
    if (!rq->started) {
        rq->started = true;
        snprintf(rq->method, sizeof(rq->method), "%s", method);
        rq->http11 = version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
        /* the Host check before anything, also before a body is read */
        enum MHD_Result res;
        rq->c = c;
        if (host_refused(rq, &res)) {
            reel_http_deadline_responding(rq->h->deadline, conn_slot(c));
            return res;
        }
        rq->c = NULL;
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
    rq->c = c;
    return dispatch(rq, method);
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
    if (rq->resp)
        MHD_destroy_response(rq->resp);
    if (rq->body.data)
        sodium_memzero(rq->body.data, rq->body.alloc); /* it may hold a password */
    reel_buf_free(&rq->body);
    reel_http_acl_clear(&rq->acl);
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
    h->cfg.clock = h->clock;
    if (h->cfg.session_idle_ns <= 0)
        h->cfg.session_idle_ns = 12 * 3600 * REEL_NS_PER_SEC;
    if (h->cfg.session_max_ns <= 0)
        h->cfg.session_max_ns = 7 * 86400 * REEL_NS_PER_SEC;
    if (!h->cfg.threads)
        h->cfg.threads = 2;
    if (h->cfg.token_max_ns <= 0)
        h->cfg.token_max_ns = REEL_TOKEN_MAX_DAYS * 86400 * REEL_NS_PER_SEC;
    if (h->cfg.token_default_ns <= 0)
        h->cfg.token_default_ns = REEL_TOKEN_DEFAULT_DAYS * 86400 * REEL_NS_PER_SEC;
    if (h->cfg.token_default_ns > h->cfg.token_max_ns)
        h->cfg.token_default_ns = h->cfg.token_max_ns;
    if (!h->cfg.workers)
        h->cfg.workers = WORKERS;
    if (!h->cfg.conn_max)
        h->cfg.conn_max = CONN_MAX;
    if (!h->cfg.downloads_max)
        h->cfg.downloads_max = REEL_HTTP_DOWNLOADS_MAX;
    if (!h->cfg.downloads_per_user)
        h->cfg.downloads_per_user = REEL_HTTP_DOWNLOADS_PER_USER;
    if (h->cfg.downloads_per_user > h->cfg.downloads_max)
        h->cfg.downloads_per_user = h->cfg.downloads_max;
    if (!h->cfg.playback_mem_max)
        h->cfg.playback_mem_max = REEL_HTTP_PLAYBACK_MEM;
    if (!h->cfg.live_viewers_max)
        h->cfg.live_viewers_max = REEL_HTTP_LIVE_VIEWERS_MAX;
    if (!h->cfg.live_viewers_per_camera)
        h->cfg.live_viewers_per_camera = REEL_HTTP_LIVE_VIEWERS_PER_CAMERA;
    snprintf(h->listen, sizeof(h->listen), "%s", cfg->listen ? cfg->listen : REEL_HTTP_DEFAULT_LISTEN);
    pthread_mutex_init(&h->stores.mu, NULL);
    pthread_mutex_init(&h->users.mu, NULL);
    pthread_mutex_init(&h->admin_mu, NULL);
    int r;
    if (!cfg->datadir || !realpath(cfg->datadir, h->datadir)) {
        r = reel_err_set(err, ENOENT, "data dir %s: %s", cfg->datadir ? cfg->datadir : "(null)", strerror(errno));
        goto fail;
    }
    r = parse_listen(h->listen, &h->addr, &h->addrlen, err);
    if (r < 0)
        goto fail;
    if (cfg->ntrusted_proxies > REEL_TRUSTED_PROXY_MAX) {
        r = reel_err_set(err, EINVAL, "at most %d trusted proxies", REEL_TRUSTED_PROXY_MAX);
        goto fail;
    }
    for (size_t i = 0; i < cfg->ntrusted_proxies; i++) {
        if (reel_netmask_parse(cfg->trusted_proxies[i], &h->trusted[i]) < 0) {
            r = reel_err_set(err, EINVAL, "trusted proxy '%s': expected ADDR or ADDR/PREFIX", cfg->trusted_proxies[i]);
            goto fail;
        }
    }
    h->ntrusted = cfg->ntrusted_proxies;
    h->cfg.trusted_proxies = NULL; /* parsed above; the strings are not kept */
    h->cfg.ntrusted_proxies = 0;
    if (cfg->nhosts > REEL_HTTP_HOSTS_MAX) {
        r = reel_err_set(err, EINVAL, "at most %d host names", REEL_HTTP_HOSTS_MAX);
        goto fail;
    }
    for (size_t i = 0; i < cfg->nhosts; i++) {
        if (!reel_http_host_name_valid(cfg->hosts[i])) {
            r = reel_err_set(err, EINVAL, "host name '%s': expected letters, digits, '-' and '.' (or *)",
                             cfg->hosts[i]);
            goto fail;
        }
        snprintf(h->hosts[i], sizeof(h->hosts[i]), "%s", cfg->hosts[i]);
        h->host_ptrs[i] = h->hosts[i];
    }
    h->cfg.hosts = h->host_ptrs;
    if (!cfg->tls_cert_pem != !cfg->tls_key_pem) {
        r = reel_err_set(err, EINVAL, "TLS needs both a certificate and a key");
        goto fail;
    }
    if (cfg->tls_cert_pem) {
        h->tls_cert = strdup(cfg->tls_cert_pem);
        h->tls_key = strdup(cfg->tls_key_pem);
        if (!h->tls_cert || !h->tls_key) {
            r = reel_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            r = reel_err_set(err, ENOTSUP, "this libmicrohttpd was built without TLS");
            goto fail;
        }
    }
    h->cfg.tls_cert_pem = h->tls_cert;
    h->cfg.tls_key_pem = h->tls_key;
    struct reel_ratelimit_cfg user_rl = { .threshold = REEL_LOGIN_USER_THRESHOLD,
                                          .base_ns = REEL_LOGIN_USER_BASE_S * REEL_NS_PER_SEC,
                                          .max_ns = REEL_LOGIN_USER_MAX_S * REEL_NS_PER_SEC },
                              addr_rl = { .threshold = REEL_LOGIN_ADDR_THRESHOLD };
    if (reel_ratelimit_new(&h->rl_user, &user_rl, h->clock) < 0 ||
        reel_ratelimit_new(&h->rl_addr, &addr_rl, h->clock) < 0 ||
        reel_http_playback_new(&h->playback, h->cfg.downloads_max, h->cfg.downloads_per_user,
                               h->cfg.playback_mem_max) < 0 ||
        reel_http_streams_new(&h->streams, h->cfg.live_viewers_max, h->cfg.live_viewers_per_camera) < 0 ||
        reel_tlcache_new(&h->tlcache) < 0) {
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    r = reel_redact_jobs_new(&h->redact, h->datadir, h->clock, h->cfg.log, err);
    if (r < 0)
        goto fail;
    if (h->cfg.events && (r = reel_http_sse_new(&h->sse, h->cfg.events)) < 0) {
        reel_err_set(err, -r, "the live event stream: %s", strerror(-r));
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
    if (!h->audit) {
        r = reel_audit_sink_open(&h->audit, h->datadir, h->clock, h->cfg.log, 0, err);
        if (r < 0)
            return r;
    }
    if (!h->deadline) {
        r = reel_http_deadline_new(&h->deadline, 2 * h->cfg.conn_max, REEL_HTTP_REQUEST_DEADLINE_S * REEL_NS_PER_SEC,
                                   h->clock, on_deadline, h);
        if (r == 0)
            r = reel_http_deadline_start(h->deadline);
        if (r < 0)
            return reel_err_set(err, -r, "http request deadlines: %s", strerror(-r));
    }
    if (!h->work) {
        r = reel_http_work_new(&h->work, h->cfg.workers, WORK_QUEUE_MAX);
        if (r < 0)
            return reel_err_set(err, -r, "http workers: %s", strerror(-r));
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (h->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* libmicrohttpd copies neither: the PEM texts must (and do) outlive
     * the daemon */
    struct MHD_OptionItem tls_opts[] = {
        { MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key },
        { MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert },
        { MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES },
        { MHD_OPTION_END, 0, NULL },
    };
    if (h->tls_cert)
        flags |= MHD_USE_TLS;
    else
        tls_opts[0].option = MHD_OPTION_END;
    errno = 0;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&h->addr,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)h->cfg.threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)h->cfg.conn_max,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            (unsigned int)(h->cfg.conn_max < CONN_PER_ADDR_MAX ? h->cfg.conn_max : CONN_PER_ADDR_MAX),
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
                            MHD_OPTION_ARRAY, tls_opts,
                            MHD_OPTION_END);
    if (!h->d) {
        int e = errno ? errno : EADDRINUSE;
        if (h->tls_cert && e != EADDRINUSE && e != EACCES && e != EADDRNOTAVAIL)
            return reel_err_set(err, e, "cannot listen on %s with TLS (see the line before: the certificate or key "
                                "may not suit GnuTLS): %s", h->listen, strerror(e));
        return reel_err_set(err, e, "cannot listen on %s: %s", h->listen, strerror(e));
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    /* the timeline's span cache seeds itself meanwhile; failing that, the first query does */
    (void)reel_tlcache_warm(h->tlcache, h->datadir, h->clock);
    return 0;
}

uint16_t reel_http_port(const struct reel_http *h) { return h->port; }

void reel_http_url(const struct reel_http *h, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (h->addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)&h->addr)->sin6_addr, host, sizeof(host));
        snprintf(buf, cap, "%s://[%s]:%u/", h->tls_cert ? "https" : "http", host, h->port);
    } else {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)&h->addr)->sin_addr, host, sizeof(host));
        snprintf(buf, cap, "%s://%s:%u/", h->tls_cert ? "https" : "http", host, h->port);
    }
}

void reel_http_free(struct reel_http *h)
{
    if (!h)
        return;
    /* The workers first: each resumes its connection, which the daemon
     * then closes (it must not stop with suspended connections); after
     * this, offloaded requests are answered 503 at once. */
    reel_http_work_stop(h->work);
    reel_http_streams_stop(h->streams);  /* resumes the live responses waiting */
    if (h->d)
        MHD_stop_daemon(h->d);
    reel_audit_sink_close(h->audit);    /* after the daemon: live views end (and are logged) as it stops */
    reel_http_work_free(h->work);
    reel_http_playback_free(h->playback);
    reel_http_streams_free(h->streams);
    reel_http_sse_free(h->sse);         /* after the daemon: every event stream is closed */
    reel_tlcache_free(h->tlcache);
    reel_redact_jobs_free(h->redact);   /* cancels and joins a running job */
    reel_http_deadline_free(h->deadline); /* after the daemon: it gave every slot back */
    for (size_t i = 0; i < h->stores.n; i++)
        reel_store_close(h->stores.idle[i]);
    for (size_t i = 0; i < h->users.n; i++)
        reel_users_close(h->users.idle[i]);
    pthread_mutex_destroy(&h->stores.mu);
    pthread_mutex_destroy(&h->users.mu);
    pthread_mutex_destroy(&h->admin_mu);
    reel_ratelimit_free(h->rl_user);
    reel_ratelimit_free(h->rl_addr);
    if (h->tls_key) {
        sodium_memzero(h->tls_key, strlen(h->tls_key));
        free(h->tls_key);
    }
    free(h->tls_cert);
    free(h);
}

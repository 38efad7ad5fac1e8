/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The camera configuration API end to end through a real server on a
 * loopback port, with a real data directory, and a stand-in recorder
 * (struct reel_http_recorder) that records each camera_changed call, what
 * the camera's row looked like at that moment, and answers as the test
 * says: 201/200 when it applies, 503 when it times out, 202 without a
 * recorder; DELETE stops the camera (row disabled at the first call) before
 * it removes it. The server runs on a fake clock: the time a handler sees
 * is the injected one. Also: the admin rule by role (a viewer, operator or
 * auditor gets 403 on every camera change and can still read), the
 * read snapshot of view.mp4 (reel_api_view_read) while a writer commits,
 * 500 answers that carry a reference and no path (the detail in the log),
 * and the Host check (421 before authentication) with the full CSP.
 */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "api/api.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/timefmt.h"
#include "http/http.h"
#include "http/parse.h"
#include "http/users.h"
#include "mp4/mp4.h"
#include "mp4/range.h"
#include "store/store.h"

#define CALLS_MAX 16

struct fake_recorder {
    struct reel_http_recorder rec;
    const char *datadir;
    pthread_mutex_t mu;
    int answer;                         /* what camera_changed returns */
    int ncalls;
    char names[CALLS_MAX][REEL_NAME_MAX];
    int row_state[CALLS_MAX];           /* at the call: 1 enabled, 0 disabled, -1 no row */
};

static int fake_changed(void *opaque, const char *name, struct reel_err *err)
{
    struct fake_recorder *f = opaque;
    struct reel_store *s;
    struct reel_store_cfg cfg = { .datadir = f->datadir, .mode = REEL_STORE_READ };
    int state = -1;
    if (reel_store_open(&s, &cfg, err) == 0) {
        struct reel_camera c;
        if (reel_store_camera_get(s, name, &c, err) == 0)
            state = !c.disabled;
        reel_store_close(s);
    }
    pthread_mutex_lock(&f->mu);
    if (f->ncalls < CALLS_MAX) {
        snprintf(f->names[f->ncalls], REEL_NAME_MAX, "%s", name);
        f->row_state[f->ncalls] = state;
        f->ncalls++;
    }
    int r = f->answer;
    pthread_mutex_unlock(&f->mu);
    if (r < 0)
        return reel_err_set(err, -r, "stand-in recorder says %s (storage dir %s/storage)", strerror(-r),
                            f->datadir); /* a path, as the recorder's errors may hold */
    return 0;
}

static int fake_status(void *opaque, int64_t camera_id, struct reel_camera_status *ret)
{
    (void)opaque;
    memset(ret, 0, sizeof(*ret));
    ret->camera_id = camera_id;
    ret->connected = true;
    snprintf(ret->state, sizeof(ret->state), "recording");
    ret->fps = 25;
    return 0;
}

struct fixture {
    char tmp[64], dir[96];
    char token[REEL_SECRET_MAX];
    struct reel_clock_fake clock;
    struct fake_recorder fr;
    struct reel_http *h;
    uint16_t port;
    int logfd;                          /* the server's log (a file in tmp) */
    struct reel_logger log;
};

static int start_server(struct fixture *f, bool with_recorder)
{
    reel_http_free(f->h);
    struct reel_http_cfg cfg = { .datadir = f->dir, .listen = "127.0.0.1:0", .clock = &f->clock.clock,
                                 .recorder = with_recorder ? &f->fr.rec : NULL, .log = &f->log };
    struct reel_err err = { "" };
    if (reel_http_new(&f->h, &cfg, &err) < 0 || reel_http_start(f->h, &err) < 0)
        return -1;
    f->port = reel_http_port(f->h);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/reel-http-api-XXXXXX");
    if (!mkdtemp(f->tmp))
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/data", f->tmp);
    char logpath[128];
    snprintf(logpath, sizeof(logpath), "%s/server.log", f->tmp);
    f->logfd = open(logpath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (f->logfd < 0)
        return -1;
    f->log = (struct reel_logger){ .fd = f->logfd, .min = REEL_LOG_INFO };
    struct reel_err err = { "" };
    if (reel_store_init(f->dir, &err) < 0)
        return -1;
    /* 2026-11-26T23:00:00Z on the wall */
    reel_clock_fake_init(&f->clock, 1000 * REEL_NS_PER_SEC, INT64_C(1795734000) * REEL_NS_PER_SEC);
    struct reel_users *u;
    if (reel_users_open(&u, f->dir, &err) < 0 || reel_users_add(u, "admin", "password123", &err) < 0 ||
        reel_token_add(u, "t", "admin", reel_clock_wall(&f->clock.clock), 0, f->token, &err) < 0)
        return -1;
    reel_users_close(u);
    f->fr.rec = (struct reel_http_recorder){ .camera_changed = fake_changed, .camera_status = fake_status,
                                             .opaque = &f->fr };
    f->fr.datadir = f->dir;
    pthread_mutex_init(&f->fr.mu, NULL);
    if (start_server(f, true) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    reel_http_free(f->h);
    close(f->logfd);
    pthread_mutex_destroy(&f->fr.mu);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->tmp);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* One request on a fresh connection with token (NULL: anonymous); the
 * status, and the body into out. When ret_headers, the response's headers
 * too. */
static int request_full(struct fixture *f, const char *token, const char *method, const char *path,
                        const char *body, char *out, size_t cap, char *ret_headers, size_t hcap)
{
    bool anonymous = token == NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = { .tv_sec = 20 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char req[4096];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, anonymous ? "" : "Authorization: Bearer ", anonymous ? "" : token,
                     anonymous ? "" : "\r\n", body ? strlen(body) : 0, body ? body : "");
    assert_true(n > 0 && (size_t)n < sizeof(req));
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    static char resp[65536];
    size_t got = 0;
    ssize_t k;
    while (got + 1 < sizeof(resp) && (k = recv(fd, resp + got, sizeof(resp) - 1 - got, 0)) > 0)
        got += (size_t)k;
    resp[got] = '\0';
    close(fd);
    int status = 0;
    assert_int_equal(sscanf(resp, "HTTP/1.1 %d", &status), 1);
    const char *b = strstr(resp, "\r\n\r\n");
    snprintf(out, cap, "%s", b ? b + 4 : "");
    if (ret_headers)
        snprintf(ret_headers, hcap, "%.*s", b ? (int)(b - resp) : 0, resp);
    if (ret_headers && b) /* the body's length as received (binary: not as a string) */
        snprintf(ret_headers + strlen(ret_headers), hcap - strlen(ret_headers), "\r\nX-Received: %zu",
                 got - (size_t)(b + 4 - resp));
    return status;
}

static int request_as(struct fixture *f, bool anonymous, const char *method, const char *path, const char *body,
                      char *out, size_t cap)
{
    return request_full(f, anonymous ? NULL : f->token, method, path, body, out, cap, NULL, 0);
}

static int request(struct fixture *f, const char *method, const char *path, const char *body, char *out, size_t cap)
{
    return request_as(f, false, method, path, body, out, cap);
}

static int row_enabled(struct fixture *f, const char *name, struct reel_camera *ret)
{
    struct reel_store *s;
    struct reel_store_cfg cfg = { .datadir = f->dir, .mode = REEL_STORE_READ };
    struct reel_err err = { "" };
    assert_int_equal(reel_store_open(&s, &cfg, &err), 0);
    struct reel_camera c;
    int r = reel_store_camera_get(s, name, &c, &err) == 0 ? !c.disabled : -1;
    if (ret && r >= 0)
        *ret = c;
    reel_store_close(s);
    return r;
}

static void test_camera_api_with_recorder(void **state)
{
    struct fixture *f = *state;
    char body[8192];
    struct fake_recorder *fr = &f->fr;
    /* add: saved, then applied */
    assert_int_equal(request(f, "POST", "/api/cameras",
                             "{\"name\":\"c1\",\"url\":\"rtsp://127.0.0.1:1/x\",\"password\":\"sekrit-pw\"}", body,
                             sizeof(body)),
                     201);
    assert_non_null(strstr(body, "\"has_password\":true"));
    assert_null(strstr(body, "sekrit"));
    assert_int_equal(fr->ncalls, 1);
    assert_string_equal(fr->names[0], "c1");
    assert_int_equal(fr->row_state[0], 1); /* the row was written before the call */
    /* the list: live status from the recorder */
    assert_int_equal(request(f, "GET", "/api/cameras", NULL, body, sizeof(body)), 200);
    assert_non_null(strstr(body, "\"name\":\"c1\",\"enabled\":true,\"state\":\"recording\",\"connected\":true"));
    /* disable: the row first, then the recorder; shown as disabled */
    assert_int_equal(request(f, "POST", "/api/cameras/c1/disable", NULL, body, sizeof(body)), 200);
    assert_int_equal(fr->ncalls, 2);
    assert_int_equal(fr->row_state[1], 0);
    assert_int_equal(request(f, "GET", "/api/cameras", NULL, body, sizeof(body)), 200);
    assert_non_null(strstr(body, "\"enabled\":false,\"state\":\"disabled\""));
    assert_int_equal(request(f, "POST", "/api/cameras/c1/enable", NULL, body, sizeof(body)), 200);
    assert_int_equal(fr->row_state[2], 1);
    /* a recorder that does not apply in time: 503, the row saved */
    fr->answer = -ETIMEDOUT;
    assert_int_equal(request(f, "PATCH", "/api/cameras/c1", "{\"udp\":true}", body, sizeof(body)), 503);
    assert_non_null(strstr(body, "within 5 s"));
    assert_null(strstr(body, f->tmp)); /* the recorder's reason is logged, not answered */
    struct reel_camera c;
    assert_int_equal(row_enabled(f, "c1", &c), 1);
    assert_true(c.udp);
    assert_true(c.has_password);
    /* a delete whose stop times out leaves the camera disabled, not removed */
    assert_int_equal(request(f, "DELETE", "/api/cameras/c1", NULL, body, sizeof(body)), 503);
    assert_int_equal(row_enabled(f, "c1", NULL), 0);
    /* delete: stopped (row disabled at the call), removed, then forgotten */
    fr->answer = 0;
    assert_int_equal(request(f, "POST", "/api/cameras/c1/enable", NULL, body, sizeof(body)), 200);
    int before = fr->ncalls;
    assert_int_equal(request(f, "DELETE", "/api/cameras/c1", NULL, body, sizeof(body)), 200);
    assert_non_null(strstr(body, "\"deleted\":\"c1\""));
    assert_int_equal(fr->ncalls, before + 2);
    assert_int_equal(fr->row_state[before], 0);
    assert_int_equal(fr->row_state[before + 1], -1);
    assert_int_equal(row_enabled(f, "c1", NULL), -1);
    /* every call named the camera */
    for (int i = 0; i < fr->ncalls; i++)
        assert_string_equal(fr->names[i], "c1");
}

static void test_camera_api_without_recorder(void **state)
{
    struct fixture *f = *state;
    char body[8192];
    assert_int_equal(start_server(f, false), 0);
    assert_int_equal(request(f, "POST", "/api/cameras", "{\"name\":\"c2\",\"url\":\"rtsp://cam.example/s\"}", body,
                             sizeof(body)),
                     202);
    assert_non_null(strstr(body, "\"note\":"));
    assert_int_equal(row_enabled(f, "c2", NULL), 1);
    assert_int_equal(request(f, "POST", "/api/cameras/c2/disable", NULL, body, sizeof(body)), 202);
    assert_int_equal(row_enabled(f, "c2", NULL), 0);
    assert_int_equal(request(f, "DELETE", "/api/cameras/c2", NULL, body, sizeof(body)), 202);
    assert_int_equal(row_enabled(f, "c2", NULL), -1);
    assert_int_equal(f->fr.ncalls, 0);
}

/* Handlers read the injected clock: the default range of spans ends at the
 * fake wall time, and moves when it does. */
static void test_handlers_read_injected_clock(void **state)
{
    struct fixture *f = *state;
    char body[8192];
    assert_int_equal(request(f, "POST", "/api/cameras", "{\"name\":\"c3\",\"url\":\"rtsp://127.0.0.1:1/x\"}", body,
                             sizeof(body)),
                     201);
    assert_int_equal(request(f, "GET", "/api/cameras/c3/spans", NULL, body, sizeof(body)), 200);
    assert_non_null(strstr(body, "\"end\":\"2026-11-26T23:00:00.000Z\""));
    reel_clock_fake_advance(&f->clock, 3600 * REEL_NS_PER_SEC);
    assert_int_equal(request(f, "GET", "/api/cameras/c3/spans", NULL, body, sizeof(body)), 200);
    assert_non_null(strstr(body, "\"end\":\"2026-11-27T00:00:00.000Z\""));
}

/* The dispatcher's order: nothing behind the sign-in is told to an
 * anonymous caller, not even whether a route exists or which methods it
 * has; public routes answer a wrong method at once. */
static void test_dispatch_order(void **state)
{
    struct fixture *f = *state;
    char body[8192];
    const char *hidden[][2] = { { "GET", "/api/nope" }, { "POST", "/api/cameras" }, { "PUT", "/api/cameras" },
                                { "DELETE", "/api/cameras/a.b" }, { "PATCH", "/api/cameras/x" },
                                { "GET", "/api/cameras/x/config" }, { "GET", "/api/cameras/" } };
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
        assert_int_equal(request_as(f, true, hidden[i][0], hidden[i][1], NULL, body, sizeof(body)), 401);
    assert_int_equal(request_as(f, true, "POST", "/api/health", NULL, body, sizeof(body)), 405);
    assert_int_equal(request_as(f, true, "GET", "/api/login", NULL, body, sizeof(body)), 405);
    assert_int_equal(request_as(f, true, "GET", "/api/health", NULL, body, sizeof(body)), 200);
    /* signed in: 404, 405, 400 for a bad name, in that order of checks */
    assert_int_equal(request(f, "GET", "/api/nope", NULL, body, sizeof(body)), 404);
    assert_int_equal(request(f, "GET", "/api/cameras/", NULL, body, sizeof(body)), 404);
    assert_int_equal(request(f, "PUT", "/api/cameras", NULL, body, sizeof(body)), 405);
    assert_int_equal(request(f, "DELETE", "/api/cameras/a.b", NULL, body, sizeof(body)), 400);
    assert_non_null(strstr(body, "camera name"));
    assert_int_equal(request(f, "GET", "/api/a/b/c/d/e/f/g/h/i", NULL, body, sizeof(body)), 404);
    assert_int_equal(request(f, "GET", "/api/cameras/%zz/spans", NULL, body, sizeof(body)), 400);
}

/* Only an administrator may change cameras: an operator, a viewer and an
 * auditor get 403 on every change (and the row and the recorder are left
 * alone), and can still list the cameras and read footage. */
static void test_roles_admin_only(void **state)
{
    struct fixture *f = *state;
    char body[8192];
    assert_int_equal(request(f, "POST", "/api/cameras", "{\"name\":\"c5\",\"url\":\"rtsp://127.0.0.1:1/x\"}", body,
                             sizeof(body)),
                     201);
    int calls = f->fr.ncalls;
    static const char *const roles[] = { "viewer", "operator", "auditor" };
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        struct reel_users *u;
        struct reel_err err = { "" };
        char tok[REEL_SECRET_MAX];
        assert_int_equal(reel_users_open(&u, f->dir, &err), 0);
        assert_int_equal(reel_users_add(u, roles[i], "password123", &err), 0);
        assert_int_equal(reel_users_set_role(u, roles[i], roles[i], &err), 0);
        /* issue 14: a new user sees no camera until given some */
        const char *list[] = { "c5" };
        assert_int_equal(reel_users_set_cameras(u, roles[i], false, list, 1, &err), 0);
        assert_int_equal(reel_token_add(u, roles[i], roles[i], reel_clock_wall(&f->clock.clock), 0, tok, &err), 0);
        reel_users_close(u);
        bool auditor = strcmp(roles[i], "auditor") == 0;
        const char *changes[][3] = { { "POST", "/api/cameras", "{\"name\":\"c6\",\"url\":\"rtsp://127.0.0.1:1/y\"}" },
                                     { "PATCH", "/api/cameras/c5", "{\"udp\":true}" },
                                     { "DELETE", "/api/cameras/c5", NULL },
                                     { "POST", "/api/cameras/c5/disable", NULL },
                                     { "POST", "/api/cameras/c5/enable", NULL },
                                     { "GET", "/api/cameras/c5/config", NULL } };
        for (size_t k = 0; k < sizeof(changes) / sizeof(changes[0]); k++) {
            int st = request_full(f, tok, changes[k][0], changes[k][1], changes[k][2], body, sizeof(body), NULL, 0);
            if (st != 403)
                fail_msg("%s: %s %s: %d %s", roles[i], changes[k][0], changes[k][1], st, body);
            assert_non_null(strstr(body, "administrator"));
        }
        /* issue 14: an auditor sees no camera and has no playback right */
        assert_int_equal(request_full(f, tok, "GET", "/api/cameras", NULL, body, sizeof(body), NULL, 0), 200);
        if (auditor)
            assert_null(strstr(body, "\"name\":\"c5\""));
        else
            assert_non_null(strstr(body, "\"name\":\"c5\""));
        assert_int_equal(request_full(f, tok, "GET", "/api/cameras/c5/spans", NULL, body, sizeof(body), NULL, 0),
                         auditor ? 403 : 200);
        if (auditor)
            assert_non_null(strstr(body, "the auditor role lacks the playback right"));
    }
    struct reel_camera c;
    assert_int_equal(row_enabled(f, "c5", &c), 1);
    assert_false(c.udp);
    assert_int_equal(row_enabled(f, "c6", NULL), -1);
    assert_int_equal(f->fr.ncalls, calls);
    /* and the administrator still may */
    assert_int_equal(request(f, "PATCH", "/api/cameras/c5", "{\"udp\":true}", body, sizeof(body)), 200);
    /* issue 11: the hostile-camera exceptions, off by default, stored */
    assert_non_null(strstr(body, "\"allow_redirect\":false"));
    assert_non_null(strstr(body, "\"allow_basic\":false"));
    assert_int_equal(request(f, "PATCH", "/api/cameras/c5", "{\"allow_redirect\":true,\"allow_basic\":true}", body,
                             sizeof(body)), 200);
    assert_non_null(strstr(body, "\"allow_redirect\":true"));
    assert_int_equal(row_enabled(f, "c5", &c), 1);
    assert_true(c.allow_redirect);
    assert_true(c.allow_basic);
    assert_int_equal(request(f, "PATCH", "/api/cameras/c5", "{\"allow_basic\":1}", body, sizeof(body)), 400);
}

/* Issue 14: a viewer with a camera list sees only those cameras: the others
 * are left out of GET /api/cameras and their {camera} routes answer exactly
 * like an unknown camera (same status, same body); "all" shows every one;
 * a viewer may not export-level or admin-level things (403 naming the
 * right). */
static void test_camera_lists(void **state)
{
    struct fixture *f = *state;
    char body[8192], unknown[8192];
    assert_int_equal(request(f, "POST", "/api/cameras", "{\"name\":\"seen\",\"url\":\"rtsp://127.0.0.1:1/x\"}", body,
                             sizeof(body)), 201);
    assert_int_equal(request(f, "POST", "/api/cameras", "{\"name\":\"hidden\",\"url\":\"rtsp://127.0.0.1:1/y\"}",
                             body, sizeof(body)), 201);
    struct reel_users *u;
    struct reel_err err = { "" };
    char tok[REEL_SECRET_MAX];
    assert_int_equal(reel_users_open(&u, f->dir, &err), 0);
    assert_int_equal(reel_users_add(u, "vera", "password123", &err), 0);
    assert_int_equal(reel_users_set_role(u, "vera", "viewer", &err), 0);
    assert_int_equal(reel_token_add(u, "t", "vera", reel_clock_wall(&f->clock.clock), 0, tok, &err), 0);
    /* no list yet: nothing */
    assert_int_equal(request_full(f, tok, "GET", "/api/cameras", NULL, body, sizeof(body), NULL, 0), 200);
    assert_null(strstr(body, "\"name\":\"seen\""));
    const char *list[] = { "seen" };
    assert_int_equal(reel_users_set_cameras(u, "vera", false, list, 1, &err), 0);
    const char *bad[] = { "nosuch" };
    assert_int_equal(reel_users_set_cameras(u, "vera", false, bad, 1, &err), -ENOENT);
    assert_int_equal(request_full(f, tok, "GET", "/api/cameras", NULL, body, sizeof(body), NULL, 0), 200);
    assert_non_null(strstr(body, "\"name\":\"seen\""));
    assert_null(strstr(body, "hidden"));
    assert_int_equal(request_full(f, tok, "GET", "/api/cameras/seen/spans", NULL, body, sizeof(body), NULL, 0), 200);
    static const char *const paths[] = { "spans", "view.mp4", "live.mp4", "snapshot.jpg" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char p1[128], p2[128];
        snprintf(p1, sizeof(p1), "/api/cameras/hidden/%s", paths[i]);
        snprintf(p2, sizeof(p2), "/api/cameras/hidden/%s", paths[i]);
        memcpy(p2 + 13, "nosuch", 6); /* "/api/cameras/nosuch/..." */
        assert_int_equal(request_full(f, tok, "GET", p1, NULL, body, sizeof(body), NULL, 0), 404);
        /* the unknown camera's answer to the same caller, with its own name */
        assert_int_equal(request_full(f, tok, "GET", p2, NULL, unknown, sizeof(unknown), NULL, 0), 404);
        assert_non_null(strstr(body, "no camera 'hidden'"));
        assert_non_null(strstr(unknown, "no camera 'nosuch'"));
    }
    assert_int_equal(request_full(f, tok, "GET", "/api/users", NULL, body, sizeof(body), NULL, 0), 403);
    assert_non_null(strstr(body, "admin right"));
    /* "all" */
    assert_int_equal(reel_users_set_cameras(u, "vera", true, NULL, 0, &err), 0);
    reel_users_close(u);
    assert_int_equal(request_full(f, tok, "GET", "/api/cameras", NULL, body, sizeof(body), NULL, 0), 200);
    assert_non_null(strstr(body, "\"name\":\"hidden\""));
    /* the admin's view of the list through the API */
    assert_int_equal(request(f, "PATCH", "/api/users/vera", "{\"cameras\":[\"seen\"]}", body, sizeof(body)), 200);
    assert_int_equal(request(f, "GET", "/api/users", NULL, body, sizeof(body)), 200);
    assert_non_null(strstr(body, "\"cameras\":[\"seen\"]"));
    assert_int_equal(request(f, "PATCH", "/api/users/vera", "{\"cameras\":[\"nosuch\"]}", body, sizeof(body)), 400);
    assert_int_equal(request(f, "PATCH", "/api/users/vera", "{\"cameras\":\"some\"}", body, sizeof(body)), 400);
    assert_int_equal(request(f, "PATCH", "/api/users/vera", "{\"cameras\":[\"a/b\"]}", body, sizeof(body)), 400);
    assert_int_equal(request_full(f, tok, "GET", "/api/cameras/hidden/spans", NULL, body, sizeof(body), NULL, 0), 404);
}

/* ---- the read snapshot of view.mp4 ---- */

#define WALL0 (INT64_C(1795734000) * REEL_NS_PER_SEC) /* the fixture's wall time */

/* A recorder writing camera "v1" through the store, in this process, on its
 * own fake clock; every append ends with a checkpoint (reel_store_sync), so
 * that a reader sees the open recording grow. */
struct writer {
    struct reel_clock_fake clock;
    struct reel_store *s;
    struct reel_run *run;
    int64_t cam, entry;
    uint32_t next;
};

static void writer_open(struct writer *w, struct fixture *f)
{
    memset(w, 0, sizeof(*w));
    reel_clock_fake_init(&w->clock, 1000 * REEL_NS_PER_SEC, WALL0 - 600 * REEL_NS_PER_SEC);
    struct reel_store_cfg cfg = { .datadir = f->dir, .mode = REEL_STORE_RECORD, .clock = &w->clock.clock,
                                  .rotate_ns = 3600 * REEL_NS_PER_SEC };
    struct reel_err err = { "" };
    if (reel_store_open(&w->s, &cfg, &err) < 0)
        fail_msg("open: %s", err.msg);
    struct reel_camera cam = { 0 };
    snprintf(cam.name, sizeof(cam.name), "v1");
    snprintf(cam.url, sizeof(cam.url), "rtsp://127.0.0.1:1/v1");
    if (reel_store_camera_add(w->s, &cam, NULL, &err) < 0)
        fail_msg("camera: %s", err.msg);
    w->cam = cam.id;
    uint8_t box[90] = { 0 };
    reel_wr_be32(box, sizeof(box));
    memcpy(box + 4, "avc1", 4);
    reel_wr_be16(box + 14, 1);
    if (reel_store_sample_entry_put(w->s, box, sizeof(box), 320, 180, "avc1.640015", &w->entry, &err) < 0)
        fail_msg("entry: %s", err.msg);
    if (reel_run_open(w->s, w->cam, &w->run, &err) < 0)
        fail_msg("run: %s", err.msg);
}

/* 0, or -1 with the reason printed (callable from another thread). */
static int writer_append_ok(struct writer *w, unsigned n)
{
    struct reel_err err = { "" };
    for (unsigned k = 0; k < n; k++, w->next++) {
        uint8_t fr[32] = { 0 };
        reel_wr_be32(fr, sizeof(fr) - 4);
        fr[4] = w->next % 15 == 0 ? 0x65 : 0x41;
        reel_wr_be32(fr + 5, w->next);
        struct reel_frame_in in = { fr, sizeof(fr), 1000 + (int64_t)w->next * 3000, w->next % 15 == 0, w->entry };
        if (reel_run_frame(w->run, &in, &err) < 0) {
            print_error("frame %u: %s\n", w->next, err.msg);
            return -1;
        }
        reel_clock_fake_advance(&w->clock, REEL_NS_PER_SEC / 30);
    }
    if (reel_store_sync(w->s, &err) < 0) {
        print_error("sync: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void writer_append(struct writer *w, unsigned n) { assert_int_equal(writer_append_ok(w, n), 0); }

static void writer_close(struct writer *w)
{
    reel_run_close(w->run);
    reel_store_close(w->s);
}

static struct reel_store *reader_ok(struct fixture *f)
{
    struct reel_store *s;
    struct reel_store_cfg cfg = { .datadir = f->dir, .mode = REEL_STORE_READ };
    struct reel_err err = { "" };
    if (reel_store_open(&s, &cfg, &err) < 0) {
        print_error("open: %s\n", err.msg);
        return NULL;
    }
    return s;
}

static struct reel_store *reader(struct fixture *f)
{
    struct reel_store *s = reader_ok(f);
    assert_non_null(s);
    return s;
}

static void commit_between(void *arg) { writer_append(arg, 30); }

#define VIEW_FROM90K (reel_ns_to_90k(WALL0) - 3600 * REEL_90K)
#define VIEW_TO90K (reel_ns_to_90k(WALL0) + 3600 * REEL_90K)

/* What reel_api_view_read relies on: inside a snapshot, a commit by the
 * writer between two reads is not seen, so a tag read before the commit and
 * an MP4 built after it describe the same footage; after the snapshot both
 * see it. And the handler's function leaves no transaction open. */
static void test_view_snapshot_between_reads(void **state)
{
    struct fixture *f = *state;
    struct writer w;
    writer_open(&w, f);
    writer_append(&w, 30);
    struct reel_store *s = reader(f);
    struct reel_err err = { "" };
    struct reel_view_tag t1, t2, t3;
    struct reel_mp4 *m0 = NULL, *m1 = NULL;
    assert_int_equal(reel_mp4_for_range(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &m0, &err), 0);
    assert_int_equal(reel_store_read_begin(s, &err), 0);
    assert_int_equal(reel_store_view_etag(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &t1, &err), 0);
    writer_append(&w, 30); /* committed between the two reads */
    assert_int_equal(reel_mp4_for_range(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &m1, &err), 0);
    assert_int_equal(reel_store_view_etag(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &t2, &err), 0);
    reel_store_read_end(s);
    assert_string_equal(t1.etag, t2.etag);
    assert_int_equal(reel_mp4_size(m1), reel_mp4_size(m0));
    reel_mp4_free(m1);
    /* the handler's function, with a commit between its tag and its MP4:
     * both describe the state before the commit */
    struct reel_view_tag tb;
    struct reel_mp4 *mb = NULL;
    assert_int_equal(reel_store_view_etag(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &t3, &err), 0);
    struct reel_mp4 *mref = NULL;
    assert_int_equal(reel_mp4_for_range(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &mref, &err), 0);
    assert_int_equal(reel_api_view_read(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &tb, &mb, commit_between, &w, &err), 0);
    assert_string_equal(tb.etag, t3.etag);
    assert_int_equal(reel_mp4_size(mb), reel_mp4_size(mref));
    reel_mp4_free(mb);
    reel_mp4_free(mref);
    /* the snapshot is over: the new frames are seen, and the handler's
     * function gives a tag and an MP4 of that state */
    assert_int_equal(reel_store_view_etag(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &t3, &err), 0);
    assert_string_not_equal(t1.etag, t3.etag);
    struct reel_view_tag t4;
    struct reel_mp4 *m2 = NULL;
    assert_int_equal(reel_api_view_read(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &t4, &m2, NULL, NULL, &err), 0);
    assert_string_equal(t4.etag, t3.etag);
    assert_true(reel_mp4_size(m2) > reel_mp4_size(m0));
    /* ended: a new snapshot can begin on the same handle (as after the pool) */
    assert_int_equal(reel_store_read_begin(s, &err), 0);
    reel_store_read_end(s);
    /* no footage: -ENOENT, and the snapshot ended on that path too */
    struct reel_mp4 *m3 = NULL;
    assert_int_equal(
        reel_api_view_read(s, w.cam, VIEW_FROM90K - 7200 * REEL_90K, VIEW_FROM90K, &t4, &m3, NULL, NULL, &err),
        -ENOENT);
    assert_null(m3);
    assert_int_equal(t4.recordings, 0);
    assert_int_equal(reel_store_read_begin(s, &err), 0);
    reel_store_read_end(s);
    reel_mp4_free(m0);
    reel_mp4_free(m2);
    reel_store_close(s);
    writer_close(&w);
}

/* The tag is the one handed out before (computed by src/http from the full
 * recordings, reel_http_etag), so clients' cached tags stay valid; the
 * server sends it with the MP4 of that state. */
static void test_view_etag_unchanged(void **state)
{
    struct fixture *f = *state;
    struct writer w;
    writer_open(&w, f);
    writer_append(&w, 45);
    struct reel_store *s = reader(f);
    struct reel_err err = { "" };
    struct reel_recording *recs = NULL;
    size_t n = 0;
    assert_int_equal(reel_store_recordings(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &recs, &n, &err), 0);
    assert_true(n >= 1);
    struct reel_http_etag_rec er[8];
    assert_true(n <= 8);
    int64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        er[i] = (struct reel_http_etag_rec){ recs[i].id, recs[i].bytes, recs[i].frames };
        if (recs[i].start90k + recs[i].wall_duration90k > last)
            last = recs[i].start90k + recs[i].wall_duration90k;
    }
    reel_recordings_free(recs, n);
    char old[REEL_HTTP_ETAG_MAX];
    reel_http_etag(w.cam, VIEW_FROM90K, VIEW_TO90K, er, n, old);
    struct reel_view_tag t;
    struct reel_mp4 *m = NULL;
    assert_int_equal(reel_api_view_read(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &t, &m, NULL, NULL, &err), 0);
    assert_string_equal(t.etag, old);
    assert_int_equal(t.recordings, n);
    assert_int_equal(t.last90k, last);
    uint64_t size = reel_mp4_size(m);
    reel_mp4_free(m);
    reel_store_close(s);
    char path[256], tf[40], tt[40], hdr[4096], want[128];
    static char body[65536];
    reel_time_format(VIEW_FROM90K, tf, sizeof(tf));
    reel_time_format(VIEW_TO90K, tt, sizeof(tt));
    snprintf(path, sizeof(path), "/api/cameras/v1/view.mp4?start=%s&end=%s", tf, tt);
    assert_int_equal(request_full(f, f->token, "GET", path, NULL, body, sizeof(body), hdr, sizeof(hdr)), 200);
    snprintf(want, sizeof(want), "ETag: %s\r\n", old);
    assert_non_null(strstr(hdr, want));
    snprintf(want, sizeof(want), "Content-Length: %llu\r\n", (unsigned long long)size);
    assert_non_null(strstr(hdr, want));
    writer_close(&w);
}

struct history {
    pthread_mutex_t mu;
    struct writer *w;
    struct fixture *f;
    int n;
    char etag[64][REEL_ETAG_MAX];
    uint64_t size[64];
    atomic_int done, failed;
};

/* The writer: 40 commits; after each (alone in writing, so the state is
 * still that of its commit) the tag and size of the view as it is then. */
static void *history_writer(void *arg)
{
    struct history *h = arg;
    struct reel_store *s = reader_ok(h->f);
    for (int i = 0; s && i < 40; i++) {
        struct reel_err err = { "" };
        struct reel_view_tag t;
        struct reel_mp4 *m = NULL;
        if (writer_append_ok(h->w, 5) < 0 ||
            reel_api_view_read(s, h->w->cam, VIEW_FROM90K, VIEW_TO90K, &t, &m, NULL, NULL, &err) < 0) {
            print_error("writer: %s\n", err.msg);
            h->failed = 1;
            break;
        }
        pthread_mutex_lock(&h->mu);
        snprintf(h->etag[h->n], REEL_ETAG_MAX, "%s", t.etag);
        h->size[h->n] = reel_mp4_size(m);
        h->n++;
        pthread_mutex_unlock(&h->mu);
        reel_mp4_free(m);
        usleep(20 * 1000); /* let the reader see this state, however loaded the machine */
    }
    if (!s)
        h->failed = 1;
    reel_store_close(s);
    h->done = 1;
    return NULL;
}

/* Through the server while the writer commits: every view.mp4 answered has
 * the tag and the size of one committed state (never a tag of one state on
 * the bytes of another), and its body is as long as it says. */
static void test_view_consistent_while_writing(void **state)
{
    struct fixture *f = *state;
    struct writer w;
    writer_open(&w, f);
    writer_append(&w, 15);
    static struct history h;
    memset(&h, 0, sizeof(h));
    pthread_mutex_init(&h.mu, NULL);
    h.w = &w;
    h.f = f;
    /* the state before the writer starts */
    struct reel_store *s = reader(f);
    struct reel_err err = { "" };
    struct reel_view_tag t0;
    struct reel_mp4 *m0 = NULL;
    assert_int_equal(reel_api_view_read(s, w.cam, VIEW_FROM90K, VIEW_TO90K, &t0, &m0, NULL, NULL, &err), 0);
    snprintf(h.etag[0], REEL_ETAG_MAX, "%s", t0.etag);
    h.size[0] = reel_mp4_size(m0);
    h.n = 1;
    reel_mp4_free(m0);
    reel_store_close(s);

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, history_writer, &h), 0);
    char path[256];
    char tf[40], tt[40];
    reel_time_format(VIEW_FROM90K, tf, sizeof(tf));
    reel_time_format(VIEW_TO90K, tt, sizeof(tt));
    snprintf(path, sizeof(path), "/api/cameras/v1/view.mp4?start=%s&end=%s", tf, tt);
    static char body[65536], hdr[4096];
    int answered = 0;
    static char seen[256][REEL_ETAG_MAX];
    static uint64_t seen_len[256];
    int nseen = 0;
    while (!h.done || answered < 5) {
        assert_int_equal(request_full(f, f->token, "GET", path, NULL, body, sizeof(body), hdr, sizeof(hdr)), 200);
        const char *e = strstr(hdr, "ETag: ");
        const char *cl = strstr(hdr, "Content-Length: ");
        const char *rx = strstr(hdr, "X-Received: ");
        assert_non_null(e);
        assert_non_null(cl);
        assert_non_null(rx);
        unsigned long long len = strtoull(cl + 16, NULL, 10), got = strtoull(rx + 12, NULL, 10);
        assert_int_equal(len, got);
        char tag[REEL_ETAG_MAX];
        snprintf(tag, sizeof(tag), "%.*s", (int)strcspn(e + 6, "\r\n"), e + 6);
        /* kept when it differs from the previous answer */
        if (nseen < 256 && (nseen == 0 || strcmp(seen[nseen - 1], tag) != 0 || seen_len[nseen - 1] != len)) {
            snprintf(seen[nseen], REEL_ETAG_MAX, "%s", tag);
            seen_len[nseen++] = len;
        }
        answered++;
    }
    pthread_join(th, NULL);
    assert_false(h.failed);
    int distinct = 0;
    for (int i = 0; i < nseen; i++) {
        int k = 0;
        while (k < h.n && strcmp(h.etag[k], seen[i]) != 0)
            k++;
        if (k == h.n)
            fail_msg("answer %d: tag %s is no committed state's", i, seen[i]);
        if (h.size[k] != seen_len[i])
            fail_msg("answer %d: tag %s with %llu bytes, its state has %llu", i, seen[i],
                     (unsigned long long)seen_len[i], (unsigned long long)h.size[k]);
        distinct++;
    }
    print_message("view.mp4 while writing: %d answers, %d distinct states, %d commits\n", answered, distinct, h.n);
    assert_true(distinct >= 2); /* the answers did see the footage grow */
    pthread_mutex_destroy(&h.mu);
    writer_close(&w);
}

/* A database that fails under the readers: every reader answers 500 naming
 * what failed, never 404 or a short list, and without the server's paths. */
static void test_read_errors_are_500(void **state)
{
    struct fixture *f = *state;
    char body[8192];
    assert_int_equal(request(f, "POST", "/api/cameras", "{\"name\":\"c7\",\"url\":\"rtsp://127.0.0.1:1/x\"}", body,
                             sizeof(body)),
                     201);
    assert_int_equal(request(f, "GET", "/api/cameras", NULL, body, sizeof(body)), 200);
    /* the recordings table goes away under the server (its pooled handles
     * stay open) */
    char path[160];
    snprintf(path, sizeof(path), "%s/reel.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, "DROP TABLE recording", NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("drop: %s", msg);
    sqlite3_close(db);
    char q[256], tf[40], tt[40];
    reel_time_format(reel_ns_to_90k(WALL0) - 3600 * REEL_90K, tf, sizeof(tf));
    reel_time_format(reel_ns_to_90k(WALL0), tt, sizeof(tt));
    const char *paths[] = { "/api/cameras", "/api/cameras/c7/spans", q };
    snprintf(q, sizeof(q), "/api/cameras/c7/view.mp4?start=%s&end=%s", tf, tt);
    const char *what[] = { "listing cameras: camera 'c7'", "timeline of 'c7'", "building the MP4 of 'c7'" };
    for (size_t i = 0; i < 3; i++) {
        int st = request(f, "GET", paths[i], NULL, body, sizeof(body));
        if (st != 500)
            fail_msg("%s: %d %s", paths[i], st, body);
        assert_null(strstr(body, what[i]));
        assert_null(strstr(body, "reel.db"));
        assert_null(strstr(body, f->tmp));
        assert_null(strchr(body, '/'));
        /* the body has a reference; the log has it with the detail */
        char ref[16];
        const char *at = strstr(body, "\"reference\":\"");
        assert_non_null(at);
        assert_int_equal(sscanf(at, "\"reference\":\"%8[0-9a-f]\"", ref), 1);
        assert_non_null(strstr(body, "internal error (reference"));
        char logtxt[16384];
        ssize_t n = pread(f->logfd, logtxt, sizeof(logtxt) - 1, 0);
        assert_true(n > 0);
        logtxt[n] = '\0';
        char *line = strstr(logtxt, ref);
        assert_non_null(line);
        while (line > logtxt && line[-1] != '\n')
            line--;
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (!strstr(line, what[i]) || !strstr(line, "reel.db"))
            fail_msg("log line of reference %s lacks the detail: %s", ref, line);
    }
    /* the recorder's error (it names a directory) on a change: logged, not answered */
    f->fr.answer = -EIO;
    int st = request(f, "PATCH", "/api/cameras/c7", "{\"udp\":true}", body, sizeof(body));
    if (st != 500)
        fail_msg("PATCH with a failing recorder: %d %s", st, body);
    assert_null(strstr(body, f->tmp));
    assert_null(strchr(body, '/'));
    f->fr.answer = 0;
}

/* One raw request (the whole text, as sent) on a fresh connection: the
 * status, and the response head and body into out. */
static int raw_request(struct fixture *f, const char *req, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = { .tv_sec = 20 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    size_t got = 0;
    ssize_t k;
    while (got + 1 < cap && (k = recv(fd, out + got, cap - 1 - got, 0)) > 0)
        got += (size_t)k;
    out[got] = '\0';
    close(fd);
    int status = 0;
    if (sscanf(out, "HTTP/1.%*d %d", &status) != 1)
        fail_msg("no status line in: %s", out);
    return status;
}

/* DNS rebinding: a Host that is no name of the server gets 421 before any
 * authentication (a valid token does not help), also for a state-changing
 * request; IP literals and localhost pass, configured names pass; HTTP/1.1
 * without Host is 400, HTTP/1.0 without it is served. Every answer has the
 * full CSP. */
static void test_host_check_and_csp(void **state)
{
    struct fixture *f = *state;
    char out[8192], req[1024];
    const char *ok_hosts[] = { "127.0.0.1", "127.0.0.1:8080", "localhost", "LOCALHOST.:1", "[::1]:80", "10.0.0.7" };
    for (size_t i = 0; i < sizeof(ok_hosts) / sizeof(ok_hosts[0]); i++) {
        snprintf(req, sizeof(req), "GET /api/cameras HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                 "Connection: close\r\n\r\n", ok_hosts[i], f->token);
        if (raw_request(f, req, out, sizeof(out)) != 200)
            fail_msg("Host %s: %s", ok_hosts[i], out);
    }
    const char *bad_hosts[] = { "evil.example", "evil.example:8080", "127.0.0.1.evil.example", "nvr.example.org" };
    for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
        snprintf(req, sizeof(req), "GET /api/cameras HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                 "Connection: close\r\n\r\n", bad_hosts[i], f->token);
        if (raw_request(f, req, out, sizeof(out)) != 421)
            fail_msg("Host %s: %s", bad_hosts[i], out);
        assert_non_null(strstr(out, "--http-host"));
        assert_non_null(strstr(out, "frame-ancestors 'none'"));
    }
    /* a login attempt through a rebound name: refused before the body counts */
    snprintf(req, sizeof(req), "POST /api/login HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\n"
             "Content-Length: 41\r\nConnection: close\r\n\r\n{\"username\":\"admin\",\"password\":\"x\"}  ");
    assert_int_equal(raw_request(f, req, out, sizeof(out)), 421);
    assert_null(strstr(out, "Set-Cookie"));
    /* unauthenticated: 421 still comes first (not 401) */
    assert_int_equal(raw_request(f, "GET /api/cameras HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
                                 out, sizeof(out)), 421);
    assert_int_equal(raw_request(f, "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", out,
                                 sizeof(out)), 421);
    assert_int_equal(raw_request(f, "GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n", out, sizeof(out)),
                     400);
    assert_int_equal(raw_request(f, "GET /api/health HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n", out,
                                 sizeof(out)), 400);
    assert_int_equal(raw_request(f, "GET /api/health HTTP/1.0\r\n\r\n", out, sizeof(out)), 200);
    assert_non_null(strstr(out, "Content-Security-Policy: default-src 'self'; media-src 'self' blob:; "
                                "frame-ancestors 'none'; "
                                "base-uri 'none'; form-action 'self'\r\n"));
    /* a configured name passes */
    reel_http_free(f->h);
    const char *names[] = { "nvr.example.org" };
    struct reel_http_cfg cfg = { .datadir = f->dir, .listen = "127.0.0.1:0", .clock = &f->clock.clock,
                                 .hosts = names, .nhosts = 1 };
    struct reel_err err = { "" };
    assert_int_equal(reel_http_new(&f->h, &cfg, &err), 0);
    assert_int_equal(reel_http_start(f->h, &err), 0);
    f->port = reel_http_port(f->h);
    assert_int_equal(raw_request(f, "GET /api/health HTTP/1.1\r\nHost: NVR.example.org:443\r\n"
                                    "Connection: close\r\n\r\n", out, sizeof(out)), 200);
    assert_int_equal(raw_request(f, "GET /api/health HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
                                 out, sizeof(out)), 421);
    /* a bad configured name is refused */
    struct reel_http *h2 = NULL;
    const char *bad[] = { "a b" };
    cfg.hosts = bad;
    assert_int_equal(reel_http_new(&h2, &cfg, &err), -EINVAL);
}

/* The storage forecast: the least a stream keeps, bounded by the disk. */
static void test_storage_forecast(void **state)
{
    (void)state;
    /* 4 Mbit/s = 500 kB/s: 200 GB keeps 200e9 / 5e5 / 86400 = 4.63 days */
    struct reel_forecast_cam c[3] = { { 4e6, 0, 0 }, { 0, 0, 0 }, { 1e6, 0, 0 } };
    assert_true(fabs(reel_api_forecast_days(c, 1, 200e9) - 4.6296) < 0.001);
    /* an unknown bitrate is left out; none known: -1 */
    assert_true(fabs(reel_api_forecast_days(c, 2, 200e9) - 4.6296) < 0.001);
    assert_true(reel_api_forecast_days(&c[1], 1, 200e9) < 0);
    assert_true(reel_api_forecast_days(c, 0, 200e9) < 0);
    /* two streams share the disk: 625 kB/s together */
    assert_true(fabs(reel_api_forecast_days(c, 3, 200e9) - 200e9 / 625e3 / 86400) < 0.001);
    /* retention by age and by size cut it; the least wins */
    c[0].retain_seconds = 2 * 86400;
    assert_true(fabs(reel_api_forecast_days(c, 1, 200e9) - 2.0) < 0.001);
    c[0].retain_bytes = (int64_t)43.2e9;   /* 43.2 GB at 500 kB/s: 1 day */
    assert_true(fabs(reel_api_forecast_days(c, 1, 200e9) - 1.0) < 0.001);
    /* a full disk with nothing free still bounds by what Reel holds */
    c[0].retain_seconds = c[0].retain_bytes = 0;
    assert_true(fabs(reel_api_forecast_days(c, 1, 43.2e9) - 1.0) < 0.001);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_camera_api_with_recorder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_camera_api_without_recorder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handlers_read_injected_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles_admin_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_camera_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_snapshot_between_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_etag_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_consistent_while_writing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_errors_are_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_check_and_csp, setup, teardown),
        cmocka_unit_test(test_storage_forecast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

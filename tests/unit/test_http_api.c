/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The camera configuration API end to end through a real server on a
 * loopback port, with a real data directory, and a stand-in recorder
 * (struct reel_http_recorder) that records each camera_changed call, what
 * the camera's row looked like at that moment, and answers as the test
 * says: 201/200 when it applies, 503 when it times out, 202 without a
 * recorder; DELETE stops the camera (row disabled at the first call) before
 * it removes it. The server runs on a fake clock: the time a handler sees
 * is the injected one.
 */
#include <errno.h>
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

#include <cmocka.h>
#include <sodium.h>

#include "base/clock.h"
#include "base/timefmt.h"
#include "http/http.h"
#include "http/users.h"
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
        return reel_err_set(err, -r, "stand-in recorder says %s", strerror(-r));
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
};

static int start_server(struct fixture *f, bool with_recorder)
{
    reel_http_free(f->h);
    struct reel_http_cfg cfg = { .datadir = f->dir, .listen = "127.0.0.1:0", .clock = &f->clock.clock,
                                 .recorder = with_recorder ? &f->fr.rec : NULL };
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
    struct reel_err err = { "" };
    if (reel_store_init(f->dir, &err) < 0)
        return -1;
    /* 2026-11-26T23:00:00Z on the wall */
    reel_clock_fake_init(&f->clock, 1000 * REEL_NS_PER_SEC, INT64_C(1795734000) * REEL_NS_PER_SEC);
    struct reel_users *u;
    if (reel_users_open(&u, f->dir, &err) < 0 || reel_users_add(u, "admin", "password123", &err) < 0 ||
        reel_token_add(u, "t", "admin", reel_clock_wall(&f->clock.clock), f->token, &err) < 0)
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
    pthread_mutex_destroy(&f->fr.mu);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->tmp);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* One request on a fresh connection (with the API token unless anonymous);
 * the status, and the body into out. */
static int request_as(struct fixture *f, bool anonymous, const char *method, const char *path, const char *body,
                      char *out, size_t cap)
{
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
                     method, path, anonymous ? "" : "Authorization: Bearer ", anonymous ? "" : f->token,
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
    return status;
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

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_camera_api_with_recorder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_camera_api_without_recorder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handlers_read_injected_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

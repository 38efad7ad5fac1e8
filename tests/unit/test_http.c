/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unit tests of the HTTP server's pure pieces: request paths and queries,
 * cookies, Range, entity tags and conditional headers, the CSRF rule, names,
 * query times, the JSON request bodies (login, token, camera), the request
 * deadlines and the login rate limiter (both with a fake clock), the
 * timeline of spans and gaps, and the route lookup of the dispatcher (a
 * test table and the API's own).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "api/api.h"
#include "api/camera_body.h"
#include "base/clock.h"
#include "http/access.h"
#include "http/body.h"
#include "http/deadline.h"
#include "http/parse.h"
#include "http/ratelimit.h"
#include "http/clientaddr.h"
#include "http/loginguard.h"
#include "http/route.h"
#include "http/timeline.h"
#include "http/tls.h"

static void test_path_split(void **state)
{
    (void)state;
    char segs[8][REEL_HTTP_SEG_MAX];
    assert_int_equal(reel_http_path_split("/api/cameras/front-1/view.mp4", segs, 8), 4);
    assert_string_equal(segs[0], "api");
    assert_string_equal(segs[2], "front-1");
    assert_string_equal(segs[3], "view.mp4");
    assert_int_equal(reel_http_path_split("/", segs, 8), 1);
    assert_string_equal(segs[0], "");
    assert_int_equal(reel_http_path_split("/a%20b", segs, 8), 1);
    assert_string_equal(segs[0], "a b");
    /* Traversal stays inside one segment (and fails name validation later). */
    assert_int_equal(reel_http_path_split("/api/cameras/../x", segs, 8), 4);
    assert_string_equal(segs[2], "..");
    assert_false(reel_http_name_valid(segs[2]));
    /* Encoded slash, encoded NUL, bad escapes: refused. */
    assert_int_equal(reel_http_path_split("/api/cameras/..%2F..%2Fetc%2Fpasswd/view.mp4", segs, 8), -EINVAL);
    assert_int_equal(reel_http_path_split("/api/cameras/..%2f/view.mp4", segs, 8), -EINVAL);
    assert_int_equal(reel_http_path_split("/api/cameras/x%00y/view.mp4", segs, 8), -EINVAL);
    assert_int_equal(reel_http_path_split("/a%2", segs, 8), -EINVAL);
    assert_int_equal(reel_http_path_split("/a%zz", segs, 8), -EINVAL);
    assert_int_equal(reel_http_path_split("api", segs, 8), -EINVAL);
    assert_int_equal(reel_http_path_split("/a/b/c/d/e/f/g/h/i", segs, 8), -E2BIG);
    char longp[400] = "/";
    memset(longp + 1, 'a', 300);
    assert_int_equal(reel_http_path_split(longp, segs, 8), -EMSGSIZE);
}

static void test_query(void **state)
{
    (void)state;
    char v[64];
    assert_int_equal(reel_http_query_get("start=1&end=2", "end", v, sizeof(v)), 1);
    assert_string_equal(v, "2");
    assert_int_equal(reel_http_query_get("start=1&end=2", "start", v, sizeof(v)), 1);
    assert_string_equal(v, "1");
    assert_int_equal(reel_http_query_get("start=1&end=2", "x", v, sizeof(v)), 0);
    assert_int_equal(reel_http_query_get(NULL, "x", v, sizeof(v)), 0);
    assert_int_equal(reel_http_query_get("startx=1&start=5", "start", v, sizeof(v)), 1);
    assert_string_equal(v, "5");
    assert_int_equal(reel_http_query_get("t=2026-11-26T23%3A00%3A00%2B01%3A00", "t", v, sizeof(v)), 1);
    assert_string_equal(v, "2026-11-26T23:00:00+01:00");
    assert_int_equal(reel_http_query_get("t=a+b", "t", v, sizeof(v)), 1);
    assert_string_equal(v, "a b");
    assert_int_equal(reel_http_query_get("flag&x=1", "flag", v, sizeof(v)), 1);
    assert_string_equal(v, "");
    assert_int_equal(reel_http_query_get("t=%00", "t", v, sizeof(v)), -EINVAL);
    assert_int_equal(reel_http_query_get("t=%g1", "t", v, sizeof(v)), -EINVAL);
    assert_int_equal(reel_http_query_get("t=0123456789", "t", v, 5), -EMSGSIZE);
}

static void test_cookie(void **state)
{
    (void)state;
    char v[80];
    assert_int_equal(reel_http_cookie_get("a=1; reel_session=abc; b=2", "reel_session", v, sizeof(v)), 1);
    assert_string_equal(v, "abc");
    assert_int_equal(reel_http_cookie_get("reel_session=\"q\"", "reel_session", v, sizeof(v)), 1);
    assert_string_equal(v, "q");
    assert_int_equal(reel_http_cookie_get("xreel_session=1;reel_session=2", "reel_session", v, sizeof(v)), 1);
    assert_string_equal(v, "2");
    assert_int_equal(reel_http_cookie_get("a=1", "reel_session", v, sizeof(v)), 0);
    assert_int_equal(reel_http_cookie_get(NULL, "reel_session", v, sizeof(v)), 0);
    assert_int_equal(reel_http_cookie_get("reel_session=0123456789", "reel_session", v, 4), -EMSGSIZE);
}

static void test_range(void **state)
{
    (void)state;
    uint64_t s = 0, l = 0;
    assert_int_equal(reel_http_range_parse(NULL, 1000, &s, &l), REEL_RANGE_NONE);
    assert_int_equal(reel_http_range_parse("bytes=0-99", 1000, &s, &l), REEL_RANGE_OK);
    assert_true(s == 0 && l == 100);
    assert_int_equal(reel_http_range_parse("bytes=900-", 1000, &s, &l), REEL_RANGE_OK);
    assert_true(s == 900 && l == 100);
    assert_int_equal(reel_http_range_parse("bytes=-300", 1000, &s, &l), REEL_RANGE_OK);
    assert_true(s == 700 && l == 300);
    assert_int_equal(reel_http_range_parse("bytes=-3000", 1000, &s, &l), REEL_RANGE_OK);
    assert_true(s == 0 && l == 1000);
    assert_int_equal(reel_http_range_parse("bytes=990-2000", 1000, &s, &l), REEL_RANGE_OK);
    assert_true(s == 990 && l == 10);
    assert_int_equal(reel_http_range_parse("bytes=999-999", 1000, &s, &l), REEL_RANGE_OK);
    assert_true(s == 999 && l == 1);
    assert_int_equal(reel_http_range_parse("bytes=1000-", 1000, &s, &l), REEL_RANGE_UNSATISFIABLE);
    assert_int_equal(reel_http_range_parse("bytes=5000-6000", 1000, &s, &l), REEL_RANGE_UNSATISFIABLE);
    assert_int_equal(reel_http_range_parse("bytes=-0", 1000, &s, &l), REEL_RANGE_UNSATISFIABLE);
    /* Ignored: whole entity. */
    assert_int_equal(reel_http_range_parse("bytes=0-1,5-6", 1000, &s, &l), REEL_RANGE_NONE);
    assert_int_equal(reel_http_range_parse("bytes=9-5", 1000, &s, &l), REEL_RANGE_NONE);
    assert_int_equal(reel_http_range_parse("items=0-5", 1000, &s, &l), REEL_RANGE_NONE);
    assert_int_equal(reel_http_range_parse("bytes=abc", 1000, &s, &l), REEL_RANGE_NONE);
    assert_int_equal(reel_http_range_parse("bytes=99999999999999999999999-", 1000, &s, &l), REEL_RANGE_NONE);
    assert_int_equal(reel_http_range_parse("bytes=1-2x", 1000, &s, &l), REEL_RANGE_NONE);
}

static void test_etag(void **state)
{
    (void)state;
    struct reel_http_etag_rec r[2] = { { 1, 1000, 30 }, { 2, 500, 15 } };
    char a[REEL_HTTP_ETAG_MAX], b[REEL_HTTP_ETAG_MAX];
    reel_http_etag(7, 100, 200, r, 2, a);
    assert_int_equal(a[0], '"');
    assert_int_equal(a[strlen(a) - 1], '"');
    reel_http_etag(7, 100, 200, r, 2, b);
    assert_string_equal(a, b);
    r[1].bytes = 600; /* an open recording grew */
    reel_http_etag(7, 100, 200, r, 2, b);
    assert_string_not_equal(a, b);
    r[1].bytes = 500;
    r[1].frames = 16;
    reel_http_etag(7, 100, 200, r, 2, b);
    assert_string_not_equal(a, b);
    r[1].frames = 15;
    reel_http_etag(7, 100, 201, r, 2, b);
    assert_string_not_equal(a, b);
    reel_http_etag(8, 100, 200, r, 2, b);
    assert_string_not_equal(a, b);
    reel_http_etag(7, 100, 200, r, 1, b);
    assert_string_not_equal(a, b);

    assert_true(reel_http_etag_none_match(a, a));
    assert_true(reel_http_etag_none_match("*", a));
    char list[200];
    snprintf(list, sizeof(list), "\"x\", W/%s", a);
    assert_true(reel_http_etag_none_match(list, a));
    assert_false(reel_http_etag_none_match("\"x\", \"y\"", a));
    assert_false(reel_http_etag_none_match(NULL, a));

    const char *lm = "Sun, 06 Nov 1994 08:49:37 GMT";
    assert_true(reel_http_if_range_ok(NULL, a, lm));
    assert_true(reel_http_if_range_ok(a, a, lm));
    assert_false(reel_http_if_range_ok("\"other\"", a, lm));
    char weak[64];
    snprintf(weak, sizeof(weak), "W/%s", a);
    assert_false(reel_http_if_range_ok(weak, a, lm));
    assert_true(reel_http_if_range_ok(lm, a, lm));
    assert_false(reel_http_if_range_ok("Mon, 07 Nov 1994 08:49:37 GMT", a, lm));
}

static void test_csrf(void **state)
{
    (void)state;
    const char *why;
    const char *tok = "abcdef0123";
    assert_int_equal(reel_http_csrf_check("GET", NULL, tok, NULL, "h:1", &why), 0);
    assert_int_equal(reel_http_csrf_check("HEAD", NULL, tok, "http://evil", "h:1", &why), 0);
    assert_int_equal(reel_http_csrf_check("POST", tok, tok, NULL, "h:1", &why), 0);
    assert_int_equal(reel_http_csrf_check("POST", tok, tok, "http://h:1", "h:1", &why), 0);
    assert_int_equal(reel_http_csrf_check("DELETE", tok, tok, "https://h:1", "h:1", &why), 0);
    assert_int_equal(reel_http_csrf_check("POST", NULL, tok, NULL, "h:1", &why), -EPERM);
    assert_string_equal(why, "missing X-CSRF-Token header");
    assert_int_equal(reel_http_csrf_check("PUT", "abcdef0124", tok, NULL, "h:1", &why), -EPERM);
    assert_int_equal(reel_http_csrf_check("PATCH", "abc", tok, NULL, "h:1", &why), -EPERM);
    assert_int_equal(reel_http_csrf_check("POST", "", "", NULL, "h:1", &why), -EPERM);
    assert_int_equal(reel_http_csrf_check("POST", tok, tok, "http://evil.example", "h:1", &why), -EPERM);
    assert_string_equal(why, "Origin does not match Host");
    assert_int_equal(reel_http_csrf_check("POST", tok, tok, "null", "h:1", &why), -EPERM);
    assert_int_equal(reel_http_csrf_check("POST", tok, tok, "http://h:2", "h:1", &why), -EPERM);
    assert_int_equal(reel_http_csrf_check("POST", tok, tok, "http://h:1", NULL, &why), -EPERM);
    assert_true(reel_http_origin_ok(NULL, NULL));
    assert_false(reel_http_origin_ok("ftp://h:1", "h:1"));
}

static void test_names_times(void **state)
{
    (void)state;
    assert_true(reel_http_name_valid("front_door-2"));
    assert_false(reel_http_name_valid(""));
    assert_false(reel_http_name_valid("a.b"));
    assert_false(reel_http_name_valid("a/b"));
    assert_false(reel_http_name_valid(".."));
    char n63[64], n64[65];
    memset(n63, 'a', 63);
    n63[63] = 0;
    memset(n64, 'a', 64);
    n64[64] = 0;
    assert_true(reel_http_name_valid(n63));
    assert_false(reel_http_name_valid(n64));

    int64_t t;
    int64_t now = INT64_C(1700000000) * REEL_90K;
    assert_int_equal(reel_http_time_parse("1700000000", now, &t), 0);
    assert_true(t == INT64_C(1700000000) * REEL_90K);
    assert_int_equal(reel_http_time_parse("1700000000.5", now, &t), 0);
    assert_true(t == INT64_C(1700000000) * REEL_90K + 45000);
    assert_int_equal(reel_http_time_parse("2023-11-14T22:13:20Z", now, &t), 0);
    assert_true(t == INT64_C(1700000000) * REEL_90K);
    assert_int_equal(reel_http_time_parse("2023-11-14T23:13:20+01:00", now, &t), 0);
    assert_true(t == INT64_C(1700000000) * REEL_90K);
    /* The '+' sent unencoded arrives as a space. */
    assert_int_equal(reel_http_time_parse("2023-11-14T23:13:20 01:00", now, &t), 0);
    assert_true(t == INT64_C(1700000000) * REEL_90K);
    assert_int_equal(reel_http_time_parse("2023-11-14T22:13:20.250Z", now, &t), 0);
    assert_true(t == INT64_C(1700000000) * REEL_90K + 22500);
    assert_int_equal(reel_http_time_parse("-5m", now, &t), 0);
    assert_true(t == now - 300 * REEL_90K);
    assert_int_not_equal(reel_http_time_parse("", now, &t), 0);
    assert_int_not_equal(reel_http_time_parse("yesterday", now, &t), 0);
    assert_int_not_equal(reel_http_time_parse("1700000000.", now, &t), 0);
    assert_int_not_equal(reel_http_time_parse("2023-13-45T99:00:00Z", now, &t), 0);

    char d[40];
    reel_http_date(784111777, d, sizeof(d));
    assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
}

static void test_ratelimit(void **state)
{
    (void)state;
    struct reel_clock_fake fc;
    reel_clock_fake_init(&fc, REEL_NS_PER_SEC, 0);
    struct reel_ratelimit *rl;
    struct reel_ratelimit_cfg cfg = { .threshold = 3, .base_ns = 10 * REEL_NS_PER_SEC,
                                      .max_ns = 35 * REEL_NS_PER_SEC, .forget_ns = 100 * REEL_NS_PER_SEC,
                                      .max_keys = 4 };
    assert_int_equal(reel_ratelimit_new(&rl, &cfg, &fc.clock), 0);
    assert_true(reel_ratelimit_check(rl, "u") == 0);
    assert_true(reel_ratelimit_fail(rl, "u") == 0);
    assert_true(reel_ratelimit_fail(rl, "u") == 0);
    assert_true(reel_ratelimit_check(rl, "u") == 0);
    /* third failure: locked 10 s */
    assert_true(reel_ratelimit_fail(rl, "u") == 10 * REEL_NS_PER_SEC);
    assert_true(reel_ratelimit_check(rl, "u") == 10 * REEL_NS_PER_SEC);
    assert_true(reel_ratelimit_check(rl, "other") == 0);
    reel_clock_fake_advance(&fc, 4 * REEL_NS_PER_SEC);
    assert_true(reel_ratelimit_check(rl, "u") == 6 * REEL_NS_PER_SEC);
    reel_clock_fake_advance(&fc, 6 * REEL_NS_PER_SEC);
    assert_true(reel_ratelimit_check(rl, "u") == 0);
    /* then doubling, capped */
    assert_true(reel_ratelimit_fail(rl, "u") == 20 * REEL_NS_PER_SEC);
    reel_clock_fake_advance(&fc, 20 * REEL_NS_PER_SEC);
    assert_true(reel_ratelimit_fail(rl, "u") == 35 * REEL_NS_PER_SEC);
    reel_clock_fake_advance(&fc, 35 * REEL_NS_PER_SEC);
    assert_true(reel_ratelimit_fail(rl, "u") == 35 * REEL_NS_PER_SEC);
    /* success forgets */
    reel_clock_fake_advance(&fc, 35 * REEL_NS_PER_SEC);
    reel_ratelimit_success(rl, "u");
    assert_true(reel_ratelimit_fail(rl, "u") == 0);
    /* quiet time forgets */
    assert_true(reel_ratelimit_fail(rl, "u") == 0);
    reel_clock_fake_advance(&fc, 100 * REEL_NS_PER_SEC);
    assert_true(reel_ratelimit_fail(rl, "u") == 0);
    assert_true(reel_ratelimit_fail(rl, "u") == 0);
    assert_true(reel_ratelimit_fail(rl, "u") == 10 * REEL_NS_PER_SEC);
    /* table full of locked keys: a new key is not refused (the limiter
     * cannot be filled to block everyone); the fewest failures go first */
    for (int k = 0; k < 3; k++) {
        char key[8] = { 'k', (char)('0' + k), 0 };
        for (int i = 0; i < 3 + k; i++)
            reel_ratelimit_fail(rl, key);
    }
    assert_true(reel_ratelimit_check(rl, "u") > 0);
    assert_true(reel_ratelimit_check(rl, "new") == 0);
    assert_true(reel_ratelimit_fail(rl, "new") == 0);
    assert_int_equal(reel_ratelimit_failures(rl, "new"), 1);
    /* "u" and "k0" had 3 failures each, "u" failed longer ago: evicted */
    assert_int_equal(reel_ratelimit_failures(rl, "u"), 0);
    assert_int_equal(reel_ratelimit_failures(rl, "k0"), 3);
    assert_int_equal(reel_ratelimit_failures(rl, "k2"), 5);
    reel_ratelimit_free(rl);
}

/* Issue 11: the address behind a trusted proxy, the /64 of IPv6. */
static void test_client_addr(void **state)
{
    (void)state;
    struct reel_netmask t[3];
    assert_int_equal(reel_netmask_parse("127.0.0.1", &t[0]), 0);
    assert_int_equal(reel_netmask_parse("10.1.0.0/16", &t[1]), 0);
    assert_int_equal(reel_netmask_parse("fd00::/8", &t[2]), 0);
    struct reel_netmask bad;
    assert_int_equal(reel_netmask_parse("10.0.0.0/33", &bad), -EINVAL);
    assert_int_equal(reel_netmask_parse("10.0.0.0/", &bad), -EINVAL);
    assert_int_equal(reel_netmask_parse("10.0.0.0/-1", &bad), -EINVAL);
    assert_int_equal(reel_netmask_parse("::/129", &bad), -EINVAL);
    assert_int_equal(reel_netmask_parse("example.com", &bad), -EINVAL);
    assert_int_equal(reel_netmask_parse("", &bad), -EINVAL);
    struct sockaddr_in lo = { .sin_family = AF_INET }, other = { .sin_family = AF_INET };
    inet_pton(AF_INET, "127.0.0.1", &lo.sin_addr);
    inet_pton(AF_INET, "192.0.2.7", &other.sin_addr);
    const struct sockaddr *plo = (const struct sockaddr *)(const void *)&lo;
    const struct sockaddr *pother = (const struct sockaddr *)(const void *)&other;
    char a[REEL_CLIENT_ADDR_MAX], k[REEL_CLIENT_ADDR_MAX];
    /* no header, or no trusted proxy: the peer */
    reel_client_addr(plo, NULL, t, 3, a, k);
    assert_string_equal(a, "127.0.0.1");
    assert_string_equal(k, "127.0.0.1");
    reel_client_addr(plo, "198.51.100.1", t, 0, a, k);
    assert_string_equal(a, "127.0.0.1");
    /* an untrusted peer's header is ignored */
    reel_client_addr(pother, "198.51.100.1", t, 3, a, k);
    assert_string_equal(a, "192.0.2.7");
    /* trusted peer: the right-most address not itself trusted (what a
     * client wrote on the left is skipped) */
    reel_client_addr(plo, "6.6.6.6, 198.51.100.1", t, 3, a, k);
    assert_string_equal(a, "198.51.100.1");
    reel_client_addr(plo, "6.6.6.6,198.51.100.1 , 10.1.2.3", t, 3, a, k);
    assert_string_equal(a, "198.51.100.1");
    /* every hop trusted: the left-most */
    reel_client_addr(plo, "10.1.9.9, 10.1.2.3", t, 3, a, k);
    assert_string_equal(a, "10.1.9.9");
    /* garbage ends the walk at the last address passed */
    reel_client_addr(plo, "198.51.100.1, junk", t, 3, a, k);
    assert_string_equal(a, "127.0.0.1");
    reel_client_addr(plo, "junk, 10.1.2.3", t, 3, a, k);
    assert_string_equal(a, "10.1.2.3");
    reel_client_addr(plo, "", t, 3, a, k);
    assert_string_equal(a, "127.0.0.1");
    /* IPv6: the key is the /64 */
    reel_client_addr(plo, "2001:db8:1:2:aaaa::1", t, 3, a, k);
    assert_string_equal(a, "2001:db8:1:2:aaaa::1");
    assert_string_equal(k, "2001:db8:1:2::/64");
    reel_client_addr(plo, "2001:db8:1:2:bbbb::9", t, 3, a, k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
    inet_pton(AF_INET6, "fd12::5", &v6.sin6_addr);
    reel_client_addr((const struct sockaddr *)(const void *)&v6, "203.0.113.4", t, 3, a, k);
    assert_string_equal(a, "203.0.113.4");
    reel_client_addr(NULL, NULL, t, 3, a, k);
    assert_string_equal(a, "?");
}

/* Issue 11: failures lock an address, only slow an account, and never stop
 * an address without failures. */
static void test_login_guard(void **state)
{
    (void)state;
    struct reel_clock_fake fc;
    reel_clock_fake_init(&fc, REEL_NS_PER_SEC, 0);
    struct reel_ratelimit *ra, *ru;
    struct reel_ratelimit_cfg ucfg = { .threshold = REEL_LOGIN_USER_THRESHOLD,
                                       .base_ns = REEL_LOGIN_USER_BASE_S * REEL_NS_PER_SEC,
                                       .max_ns = REEL_LOGIN_USER_MAX_S * REEL_NS_PER_SEC },
                              acfg = { .threshold = REEL_LOGIN_ADDR_THRESHOLD, .max_keys = 64 };
    assert_int_equal(reel_ratelimit_new(&ra, &acfg, &fc.clock), 0);
    assert_int_equal(reel_ratelimit_new(&ru, &ucfg, &fc.clock), 0);
    /* an attacker at one address: slowed after 5, not locked */
    for (int i = 0; i < REEL_LOGIN_USER_THRESHOLD; i++) {
        assert_true(reel_login_check(ra, ru, "addr:6.6.6.6", "user:admin") == 0);
        reel_login_failed(ra, ru, "addr:6.6.6.6", "user:admin");
    }
    int64_t w = reel_login_check(ra, ru, "addr:6.6.6.6", "user:admin");
    assert_true(w > 0 && w <= REEL_LOGIN_USER_MAX_S * REEL_NS_PER_SEC);
    /* the real user from an address with no failures: at once */
    assert_true(reel_login_check(ra, ru, "addr:198.51.100.1", "user:admin") == 0);
    /* the wait grows, capped at a few seconds */
    int64_t worst = 0;
    for (int i = 0; i < 10; i++) {
        w = reel_login_check(ra, ru, "addr:6.6.6.6", "user:admin");
        assert_true(w <= REEL_LOGIN_USER_MAX_S * REEL_NS_PER_SEC);
        reel_clock_fake_advance(&fc, w);
        reel_login_failed(ra, ru, "addr:6.6.6.6", "user:admin");
        worst = w > worst ? w : worst;
        assert_true(reel_login_check(ra, ru, "addr:198.51.100.1", "user:admin") == 0);
    }
    assert_true(worst == REEL_LOGIN_USER_MAX_S * REEL_NS_PER_SEC);
    /* the 20th failure of an address locks that address for every account */
    for (int i = 0; i < 10; i++) {
        reel_clock_fake_advance(&fc, REEL_LOGIN_USER_MAX_S * REEL_NS_PER_SEC);
        reel_login_failed(ra, ru, "addr:6.6.6.6", "user:admin");
    }
    assert_true(reel_login_check(ra, ru, "addr:6.6.6.6", "user:other") >= 30 * REEL_NS_PER_SEC);
    assert_true(reel_login_check(ra, ru, "addr:198.51.100.1", "user:admin") == 0);
    /* many addresses, each failing once: the table stays bounded, and a
     * new address is still let through */
    for (int i = 0; i < 500; i++) {
        char k[32];
        snprintf(k, sizeof(k), "addr:10.0.%d.%d", i / 256, i % 256);
        reel_login_failed(ra, ru, k, "user:admin");
    }
    assert_true(reel_login_check(ra, ru, "addr:203.0.113.9", "user:admin") == 0);
    /* success forgets the account's count, not the address's */
    reel_login_succeeded(ru, "user:admin");
    assert_int_equal(reel_ratelimit_failures(ru, "user:admin"), 0);
    reel_ratelimit_free(ra);
    reel_ratelimit_free(ru);
}

static struct reel_span rec(int64_t id, int64_t run, int64_t start, int64_t dur)
{
    struct reel_span r;
    memset(&r, 0, sizeof(r));
    r.id = id;
    r.run_id = run;
    r.start90k = start;
    r.wall_duration90k = dur;
    return r;
}

static void test_timeline(void **state)
{
    (void)state;
    const int64_t S = REEL_90K;
    /* run 1: [10,20) [20,30); outage [30,40) "connection refused"; run 2:
     * [40,50) [50.2,60); nothing known after 60. */
    struct reel_span recs[4] = { rec(1, 1, 10 * S, 10 * S), rec(2, 1, 20 * S, 10 * S),
                                      rec(3, 2, 40 * S, 10 * S), rec(4, 2, 50 * S + S / 5, 10 * S - S / 5) };
    struct reel_gap gaps[2];
    memset(gaps, 0, sizeof(gaps));
    gaps[0] = (struct reel_gap){ .start90k = 30 * S, .end90k = 40 * S };
    strcpy(gaps[0].reason, "connection refused");
    gaps[1] = (struct reel_gap){ .start90k = 0, .end90k = 5 * S };
    strcpy(gaps[1].reason, "deleted by retention");
    struct reel_timeline t;
    assert_int_equal(reel_timeline_build(recs, 4, gaps, 2, 0, 70 * S, &t), 0);
    assert_int_equal(t.nspans, 2);
    assert_true(t.spans[0].start90k == 10 * S && t.spans[0].end90k == 30 * S);
    assert_true(t.spans[1].start90k == 40 * S && t.spans[1].end90k == 60 * S);
    assert_int_equal(t.ngaps, 4);
    assert_true(t.gaps[0].start90k == 0 && t.gaps[0].end90k == 5 * S);
    assert_string_equal(t.gaps[0].reason, "deleted by retention");
    assert_true(t.gaps[0].reason == gaps[1].reason);
    assert_true(t.gaps[1].start90k == 5 * S && t.gaps[1].end90k == 10 * S);
    assert_string_equal(t.gaps[1].reason, "not recorded");
    assert_true(t.gaps[2].start90k == 30 * S && t.gaps[2].end90k == 40 * S);
    assert_string_equal(t.gaps[2].reason, "connection refused");
    assert_true(t.gaps[3].start90k == 60 * S && t.gaps[3].end90k == 70 * S);
    assert_string_equal(t.gaps[3].reason, "not recorded");
    reel_timeline_free(&t);

    /* Clipped to the range; an open outage (end -1) explains up to the end. */
    gaps[0].end90k = -1;
    assert_int_equal(reel_timeline_build(recs, 2, gaps, 1, 15 * S, 45 * S, &t), 0);
    assert_int_equal(t.nspans, 1);
    assert_true(t.spans[0].start90k == 15 * S && t.spans[0].end90k == 30 * S);
    assert_int_equal(t.ngaps, 1);
    assert_true(t.gaps[0].start90k == 30 * S && t.gaps[0].end90k == 45 * S);
    assert_string_equal(t.gaps[0].reason, "connection refused");
    reel_timeline_free(&t);

    /* Nothing at all. */
    assert_int_equal(reel_timeline_build(NULL, 0, NULL, 0, 0, 10 * S, &t), 0);
    assert_int_equal(t.nspans, 0);
    assert_int_equal(t.ngaps, 1);
    assert_string_equal(t.gaps[0].reason, "not recorded");
    reel_timeline_free(&t);
}

#define B(s) (const uint8_t *)(s), strlen(s)

static void test_login_body(void **state)
{
    (void)state;
    char user[REEL_USER_NAME_MAX], pass[REEL_PASSWORD_MAX + 1];
    assert_int_equal(reel_http_login_parse(B("{\"username\":\"admin\",\"password\":\"s3cret pw\"}"), user, pass), 0);
    assert_string_equal(user, "admin");
    assert_string_equal(pass, "s3cret pw");
    /* Escapes are decoded; unknown members are ignored. */
    const char *esc = "{\"extra\":[1,{}],\"password\":\"a\\\"\\u00e9\",\"username\":\"\\u0041\"}";
    assert_int_equal(reel_http_login_parse(B(esc), user, pass), 0);
    assert_string_equal(user, "A");
    assert_string_equal(pass, "a\"\xc3\xa9");
    /* Outputs are untouched on failure. */
    strcpy(user, "keep");
    strcpy(pass, "keep");
    static const char *const bad[] = {
        "", "null", "[]", "\"admin\"", "{", "{\"username\":\"a\"}", "{\"password\":\"a\"}",
        "{\"username\":1,\"password\":\"a\"}", "{\"username\":\"a\",\"password\":null}",
        "{\"username\":\"a\",\"password\":\"b\",\"username\":\"c\"}", /* duplicate key */
        "{\"username\":\"a\\u0000b\",\"password\":\"b\"}",               /* NUL inside */
        "{\"username\":\"a\",\"password\":\"b\"} trailing", "{\"username\":\"a\",\"password\":\"\xff\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(reel_http_login_parse(B(bad[i]), user, pass), -EBADMSG);
        assert_string_equal(user, "keep");
        assert_string_equal(pass, "keep");
    }
    /* A NUL byte in the body itself (not an escape) ends nothing early. */
    const char nul[] = "{\"username\":\"a\",\"password\":\"b\"}\0junk";
    assert_int_equal(reel_http_login_parse((const uint8_t *)nul, sizeof(nul) - 1, user, pass), -EBADMSG);

    /* Lengths: user name < REEL_USER_NAME_MAX, password <= REEL_PASSWORD_MAX. */
    char body[REEL_HTTP_BODY_MAX + 64];
    char name63[64], name64[65];
    memset(name63, 'u', 63);
    name63[63] = '\0';
    memset(name64, 'u', 64);
    name64[64] = '\0';
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"p\"}", name63);
    assert_int_equal(reel_http_login_parse(B(body), user, pass), 0);
    assert_int_equal(strlen(user), 63);
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"p\"}", name64);
    assert_int_equal(reel_http_login_parse(B(body), user, pass), -EMSGSIZE);
    static char pw[REEL_PASSWORD_MAX + 2];
    memset(pw, 'p', REEL_PASSWORD_MAX);
    pw[REEL_PASSWORD_MAX] = '\0';
    snprintf(body, sizeof(body), "{\"username\":\"u\",\"password\":\"%s\"}", pw);
    assert_int_equal(reel_http_login_parse(B(body), user, pass), 0);
    assert_int_equal(strlen(pass), REEL_PASSWORD_MAX);
    pw[REEL_PASSWORD_MAX] = 'p';
    pw[REEL_PASSWORD_MAX + 1] = '\0';
    snprintf(body, sizeof(body), "{\"username\":\"u\",\"password\":\"%s\"}", pw);
    assert_int_equal(reel_http_login_parse(B(body), user, pass), -EMSGSIZE);
    /* Bodies over the cap are refused before parsing, even valid ones. */
    memset(body, ' ', sizeof(body));
    memcpy(body, "{\"username\":\"u\",\"password\":\"p\"}", 31);
    assert_int_equal(reel_http_login_parse((const uint8_t *)body, REEL_HTTP_BODY_MAX, user, pass), 0);
    assert_int_equal(reel_http_login_parse((const uint8_t *)body, REEL_HTTP_BODY_MAX + 1, user, pass), -E2BIG);
}

static void test_token_body(void **state)
{
    (void)state;
    char name[REEL_HTTP_TOKEN_NAME_MAX];
    assert_int_equal(reel_http_token_parse(B("{\"name\":\"ci-bot_1\"}"), name), 0);
    assert_string_equal(name, "ci-bot_1");
    assert_int_equal(reel_http_token_parse(B(" {\"other\":true, \"name\":\"x\"} "), name), 0);
    assert_string_equal(name, "x");
    strcpy(name, "keep");
    assert_int_equal(reel_http_token_parse(B("{\"name\":\"\"}"), name), -EINVAL);
    assert_int_equal(reel_http_token_parse(B("{\"name\":\"a b\"}"), name), -EINVAL);
    assert_int_equal(reel_http_token_parse(B("{\"name\":\"../x\"}"), name), -EINVAL);
    assert_int_equal(reel_http_token_parse(B("{\"name\":\"\\u00e9\"}"), name), -EINVAL);
    char n64[80];
    snprintf(n64, sizeof(n64), "{\"name\":\"%064d\"}", 0); /* 64 characters */
    assert_int_equal(reel_http_token_parse(B(n64), name), -EINVAL);
    snprintf(n64, sizeof(n64), "{\"name\":\"%063d\"}", 0); /* 63: the longest */
    assert_int_equal(reel_http_token_parse(B(n64), name), 0);
    assert_int_equal(strlen(name), 63);
    strcpy(name, "keep");
    assert_int_equal(reel_http_token_parse(B("{\"name\":5}"), name), -EBADMSG);
    assert_int_equal(reel_http_token_parse(B("{\"name\":\"a\",\"name\":\"b\"}"), name), -EBADMSG);
    assert_int_equal(reel_http_token_parse(B("[\"name\"]"), name), -EBADMSG);
    assert_int_equal(reel_http_token_parse(B("{\"name\":\"a\\u0000\"}"), name), -EBADMSG);
    assert_string_equal(name, "keep");
    /* Deep nesting is refused by jansson's depth limit, not by the stack. */
    static char deep[REEL_HTTP_BODY_MAX];
    size_t d = 0;
    deep[d++] = '{';
    memcpy(deep + d, "\"x\":", 4);
    d += 4;
    while (d < sizeof(deep) / 2)
        deep[d++] = '[';
    size_t open = d - 5;
    for (size_t i = 0; i < open && d < sizeof(deep) - 2; i++)
        deep[d++] = ']';
    deep[d++] = '}';
    assert_int_equal(reel_http_token_parse((const uint8_t *)deep, d, name), -EBADMSG);
}

/* True when the peer of fd has been shut down (reads the end of stream). */
static bool peer_shut(int fd)
{
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_deadline(void **state)
{
    (void)state;
    const int64_t S = REEL_NS_PER_SEC;
    struct reel_clock_fake fk;
    reel_clock_fake_init(&fk, 1000 * S, 0);
    struct reel_http_deadline *d;
    assert_int_equal(reel_http_deadline_new(&d, 0, S, &fk.clock, NULL, NULL), -EINVAL);
    assert_int_equal(reel_http_deadline_new(&d, 3, 0, &fk.clock, NULL, NULL), -EINVAL);
    assert_int_equal(reel_http_deadline_new(&d, 3, 10 * S, &fk.clock, NULL, NULL), 0);
    int sp[4][2];
    for (int i = 0; i < 4; i++)
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]), 0);
    /* a: never completes a request; b: completes one at 5 s and is answered
     * for a long time; c: answered, then idle (keep-alive) from 8 s. */
    int a = reel_http_deadline_add(d, sp[0][0]), b = reel_http_deadline_add(d, sp[1][0]);
    int c = reel_http_deadline_add(d, sp[2][0]);
    assert_true(a >= 0 && b >= 0 && c >= 0);
    assert_int_equal(reel_http_deadline_add(d, sp[3][0]), -ENOSPC); /* the table is full */
    int64_t next;
    assert_int_equal(reel_http_deadline_sweep(d, &next), 0);
    assert_int_equal(next, 1010 * S);
    reel_clock_fake_advance(&fk, 5 * S);
    reel_http_deadline_responding(d, b);
    reel_http_deadline_responding(d, c);
    reel_clock_fake_advance(&fk, 3 * S);
    reel_http_deadline_waiting(d, c); /* t = 8 s: its next request is due by 18 s */
    reel_clock_fake_advance(&fk, 2 * S - 1);
    assert_int_equal(reel_http_deadline_sweep(d, &next), 0);
    assert_int_equal(next, 1010 * S);
    assert_false(peer_shut(sp[0][1]));
    reel_clock_fake_advance(&fk, 1); /* t = 10 s: a is due */
    assert_int_equal(reel_http_deadline_sweep(d, &next), 1);
    assert_int_equal(next, 1018 * S);
    assert_true(peer_shut(sp[0][1]));
    assert_false(peer_shut(sp[1][1]));
    assert_false(peer_shut(sp[2][1]));
    assert_int_equal(reel_http_deadline_sweep(d, NULL), 0); /* once only */
    reel_clock_fake_advance(&fk, 3600 * S);  /* b is still being answered */
    assert_int_equal(reel_http_deadline_sweep(d, &next), 1); /* c */
    assert_int_equal(next, INT64_MAX);
    assert_false(peer_shut(sp[1][1]));
    assert_true(peer_shut(sp[2][1]));
    /* A removed slot is free again and its fd never touched. */
    reel_http_deadline_remove(d, a);
    reel_http_deadline_remove(d, a);
    reel_http_deadline_responding(d, -1); /* no slot: ignored */
    reel_http_deadline_waiting(d, 99);
    int e = reel_http_deadline_add(d, sp[3][0]);
    assert_int_equal(e, a);
    reel_http_deadline_remove(d, e);
    reel_clock_fake_advance(&fk, 3600 * S);
    assert_int_equal(reel_http_deadline_sweep(d, NULL), 0);
    assert_false(peer_shut(sp[3][1]));
    reel_http_deadline_free(d);
    for (int i = 0; i < 4; i++) {
        close(sp[i][0]);
        close(sp[i][1]);
    }
}

static void count_closed(void *opaque, unsigned n) { *(unsigned *)opaque += n; }

/* The watchdog thread on the real clock: a connection that never completes
 * a request is shut down about 200 ms after it started. */
static void test_deadline_thread(void **state)
{
    (void)state;
    struct reel_http_deadline *d;
    unsigned closed = 0;
    assert_int_equal(reel_http_deadline_new(&d, 4, 200 * 1000 * 1000, reel_clock_system(), count_closed, &closed), 0);
    assert_int_equal(reel_http_deadline_start(d), 0);
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    int64_t t0 = reel_clock_mono(reel_clock_system());
    assert_true(reel_http_deadline_add(d, sp[0]) >= 0);
    char c;
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(sp[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(recv(sp[1], &c, 1, 0), 0); /* blocks until shut down */
    int64_t took = reel_clock_mono(reel_clock_system()) - t0;
    assert_true(took >= 200 * 1000 * 1000);
    assert_true(took < 5000 * 1000 * 1000LL); /* 0.2-0.25 s unless the machine is very busy */
    reel_http_deadline_free(d); /* joins the thread, so closed is settled */
    assert_int_equal(closed, 1);
    close(sp[0]);
    close(sp[1]);
}

/* ---- the dispatcher's route lookup ---- */

static enum MHD_Result h_dummy(struct reel_http_req *r)
{
    (void)r;
    return MHD_YES;
}

static const struct reel_http_route test_routes[] = {
    { "GET", "/api/health", REEL_ACCESS_PUBLIC, false, h_dummy, false },
    { "POST", "/api/login", REEL_ACCESS_PUBLIC, false, h_dummy, false },
    { "GET", "/api/things", REEL_ACCESS_USER, true, h_dummy, false },
    { "POST", "/api/things", REEL_ACCESS_ADMIN, true, h_dummy, false },
    { "GET", "/api/things/{thing}", REEL_ACCESS_ADMIN, true, h_dummy, false },
    { "DELETE", "/api/things/{thing}", REEL_ACCESS_ADMIN, true, h_dummy, false },
    { "GET", "/api/things/special", REEL_ACCESS_USER, true, h_dummy, false },
    { "GET", "/api/things/{thing}/parts", REEL_ACCESS_USER, true, h_dummy, false },
};
#define NTEST_ROUTES (sizeof(test_routes) / sizeof(test_routes[0]))

static void test_route_find(void **state)
{
    (void)state;
    struct reel_http_match *m = malloc(sizeof(*m));
    assert_non_null(m);
    const struct reel_http_route *t = test_routes;
    size_t n = NTEST_ROUTES;
    /* exact paths; GET routes answer HEAD */
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/health", m), REEL_ROUTE_FOUND);
    assert_ptr_equal(m->route, &t[0]);
    assert_string_equal(m->name, "");
    assert_int_equal(reel_http_route_find(t, n, "HEAD", "/api/things", m), REEL_ROUTE_FOUND);
    assert_ptr_equal(m->route, &t[2]);
    assert_int_equal(m->access, REEL_ACCESS_USER);
    assert_int_equal(reel_http_route_find(t, n, "POST", "/api/things", m), REEL_ROUTE_FOUND);
    assert_ptr_equal(m->route, &t[3]);
    assert_int_equal(m->access, REEL_ACCESS_ADMIN);
    /* a parameter, percent-decoded */
    assert_int_equal(reel_http_route_find(t, n, "DELETE", "/api/things/cam%2D1", m), REEL_ROUTE_FOUND);
    assert_ptr_equal(m->route, &t[5]);
    assert_string_equal(m->name, "cam-1");
    assert_string_equal(m->label, "thing");
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/things/x_y/parts", m), REEL_ROUTE_FOUND);
    assert_ptr_equal(m->route, &t[7]);
    assert_string_equal(m->name, "x_y");
    /* a literal beats a parameter at the same place */
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/things/special", m), REEL_ROUTE_FOUND);
    assert_ptr_equal(m->route, &t[6]);
    assert_int_equal(reel_http_route_find(t, n, "DELETE", "/api/things/special", m), REEL_ROUTE_BAD_METHOD);
    assert_string_equal(m->allow, "GET, HEAD");
    /* 404 vs 405 */
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/nope", m), REEL_ROUTE_NOT_FOUND);
    assert_int_equal(m->access, REEL_ACCESS_USER);
    assert_null(m->route);
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/things/a/b", m), REEL_ROUTE_NOT_FOUND);
    assert_int_equal(reel_http_route_find(t, n, "PUT", "/api/things", m), REEL_ROUTE_BAD_METHOD);
    assert_string_equal(m->allow, "GET, HEAD, POST");
    assert_int_equal(m->access, REEL_ACCESS_USER); /* the least of the path's routes: check credentials first */
    assert_int_equal(reel_http_route_find(t, n, "PATCH", "/api/things/a", m), REEL_ROUTE_BAD_METHOD);
    assert_string_equal(m->allow, "GET, HEAD, DELETE");
    assert_int_equal(m->access, REEL_ACCESS_ADMIN);
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/login", m), REEL_ROUTE_BAD_METHOD);
    assert_string_equal(m->allow, "POST");
    assert_int_equal(m->access, REEL_ACCESS_PUBLIC); /* a public route: 405 at once */
    assert_int_equal(reel_http_route_find(t, n, "POST", "/api/health", m), REEL_ROUTE_BAD_METHOD);
    assert_string_equal(m->allow, "GET, HEAD");
    /* a parameter with bad characters is refused after the match */
    const char *bad[] = { "/api/things/a.b", "/api/things/a%20b", "/api/things/..", "/api/things/%2e%2e/parts",
                          "/api/things/a%3Bb/parts",
                          "/api/things/0123456789012345678901234567890123456789012345678901234567890123" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(reel_http_route_find(t, n, "GET", bad[i], m), REEL_ROUTE_BAD_NAME);
        assert_string_equal(m->label, "thing");
        assert_non_null(m->route);
    }
    /* trailing slash and empty segments are other paths */
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/things/", m), REEL_ROUTE_NOT_FOUND);
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/health/", m), REEL_ROUTE_NOT_FOUND);
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api//things", m), REEL_ROUTE_NOT_FOUND);
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/things//parts", m), REEL_ROUTE_NOT_FOUND);
    /* paths that cannot be split: too many or too long segments 404, bad escapes 400 */
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/a/b/c/d/e/f/g/h", m), REEL_ROUTE_BAD_PATH);
    assert_int_equal(m->status, 404);
    char longp[400];
    memset(longp, 'a', sizeof(longp));
    memcpy(longp, "/api/things/", 12);
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(reel_http_route_find(t, n, "GET", longp, m), REEL_ROUTE_BAD_PATH);
    assert_int_equal(m->status, 404);
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/things/a%2Fb", m), REEL_ROUTE_BAD_PATH);
    assert_int_equal(m->status, 400);
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/things/a%00", m), REEL_ROUTE_BAD_PATH);
    assert_int_equal(reel_http_route_find(t, n, "GET", "/api/things/%zz", m), REEL_ROUTE_BAD_PATH);
    assert_int_equal(m->status, 400);
    assert_int_equal(reel_http_route_find(t, n, "GET", "api/things", m), REEL_ROUTE_BAD_PATH);
    /* outside /api/: the caller serves static files; segs tell it */
    assert_int_equal(reel_http_route_find(t, n, "GET", "/app.js", m), REEL_ROUTE_NOT_FOUND);
    assert_int_equal(m->nsegs, 1);
    assert_string_equal(m->segs[0], "app.js");
    free(m);
}

/* The API's own table: every pattern is well formed and finds itself, and
 * the routes that change state all want the CSRF token. */
static void test_route_table(void **state)
{
    (void)state;
    struct reel_http_match *m = malloc(sizeof(*m));
    assert_non_null(m);
    for (size_t i = 0; i < reel_api_nroutes; i++) {
        const struct reel_http_route *rt = &reel_api_routes[i];
        char path[256];
        const char *p = strchr(rt->pattern, '{'), *q = p ? strchr(p, '}') : NULL;
        if (p && q)
            snprintf(path, sizeof(path), "%.*sx0%s", (int)(p - rt->pattern), rt->pattern, q + 1);
        else
            snprintf(path, sizeof(path), "%s", rt->pattern);
        assert_int_equal(reel_http_route_find(reel_api_routes, reel_api_nroutes, rt->method, path, m),
                         REEL_ROUTE_FOUND);
        assert_ptr_equal(m->route, rt);
        if (reel_http_method_changes_state(rt->method) && rt->access != REEL_ACCESS_PUBLIC)
            assert_true(rt->csrf);
    }
    /* the camera configuration is for administrators */
    const char *admin[][2] = { { "POST", "/api/cameras" }, { "PATCH", "/api/cameras/x" },
                               { "DELETE", "/api/cameras/x" }, { "POST", "/api/cameras/x/enable" },
                               { "POST", "/api/cameras/x/disable" }, { "GET", "/api/cameras/x/config" } };
    for (size_t i = 0; i < sizeof(admin) / sizeof(admin[0]); i++) {
        assert_int_equal(reel_http_route_find(reel_api_routes, reel_api_nroutes, admin[i][0], admin[i][1], m),
                         REEL_ROUTE_FOUND);
        assert_int_equal(m->access, REEL_ACCESS_ADMIN);
    }
    assert_int_equal(reel_http_route_find(reel_api_routes, reel_api_nroutes, "GET", "/api/cameras/a.b/spans", m),
                     REEL_ROUTE_BAD_NAME);
    assert_string_equal(m->label, "camera");
    free(m);
}

/* ---- the camera body ---- */

static int cam_parse(const char *json, struct reel_api_camera_in *in, char *why)
{
    return reel_api_camera_parse((const uint8_t *)json, strlen(json), in, why, 256);
}

static void test_camera_body(void **state)
{
    (void)state;
    struct reel_api_camera_in in;
    char why[256];
    assert_int_equal(cam_parse("{\"name\":\"front-1\",\"url\":\"rtsp://10.0.0.2:554/s1\",\"user\":\"admin\","
                               "\"password\":\"pa:ss w@rd\",\"udp\":true,\"retain_bytes\":1000,"
                               "\"retain_seconds\":0,\"storage\":2,\"enabled\":false}", &in, why), 0);
    assert_int_equal(in.has, REEL_API_CAM_NAME | REEL_API_CAM_URL | REEL_API_CAM_USER | REEL_API_CAM_PASSWORD |
                                 REEL_API_CAM_UDP | REEL_API_CAM_RETAIN_BYTES | REEL_API_CAM_RETAIN_SECONDS |
                                 REEL_API_CAM_STORAGE | REEL_API_CAM_ENABLED);
    assert_string_equal(in.name, "front-1");
    assert_string_equal(in.url, "rtsp://10.0.0.2:554/s1");
    assert_string_equal(in.user, "admin");
    assert_string_equal(in.password, "pa:ss w@rd");
    assert_true(in.udp);
    assert_false(in.enabled);
    assert_int_equal(in.retain_bytes, 1000);
    assert_int_equal(in.storage, 2);
    /* a subset (PATCH), rtsps, '@' after the host is a path */
    assert_int_equal(cam_parse("{\"url\":\"rtsps://cam.example/a@b\"}", &in, why), 0);
    assert_int_equal(in.has, REEL_API_CAM_URL);
    assert_int_equal(cam_parse("{}", &in, why), 0);
    assert_int_equal(in.has, 0);
    /* refused, each with the field in the reason */
    struct {
        const char *json, *word;
    } bad[] = {
        { "{\"url\":\"rtsp://admin:secretpw@10.0.0.2/s\"}", "credentials" },
        { "{\"url\":\"rtsp://admin@10.0.0.2/s\"}", "credentials" },
        { "{\"url\":\"http://10.0.0.2/s\"}", "url" },
        { "{\"url\":\"rtsp://\"}", "url: no host" },
        { "{\"url\":\"rtsp:///x\"}", "url: no host" },
        { "{\"url\":\"rtsp://a b/\"}", "url" },
        { "{\"url\":\"rtsp://a/\\u0001\"}", "url" },
        { "{\"name\":\"a.b\"}", "name" },
        { "{\"name\":\"\"}", "name" },
        { "{\"name\":\"0123456789012345678901234567890123456789012345678901234567890123\"}", "name" },
        { "{\"name\":7}", "name: expected a string" },
        { "{\"user\":\"a:b\"}", "user" },
        { "{\"user\":\"a\\nb\"}", "user" },
        { "{\"udp\":\"yes\"}", "udp" },
        { "{\"enabled\":1}", "enabled" },
        { "{\"retain_bytes\":-1}", "retain_bytes" },
        { "{\"retain_seconds\":1.5}", "retain_seconds" },
        { "{\"storage\":null}", "storage" },
        { "{\"password\":null}", "password" },
        { "{\"colour\":\"red\"}", "unknown field 'colour'" },
        { "{\"name\":\"a\",\"name\":\"b\"}", "JSON" },
        { "[1]", "JSON object" },
        { "{\"password\":\"hunter2-secret", "JSON" },
        { "", "JSON" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cam_parse(bad[i].json, &in, why), -EINVAL);
        if (!strstr(why, bad[i].word))
            fail_msg("%s: reason '%s' lacks '%s'", bad[i].json, why, bad[i].word);
        assert_null(strstr(why, "secret"));
        assert_null(strstr(why, "hunter2"));
    }
    /* caps */
    char big[2200];
    snprintf(big, sizeof(big), "{\"url\":\"rtsp://h/%01100d\"}", 0);
    assert_int_equal(cam_parse(big, &in, why), -EINVAL);
    assert_non_null(strstr(why, "url"));
    char pw[400];
    snprintf(pw, sizeof(pw), "{\"password\":\"%0256d\"}", 0);
    assert_int_equal(cam_parse(pw, &in, why), -EINVAL);
    assert_non_null(strstr(why, "password: longer"));
    snprintf(pw, sizeof(pw), "{\"password\":\"%0255d\"}", 0);
    assert_int_equal(cam_parse(pw, &in, why), 0);
    snprintf(pw, sizeof(pw), "{\"user\":\"%0128d\"}", 0);
    assert_int_equal(cam_parse(pw, &in, why), -EINVAL);
    static uint8_t huge[REEL_HTTP_BODY_MAX + 1];
    memset(huge, ' ', sizeof(huge));
    assert_int_equal(reel_api_camera_parse(huge, sizeof(huge), &in, why, sizeof(why)), -E2BIG);
}

/* The sub-stream fields of the camera body: sub_url (a URL, or null to
 * remove the sub-stream: the one null accepted) and its retention. */
static void test_camera_body_sub(void **state)
{
    (void)state;
    struct reel_api_camera_in in;
    char why[256];
    assert_int_equal(cam_parse("{\"sub_url\":\"rtsp://10.0.0.2/s2\",\"sub_retain_bytes\":5000,"
                               "\"sub_retain_seconds\":3600}", &in, why), 0);
    assert_int_equal(in.has, REEL_API_CAM_SUB_URL | REEL_API_CAM_SUB_RETAIN_BYTES | REEL_API_CAM_SUB_RETAIN_SECONDS);
    assert_string_equal(in.sub_url, "rtsp://10.0.0.2/s2");
    assert_string_equal(in.url, "");
    assert_false(in.sub_none);
    assert_int_equal(in.sub_retain_bytes, 5000);
    assert_int_equal(in.sub_retain_seconds, 3600);
    assert_int_equal(cam_parse("{\"sub_url\":null}", &in, why), 0);
    assert_int_equal(in.has, REEL_API_CAM_SUB_URL);
    assert_true(in.sub_none);
    assert_string_equal(in.sub_url, "");
    struct {
        const char *json, *word;
    } bad[] = {
        { "{\"sub_url\":\"rtsp://admin:secretpw@10.0.0.2/s\"}", "credentials" },
        { "{\"sub_url\":\"http://10.0.0.2/s\"}", "sub_url: must start" },
        { "{\"sub_url\":\"rtsp://\"}", "sub_url: no host" },
        { "{\"sub_url\":7}", "sub_url: expected a string" },
        { "{\"sub_url\":\"rtsp://a/\",\"sub_url\":null}", "JSON" },
        { "{\"sub_retain_bytes\":-1}", "sub_retain_bytes" },
        { "{\"sub_retain_seconds\":null}", "sub_retain_seconds" },
        { "{\"sub_retain_seconds\":\"1h\"}", "sub_retain_seconds" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cam_parse(bad[i].json, &in, why), -EINVAL);
        if (!strstr(why, bad[i].word))
            fail_msg("%s: reason '%s' lacks '%s'", bad[i].json, why, bad[i].word);
        assert_null(strstr(why, "secret"));
    }
    char big[2200];
    snprintf(big, sizeof(big), "{\"sub_url\":\"rtsp://h/%01100d\"}", 0);
    assert_int_equal(cam_parse(big, &in, why), -EINVAL);
    assert_non_null(strstr(why, "sub_url"));
}

/* The watchdog reads the injected clock: on a fake clock that stands
 * still nothing is shut down however long it runs; once the clock passes
 * the deadline the next sweep (within about a second) shuts the
 * connection down. */
static void test_deadline_fake_clock_thread(void **state)
{
    (void)state;
    const int64_t S = REEL_NS_PER_SEC;
    struct reel_clock_fake fk;
    reel_clock_fake_init(&fk, 1000 * S, 0);
    struct reel_http_deadline *d;
    unsigned closed = 0;
    assert_int_equal(reel_http_deadline_new(&d, 4, 100 * 1000 * 1000, &fk.clock, count_closed, &closed), 0);
    assert_int_equal(reel_http_deadline_start(d), 0);
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    assert_true(reel_http_deadline_add(d, sp[0]) >= 0);
    usleep(400 * 1000); /* real time passes, the fake clock does not */
    assert_false(peer_shut(sp[1]));
    reel_clock_fake_advance(&fk, S); /* not thread safe in general; an aligned 64-bit store here */
    char c;
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(sp[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(recv(sp[1], &c, 1, 0), 0);
    reel_http_deadline_free(d);
    assert_int_equal(closed, 1);
    close(sp[0]);
    close(sp[1]);
    /* NULL is the system clock */
    assert_int_equal(reel_http_deadline_new(&d, 4, S, NULL, NULL, NULL), 0);
    reel_http_deadline_free(d);
}

/* Error messages for a response lose their absolute paths (the database's
 * place on the server), keeping the file name and everything else. */
static void test_scrub_paths(void **state)
{
    (void)state;
    char out[256];
    reel_api_scrub_paths("database /srv/reel data/reel.db: disk I/O error", out, sizeof(out));
    assert_string_equal(out, "database reel data/reel.db: disk I/O error"); /* a space ends a path */
    reel_api_scrub_paths("database /tmp/x/data/reel.db: listing recordings: no such table: recording", out,
                         sizeof(out));
    assert_string_equal(out, "database reel.db: listing recordings: no such table: recording");
    reel_api_scrub_paths("reading '/var/lib/reel/1/00000042' (/dev/sdb1), 3/4 done", out, sizeof(out));
    assert_string_equal(out, "reading '00000042' (sdb1), 3/4 done");
    reel_api_scrub_paths("/a/b", out, sizeof(out));
    assert_string_equal(out, "b");
    reel_api_scrub_paths("no path here: 1/2", out, sizeof(out));
    assert_string_equal(out, "no path here: 1/2");
    reel_api_scrub_paths("", out, sizeof(out));
    assert_string_equal(out, "");
    char small[8];
    reel_api_scrub_paths("database /x/reel.db: busy", small, sizeof(small));
    assert_string_equal(small, "databas");
}

/* The Host check against DNS rebinding (issue 11): IP literals and
 * localhost always, other names only when configured; case, one trailing
 * dot, any port and IPv6 brackets handled; malformed values refused. */
static void test_host_allowed(void **state)
{
    (void)state;
    const char *none[] = { NULL };
    const char *names[] = { "NVR.example.org", "cam-box.", "192.168.1.9" };
    /* the defaults */
    assert_true(reel_http_host_allowed("localhost", none, 0));
    assert_true(reel_http_host_allowed("LocalHost:8080", none, 0));
    assert_true(reel_http_host_allowed("localhost.", none, 0));
    assert_true(reel_http_host_allowed("localhost.:443", none, 0));
    assert_true(reel_http_host_allowed("127.0.0.1", none, 0));
    assert_true(reel_http_host_allowed("127.0.0.1:8080", none, 0));
    assert_true(reel_http_host_allowed("10.1.2.3:1", none, 0));     /* any IP literal */
    assert_true(reel_http_host_allowed("[::1]", none, 0));
    assert_true(reel_http_host_allowed("[::1]:8080", none, 0));
    assert_true(reel_http_host_allowed("[fe80::1:2]:80", none, 0));
    assert_true(reel_http_host_allowed("127.0.0.1:", none, 0));     /* an empty port is allowed (RFC 3986) */
    /* names an attacker's DNS may point at 127.0.0.1 */
    assert_false(reel_http_host_allowed("evil.example", none, 0));
    assert_false(reel_http_host_allowed("evil.example:8080", none, 0));
    assert_false(reel_http_host_allowed("127.0.0.1.evil.example", none, 0));
    assert_false(reel_http_host_allowed("localhost.evil.example", none, 0));
    assert_false(reel_http_host_allowed("x", none, 0));
    assert_false(reel_http_host_allowed("nvr.example.org", none, 0));
    /* malformed */
    assert_false(reel_http_host_allowed(NULL, none, 0));
    assert_false(reel_http_host_allowed("", none, 0));
    assert_false(reel_http_host_allowed(":8080", none, 0));
    assert_false(reel_http_host_allowed("::1", none, 0));          /* IPv6 without brackets */
    assert_false(reel_http_host_allowed("[::1", none, 0));
    assert_false(reel_http_host_allowed("[evil.example]", none, 0));
    assert_false(reel_http_host_allowed("[::1]x", none, 0));
    assert_false(reel_http_host_allowed("localhost:80a", none, 0));
    assert_false(reel_http_host_allowed("localhost:123456", none, 0));
    assert_false(reel_http_host_allowed("localhost:80:80", none, 0));
    assert_false(reel_http_host_allowed(".", none, 0));
    char big[REEL_HTTP_HOST_MAX + 8];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_false(reel_http_host_allowed(big, names, 3));
    /* configured names: case, trailing dots on either side, any port */
    assert_true(reel_http_host_allowed("nvr.example.org", names, 3));
    assert_true(reel_http_host_allowed("NVR.EXAMPLE.ORG:443", names, 3));
    assert_true(reel_http_host_allowed("nvr.example.org.", names, 3));
    assert_true(reel_http_host_allowed("cam-box", names, 3));
    assert_true(reel_http_host_allowed("cam-box.:8080", names, 3));
    assert_false(reel_http_host_allowed("example.org", names, 3));
    assert_false(reel_http_host_allowed("nvr.example.org.evil", names, 3));
    assert_false(reel_http_host_allowed("xnvr.example.org", names, 3));
    const char *any[] = { "*" };
    assert_true(reel_http_host_allowed("whatever.example", any, 1));
    assert_false(reel_http_host_allowed("::1", any, 1));           /* still well-formed only */
    /* the name part */
    char out[64];
    assert_int_equal(reel_http_host_name("Nvr.Example.:8080", out, sizeof(out)), 0);
    assert_string_equal(out, "nvr.example");
    assert_int_equal(reel_http_host_name("[::1]:80", out, sizeof(out)), 1);
    assert_string_equal(out, "::1");
    assert_int_equal(reel_http_host_name("127.0.0.1", out, sizeof(out)), 1);
    assert_int_equal(reel_http_host_name("a.b:x", out, sizeof(out)), -EINVAL);
    char tiny[4];
    assert_int_equal(reel_http_host_name("localhost", tiny, sizeof(tiny)), -EMSGSIZE);
    /* names for --http-host */
    assert_true(reel_http_host_name_valid("nvr.example.org"));
    assert_true(reel_http_host_name_valid("nvr.example.org."));
    assert_true(reel_http_host_name_valid("*"));
    assert_true(reel_http_host_name_valid("192.168.1.9"));
    assert_false(reel_http_host_name_valid(""));
    assert_false(reel_http_host_name_valid("."));
    assert_false(reel_http_host_name_valid("a..b"));
    assert_false(reel_http_host_name_valid(".a"));
    assert_false(reel_http_host_name_valid("-a"));
    assert_false(reel_http_host_name_valid("a b"));
    assert_false(reel_http_host_name_valid("a:80"));
    assert_false(reel_http_host_name_valid("a,DNS:evil"));
    assert_false(reel_http_host_name_valid("*.example"));
}

/* The self-signed pair of --tls: made once (key 0600), read back the same
 * after; a link planted at the temporary name is not followed; the user's
 * files: a key of another certificate, an encrypted key and a file without
 * a certificate are refused with a clear reason. */
static void test_tls_pair(void **state)
{
    (void)state;
    char dir[] = "/tmp/reel-tls-XXXXXX", dir2[64], path[160], path2[160], victim[160];
    assert_non_null(mkdtemp(dir));
    snprintf(dir2, sizeof(dir2), "%s/other", dir);
    assert_int_equal(mkdir(dir2, 0700), 0);
    /* a link where the key is first written must be replaced, not followed */
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    FILE *v = fopen(victim, "w");
    assert_non_null(v);
    fputs("keep me\n", v);
    fclose(v);
    snprintf(path, sizeof(path), "%s/" REEL_TLS_KEY_FILE ".new", dir);
    assert_int_equal(symlink(victim, path), 0);
    struct reel_err err = { "" };
    struct reel_tls_pair a = { 0 }, b = { 0 }, c = { 0 };
    const char *names[] = { "nvr.example.org", "192.168.1.9", "*" };
    assert_int_equal(reel_tls_self_signed(&a, dir, names, 3, 1795734000, &err), 0);
    assert_true(a.created);
    assert_non_null(strstr(a.cert_pem, "-----BEGIN CERTIFICATE-----"));
    assert_non_null(strstr(a.key_pem, "-----BEGIN PRIVATE KEY-----"));
    assert_int_equal(strlen(a.fingerprint), 95);
    assert_true(a.not_after_s >= 1795734000 + (int64_t)REEL_TLS_SELF_DAYS * 86400 - 1);
    char buf[16] = "";
    v = fopen(victim, "r");
    assert_non_null(fgets(buf, sizeof(buf), v));
    fclose(v);
    assert_string_equal(buf, "keep me\n");
    struct stat st;
    snprintf(path, sizeof(path), "%s/" REEL_TLS_KEY_FILE, dir);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    /* reused */
    assert_int_equal(reel_tls_self_signed(&b, dir, names, 3, 1795734000 + 86400, &err), 0);
    assert_false(b.created);
    assert_string_equal(a.fingerprint, b.fingerprint);
    assert_string_equal(a.cert_pem, b.cert_pem);
    reel_tls_pair_clear(&b);
    /* a key others may read is refused */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(reel_tls_self_signed(&b, dir, names, 3, 1795734000, &err), -EPERM);
    assert_non_null(strstr(err.msg, "chmod 600"));
    assert_int_equal(chmod(path, 0600), 0);
    /* the user's files: the pair itself loads, with the same fingerprint */
    snprintf(path2, sizeof(path2), "%s/" REEL_TLS_CERT_FILE, dir);
    assert_int_equal(reel_tls_load(&b, path2, path, &err), 0);
    assert_string_equal(a.fingerprint, b.fingerprint);
    reel_tls_pair_clear(&b);
    /* another pair's key */
    assert_int_equal(reel_tls_self_signed(&c, dir2, NULL, 0, 1795734000, &err), 0);
    char key2[160];
    snprintf(key2, sizeof(key2), "%s/" REEL_TLS_KEY_FILE, dir2);
    assert_int_equal(reel_tls_load(&b, path2, key2, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "does not belong to the certificate"));
    /* no certificate in the file, a missing file, an encrypted key */
    assert_int_equal(reel_tls_load(&b, victim, path, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "no PEM certificate"));
    snprintf(key2, sizeof(key2), "%s/nonexistent.pem", dir);
    assert_int_equal(reel_tls_load(&b, key2, path, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "nonexistent.pem"));
    snprintf(key2, sizeof(key2), "%s/enc.pem", dir);
    v = fopen(key2, "w");
    assert_non_null(v);
    fputs("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n"
          "-----END ENCRYPTED PRIVATE KEY-----\n", v);
    fclose(v);
    assert_int_equal(reel_tls_load(&b, path2, key2, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "encrypted"));
    /* half a pair (a crash between the renames): a new pair */
    assert_int_equal(unlink(path2), 0);
    assert_int_equal(reel_tls_self_signed(&b, dir, names, 3, 1795734000, &err), 0);
    assert_true(b.created);
    assert_string_not_equal(a.fingerprint, b.fingerprint);
    reel_tls_pair_clear(&a);
    reel_tls_pair_clear(&b);
    reel_tls_pair_clear(&c);
    reel_tls_pair_clear(&c);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Issue 14 (ac-roles): CONTRACTS13.md's table of roles x access levels,
 * unknown roles refused, and camera visibility by list (a stream row
 * "front~sub" goes with its camera; admins all, auditors none). */
static void test_access(void **state)
{
    (void)state;
    static const char *const roles[] = { "admin", "operator", "viewer", "auditor" };
    /* rows: USER LIVE PLAYBACK EXPORT LOCK AUDIT ADMIN */
    static const bool want[4][7] = {
        { 1, 1, 1, 1, 1, 1, 1 },
        { 1, 1, 1, 1, 1, 0, 0 },
        { 1, 1, 1, 0, 0, 0, 0 },
        { 1, 0, 0, 0, 0, 1, 0 },
    };
    for (int i = 0; i < 4; i++) {
        assert_true(reel_http_role_allows(roles[i], REEL_ACCESS_PUBLIC));
        for (int a = REEL_ACCESS_USER; a <= REEL_ACCESS_ADMIN; a++)
            if (reel_http_role_allows(roles[i], (enum reel_http_access)a) != want[i][a - 1])
                fail_msg("%s x %s", roles[i], reel_http_access_name((enum reel_http_access)a));
    }
    for (int a = REEL_ACCESS_USER; a <= REEL_ACCESS_ADMIN; a++) {
        assert_false(reel_http_role_allows("root", (enum reel_http_access)a));
        assert_false(reel_http_role_allows("", (enum reel_http_access)a));
        assert_false(reel_http_role_allows(NULL, (enum reel_http_access)a));
    }
    assert_string_equal(reel_http_access_name(REEL_ACCESS_EXPORT), "export");
    char names[2][REEL_CAMERA_NAME_MAX] = { "front", "yard" };
    struct reel_http_acl acl = { .loaded = true, .names = names, .n = 2 };
    assert_true(reel_http_acl_allows("viewer", &acl, "front"));
    assert_true(reel_http_acl_allows("operator", &acl, "front~sub"));
    assert_false(reel_http_acl_allows("viewer", &acl, "back"));
    assert_false(reel_http_acl_allows("viewer", &acl, "fron"));
    assert_false(reel_http_acl_allows("viewer", &acl, "frontdoor"));
    assert_false(reel_http_acl_allows("auditor", &acl, "front"));
    assert_false(reel_http_acl_allows("root", &acl, "front"));
    assert_true(reel_http_acl_allows("admin", &acl, "back"));
    acl.loaded = false;
    assert_false(reel_http_acl_allows("viewer", &acl, "front"));
    acl.loaded = true;
    acl.all = true;
    acl.n = 0;
    assert_true(reel_http_acl_allows("viewer", &acl, "back"));
    assert_false(reel_http_acl_allows("auditor", &acl, "back"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_split), cmocka_unit_test(test_query),     cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_range),      cmocka_unit_test(test_etag),      cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_names_times), cmocka_unit_test(test_ratelimit), cmocka_unit_test(test_client_addr),
        cmocka_unit_test(test_login_guard), cmocka_unit_test(test_timeline), cmocka_unit_test(test_access),
        cmocka_unit_test(test_scrub_paths),
        cmocka_unit_test(test_host_allowed), cmocka_unit_test(test_tls_pair),
        cmocka_unit_test(test_login_body), cmocka_unit_test(test_token_body),
        cmocka_unit_test(test_deadline),   cmocka_unit_test(test_deadline_thread),
        cmocka_unit_test(test_deadline_fake_clock_thread), cmocka_unit_test(test_route_find),
        cmocka_unit_test(test_route_table), cmocka_unit_test(test_camera_body),
        cmocka_unit_test(test_camera_body_sub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

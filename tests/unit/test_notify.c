/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/notify: the delivery signature (a vector computed
 * with Python's hmac), the checks on webhook input and MQTT settings, the
 * retry backoff, and the webhook rows and outbox in an
 * in-memory reel.db. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "db/db.h"
#include "notify/mqtt.h"
#include "notify/sign.h"
#include "notify/webhook.h"
#include "notify/whdb.h"

static void test_sign(void **state)
{
    char sig[REEL_NOTIFY_SIG_MAX];
    assert_int_equal(reel_notify_sign("0123456789abcdef", 1700000000, "{\"a\":1}", 7, sig), 0);
    /* python3: hmac.new(b"0123456789abcdef", b'1700000000.{"a":1}', sha256).hexdigest() */
    assert_string_equal(sig, "sha256=9eb18f493f8ec135d9eb2dad817c369bb4e9cbfa818657897a7437c1cd8c3a23");
}

static void test_checks(void **state)
{
    const char *why;
    assert_int_equal(reel_webhook_check_url("http://127.0.0.1:9/x", &why), 0);
    assert_int_equal(reel_webhook_check_url("HTTPS://example.org/hook?a=1", &why), 0);
    assert_int_equal(reel_webhook_check_url("ftp://example.org/", &why), -EINVAL);
    assert_int_equal(reel_webhook_check_url("file:///etc/passwd", &why), -EINVAL);
    assert_int_equal(reel_webhook_check_url("http://", &why), -EINVAL);
    assert_int_equal(reel_webhook_check_url("http://a b/", &why), -EINVAL);
    assert_int_equal(reel_webhook_check_url("http://a\r\nX: y/", &why), -EINVAL);
    assert_int_equal(reel_webhook_check_url("gopher://x/", &why), -EINVAL);
    char big[1100];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    memcpy(big, "http://", 7);
    assert_int_equal(reel_webhook_check_url(big, &why), -EINVAL);
    assert_int_equal(reel_webhook_check_name("door bell", &why), 0);
    assert_int_equal(reel_webhook_check_name("", &why), -EINVAL);
    assert_int_equal(reel_webhook_check_name("a\nb", &why), -EINVAL);
    assert_int_equal(reel_webhook_check_secret("short", &why), -EINVAL);
    assert_int_equal(reel_webhook_check_secret("0123456789abcdef", &why), 0);
    assert_int_equal(reel_webhook_check_secret("0123456789 abcdef", &why), -EINVAL);
    assert_true(reel_webhook_kind_known("motion"));
    assert_true(reel_webhook_kind_known("*"));
    assert_false(reel_webhook_kind_known("person"));
    assert_true(reel_webhook_kinds_match("*", "disk.full"));
    assert_true(reel_webhook_kinds_match("motion,camera.offline", "camera.offline"));
    assert_false(reel_webhook_kinds_match("motion,camera.offline", "camera"));
    assert_false(reel_webhook_kinds_match("motion", "motio"));
    char s[80];
    assert_int_equal(reel_webhook_secret_new(s, sizeof(s)), 0);
    assert_int_equal(strlen(s), 64);
    assert_int_equal(reel_webhook_check_secret(s, &why), 0);
}

static void test_mqtt_checks(void **state)
{
    char host[64];
    int port;
    bool tls;
    assert_int_equal(reel_mqtt_url_parse("mqtt://127.0.0.1:1884", host, sizeof(host), &port, &tls), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 1884);
    assert_false(tls);
    assert_int_equal(reel_mqtt_url_parse("mqtts://broker.lan", host, sizeof(host), &port, &tls), 0);
    assert_int_equal(port, 8883);
    assert_true(tls);
    assert_int_equal(reel_mqtt_url_parse("mqtt://[::1]:1883/", host, sizeof(host), &port, &tls), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(reel_mqtt_url_parse("http://x", host, sizeof(host), &port, &tls), -EINVAL);
    assert_int_equal(reel_mqtt_url_parse("mqtt://", host, sizeof(host), &port, &tls), -EINVAL);
    assert_int_equal(reel_mqtt_url_parse("mqtt://h:0", host, sizeof(host), &port, &tls), -EINVAL);
    assert_int_equal(reel_mqtt_url_parse("mqtt://h:70000", host, sizeof(host), &port, &tls), -EINVAL);
    assert_int_equal(reel_mqtt_url_parse("mqtt://u:p@h", host, sizeof(host), &port, &tls), -EINVAL);
    assert_int_equal(reel_mqtt_url_parse("mqtt://h/path", host, sizeof(host), &port, &tls), -EINVAL);
    assert_true(reel_mqtt_prefix_valid("reel"));
    assert_true(reel_mqtt_prefix_valid("site/reel-1"));
    assert_false(reel_mqtt_prefix_valid(""));
    assert_false(reel_mqtt_prefix_valid("reel/#"));
    assert_false(reel_mqtt_prefix_valid("a/+/b"));
    assert_false(reel_mqtt_prefix_valid("/reel"));
    assert_false(reel_mqtt_prefix_valid("a//b"));
}

static void test_backoff(void **state)
{
    assert_int_equal(reel_webhook_backoff_s(1), 1);
    assert_int_equal(reel_webhook_backoff_s(2), 2);
    assert_int_equal(reel_webhook_backoff_s(5), 16);
    assert_int_equal(reel_webhook_backoff_s(10), 512);
    assert_int_equal(reel_webhook_backoff_s(11), 600);
    assert_int_equal(reel_webhook_backoff_s(1000), 600);
}

static sqlite3 *mem_db(void)
{
    sqlite3 *db;
    struct reel_err err = { "" };
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(reel_db_exec(db, "PRAGMA foreign_keys = ON", &err), 0);
    assert_int_equal(reel_db_exec(db, "BEGIN", &err), 0);
    assert_int_equal(reel_db_create(db, &err), 0);
    assert_int_equal(reel_db_exec(db, "COMMIT", &err), 0);
    return db;
}

static void test_rows(void **state)
{
    sqlite3 *db = mem_db();
    struct reel_err err = { "" };
    struct reel_webhook a = { .name = "a", .url = "http://127.0.0.1:1/", .secret = "0123456789abcdef",
                              .kinds = "motion", .enabled = true };
    struct reel_webhook b = { .name = "b", .url = "http://127.0.0.1:2/", .secret = "0123456789abcdef",
                              .kinds = "*", .enabled = true };
    assert_int_equal(reel_webhook_add(db, &a, 1, &err), 0);
    assert_int_equal(reel_webhook_add(db, &b, 2, &err), 0);
    struct reel_webhook dup = a;
    assert_int_equal(reel_webhook_add(db, &dup, 3, &err), -EEXIST);
    size_t n = 0;
    assert_int_equal(reel_webhook_outbox_note(db, "disk.full", "{}", 10, &n, &err), 0);
    assert_int_equal(n, 1);   /* b only */
    assert_int_equal(reel_webhook_outbox_note(db, "motion", "{\"event\":{\"kind\":\"motion\"}}", 11, &n, &err), 0);
    assert_int_equal(n, 2);
    struct reel_webhook_delivery *d = NULL;
    assert_int_equal(reel_webhook_outbox_list(db, b.id, 100, &d, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(d[1].kind, "motion");
    free(d);
    struct reel_webhook g;
    assert_int_equal(reel_webhook_get(db, a.id, &g, &err), 0);
    assert_int_equal(g.pending, 1);
    a.enabled = false;
    assert_int_equal(reel_webhook_update(db, &a, false, &err), 0);
    assert_int_equal(reel_webhook_outbox_note(db, "motion", "{}", 12, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(reel_webhook_delete(db, b.id, &err), 0);
    assert_int_equal(reel_webhook_delete(db, b.id, &err), -ENOENT);
    assert_int_equal(reel_webhook_outbox_list(db, b.id, 100, &d, &n, &err), 0);
    assert_int_equal(n, 0);   /* the outbox went with it */
    free(d);
    int64_t id = 0;
    assert_int_equal(reel_webhook_outbox_one(db, a.id, "{}", 13, &id, &err), 0);
    assert_true(id > 0);
    assert_int_equal(reel_webhook_outbox_one(db, 999, "{}", 13, &id, &err), -ENOENT);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign),      cmocka_unit_test(test_checks),    cmocka_unit_test(test_mqtt_checks),
        cmocka_unit_test(test_backoff),   cmocka_unit_test(test_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

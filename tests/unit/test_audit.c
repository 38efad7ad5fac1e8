/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The audit log (src/audit): appends from several connections and threads
 * form one unbroken chain; verify names the first changed, removed or
 * reordered entry and a truncated tail; a written-down head catches a
 * wholesale rewrite; the playback merger makes one session of many
 * requests; CSV quoting.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "audit/pbmerge.h"
#include "base/buf.h"
#include "db/db.h"

static char *mkdb(void)
{
    char tmpl[] = "/tmp/reel-audit-XXXXXX";
    char *dir = strdup(mkdtemp(tmpl));
    char path[256];
    snprintf(path, sizeof(path), "%s/reel.db", dir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    sqlite3 *db;
    struct reel_err err;
    assert_int_equal(reel_db_open(&db, dir, REEL_DB_CREATE, &err), 0);
    assert_int_equal(reel_db_exec(db, "BEGIN IMMEDIATE", &err), 0);
    assert_int_equal(reel_db_create(db, &err), 0);
    assert_int_equal(reel_db_exec(db, "COMMIT", &err), 0);
    sqlite3_close(db);
    return dir;
}

static sqlite3 *opendb(const char *dir)
{
    sqlite3 *db;
    struct reel_err err;
    assert_int_equal(reel_db_open(&db, dir, REEL_DB_WRITE, &err), 0);
    return db;
}

static void add(sqlite3 *db, const char *user, const char *action)
{
    struct reel_audit_rec r = { .ts_ns = 1000, .user = user, .via = "session", .addr = "127.0.0.1",
                                .action = action, .camera = "front", .detail = "{\"x\":1}" };
    struct reel_err err;
    assert_int_equal(reel_audit_append(db, &r, NULL, &err), 0);
}

struct writer {
    const char *dir;
    int n;
};

static void *writer_run(void *arg)
{
    struct writer *w = arg;
    sqlite3 *db = opendb(w->dir);
    for (int i = 0; i < w->n; i++)
        add(db, "t", "thread");
    sqlite3_close(db);
    return NULL;
}

static void verdict(sqlite3 *db, const char *head, struct reel_audit_verdict *v)
{
    struct reel_err err;
    assert_int_equal(reel_audit_verify(db, head, v, &err), 0);
}

static void test_concurrent_chain(void **state)
{
    char *dir = mkdb();
    pthread_t t[4];
    struct writer w = { dir, 25 };
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer_run, &w), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    sqlite3 *db = opendb(dir);
    struct reel_audit_verdict v;
    verdict(db, NULL, &v);
    assert_true(v.ok);
    assert_int_equal(v.entries, 100);
    assert_int_equal(v.head_id, 100);
    sqlite3_close(db);
    free(dir);
}

static void test_tamper(void **state)
{
    char *dir = mkdb();
    sqlite3 *db = opendb(dir);
    for (int i = 0; i < 10; i++)
        add(db, "alice", "login");
    struct reel_audit_verdict v;
    verdict(db, NULL, &v);
    assert_true(v.ok);
    char head[120], hex[65];
    reel_audit_hex(v.head_hash, hex);
    snprintf(head, sizeof(head), "%lld:%s", (long long)v.head_id, hex);
    struct reel_err err;
    /* edit */
    assert_int_equal(reel_db_exec(db, "UPDATE audit SET user = 'mallory' WHERE id = 4", &err), 0);
    verdict(db, NULL, &v);
    assert_false(v.ok);
    assert_int_equal(v.bad_id, 4);
    assert_non_null(strstr(v.msg, "changed"));
    assert_int_equal(reel_db_exec(db, "UPDATE audit SET user = 'alice' WHERE id = 4", &err), 0);
    verdict(db, head, &v);
    assert_true(v.ok);
    /* reorder: swap entries 6 and 7 */
    assert_int_equal(reel_db_exec(db, "UPDATE audit SET id = -6 WHERE id = 6; UPDATE audit SET id = 6 WHERE id = 7; "
                                      "UPDATE audit SET id = 7 WHERE id = -6", &err), 0);
    verdict(db, NULL, &v);
    assert_false(v.ok);
    assert_int_equal(v.bad_id, 6);
    assert_non_null(strstr(v.msg, "reordered"));
    assert_int_equal(reel_db_exec(db, "UPDATE audit SET id = -6 WHERE id = 6; UPDATE audit SET id = 6 WHERE id = 7; "
                                      "UPDATE audit SET id = 7 WHERE id = -6", &err), 0);
    /* delete */
    assert_int_equal(reel_db_exec(db, "CREATE TEMP TABLE keep AS SELECT * FROM audit WHERE id = 3; "
                                      "DELETE FROM audit WHERE id = 3", &err), 0);
    verdict(db, NULL, &v);
    assert_false(v.ok);
    assert_int_equal(v.bad_id, 3);
    assert_non_null(strstr(v.msg, "removed"));
    assert_int_equal(reel_db_exec(db, "INSERT INTO audit SELECT * FROM keep", &err), 0);
    verdict(db, NULL, &v);
    assert_true(v.ok);
    /* truncate the tail: sqlite_sequence remembers; the head proves it */
    assert_int_equal(reel_db_exec(db, "DELETE FROM audit WHERE id > 8", &err), 0);
    verdict(db, NULL, &v);
    assert_false(v.ok);
    assert_non_null(strstr(v.msg, "truncated"));
    assert_int_equal(reel_db_exec(db, "UPDATE sqlite_sequence SET seq = 8 WHERE name = 'audit'", &err), 0);
    verdict(db, NULL, &v);
    assert_true(v.ok);   /* a careful attacker hides it from the chain alone... */
    verdict(db, head, &v);
    assert_false(v.ok);  /* ...but not from a head written down */
    assert_int_equal(v.bad_id, 10);
    /* a wholesale rewrite: change entry 2 and recompute every hash after it */
    assert_int_equal(reel_db_exec(db, "DELETE FROM audit WHERE id > 1", &err), 0);
    add(db, "mallory", "login");
    for (int i = 0; i < 8; i++)
        add(db, "alice", "login");
    verdict(db, NULL, &v);
    assert_true(v.ok);
    verdict(db, head, &v);
    assert_false(v.ok);
    assert_non_null(strstr(v.msg, "rewritten"));
    /* a bad head */
    assert_int_equal(reel_audit_verify(db, "12:zz", &v, &err), -EINVAL);
    sqlite3_close(db);
    free(dir);
}

static int count_row(const struct reel_audit_rec *rec, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void test_query(void **state)
{
    char *dir = mkdb();
    sqlite3 *db = opendb(dir);
    add(db, "alice", "camera.add");
    add(db, "bob", "camera.change");
    add(db, "alice", "login");
    int n = 0;
    struct reel_err err;
    struct reel_audit_filter f = { .action = "camera." };
    assert_int_equal(reel_audit_query(db, &f, count_row, &n, NULL, &err), 0);
    assert_int_equal(n, 2);
    n = 0;
    f = (struct reel_audit_filter){ .user = "alice", .limit = 1 };
    bool more;
    assert_int_equal(reel_audit_query(db, &f, count_row, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    assert_true(more);
    sqlite3_close(db);
    free(dir);
}

static void got(const struct reel_audit_pb_session *s, void *arg)
{
    *(struct reel_audit_pb_session *)arg = *s;
}

static void test_pbmerge(void **state)
{
    struct reel_audit_pb *pb;
    assert_int_equal(reel_audit_pb_new(&pb), 0);
    struct reel_audit_pb_session out = { 0 };
    int64_t ns = 1000000000LL * 1000, s90 = 90000;
    /* an hour of 2-second fragments, played in order: one session, one range */
    for (int i = 0; i < 1800; i++)
        reel_audit_pb_add(pb, "alice", "session", "10.0.0.1", "front", "case 7", i * 2 * s90, (i + 1) * 2 * s90,
                          ns + i * 2000000000LL, 60000000000LL, got, &out);
    assert_int_equal(reel_audit_pb_open(pb), 1);
    /* a jump elsewhere: a second range */
    reel_audit_pb_add(pb, "alice", "session", "10.0.0.1", "front", NULL, 90000 * s90, 90010 * s90,
                      ns + 3600000000000LL, 60000000000LL, got, &out);
    reel_audit_pb_flush(pb, ns + 3600000000000LL, -1, got, &out);
    assert_int_equal(reel_audit_pb_open(pb), 0);
    assert_int_equal(out.requests, 1801);
    assert_int_equal(out.nranges, 2);
    assert_int_equal(out.ranges[0][0], 0);
    assert_int_equal(out.ranges[0][1], 3600 * s90);
    assert_string_equal(out.reason, "case 7");
    /* idle: a new session */
    memset(&out, 0, sizeof(out));
    reel_audit_pb_add(pb, "bob", "session", "a", "front", NULL, 0, s90, ns, 60000000000LL, got, &out);
    reel_audit_pb_add(pb, "bob", "session", "a", "front", NULL, 0, s90, ns + 61000000000LL, 60000000000LL, got, &out);
    assert_int_equal(out.requests, 1);
    /* scrubbing at random: at most REEL_AUDIT_PB_RANGES ranges, marked coarse */
    for (int i = 0; i < 500; i++)
        reel_audit_pb_add(pb, "carol", "session", "a", "front", NULL, (int64_t)(i * 7919 % 1000) * 100 * s90,
                          ((int64_t)(i * 7919 % 1000) * 100 + 1) * s90, ns + i, 60000000000LL, got, &out);
    reel_audit_pb_flush(pb, ns + 1000, -1, got, &out);
    assert_true(out.nranges <= REEL_AUDIT_PB_RANGES);
    reel_audit_pb_free(pb);
}

static void test_csv(void **state)
{
    struct reel_audit_rec r = { .id = 3, .ts_ns = 0, .user = "=cmd", .via = "session", .addr = "",
                                .action = "login", .camera = "", .detail = "{\"a\":\"b\"}" };
    struct reel_buf b;
    reel_buf_init(&b, 4096);
    assert_int_equal(reel_audit_csv_row(&r, &b), 0);
    assert_non_null(memmem(b.data, b.len, "\"'=cmd\"", 7));
    assert_non_null(memmem(b.data, b.len, "\"{\"\"a\"\":\"\"b\"\"}\"", 15));
    reel_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_chain),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_pbmerge),
        cmocka_unit_test(test_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

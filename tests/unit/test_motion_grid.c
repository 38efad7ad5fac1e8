/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for the motion grid codec (src/motion/grid.c) and its rows in
 * reel.db (src/motion/mstore.c): golden bytes, round trips (empty minute,
 * a full minute at REEL_GRID_MINUTE_MAX), hostile blobs refused, the
 * matcher against a plain count, and put / each / prune on a real reel.db. */
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
#include "motion/grid.h"
#include "motion/mstore.h"
#include "motion/search.h"

static struct reel_grid_second g_sec[60];
static const struct reel_grid_second *g_ptr[60];
static uint8_t g_blob[REEL_GRID_MINUTE_MAX];

static void clear_secs(void)
{
    memset(g_sec, 0, sizeof(g_sec));
    for (unsigned i = 0; i < 60; i++)
        g_ptr[i] = NULL;
}

static size_t encode(void)
{
    size_t len = 12345;
    reel_grid_encode(g_ptr, g_blob, &len);
    return len;
}

static void set_cell(unsigned s, unsigned x, unsigned y, uint8_t level)
{
    g_sec[s].level[y * 16 + x] = level;
    g_ptr[s] = &g_sec[s];
}

static void test_golden(void **state)
{
    (void)state;
    clear_secs();
    set_cell(3, 1, 0, 200);   /* bit 1: byte 0, 0x02 */
    set_cell(3, 0, 1, 7);     /* bit 16: byte 2, 0x01 */
    set_cell(7, 15, 15, 9);   /* bit 255: byte 31, 0x80 */
    size_t len = encode();
    uint8_t want[2 + 32 + (1 + 32 + 2) + (1 + 32 + 1)] = { 1, 2 };
    want[2 + 0] = 0x02; want[2 + 2] = 0x01; want[2 + 31] = 0x80;
    uint8_t *r = want + 34;
    r[0] = 3; r[1 + 0] = 0x02; r[1 + 2] = 0x01; r[33] = 200; r[34] = 7;
    r += 35;
    r[0] = 7; r[1 + 31] = 0x80; r[33] = 9;
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(g_blob, want, sizeof(want));
    struct reel_err err;
    assert_int_equal(reel_grid_check(g_blob, len, &err), 0);
    struct reel_grid_second out;
    reel_grid_second_get(g_blob, len, 3, &out);
    assert_memory_equal(&out, &g_sec[3], sizeof(out));
    reel_grid_second_get(g_blob, len, 4, &out);
    static const struct reel_grid_second zero;
    assert_memory_equal(&out, &zero, sizeof(out));
    assert_int_equal(reel_grid_seconds(g_blob, len), (UINT64_C(1) << 3) | (UINT64_C(1) << 7));
}

static void test_empty_minute(void **state)
{
    (void)state;
    clear_secs();
    assert_int_equal(encode(), 0);
    g_ptr[5] = &g_sec[5];   /* all-zero second: no record */
    assert_int_equal(encode(), 0);
    struct reel_err err;
    assert_int_equal(reel_grid_check(g_blob, 0, &err), -EINVAL);
}

static void test_full_minute(void **state)
{
    (void)state;
    clear_secs();
    for (unsigned s = 0; s < 60; s++) {
        g_ptr[s] = &g_sec[s];
        for (unsigned c = 0; c < 256; c++)
            g_sec[s].level[c] = (uint8_t)(1 + (s * 7 + c) % 255);
    }
    size_t len = encode();
    assert_int_equal(len, REEL_GRID_MINUTE_MAX);
    struct reel_err err;
    assert_int_equal(reel_grid_check(g_blob, len, &err), 0);
    for (unsigned s = 0; s < 60; s++) {
        struct reel_grid_second out;
        reel_grid_second_get(g_blob, len, s, &out);
        assert_memory_equal(&out, &g_sec[s], sizeof(out));
    }
    uint8_t region[32];
    memset(region, 0xff, 32);
    uint64_t secs;
    assert_int_equal(reel_grid_match(g_blob, len, region, 256, 1, &secs), 60);
    assert_true(secs == (UINT64_C(1) << 60) - 1);
    /* one byte more than the largest minute is refused */
    uint8_t big[REEL_GRID_MINUTE_MAX + 1];
    memcpy(big, g_blob, len);
    big[len] = 1;
    assert_int_equal(reel_grid_check(big, sizeof(big), &err), -EINVAL);
}

static void test_round_trip_random(void **state)
{
    (void)state;
    srand(15);
    for (int iter = 0; iter < 200; iter++) {
        clear_secs();
        for (unsigned s = 0; s < 60; s++) {
            if (rand() % 3)
                continue;
            g_ptr[s] = &g_sec[s];
            for (unsigned c = 0; c < 256; c++)
                if (rand() % 10 == 0)
                    g_sec[s].level[c] = (uint8_t)(rand() % 256);
        }
        size_t len = encode();
        if (!len)
            continue;
        struct reel_err err;
        assert_int_equal(reel_grid_check(g_blob, len, &err), 0);
        for (unsigned s = 0; s < 60; s++) {
            struct reel_grid_second out;
            reel_grid_second_get(g_blob, len, s, &out);
            assert_memory_equal(&out, &g_sec[s], sizeof(out));
        }
        /* the matcher against a plain count */
        uint8_t region[32];
        for (unsigned i = 0; i < 32; i++)
            region[i] = (uint8_t)rand();
        unsigned min_cells = 1 + (unsigned)rand() % 4, min_level = (unsigned)rand() % 200;
        uint16_t cells[60];
        uint64_t secs = reel_grid_match_cells(g_blob, len, region, min_cells, min_level, cells);
        for (unsigned s = 0; s < 60; s++) {
            unsigned n = 0;
            for (unsigned c = 0; c < 256; c++)
                if ((region[c / 8] >> (c % 8) & 1) && g_sec[s].level[c] &&
                    g_sec[s].level[c] >= (min_level ? min_level : 1))
                    n++;
            assert_int_equal(!!(secs >> s & 1), n >= min_cells);
            assert_int_equal(cells[s], n >= min_cells ? n : 0);
        }
    }
}

static void test_match_region(void **state)
{
    (void)state;
    clear_secs();
    set_cell(10, 0, 0, 50);
    set_cell(10, 1, 0, 10);
    set_cell(20, 8, 8, 255);
    size_t len = encode();
    uint8_t region[32] = { 0 };
    region[0] = 0x03;                 /* cells (0,0) and (1,0) */
    uint64_t secs;
    assert_int_equal(reel_grid_match(g_blob, len, region, 1, 1, &secs), 1);
    assert_true(secs == UINT64_C(1) << 10);
    assert_int_equal(reel_grid_match(g_blob, len, region, 2, 1, &secs), 1);
    assert_int_equal(reel_grid_match(g_blob, len, region, 2, 20, &secs), 0);  /* (1,0) is only 10 */
    assert_int_equal(reel_grid_match(g_blob, len, region, 1, 20, &secs), 1);
    assert_int_equal(reel_grid_match(g_blob, len, region, 3, 1, &secs), 0);   /* OR bitmap says no */
    memset(region, 0, 32);
    region[(8 * 16 + 8) / 8] = 1;     /* cell (8,8): bit 136 */
    assert_int_equal(reel_grid_match(g_blob, len, region, 1, 255, &secs), 1);
    assert_true(secs == UINT64_C(1) << 20);
}

/* A valid two-record blob to corrupt. */
static size_t valid_blob(void)
{
    clear_secs();
    set_cell(1, 2, 3, 40);
    set_cell(1, 3, 3, 41);
    set_cell(30, 4, 4, 90);
    return encode();
}

static void expect_bad(const uint8_t *b, size_t len, const char *what)
{
    struct reel_err err = { { 0 } };
    assert_int_equal(reel_grid_check(b, len, &err), -EINVAL);
    if (!strstr(err.msg, what))
        fail_msg("'%s' does not say '%s'", err.msg, what);
    /* the readers stay inside it anyway */
    struct reel_grid_second out;
    reel_grid_second_get(b, len, 30, &out);
    uint8_t region[32];
    memset(region, 0xff, 32);
    uint64_t secs;
    (void)reel_grid_match(b, len, region, 1, 1, &secs);
}

static void test_corrupt(void **state)
{
    (void)state;
    size_t len = valid_blob();
    uint8_t b[REEL_GRID_MINUTE_MAX + 8];
    struct reel_err err;
    assert_int_equal(reel_grid_check(g_blob, len, &err), 0);
    /* truncation at every length */
    for (size_t l = 0; l < len; l++) {
        assert_int_equal(reel_grid_check(g_blob, l, &err), -EINVAL);
    }
    expect_bad(g_blob, 10, "shorter than its header");
    expect_bad(g_blob, len - 1, "levels");
    /* trailing byte */
    memcpy(b, g_blob, len); b[len] = 5;
    expect_bad(b, len + 1, "after the last record");
    /* wrong version */
    memcpy(b, g_blob, len); b[0] = 2;
    expect_bad(b, len, "version 2");
    /* nsec 0 and > 60 */
    memcpy(b, g_blob, len); b[1] = 0;
    expect_bad(b, len, "0 second records");
    memcpy(b, g_blob, len); b[1] = 61;
    expect_bad(b, len, "61 second records");
    memcpy(b, g_blob, len); b[1] = 3;   /* more records said than there are */
    expect_bad(b, len, "truncated");
    memcpy(b, g_blob, len); b[1] = 1;   /* fewer */
    expect_bad(b, len, "after the last record");
    /* seconds not increasing: second record's second set to 1 (equal), then 0 (smaller), then 60 */
    size_t rec2 = 34 + 33 + 2;
    memcpy(b, g_blob, len); b[rec2] = 1;
    expect_bad(b, len, "second 1");
    memcpy(b, g_blob, len); b[rec2] = 0;
    expect_bad(b, len, "second 0");
    memcpy(b, g_blob, len); b[rec2] = 60;
    expect_bad(b, len, "second 60");
    /* popcount/length mismatch: one more bit set in the first record (its
     * levels then run into the next record), or in the last one */
    memcpy(b, g_blob, len); b[34 + 1 + 0] |= 0x01; b[2] |= 0x01;
    expect_bad(b, len, "record 1");
    memcpy(b, g_blob, len); b[rec2 + 1] |= 0x01; b[2] |= 0x01;
    expect_bad(b, len, "has 1 of 2 levels");
    /* a record with no cell */
    memcpy(b, g_blob, len); memset(b + rec2 + 1, 0, 32); b[rec2 + 33] = 0;
    expect_bad(b, len - 1, "no cell");
    /* level 0 */
    memcpy(b, g_blob, len); b[34 + 33] = 0;
    expect_bad(b, len, "level 0");
    /* OR bits not matching: one missing, one extra */
    memcpy(b, g_blob, len); b[2 + 31] ^= 0x80;
    expect_bad(b, len, "OR bits");
    memcpy(b, g_blob, len); b[2 + (3 * 16 + 2) / 8] ^= (uint8_t)(1u << ((3 * 16 + 2) % 8));
    expect_bad(b, len, "OR bits");
    assert_int_equal(reel_grid_check(NULL, 0, &err), -EINVAL);
}

/* ---- mstore on a real reel.db ---- */

static sqlite3 *open_db(char *dir)
{
    strcpy(dir, "/tmp/reel-mgrid-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof(path), "%s/reel.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    struct reel_err err;
    assert_int_equal(reel_db_exec(db, "PRAGMA foreign_keys = ON; BEGIN IMMEDIATE", &err), 0);
    assert_int_equal(reel_db_create(db, &err), 0);
    assert_int_equal(reel_db_exec(db, "COMMIT", &err), 0);
    assert_int_equal(reel_db_exec(db, "INSERT INTO storage_dir (id, path, uuid) VALUES (1, '/x', 'u'); "
                                  "INSERT INTO camera (id, name, url, dir_id) VALUES (1, 'front', 'rtsp://x/', 1)",
                                  &err), 0);
    return db;
}

static void close_db(sqlite3 *db, const char *dir)
{
    sqlite3_close(db);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

struct collect {
    int64_t minutes[16];
    size_t n;
};

static int collect_row(void *ctx, int64_t minute90k, const uint8_t *blob, size_t len)
{
    struct collect *c = ctx;
    assert_int_equal(reel_grid_check(blob, len, NULL), 0);
    if (c->n < 16)
        c->minutes[c->n++] = minute90k;
    return 0;
}

static void test_mstore(void **state)
{
    (void)state;
    char dir[64];
    sqlite3 *db = open_db(dir);
    struct reel_err err;
    size_t len = valid_blob();
    const int64_t M = REEL_GRID_MINUTE90K, t0 = 1000000 * M;
    for (int i = 0; i < 5; i++)
        assert_int_equal(reel_mstore_put(db, 1, t0 + i * M, g_blob, len, &err), 0);
    /* replace, not a second row */
    assert_int_equal(reel_mstore_put(db, 1, t0, g_blob, len, &err), 0);
    /* refused: not a minute start, corrupt blob, unknown camera */
    assert_int_equal(reel_mstore_put(db, 1, t0 + 1, g_blob, len, &err), -EINVAL);
    assert_int_equal(reel_mstore_put(db, 1, t0, g_blob, len - 1, &err), -EINVAL);
    assert_int_equal(reel_mstore_put(db, 9, t0, g_blob, len, &err), -EINVAL);
    /* a corrupt row written behind its back is skipped and counted */
    sqlite3_stmt *st;
    assert_int_equal(reel_db_prepare(db, "INSERT INTO motion_minute VALUES (1, ?, x'0201')", &st, &err), 0);
    sqlite3_bind_int64(st, 1, t0 + 5 * M);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    struct collect c = { 0 };
    int64_t corrupt = -1;
    /* a range starting mid-minute includes that minute; to is exclusive */
    assert_int_equal(reel_mstore_each(db, 1, t0 + M / 2, t0 + 3 * M, collect_row, &c, &corrupt, &err), 0);
    assert_int_equal(c.n, 3);
    assert_true(c.minutes[0] == t0 && c.minutes[2] == t0 + 2 * M);
    assert_int_equal(corrupt, 0);
    c.n = 0;
    assert_int_equal(reel_mstore_each(db, 1, t0, t0 + 10 * M, collect_row, &c, &corrupt, &err), 0);
    assert_int_equal(c.n, 5);
    assert_int_equal(corrupt, 1);
    /* an empty put deletes the minute */
    assert_int_equal(reel_mstore_put(db, 1, t0 + 4 * M, g_blob, 0, &err), 0);
    /* prune: minutes ending at or before t0 + 2M -> t0, t0 + M */
    assert_int_equal(reel_mstore_prune(db, 1, t0 + 2 * M + 5, &err), 2);
    c.n = 0;
    assert_int_equal(reel_mstore_each(db, 1, 0, t0 + 10 * M, collect_row, &c, &corrupt, &err), 0);
    assert_int_equal(c.n, 2);
    assert_true(c.minutes[0] == t0 + 2 * M && c.minutes[1] == t0 + 3 * M);
    assert_int_equal(reel_mstore_prune(db, -1, t0 + 100 * M, &err), 3);
    close_db(db, dir);
}

/* search.c: seconds merged into moments (across a minute's edge), clipped
 * to the range, truncated at cap; activity per bucket; one second's grid. */
static void test_search(void **state)
{
    (void)state;
    char dir[64];
    sqlite3 *db = open_db(dir);
    struct reel_err err;
    const int64_t M = REEL_GRID_MINUTE90K, S = 90000, t0 = 2000000 * M;
    clear_secs();
    set_cell(10, 1, 1, 100);
    set_cell(11, 1, 1, 100);
    set_cell(13, 1, 1, 100);
    set_cell(17, 1, 1, 100);   /* 4 s after 13 ended: a new moment... */
    set_cell(17, 2, 1, 100);
    set_cell(59, 1, 1, 100);
    size_t len = encode();
    assert_int_equal(reel_mstore_put(db, 1, t0, g_blob, len, &err), 0);
    clear_secs();
    set_cell(0, 1, 1, 100);
    len = encode();
    assert_int_equal(reel_mstore_put(db, 1, t0 + M, g_blob, len, &err), 0);
    struct reel_msearch_query q = { .camera_id = 1, .from90k = t0, .to90k = t0 + 2 * M, .min_cells = 1, .min_level = 1 };
    q.region[2] = 0x06;
    struct reel_msearch_moment m[8];
    size_t n;
    struct reel_msearch_stats st;
    assert_int_equal(reel_msearch_run(db, &q, m, 8, &n, &st, &err), 0);
    assert_int_equal(n, 3);
    assert_true(m[0].start90k == t0 + 10 * S && m[0].end90k == t0 + 14 * S);
    assert_int_equal(m[0].seconds, 3);
    assert_int_equal(m[0].peak_cells, 1);
    assert_true(m[1].start90k == t0 + 17 * S && m[1].end90k == t0 + 18 * S);
    assert_int_equal(m[1].peak_cells, 2);
    assert_true(m[2].start90k == t0 + 59 * S && m[2].end90k == t0 + 61 * S);
    assert_int_equal(st.minutes_scanned, 2);
    assert_false(st.truncated);
    /* clipped: from inside the first moment, to before the next minute */
    q.from90k = t0 + 11 * S;
    q.to90k = t0 + 60 * S;
    assert_int_equal(reel_msearch_run(db, &q, m, 8, &n, &st, &err), 0);
    assert_int_equal(n, 3);
    assert_true(m[0].start90k == t0 + 11 * S && m[2].end90k == t0 + 60 * S);
    /* truncated */
    q.from90k = t0;
    q.to90k = t0 + 2 * M;
    assert_int_equal(reel_msearch_run(db, &q, m, 2, &n, &st, &err), 0);
    assert_int_equal(n, 2);
    assert_true(st.truncated);
    /* bad queries */
    q.min_cells = 0;
    assert_int_equal(reel_msearch_run(db, &q, m, 2, &n, &st, &err), -EINVAL);
    q.min_cells = 1;
    q.to90k = q.from90k;
    assert_int_equal(reel_msearch_run(db, &q, m, 2, &n, &st, &err), -EINVAL);
    /* activity: 5 of 60 s (rounded up), then 1 of 60 s; 4 buckets of 30 s: 4/30, 1/30, 1/30, 0 */
    uint8_t lv[4];
    int64_t step;
    assert_int_equal(reel_msearch_activity(db, 1, t0, t0 + 2 * M, 2, lv, &step, &st, &err), 0);
    assert_true(step == M);
    assert_int_equal(lv[0], 9);
    assert_int_equal(lv[1], 2);
    assert_int_equal(reel_msearch_activity(db, 1, t0, t0 + 2 * M, 4, lv, &step, &st, &err), 0);
    assert_int_equal(lv[0], 14);
    assert_int_equal(lv[1], 4);
    assert_int_equal(lv[2], 4);
    assert_int_equal(lv[3], 0);
    /* buckets shorter than a second */
    uint8_t many[2000];
    assert_int_equal(reel_msearch_activity(db, 1, t0 + 10 * S, t0 + 12 * S, 2000, many, &step, &st, &err), 0);
    for (unsigned i = 0; i < 2000; i++)
        assert_int_equal(many[i], 100);
    assert_int_equal(reel_msearch_activity(db, 1, t0, t0 + M, 0, lv, &step, &st, &err), -EINVAL);
    struct reel_grid_second g;
    assert_int_equal(reel_msearch_second(db, 1, t0 + 17 * S + 5, &g, &err), 0);
    assert_int_equal(g.level[17], 100);
    assert_int_equal(g.level[18], 100);
    assert_int_equal(reel_msearch_second(db, 1, t0 + 18 * S, &g, &err), 0);
    assert_int_equal(g.level[17], 0);
    close_db(db, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_empty_minute),
        cmocka_unit_test(test_full_minute),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_match_region),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_mstore),
        cmocka_unit_test(test_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

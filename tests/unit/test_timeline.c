/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for the timeline's pure parts: the span cache's merge
 * (src/http/tlcache.c: add in any order, twice, subtract deletions), the
 * zoom merge and the gap kinds (src/http/timeline.c), and the playback
 * fragment's plan and head (src/mp4/fmp4_plan.c, reel_fmp4_run_head): key
 * frame boundaries, the 4 MiB cut, keys only. Decoding of real fragments
 * with ffmpeg is tests/integration/test_timeline.py. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/timeline.h"
#include "http/tlcache.h"
#include "mp4/fmp4_plan.h"

#define S REEL_90K

static void test_spans_add(void **state)
{
    (void)state;
    struct reel_tlspans t = { 0 };
    /* one run of three 60 s recordings, added out of order and twice */
    assert_int_equal(reel_tlspans_add(&t, 60 * S, 120 * S, 1), 0);
    assert_int_equal(reel_tlspans_add(&t, 0, 60 * S, 1), 0);
    assert_int_equal(reel_tlspans_add(&t, 120 * S + S / 4, 180 * S, 1), 0);  /* within the join */
    assert_int_equal(reel_tlspans_add(&t, 60 * S, 120 * S, 1), 0);
    assert_int_equal(t.n, 1);
    assert_true(t.v[0].start90k == 0 && t.v[0].end90k == 180 * S);
    /* another run after a gap, then the open recording growing */
    assert_int_equal(reel_tlspans_add(&t, 200 * S, 210 * S, 2), 0);
    assert_int_equal(reel_tlspans_add(&t, 200 * S, 230 * S, 2), 0);
    assert_int_equal(t.n, 2);
    assert_true(t.v[1].start90k == 200 * S && t.v[1].end90k == 230 * S);
    /* a new run 0.4 s after another run's end is not joined */
    assert_int_equal(reel_tlspans_add(&t, 230 * S + 2 * S / 5, 240 * S, 3), 0);
    assert_int_equal(t.n, 3);
    /* a recording filling the hole joins everything */
    assert_int_equal(reel_tlspans_add(&t, 180 * S, 240 * S, 9), 0);
    assert_int_equal(t.n, 1);
    assert_true(t.v[0].start90k == 0 && t.v[0].end90k == 240 * S);
    /* find: the first span ending after t */
    assert_int_equal(reel_tlspans_find(&t, 239 * S), 0);
    assert_int_equal(reel_tlspans_find(&t, 240 * S), 1);
    reel_tlspans_clear(&t);
}

static void test_spans_sub(void **state)
{
    (void)state;
    struct reel_tlspans t = { 0 };
    assert_int_equal(reel_tlspans_add(&t, 0, 100 * S, 1), 0);
    assert_int_equal(reel_tlspans_add(&t, 200 * S, 300 * S, 2), 0);
    /* retention: the oldest 30 s, then again (idempotent) */
    assert_int_equal(reel_tlspans_sub(&t, 0, 30 * S), 0);
    assert_int_equal(reel_tlspans_sub(&t, 0, 30 * S), 0);
    assert_int_equal(t.n, 2);
    assert_true(t.v[0].start90k == 30 * S && t.v[0].end90k == 100 * S);
    /* a hole in the middle of a span cuts it in two */
    assert_int_equal(reel_tlspans_sub(&t, 240 * S, 250 * S), 0);
    assert_int_equal(t.n, 3);
    assert_true(t.v[1].end90k == 240 * S && t.v[2].start90k == 250 * S);
    /* a range over several spans */
    assert_int_equal(reel_tlspans_sub(&t, 50 * S, 260 * S), 0);
    assert_int_equal(t.n, 2);
    assert_true(t.v[0].start90k == 30 * S && t.v[0].end90k == 50 * S);
    assert_true(t.v[1].start90k == 260 * S && t.v[1].end90k == 300 * S);
    reel_tlspans_clear(&t);
}

static void test_merge_min_gap(void **state)
{
    (void)state;
    struct reel_span recs[3] = {
        { .id = 1, .run_id = 1, .start90k = 10 * S, .wall_duration90k = 40 * S },
        { .id = 2, .run_id = 2, .start90k = 52 * S, .wall_duration90k = 30 * S },  /* 2 s gap */
        { .id = 3, .run_id = 3, .start90k = 120 * S, .wall_duration90k = 79 * S },  /* 38 s gap, 1 s to the end */
    };
    struct reel_gap gaps[1] = { { 82 * S, 120 * S, "authentication failed: 401" } };
    struct reel_timeline t;
    assert_int_equal(reel_timeline_build(recs, 3, gaps, 1, 0, 200 * S, &t), 0);
    assert_int_equal(t.nspans, 3);
    assert_int_equal(reel_timeline_merge(&t, 0, 200 * S, 5 * S), 0);
    assert_int_equal(t.nspans, 2);
    assert_true(t.spans[0].start90k == 10 * S && t.spans[0].end90k == 82 * S);
    /* the 1 s at the end joins the last span; the 10 s at the start stays a gap */
    assert_true(t.spans[1].start90k == 120 * S && t.spans[1].end90k == 200 * S);
    assert_int_equal(t.ngaps, 2);
    assert_true(t.gaps[0].start90k == 0 && t.gaps[0].end90k == 10 * S);
    assert_string_equal(reel_timeline_reason(t.gaps[1].reason), "wrong password");
    reel_timeline_free(&t);
}

static void test_reasons(void **state)
{
    (void)state;
    assert_string_equal(reel_timeline_reason("deleted by retention"), "deleted by retention");
    assert_string_equal(reel_timeline_reason("deleted: disk full"), "deleted: disk full");
    assert_string_equal(reel_timeline_reason("recorder stopped"), "recorder stopped");
    assert_string_equal(reel_timeline_reason("authentication failed: 401 Unauthorized"), "wrong password");
    assert_string_equal(reel_timeline_reason("cannot connect to 10.0.0.1:554: Connection refused"), "refused");
    assert_string_equal(reel_timeline_reason("stalled: no video for 10 s"), "stalled");
    assert_string_equal(reel_timeline_reason("sample file /x/1/00: write failed: Input/output error"), "write error");
    assert_string_equal(reel_timeline_reason("storage stalled: /x not answering"), "write error");
    assert_string_equal(reel_timeline_reason("camera did not answer: timeout"), "offline");
    assert_string_equal(reel_timeline_reason("connecting"), "offline");
    assert_string_equal(reel_timeline_reason("not recorded"), "not recorded");
    assert_string_equal(reel_timeline_reason(""), "not recorded");
}

/* 10 s at 30 fps, a key frame every second (30 frames), each frame `size` bytes. */
static struct reel_frame_info *frames(size_t n, uint32_t size)
{
    struct reel_frame_info *f = calloc(n, sizeof(*f));
    for (size_t i = 0; i < n; i++)
        f[i] = (struct reel_frame_info){ size, 3000, i % 30 == 0 };
    return f;
}

static void test_plan(void **state)
{
    (void)state;
    struct reel_frame_info *f = frames(300, 1000);
    struct reel_fmp4_plan p;
    /* from inside a GOP starts at its key frame; to inside a GOP ends at the next one */
    assert_int_equal(reel_fmp4_plan(f, 300, 40 * 3000, 70 * 3000, false, &p), 0);
    assert_int_equal(p.first, 30);
    assert_int_equal(p.end, 90);
    assert_int_equal(p.from_off, 90000);
    assert_int_equal(p.to_off, 270000);
    assert_int_equal(p.n, 60);
    assert_int_equal(p.offs[0], 30 * 1000);
    reel_fmp4_plan_free(&p);
    /* whole recording, default to */
    assert_int_equal(reel_fmp4_plan(f, 300, 0, INT64_MAX, false, &p), 0);
    assert_true(p.first == 0 && p.end == 300 && p.to_off == 900000 && p.bytes == 300000);
    reel_fmp4_plan_free(&p);
    /* keys only: 10 samples, each lasting a second */
    assert_int_equal(reel_fmp4_plan(f, 300, 0, INT64_MAX, true, &p), 0);
    assert_int_equal(p.n, 10);
    assert_int_equal(p.samples[3].duration90k, 90000);
    assert_true(p.samples[3].key);
    assert_int_equal(p.offs[3], 90 * 1000);
    assert_int_equal(p.bytes, 10000);
    reel_fmp4_plan_free(&p);
    /* past the end */
    assert_int_equal(reel_fmp4_plan(f, 300, 900000, INT64_MAX, false, &p), -ERANGE);
    free(f);
    /* 100 KB frames: a second is 3 MB, so the cut comes after the second GOP */
    f = frames(300, 100000);
    assert_int_equal(reel_fmp4_plan(f, 300, 0, INT64_MAX, false, &p), 0);
    assert_int_equal(p.end, 60);
    assert_true(p.bytes >= REEL_FMP4_PLAN_CUT);
    /* the next one continues exactly there */
    int64_t next = p.to_off;
    reel_fmp4_plan_free(&p);
    assert_int_equal(reel_fmp4_plan(f, 300, next, INT64_MAX, false, &p), 0);
    assert_int_equal(p.first, 60);
    reel_fmp4_plan_free(&p);
    free(f);
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void test_run_head(void **state)
{
    (void)state;
    struct reel_fmp4_sample s[3] = { { 100, 3000, true }, { 50, 3000, false }, { 60, 3000, false } };
    struct reel_buf b;
    assert_int_equal(reel_fmp4_run_head(7, 123456, s, 3, &b), 0);
    assert_memory_equal(b.data + 4, "moof", 4);
    size_t moof = rd32(b.data);
    assert_memory_equal(b.data + moof + 4, "mdat", 4);
    assert_int_equal(rd32(b.data + moof), 8 + 210);
    assert_int_equal(b.len, moof + 8);
    /* trun's data offset points just after the mdat header */
    const uint8_t *trun = memmem(b.data, b.len, "trun", 4);
    assert_non_null(trun);
    assert_int_equal(rd32(trun + 8), 3);
    assert_int_equal(rd32(trun + 12), moof + 8);
    assert_int_equal(rd32(trun + 20), 100);
    assert_int_equal(rd32(trun + 24), 0x02000000u);
    reel_buf_free(&b);
    assert_int_equal(reel_fmp4_run_head(1, 0, s, 0, &b), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spans_add),     cmocka_unit_test(test_spans_sub), cmocka_unit_test(test_merge_min_gap),
        cmocka_unit_test(test_reasons),       cmocka_unit_test(test_plan),      cmocka_unit_test(test_run_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

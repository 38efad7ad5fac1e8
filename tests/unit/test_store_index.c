/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for the frame index codec (src/store/index.c): golden bytes,
 * round trips, and hostile blobs (truncated, overlong, trailing, out of range). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/index.h"

static void test_golden(void **state)
{
    (void)state;
    const struct reel_frame_info in[] = {
        { .size = 1000, .duration90k = 3000, .key = true },
        { .size = 100, .duration90k = 3000, .key = false },
        { .size = 120, .duration90k = 3000, .key = false },
        { .size = 1010, .duration90k = 3003, .key = true },
    };
    /* frame 0: (zz(3000)<<1|1)=12001 -> e1 5d; zz(1000)=2000 -> d0 0f
     * frame 1: 0 -> 00; zz(100)=200 -> c8 01
     * frame 2: 00; zz(20)=40 -> 28
     * frame 3: (zz(3)<<1|1)=13 -> 0d; zz(10)=20 -> 14 */
    static const uint8_t golden[] = { 0xe1, 0x5d, 0xd0, 0x0f, 0x00, 0xc8, 0x01, 0x00, 0x28, 0x0d, 0x14 };
    struct reel_index_enc e;
    reel_index_enc_init(&e, 1024);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(reel_index_enc_add(&e, &in[i]), 0);
    assert_int_equal(e.frames, 4);
    assert_int_equal(e.out.len, sizeof(golden));
    assert_memory_equal(e.out.data, golden, sizeof(golden));
    struct reel_frame_info out[4];
    struct reel_err err;
    assert_int_equal(reel_index_decode(golden, sizeof(golden), 4, out, &err), 0);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(out[i].size, in[i].size);
        assert_int_equal(out[i].duration90k, in[i].duration90k);
        assert_int_equal(out[i].key, in[i].key);
    }
    reel_index_enc_free(&e);
    reel_index_enc_free(NULL);
}

static void test_steady_cost(void **state)
{
    (void)state;
    /* 30 fps, GOP of 30, sizes jittering a little: about 2 bytes a frame */
    struct reel_index_enc e;
    reel_index_enc_init(&e, 1 << 20);
    uint32_t n = 1800;
    for (uint32_t i = 0; i < n; i++) {
        struct reel_frame_info f = { .size = (i % 30 == 0) ? 60000 + (i * 7) % 50 : 3000 + (i * 13) % 50,
                                     .duration90k = 3000, .key = i % 30 == 0 };
        assert_int_equal(reel_index_enc_add(&e, &f), 0);
    }
    assert_true(e.out.len <= 2 * (size_t)n + 100);
    struct reel_frame_info *out = calloc(n, sizeof(*out));
    assert_non_null(out);
    assert_int_equal(reel_index_decode(e.out.data, e.out.len, n, out, NULL), 0);
    assert_int_equal(out[30].size, 60000 + (30 * 7) % 50);
    assert_true(out[30].key);
    assert_int_equal(out[31].size, 3000 + (31 * 13) % 50);
    free(out);
    reel_index_enc_free(&e);
}

static void test_extremes_roundtrip(void **state)
{
    (void)state;
    const struct reel_frame_info in[] = {
        { .size = UINT32_MAX, .duration90k = INT32_MAX, .key = true },
        { .size = 0, .duration90k = 0, .key = true },
        { .size = 1, .duration90k = INT32_MAX, .key = false },
        { .size = UINT32_MAX, .duration90k = 1, .key = false },
    };
    struct reel_index_enc e;
    reel_index_enc_init(&e, 1024);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(reel_index_enc_add(&e, &in[i]), 0);
    struct reel_frame_info out[4];
    assert_int_equal(reel_index_decode(e.out.data, e.out.len, 4, out, NULL), 0);
    assert_memory_equal(out, in, 0); /* fields compared below (padding) */
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(out[i].size, in[i].size);
        assert_int_equal(out[i].duration90k, in[i].duration90k);
        assert_int_equal(out[i].key, in[i].key);
    }
    struct reel_frame_info neg = { .size = 1, .duration90k = -1, .key = true };
    assert_int_equal(reel_index_enc_add(&e, &neg), -EINVAL);
    reel_index_enc_free(&e);
}

static void test_enc_cap(void **state)
{
    (void)state;
    struct reel_index_enc e;
    reel_index_enc_init(&e, 5);
    struct reel_frame_info f = { .size = 1000, .duration90k = 3000, .key = true };
    assert_int_equal(reel_index_enc_add(&e, &f), 0); /* 4 bytes */
    f.size = 100000;
    assert_int_equal(reel_index_enc_add(&e, &f), -EMSGSIZE);
    assert_int_equal(e.out.len, 4); /* all or nothing */
    assert_int_equal(e.frames, 1);
    reel_index_enc_free(&e);
}

static void test_hostile(void **state)
{
    (void)state;
    struct reel_frame_info out[4];
    struct reel_err err;
    static const uint8_t golden[] = { 0xe1, 0x5d, 0xd0, 0x0f, 0x00, 0xc8, 0x01, 0x00, 0x28, 0x0d, 0x14 };
    /* every truncation fails */
    for (size_t n = 0; n < sizeof(golden); n++)
        assert_int_equal(reel_index_decode(golden, n, 4, out, &err), -EBADMSG);
    /* asking for fewer frames leaves trailing bytes */
    assert_int_equal(reel_index_decode(golden, sizeof(golden), 3, out, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "trailing"));
    /* more frames than the blob holds */
    assert_int_equal(reel_index_decode(golden, sizeof(golden), 5, out, &err), -EBADMSG);
    /* zero frames, empty blob: fine; zero frames with bytes: trailing */
    assert_int_equal(reel_index_decode(golden, 0, 0, out, &err), 0);
    assert_int_equal(reel_index_decode(golden, 1, 0, out, &err), -EBADMSG);
    /* an 11-byte varint */
    static const uint8_t overlong[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00 };
    assert_int_equal(reel_index_decode(overlong, sizeof(overlong), 1, out, &err), -EBADMSG);
    /* a 10th byte over 1 overflows 64 bits */
    static const uint8_t over64[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00 };
    assert_int_equal(reel_index_decode(over64, sizeof(over64), 1, out, &err), -EBADMSG);
    /* non-minimal encoding of 0 */
    static const uint8_t nonmin[] = { 0x80, 0x00, 0x00 };
    assert_int_equal(reel_index_decode(nonmin, sizeof(nonmin), 1, out, &err), -EBADMSG);
    /* negative duration: zz(-1)<<1 = 2 -> duration -1 */
    static const uint8_t negdur[] = { 0x02, 0x02 };
    assert_int_equal(reel_index_decode(negdur, sizeof(negdur), 1, out, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "duration"));
    /* negative size: zz(-1) = 1 */
    static const uint8_t negsize[] = { 0x01, 0x01 };
    assert_int_equal(reel_index_decode(negsize, sizeof(negsize), 1, out, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "size"));
    /* duration past INT32_MAX: zz(2^31) << 1 = 2^33 */
    static const uint8_t bigdur[] = { 0x80, 0x80, 0x80, 0x80, 0x20, 0x00 };
    assert_int_equal(reel_index_decode(bigdur, sizeof(bigdur), 1, out, &err), -EBADMSG);
    /* size past UINT32_MAX: zz(2^32) = 2^33 */
    static const uint8_t bigsize[] = { 0x00, 0x80, 0x80, 0x80, 0x80, 0x20 };
    assert_int_equal(reel_index_decode(bigsize, sizeof(bigsize), 1, out, &err), -EBADMSG);
    /* huge deltas must not overflow int64 arithmetic */
    static const uint8_t huge[] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                                    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    assert_int_equal(reel_index_decode(huge, sizeof(huge), 1, out, &err), -EBADMSG);
}

static void test_random_blobs(void **state)
{
    (void)state;
    /* a cheap fuzz: random blobs never crash and either decode or fail cleanly */
    uint32_t seed = 12345;
    uint8_t blob[64];
    struct reel_frame_info out[32];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        seed = seed * 1103515245 + 12345;
        len = (seed >> 16) % sizeof(blob);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245 + 12345;
            blob[i] = (uint8_t)(seed >> 16);
        }
        uint32_t n = (seed >> 8) % 32;
        int r = reel_index_decode(blob, len, n, out, NULL);
        assert_true(r == 0 || r == -EBADMSG);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_steady_cost),
        cmocka_unit_test(test_extremes_roundtrip),
        cmocka_unit_test(test_enc_cap),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_random_blobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

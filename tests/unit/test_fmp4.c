/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/mp4/fmp4.c (live view's fragmented MP4): the init
 * segment's boxes (ftyp, moov with the sample entry and mvex/trex), a
 * fragment's prft NTP time, moof and the trun data offset pointing at the
 * mdat payload, sync flags, and the caps. The decode check with ffprobe of
 * whole streams is tests/integration/test_live.py. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mp4/fmp4.h"

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) << 32 | rd32(p + 4); }

/* The offset of the first box `type` at or after `from` by a byte search (test only). */
static size_t find(const uint8_t *d, size_t len, const char *type)
{
    for (size_t i = 4; i + 4 <= len; i++)
        if (memcmp(d + i, type, 4) == 0)
            return i - 4;
    fail_msg("no %s", type);
    return 0;
}

static void test_init(void **state)
{
    (void)state;
    uint8_t entry[101] = { 0, 0, 0, 101, 'a', 'v', 'c', '1' };
    memcpy(entry + 86, "\0\0\0\x0f" "avcC\x01\x64\x00\x28\xff\xe0\x00", 15);
    struct reel_buf b;
    assert_int_equal(reel_fmp4_init(entry, sizeof(entry), 1920, 1080, &b), 0);
    assert_memory_equal(b.data + 4, "ftyp", 4);
    size_t moov = rd32(b.data);
    assert_memory_equal(b.data + moov + 4, "moov", 4);
    assert_int_equal(moov + rd32(b.data + moov), b.len);
    size_t stsd = find(b.data, b.len, "stsd");
    assert_int_equal(rd32(b.data + stsd + 12), 1);
    assert_memory_equal(b.data + stsd + 16, entry, sizeof(entry));
    size_t tkhd = find(b.data, b.len, "tkhd");
    assert_int_equal(rd32(b.data + tkhd + 84), 1920u << 16);
    assert_int_equal(rd32(b.data + tkhd + 88), 1080u << 16);
    size_t mdhd = find(b.data, b.len, "mdhd");
    assert_int_equal(rd32(b.data + mdhd + 20), REEL_FMP4_TIMESCALE);
    size_t trex = find(b.data, b.len, "trex");
    assert_int_equal(rd32(b.data + trex + 12), 1);   /* track 1 */
    reel_buf_free(&b);
    assert_int_equal(reel_fmp4_init(entry, sizeof(entry), 0, 1080, &b), -EINVAL);
    assert_int_equal(reel_fmp4_init(NULL, 0, 10, 10, &b), -EINVAL);
}

static void test_fragment(void **state)
{
    (void)state;
    uint8_t au[300];
    for (size_t i = 0; i < sizeof(au); i++)
        au[i] = (uint8_t)i;
    /* 2026-01-01T00:00:00.5Z */
    int64_t wall90k = INT64_C(1767225600) * 90000 + 45000;
    struct reel_fmp4_frag f = { .seq = 7, .base_decode90k = 123456, .au_len = sizeof(au), .duration90k = 3000,
                                .key = true, .wall90k = wall90k };
    struct reel_buf b;
    assert_int_equal(reel_fmp4_fragment(&f, au, &b), 0);
    /* prft first: version 1, track 1, NTP seconds since 1900 and the fraction, media time */
    assert_memory_equal(b.data + 4, "prft", 4);
    assert_int_equal(b.data[8], 1);
    assert_int_equal(rd32(b.data + 12), 1);
    uint64_t ntp = rd64(b.data + 16);
    assert_int_equal(ntp >> 32, UINT64_C(1767225600) + UINT64_C(2208988800));
    assert_int_equal(ntp & 0xffffffffu, UINT64_C(0x80000000));
    assert_int_equal(rd64(b.data + 24), 123456);
    size_t moof = rd32(b.data);
    assert_memory_equal(b.data + moof + 4, "moof", 4);
    size_t moof_len = rd32(b.data + moof);
    size_t mdat = moof + moof_len;
    assert_memory_equal(b.data + mdat + 4, "mdat", 4);
    assert_int_equal(rd32(b.data + mdat), 8 + sizeof(au));
    assert_int_equal(mdat + 8 + sizeof(au), b.len);
    assert_memory_equal(b.data + mdat + 8, au, sizeof(au));
    size_t mfhd = find(b.data + moof, moof_len, "mfhd") + moof;
    assert_int_equal(rd32(b.data + mfhd + 12), 7);
    size_t tfdt = find(b.data + moof, moof_len, "tfdt") + moof;
    assert_int_equal(b.data[tfdt + 8], 1);
    assert_int_equal(rd64(b.data + tfdt + 12), 123456);
    size_t trun = find(b.data + moof, moof_len, "trun") + moof;
    assert_int_equal(rd32(b.data + trun + 12), 1);              /* one sample */
    assert_int_equal(moof + rd32(b.data + trun + 16), mdat + 8); /* data offset from the moof */
    assert_int_equal(rd32(b.data + trun + 20), 3000);
    assert_int_equal(rd32(b.data + trun + 24), sizeof(au));
    assert_int_equal(rd32(b.data + trun + 28), 0x02000000);    /* sync */
    reel_buf_free(&b);

    f.key = false;
    uint8_t head[REEL_FMP4_HEAD_MAX];
    int n = reel_fmp4_fragment_head(&f, head, sizeof(head));
    assert_true(n > 0 && (size_t)n == mdat + 8);
    assert_int_equal(rd32(head + trun + 28), 0x01010000);      /* non-sync, depends on others */

    f.au_len = 0;
    assert_int_equal(reel_fmp4_fragment_head(&f, head, sizeof(head)), -EINVAL);
    f.au_len = REEL_FMP4_AU_MAX + 1;
    assert_int_equal(reel_fmp4_fragment_head(&f, head, sizeof(head)), -EINVAL);
    f.au_len = 10;
    assert_int_equal(reel_fmp4_fragment_head(&f, head, 20), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_fragment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Export file names (src/export/name.c): camera, UTC start and length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "export/name.h"

/* 2026-12-06T10:00:00Z */
#define T0 (INT64_C(1796551200) * REEL_90K)

static void test_names(void **state)
{
    (void)state;
    char buf[REEL_EXPORT_NAME_MAX];
    const char *one[] = { "front" };
    reel_export_file_name(one, 1, T0, T0 + 600 * REEL_90K, "mp4", buf, sizeof(buf));
    assert_string_equal(buf, "front_2026-12-06_10-00-00Z_10m.mp4");
    const char *two[] = { "front", "back" };
    reel_export_file_name(two, 2, T0, T0 + 5400 * REEL_90K, "zip", buf, sizeof(buf));
    assert_string_equal(buf, "front+back_2026-12-06_10-00-00Z_1h30m.zip");
    const char *many[] = { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                           "cccccccccccccccccccccccccccccc", "dddddddddddddddddddddddddddddd" };
    reel_export_file_name(many, 4, T0, T0 + 45 * REEL_90K, "zip", buf, sizeof(buf));
    assert_string_equal(buf, "4-cameras_2026-12-06_10-00-00Z_45s.zip");
}

static void test_durations(void **state)
{
    (void)state;
    char b[32];
    reel_export_duration_text(630 * REEL_90K, b, sizeof(b));
    assert_string_equal(b, "10m30s");
    reel_export_duration_text(7200 * REEL_90K, b, sizeof(b));
    assert_string_equal(b, "2h");
    reel_export_duration_text(3605 * REEL_90K, b, sizeof(b));
    assert_string_equal(b, "1h0m5s");
    reel_export_duration_text(REEL_90K / 2, b, sizeof(b));
    assert_string_equal(b, "1s");
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_names), cmocka_unit_test(test_durations) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

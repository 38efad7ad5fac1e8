/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/base: capped buffers, base64, integer parsing, clocks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strutil.h"

static void test_buf_cap(void **state)
{
    (void)state;
    struct reel_buf b;
    reel_buf_init(&b, 10);
    assert_int_equal(reel_buf_append(&b, "hello", 5), 0);
    assert_int_equal(reel_buf_append(&b, "world", 5), 0);
    assert_int_equal(reel_buf_append(&b, "!", 1), -EMSGSIZE);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "helloworld", 10);
    reel_buf_consume(&b, 5);
    assert_memory_equal(b.data, "world", 5);
    assert_int_equal(reel_buf_append_be32(&b, 0x01020304), 0);
    assert_memory_equal(b.data + 5, "\x01\x02\x03\x04", 4);
    assert_int_equal(reel_buf_printf(&b, "%d%d", 1, 2), -EMSGSIZE);
    assert_int_equal(b.len, 9);
    reel_buf_free(&b);
}

static void test_array_grow(void **state)
{
    (void)state;
    int *v = NULL;
    size_t alloc = 0;
    for (size_t n = 0; n < 100; n++) {
        assert_int_equal(reel_array_grow(&v, &alloc, n, sizeof(*v), 4), 0);
        assert_true(alloc > n);
        v[n] = (int)n;
    }
    assert_int_equal(alloc, 128);
    for (int i = 0; i < 100; i++)
        assert_int_equal(v[i], i);
    size_t huge = SIZE_MAX / 2 + 1;
    assert_int_equal(reel_array_grow(&v, &alloc, huge, sizeof(*v), 4), -EOVERFLOW);
    assert_int_equal(alloc, 128);
    free(v);
}

static void test_base64(void **state)
{
    (void)state;
    uint8_t out[16];
    char enc[32];
    assert_int_equal(reel_base64_decode("Z0IAHpWoKA9k", 12, out, sizeof(out)), 9);
    assert_int_equal(out[0], 0x67);
    assert_int_equal(reel_base64_encode(out, 9, enc, sizeof(enc)), 12);
    assert_string_equal(enc, "Z0IAHpWoKA9k");
    assert_int_equal(reel_base64_decode("aGk=", 4, out, sizeof(out)), 2);
    assert_memory_equal(out, "hi", 2);
    assert_int_equal(reel_base64_decode("a", 1, out, sizeof(out)), -EINVAL);
    assert_int_equal(reel_base64_decode("aG k", 4, out, sizeof(out)), -EINVAL);
    assert_int_equal(reel_base64_decode("aGVsbG8=", 8, out, 3), -EMSGSIZE);
    assert_int_equal(reel_base64_decode("", 0, out, sizeof(out)), 0);
}

static void test_parse_i64(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(reel_parse_i64("123", 3, 0, 1000, &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(reel_parse_i64("-5", 2, -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(reel_parse_i64("99999999999999999999", 20, 0, INT64_MAX, &v), -ERANGE);
    assert_int_equal(reel_parse_i64("12a", 3, 0, 1000, &v), -EINVAL);
    assert_int_equal(reel_parse_i64("", 0, 0, 1000, &v), -EINVAL);
    assert_int_equal(reel_parse_i64("2000", 4, 0, 1000, &v), -ERANGE);
}

/* A user name or camera text with a newline or an escape sequence cannot
 * forge a log line or drive the terminal (issue 11). */
static void test_log_escape(void **state)
{
    (void)state;
    char out[64];
    const char forged[] = "alice\n2026-01-01T00:00:00.000Z info  admin signed in\x1b[2J\\";
    size_t n = reel_log_escape(forged, sizeof(forged) - 1, out, 40);
    assert_int_equal(n, strlen(out));
    assert_true(n < 40);
    assert_null(strchr(out, '\n'));
    assert_memory_equal(out, "alice\\x0a2026", 13);
    n = reel_log_escape("a\x1b[2Jb\\c\x7f", 9, out, sizeof(out));
    assert_string_equal(out, "a\\x1b[2Jb\\\\c\\x7f");
    /* never half an escape at the cut */
    n = reel_log_escape("ab\n", 3, out, 5);
    assert_string_equal(out, "ab");
    assert_int_equal(reel_log_escape("x", 1, out, 0), 0);

    int p[2];
    assert_int_equal(pipe(p), 0);
    struct reel_logger lg = { .fd = p[1], .min = REEL_LOG_DEBUG };
    reel_log(&lg, REEL_LOG_WARN, "login failed for user \"%s\"", "eve\nforged line");
    char line[2048];
    ssize_t r = read(p[0], line, sizeof(line) - 1);
    assert_true(r > 0);
    line[r] = 0;
    close(p[0]);
    close(p[1]);
    assert_non_null(strstr(line, "eve\\x0aforged line\"\n"));
    assert_ptr_equal(strchr(line, '\n'), line + r - 1);
}

static void test_clock(void **state)
{
    (void)state;
    struct reel_clock_fake f;
    reel_clock_fake_init(&f, 100, 1000);
    assert_int_equal(reel_clock_mono(&f.clock), 100);
    reel_clock_fake_advance(&f, 50);
    assert_int_equal(reel_clock_wall(&f.clock), 1050);
    assert_int_equal(reel_ns_to_90k(REEL_NS_PER_SEC), 90000);
    assert_int_equal(reel_90k_to_ns(90000), REEL_NS_PER_SEC);
    assert_int_equal(reel_ns_to_90k(reel_90k_to_ns(123456789)), 123456789);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_array_grow),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_log_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

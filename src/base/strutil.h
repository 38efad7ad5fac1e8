/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Small string helpers shared by the protocol parsers: base64, hex, bounded
 * integer parsing. All take explicit lengths; none allocate.
 */
#ifndef REEL_BASE_STRUTIL_H
#define REEL_BASE_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes base64 (standard alphabet, padding optional, whitespace rejected)
 * into out (capacity out_cap). Returns decoded length or -EINVAL / -EMSGSIZE. */
int reel_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap);
/* Encodes n bytes into out (capacity out_cap, NUL-terminated). Returns the
 * length written (without NUL) or -EMSGSIZE. */
int reel_base64_encode(const uint8_t *in, size_t n, char *out, size_t out_cap);
/* Lower-case hex of n bytes into out (capacity >= 2n+1). */
void reel_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parses a decimal integer in [min, max] from s[0..len). -EINVAL / -ERANGE. */
int reel_parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *ret);
/* ASCII case-insensitive comparison of a length-bounded string with a C string. */
bool reel_strn_ieq(const char *s, size_t len, const char *lit);

#endif

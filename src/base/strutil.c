/* SPDX-License-Identifier: GPL-3.0-or-later
 * base64, hex and bounded integer parsing. */
#include "base/strutil.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

int reel_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap)
{
    while (in_len > 0 && in[in_len - 1] == '=')
        in_len--;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < in_len; i++) {
        int v = b64_val(in[i]);
        if (v < 0)
            return -EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= out_cap)
                return -EMSGSIZE;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits >= 6) /* a single leftover character cannot encode a byte */
        return -EINVAL;
    return (int)o;
}

int reel_base64_encode(const uint8_t *in, size_t n, char *out, size_t out_cap)
{
    size_t need = (n + 2) / 3 * 4;
    if (need + 1 > out_cap)
        return -EMSGSIZE;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

void reel_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int reel_parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *ret)
{
    size_t i = 0;
    bool neg = false;
    if (len == 0)
        return -EINVAL;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return -EINVAL;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        if (v > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return -ERANGE;
    int64_t x = neg ? (int64_t)(0 - v) : (int64_t)v;
    if (x < min || x > max)
        return -ERANGE;
    *ret = x;
    return 0;
}

bool reel_strn_ieq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

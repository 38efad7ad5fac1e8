/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * TOTP codes and base32; see totp.h.
 */
#include "http/totp.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

int64_t reel_totp_step(int64_t unix_s)
{
    int64_t s = unix_s / REEL_TOTP_STEP_S;
    if (unix_s < 0 && unix_s % REEL_TOTP_STEP_S != 0)
        s--;
    return s;
}

int64_t reel_totp_code(const uint8_t *key, size_t len, int64_t step, int digits)
{
    if (digits < 6 || digits > 8)
        return -1;
    uint8_t msg[8];
    uint64_t c = (uint64_t)step;
    for (int i = 7; i >= 0; i--) {
        msg[i] = (uint8_t)(c & 0xff);
        c >>= 8;
    }
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha1(), key, (int)len, msg, sizeof(msg), mac, &mac_len) || mac_len < 20)
        return -1;
    unsigned off = mac[mac_len - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < digits; i++)
        mod *= 10;
    return (int64_t)(bin % mod);
}

int64_t reel_totp_check(const uint8_t *key, size_t len, const char *code, int64_t now_step, int64_t last_used)
{
    if (!code || strlen(code) != REEL_TOTP_DIGITS)
        return -1;
    int64_t want = 0;
    for (int i = 0; i < REEL_TOTP_DIGITS; i++) {
        if (code[i] < '0' || code[i] > '9')
            return -1;
        want = want * 10 + (code[i] - '0');
    }
    int64_t found = -1;
    /* every step is computed and compared (no early exit): the time taken
     * does not tell which step matched */
    for (int64_t d = -1; d <= 1; d++) {
        int64_t got = reel_totp_code(key, len, now_step + d, REEL_TOTP_DIGITS);
        uint64_t diff = (uint64_t)(got ^ want);
        if (got >= 0 && diff == 0 && found < 0)
            found = now_step + d;
    }
    if (found >= 0 && found <= last_used)
        return -1;
    return found;
}

void reel_base32_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0;
    uint32_t buf = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5 && o + 1 < cap) {
            out[o++] = alpha[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0 && o + 1 < cap)
        out[o++] = alpha[(buf << (5 - bits)) & 31];
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
}

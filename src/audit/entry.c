/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The canonical encoding of an audit row and its hash (see audit.h). The
 * encoding is unambiguous (every text field is length-prefixed), so no two
 * different rows encode alike; it is hashed with BLAKE2b-256 in streaming
 * mode, field by field, so nothing is copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"

static const char TAG[] = "reel-audit-1";

static void put_be(crypto_generichash_state *st, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    crypto_generichash_update(st, b, (unsigned long long)bytes);
}

static int put_text(crypto_generichash_state *st, const char *s, size_t cap)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= cap)
        return -EINVAL;
    put_be(st, n, 4);
    if (n)
        crypto_generichash_update(st, (const uint8_t *)s, n);
    return 0;
}

int reel_audit_hash(const struct reel_audit_rec *rec, uint8_t out[REEL_AUDIT_HASH])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, REEL_AUDIT_HASH);
    crypto_generichash_update(&st, (const uint8_t *)TAG, sizeof(TAG));
    put_be(&st, (uint64_t)rec->id, 8);
    put_be(&st, (uint64_t)rec->ts_ns, 8);
    int r = put_text(&st, rec->user, REEL_AUDIT_USER_MAX);
    if (r == 0)
        r = put_text(&st, rec->via, REEL_AUDIT_VIA_MAX);
    if (r == 0)
        r = put_text(&st, rec->addr, REEL_AUDIT_ADDR_MAX);
    if (r == 0)
        r = put_text(&st, rec->action, REEL_AUDIT_ACTION_MAX);
    if (r == 0)
        r = put_text(&st, rec->camera, REEL_AUDIT_CAMERA_MAX);
    if (r == 0)
        r = put_text(&st, rec->detail, REEL_AUDIT_DETAIL_MAX);
    crypto_generichash_update(&st, rec->prev, REEL_AUDIT_HASH);
    crypto_generichash_final(&st, out, REEL_AUDIT_HASH);
    return r;
}

void reel_audit_hex(const uint8_t h[REEL_AUDIT_HASH], char out[2 * REEL_AUDIT_HASH + 1])
{
    sodium_bin2hex(out, 2 * REEL_AUDIT_HASH + 1, h, REEL_AUDIT_HASH);
}

int reel_audit_head_parse(const char *s, int64_t *ret_id, uint8_t ret_hash[REEL_AUDIT_HASH])
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || colon - s > 18)
        return -EINVAL;
    int64_t id = 0;
    for (const char *p = s; p < colon; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        id = id * 10 + (*p - '0');
    }
    const char *hex = colon + 1;
    size_t bin_len = 0;
    uint8_t h[REEL_AUDIT_HASH];
    if (id < 1 || strlen(hex) != 2 * REEL_AUDIT_HASH ||
        sodium_hex2bin(h, sizeof(h), hex, strlen(hex), NULL, &bin_len, NULL) != 0 || bin_len != REEL_AUDIT_HASH)
        return -EINVAL;
    *ret_id = id;
    memcpy(ret_hash, h, REEL_AUDIT_HASH);
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * HMAC-SHA256 of a webhook delivery (sign.h), with OpenSSL's libcrypto.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "notify/sign.h"

int reel_notify_sign(const char *secret, int64_t unix_s, const char *body, size_t len, char *out)
{
    char ts[24];
    int tl = snprintf(ts, sizeof(ts), "%lld.", (long long)unix_s);
    size_t n = (size_t)tl + len;
    unsigned char *msg = malloc(n ? n : 1);
    if (!msg)
        return -ENOMEM;
    memcpy(msg, ts, (size_t)tl);
    if (len)
        memcpy(msg + tl, body, len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    unsigned char *ok = HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, n, md, &mdlen);
    free(msg);
    if (!ok || mdlen != 32)
        return -EIO;
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

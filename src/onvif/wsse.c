/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * WS-Security UsernameToken with a PasswordDigest (ONVIF Core 5.12.2.1;
 * OASIS UsernameToken Profile 1.0): Digest = Base64(SHA1(nonce + created +
 * password)), where nonce is the raw bytes and created the wsu:Created text.
 * The caller gives the time already corrected by the device's clock skew.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "onvif/soap.h"

void reel_onvif_digest(const uint8_t *nonce, size_t nonce_len, const char *created, const char *password,
                       char out[32])
{
    uint8_t md[SHA_DIGEST_LENGTH] = { 0 };
    unsigned mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, EVP_sha1(), NULL) || !EVP_DigestUpdate(c, nonce, nonce_len) ||
        !EVP_DigestUpdate(c, created, strlen(created)) || !EVP_DigestUpdate(c, password, strlen(password)) ||
        !EVP_DigestFinal_ex(c, md, &mdlen))
        memset(md, 0, sizeof(md));   /* a digest no device accepts: the call fails as not authorised */
    EVP_MD_CTX_free(c);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

bool reel_onvif_xml_escape(const char *s, char *out, size_t cap)
{
    size_t j = 0;
    for (; *s; s++) {
        const char *r = NULL;
        switch (*s) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&apos;"; break;
        default: break;
        }
        size_t l = r ? strlen(r) : 1;
        if (j + l >= cap)
            return false;
        if (r)
            memcpy(out + j, r, l);
        else
            out[j] = *s;
        j += l;
    }
    out[j] = '\0';
    return true;
}

int reel_onvif_wsse(const char *user, const char *password, int64_t wall_ns, const uint8_t nonce[16], char *out,
                    size_t cap)
{
    char created[96], digest[32], nonce64[32], u[REEL_ONVIF_USER_MAX * 6 + 1];
    time_t t = (time_t)(wall_ns / REEL_NS_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(created, sizeof(created), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ns % REEL_NS_PER_SEC / 1000000));
    if (strlen(user) > REEL_ONVIF_USER_MAX || strlen(password) > REEL_ONVIF_PASSWORD_MAX || !reel_onvif_xml_escape(user, u, sizeof(u)))
        return -ENAMETOOLONG;
    reel_onvif_digest(nonce, 16, created, password, digest);
    EVP_EncodeBlock((unsigned char *)nonce64, nonce, 16);
    int w = snprintf(out, cap,
                     "<wsse:Security s:mustUnderstand=\"1\" "
                     "xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\" "
                     "xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">"
                     "<wsse:UsernameToken><wsse:Username>%s</wsse:Username>"
                     "<wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/"
                     "oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">%s</wsse:Password>"
                     "<wsse:Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/"
                     "oasis-200401-wss-soap-message-security-1.0#Base64Binary\">%s</wsse:Nonce>"
                     "<wsu:Created>%s</wsu:Created></wsse:UsernameToken></wsse:Security>",
                     u, digest, nonce64, created);
    return w > 0 && (size_t)w < cap ? 0 : -ENOSPC;
}

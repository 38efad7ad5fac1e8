/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One SOAP call over libcurl (soap.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "onvif/soap.h"

#define ENVELOPE_NS                                                                                               \
    "xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "                                                       \
    "xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\" "                                                      \
    "xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\" "                                                       \
    "xmlns:tt=\"http://www.onvif.org/ver10/schema\" "                                                            \
    "xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\" "                                                      \
    "xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\" "                                                         \
    "xmlns:wsa=\"http://www.w3.org/2005/08/addressing\""

struct sink {
    char *buf;
    size_t len, cap;
    bool over;
};

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
    struct sink *s = ud;
    size_t n = sz * nm;
    if (s->len + n > REEL_ONVIF_REPLY_MAX) {
        s->over = true;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 16384;
        while (nc < s->len + n + 1)
            nc *= 2;
        if (nc > REEL_ONVIF_REPLY_MAX + 1)
            nc = REEL_ONVIF_REPLY_MAX + 1;
        char *b = realloc(s->buf, nc);
        if (!b)
            return 0;
        s->buf = b;
        s->cap = nc;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    const struct reel_onvif_auth *au = ud;
    return au->cancel && au->cancel(au->cancel_opaque) ? 1 : 0;
}

static bool url_ok(const char *url)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return strlen(url) < REEL_ONVIF_URL_MAX;
}

int reel_onvif_soap(const char *url, const struct reel_onvif_auth *a, const char *action, const char *wsa_to,
                    const char *body, char **ret_body, size_t *ret_len, struct reel_err *err)
{
    if (!url_ok(url))
        return reel_err_set(err, EINVAL, "address must be an http:// or https:// URL without spaces");
    const struct reel_clock *clock = a->clock ? a->clock : reel_clock_system();
    char sec[2048] = "";
    if (a->user && a->user[0]) {
        uint8_t nonce[16];
        if (RAND_bytes(nonce, sizeof(nonce)) != 1)
            return reel_err_set(err, EIO, "no random bytes for the nonce");
        if (reel_onvif_wsse(a->user, a->password ? a->password : "", reel_clock_wall(clock) + a->skew_ns, nonce, sec,
                            sizeof(sec)) < 0)
            return reel_err_set(err, ENAMETOOLONG, "user name or password too long");
    }
    char addr[REEL_ONVIF_URL_MAX * 7 + 256] = "";
    if (wsa_to) {
        char to[REEL_ONVIF_URL_MAX * 6];
        if (!reel_onvif_xml_escape(wsa_to, to, sizeof(to)))
            return reel_err_set(err, ENAMETOOLONG, "address too long");
        snprintf(addr, sizeof(addr), "<wsa:Action>%s</wsa:Action><wsa:To>%s</wsa:To>", action, to);
    }
    size_t need = strlen(body) + strlen(sec) + strlen(addr) + 1024;
    char *env = malloc(need);
    if (!env) {
        OPENSSL_cleanse(sec, sizeof(sec));
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    snprintf(env, need, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope " ENVELOPE_NS "><s:Header>%s%s</s:Header>"
             "<s:Body>%s</s:Body></s:Envelope>", sec, addr, body);
    OPENSSL_cleanse(sec, sizeof(sec));

    CURL *c = curl_easy_init();
    if (!c) {
        free(env);
        return reel_err_set(err, ENOMEM, "curl: cannot make a handle");
    }
    char ctype[512];
    snprintf(ctype, sizeof(ctype), "Content-Type: application/soap+xml; charset=utf-8; action=\"%s\"", action);
    struct curl_slist *hdr = curl_slist_append(NULL, ctype);
    hdr = hdr ? curl_slist_append(hdr, "Expect:") : NULL;
    struct sink s = { 0 };
    int timeout = a->timeout_ms > 0 ? a->timeout_ms : 5000;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout < 3000 ? timeout : 3000));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, env);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "Reel-NVR ONVIF");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)REEL_ONVIF_REPLY_MAX);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)a);
    CURLcode cc = hdr ? curl_easy_perform(c) : CURLE_OUT_OF_MEMORY;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_OK && status == 401 && a->user && a->user[0]) {
        /* The device wants HTTP Digest as well (some do): once more with it.
         * Only after a 401, since curl probes Digest with an empty body, and
         * never Basic (the password in the clear). */
        s.len = 0;
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
        curl_easy_setopt(c, CURLOPT_USERNAME, a->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, a->password ? a->password : "");
        cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    free(env);
    int rc = 0;
    if (s.over || cc == CURLE_FILESIZE_EXCEEDED)
        rc = reel_err_set(err, EMSGSIZE, "%s: reply over %d bytes", action, REEL_ONVIF_REPLY_MAX);
    else if (cc == CURLE_ABORTED_BY_CALLBACK)
        rc = reel_err_set(err, ECANCELED, "cancelled");
    else if (cc == CURLE_OPERATION_TIMEDOUT)
        rc = reel_err_set(err, ETIMEDOUT, "%s: no answer within %d ms", action, timeout);
    else if (cc == CURLE_COULDNT_CONNECT)
        rc = reel_err_set(err, ECONNREFUSED, "%s: cannot connect", action);
    else if (cc != CURLE_OK)
        rc = reel_err_set(err, EIO, "%s: %s", action, curl_easy_strerror(cc));
    else if (status == 401)
        rc = reel_err_set(err, EACCES, "not authorised: the device refused the user name or password (HTTP 401)");
    else if ((status < 200 || status > 299) && s.len == 0)
        rc = reel_err_set(err, EPROTO, "%s: HTTP status %ld", action, status);
    else if (s.len == 0)
        rc = reel_err_set(err, EBADMSG, "%s: empty reply", action);
    if (rc < 0) {
        free(s.buf);
        return rc;
    }
    *ret_body = s.buf;
    *ret_len = s.len;
    return 0;
}

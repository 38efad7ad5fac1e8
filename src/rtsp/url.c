/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * rtsp:// URL parsing, formatting and live555-style control joining. See
 * url.h for the forms tolerated.
 */
#include "rtsp/url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/strutil.h"

static const char scheme[] = "rtsp://";
#define SCHEME_LEN (sizeof(scheme) - 1)

static bool has_scheme(const char *s, size_t len)
{
    return len >= SCHEME_LEN && strncasecmp(s, scheme, SCHEME_LEN) == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..len) into out (capacity cap, NUL-terminated). */
static int pct_decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (len - i < 3)
                return -EINVAL;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -EINVAL;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (o + 1 >= cap)
            return -EMSGSIZE;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
}

static bool ipv6_char(char c)
{
    return hexval(c) >= 0 || c == ':' || c == '.' || c == '%';
}

int reel_rtsp_url_parse(const char *s, size_t len, struct reel_rtsp_url *ret, struct reel_err *err)
{
    struct reel_rtsp_url u;
    memset(&u, 0, sizeof(u));
    u.port = 554;

    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
                       s[len - 1] == '\n'))
        len--;
    if (len > REEL_RTSP_URL_MAX)
        return reel_err_set(err, EMSGSIZE, "URL longer than %d bytes", REEL_RTSP_URL_MAX);
    if (!has_scheme(s, len))
        return reel_err_set(err, EINVAL, "URL does not start with rtsp://");
    do { /* "rtsp://rtsp://host/..." seen in the wild */
        s += SCHEME_LEN;
        len -= SCHEME_LEN;
    } while (has_scheme(s, len));

    size_t auth_end = 0;
    while (auth_end < len && s[auth_end] != '/' && s[auth_end] != '?')
        auth_end++;
    const char *a = s;
    size_t alen = auth_end;
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (a[i] == '@')
            at = a + i;
    if (at) {
        size_t ulen = (size_t)(at - a);
        const char *colon = memchr(a, ':', ulen);
        size_t name_len = colon ? (size_t)(colon - a) : ulen;
        if (pct_decode(a, name_len, u.user, sizeof(u.user)) < 0)
            return reel_err_set(err, EINVAL, "bad user name in URL");
        if (colon && pct_decode(colon + 1, ulen - name_len - 1, u.password, sizeof(u.password)) < 0)
            return reel_err_set(err, EINVAL, "bad password in URL");
        u.has_userinfo = true;
        alen -= ulen + 1;
        a = at + 1;
    }

    const char *port = NULL;
    size_t port_len = 0;
    if (alen > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', alen);
        if (!close)
            return reel_err_set(err, EINVAL, "unterminated IPv6 address in URL");
        size_t hlen = (size_t)(close - a) - 1;
        if (hlen == 0 || hlen >= sizeof(u.host))
            return reel_err_set(err, EINVAL, "bad IPv6 address length in URL");
        for (size_t i = 0; i < hlen; i++)
            if (!ipv6_char(a[1 + i]))
                return reel_err_set(err, EINVAL, "bad character in IPv6 address in URL");
        memcpy(u.host, a + 1, hlen);
        u.host[hlen] = '\0';
        u.ipv6 = true;
        size_t rest = alen - hlen - 2;
        if (rest > 0) {
            if (close[1] != ':')
                return reel_err_set(err, EINVAL, "junk after IPv6 address in URL");
            port = close + 2;
            port_len = rest - 1;
        }
    } else {
        const char *colon = memchr(a, ':', alen);
        size_t hlen = colon ? (size_t)(colon - a) : alen;
        if (hlen == 0)
            return reel_err_set(err, EINVAL, "URL has no host");
        if (hlen >= sizeof(u.host))
            return reel_err_set(err, EMSGSIZE, "host name in URL too long");
        for (size_t i = 0; i < hlen; i++)
            if (!host_char(a[i]))
                return reel_err_set(err, EINVAL, "bad character in URL host");
        memcpy(u.host, a, hlen);
        u.host[hlen] = '\0';
        if (colon) {
            port = colon + 1;
            port_len = alen - hlen - 1;
        }
    }
    if (port && port_len > 0) {
        int64_t v;
        if (reel_parse_i64(port, port_len, 1, 65535, &v) < 0 || port[0] == '+' || port[0] == '-')
            return reel_err_set(err, EINVAL, "bad port in URL");
        u.port = (uint16_t)v;
    }

    const char *p = s + auth_end;
    size_t plen = len - auth_end;
    size_t o = 0;
    if (plen == 0 || p[0] != '/')
        u.path[o++] = '/';
    if (plen + o >= sizeof(u.path))
        return reel_err_set(err, EMSGSIZE, "URL path too long");
    for (size_t i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f)
            return reel_err_set(err, EINVAL, "space or control character in URL path");
        u.path[o++] = (char)c;
    }
    u.path[o] = '\0';
    *ret = u;
    return 0;
}

int reel_rtsp_url_format(const struct reel_rtsp_url *u, char *out, size_t cap)
{
    char port[8] = "";
    if (u->port != 554)
        snprintf(port, sizeof(port), ":%u", (unsigned)u->port);
    int n = snprintf(out, cap, "rtsp://%s%s%s%s%s", u->ipv6 ? "[" : "", u->host,
                     u->ipv6 ? "]" : "", port, u->path);
    if (n < 0 || (size_t)n >= cap)
        return -EMSGSIZE;
    return n;
}

int reel_rtsp_url_join(const char *base, const char *control, char *out, size_t cap)
{
    size_t blen = strlen(base), clen = strlen(control);
    const char *sep = "/";
    if (has_scheme(control, clen)) {
        base = "";
        blen = 0;
        sep = "";
        while (has_scheme(control + SCHEME_LEN, clen - SCHEME_LEN)) {
            control += SCHEME_LEN;
            clen -= SCHEME_LEN;
        }
    } else if (clen == 0 || strcmp(control, "*") == 0) {
        control = "";
        clen = 0;
        sep = "";
    } else {
        bool base_slash = blen > 0 && base[blen - 1] == '/';
        if (base_slash || control[0] == '/')
            sep = "";
        if (base_slash && control[0] == '/') {
            control++;
            clen--;
        }
    }
    size_t slen = strlen(sep);
    if (blen >= cap || slen >= cap - blen || clen >= cap - blen - slen)
        return -EMSGSIZE;
    memcpy(out, base, blen);
    memcpy(out + blen, sep, slen);
    memcpy(out + blen + slen, control, clen);
    out[blen + slen + clen] = '\0';
    return (int)(blen + slen + clen);
}

/* Normalises one candidate base into out; -EINVAL when it is unusable. */
static int base_candidate(const char *cand, const struct reel_rtsp_url *req, char *out, size_t cap)
{
    struct reel_rtsp_url u;
    size_t len = strlen(cand);
    while (len > 0 && (*cand == ' ' || *cand == '\t')) {
        cand++;
        len--;
    }
    if (len == 0)
        return -EINVAL;
    if (has_scheme(cand, len)) {
        if (reel_rtsp_url_parse(cand, len, &u, NULL) < 0)
            return -EINVAL;
    } else if (cand[0] == '/') {
        if (!req)
            return -EINVAL;
        u = *req;
        if (len >= sizeof(u.path))
            return -EMSGSIZE;
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)cand[i] <= 0x20 || cand[i] == 0x7f)
                return -EINVAL;
        memcpy(u.path, cand, len);
        u.path[len] = '\0';
    } else {
        /* "host/path" without a scheme: only when it names a host. */
        char tmp[REEL_RTSP_URL_MAX + SCHEME_LEN + 1];
        if (len > REEL_RTSP_URL_MAX)
            return -EMSGSIZE;
        memcpy(tmp, scheme, SCHEME_LEN);
        memcpy(tmp + SCHEME_LEN, cand, len);
        if (reel_rtsp_url_parse(tmp, SCHEME_LEN + len, &u, NULL) < 0)
            return -EINVAL;
    }
    return reel_rtsp_url_format(&u, out, cap);
}

int reel_rtsp_url_base(const char *content_base, const char *content_location,
                       const char *request_url, char *out, size_t cap)
{
    struct reel_rtsp_url req;
    bool have_req = request_url && reel_rtsp_url_parse(request_url, strlen(request_url), &req, NULL) == 0;
    const char *cands[2] = { content_base, content_location };
    for (size_t i = 0; i < 2; i++) {
        if (!cands[i])
            continue;
        int r = base_candidate(cands[i], have_req ? &req : NULL, out, cap);
        if (r >= 0)
            return r;
    }
    if (!have_req)
        return -EINVAL;
    return reel_rtsp_url_format(&req, out, cap);
}

/* ---- URLs in messages ---- */

static bool scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.';
}

/* Length of "scheme" when s starts with "scheme://", else 0. */
static size_t scheme_len(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && scheme_char(s[i]))
        i++;
    if (i == 0 || i + 3 > len || memcmp(s + i, "://", 3) != 0)
        return 0;
    return i;
}

static size_t origin_n(const char *url, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    struct reel_rtsp_url u;
    int n;
    if (reel_rtsp_url_parse(url, len, &u, NULL) == 0) {
        n = snprintf(out, cap, "rtsp://%s%s%s:%u", u.ipv6 ? "[" : "", u.host, u.ipv6 ? "]" : "",
                     (unsigned)u.port);
        explicit_bzero(&u, sizeof(u));
    } else {
        size_t sl = scheme_len(url, len);
        if (sl == 0 || sl > 16) {
            n = snprintf(out, cap, "(unparsable URL)");
        } else {
            const char *a = url + sl + 3;
            size_t alen = len - sl - 3, end = 0;
            while (end < alen && a[end] != '/' && a[end] != '?' && a[end] != '#')
                end++;
            for (size_t i = end; i > 0; i--)     /* drop userinfo */
                if (a[i - 1] == '@') {
                    a += i;
                    end -= i;
                    break;
                }
            size_t h = 0;
            while (h < end && h < REEL_RTSP_HOST_MAX && (host_char(a[h]) || a[h] == ':' || a[h] == '[' || a[h] == ']'))
                h++;
            n = snprintf(out, cap, "%.*s://%.*s", (int)sl, url, (int)h, a);
        }
    }
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

int reel_rtsp_url_origin(const char *url, char *out, size_t cap)
{
    return (int)origin_n(url, strlen(url), out, cap);
}

bool reel_rtsp_url_same_host(const char *a, const char *b)
{
    struct reel_rtsp_url x, y;
    bool same = reel_rtsp_url_parse(a, strlen(a), &x, NULL) == 0 && reel_rtsp_url_parse(b, strlen(b), &y, NULL) == 0 &&
                x.ipv6 == y.ipv6 && strcasecmp(x.host, y.host) == 0;
    explicit_bzero(&x, sizeof(x));
    explicit_bzero(&y, sizeof(y));
    return same;
}

static bool url_stop(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`';
}

size_t reel_rtsp_url_redact(const char *text, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t o = 0, len = strlen(text);
    for (size_t i = 0; i < len && o + 1 < cap;) {
        size_t sl = (i == 0 || !scheme_char(text[i - 1])) ? scheme_len(text + i, len - i) : 0;
        if (sl == 0) {
            out[o++] = text[i++];
            continue;
        }
        size_t e = i + sl + 3;
        while (e < len && !url_stop((unsigned char)text[e]))
            e++;
        /* punctuation that ends a sentence or a field stays outside */
        while (e > i + sl + 3 && strchr(":;,.)]", text[e - 1]))
            e--;
        char tmp[REEL_RTSP_HOST_MAX + 48];
        size_t n = origin_n(text + i, e - i, tmp, sizeof(tmp));
        if (n > cap - 1 - o)
            n = cap - 1 - o;
        memcpy(out + o, tmp, n);
        o += n;
        i = e;
    }
    out[o] = '\0';
    return o;
}

int reel_rtsp_url_fuzz(const uint8_t *p, size_t n)
{
    struct reel_rtsp_url u;
    char a[REEL_RTSP_URL_MAX + 64], b[2 * REEL_RTSP_URL_MAX + 64], s[REEL_RTSP_URL_MAX + 1];
    if (reel_rtsp_url_parse((const char *)p, n, &u, NULL) == 0 &&
        reel_rtsp_url_format(&u, a, sizeof(a)) >= 0) {
        size_t cl = n < REEL_RTSP_URL_MAX ? n : REEL_RTSP_URL_MAX;
        memcpy(s, p, cl);
        s[cl] = '\0';
        (void)reel_rtsp_url_join(a, s, b, sizeof(b));
    }
    size_t cl = n < REEL_RTSP_URL_MAX ? n : REEL_RTSP_URL_MAX;
    memcpy(s, p, cl);
    s[cl] = '\0';
    (void)reel_rtsp_url_base(s, s, "rtsp://127.0.0.1/x", b, sizeof(b));
    (void)reel_rtsp_url_redact(s, b, sizeof(b));
    (void)reel_rtsp_url_redact(s, a, 40);
    (void)reel_rtsp_url_origin(s, a, sizeof(a));
    (void)reel_rtsp_url_same_host(s, "rtsp://127.0.0.1/x");
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Request parsing and the conditional/CSRF rules of the HTTP server; see
 * parse.h. Pure functions over strings, unit tested in tests/unit/test_http.c.
 */
#include "http/parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/strutil.h"
#include "base/timefmt.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes raw[0..len); plus_space turns '+' into ' ' (query strings). */
static int pct_decode(const char *raw, size_t len, bool plus_space, bool allow_slash, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return -EMSGSIZE;
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -EINVAL;
            int hi = hexval(raw[i + 1]), lo = hexval(raw[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (char)(hi << 4 | lo);
            if (c == '\0' || (c == '/' && !allow_slash))
                return -EINVAL;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        } else if (c == '\0') {
            return -EINVAL;
        }
        if (o + 1 >= cap)
            return -EMSGSIZE;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

int reel_http_seg_decode(const char *raw, size_t len, char *out, size_t cap)
{
    return pct_decode(raw, len, false, false, out, cap);
}

int reel_http_path_split(const char *path, char (*segs)[REEL_HTTP_SEG_MAX], int max)
{
    if (!path || path[0] != '/')
        return -EINVAL;
    int n = 0;
    const char *p = path + 1;
    for (;;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n >= max)
            return -E2BIG;
        int r = reel_http_seg_decode(p, len, segs[n], REEL_HTTP_SEG_MAX);
        if (r < 0)
            return r;
        n++;
        if (!e)
            break;
        p = e + 1;
    }
    return n;
}

int reel_http_query_get(const char *query, const char *name, char *out, size_t cap)
{
    if (!query)
        return 0;
    size_t nl = strlen(name);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char key[128];
        if (klen < sizeof(key) && pct_decode(p, klen, true, true, key, sizeof(key)) == 0 &&
            strlen(key) == nl && memcmp(key, name, nl) == 0) {
            if (!eq) {
                if (cap == 0)
                    return -EMSGSIZE;
                out[0] = '\0';
                return 1;
            }
            int r = pct_decode(eq + 1, len - klen - 1, true, true, out, cap);
            return r < 0 ? r : 1;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return 0;
}

int reel_http_cookie_get(const char *hdr, const char *name, char *out, size_t cap)
{
    if (!hdr)
        return 0;
    size_t nl = strlen(name);
    const char *p = hdr;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq) {
            size_t klen = (size_t)(eq - p);
            while (klen > 0 && (p[klen - 1] == ' ' || p[klen - 1] == '\t'))
                klen--;
            if (klen == nl && memcmp(p, name, nl) == 0) {
                const char *v = eq + 1;
                size_t vlen = len - (size_t)(v - p);
                while (vlen > 0 && (*v == ' ' || *v == '\t')) {
                    v++;
                    vlen--;
                }
                while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                    vlen--;
                if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                    v++;
                    vlen -= 2;
                }
                if (vlen + 1 > cap)
                    return -EMSGSIZE;
                memcpy(out, v, vlen);
                out[vlen] = '\0';
                return 1;
            }
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* Parses an unsigned decimal at *p (at least one digit), no overflow. */
static bool parse_u64(const char **p, uint64_t *ret)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *ret = v;
    return true;
}

enum reel_http_range reel_http_range_parse(const char *hdr, uint64_t size, uint64_t *ret_start,
                                           uint64_t *ret_len)
{
    if (!hdr)
        return REEL_RANGE_NONE;
    const char *p = hdr;
    while (*p == ' ')
        p++;
    if (strncasecmp(p, "bytes", 5) != 0)
        return REEL_RANGE_NONE;
    p += 5;
    while (*p == ' ')
        p++;
    if (*p++ != '=')
        return REEL_RANGE_NONE;
    while (*p == ' ')
        p++;
    if (strchr(p, ','))
        return REEL_RANGE_NONE; /* several ranges: the whole entity */
    uint64_t a = 0, b = 0;
    bool suffix = false, open_end = false;
    if (*p == '-') {
        p++;
        suffix = true;
        if (!parse_u64(&p, &b))
            return REEL_RANGE_NONE;
    } else {
        if (!parse_u64(&p, &a) || *p++ != '-')
            return REEL_RANGE_NONE;
        if (*p == '\0' || *p == ' ')
            open_end = true;
        else if (!parse_u64(&p, &b))
            return REEL_RANGE_NONE;
    }
    while (*p == ' ')
        p++;
    if (*p)
        return REEL_RANGE_NONE;
    if (suffix) {
        if (b == 0 || size == 0)
            return REEL_RANGE_UNSATISFIABLE;
        if (b > size)
            b = size;
        *ret_start = size - b;
        *ret_len = b;
        return REEL_RANGE_OK;
    }
    if (!open_end && b < a)
        return REEL_RANGE_NONE; /* invalid: ignored */
    if (a >= size)
        return REEL_RANGE_UNSATISFIABLE;
    if (open_end || b >= size)
        b = size - 1;
    *ret_start = a;
    *ret_len = b - a + 1;
    return REEL_RANGE_OK;
}

void reel_http_etag(int64_t camera_id, int64_t from90k, int64_t to90k, const struct reel_http_etag_rec *recs,
                    size_t n, char out[REEL_HTTP_ETAG_MAX])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 16);
    char line[96];
    int len = snprintf(line, sizeof(line), "reel-mp4 v1 %lld %lld %lld\n", (long long)camera_id,
                       (long long)from90k, (long long)to90k);
    crypto_generichash_update(&st, (const uint8_t *)line, (size_t)len);
    for (size_t i = 0; i < n; i++) {
        len = snprintf(line, sizeof(line), "%lld %llu %u\n", (long long)recs[i].id,
                       (unsigned long long)recs[i].bytes, recs[i].frames);
        crypto_generichash_update(&st, (const uint8_t *)line, (size_t)len);
    }
    uint8_t h[16];
    crypto_generichash_final(&st, h, sizeof(h));
    char hex[33];
    reel_hex_encode(h, sizeof(h), hex);
    snprintf(out, REEL_HTTP_ETAG_MAX, "\"%s\"", hex);
}

/* Walks a comma-separated list of entity tags; weak tags have W/ dropped
 * when weak is allowed. */
bool reel_http_etag_none_match(const char *hdr, const char *etag)
{
    if (!hdr || !etag)
        return false;
    const char *p = hdr;
    size_t el = strlen(etag);
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"')
            return false;
        const char *q = strchr(p + 1, '"');
        if (!q)
            return false;
        size_t tl = (size_t)(q - p + 1);
        if (tl == el && memcmp(p, etag, el) == 0)
            return true;
        p = q + 1;
    }
    return false;
}

bool reel_http_if_range_ok(const char *hdr, const char *etag, const char *last_modified)
{
    if (!hdr)
        return true;
    while (*hdr == ' ')
        hdr++;
    if (hdr[0] == 'W' && hdr[1] == '/')
        return false; /* If-Range needs the strong comparison */
    if (hdr[0] == '"')
        return etag && strcmp(hdr, etag) == 0;
    return last_modified && strcmp(hdr, last_modified) == 0;
}

bool reel_http_method_changes_state(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0 ||
           strcmp(method, "DELETE") == 0;
}

bool reel_http_origin_ok(const char *origin, const char *host)
{
    if (!origin)
        return true;
    if (!host || !*host)
        return false;
    const char *p = strstr(origin, "://");
    if (!p)
        return false; /* "null" and other opaque origins */
    size_t sl = (size_t)(p - origin);
    if (!((sl == 4 && strncasecmp(origin, "http", 4) == 0) || (sl == 5 && strncasecmp(origin, "https", 5) == 0)))
        return false;
    p += 3;
    size_t hl = strlen(p);
    if (hl > 0 && p[hl - 1] == '/')
        hl--;
    return hl == strlen(host) && strncasecmp(p, host, hl) == 0;
}

int reel_http_csrf_check(const char *method, const char *csrf_hdr, const char *session_csrf,
                         const char *origin, const char *host, const char **ret_why)
{
    *ret_why = "";
    if (!reel_http_method_changes_state(method))
        return 0;
    if (!csrf_hdr || !*csrf_hdr) {
        *ret_why = "missing X-CSRF-Token header";
        return -EPERM;
    }
    size_t a = strlen(csrf_hdr), b = session_csrf ? strlen(session_csrf) : 0;
    if (b == 0 || a != b || sodium_memcmp(csrf_hdr, session_csrf, a) != 0) {
        *ret_why = "wrong X-CSRF-Token";
        return -EPERM;
    }
    if (!reel_http_origin_ok(origin, host)) {
        *ret_why = "Origin does not match Host";
        return -EPERM;
    }
    return 0;
}

/* ":" followed by at most 5 digits (an empty port is allowed by RFC 3986). */
static bool port_ok(const char *p)
{
    if (*p != ':')
        return false;
    size_t n = 0;
    for (p++; *p; p++, n++)
        if (!isdigit((unsigned char)*p) || n >= 5)
            return false;
    return true;
}

int reel_http_host_name(const char *host, char *out, size_t cap)
{
    size_t len = host ? strlen(host) : 0;
    if (len == 0 || len > REEL_HTTP_HOST_MAX)
        return -EINVAL;
    const char *name = host, *rest;
    size_t nl;
    bool bracket = host[0] == '[';
    if (bracket) {
        const char *e = strchr(host, ']');
        if (!e)
            return -EINVAL;
        name = host + 1;
        nl = (size_t)(e - name);
        rest = e + 1;
    } else {
        const char *colon = strchr(host, ':');
        nl = colon ? (size_t)(colon - host) : len;
        rest = host + nl;
    }
    if (*rest && !port_ok(rest))
        return -EINVAL;
    if (!bracket && nl > 1 && name[nl - 1] == '.')
        nl--;
    if (nl == 0)
        return -EINVAL;
    if (nl + 1 > cap)
        return -EMSGSIZE;
    for (size_t i = 0; i < nl; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    out[nl] = '\0';
    uint8_t addr[16];
    if (bracket)
        return inet_pton(AF_INET6, out, addr) == 1 ? 1 : -EINVAL;
    return inet_pton(AF_INET, out, addr) == 1 ? 1 : 0;
}

bool reel_http_host_allowed(const char *host, const char *const *names, size_t n)
{
    char name[REEL_HTTP_HOST_MAX + 1];
    int ip = reel_http_host_name(host, name, sizeof(name));
    if (ip < 0)
        return false;
    if (ip == 1 || strcmp(name, "localhost") == 0)
        return true;
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i++) {
        const char *c = names[i];
        if (strcmp(c, "*") == 0)
            return true;
        size_t cl = strlen(c);
        if (cl > 1 && c[cl - 1] == '.')
            cl--;
        if (cl == nl && strncasecmp(c, name, nl) == 0)
            return true;
    }
    return false;
}

bool reel_http_host_name_valid(const char *name)
{
    if (strcmp(name, "*") == 0)
        return true;
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '.')
        n--;
    if (n == 0 || n > 253 || name[0] == '.' || name[0] == '-' || name[n - 1] == '.' || name[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!(isalnum((unsigned char)c) || c == '-' || c == '.'))
            return false;
        if (c == '.' && name[i + 1] == '.')
            return false;
    }
    return true;
}

bool reel_http_name_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!(isalnum((unsigned char)c) || c == '_' || c == '-') || n >= 63)
            return false;
    }
    return n >= 1;
}

int reel_http_time_parse(const char *s, int64_t now90k, int64_t *ret90k)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, n + 1);
    bool numeric = true, dot = false;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '.' && !dot && i > 0)
            dot = true;
        else if (!isdigit((unsigned char)buf[i]))
            numeric = false;
    }
    if (numeric && buf[n - 1] != '.') {
        char at[66];
        snprintf(at, sizeof(at), "@%s", buf);
        return reel_time_parse(at, now90k, ret90k);
    }
    /* "2026-11-26T23:00:00+01:00" with its '+' decoded as a space. */
    for (size_t i = 11; i < n; i++)
        if (buf[i] == ' ')
            buf[i] = '+';
    return reel_time_parse(buf, now90k, ret90k);
}

void reel_http_date(int64_t unix_s, char *buf, size_t cap)
{
    static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char mons[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             mons[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

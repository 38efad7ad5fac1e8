/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RTSP request parsing, URI/Transport interpretation and Basic/Digest
 * authentication for the simulator (see rtspreq.h).
 */
#include "sim/rtspreq.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/strutil.h"

static bool is_tchar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
}

static struct reel_sim_str trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct reel_sim_str){p, n};
}

static bool str_eq(struct reel_sim_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.p && s.n == n && memcmp(s.p, lit, n) == 0;
}

int reel_sim_req_parse(const uint8_t *buf, size_t len, struct reel_sim_req *ret,
                       size_t *ret_consumed, struct reel_err *err)
{
    const char *s = (const char *)buf;
    size_t lim = len < REEL_SIM_REQ_MAX_HEAD ? len : REEL_SIM_REQ_MAX_HEAD;

    /* Reject garbage early, before waiting for a whole head. */
    static const char resp[] = "RTSP/1.0 ";
    bool is_resp = lim >= 5 && memcmp(s, resp, lim < 9 ? lim : 9) == 0;
    for (size_t i = 0; !is_resp && i < lim && s[i] != ' '; i++) {
        if (!(s[i] >= 'A' && s[i] <= 'Z') && s[i] != '_')
            return reel_err_set(err, EPROTO, "request: byte 0x%02x at %zu is not a method character",
                                buf[i], i);
        if (i >= 32)
            return reel_err_set(err, EPROTO, "request: method longer than 32 bytes");
    }
    size_t head = 0;
    for (size_t i = 0; i + 3 < lim; i++) {
        unsigned char c = buf[i];
        if (c == 0 || (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f)
            return reel_err_set(err, EPROTO, "request: control byte 0x%02x at %zu", c, i);
        if (c == '\r' && memcmp(s + i, "\r\n\r\n", 4) == 0) {
            head = i + 4;
            break;
        }
    }
    if (!head) {
        if (len >= REEL_SIM_REQ_MAX_HEAD)
            return reel_err_set(err, EMSGSIZE, "request: head longer than %d bytes", REEL_SIM_REQ_MAX_HEAD);
        return 0;
    }

    struct reel_sim_req r = {.cseq = -1};
    /* Request line. */
    const char *eol = memchr(s, '\r', head);
    if (!eol || eol[1] != '\n')
        return reel_err_set(err, EPROTO, "request: bare CR in request line");
    if (is_resp) {
        /* "RTSP/1.0 ddd[ reason]" */
        size_t ll = (size_t)(eol - s);
        if (ll < 12 || (ll > 12 && s[12] != ' '))
            return reel_err_set(err, EPROTO, "request: malformed status line");
        for (size_t i = 9; i < 12; i++)
            if (s[i] < '0' || s[i] > '9')
                return reel_err_set(err, EPROTO, "request: malformed status code");
        r.response = true;
        r.method = (struct reel_sim_str){s + 9, 3};
    } else {
        const char *sp1 = memchr(s, ' ', (size_t)(eol - s));
        if (!sp1 || sp1 == s)
            return reel_err_set(err, EPROTO, "request: no method");
        const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
        if (!sp2 || sp2 == sp1 + 1)
            return reel_err_set(err, EPROTO, "request: no URI");
        r.method = (struct reel_sim_str){s, (size_t)(sp1 - s)};
        r.uri = (struct reel_sim_str){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
        struct reel_sim_str ver = {sp2 + 1, (size_t)(eol - sp2 - 1)};
        if (!str_eq(ver, "RTSP/1.0"))
            return reel_err_set(err, EPROTONOSUPPORT, "request: version '%.*s' is not RTSP/1.0",
                                (int)(ver.n > 16 ? 16 : ver.n), ver.p);
        for (size_t i = 0; i < r.uri.n; i++)
            if ((unsigned char)r.uri.p[i] <= 0x20 || (unsigned char)r.uri.p[i] >= 0x7f)
                return reel_err_set(err, EPROTO, "request: bad byte in URI");
    }

    /* Headers. */
    size_t nh = 0;
    const char *p = eol + 2;
    const char *end = s + head - 2;    /* the final empty line's CRLF */
    while (p < end) {
        const char *e = memchr(p, '\r', (size_t)(end - p + 1));
        if (!e || e[1] != '\n')
            return reel_err_set(err, EPROTO, "request: bare CR in header");
        if (++nh > REEL_SIM_REQ_MAX_HEADERS)
            return reel_err_set(err, EPROTO, "request: more than %d headers", REEL_SIM_REQ_MAX_HEADERS);
        const char *colon = memchr(p, ':', (size_t)(e - p));
        if (!colon || colon == p)
            return reel_err_set(err, EPROTO, "request: header line without name");
        for (const char *q = p; q < colon; q++)
            if (!is_tchar(*q))
                return reel_err_set(err, EPROTO, "request: bad character in header name");
        for (const char *q = p; q < e; q++)
            if (*q == '\n')
                return reel_err_set(err, EPROTO, "request: bare LF in header");
        size_t nlen = (size_t)(colon - p);
        struct reel_sim_str v = trim(colon + 1, (size_t)(e - colon - 1));
        if (reel_strn_ieq(p, nlen, "CSeq")) {
            int64_t x;
            if (reel_parse_i64(v.p, v.n, 0, INT32_MAX, &x) < 0)
                return reel_err_set(err, EPROTO, "request: bad CSeq");
            r.cseq = x;
        } else if (reel_strn_ieq(p, nlen, "Session")) {
            const char *semi = memchr(v.p, ';', v.n);
            r.session = trim(v.p, semi ? (size_t)(semi - v.p) : v.n);
        } else if (reel_strn_ieq(p, nlen, "Transport")) {
            r.transport = v;
        } else if (reel_strn_ieq(p, nlen, "Authorization")) {
            r.authorization = v;
        } else if (reel_strn_ieq(p, nlen, "Content-Length")) {
            int64_t x;
            if (reel_parse_i64(v.p, v.n, 0, REEL_SIM_REQ_MAX_BODY, &x) < 0)
                return reel_err_set(err, EMSGSIZE, "request: Content-Length '%.*s' not in 0..%d",
                                    (int)(v.n > 16 ? 16 : v.n), v.p, REEL_SIM_REQ_MAX_BODY);
            r.body_len = (size_t)x;
        }
        p = e + 2;
    }
    if (r.cseq < 0 && !r.response)
        return reel_err_set(err, EPROTO, "request: no CSeq");
    if (len - head < r.body_len)
        return 0;
    *ret = r;
    *ret_consumed = head + r.body_len;
    return 1;
}

int reel_sim_uri_camera(struct reel_sim_str uri, unsigned ncams, unsigned *ret_cam, bool *ret_track)
{
    const char *p = uri.p, *end = uri.p + uri.n;
    if (uri.n < 7 || !reel_strn_ieq(p, 7, "rtsp://"))
        return -EINVAL;
    p += 7;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (!slash || slash == p)
        return -EINVAL;
    p = slash;
    if ((size_t)(end - p) < 6 || memcmp(p, "/cam/", 5) != 0)
        return -EINVAL;
    p += 5;
    const char *d = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    int64_t cam;
    if (p == d || (p - d > 1 && *d == '0') || reel_parse_i64(d, (size_t)(p - d), 0, (int64_t)ncams - 1, &cam) < 0)
        return -EINVAL;
    struct reel_sim_str rest = {p, (size_t)(end - p)};
    bool track;
    if (rest.n == 0 || str_eq(rest, "/"))
        track = false;
    else if (str_eq(rest, "/trackID=0") || str_eq(rest, "/trackID=0/"))
        track = true;
    else
        return -EINVAL;
    *ret_cam = (unsigned)cam;
    *ret_track = track;
    return 0;
}

static int parse_pair(const char *p, size_t n, int64_t max, int64_t out[2])
{
    const char *dash = memchr(p, '-', n);
    size_t n1 = dash ? (size_t)(dash - p) : n;
    if (reel_parse_i64(p, n1, 0, max, &out[0]) < 0)
        return -EINVAL;
    if (!dash) {
        out[1] = out[0] + 1;
        return out[1] <= max ? 0 : -EINVAL;
    }
    return reel_parse_i64(dash + 1, n - n1 - 1, 0, max, &out[1]);
}

int reel_sim_transport_parse(struct reel_sim_str h, struct reel_sim_transport *ret)
{
    if (!h.p)
        return -EINVAL;
    const char *p = h.p, *end = h.p + h.n;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *ee = comma ? comma : end;
        struct reel_sim_transport t = {.ch = {0, 1}};
        bool ok = true, have_port = false, is_udp = false;
        int field = 0;
        for (const char *q = p; q < ee && ok; field++) {
            const char *semi = memchr(q, ';', (size_t)(ee - q));
            const char *fe = semi ? semi : ee;
            struct reel_sim_str f = trim(q, (size_t)(fe - q));
            int64_t v[2];
            if (field == 0) {
                if (str_eq(f, "RTP/AVP/TCP"))
                    t.tcp = true;
                else if (str_eq(f, "RTP/AVP") || str_eq(f, "RTP/AVP/UDP"))
                    is_udp = true;
                else
                    ok = false;
            } else if (f.n > 12 && memcmp(f.p, "interleaved=", 12) == 0) {
                if (parse_pair(f.p + 12, f.n - 12, 255, v) < 0)
                    ok = false;
                else
                    t.ch[0] = (uint8_t)v[0], t.ch[1] = (uint8_t)v[1];
            } else if (f.n > 12 && memcmp(f.p, "client_port=", 12) == 0) {
                if (parse_pair(f.p + 12, f.n - 12, 65535, v) < 0 || v[0] == 0)
                    ok = false;
                else
                    t.port[0] = (uint16_t)v[0], t.port[1] = (uint16_t)v[1], have_port = true;
            } else if (str_eq(f, "multicast")) {
                ok = false;
            }
            q = semi ? semi + 1 : ee;
        }
        if (ok && (t.tcp || (is_udp && have_port))) {
            *ret = t;
            return 0;
        }
        p = comma ? comma + 1 : end;
    }
    return -EINVAL;
}

int reel_sim_md5_hex(char out[33], const struct reel_sim_str *parts, size_t n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].n);
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -EIO;
    reel_hex_encode(md, 16, out);
    return 0;
}

#define S(lit) ((struct reel_sim_str){(lit), strlen(lit)})

/* Finds key in a Digest parameter list; values may be quoted (no escapes). */
static struct reel_sim_str digest_param(struct reel_sim_str list, const char *key)
{
    const char *p = list.p, *end = list.p + list.n;
    size_t kl = strlen(key);
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ',' || *p == '\t'))
            p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            break;
        struct reel_sim_str k = trim(p, (size_t)(eq - p));
        const char *v = eq + 1, *ve;
        while (v < end && *v == ' ')
            v++;
        if (v < end && *v == '"') {
            v++;
            ve = memchr(v, '"', (size_t)(end - v));
            if (!ve)
                break;
            p = ve + 1;
        } else {
            ve = memchr(v, ',', (size_t)(end - v));
            if (!ve)
                ve = end;
            p = ve;
        }
        if (k.n == kl && reel_strn_ieq(k.p, k.n, key))
            return trim(v, (size_t)(ve - v));
        while (p < end && *p != ',')
            p++;
    }
    return (struct reel_sim_str){NULL, 0};
}

int reel_sim_auth_check(enum reel_sim_auth mode, struct reel_sim_str header,
                        struct reel_sim_str method, struct reel_sim_str uri,
                        const char *user, const char *password,
                        const char *realm, const char *nonce)
{
    if (mode == REEL_SIM_AUTH_NONE)
        return 1;
    if (!header.p)
        return 0;
    if (mode == REEL_SIM_AUTH_BASIC) {
        if (header.n < 6 || !reel_strn_ieq(header.p, 6, "Basic "))
            return 0;
        struct reel_sim_str b = trim(header.p + 6, header.n - 6);
        uint8_t dec[512];
        int n = reel_base64_decode(b.p, b.n, dec, sizeof(dec));
        size_t ul = strlen(user), pl = strlen(password);
        if (n < 0 || (size_t)n != ul + 1 + pl)
            return 0;
        return memcmp(dec, user, ul) == 0 && dec[ul] == ':' && memcmp(dec + ul + 1, password, pl) == 0;
    }
    if (header.n < 7 || !reel_strn_ieq(header.p, 7, "Digest "))
        return 0;
    struct reel_sim_str list = {header.p + 7, header.n - 7};
    struct reel_sim_str u = digest_param(list, "username"), rl = digest_param(list, "realm"),
                        no = digest_param(list, "nonce"), ur = digest_param(list, "uri"),
                        resp = digest_param(list, "response"), qop = digest_param(list, "qop"),
                        nc = digest_param(list, "nc"), cn = digest_param(list, "cnonce"),
                        alg = digest_param(list, "algorithm");
    if (!str_eq(u, user) || !str_eq(rl, realm) || !str_eq(no, nonce) || !ur.p ||
        ur.n != uri.n || memcmp(ur.p, uri.p, uri.n) != 0 || resp.n != 32)
        return 0;
    if (alg.p && !(alg.n == 3 && reel_strn_ieq(alg.p, 3, "MD5")))
        return 0;
    char ha1[33], ha2[33], want[33];
    struct reel_sim_str c = S(":");
    struct reel_sim_str p1[] = {S(user), c, S(realm), c, S(password)};
    struct reel_sim_str p2[] = {method, c, uri};
    int r;
    if ((r = reel_sim_md5_hex(ha1, p1, 5)) < 0 || (r = reel_sim_md5_hex(ha2, p2, 3)) < 0)
        return r;
    if (qop.p) {
        if (!str_eq(qop, "auth") || !nc.p || !cn.p)
            return 0;
        struct reel_sim_str p3[] = {S(ha1), c, S(nonce), c, nc, c, cn, c, qop, c, S(ha2)};
        r = reel_sim_md5_hex(want, p3, 11);
    } else {
        struct reel_sim_str p3[] = {S(ha1), c, S(nonce), c, S(ha2)};
        r = reel_sim_md5_hex(want, p3, 5);
    }
    if (r < 0)
        return r;
    return reel_strn_ieq(resp.p, resp.n, want);
}

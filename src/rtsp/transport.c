/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Transport, RTP-Info and Session header parsing. See transport.h.
 */
#include "rtsp/transport.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "base/strutil.h"

struct span {
    const char *s;
    size_t len;
};

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void trim(struct span *sp)
{
    while (sp->len > 0 && is_ws(sp->s[0])) {
        sp->s++;
        sp->len--;
    }
    while (sp->len > 0 && is_ws(sp->s[sp->len - 1]))
        sp->len--;
}

static struct span next_tok(struct span *sp, char sep)
{
    size_t i = 0;
    while (i < sp->len && sp->s[i] != sep)
        i++;
    struct span t = { sp->s, i };
    sp->s += i;
    sp->len -= i;
    if (sp->len > 0) {
        sp->s++;
        sp->len--;
    }
    trim(&t);
    return t;
}

/* Splits "key=value" (value may be empty; no '=' gives an empty value). */
static void kv(struct span t, struct span *k, struct span *v)
{
    const char *eq = memchr(t.s, '=', t.len);
    k->s = t.s;
    k->len = eq ? (size_t)(eq - t.s) : t.len;
    v->s = eq ? eq + 1 : t.s + t.len;
    v->len = eq ? t.len - k->len - 1 : 0;
    trim(k);
    trim(v);
    if (v->len >= 2 && v->s[0] == '"' && v->s[v->len - 1] == '"') {
        v->s++;
        v->len -= 2;
    }
}

static bool parse_u(struct span v, int64_t max, int64_t *ret)
{
    if (v.len == 0 || v.s[0] == '-' || v.s[0] == '+')
        return false;
    return reel_parse_i64(v.s, v.len, 0, max, ret) == 0;
}

/* "a-b" or "a"; b defaults to a + 1 (when that fits). */
static bool parse_pair(struct span v, int64_t max, int64_t *a, int64_t *b)
{
    struct span x = next_tok(&v, '-');
    if (!parse_u(x, max, a))
        return false;
    if (v.len == 0) {
        if (*a == max)
            return false;
        *b = *a + 1;
        return true;
    }
    return parse_u(v, max, b);
}

static bool copy_span(struct span v, char *out, size_t cap)
{
    if (v.len >= cap)
        return false;
    memcpy(out, v.s, v.len);
    out[v.len] = '\0';
    return true;
}

int reel_rtsp_transport_parse(const char *value, struct reel_rtsp_transport *ret,
                              struct reel_err *err)
{
    struct reel_rtsp_transport t;
    memset(&t, 0, sizeof(t));
    struct span all = { value, strlen(value) };
    struct span spec = next_tok(&all, ',');
    struct span proto = next_tok(&spec, ';');
    if (reel_strn_ieq(proto.s, proto.len, "RTP/AVP/TCP"))
        t.tcp = true;
    else if (!reel_strn_ieq(proto.s, proto.len, "RTP/AVP") &&
             !reel_strn_ieq(proto.s, proto.len, "RTP/AVP/UDP"))
        return reel_err_set(err, EINVAL, "Transport \"%.64s\" is not RTP/AVP", value);
    while (spec.len > 0) {
        struct span k, v, p = next_tok(&spec, ';');
        int64_t a, b;
        kv(p, &k, &v);
        if (reel_strn_ieq(k.s, k.len, "multicast")) {
            t.multicast = true;
        } else if (reel_strn_ieq(k.s, k.len, "interleaved")) {
            if (parse_pair(v, 255, &a, &b)) {
                t.has_interleaved = true;
                t.tcp = true;
                t.rtp_channel = (uint8_t)a;
                t.rtcp_channel = (uint8_t)b;
            }
        } else if (reel_strn_ieq(k.s, k.len, "server_port")) {
            if (parse_pair(v, 65535, &a, &b) && a > 0) {
                t.has_server_port = true;
                t.server_rtp_port = (uint16_t)a;
                t.server_rtcp_port = (uint16_t)b;
            }
        } else if (reel_strn_ieq(k.s, k.len, "client_port")) {
            if (parse_pair(v, 65535, &a, &b) && a > 0) {
                t.has_client_port = true;
                t.client_rtp_port = (uint16_t)a;
                t.client_rtcp_port = (uint16_t)b;
            }
        } else if (reel_strn_ieq(k.s, k.len, "ssrc")) {
            uint32_t x = 0;
            bool ok = v.len > 0 && v.len <= 8;
            for (size_t i = 0; ok && i < v.len; i++) {
                char c = v.s[i];
                int d = c >= '0' && c <= '9' ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                ok = d >= 0;
                x = x << 4 | (uint32_t)(d & 15);
            }
            if (ok) {
                t.has_ssrc = true;
                t.ssrc = x;
            }
        } else if (reel_strn_ieq(k.s, k.len, "source")) {
            if (!copy_span(v, t.source, sizeof(t.source)))
                t.source[0] = '\0';
        } else if (reel_strn_ieq(k.s, k.len, "mode")) {
            if (!copy_span(v, t.mode, sizeof(t.mode)))
                t.mode[0] = '\0';
        }
    }
    *ret = t;
    return 0;
}

void reel_rtsp_rtpinfo_parse(const char *value, struct reel_rtsp_rtpinfo *ret)
{
    memset(ret, 0, sizeof(*ret));
    struct span all = { value, strlen(value) };
    while (all.len > 0 && ret->n < REEL_RTSP_RTPINFO_MAX) {
        struct span ent = next_tok(&all, ',');
        if (ent.len == 0)
            continue;
        struct reel_rtsp_rtpinfo_entry *e = &ret->e[ret->n];
        memset(e, 0, sizeof(*e));
        bool any = false;
        while (ent.len > 0) {
            struct span k, v, p = next_tok(&ent, ';');
            int64_t x;
            kv(p, &k, &v);
            if (reel_strn_ieq(k.s, k.len, "url")) {
                any |= copy_span(v, e->url, sizeof(e->url));
            } else if (reel_strn_ieq(k.s, k.len, "seq")) {
                if (parse_u(v, 65535, &x)) {
                    e->has_seq = true;
                    e->seq = (uint16_t)x;
                    any = true;
                }
            } else if (reel_strn_ieq(k.s, k.len, "rtptime")) {
                if (parse_u(v, UINT32_MAX, &x)) {
                    e->has_rtptime = true;
                    e->rtptime = (uint32_t)x;
                    any = true;
                }
            }
        }
        if (any)
            ret->n++;
    }
}

int reel_rtsp_session_parse(const char *value, struct reel_rtsp_session *ret, struct reel_err *err)
{
    struct span all = { value, strlen(value) };
    struct span id = next_tok(&all, ';');
    struct reel_rtsp_session s;
    memset(&s, 0, sizeof(s));
    s.timeout_s = 60;
    if (id.len == 0)
        return reel_err_set(err, EINVAL, "empty Session id");
    for (size_t i = 0; i < id.len; i++)
        if ((unsigned char)id.s[i] <= 0x20 || id.s[i] == 0x7f)
            return reel_err_set(err, EINVAL, "Session id with a space or control character");
    if (!copy_span(id, s.id, sizeof(s.id)))
        return reel_err_set(err, EINVAL, "Session id longer than %d bytes",
                            REEL_RTSP_SESSION_ID_MAX - 1);
    while (all.len > 0) {
        struct span k, v, p = next_tok(&all, ';');
        int64_t x;
        kv(p, &k, &v);
        if (reel_strn_ieq(k.s, k.len, "timeout") && parse_u(v, 86400, &x) && x > 0)
            s.timeout_s = (uint32_t)x;
    }
    *ret = s;
    return 0;
}

int reel_rtsp_transport_fuzz(const uint8_t *p, size_t n)
{
    char s[2048];
    size_t l = n < sizeof(s) - 1 ? n : sizeof(s) - 1;
    memcpy(s, p, l);
    s[l] = '\0';
    struct reel_rtsp_transport t;
    struct reel_rtsp_rtpinfo ri;
    struct reel_rtsp_session se;
    (void)reel_rtsp_transport_parse(s, &t, NULL);
    reel_rtsp_rtpinfo_parse(s, &ri);
    (void)reel_rtsp_session_parse(s, &se, NULL);
    return 0;
}

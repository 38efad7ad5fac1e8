/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The RTSP stream parser (responses, server requests and '$' frames mixed
 * on one TCP connection) and request/response serialisation. See msg.h.
 */
#include "rtsp/msg.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "base/strutil.h"

#define ACC_CAP (REEL_RTSP_HDR_BLOCK_MAX + REEL_RTSP_BODY_MAX + 1)

void reel_rtsp_parser_init(struct reel_rtsp_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->state = REEL_RTSP_PS_START;
    reel_buf_init(&p->acc, ACC_CAP);
}

void reel_rtsp_parser_free(struct reel_rtsp_parser *p)
{
    if (!p)
        return;
    reel_buf_free(&p->acc);
}

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

static bool is_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }

/* Trims [*s, *s + *len) of spaces and tabs at both ends. */
static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_ws(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_ws((*s)[*len - 1]))
        (*len)--;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Validates and splits the start line held in acc[0..len) (no line end).
 * Writes NULs in place and records what it found. */
static bool parse_start_line(struct reel_rtsp_parser *p, size_t len, int *ret_status,
                             size_t *ret_a, size_t *ret_b)
{
    char *s = (char *)p->acc.data;
    if (len >= 12 && memcmp(s, "RTSP/", 5) == 0 && is_digit(s[5]) && s[6] == '.' &&
        is_digit(s[7]) && s[8] == ' ') {
        size_t i = 9;
        while (i < len && s[i] == ' ')
            i++;
        if (len - i < 3 || !is_digit(s[i]) || !is_digit(s[i + 1]) || !is_digit(s[i + 2]))
            return false;
        if (len - i > 3 && !is_ws(s[i + 3]))
            return false;
        *ret_status = (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
        size_t r = i + 3;
        while (r < len && is_ws(s[r]))
            r++;
        *ret_a = r;
        s[len] = '\0';
        p->is_response = true;
        return true;
    }
    /* METHOD SP URI SP RTSP/x.y */
    size_t m = 0;
    while (m < len && (is_upper((uint8_t)s[m]) || s[m] == '_' || s[m] == '-'))
        m++;
    if (m == 0 || m >= len || s[m] != ' ')
        return false;
    size_t u = m + 1;
    size_t ue = u;
    while (ue < len && s[ue] != ' ')
        ue++;
    if (ue == u || ue >= len)
        return false;
    if (len - ue - 1 < 8 || memcmp(s + ue + 1, "RTSP/", 5) != 0)
        return false;
    s[m] = '\0';
    s[ue] = '\0';
    *ret_a = u;
    *ret_b = 0;
    p->is_response = false;
    return true;
}

/* Compacts header lines acc[from..end) into NUL-terminated name/value pairs. */
static int parse_headers(struct reel_rtsp_parser *p, size_t from, size_t end, size_t *ret_w,
                         struct reel_err *err)
{
    char *s = (char *)p->acc.data;
    size_t w = from, r = from;
    p->n_offs = 0;
    while (r < end) {
        const char *nl = memchr(s + r, '\n', end - r);
        size_t le = nl ? (size_t)(nl - s) : end;
        size_t next = nl ? le + 1 : end;
        if (le > r && s[le - 1] == '\r')
            le--;
        const char *line = s + r;
        size_t len = le - r;
        r = next;
        if (len == 0)
            break;
        if (is_ws(line[0])) {
            if (p->n_offs == 0)
                continue;
            trim(&line, &len);
            if (len == 0)
                continue;
            s[w - 1] = ' ';
            memmove(s + w, line, len);
            w += len;
            s[w++] = '\0';
            continue;
        }
        const char *colon = memchr(line, ':', len);
        if (!colon)
            continue;   /* not a header: ignore the line */
        const char *name = line, *value = colon + 1;
        size_t nlen = (size_t)(colon - line), vlen = len - nlen - 1;
        trim(&name, &nlen);
        trim(&value, &vlen);
        if (nlen == 0)
            continue;
        if (p->n_offs == REEL_RTSP_HDRS_MAX)
            return reel_err_set(err, EMSGSIZE, "RTSP message with more than %d headers",
                                REEL_RTSP_HDRS_MAX);
        p->offs[p->n_offs].name = (uint32_t)w;
        memmove(s + w, name, nlen);
        w += nlen;
        s[w++] = '\0';
        p->offs[p->n_offs].value = (uint32_t)w;
        memmove(s + w, value, vlen);
        w += vlen;
        s[w++] = '\0';
        p->n_offs++;
    }
    *ret_w = w;
    return 0;
}

static void fill_headers(const struct reel_rtsp_parser *p, struct reel_rtsp_msg *m)
{
    const char *s = (const char *)p->acc.data;
    m->n_hdrs = p->n_offs;
    for (size_t i = 0; i < p->n_offs; i++) {
        m->hdrs[i].name = s + p->offs[i].name;
        m->hdrs[i].value = s + p->offs[i].value;
    }
}

const char *reel_rtsp_msg_header_next(const struct reel_rtsp_msg *m, const char *name, size_t *idx)
{
    for (size_t i = *idx; i < m->n_hdrs; i++) {
        if (strcasecmp(m->hdrs[i].name, name) == 0) {
            *idx = i + 1;
            return m->hdrs[i].value;
        }
    }
    *idx = m->n_hdrs;
    return NULL;
}

const char *reel_rtsp_msg_header(const struct reel_rtsp_msg *m, const char *name)
{
    size_t i = 0;
    return reel_rtsp_msg_header_next(m, name, &i);
}

static void yield_message(struct reel_rtsp_parser *p, struct reel_rtsp_msg *m)
{
    const char *s = (const char *)p->acc.data;
    memset(m, 0, sizeof(*m));
    if (p->is_response) {
        m->kind = REEL_RTSP_MSG_RESPONSE;
        m->status = p->status;
        m->reason = s + p->sl_off;
    } else {
        m->kind = REEL_RTSP_MSG_REQUEST;
        m->method = s;
        m->uri = s + p->sl_off;
    }
    fill_headers(p, m);
    m->body = p->acc.data + p->body_off;
    m->body_len = p->acc.len - p->body_off - 1;
    p->messages++;
    p->state = REEL_RTSP_PS_START;
}

/* Called for every RTP packet: clears the fields by hand, not the whole
 * message with its header table (1 KiB). */
static void yield_frame(struct reel_rtsp_parser *p, struct reel_rtsp_msg *m)
{
    m->status = 0;
    m->reason = m->method = m->uri = NULL;
    m->n_hdrs = 0;
    m->body = NULL;
    m->body_len = 0;
    m->kind = REEL_RTSP_MSG_FRAME;
    m->channel = p->frame_hdr[0];
    m->payload = p->acc.len ? p->acc.data : (const uint8_t *)"";
    m->payload_len = p->acc.len;
    p->frames++;
    p->state = REEL_RTSP_PS_START;
}

static bool bad_start_byte(uint8_t b)
{
    return (b < 0x20 && b != '\r' && b != '\n' && b != '\t') || b >= 0x7f || b == '$';
}

/* The header block acc[0..len) is complete: parse headers, find the body. */
static int end_of_headers(struct reel_rtsp_parser *p, struct reel_err *err)
{
    size_t w = 0;
    int r = parse_headers(p, p->hdr_off, p->acc.len, &w, err);
    if (r < 0)
        return r;
    p->acc.len = w;
    p->body_off = w;
    p->need = 0;
    const char *s = (const char *)p->acc.data;
    for (size_t i = 0; i < p->n_offs; i++) {
        if (strcasecmp(s + p->offs[i].name, "Content-Length") != 0)
            continue;
        const char *v = s + p->offs[i].value;
        int64_t cl;
        r = reel_parse_i64(v, strlen(v), 0, INT64_MAX, &cl);
        if (r < 0 || v[0] == '+' || v[0] == '-')
            return reel_err_set(err, EBADMSG, "bad Content-Length \"%.32s\"", v);
        if (cl > REEL_RTSP_BODY_MAX)
            return reel_err_set(err, EMSGSIZE, "RTSP body of %lld bytes, over the %d cap",
                                (long long)cl, REEL_RTSP_BODY_MAX);
        p->need = (size_t)cl;
        break;
    }
    return 0;
}

void reel_rtsp_parser_allow_channel(struct reel_rtsp_parser *p, uint8_t channel)
{
    p->chan_filter = true;
    p->chan_ok[channel / 8] |= (uint8_t)(1u << (channel % 8));
}

/* A '$' header is believed when its channel was set up (once channels are
 * known) and its payload starts like RTP/RTCP version 2. */
static bool frame_plausible(const struct reel_rtsp_parser *p)
{
    uint8_t ch = p->frame_hdr[0];
    if (p->chan_filter && !(p->chan_ok[ch / 8] & (1u << (ch % 8))))
        return false;
    if (p->frame_hdr_len < 4)
        return !p->chan_filter;   /* an empty frame only before channels are known */
    return p->chan_filter ? (p->frame_hdr[3] & 0xc0) == 0x80 : true;
}

int reel_rtsp_parser_feed(struct reel_rtsp_parser *p, const uint8_t *data, size_t n,
                          size_t *ret_consumed, struct reel_rtsp_msg *ret_msg, struct reel_err *err)
{
    size_t i = 0;
    int r;
    p->frame_hdr_in_call = false;
    while (i < n) {
        uint8_t c = data[i];
        switch (p->state) {
        case REEL_RTSP_PS_START:
            if (c == '$' && n - i > 4) {
                /* A whole non-empty frame in this call's input is handed
                 * out in place, without copying it into acc or walking its
                 * header byte by byte (both were high in the profile at 256
                 * cameras); the checks are those of the states below,
                 * which take every other frame. */
                size_t len = reel_rd_be16(data + i + 2);
                if (len > 0 && n - (i + 4) >= len) {
                    memcpy(p->frame_hdr, data + i + 1, 4);
                    p->frame_hdr_len = 4;
                    if (frame_plausible(p)) {
                        p->acc.len = 0;
                        yield_frame(p, ret_msg);
                        ret_msg->payload = data + i + 4;
                        ret_msg->payload_len = len;
                        *ret_consumed = i + 4 + len;
                        return 1;
                    }
                }
            }
            if (c == '$') {
                p->state = REEL_RTSP_PS_FRAME_HDR;
                p->frame_hdr_len = 0;
                p->frame_hdr_start = i;
                p->frame_hdr_in_call = true;
                i++;
            } else if (c == '\r' || c == '\n') {
                i++;   /* stray line ends between messages */
            } else if (is_upper(c)) {
                p->acc.len = 0;
                p->line_start = 0;
                p->n_offs = 0;
                p->state = REEL_RTSP_PS_HEADERS;
            } else {
                p->state = REEL_RTSP_PS_RESYNC;
            }
            break;
        case REEL_RTSP_PS_RESYNC:
            /* A frame or a message (response "RTSP/..." or a request
             * method, all upper case) may start here. */
            if (c == '$' || is_upper(c)) {
                p->state = REEL_RTSP_PS_START;
            } else {
                p->skipped++;
                i++;
                if (c == '\n')
                    p->state = REEL_RTSP_PS_START;
            }
            break;
        case REEL_RTSP_PS_FRAME_HDR:
            p->frame_hdr[p->frame_hdr_len++] = c;
            i++;
            bool empty = p->frame_hdr_len == 3 && reel_rd_be16(p->frame_hdr + 1) == 0;
            if (empty && frame_plausible(p)) {
                p->acc.len = 0;
                yield_frame(p, ret_msg);
                *ret_consumed = i;
                return 1;
            }
            if (empty || p->frame_hdr_len == 4) {
                if (empty || !frame_plausible(p)) {
                    /* Not a frame: skip the '$' and rescan what followed it. */
                    p->skipped++;
                    if (p->frame_hdr_in_call)
                        i = p->frame_hdr_start + 1;
                    p->state = REEL_RTSP_PS_RESYNC;
                    break;
                }
                /* a frame whole in this call's input was taken at START */
                p->need = reel_rd_be16(p->frame_hdr + 1);
                p->acc.len = 0;
                p->state = REEL_RTSP_PS_FRAME_BODY;
                /* the first payload byte was already taken */
                if ((r = reel_buf_append(&p->acc, &p->frame_hdr[3], 1)) < 0) {
                    p->state = REEL_RTSP_PS_RESYNC;
                    *ret_consumed = i;
                    return reel_err_set(err, -r, "cannot buffer an interleaved frame");
                }
                p->need -= 1;
                if (p->need == 0) {
                    yield_frame(p, ret_msg);
                    *ret_consumed = i;
                    return 1;
                }
            }
            break;
        case REEL_RTSP_PS_FRAME_BODY:
        case REEL_RTSP_PS_BODY: {
            size_t take = n - i < p->need ? n - i : p->need;
            if ((r = reel_buf_append(&p->acc, data + i, take)) < 0) {
                p->state = REEL_RTSP_PS_RESYNC;
                *ret_consumed = i;
                return reel_err_set(err, -r, "cannot buffer an RTSP message body or frame");
            }
            i += take;
            p->need -= take;
            if (p->need > 0)
                break;
            *ret_consumed = i;
            if (p->state == REEL_RTSP_PS_FRAME_BODY) {
                yield_frame(p, ret_msg);
            } else {
                if ((r = reel_buf_append_u8(&p->acc, 0)) < 0) {
                    p->state = REEL_RTSP_PS_RESYNC;
                    return reel_err_set(err, -r, "cannot buffer an RTSP message body");
                }
                yield_message(p, ret_msg);
            }
            return 1;
        }
        case REEL_RTSP_PS_HEADERS: {
            const uint8_t *nl = memchr(data + i, '\n', n - i);
            size_t take = nl ? (size_t)(nl - (data + i)) + 1 : n - i;
            if (p->line_start == 0) {
                /* Still in the start line: binary bytes or '$' mean garbage. */
                size_t k = 0;
                while (k < take && !bad_start_byte(data[i + k]))
                    k++;
                if (k < take) {
                    p->skipped += p->acc.len + k;
                    p->acc.len = 0;
                    i += k;
                    p->state = REEL_RTSP_PS_RESYNC;
                    break;
                }
            }
            if (take > REEL_RTSP_HDR_BLOCK_MAX - p->acc.len) {
                p->skipped += p->acc.len + take;
                p->acc.len = 0;
                p->state = REEL_RTSP_PS_RESYNC;
                *ret_consumed = i + take;
                return reel_err_set(err, EMSGSIZE, "RTSP header block longer than %d bytes",
                                    REEL_RTSP_HDR_BLOCK_MAX);
            }
            if ((r = reel_buf_append(&p->acc, data + i, take)) < 0) {
                p->state = REEL_RTSP_PS_RESYNC;
                *ret_consumed = i;
                return reel_err_set(err, -r, "cannot buffer an RTSP message");
            }
            i += take;
            if (!nl)
                break;
            size_t ls = p->line_start, le = p->acc.len - 1;
            if (le > ls && p->acc.data[le - 1] == '\r')
                le--;
            if (ls == 0) {
                size_t b = 0;
                if (!parse_start_line(p, le, &p->status, &p->sl_off, &b)) {
                    p->skipped += p->acc.len;
                    p->acc.len = 0;
                    p->state = REEL_RTSP_PS_START;
                    break;
                }
                p->line_start = p->acc.len;
                p->hdr_off = p->acc.len;
                break;
            }
            if (le > ls) {
                p->line_start = p->acc.len;
                break;
            }
            /* Blank line: the header block is complete. */
            p->acc.len = ls;
            if ((r = end_of_headers(p, err)) < 0) {
                p->acc.len = 0;
                p->state = REEL_RTSP_PS_RESYNC;
                *ret_consumed = i;
                return r;
            }
            p->state = REEL_RTSP_PS_BODY;
            if (p->need == 0) {
                if ((r = reel_buf_append_u8(&p->acc, 0)) < 0) {
                    p->state = REEL_RTSP_PS_RESYNC;
                    *ret_consumed = i;
                    return reel_err_set(err, -r, "cannot buffer an RTSP message");
                }
                yield_message(p, ret_msg);
                *ret_consumed = i;
                return 1;
            }
            break;
        }
        }
    }
    *ret_consumed = i;
    return 0;
}

/* True when s may go into a header value or request line. */
static bool clean(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

static int opt_hdr(struct reel_buf *out, const char *name, const char *v)
{
    if (!v)
        return 0;
    return reel_buf_printf(out, "%s: %s\r\n", name, v);
}

int reel_rtsp_req_write(struct reel_buf *out, const struct reel_rtsp_req *r)
{
    if (!r->method || !r->url || !*r->method || !*r->url)
        return -EINVAL;
    const char *fields[] = { r->method, r->url, r->user_agent, r->session, r->authorization,
                             r->transport };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (fields[i] && !clean(fields[i]))
            return -EINVAL;
    if (strchr(r->method, ' ') || strchr(r->url, ' '))
        return -EINVAL;
    size_t old = out->len;
    int e = reel_buf_printf(out, "%s %s RTSP/1.0\r\nCSeq: %u\r\n", r->method, r->url,
                            (unsigned)r->cseq);
    if (e >= 0) e = opt_hdr(out, "User-Agent", r->user_agent);
    if (e >= 0) e = opt_hdr(out, "Session", r->session);
    if (e >= 0) e = opt_hdr(out, "Authorization", r->authorization);
    if (e >= 0) e = opt_hdr(out, "Transport", r->transport);
    if (e >= 0 && r->range_npt0) e = opt_hdr(out, "Range", "npt=0.000-");
    if (e >= 0 && r->accept_sdp) e = opt_hdr(out, "Accept", "application/sdp");
    if (e >= 0) e = reel_buf_append(out, "\r\n", 2);
    if (e < 0) {
        out->len = old;
        return e;
    }
    return 0;
}

int reel_rtsp_resp_write(struct reel_buf *out, int status, const char *reason, const char *cseq,
                         const char *session)
{
    if (status < 100 || status > 999 || !reason || !clean(reason) || (cseq && !clean(cseq)) ||
        (session && !clean(session)))
        return -EINVAL;
    size_t old = out->len;
    int e = reel_buf_printf(out, "RTSP/1.0 %d %s\r\n", status, reason);
    if (e >= 0) e = opt_hdr(out, "CSeq", cseq);
    if (e >= 0) e = opt_hdr(out, "Session", session);
    if (e >= 0) e = reel_buf_append(out, "\r\n", 2);
    if (e < 0) {
        out->len = old;
        return e;
    }
    return 0;
}

static void fuzz_drain(struct reel_rtsp_parser *p, const uint8_t *data, size_t n)
{
    while (n > 0) {
        size_t used = 0;
        struct reel_rtsp_msg m;
        int r = reel_rtsp_parser_feed(p, data, n, &used, &m, NULL);
        if (r == 1) {
            size_t idx = 0;
            (void)reel_rtsp_msg_header(&m, "CSeq");
            while (reel_rtsp_msg_header_next(&m, "WWW-Authenticate", &idx))
                ;
        }
        if (r == 0 && used == 0)
            break;
        data += used;
        n -= used;
    }
}

int reel_rtsp_msg_fuzz(const uint8_t *data, size_t n)
{
    struct reel_rtsp_parser p;
    reel_rtsp_parser_init(&p);
    fuzz_drain(&p, data, n);
    reel_rtsp_parser_free(&p);
    reel_rtsp_parser_init(&p);
    for (size_t i = 0; i < n; i++)
        fuzz_drain(&p, data + i, 1);
    reel_rtsp_parser_free(&p);
    return 0;
}

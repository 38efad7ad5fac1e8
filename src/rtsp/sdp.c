/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Lenient SDP parsing for RTSP DESCRIBE bodies, with H.264/H.265 parameter
 * set extraction. See sdp.h.
 */
#include "rtsp/sdp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/strutil.h"

/* RFC 3551 static payload types. */
static const struct {
    uint8_t pt;
    const char *enc;
    uint32_t rate;
} static_pts[] = {
    { 0, "PCMU", 8000 },   { 3, "GSM", 8000 },    { 4, "G723", 8000 },   { 5, "DVI4", 8000 },
    { 6, "DVI4", 16000 },  { 7, "LPC", 8000 },    { 8, "PCMA", 8000 },   { 9, "G722", 8000 },
    { 10, "L16", 44100 },  { 11, "L16", 44100 },  { 12, "QCELP", 8000 }, { 13, "CN", 8000 },
    { 14, "MPA", 90000 },  { 15, "G728", 8000 },  { 16, "DVI4", 11025 }, { 17, "DVI4", 22050 },
    { 18, "G729", 8000 },  { 25, "CelB", 90000 }, { 26, "JPEG", 90000 }, { 28, "nv", 90000 },
    { 31, "H261", 90000 }, { 32, "MPV", 90000 },  { 33, "MP2T", 90000 }, { 34, "H263", 90000 },
};

struct span {
    const char *s;
    size_t len;
};

/* What we collect for one media before deciding on its payload type. */
struct media_acc {
    bool active;                     /* inside a media we are keeping */
    struct span rtpmap[REEL_SDP_PT_MAX];
    uint8_t rtpmap_pt[REEL_SDP_PT_MAX];
    size_t n_rtpmap;
    struct span fmtp[REEL_SDP_PT_MAX];
    uint8_t fmtp_pt[REEL_SDP_PT_MAX];
    size_t n_fmtp;
};

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void trim(struct span *sp)
{
    while (sp->len > 0 && is_ws(sp->s[0])) {
        sp->s++;
        sp->len--;
    }
    while (sp->len > 0 && is_ws(sp->s[sp->len - 1]))
        sp->len--;
}

/* Splits the next token off *sp at any of the separators. */
static struct span next_tok(struct span *sp, const char *seps)
{
    trim(sp);
    size_t i = 0;
    while (i < sp->len && !strchr(seps, sp->s[i]))
        i++;
    struct span t = { sp->s, i };
    sp->s += i;
    sp->len -= i;
    if (sp->len > 0) {      /* drop the separator */
        sp->s++;
        sp->len--;
    }
    return t;
}

static bool span_pt(struct span t, uint8_t *ret)
{
    int64_t v;
    if (reel_parse_i64(t.s, t.len, 0, 127, &v) < 0 || t.s[0] == '+' || t.s[0] == '-')
        return false;
    *ret = (uint8_t)v;
    return true;
}

static bool span_copy(struct span t, char *out, size_t cap)
{
    if (t.len >= cap)
        return false;
    memcpy(out, t.s, t.len);
    out[t.len] = '\0';
    return true;
}

static bool starts(struct span sp, const char *lit)
{
    size_t l = strlen(lit);
    return sp.len >= l && strncasecmp(sp.s, lit, l) == 0;
}

static void add_nal(struct reel_sdp_media *m, const uint8_t *p, size_t n)
{
    while (n > 0 && p[n - 1] == 0)   /* zero byte of a 4-byte start code */
        n--;
    if (n == 0 || n > REEL_PARAM_SET_MAX || m->n_sprop == REEL_SDP_SPROP_MAX)
        return;
    memcpy(m->sprop[m->n_sprop], p, n);
    m->sprop_len[m->n_sprop++] = n;
}

/* Adds the NAL units in one decoded sprop entry, splitting on Annex-B start
 * codes found inside it. */
static void add_decoded(struct reel_sdp_media *m, const uint8_t *p, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i + 2 < n; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            add_nal(m, p + start, i - start);
            start = i + 3;
            i += 2;
        }
    }
    add_nal(m, p + start, n - start);
}

/* Decodes a comma-separated base64 list, adding each NAL unit; entries that
 * do not decode are skipped. Returns how many NALs were added. */
static size_t add_sprops(struct reel_sdp_media *m, struct span v)
{
    size_t before = m->n_sprop;
    uint8_t buf[2 * REEL_PARAM_SET_MAX];
    while (v.len > 0) {
        struct span e = next_tok(&v, ",");
        trim(&e);
        if (e.len == 0)
            continue;
        int n = reel_base64_decode(e.s, e.len, buf, sizeof(buf));
        if (n > 0)
            add_decoded(m, buf, (size_t)n);
    }
    return m->n_sprop - before;
}

static void parse_fmtp(struct reel_sdp_media *m, struct span params)
{
    struct span vps = { NULL, 0 }, sps = { NULL, 0 }, pps = { NULL, 0 };
    while (params.len > 0) {
        struct span kv = next_tok(&params, ";");
        trim(&kv);
        const char *eq = memchr(kv.s, '=', kv.len);
        if (!eq)
            continue;
        struct span k = { kv.s, (size_t)(eq - kv.s) }, v = { eq + 1, kv.len - k.len - 1 };
        trim(&k);
        trim(&v);
        if (reel_strn_ieq(k.s, k.len, "packetization-mode")) {
            int64_t x;
            if (reel_parse_i64(v.s, v.len, 0, 2, &x) == 0)
                m->packetization_mode = (int)x;
        } else if (reel_strn_ieq(k.s, k.len, "profile-level-id")) {
            uint32_t x = 0;
            bool ok = v.len == 6;
            for (size_t i = 0; ok && i < 6; i++) {
                char c = v.s[i];
                int d = c >= '0' && c <= '9' ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                ok = d >= 0;
                x = x << 4 | (uint32_t)(d & 15);
            }
            if (ok) {
                m->has_profile_level_id = true;
                m->profile_level_id = x;
            }
        } else if (m->codec == REEL_CODEC_H264 && reel_strn_ieq(k.s, k.len, "sprop-parameter-sets")) {
            m->n_sprop = 0;
            add_sprops(m, v);
        } else if (reel_strn_ieq(k.s, k.len, "sprop-vps")) {
            vps = v;
        } else if (reel_strn_ieq(k.s, k.len, "sprop-sps")) {
            sps = v;
        } else if (reel_strn_ieq(k.s, k.len, "sprop-pps")) {
            pps = v;
        }
    }
    if (m->codec == REEL_CODEC_H265 && vps.len && sps.len && pps.len) {
        m->n_sprop = 0;
        if (!add_sprops(m, vps) || !add_sprops(m, sps) || !add_sprops(m, pps))
            m->n_sprop = 0;  /* H.265 sprops only when VPS, SPS and PPS are all usable */
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void parse_aac_fmtp(struct reel_sdp_media *m, struct span params)
{
    while (params.len > 0) {
        struct span kv = next_tok(&params, ";");
        trim(&kv);
        const char *eq = memchr(kv.s, '=', kv.len);
        if (!eq)
            continue;
        struct span k = { kv.s, (size_t)(eq - kv.s) }, v = { eq + 1, kv.len - k.len - 1 };
        trim(&k);
        trim(&v);
        int64_t x;
        if (reel_strn_ieq(k.s, k.len, "mode")) {
            if (!span_copy(v, m->aac_mode, sizeof(m->aac_mode)))
                m->aac_mode[0] = '\0';
        } else if (reel_strn_ieq(k.s, k.len, "sizelength")) {
            if (reel_parse_i64(v.s, v.len, 0, 32, &x) == 0)
                m->size_length = (int)x;
        } else if (reel_strn_ieq(k.s, k.len, "indexlength")) {
            if (reel_parse_i64(v.s, v.len, 0, 32, &x) == 0)
                m->index_length = (int)x;
        } else if (reel_strn_ieq(k.s, k.len, "indexdeltalength")) {
            if (reel_parse_i64(v.s, v.len, 0, 32, &x) == 0)
                m->index_delta_length = (int)x;
        } else if (reel_strn_ieq(k.s, k.len, "config")) {
            m->aac_config_len = 0;
            if (v.len == 0 || v.len % 2 || v.len / 2 > sizeof(m->aac_config))
                continue;
            bool ok = true;
            for (size_t i = 0; ok && i < v.len; i += 2) {
                int hi = hexval(v.s[i]), lo = hexval(v.s[i + 1]);
                ok = hi >= 0 && lo >= 0;
                if (ok)
                    m->aac_config[i / 2] = (uint8_t)(hi << 4 | lo);
            }
            m->aac_config_len = ok ? v.len / 2 : 0;
        }
    }
}

/* The audio codec of a media, once its encoding and fmtp are known. */
static void classify_audio(struct reel_sdp_media *m)
{
    const char *e = m->encoding;
    if (strcasecmp(e, "PCMU") == 0)
        m->audio_codec = REEL_AUDIO_PCMU;
    else if (strcasecmp(e, "PCMA") == 0)
        m->audio_codec = REEL_AUDIO_PCMA;
    else if (strcasecmp(e, "opus") == 0)
        m->audio_codec = REEL_AUDIO_OPUS;
    else if (strcasecmp(e, "MP4A-LATM") == 0)
        m->latm = true;
    else if (strcasecmp(e, "mpeg4-generic") == 0) {
        m->aac = true;
        if (strcasecmp(m->aac_mode, "AAC-hbr") == 0 && m->aac_config_len > 0 &&
            m->size_length > 0 && m->size_length <= 16 && m->index_length >= 0 &&
            m->index_length <= 16 && m->index_delta_length >= 0 && m->index_delta_length <= 16)
            m->audio_codec = REEL_AUDIO_AAC;
    }
    if (m->clock_rate == 0)
        m->audio_codec = REEL_AUDIO_NONE;
}

static bool audio_enc_supported(const char *e)
{
    return strcasecmp(e, "PCMU") == 0 || strcasecmp(e, "PCMA") == 0 ||
           strcasecmp(e, "opus") == 0 || strcasecmp(e, "mpeg4-generic") == 0;
}

static void static_pt(uint8_t pt, char *enc, size_t cap, uint32_t *rate)
{
    for (size_t i = 0; i < sizeof(static_pts) / sizeof(static_pts[0]); i++) {
        if (static_pts[i].pt == pt) {
            snprintf(enc, cap, "%s", static_pts[i].enc);
            *rate = static_pts[i].rate;
            return;
        }
    }
}

/* Encoding name and clock rate of pt: explicit rtpmap beats the static table. */
static bool lookup_pt(const struct media_acc *a, uint8_t pt, char *enc, size_t cap, uint32_t *rate,
                      uint8_t *channels)
{
    enc[0] = '\0';
    *rate = 0;
    for (size_t i = 0; i < a->n_rtpmap; i++) {
        if (a->rtpmap_pt[i] != pt)
            continue;
        struct span r = a->rtpmap[i];
        struct span e = next_tok(&r, "/");
        struct span c = next_tok(&r, "/");
        int64_t v;
        struct span ch = next_tok(&r, "/");
        if (e.len == 0 || !span_copy(e, enc, cap))
            continue;
        if (reel_parse_i64(c.s, c.len, 1, UINT32_MAX, &v) == 0)
            *rate = (uint32_t)v;
        if (channels && reel_parse_i64(ch.s, ch.len, 1, 255, &v) == 0)
            *channels = (uint8_t)v;
        return true;
    }
    static_pt(pt, enc, cap, rate);
    return false;
}

static void finish_media(struct reel_sdp *s, struct media_acc *a)
{
    if (!a->active)
        return;
    a->active = false;
    struct reel_sdp_media *m = &s->media[s->n_media];
    char enc[32];
    uint32_t rate;
    m->pt = m->pts[0];
    for (size_t i = 0; i < m->n_pts; i++) {
        lookup_pt(a, m->pts[i], enc, sizeof(enc), &rate, NULL);
        if (strcasecmp(m->type, "video") == 0 &&
            (strcasecmp(enc, "H264") == 0 || strcasecmp(enc, "H265") == 0)) {
            m->pt = m->pts[i];
            break;
        }
        if (strcasecmp(m->type, "audio") == 0 && audio_enc_supported(enc)) {
            m->pt = m->pts[i];
            break;
        }
    }
    m->has_rtpmap = lookup_pt(a, m->pt, m->encoding, sizeof(m->encoding), &m->clock_rate,
                              &m->channels);
    if (strcasecmp(m->encoding, "H264") == 0)
        m->codec = REEL_CODEC_H264;
    else if (strcasecmp(m->encoding, "H265") == 0)
        m->codec = REEL_CODEC_H265;
    for (size_t i = 0; i < a->n_fmtp; i++) {
        if (a->fmtp_pt[i] != m->pt)
            continue;   /* fmtp for another payload type */
        struct span f = a->fmtp[i];
        trim(&f);
        if (!span_copy(f, m->fmtp, sizeof(m->fmtp)))
            m->fmtp[0] = '\0';
        if (m->codec)
            parse_fmtp(m, f);
        else if (strcasecmp(m->type, "audio") == 0 && strcasecmp(m->encoding, "mpeg4-generic") == 0)
            parse_aac_fmtp(m, f);
        break;
    }
    if (strcasecmp(m->type, "audio") == 0)
        classify_audio(m);
    s->n_media++;
}

/* Starts a media from an m= line value; false when it cannot be parsed. */
static bool start_media(struct reel_sdp_media *m, struct span v)
{
    memset(m, 0, sizeof(*m));
    m->packetization_mode = -1;
    m->size_length = m->index_length = m->index_delta_length = -1;
    struct span type = next_tok(&v, " \t");
    struct span port = next_tok(&v, " \t");
    struct span proto = next_tok(&v, " \t");
    if (type.len == 0 || !span_copy(type, m->type, sizeof(m->type)) ||
        !span_copy(proto, m->proto, sizeof(m->proto)) || proto.len == 0)
        return false;
    struct span pnum = next_tok(&port, "/");
    int64_t p;
    if (reel_parse_i64(pnum.s, pnum.len, 0, 65535, &p) < 0)
        return false;
    m->port = (uint16_t)p;
    while (v.len > 0) {
        struct span f = next_tok(&v, " \t");
        uint8_t pt;
        if (f.len && span_pt(f, &pt) && m->n_pts < REEL_SDP_PT_MAX)
            m->pts[m->n_pts++] = pt;
    }
    return m->n_pts > 0;
}

/* "a=rtpmap:96 H264/90000" -> pt 96, rest "H264/90000". */
static bool attr_pt(struct span v, uint8_t *pt, struct span *rest)
{
    struct span t = next_tok(&v, " \t");
    if (!span_pt(t, pt))
        return false;
    trim(&v);
    *rest = v;
    return true;
}

static void media_attr(struct reel_sdp_media *m, struct media_acc *a, struct span v)
{
    uint8_t pt;
    struct span rest;
    if (starts(v, "rtpmap:")) {
        v.s += 7;
        v.len -= 7;
        if (attr_pt(v, &pt, &rest) && a->n_rtpmap < REEL_SDP_PT_MAX) {
            a->rtpmap_pt[a->n_rtpmap] = pt;
            a->rtpmap[a->n_rtpmap++] = rest;
        }
    } else if (starts(v, "fmtp:")) {
        v.s += 5;
        v.len -= 5;
        if (attr_pt(v, &pt, &rest) && a->n_fmtp < REEL_SDP_PT_MAX) {
            a->fmtp_pt[a->n_fmtp] = pt;
            a->fmtp[a->n_fmtp++] = rest;
        }
    } else if (starts(v, "control:")) {
        struct span c = { v.s + 8, v.len - 8 };
        trim(&c);
        if (!span_copy(c, m->control, sizeof(m->control)))
            a->active = false;   /* a control we cannot keep: skip the media */
    }
}

int reel_sdp_parse(const char *text, size_t len, struct reel_sdp **ret, struct reel_err *err)
{
    struct reel_sdp *s = calloc(1, sizeof(*s));
    if (!s)
        return reel_err_set(err, ENOMEM, "out of memory parsing SDP");
    struct media_acc a;
    memset(&a, 0, sizeof(a));
    bool in_media = false, seen_v = false, seen_m = false;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        struct span line = { text + pos, end - pos };
        pos = nl ? end + 1 : len;
        if (line.len > REEL_SDP_LINE_MAX)
            continue;
        trim(&line);
        if (line.len < 2 || line.s[1] != '=')
            continue;
        char kind = line.s[0];
        struct span v = { line.s + 2, line.len - 2 };
        trim(&v);
        if (kind == 'v') {
            seen_v = true;
        } else if (kind == 'm') {
            seen_m = true;
            finish_media(s, &a);
            memset(&a, 0, sizeof(a));
            in_media = true;
            if (s->n_media < REEL_SDP_MEDIA_MAX && start_media(&s->media[s->n_media], v))
                a.active = true;
            else
                s->skipped_media++;
        } else if (kind == 'a') {
            if (starts(v, "tool:") && s->tool[0] == '\0') {
                struct span t = { v.s + 5, v.len - 5 };
                trim(&t);
                if (!span_copy(t, s->tool, sizeof(s->tool)))
                    s->tool[0] = '\0';
            } else if (!in_media) {
                if (starts(v, "control:")) {
                    struct span c = { v.s + 8, v.len - 8 };
                    trim(&c);
                    if (!span_copy(c, s->control, sizeof(s->control)))
                        s->control[0] = '\0';
                }
            } else if (a.active) {
                media_attr(&s->media[s->n_media], &a, v);
                if (!a.active)
                    s->skipped_media++;
            }
        }
    }
    finish_media(s, &a);
    if (!seen_v && !seen_m) {
        free(s);
        return reel_err_set(err, EINVAL, "not an SDP description (no v= or m= line)");
    }
    *ret = s;
    return 0;
}

void reel_sdp_free(struct reel_sdp *s)
{
    free(s);
}

int reel_sdp_find_video(const struct reel_sdp *s)
{
    for (size_t i = 0; i < s->n_media; i++)
        if (s->media[i].codec == REEL_CODEC_H264 || s->media[i].codec == REEL_CODEC_H265)
            return (int)i;
    return -ENOENT;
}

int reel_sdp_find_audio(const struct reel_sdp *s)
{
    for (size_t i = 0; i < s->n_media; i++)
        if (strcasecmp(s->media[i].type, "audio") == 0)
            return (int)i;
    return -ENOENT;
}

int reel_sdp_fuzz(const uint8_t *p, size_t n)
{
    struct reel_sdp *s = NULL;
    if (reel_sdp_parse((const char *)p, n, &s, NULL) == 0) {
        (void)reel_sdp_find_video(s);
        int a = reel_sdp_find_audio(s);
        if (a >= 0) {
            const struct reel_sdp_media *m = &s->media[a];
            if (m->aac_config_len > sizeof(m->aac_config) ||
                (m->audio_codec == REEL_AUDIO_AAC && (m->size_length < 1 || m->size_length > 16)))
                __builtin_trap();
        }
        reel_sdp_free(s);
    }
    return 0;
}

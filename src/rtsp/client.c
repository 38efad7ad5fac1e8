/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The sans-I/O RTSP client session: OPTIONS -> DESCRIBE -> SETUP (video,
 * then audio when asked for and usable) ->
 * PLAY -> PLAYING with keep-alives -> TEARDOWN. One request is in flight at
 * a time; responses are matched by CSeq. See client.h for the contract.
 */
#include "rtsp/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/strutil.h"
#include "rtsp/auth.h"
#include "rtsp/msg.h"
#include "rtsp/sdp.h"
#include "rtsp/transport.h"
#include "rtsp/url.h"

#define OUT_CAP (256 * 1024)
#define URL_CAP (REEL_RTSP_URL_MAX + 64)
#define KEEPALIVE_MAX_NS (30 * REEL_NS_PER_SEC)

enum method { M_OPTIONS, M_DESCRIBE, M_SETUP, M_PLAY, M_GET_PARAMETER, M_TEARDOWN };

static const char *const method_names[] = {
    "OPTIONS", "DESCRIBE", "SETUP", "PLAY", "GET_PARAMETER", "TEARDOWN",
};

struct reel_rtsp_client {
    enum reel_rtsp_state state;
    enum reel_rtsp_errkind errkind;
    char errmsg[REEL_ERR_MAX];

    char *user, *password, *user_agent;
    bool udp;
    bool want_audio;
    uint16_t client_rtp_port;
    int64_t request_timeout_ns;
    int (*on_rtp)(void *opaque, uint8_t channel, const uint8_t *pkt, size_t len);
    void *opaque;

    struct reel_rtsp_url url;
    char req_url[URL_CAP];
    bool redirected;
    struct reel_rtsp_url redirect;
    char redirect_url[URL_CAP];

    struct reel_rtsp_parser parser;
    struct reel_buf out;
    uint32_t cseq;

    /* The request in flight. */
    bool inflight;
    enum method inflight_method;
    uint32_t inflight_cseq;
    int64_t inflight_deadline;
    bool inflight_keepalive;
    int auth_retries;
    bool stale_used;

    bool has_challenge;
    bool digest_seen, allow_basic;   /* the downgrade guard (client.h) */
    struct reel_auth_challenge challenge;
    uint32_t nc;

    bool public_get_parameter;
    struct reel_sdp *sdp;
    int video_idx;
    char base_url[URL_CAP];
    char setup_url[URL_CAP];
    char play_url[URL_CAP];
    bool has_session;
    struct reel_rtsp_session session;
    bool channels_known;
    struct reel_rtsp_video video;
    const uint8_t *sprop_ptrs[REEL_SDP_SPROP_MAX];
    size_t sprop_lens[REEL_SDP_SPROP_MAX];
    /* audio (cfg.audio) */
    bool audio_candidate;            /* a supported audio stream to SETUP after the video */
    bool setup_audio;                /* the SETUP in flight (or last sent) is the audio one */
    bool audio_ok;                   /* the audio SETUP succeeded */
    char audio_setup_url[URL_CAP];
    char audio_note[160];
    struct reel_rtsp_audio audio;

    int64_t ka_interval;
    int64_t ka_next;
    struct reel_rtsp_client_stats stats;
};

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

int reel_rtsp_client_new(struct reel_rtsp_client **ret, const struct reel_rtsp_client_cfg *cfg,
                         struct reel_err *err)
{
    if (!cfg->url)
        return reel_err_set(err, EINVAL, "no camera URL configured");
    struct reel_rtsp_client *c = calloc(1, sizeof(*c));
    if (!c)
        return reel_err_set(err, ENOMEM, "out of memory creating the RTSP client");
    struct reel_err e2;
    int r = reel_rtsp_url_parse(cfg->url, strlen(cfg->url), &c->url, &e2);
    if (r < 0) {
        free(c);
        return reel_err_set(err, -r, "bad camera URL: %s", e2.msg);
    }
    if (reel_rtsp_url_format(&c->url, c->req_url, sizeof(c->req_url)) < 0) {
        free(c);
        return reel_err_set(err, EINVAL, "camera URL too long");
    }
    bool oom = false;
    const char *user = cfg->user, *pass = cfg->password;
    if (!user && c->url.has_userinfo) {
        user = c->url.user;
        pass = c->url.password;
    }
    c->user = dup_or_null(user, &oom);
    c->password = dup_or_null(user ? (pass ? pass : "") : NULL, &oom);
    c->user_agent = dup_or_null(cfg->user_agent ? cfg->user_agent : "Reel/0.1", &oom);
    explicit_bzero(c->url.password, sizeof(c->url.password));
    if (oom) {
        reel_rtsp_client_free(c);
        return reel_err_set(err, ENOMEM, "out of memory creating the RTSP client");
    }
    if (strpbrk(c->user_agent, "\r\n")) {
        reel_rtsp_client_free(c);
        return reel_err_set(err, EINVAL, "User-Agent with a line break");
    }
    c->udp = cfg->udp;
    c->digest_seen = cfg->digest_seen;
    c->allow_basic = cfg->allow_basic;
    c->want_audio = cfg->audio;
    c->client_rtp_port = cfg->client_rtp_port;
    c->request_timeout_ns = cfg->request_timeout_ns > 0 ? cfg->request_timeout_ns
                                                        : 10 * REEL_NS_PER_SEC;
    c->on_rtp = cfg->on_rtp;
    c->opaque = cfg->opaque;
    c->state = REEL_RTSP_INIT;
    c->video_idx = -1;
    reel_rtsp_parser_init(&c->parser);
    reel_buf_init(&c->out, OUT_CAP);
    *ret = c;
    return 0;
}

void reel_rtsp_client_free(struct reel_rtsp_client *c)
{
    if (!c)
        return;
    free(c->user);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    free(c->user_agent);
    reel_sdp_free(c->sdp);
    reel_rtsp_parser_free(&c->parser);
    reel_buf_free(&c->out);
    free(c);
}

const char *reel_rtsp_client_host(const struct reel_rtsp_client *c)
{
    return c->redirected ? c->redirect.host : c->url.host;
}

uint16_t reel_rtsp_client_port(const struct reel_rtsp_client *c)
{
    return c->redirected ? c->redirect.port : c->url.port;
}

enum reel_rtsp_state reel_rtsp_client_state(const struct reel_rtsp_client *c) { return c->state; }

enum reel_rtsp_errkind reel_rtsp_client_errkind(const struct reel_rtsp_client *c)
{
    return c->errkind;
}

const struct reel_rtsp_video *reel_rtsp_client_video(const struct reel_rtsp_client *c)
{
    if (c->state != REEL_RTSP_PLAYING)
        return NULL;
    return &c->video;
}

const struct reel_rtsp_audio *reel_rtsp_client_audio(const struct reel_rtsp_client *c)
{
    if (c->state != REEL_RTSP_PLAYING || !c->audio_ok)
        return NULL;
    return &c->audio;
}

const char *reel_rtsp_client_audio_note(const struct reel_rtsp_client *c) { return c->audio_note; }

const char *reel_rtsp_client_redirect_url(const struct reel_rtsp_client *c)
{
    return c->state == REEL_RTSP_REDIRECT ? c->redirect_url : NULL;
}

const char *reel_rtsp_client_error(const struct reel_rtsp_client *c) { return c->errmsg; }

bool reel_rtsp_client_offered_digest(const struct reel_rtsp_client *c) { return c->digest_seen; }

void reel_rtsp_client_stats(const struct reel_rtsp_client *c, struct reel_rtsp_client_stats *ret)
{
    *ret = c->stats;
    ret->bytes_skipped = c->parser.skipped;
}

const uint8_t *reel_rtsp_client_pending(const struct reel_rtsp_client *c, size_t *ret_len)
{
    *ret_len = c->out.len;
    return c->out.len ? c->out.data : NULL;
}

void reel_rtsp_client_sent(struct reel_rtsp_client *c, size_t n)
{
    reel_buf_consume(&c->out, n < c->out.len ? n : c->out.len);
}

__attribute__((format(printf, 4, 5)))
static int fail(struct reel_rtsp_client *c, enum reel_rtsp_errkind kind, int errnum,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
    va_end(ap);
    c->state = REEL_RTSP_FAILED;
    c->errkind = kind;
    c->inflight = false;
    return -errnum;
}

static const char *method_uri(const struct reel_rtsp_client *c, enum method m)
{
    switch (m) {
    case M_OPTIONS:
    case M_DESCRIBE:
        return c->req_url;
    case M_SETUP:
        return c->setup_audio ? c->audio_setup_url : c->setup_url;
    default:
        return c->play_url;
    }
}

/* Queues a request. keep_auth_state: a retry of the same request after 401. */
static int send_request(struct reel_rtsp_client *c, enum method m, int64_t now, bool keepalive,
                        bool keep_auth_state)
{
    const char *uri = method_uri(c, m);
    char authz[REEL_AUTH_HEADER_MAX], transport[96];
    struct reel_err e;
    struct reel_rtsp_req req = {
        .method = method_names[m],
        .url = uri,
        .cseq = ++c->cseq,
        .user_agent = c->user_agent,
        .session = c->has_session ? c->session.id : NULL,
        .accept_sdp = m == M_DESCRIBE,
        .range_npt0 = m == M_PLAY,
    };
    if (c->has_challenge) {
        int r = reel_auth_header(&c->challenge, c->user, c->password, method_names[m], uri,
                                 ++c->nc, NULL, authz, sizeof(authz), &e);
        if (r < 0)
            return fail(c, REEL_RTSP_ERR_AUTH, -r, "%s %s: %s", method_names[m], uri, e.msg);
        req.authorization = authz;
    }
    if (m == M_SETUP) {
        if (c->udp)
            snprintf(transport, sizeof(transport), "RTP/AVP;unicast;client_port=%u-%u",
                     (unsigned)c->client_rtp_port, (unsigned)c->client_rtp_port + 1u);
        else if (c->setup_audio)
            snprintf(transport, sizeof(transport), "RTP/AVP/TCP;unicast;interleaved=2-3");
        else
            snprintf(transport, sizeof(transport), "RTP/AVP/TCP;unicast;interleaved=0-1");
        req.transport = transport;
    }
    int r = reel_rtsp_req_write(&c->out, &req);
    explicit_bzero(authz, sizeof(authz));
    if (r < 0)
        return fail(c, REEL_RTSP_ERR_PROTOCOL, -r, "%s %s: cannot write the request (%s)",
                    method_names[m], uri, r == -EMSGSIZE ? "output buffer full" : "bad field");
    c->inflight = true;
    c->inflight_method = m;
    c->inflight_cseq = req.cseq;
    c->inflight_deadline = now + c->request_timeout_ns;
    c->inflight_keepalive = keepalive;
    if (!keep_auth_state) {
        c->auth_retries = 0;
        c->stale_used = false;
    }
    return 0;
}

int reel_rtsp_client_start(struct reel_rtsp_client *c, int64_t now_ns)
{
    if (c->state != REEL_RTSP_INIT)
        return -EALREADY;
    c->state = REEL_RTSP_OPTIONS;
    return send_request(c, M_OPTIONS, now_ns, false, false);
}

static bool list_has(const char *list, const char *item)
{
    size_t il = strlen(item);
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        if ((size_t)(e - p) == il && strncasecmp(p, item, il) == 0)
            return true;
        p = e;
    }
    return false;
}

/* 401: take the new challenge and retry, within the retry budget. */
static int on_unauthorized(struct reel_rtsp_client *c, const struct reel_rtsp_msg *m, int64_t now)
{
    enum method meth = c->inflight_method;
    const char *uri = method_uri(c, meth);
    struct reel_auth_challenge ch[REEL_AUTH_CHALLENGES_MAX];
    size_t n = 0, idx = 0;
    const char *v;
    while ((v = reel_rtsp_msg_header_next(m, "WWW-Authenticate", &idx)))
        (void)reel_auth_parse(v, ch, REEL_AUTH_CHALLENGES_MAX, &n);
    int best = reel_auth_choose(ch, n);
    for (size_t i = 0; i < n; i++)
        if (ch[i].scheme == REEL_AUTH_DIGEST_MD5 || ch[i].scheme == REEL_AUTH_DIGEST_SHA256)
            c->digest_seen = true;
    if (!c->user)
        return fail(c, REEL_RTSP_ERR_AUTH, EACCES, "%s %s: 401 %s and no credentials configured",
                    method_names[meth], uri, m->reason);
    if (best < 0)
        return fail(c, REEL_RTSP_ERR_AUTH, EACCES,
                    "%s %s: 401 %s with no supported authentication scheme", method_names[meth],
                    uri, m->reason);
    if (ch[best].scheme == REEL_AUTH_BASIC && c->digest_seen && !c->allow_basic)
        return fail(c, REEL_RTSP_ERR_AUTH, EACCES,
                    "%s %s: 401 offers only Basic after the camera offered Digest: password not sent "
                    "(a downgrade; allow it with allow_basic)", method_names[meth], uri);
    bool stale = ch[best].stale;
    if (c->auth_retries == 0) {
        c->auth_retries = 1;
    } else if (stale && !c->stale_used) {
        c->stale_used = true;
    } else {
        return fail(c, REEL_RTSP_ERR_AUTH, EACCES, "%s %s: 401 %s (credentials rejected)",
                    method_names[meth], uri, m->reason);
    }
    if (!c->has_challenge || strcmp(c->challenge.nonce, ch[best].nonce) != 0 ||
        c->challenge.scheme != ch[best].scheme)
        c->nc = 0;
    c->challenge = ch[best];
    c->has_challenge = true;
    return send_request(c, meth, now, c->inflight_keepalive, true);
}

static int on_redirect(struct reel_rtsp_client *c, const struct reel_rtsp_msg *m)
{
    enum method meth = c->inflight_method;
    const char *loc = reel_rtsp_msg_header(m, "Location");
    char url[URL_CAP];
    if (loc) {
        /* rtsp:// only: never follow to another scheme (http://, rtsps://) */
        size_t i = 0;
        while (loc[i] == ' ' || loc[i] == '\t')
            i++;
        const char *sch = loc + i;
        size_t k = strspn(sch, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        if (k > 0 && strncmp(sch + k, "://", 3) == 0 && (k != 4 || strncasecmp(sch, "rtsp", 4) != 0)) {
            char origin[REEL_RTSP_HOST_MAX + 48];
            reel_rtsp_url_origin(sch, origin, sizeof(origin));
            return fail(c, REEL_RTSP_ERR_PROTOCOL, EPROTO, "%s %s: %d: redirect to another scheme refused: %s",
                        method_names[meth], method_uri(c, meth), m->status, origin);
        }
    }
    if (!loc || reel_rtsp_url_base(loc, NULL, c->req_url, url, sizeof(url)) < 0 ||
        reel_rtsp_url_parse(url, strlen(url), &c->redirect, NULL) < 0)
        return fail(c, REEL_RTSP_ERR_PROTOCOL, EPROTO, "%s %s: %d %s without a usable Location",
                    method_names[meth], method_uri(c, meth), m->status, m->reason);
    memcpy(c->redirect_url, url, sizeof(url));
    c->redirected = true;
    c->inflight = false;
    c->state = REEL_RTSP_REDIRECT;
    return 0;
}

/* Decides whether the first audio stream of the SDP can be set up (after
 * the video), or notes why not. */
static void pick_audio(struct reel_rtsp_client *c)
{
    int i = reel_sdp_find_audio(c->sdp);
    if (i < 0) {
        snprintf(c->audio_note, sizeof(c->audio_note), "the SDP has no audio stream");
        return;
    }
    const struct reel_sdp_media *m = &c->sdp->media[i];
    if (m->audio_codec == REEL_AUDIO_NONE) {
        if (m->latm)
            snprintf(c->audio_note, sizeof(c->audio_note),
                     "audio codec MP4A-LATM is not supported (only mpeg4-generic AAC-hbr)");
        else if (m->aac)
            snprintf(c->audio_note, sizeof(c->audio_note),
                     "AAC audio with mode \"%.16s\" or without a config is not supported "
                     "(only AAC-hbr)", m->aac_mode);
        else
            snprintf(c->audio_note, sizeof(c->audio_note), "audio codec \"%.32s\" (payload type %u) "
                     "is not supported", m->encoding[0] ? m->encoding : "?", (unsigned)m->pt);
        return;
    }
    if (c->udp) {
        snprintf(c->audio_note, sizeof(c->audio_note),
                 "audio is recorded over RTSP/TCP only and this session uses UDP");
        return;
    }
    struct reel_rtsp_url tmp;
    if (reel_rtsp_url_join(c->base_url, m->control, c->audio_setup_url, sizeof(c->audio_setup_url)) < 0 ||
        reel_rtsp_url_parse(c->audio_setup_url, strlen(c->audio_setup_url), &tmp, NULL) < 0 ||
        reel_rtsp_url_format(&tmp, c->audio_setup_url, sizeof(c->audio_setup_url)) < 0 ||
        strcmp(c->audio_setup_url, c->setup_url) == 0) {
        snprintf(c->audio_note, sizeof(c->audio_note), "the audio stream has no usable control URL");
        return;
    }
    struct reel_rtsp_audio *a = &c->audio;
    a->codec = m->audio_codec;
    a->payload_type = m->pt;
    a->clock_rate = m->clock_rate;
    a->channels = m->channels;
    a->aac_config = m->aac_config;
    a->aac_config_len = m->aac_config_len;
    a->size_length = m->size_length > 0 ? (unsigned)m->size_length : 0;
    a->index_length = m->index_length > 0 ? (unsigned)m->index_length : 0;
    a->index_delta_length = m->index_delta_length > 0 ? (unsigned)m->index_delta_length : 0;
    a->control_url = c->audio_setup_url;
    c->audio_candidate = true;
}

static int on_describe(struct reel_rtsp_client *c, const struct reel_rtsp_msg *m, int64_t now)
{
    struct reel_err e;
    if (m->body_len == 0)
        return fail(c, REEL_RTSP_ERR_PROTOCOL, EPROTO, "DESCRIBE %s: reply has no SDP body",
                    c->req_url);
    int r = reel_sdp_parse((const char *)m->body, m->body_len, &c->sdp, &e);
    if (r < 0)
        return fail(c, REEL_RTSP_ERR_PROTOCOL, -r, "DESCRIBE %s: %s", c->req_url, e.msg);
    r = reel_sdp_find_video(c->sdp);
    if (r < 0)
        return fail(c, REEL_RTSP_ERR_NO_VIDEO, ENOENT,
                    "DESCRIBE %s: no H.264 or H.265 video stream in the SDP", c->req_url);
    c->video_idx = r;
    const struct reel_sdp_media *med = &c->sdp->media[r];
    if (reel_rtsp_url_base(reel_rtsp_msg_header(m, "Content-Base"),
                           reel_rtsp_msg_header(m, "Content-Location"), c->req_url, c->base_url,
                           sizeof(c->base_url)) < 0 ||
        reel_rtsp_url_join(c->base_url, med->control, c->setup_url, sizeof(c->setup_url)) < 0 ||
        reel_rtsp_url_join(c->base_url, c->sdp->control, c->play_url, sizeof(c->play_url)) < 0)
        return fail(c, REEL_RTSP_ERR_PROTOCOL, EINVAL, "DESCRIBE %s: cannot build the control URLs",
                    c->req_url);
    /* The SETUP and PLAY URLs must be usable request URIs. */
    struct reel_rtsp_url tmp;
    if (reel_rtsp_url_parse(c->setup_url, strlen(c->setup_url), &tmp, NULL) < 0 ||
        reel_rtsp_url_format(&tmp, c->setup_url, sizeof(c->setup_url)) < 0 ||
        reel_rtsp_url_parse(c->play_url, strlen(c->play_url), &tmp, NULL) < 0 ||
        reel_rtsp_url_format(&tmp, c->play_url, sizeof(c->play_url)) < 0)
        return fail(c, REEL_RTSP_ERR_PROTOCOL, EINVAL, "DESCRIBE %s: unusable control URL \"%.64s\"",
                    c->req_url, med->control);

    struct reel_rtsp_video *v = &c->video;
    v->codec = med->codec;
    v->payload_type = med->pt;
    v->clock_rate = med->clock_rate;
    for (size_t i = 0; i < med->n_sprop; i++) {
        c->sprop_ptrs[i] = med->sprop[i];
        c->sprop_lens[i] = med->sprop_len[i];
    }
    v->sprop_nals = c->sprop_ptrs;
    v->sprop_lens = c->sprop_lens;
    v->sprop_n = med->n_sprop;
    v->tool = c->sdp->tool;
    v->control_url = c->setup_url;
    if (c->want_audio)
        pick_audio(c);
    c->state = REEL_RTSP_SETUP;
    return send_request(c, M_SETUP, now, false, false);
}

/* The audio SETUP's reply: its channels (2-3 unless the server chose
 * others that do not collide with the video's), then PLAY. */
static int on_setup_audio(struct reel_rtsp_client *c, const struct reel_rtsp_msg *m, int64_t now)
{
    struct reel_rtsp_audio *a = &c->audio;
    const struct reel_rtsp_video *v = &c->video;
    a->rtp_channel = 2;
    a->rtcp_channel = 3;
    const char *tv = reel_rtsp_msg_header(m, "Transport");
    struct reel_rtsp_transport t;
    if (tv && reel_rtsp_transport_parse(tv, &t, NULL) == 0 && t.has_interleaved &&
        t.rtp_channel != t.rtcp_channel) {
        a->rtp_channel = t.rtp_channel;
        a->rtcp_channel = t.rtcp_channel;
    }
    if (a->rtp_channel == v->rtp_channel || a->rtp_channel == v->rtcp_channel ||
        a->rtcp_channel == v->rtp_channel || a->rtcp_channel == v->rtcp_channel) {
        snprintf(c->audio_note, sizeof(c->audio_note),
                 "the server put the audio on the video's interleaved channels");
    } else {
        c->audio_ok = true;
        reel_rtsp_parser_allow_channel(&c->parser, a->rtp_channel);
        reel_rtsp_parser_allow_channel(&c->parser, a->rtcp_channel);
    }
    c->setup_audio = false;
    c->state = REEL_RTSP_PLAY;
    return send_request(c, M_PLAY, now, false, false);
}

static int on_setup(struct reel_rtsp_client *c, const struct reel_rtsp_msg *m, int64_t now)
{
    const char *sess = reel_rtsp_msg_header(m, "Session");
    struct reel_err e;
    if (sess && !c->has_session) {   /* keep the first session id */
        int r = reel_rtsp_session_parse(sess, &c->session, &e);
        if (r < 0)
            return fail(c, REEL_RTSP_ERR_PROTOCOL, -r, "SETUP %s: %s", c->setup_url, e.msg);
        c->has_session = true;
    }
    if (c->setup_audio)
        return on_setup_audio(c, m, now);
    struct reel_rtsp_video *v = &c->video;
    v->rtp_channel = 0;
    v->rtcp_channel = 1;
    const char *tv = reel_rtsp_msg_header(m, "Transport");
    struct reel_rtsp_transport t;
    if (tv && reel_rtsp_transport_parse(tv, &t, NULL) == 0) {
        if (t.has_interleaved && t.rtp_channel != t.rtcp_channel) {
            v->rtp_channel = t.rtp_channel;
            v->rtcp_channel = t.rtcp_channel;
        }
        if (t.has_server_port) {
            v->server_rtp_port = t.server_rtp_port;
            v->server_rtcp_port = t.server_rtcp_port;
        }
        v->has_ssrc = t.has_ssrc;
        v->ssrc = t.ssrc;
    }
    c->channels_known = !c->udp;
    if (c->channels_known) {
        reel_rtsp_parser_allow_channel(&c->parser, v->rtp_channel);
        reel_rtsp_parser_allow_channel(&c->parser, v->rtcp_channel);
    }
    v->session_timeout_s = c->has_session ? c->session.timeout_s : 60;
    if (c->audio_candidate && c->has_session && c->channels_known) {
        c->setup_audio = true;
        return send_request(c, M_SETUP, now, false, false);
    }
    c->state = REEL_RTSP_PLAY;
    return send_request(c, M_PLAY, now, false, false);
}

static void on_play(struct reel_rtsp_client *c, const struct reel_rtsp_msg *m, int64_t now)
{
    const char *ri = reel_rtsp_msg_header(m, "RTP-Info");
    if (ri) {
        struct reel_rtsp_rtpinfo info;
        reel_rtsp_rtpinfo_parse(ri, &info);
        /* With one stream, any entry will do; prefer the one naming it. With
         * audio too, never the audio's. */
        const struct reel_rtsp_rtpinfo_entry *pick = NULL;
        for (size_t i = 0; i < info.n && !pick; i++)
            if (!c->audio_ok || strcmp(info.e[i].url, c->audio_setup_url) != 0)
                pick = &info.e[i];
        for (size_t i = 0; i < info.n; i++)
            if (strcmp(info.e[i].url, c->setup_url) == 0)
                pick = &info.e[i];
        if (pick) {
            c->video.has_rtpinfo_seq = pick->has_seq;
            c->video.rtpinfo_seq = pick->seq;
            c->video.has_rtpinfo_rtptime = pick->has_rtptime;
            c->video.rtpinfo_rtptime = pick->rtptime;
        }
    }
    int64_t half = (int64_t)c->video.session_timeout_s * REEL_NS_PER_SEC / 2;
    c->ka_interval = half < KEEPALIVE_MAX_NS ? half : KEEPALIVE_MAX_NS;
    if (c->ka_interval < REEL_NS_PER_SEC)
        c->ka_interval = REEL_NS_PER_SEC;
    c->ka_next = now + c->ka_interval;
    c->state = REEL_RTSP_PLAYING;
}

static int on_response(struct reel_rtsp_client *c, const struct reel_rtsp_msg *m, int64_t now)
{
    if (!c->inflight)
        return 0;   /* unsolicited or late: ignore */
    const char *cs = reel_rtsp_msg_header(m, "CSeq");
    int64_t cseq;
    if (cs && reel_parse_i64(cs, strlen(cs), 0, UINT32_MAX, &cseq) == 0 &&
        (uint32_t)cseq != c->inflight_cseq)
        return 0;   /* a reply to an earlier request (e.g. an abandoned keep-alive) */
    enum method meth = c->inflight_method;
    const char *uri = method_uri(c, meth);

    if (c->inflight_keepalive) {
        if (m->status == 401 && c->user) {
            int r = on_unauthorized(c, m, now);
            if (r < 0) {
                /* not fatal: restore the session */
                c->state = REEL_RTSP_PLAYING;
                c->errkind = REEL_RTSP_ERR_NONE;
                c->errmsg[0] = '\0';
                c->inflight = false;
                c->stats.keepalive_failures++;
            }
            return 0;
        }
        if (m->status < 200 || m->status > 299)
            c->stats.keepalive_failures++;
        c->inflight = false;
        return 0;
    }
    if (m->status == 401)
        return on_unauthorized(c, m, now);
    if (meth == M_TEARDOWN) {
        c->inflight = false;
        c->state = REEL_RTSP_DONE;
        return 0;
    }
    if (meth == M_SETUP && c->setup_audio && (m->status < 200 || m->status > 299)) {
        /* The audio is optional: play the video alone. */
        snprintf(c->audio_note, sizeof(c->audio_note), "SETUP of the audio stream: %d %.64s",
                 m->status, m->reason);
        c->inflight = false;
        c->setup_audio = false;
        c->state = REEL_RTSP_PLAY;
        return send_request(c, M_PLAY, now, false, false);
    }
    if (m->status >= 300 && m->status <= 399)
        return on_redirect(c, m);
    if (m->status < 200 || m->status > 299) {
        enum reel_rtsp_errkind k = REEL_RTSP_ERR_STATUS;
        int e = EPROTO;
        if (m->status == 404) {
            k = REEL_RTSP_ERR_NOT_FOUND;
            e = ENOENT;
        } else if (m->status == 403) {
            k = REEL_RTSP_ERR_AUTH;
            e = EACCES;
        } else if (meth == M_SETUP && (m->status == 461 || m->status == 453 || m->status == 405)) {
            k = REEL_RTSP_ERR_TRANSPORT;
            e = EPROTONOSUPPORT;
        }
        return fail(c, k, e, "%s %s: %d %s", method_names[meth], uri, m->status, m->reason);
    }
    c->inflight = false;
    switch (meth) {
    case M_OPTIONS: {
        const char *pub = reel_rtsp_msg_header(m, "Public");
        c->public_get_parameter = pub && list_has(pub, "GET_PARAMETER");
        c->state = REEL_RTSP_DESCRIBE;
        return send_request(c, M_DESCRIBE, now, false, false);
    }
    case M_DESCRIBE:
        return on_describe(c, m, now);
    case M_SETUP:
        return on_setup(c, m, now);
    case M_PLAY:
        on_play(c, m, now);
        return 0;
    default:
        return 0;
    }
}

static int on_server_request(struct reel_rtsp_client *c, const struct reel_rtsp_msg *m)
{
    bool ok = strcmp(m->method, "OPTIONS") == 0 || strcmp(m->method, "GET_PARAMETER") == 0;
    const char *cseq = reel_rtsp_msg_header(m, "CSeq");
    if (cseq && strpbrk(cseq, "\r\n"))
        cseq = NULL;
    c->stats.server_requests++;
    int r = reel_rtsp_resp_write(&c->out, ok ? 200 : 501, ok ? "OK" : "Not Implemented", cseq,
                                 c->has_session ? c->session.id : NULL);
    if (r < 0)
        return fail(c, REEL_RTSP_ERR_PROTOCOL, -r, "answering %s from the server: output buffer full",
                    m->method);
    return 0;
}

static bool finished(const struct reel_rtsp_client *c)
{
    return c->state == REEL_RTSP_FAILED || c->state == REEL_RTSP_DONE ||
           c->state == REEL_RTSP_REDIRECT;
}

static int report(const struct reel_rtsp_client *c, int r, struct reel_err *err)
{
    if (r < 0 && err)
        snprintf(err->msg, sizeof(err->msg), "%s", c->errmsg);
    return r;
}

int reel_rtsp_client_feed(struct reel_rtsp_client *c, const uint8_t *p, size_t n, int64_t now_ns,
                          struct reel_err *err)
{
    if (c->state == REEL_RTSP_FAILED)
        return report(c, -EPROTO, err);
    while (n > 0 && !finished(c)) {
        struct reel_rtsp_msg m;
        struct reel_err pe;
        size_t used = 0;
        int r = reel_rtsp_parser_feed(&c->parser, p, n, &used, &m, &pe);
        p += used;
        n -= used;
        if (r < 0)
            return report(c, fail(c, REEL_RTSP_ERR_PROTOCOL, -r, "reading from %s: %s",
                                  c->req_url, pe.msg), err);
        if (r == 0)
            break;
        switch (m.kind) {
        case REEL_RTSP_MSG_FRAME:
            if (c->channels_known &&
                (m.channel == c->video.rtp_channel || m.channel == c->video.rtcp_channel ||
                 (c->audio_ok && (m.channel == c->audio.rtp_channel ||
                                  m.channel == c->audio.rtcp_channel)))) {
                c->stats.frames_delivered++;
                if (c->on_rtp) {
                    int cr = c->on_rtp(c->opaque, m.channel, m.payload, m.payload_len);
                    if (cr != 0)
                        return cr < 0 ? cr : -ECANCELED;
                }
            } else {
                c->stats.frames_dropped++;
            }
            break;
        case REEL_RTSP_MSG_REQUEST:
            r = on_server_request(c, &m);
            break;
        case REEL_RTSP_MSG_RESPONSE:
            r = on_response(c, &m, now_ns);
            break;
        }
        if (r < 0)
            return report(c, r, err);
    }
    return c->state == REEL_RTSP_FAILED ? report(c, -EPROTO, err) : 0;
}

int64_t reel_rtsp_client_deadline(const struct reel_rtsp_client *c)
{
    int64_t d = INT64_MAX;
    if (finished(c))
        return d;
    if (c->inflight)
        d = c->inflight_deadline;
    if (c->state == REEL_RTSP_PLAYING && c->ka_next < d)
        d = c->ka_next;
    return d;
}

int reel_rtsp_client_tick(struct reel_rtsp_client *c, int64_t now_ns, struct reel_err *err)
{
    if (c->state == REEL_RTSP_FAILED)
        return report(c, -EPROTO, err);
    if (finished(c))
        return 0;
    if (c->inflight && now_ns >= c->inflight_deadline) {
        if (c->inflight_keepalive) {
            c->inflight = false;   /* some cameras never answer keep-alives */
            c->stats.keepalive_failures++;
        } else if (c->inflight_method == M_TEARDOWN) {
            c->inflight = false;
            c->state = REEL_RTSP_DONE;
            return 0;
        } else {
            enum method meth = c->inflight_method;
            return report(c, fail(c, REEL_RTSP_ERR_TIMEOUT, ETIMEDOUT,
                                  "%s %s: no response within %lld ms", method_names[meth],
                                  method_uri(c, meth),
                                  (long long)(c->request_timeout_ns / 1000000)), err);
        }
    }
    if (c->state == REEL_RTSP_PLAYING && now_ns >= c->ka_next) {
        c->ka_next = now_ns + c->ka_interval;
        c->stats.keepalives_sent++;
        int r = send_request(c, c->public_get_parameter ? M_GET_PARAMETER : M_OPTIONS, now_ns,
                             true, false);
        if (r < 0)
            return report(c, r, err);
    }
    return 0;
}

int reel_rtsp_client_stop(struct reel_rtsp_client *c, int64_t now_ns)
{
    if (c->state == REEL_RTSP_TEARDOWN || c->state == REEL_RTSP_DONE)
        return 0;
    if (c->has_session && c->state != REEL_RTSP_REDIRECT) {
        c->state = REEL_RTSP_TEARDOWN;
        return send_request(c, M_TEARDOWN, now_ns, false, false);
    }
    if (c->state != REEL_RTSP_FAILED && c->state != REEL_RTSP_REDIRECT) {
        c->state = REEL_RTSP_DONE;
        c->inflight = false;
    }
    return 0;
}

static int fuzz_rtp(void *opaque, uint8_t ch, const uint8_t *pkt, size_t len)
{
    (void)opaque;
    (void)ch;
    (void)pkt;
    (void)len;
    return 0;
}

int reel_rtsp_client_fuzz(const uint8_t *p, size_t n)
{
    struct reel_rtsp_client_cfg cfg = {
        .url = "rtsp://u:p@127.0.0.1/stream",
        .on_rtp = fuzz_rtp,
        .audio = n > 0 && (p[0] & 1),
    };
    struct reel_rtsp_client *c;
    if (reel_rtsp_client_new(&c, &cfg, NULL) < 0)
        return 0;
    int64_t now = 0;
    (void)reel_rtsp_client_start(c, now);
    size_t half = n / 2;
    size_t len;
    (void)reel_rtsp_client_feed(c, p, half, now, NULL);
    (void)reel_rtsp_client_pending(c, &len);
    reel_rtsp_client_sent(c, len);
    now += 20 * REEL_NS_PER_SEC;
    (void)reel_rtsp_client_tick(c, now, NULL);
    (void)reel_rtsp_client_feed(c, p + half, n - half, now, NULL);
    (void)reel_rtsp_client_video(c);
    (void)reel_rtsp_client_audio(c);
    (void)reel_rtsp_client_stop(c, now);
    reel_rtsp_client_free(c);
    return 0;
}

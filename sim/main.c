/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel-sim: Reel's camera simulator, a small RTSP server that serves N
 * simulated cameras (rtsp://HOST:PORT/cam/<i>) from one pre-packetised clip.
 * One thread, epoll + timerfd + signalfd. Every 10 ms tick each camera sends
 * the access units whose time has come; only the 12-byte RTP header (plus the
 * 4-byte interleave prefix on TCP) is written per packet, the payloads are
 * shared by all cameras and go out with sendmsg/sendmmsg iovecs. Faults
 * (--fault) make it misbehave the way real cameras do. See docs/simulator.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strutil.h"
#include "sim/clip.h"
#include "sim/fault.h"
#include "sim/rtspreq.h"

#define TICK_NS (10 * INT64_C(1000000))
#define SWEEP_EVERY 10                  /* ticks between connection sweeps */
#define OUT_CAP (2u << 20)              /* per-connection output queue */
#define IN_CAP (32u << 10)
#define MAX_CONNS 8192
#define MAX_IOV 1000
#define MMSG_BATCH 64
/* --fault big-nal: packets of the big NAL sent per camera per tick (about
 * 6.7 MB/s), so that neither our output queue nor a reader that keeps up
 * with a few MB/s overflows. */
#define BIG_TICK_PKTS 48
#define BIG_DEFAULT_BYTES (3u << 20)
#define BIG_DEFAULT_EVERY 5
#define REORDER_DEFAULT 4
/* --fault hostile-text: clears the screen, sets the terminal's title and
 * turns the text red when printed raw */
#define HOSTILE_TEXT "\x1b[2J\x1b]0;pwned\x07\x1b[31m"
#define REALM "reel-sim"

struct opts {
    const char *clip, *clip2, *listen, *user, *password, *ready_file, *frame_log;
    enum reel_sim_codec codec;
    unsigned fps, cameras, port;
    enum reel_sim_auth auth;
    int64_t session_timeout;
    bool rtcp_keepalive;      /* client RTCP on the interleaved channel also keeps a session alive */
    bool have_ts_start, have_seq_start;
    uint32_t ts_start;
    uint16_t seq_start;
    /* faults; seconds, 0 = off */
    bool garbage, refuse_auth, silent, refuse_tcp;
    unsigned ts_repeat;       /* every Nth frame repeats the previous frame's timestamp; 0 = off */
    int64_t disconnect, stall, slow_describe, params_change, ssrc_change, ts_jump;
    unsigned seq_gap;
    unsigned reorder;         /* UDP packets shuffled in windows of this many; 0 = off */
    size_t big_nal;           /* SEI payload bytes of the big NAL; 0 = off */
    int64_t big_nal_every;    /* seconds between big NALs */
    /* hostile camera */
    const char *redirect;     /* DESCRIBE gets 302 with this Location; NULL = off */
    bool log_auth;            /* log every Authorization header received */
    bool basic_after_digest;  /* Digest on the first connection(s); once one ends, only Basic */
    bool udp_foreign;         /* UDP sessions also get bogus RTP from another source port */
    bool hostile_text;        /* terminal escape sequences in the video's SDP a=control */
};

enum sess_state { SESS_NONE, SESS_READY, SESS_PLAYING };

struct conn {
    int fd;
    unsigned id;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    struct reel_buf in;
    struct reel_buf out;
    size_t out_off;
    size_t skip;                /* interleaved payload bytes still to drop */
    bool want_out, dead, overflow_logged, stall_logged;
    int64_t accepted_ns, last_req_ns, play_ns;
    char nonce[33];
    struct reel_buf pending;    /* slow-describe: reply held back until pending_due */
    int64_t pending_due;
    /* the session (at most one per connection) */
    enum sess_state st;
    char sid[17];
    unsigned cam;
    struct reel_sim_transport tr;
    int udp_fd;
    int foreign_fd;             /* --fault udp-foreign: a second source; -1 */
    bool digest_sent;           /* --fault basic-after-digest: this connection was offered Digest */
    struct sockaddr_storage udp_dst;
    socklen_t udp_dst_len;
    uint16_t udp_port;
    struct conn *cam_prev, *cam_next;   /* camera's playing list */
    struct conn *prev, *next;           /* all connections */
    struct conn *dead_next;
};

struct cam {
    unsigned idx;
    const struct reel_sim_clip *clip;
    uint32_t au_off;
    uint64_t clip_base;      /* frame number at which clip started (au_off applies from it) */
    uint64_t n_next;         /* next frame number to emit */
    uint32_t ts0, ssrc;
    uint16_t seq;
    int64_t ts_add;
    uint64_t pkt_count;
    int64_t first_play_ns;   /* 0 = never played */
    bool params_changed, ssrc_changed, ts_jumped;
    /* --fault big-nal: frame big_n is being sent with the big NAL in front of
     * its first VCL packet (big_vcl); big_next big packets are out. */
    bool big_active, catch_up;
    uint64_t big_n;
    uint32_t big_vcl, big_next;
    uint64_t big_count;
    int64_t big_due_ns;      /* when the next one is due; 0 = not yet scheduled */
    struct conn *playing;
    uint64_t st_pkts, st_bytes, st_aus;
};

enum plan_kind { PLAN_PKT, PLAN_GARBAGE, PLAN_MALFORMED };

struct plan_ent {
    uint8_t h[20];     /* '$' ch len16 | RTP header 12 | FU prefix 0..3 */
    uint8_t hlen;      /* bytes of h used (TCP); UDP sends h+4 */
    uint8_t kind;
    const uint8_t *data;
    uint32_t len;
};

struct frame_ent {
    int64_t ts;
    uint32_t bytes;
    bool key;
};

struct server {
    struct opts o;
    struct reel_logger lg;
    const struct reel_clock *clk;
    struct reel_sim_clip clip, clip2;
    struct reel_sim_bignal big;
    struct cam *cams;
    struct conn *conns;
    struct conn *dead;
    unsigned nconns, next_id;
    int ep, lfd, tfd, sfd;
    int family;
    uint16_t port;
    int64_t start_ns;
    bool paused;                /* SIGUSR2: send no more frames */
    bool downgraded;            /* --fault basic-after-digest: only Basic from now on */
    uint64_t ticks;
    uint64_t rng;
    bool quit;
    FILE *frame_log;
    struct plan_ent *plan;
    size_t plan_len, plan_cap;
    uint32_t *perm;             /* --fault reorder: UDP send order of the plan */
    struct frame_ent *frames;
    size_t nframes, frames_cap;
    struct iovec iov[MAX_IOV + 4];
    struct mmsghdr mmsg[MMSG_BATCH];
    struct iovec uiov[MMSG_BATCH * 2];
    uint8_t garbage[256];
    uint64_t st_dropped_slow, st_malformed_in;
};

/* ---- small helpers ---- */

static uint64_t rnd(struct server *s) { return reel_sim_rand(&s->rng); }

static void rnd_hex(struct server *s, char *out, size_t nbytes)
{
    uint8_t b[32];
    for (size_t i = 0; i < nbytes && i < sizeof(b); i++)
        b[i] = (uint8_t)(rnd(s) >> 32);
    reel_hex_encode(b, nbytes, out);
}

static int64_t now_ns(const struct server *s) { return reel_clock_mono(s->clk); }

static int ep_mod(struct server *s, struct conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0), .data.ptr = c};
    return epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_kill(struct server *s, struct conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    c->dead_next = s->dead;
    s->dead = c;
}

static void cam_unlink(struct server *s, struct conn *c)
{
    if (c->st != SESS_PLAYING)
        return;
    struct cam *cam = &s->cams[c->cam];
    if (c->cam_prev)
        c->cam_prev->cam_next = c->cam_next;
    else
        cam->playing = c->cam_next;
    if (c->cam_next)
        c->cam_next->cam_prev = c->cam_prev;
    c->cam_prev = c->cam_next = NULL;
    c->st = SESS_READY;
}

static void sess_end(struct server *s, struct conn *c)
{
    cam_unlink(s, c);
    if (c->udp_fd >= 0)
        close(c->udp_fd);
    c->udp_fd = -1;
    if (c->foreign_fd >= 0)
        close(c->foreign_fd);
    c->foreign_fd = -1;
    c->st = SESS_NONE;
    c->sid[0] = 0;
}

static void conn_free(struct server *s, struct conn *c)
{
    sess_end(s, c);
    if (s->o.basic_after_digest && c->digest_sent && !s->downgraded) {
        s->downgraded = true;
        reel_log(&s->lg, REEL_LOG_INFO, "conn %u: fault basic-after-digest: from now on only Basic is offered", c->id);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    close(c->fd);
    reel_buf_free(&c->in);
    reel_buf_free(&c->out);
    reel_buf_free(&c->pending);
    free(c);
    s->nconns--;
}

static void reap(struct server *s)
{
    while (s->dead) {
        struct conn *c = s->dead;
        s->dead = c->dead_next;
        conn_free(s, c);
    }
}

static size_t iov_total(const struct iovec *iov, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += iov[i].iov_len;
    return t;
}

/* Queues iov[skip bytes..] on c->out; kills the connection when over the cap. */
static void queue_rest(struct server *s, struct conn *c, const struct iovec *iov, size_t n, size_t skip)
{
    size_t pend = c->out.len - c->out_off;
    size_t more = iov_total(iov, n) - skip;
    if (pend + more > OUT_CAP) {
        if (!c->overflow_logged)
            reel_log(&s->lg, REEL_LOG_WARN, "conn %u cam %u: slow reader, output queue over %u bytes: disconnecting",
                     c->id, c->cam, OUT_CAP);
        c->overflow_logged = true;
        s->st_dropped_slow++;
        conn_kill(s, c);
        return;
    }
    if (c->out_off && c->out_off >= c->out.len / 2) {
        reel_buf_consume(&c->out, c->out_off);
        c->out_off = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = iov[i].iov_base;
        size_t l = iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        if (reel_buf_append(&c->out, p + skip, l - skip) < 0) {
            reel_log(&s->lg, REEL_LOG_WARN, "conn %u: cannot queue output: disconnecting", c->id);
            conn_kill(s, c);
            return;
        }
        skip = 0;
    }
    if (!c->want_out) {
        c->want_out = true;
        ep_mod(s, c);
    }
}

static void conn_sendv(struct server *s, struct conn *c, struct iovec *iov, size_t n)
{
    if (c->dead || n == 0)
        return;
    if (c->out.len > c->out_off) {
        queue_rest(s, c, iov, n, 0);
        return;
    }
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n};
    ssize_t k = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            conn_kill(s, c);
            return;
        }
        k = 0;
    }
    if ((size_t)k < iov_total(iov, n))
        queue_rest(s, c, iov, n, (size_t)k);
}

static void conn_send(struct server *s, struct conn *c, const void *p, size_t n)
{
    struct iovec iov = {.iov_base = (void *)p, .iov_len = n};
    conn_sendv(s, c, &iov, 1);
}

static void conn_flush(struct server *s, struct conn *c)
{
    while (c->out.len > c->out_off) {
        ssize_t k = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            conn_kill(s, c);
            return;
        }
        c->out_off += (size_t)k;
    }
    c->out.len = c->out_off = 0;
    if (c->want_out) {
        c->want_out = false;
        ep_mod(s, c);
    }
}

/* ---- cameras and media ---- */

static uint64_t frames_due(const struct server *s, int64_t now)
{
    if (now < s->start_ns)
        return 0;
    return (uint64_t)((now - s->start_ns) / 1000 * s->o.fps / 1000000) + 1;
}

static int64_t frame_ts(const struct server *s, const struct cam *c, uint64_t n)
{
    return (int64_t)c->ts0 + (int64_t)(n * 90000 / s->o.fps) + c->ts_add;
}

static void cam_faults(struct server *s, struct cam *c, int64_t now)
{
    int64_t since = now - c->first_play_ns;
    if (s->o.params_change && !c->params_changed && since >= s->o.params_change * REEL_NS_PER_SEC) {
        c->params_changed = true;
        c->clip = &s->clip2;
        c->clip_base = c->n_next;
        c->au_off = 0;          /* clip2 starts with its key frame and parameter sets */
    }
    if (s->o.ssrc_change && !c->ssrc_changed && since >= s->o.ssrc_change * REEL_NS_PER_SEC) {
        c->ssrc_changed = true;
        uint32_t old = c->ssrc;
        while (c->ssrc == old)
            c->ssrc = (uint32_t)rnd(s);
    }
    if (s->o.ts_jump && !c->ts_jumped && since >= s->o.ts_jump * REEL_NS_PER_SEC) {
        c->ts_jumped = true;
        c->ts_add += 3600 * REEL_90K;
    }
}

static void plan_add_pkt(struct server *s, struct cam *c, const struct reel_sim_pkt *p, int64_t ts)
{
    if (s->o.seq_gap && ++c->pkt_count % s->o.seq_gap == 0)
        c->seq++;          /* a hole: as if the packet was lost */
    if (s->o.garbage && s->plan_len + 3 <= s->plan_cap) {
        uint64_t r = rnd(s);
        if (r % 400 == 0) {
            struct plan_ent *g = &s->plan[s->plan_len++];
            size_t off = (r >> 16) % 192;
            g->kind = PLAN_GARBAGE;
            g->hlen = 0;
            g->data = s->garbage + off;
            g->len = (uint32_t)(1 + (r >> 32) % 64);
        } else if (r % 400 == 1) {
            struct plan_ent *g = &s->plan[s->plan_len++];
            g->kind = PLAN_MALFORMED;
            g->h[0] = '$';
            reel_wr_be16(g->h + 2, 8);
            uint64_t x = rnd(s);
            memcpy(g->h + 4, &x, 8);
            g->h[4] = 0x00;                     /* RTP version 0 and only 8 bytes */
            g->hlen = 12;
            g->data = NULL;
            g->len = 0;
        }
    }
    if (s->plan_len >= s->plan_cap)
        return;             /* cannot happen: plan_cap covers the largest tick */
    struct plan_ent *e = &s->plan[s->plan_len++];
    e->kind = PLAN_PKT;
    e->h[0] = '$';
    reel_wr_be16(e->h + 2, (uint16_t)(12 + p->pre_len + p->len));
    e->h[4] = 0x80;
    e->h[5] = (uint8_t)((p->marker ? 0x80 : 0) | 96);
    reel_wr_be16(e->h + 6, c->seq++);
    reel_wr_be32(e->h + 8, (uint32_t)ts);
    reel_wr_be32(e->h + 12, c->ssrc);
    memcpy(e->h + 16, p->pre, p->pre_len);
    e->hlen = (uint8_t)(16 + p->pre_len);
    e->data = p->data;
    e->len = p->len;
}

/* Sends the plan to one TCP-interleaved session (copies to its queue what the socket does not take). */
static void deliver_tcp(struct server *s, struct conn *c)
{
    size_t n = 0;
    uint8_t ch = c->tr.ch[0];
    for (size_t i = 0; i < s->plan_len && !c->dead; i++) {
        struct plan_ent *e = &s->plan[i];
        if (e->kind == PLAN_GARBAGE) {
            s->iov[n++] = (struct iovec){(void *)e->data, e->len};
        } else {
            e->h[1] = ch;
            s->iov[n++] = (struct iovec){e->h, e->hlen};
            if (e->len)
                s->iov[n++] = (struct iovec){(void *)e->data, e->len};
        }
        if (n >= MAX_IOV) {
            conn_sendv(s, c, s->iov, n);
            n = 0;
        }
    }
    conn_sendv(s, c, s->iov, n);
}

/* Sends the plan to one UDP session, in the order of s->perm with --fault reorder. */
static void deliver_udp(struct server *s, struct conn *c)
{
    size_t n = 0;
    for (size_t j = 0; j < s->plan_len; j++) {
        struct plan_ent *e = &s->plan[s->o.reorder ? s->perm[j] : j];
        if (e->kind == PLAN_GARBAGE)
            continue;
        struct iovec *v = &s->uiov[n * 2];
        v[0] = (struct iovec){e->h + 4, (size_t)e->hlen - 4};
        v[1] = (struct iovec){(void *)e->data, e->len};
        s->mmsg[n].msg_hdr = (struct msghdr){.msg_name = &c->udp_dst, .msg_namelen = c->udp_dst_len,
                                             .msg_iov = v, .msg_iovlen = e->len ? 2 : 1};
        if (++n == MMSG_BATCH || j + 1 == s->plan_len) {
            /* A full socket buffer drops datagrams, as a network would. */
            (void)sendmmsg(c->udp_fd, s->mmsg, (unsigned)n, MSG_DONTWAIT);
            n = 0;
        }
    }
    if (n)
        (void)sendmmsg(c->udp_fd, s->mmsg, (unsigned)n, MSG_DONTWAIT);
    if (c->foreign_fd >= 0 && s->plan_len) {
        /* --fault udp-foreign: one bogus RTP packet per tick from another
         * source port, to the client's RTP and RTCP ports: the camera's
         * SSRC and next sequence number, an IDR NAL header and junk. */
        const struct cam *cm = &s->cams[c->cam];
        uint8_t pkt[12 + 201];
        pkt[0] = 0x80;
        pkt[1] = 96;
        pkt[2] = (uint8_t)(cm->seq >> 8);
        pkt[3] = (uint8_t)cm->seq;
        uint32_t ts = (uint32_t)frame_ts(s, cm, cm->n_next), ssrc = cm->ssrc;
        for (int i = 0; i < 4; i++) {
            pkt[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
            pkt[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
        }
        pkt[12] = 0x65;
        memset(pkt + 13, 0xab, sizeof(pkt) - 13);
        struct sockaddr_storage dst = c->udp_dst;
        for (int k = 0; k < 2; k++) {
            if (k == 1) {
                if (dst.ss_family == AF_INET6)
                    ((struct sockaddr_in6 *)&dst)->sin6_port = htons((uint16_t)(c->tr.port[0] + 1));
                else
                    ((struct sockaddr_in *)&dst)->sin_port = htons((uint16_t)(c->tr.port[0] + 1));
            }
            (void)sendto(c->foreign_fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&dst, c->udp_dst_len);
        }
    }
}

/* Adds packets [from, to) of an access unit to the plan. */
static void plan_add_au(struct server *s, struct cam *c, const struct reel_sim_clip *clip,
                        const struct reel_sim_au *au, uint32_t from, uint32_t to, int64_t ts,
                        size_t *rtp_bytes, size_t *npkts)
{
    for (uint32_t k = from; k < to; k++) {
        const struct reel_sim_pkt *p = &clip->pkts[au->first_pkt + k];
        plan_add_pkt(s, c, p, ts);
        *rtp_bytes += 12u + p->pre_len + p->len;
        (*npkts)++;
    }
}

static uint32_t au_first_vcl(const struct reel_sim_clip *clip, const struct reel_sim_au *au)
{
    for (uint32_t k = 0; k < au->npkt; k++)
        if (reel_sim_pkt_is_vcl(clip->codec, &clip->pkts[au->first_pkt + k]))
            return k;
    return au->npkt;
}

/* --fault big-nal: the first non-key frame big_nal_every seconds after the
 * camera's first PLAY, and then after the previous big NAL started, carries
 * the next one. */
static bool big_due(const struct server *s, struct cam *c, const struct reel_sim_au *au, int64_t now)
{
    if (!s->o.big_nal)
        return false;
    if (!c->big_due_ns)
        c->big_due_ns = c->first_play_ns + s->o.big_nal_every * REEL_NS_PER_SEC;
    return !au->key && now >= c->big_due_ns;
}

static void cam_tick(struct server *s, struct cam *c, int64_t now)
{
    uint64_t due = frames_due(s, now);
    if (!c->playing) {
        if (due > c->n_next)
            c->n_next = due;
        c->big_active = c->catch_up = false;
        return;
    }
    if (due <= c->n_next)
        return;
    if (due - c->n_next > s->o.fps && !c->big_active && !c->catch_up)
        c->n_next = due - 1;     /* we were stopped: skip rather than burst */
    cam_faults(s, c, now);

    s->plan_len = 0;
    s->nframes = 0;
    size_t rtp_bytes = 0, npkts = 0;
    uint64_t n = c->n_next;
    /* At most frames_cap frames per tick: after a big NAL the frames that
     * waited behind it go out at up to that rate until caught up. */
    for (; n < due && s->nframes < s->frames_cap; n++) {
        const struct reel_sim_clip *clip = c->clip;
        const struct reel_sim_au *au = &clip->aus[(c->au_off + (n - c->clip_base)) % clip->naus];
        int64_t ts = frame_ts(s, c, n);
        if (s->o.ts_repeat && n > 0 && n % s->o.ts_repeat == 0)
            ts = frame_ts(s, c, n - 1);     /* --fault ts-repeat */
        uint32_t from = 0, bytes = au->bytes;
        if (!c->big_active && big_due(s, c, au, now)) {
            c->big_active = true;
            c->big_n = n;
            c->big_next = 0;
            c->big_vcl = au_first_vcl(clip, au);
            c->big_count++;
            c->big_due_ns = now + s->o.big_nal_every * REEL_NS_PER_SEC;
            reel_log(&s->lg, REEL_LOG_INFO, "cam %u: fault big-nal: a %zu-byte SEI NAL unit in the frame of RTP time %"
                     PRIu32, c->idx, s->big.len, (uint32_t)ts);
            plan_add_au(s, c, clip, au, 0, c->big_vcl, ts, &rtp_bytes, &npkts);
        }
        if (c->big_active) {
            /* Paced: the frame's slices and every later frame wait behind it. */
            for (unsigned b = 0; b < BIG_TICK_PKTS && c->big_next < s->big.npkts; b++) {
                const struct reel_sim_pkt *p = &s->big.pkts[c->big_next++];
                plan_add_pkt(s, c, p, ts);
                rtp_bytes += 12u + p->pre_len + p->len;
                npkts++;
            }
            if (c->big_next < s->big.npkts)
                break;
            c->big_active = false;
            c->catch_up = true;
            from = c->big_vcl;
            bytes += (uint32_t)s->big.len;
        }
        plan_add_au(s, c, clip, au, from, au->npkt, ts, &rtp_bytes, &npkts);
        s->frames[s->nframes++] = (struct frame_ent){ts, bytes, au->key};
    }
    c->n_next = n;
    if (n >= due)
        c->catch_up = false;
    if (s->o.reorder)
        reel_sim_reorder_perm(s->perm, s->plan_len, s->o.reorder, &s->rng);

    unsigned delivered = 0;
    for (struct conn *x = c->playing; x; x = x->cam_next) {
        if (x->dead)
            continue;
        if (s->o.stall && now - x->play_ns >= s->o.stall * REEL_NS_PER_SEC) {
            if (!x->stall_logged)
                reel_log(&s->lg, REEL_LOG_INFO, "conn %u cam %u: fault stall: media stopped", x->id, c->idx);
            x->stall_logged = true;
            continue;
        }
        if (x->tr.tcp)
            deliver_tcp(s, x);
        else
            deliver_udp(s, x);
        delivered++;
    }
    if (!delivered)
        return;
    c->st_pkts += npkts * delivered;
    c->st_bytes += rtp_bytes * delivered;
    c->st_aus += s->nframes * delivered;
    if (s->frame_log)
        for (size_t i = 0; i < s->nframes; i++)
            fprintf(s->frame_log, "%u %" PRId64 " %d %" PRIu32 "\n", c->idx, s->frames[i].ts,
                    s->frames[i].key, s->frames[i].bytes);
}

/* ---- RTSP ---- */

struct reply {
    char buf[8192];
    size_t len;
    bool overflow;
};

static void __attribute__((format(printf, 2, 3))) rp(struct reply *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(r->buf) - r->len)
        r->overflow = true;
    else
        r->len += (size_t)n;
}

static void reply_start(struct reply *r, const struct reel_sim_req *rq, int code, const char *reason)
{
    r->len = 0;
    r->overflow = false;
    rp(r, "RTSP/1.0 %d %s\r\nCSeq: %" PRId64 "\r\nServer: reel-sim\r\n", code, reason, rq->cseq);
}

static void reply_send(struct server *s, struct conn *c, struct reply *r, const char *body, size_t blen)
{
    if (body)
        rp(r, "Content-Length: %zu\r\n", blen);
    rp(r, "\r\n");
    if (body && blen < sizeof(r->buf) - r->len) {
        memcpy(r->buf + r->len, body, blen);
        r->len += blen;
    }
    if (r->overflow) {
        reel_log(&s->lg, REEL_LOG_ERROR, "conn %u: reply too large", c->id);
        conn_kill(s, c);
        return;
    }
    conn_send(s, c, r->buf, r->len);
}

static void simple(struct server *s, struct conn *c, const struct reel_sim_req *rq, int code, const char *reason)
{
    struct reply r;
    reply_start(&r, rq, code, reason);
    reply_send(s, c, &r, NULL, 0);
}

static void session_hdr(struct server *s, struct conn *c, struct reply *r)
{
    if (c->st != SESS_NONE)
        rp(r, "Session: %s;timeout=%" PRId64 "\r\n", c->sid, s->o.session_timeout);
}

static bool session_matches(const struct conn *c, const struct reel_sim_req *rq)
{
    size_t n = strlen(c->sid);
    return c->st != SESS_NONE && rq->session.p && rq->session.n == n && memcmp(rq->session.p, c->sid, n) == 0;
}

static bool method_is(const struct reel_sim_req *rq, const char *m)
{
    return rq->method.n == strlen(m) && memcmp(rq->method.p, m, rq->method.n) == 0;
}

/* "rtsp://h/cam/3/trackID=0" -> "rtsp://h/cam/3" (length) */
static size_t uri_base_len(struct reel_sim_str u)
{
    size_t n = u.n;
    if (n && u.p[n - 1] == '/')
        n--;
    if (n >= 10 && memcmp(u.p + n - 10, "/trackID=0", 10) == 0)
        n -= 10;
    return n;
}

static void do_describe(struct server *s, struct conn *c, const struct reel_sim_req *rq, unsigned cam)
{
    const struct reel_sim_clip *clip = s->cams[cam].clip;
    char fmtp[2400], sdp[3000];
    if (reel_sim_clip_fmtp(clip, fmtp, sizeof(fmtp)) < 0) {
        simple(s, c, rq, 500, "Internal Server Error");
        return;
    }
    const char *ip = s->family == AF_INET6 ? "IP6 ::" : "IP4 0.0.0.0";
    int n = snprintf(sdp, sizeof(sdp),
                     "v=0\r\no=- %u 1 IN %s\r\ns=Reel simulated camera %u\r\nc=IN %s\r\nt=0 0\r\n"
                     "a=tool:reel-sim\r\na=control:*\r\na=range:npt=now-\r\n"
                     "m=video 0 RTP/AVP 96\r\na=rtpmap:96 %s/90000\r\na=fmtp:96 %s\r\n"
                     "a=framerate:%u\r\na=control:trackID=0%s\r\n",
                     cam + 1, ip, cam, ip, clip->codec == REEL_SIM_H264 ? "H264" : "H265", fmtp, s->o.fps,
                     s->o.hostile_text ? HOSTILE_TEXT : "");
    if (n < 0 || (size_t)n >= sizeof(sdp)) {
        simple(s, c, rq, 500, "Internal Server Error");
        return;
    }
    struct reply r;
    reply_start(&r, rq, 200, "OK");
    rp(&r, "Content-Base: %.*s/\r\nContent-Type: application/sdp\r\n", (int)uri_base_len(rq->uri), rq->uri.p);
    if (s->o.slow_describe) {
        /* Hold the reply; the sweep sends it when due. */
        rp(&r, "Content-Length: %d\r\n\r\n", n);
        reel_buf_init(&c->pending, sizeof(r.buf) + sizeof(sdp));
        if (r.overflow || reel_buf_append(&c->pending, r.buf, r.len) < 0 ||
            reel_buf_append(&c->pending, sdp, (size_t)n) < 0) {
            conn_kill(s, c);
            return;
        }
        c->pending_due = now_ns(s) + s->o.slow_describe * REEL_NS_PER_SEC;
        return;
    }
    reply_send(s, c, &r, sdp, (size_t)n);
}

static int udp_open(struct server *s, struct conn *c, uint16_t client_port)
{
    int fd = socket(c->peer.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_storage a;
    socklen_t al = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.ss_family = c->peer.ss_family;
    if (bind(fd, (struct sockaddr *)&a, c->peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                       : sizeof(struct sockaddr_in)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    int sndbuf = 1 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    c->udp_port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                                : ((struct sockaddr_in *)&a)->sin_port);
    c->udp_dst = c->peer;
    c->udp_dst_len = c->peer_len;
    if (c->udp_dst.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&c->udp_dst)->sin6_port = htons(client_port);
    else
        ((struct sockaddr_in *)&c->udp_dst)->sin_port = htons(client_port);
    c->udp_fd = fd;
    if (s->o.udp_foreign) {
        int ff = socket(c->peer.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        memset(&a, 0, sizeof(a));
        a.ss_family = c->peer.ss_family;
        al = sizeof(a);
        if (ff >= 0 && bind(ff, (struct sockaddr *)&a, c->peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                                 : sizeof(struct sockaddr_in)) == 0 &&
            getsockname(ff, (struct sockaddr *)&a, &al) == 0) {
            c->foreign_fd = ff;
            reel_log(&s->lg, REEL_LOG_INFO, "conn %u: fault udp-foreign: bogus RTP from port %u", c->id,
                     (unsigned)ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                                             : ((struct sockaddr_in *)&a)->sin_port));
        } else if (ff >= 0) {
            close(ff);
        }
    }
    return 0;
}

static void do_setup(struct server *s, struct conn *c, const struct reel_sim_req *rq, unsigned cam)
{
    struct reel_sim_transport t;
    if (c->st != SESS_NONE) {
        if (!session_matches(c, rq) || c->cam != cam) {
            simple(s, c, rq, 459, "Aggregate Operation Not Allowed");
            return;
        }
        if (c->st == SESS_PLAYING) {
            simple(s, c, rq, 455, "Method Not Valid in This State");
            return;
        }
    }
    if (reel_sim_transport_parse(rq->transport, &t) < 0 || (t.tcp && s->o.refuse_tcp)) {
        simple(s, c, rq, 461, "Unsupported Transport");
        return;
    }
    if (c->udp_fd >= 0) {
        close(c->udp_fd);
        c->udp_fd = -1;
    }
    if (c->foreign_fd >= 0) {
        close(c->foreign_fd);
        c->foreign_fd = -1;
    }
    if (!t.tcp) {
        int e = udp_open(s, c, t.port[0]);
        if (e < 0) {
            reel_log(&s->lg, REEL_LOG_ERROR, "conn %u cam %u: UDP socket: %s", c->id, cam, strerror(-e));
            simple(s, c, rq, 500, "Internal Server Error");
            return;
        }
    }
    if (c->st == SESS_NONE)
        rnd_hex(s, c->sid, 8);
    c->st = SESS_READY;
    c->cam = cam;
    c->tr = t;
    struct reply r;
    reply_start(&r, rq, 200, "OK");
    session_hdr(s, c, &r);
    if (t.tcp)
        rp(&r, "Transport: RTP/AVP/TCP;unicast;interleaved=%u-%u;ssrc=%08X\r\n", t.ch[0], t.ch[1],
           s->cams[cam].ssrc);
    else
        rp(&r, "Transport: RTP/AVP;unicast;client_port=%u-%u;server_port=%u-%u;ssrc=%08X\r\n", t.port[0],
           t.port[1], c->udp_port, c->udp_port + 1, s->cams[cam].ssrc);
    reply_send(s, c, &r, NULL, 0);
}

static void do_play(struct server *s, struct conn *c, const struct reel_sim_req *rq)
{
    if (c->st == SESS_NONE) {
        simple(s, c, rq, 455, "Method Not Valid in This State");
        return;
    }
    if (!session_matches(c, rq)) {
        simple(s, c, rq, 454, "Session Not Found");
        return;
    }
    struct cam *cam = &s->cams[c->cam];
    int64_t now = now_ns(s);
    if (c->st != SESS_PLAYING) {
        if (!cam->playing) {
            uint64_t due = frames_due(s, now);
            if (due > cam->n_next)
                cam->n_next = due;
        }
        c->st = SESS_PLAYING;
        c->cam_prev = NULL;
        c->cam_next = cam->playing;
        if (cam->playing)
            cam->playing->cam_prev = c;
        cam->playing = c;
        c->play_ns = now;
        if (!cam->first_play_ns)
            cam->first_play_ns = now;
    }
    struct reply r;
    reply_start(&r, rq, 200, "OK");
    session_hdr(s, c, &r);
    rp(&r, "Range: npt=0.000-\r\nRTP-Info: url=%.*s/trackID=0;seq=%u;rtptime=%u\r\n", (int)uri_base_len(rq->uri),
       rq->uri.p, cam->seq, (uint32_t)frame_ts(s, cam, cam->n_next));
    reply_send(s, c, &r, NULL, 0);
}

static void handle_request(struct server *s, struct conn *c, const struct reel_sim_req *rq)
{
    c->last_req_ns = now_ns(s);
    if (s->o.log_auth && rq->authorization.p)     /* --fault log-auth: what a hostile camera harvests */
        reel_log(&s->lg, REEL_LOG_INFO, "conn %u: fault log-auth: %.*s with Authorization: %.*s", c->id,
                 (int)rq->method.n, rq->method.p, (int)rq->authorization.n, rq->authorization.p);
    if (s->o.redirect && method_is(rq, "DESCRIBE")) {
        struct reply r;
        reply_start(&r, rq, 302, "Found");
        rp(&r, "Location: %s\r\n", s->o.redirect);
        reply_send(s, c, &r, NULL, 0);
        return;
    }
    enum reel_sim_auth mode = s->o.auth;
    if (s->o.basic_after_digest && s->downgraded)
        mode = REEL_SIM_AUTH_BASIC;
    if (!method_is(rq, "OPTIONS")) {
        int ok = s->o.refuse_auth ? 0
                                  : reel_sim_auth_check(mode, rq->authorization, rq->method, rq->uri,
                                                        s->o.user, s->o.password, REALM, c->nonce);
        if (ok <= 0) {
            struct reply r;
            reply_start(&r, rq, 401, "Unauthorized");
            if (mode == REEL_SIM_AUTH_BASIC) {
                rp(&r, "WWW-Authenticate: Basic realm=\"" REALM "\"\r\n");
            } else {
                rp(&r, "WWW-Authenticate: Digest realm=\"" REALM "\", nonce=\"%s\", algorithm=MD5\r\n", c->nonce);
                c->digest_sent = true;
            }
            reply_send(s, c, &r, NULL, 0);
            return;
        }
    }
    if (method_is(rq, "OPTIONS")) {
        struct reply r;
        reply_start(&r, rq, 200, "OK");
        session_hdr(s, c, &r);
        rp(&r, "Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER, TEARDOWN\r\n");
        reply_send(s, c, &r, NULL, 0);
        return;
    }
    if (method_is(rq, "DESCRIBE") || method_is(rq, "SETUP")) {
        unsigned cam;
        bool track;
        if (reel_sim_uri_camera(rq->uri, s->o.cameras, &cam, &track) < 0) {
            simple(s, c, rq, 404, "Not Found");
            return;
        }
        if (method_is(rq, "DESCRIBE"))
            do_describe(s, c, rq, cam);
        else
            do_setup(s, c, rq, cam);
        return;
    }
    if (method_is(rq, "PLAY")) {
        do_play(s, c, rq);
        return;
    }
    bool known = method_is(rq, "PAUSE") || method_is(rq, "TEARDOWN") || method_is(rq, "GET_PARAMETER") ||
                 method_is(rq, "SET_PARAMETER");
    if (!known) {
        simple(s, c, rq, 501, "Not Implemented");
        return;
    }
    if (rq->session.p && !session_matches(c, rq)) {
        simple(s, c, rq, 454, "Session Not Found");
        return;
    }
    if ((method_is(rq, "PAUSE") || method_is(rq, "TEARDOWN")) && c->st == SESS_NONE) {
        simple(s, c, rq, 454, "Session Not Found");
        return;
    }
    struct reply r;
    reply_start(&r, rq, 200, "OK");
    session_hdr(s, c, &r);
    if (method_is(rq, "PAUSE"))
        cam_unlink(s, c);
    else if (method_is(rq, "TEARDOWN"))
        sess_end(s, c);
    reply_send(s, c, &r, NULL, 0);
}

/* Consumes as much of c->in as forms whole requests / interleaved frames. */
static void process_input(struct server *s, struct conn *c)
{
    size_t off = 0;
    while (!c->dead && off < c->in.len) {
        const uint8_t *p = c->in.data + off;
        size_t avail = c->in.len - off;
        if (c->skip) {
            size_t k = avail < c->skip ? avail : c->skip;
            c->skip -= k;
            off += k;
            continue;
        }
        if (c->pending.data)
            break;              /* slow-describe: answer pending, don't read ahead */
        if (p[0] == '$') {
            if (avail < 4)
                break;
            c->skip = reel_rd_be16(p + 2);
            if (s->o.rtcp_keepalive && c->st != SESS_NONE && c->tr.tcp && p[1] == c->tr.ch[1])
                c->last_req_ns = now_ns(s);
            off += 4;
            continue;
        }
        struct reel_sim_req rq;
        size_t used;
        struct reel_err err;
        int r = reel_sim_req_parse(p, avail, &rq, &used, &err);
        if (r == 0)
            break;
        if (r < 0) {
            reel_log(&s->lg, REEL_LOG_WARN, "conn %u: %s: disconnecting", c->id, err.msg);
            s->st_malformed_in++;
            static const char bad[] = "RTSP/1.0 400 Bad Request\r\nServer: reel-sim\r\n\r\n";
            conn_send(s, c, bad, sizeof(bad) - 1);
            conn_kill(s, c);
            return;
        }
        off += used;
        if (!rq.response)       /* a client's answer to what it took for a request: ignored */
            handle_request(s, c, &rq);
    }
    if (off) {
        reel_buf_consume(&c->in, off);
    }
}

static void conn_read(struct server *s, struct conn *c)
{
    if (s->o.silent) {
        uint8_t junk[4096];
        ssize_t k = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
            conn_kill(s, c);
        return;
    }
    if (reel_buf_reserve(&c->in, 4096) < 0) {
        reel_log(&s->lg, REEL_LOG_WARN, "conn %u: input over %u bytes unprocessed: disconnecting", c->id, IN_CAP);
        conn_kill(s, c);
        return;
    }
    size_t room = c->in.alloc - c->in.len;
    ssize_t k = recv(c->fd, c->in.data + c->in.len, room, MSG_DONTWAIT);
    if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_kill(s, c);
        return;
    }
    if (k < 0)
        return;
    c->in.len += (size_t)k;
    process_input(s, c);
}

static void do_accept(struct server *s)
{
    for (;;) {
        struct sockaddr_storage a;
        socklen_t al = sizeof(a);
        int fd = accept4(s->lfd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                reel_log(&s->lg, REEL_LOG_WARN, "accept: %s", strerror(errno));
            return;
        }
        if (s->nconns >= MAX_CONNS) {
            reel_log(&s->lg, REEL_LOG_WARN, "over %u connections: refusing one", MAX_CONNS);
            close(fd);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->fd = fd;
        c->udp_fd = -1;
        c->foreign_fd = -1;
        c->id = s->next_id++;
        c->peer = a;
        c->peer_len = al;
        c->accepted_ns = c->last_req_ns = now_ns(s);
        reel_buf_init(&c->in, IN_CAP);
        reel_buf_init(&c->out, OUT_CAP);
        reel_buf_init(&c->pending, 0);
        rnd_hex(s, c->nonce, 16);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
    }
}

static void sweep(struct server *s, int64_t now)
{
    int64_t tmo = s->o.session_timeout * REEL_NS_PER_SEC;
    for (struct conn *c = s->conns; c; c = c->next) {
        if (c->dead)
            continue;
        if (c->pending.data && now >= c->pending_due) {
            conn_send(s, c, c->pending.data, c->pending.len);
            reel_buf_free(&c->pending);
            process_input(s, c);
        }
        if (s->o.disconnect && now - c->accepted_ns >= s->o.disconnect * REEL_NS_PER_SEC) {
            if (c->st == SESS_PLAYING && c->tr.tcp) {
                /* Cut in the middle of an interleaved frame: a header announcing
                 * 1400 bytes and the start of an RTP header, then close. */
                struct cam *cam = &s->cams[c->cam];
                uint8_t h[10] = {'$', c->tr.ch[0], 0x05, 0x78, 0x80, 96};
                reel_wr_be16(h + 6, cam->seq);
                reel_wr_be16(h + 8, (uint16_t)(frame_ts(s, cam, cam->n_next) >> 16));
                conn_send(s, c, h, sizeof(h));
                conn_flush(s, c);
            }
            reel_log(&s->lg, REEL_LOG_INFO, "conn %u: fault disconnect: closing", c->id);
            conn_kill(s, c);
            continue;
        }
        if (now - c->last_req_ns > tmo) {
            reel_log(&s->lg, REEL_LOG_INFO, "conn %u: no request for %" PRId64 " s: %s", c->id,
                     s->o.session_timeout, c->st != SESS_NONE ? "session timed out, dropped" : "dropped");
            conn_kill(s, c);
        }
    }
}

static void print_stats(struct server *s)
{
    uint64_t p = 0, b = 0, a = 0;
    for (unsigned i = 0; i < s->o.cameras; i++) {
        struct cam *c = &s->cams[i];
        fprintf(stderr, "reel-sim: cam %u: packets %" PRIu64 " bytes %" PRIu64 " aus %" PRIu64 "\n", i, c->st_pkts,
                c->st_bytes, c->st_aus);
        p += c->st_pkts;
        b += c->st_bytes;
        a += c->st_aus;
    }
    fprintf(stderr,
            "reel-sim: total: packets %" PRIu64 " bytes %" PRIu64 " aus %" PRIu64 " connections %u"
            " slow-reader drops %" PRIu64 " malformed requests %" PRIu64 "\n",
            p, b, a, s->nconns, s->st_dropped_slow, s->st_malformed_in);
    if (s->frame_log)
        fflush(s->frame_log);
}

/* ---- start-up ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: reel-sim --clip FILE --codec h264|h265 [--fps 30] [--cameras N]\n"
            "                [--listen 127.0.0.1] [--port 8554] [--user U --password P --auth basic|digest]\n"
            "                [--session-timeout S] [--rtcp-keepalive] [--fault KIND[=ARG]]... [--clip2 FILE]\n"
            "                [--ts-start N] [--seq-start N] [--frame-log FILE] [--ready-file FILE]\n"
            "faults: garbage, disconnect=S, stall=S, refuse-auth, silent, slow-describe=S,\n"
            "        params-change=S (needs --clip2), ssrc-change=S, ts-jump=S, seq-gap=N,\n"
            "        reorder[=N] (UDP, default 4), big-nal[=BYTES[,S]] (default 3M every 5 s),\n"
            "        refuse-tcp (461 to SETUP over TCP), ts-repeat=N (every Nth frame repeats a timestamp)\n"
            "hostile: redirect=URL (DESCRIBE gets 302 Location: URL), log-auth (log each Authorization\n"
            "        received), basic-after-digest (Digest until a connection that was offered it ends,\n"
            "        then only Basic), udp-foreign (bogus RTP from another source port to UDP clients),\n"
            "        hostile-text (terminal escape sequences in the video's SDP a=control)\n");
}

static int num(const char *opt, const char *v, int64_t min, int64_t max, int64_t *ret)
{
    if (!v || reel_parse_i64(v, strlen(v), min, max, ret) < 0) {
        fprintf(stderr, "reel-sim: %s: '%s' is not an integer in %" PRId64 "..%" PRId64 "\n", opt, v ? v : "",
                min, max);
        return -EINVAL;
    }
    return 0;
}

/* "BYTES[K|M][,S]" for --fault big-nal. */
static int parse_big_nal(const char *arg, size_t *ret_bytes, int64_t *ret_every)
{
    const char *comma = strchr(arg, ',');
    size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
    int64_t mult = 1, v;
    if (n && (arg[n - 1] == 'K' || arg[n - 1] == 'k'))
        mult = 1 << 10, n--;
    else if (n && (arg[n - 1] == 'M' || arg[n - 1] == 'm'))
        mult = 1 << 20, n--;
    if (reel_parse_i64(arg, n, 1, REEL_SIM_BIGNAL_MAX, &v) < 0 || v * mult < REEL_SIM_BIGNAL_MIN ||
        v * mult > REEL_SIM_BIGNAL_MAX) {
        fprintf(stderr, "reel-sim: --fault big-nal=%s: size must be %u..%u bytes (K and M suffixes)\n", arg,
                REEL_SIM_BIGNAL_MIN, REEL_SIM_BIGNAL_MAX);
        return -EINVAL;
    }
    *ret_bytes = (size_t)(v * mult);
    if (comma && num("--fault big-nal interval", comma + 1, 1, 86400, ret_every) < 0)
        return -EINVAL;
    return 0;
}

static int parse_fault(struct opts *o, const char *f)
{
    const char *eq = strchr(f, '=');
    size_t kl = eq ? (size_t)(eq - f) : strlen(f);
    const char *arg = eq ? eq + 1 : NULL;
    int64_t v;
#define IS(k) (kl == strlen(k) && memcmp(f, k, kl) == 0)
    if (IS("garbage") && !arg)
        o->garbage = true;
    else if (IS("refuse-auth") && !arg)
        o->refuse_auth = true;
    else if (IS("silent") && !arg)
        o->silent = true;
    else if (IS("refuse-tcp") && !arg)
        o->refuse_tcp = true;
    else if (IS("log-auth") && !arg)
        o->log_auth = true;
    else if (IS("basic-after-digest") && !arg)
        o->basic_after_digest = true;
    else if (IS("udp-foreign") && !arg)
        o->udp_foreign = true;
    else if (IS("hostile-text") && !arg)
        o->hostile_text = true;
    else if (IS("redirect")) {
        /* the Location is sent as given: printable ASCII, no spaces */
        bool ok = arg && *arg && strlen(arg) < 1024;
        for (const char *q = arg; ok && *q; q++)
            ok = *q > 0x20 && *q < 0x7f;
        if (!ok) {
            fprintf(stderr, "reel-sim: --fault redirect=URL: a URL of printable ASCII without spaces\n");
            return -EINVAL;
        }
        o->redirect = arg;
    }
    else if (IS("ts-repeat")) {
        if (num("--fault ts-repeat", arg, 2, 1000000, &v) < 0)
            return -EINVAL;
        o->ts_repeat = (unsigned)v;
    }
    else if (IS("reorder")) {
        v = REORDER_DEFAULT;
        if (arg && num("--fault reorder", arg, REEL_SIM_REORDER_MIN, REEL_SIM_REORDER_MAX, &v) < 0)
            return -EINVAL;
        o->reorder = (unsigned)v;
    } else if (IS("big-nal")) {
        o->big_nal = BIG_DEFAULT_BYTES;
        o->big_nal_every = BIG_DEFAULT_EVERY;
        if (arg && parse_big_nal(arg, &o->big_nal, &o->big_nal_every) < 0)
            return -EINVAL;
    } else if (IS("seq-gap")) {
        if (num("--fault seq-gap", arg, 1, 1000000, &v) < 0)
            return -EINVAL;
        o->seq_gap = (unsigned)v;
    } else {
        int64_t *dst = IS("disconnect") ? &o->disconnect : IS("stall") ? &o->stall
                     : IS("slow-describe") ? &o->slow_describe : IS("params-change") ? &o->params_change
                     : IS("ssrc-change") ? &o->ssrc_change : IS("ts-jump") ? &o->ts_jump : NULL;
        if (!dst) {
            fprintf(stderr, "reel-sim: unknown fault '%s'\n", f);
            return -EINVAL;
        }
        if (num("--fault", arg, 1, 86400 * 365, &v) < 0)
            return -EINVAL;
        *dst = v;
    }
#undef IS
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"clip", required_argument, 0, 'c'},       {"clip2", required_argument, 0, 'C'},
        {"codec", required_argument, 0, 'k'},      {"fps", required_argument, 0, 'f'},
        {"cameras", required_argument, 0, 'n'},    {"listen", required_argument, 0, 'l'},
        {"port", required_argument, 0, 'p'},       {"user", required_argument, 0, 'u'},
        {"password", required_argument, 0, 'P'},  {"auth", required_argument, 0, 'a'},
        {"session-timeout", required_argument, 0, 't'}, {"fault", required_argument, 0, 'F'},
        {"ready-file", required_argument, 0, 'r'}, {"frame-log", required_argument, 0, 'L'},
        {"ts-start", required_argument, 0, 'T'},   {"seq-start", required_argument, 0, 'S'},
        {"rtcp-keepalive", no_argument, 0, 'K'},   {"help", no_argument, 0, 'h'},             {0, 0, 0, 0},
    };
    *o = (struct opts){.listen = "127.0.0.1", .fps = 30, .cameras = 1, .port = 8554,
                       .auth = REEL_SIM_AUTH_DIGEST, .session_timeout = 60, .codec = (enum reel_sim_codec)-1};
    const char *auth = NULL;
    int ch;
    int64_t v;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': o->clip = optarg; break;
        case 'C': o->clip2 = optarg; break;
        case 'k':
            if (!strcmp(optarg, "h264"))
                o->codec = REEL_SIM_H264;
            else if (!strcmp(optarg, "h265"))
                o->codec = REEL_SIM_H265;
            else {
                fprintf(stderr, "reel-sim: --codec must be h264 or h265\n");
                return -EINVAL;
            }
            break;
        case 'f': if (num("--fps", optarg, 1, 240, &v) < 0) return -EINVAL; o->fps = (unsigned)v; break;
        case 'n': if (num("--cameras", optarg, 1, 4096, &v) < 0) return -EINVAL; o->cameras = (unsigned)v; break;
        case 'l': o->listen = optarg; break;
        case 'p': if (num("--port", optarg, 0, 65535, &v) < 0) return -EINVAL; o->port = (unsigned)v; break;
        case 'u': o->user = optarg; break;
        case 'P': o->password = optarg; break;
        case 'a': auth = optarg; break;
        case 't':
            if (num("--session-timeout", optarg, 1, 86400, &v) < 0)
                return -EINVAL;
            o->session_timeout = v;
            break;
        case 'F': if (parse_fault(o, optarg) < 0) return -EINVAL; break;
        case 'r': o->ready_file = optarg; break;
        case 'L': o->frame_log = optarg; break;
        case 'T':
            if (num("--ts-start", optarg, 0, UINT32_MAX, &v) < 0)
                return -EINVAL;
            o->ts_start = (uint32_t)v, o->have_ts_start = true;
            break;
        case 'S':
            if (num("--seq-start", optarg, 0, UINT16_MAX, &v) < 0)
                return -EINVAL;
            o->seq_start = (uint16_t)v, o->have_seq_start = true;
            break;
        case 'K': o->rtcp_keepalive = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -EINVAL;
        }
    }
    if (optind != argc || !o->clip || (int)o->codec < 0) {
        usage(stderr);
        return -EINVAL;
    }
    if (auth && strcmp(auth, "basic") && strcmp(auth, "digest")) {
        fprintf(stderr, "reel-sim: --auth must be basic or digest\n");
        return -EINVAL;
    }
    if (auth && !strcmp(auth, "basic"))
        o->auth = REEL_SIM_AUTH_BASIC;
    if (!o->user != !o->password) {
        fprintf(stderr, "reel-sim: --user and --password go together\n");
        return -EINVAL;
    }
    if (!o->user && !o->refuse_auth)
        o->auth = REEL_SIM_AUTH_NONE;
    if (o->user && (strlen(o->user) > 100 || strlen(o->password) > 100 || strchr(o->user, ':'))) {
        fprintf(stderr, "reel-sim: --user/--password too long or user contains ':'\n");
        return -EINVAL;
    }
    if (o->params_change && !o->clip2) {
        fprintf(stderr, "reel-sim: --fault params-change needs --clip2\n");
        return -EINVAL;
    }
    return 0;
}

static int listen_on(struct server *s)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai;
    char port[8];
    snprintf(port, sizeof(port), "%u", s->o.port);
    int r = getaddrinfo(s->o.listen, port, &hints, &ai);
    if (r) {
        fprintf(stderr, "reel-sim: --listen %s: %s\n", s->o.listen, gai_strerror(r));
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
        int e = errno;
        fprintf(stderr, "reel-sim: listen on %s port %s: %s\n", s->o.listen, port, strerror(e));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -e;
    }
    s->family = ai->ai_family;
    freeaddrinfo(ai);
    struct sockaddr_storage a;
    socklen_t al = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                            : ((struct sockaddr_in *)&a)->sin_port);
    s->lfd = fd;
    return 0;
}

static int write_ready(const struct server *s)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", s->o.ready_file) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -errno;
    fprintf(f, "%u\n", s->port);
    if (fclose(f) != 0 || rename(tmp, s->o.ready_file) < 0)
        return -errno;
    return 0;
}

static size_t max_au_pkts(const struct reel_sim_clip *c)
{
    size_t m = 0;
    for (size_t i = 0; i < c->naus; i++)
        if (c->aus[i].npkt > m)
            m = c->aus[i].npkt;
    return m;
}

static int setup(struct server *s)
{
    struct reel_err err;
    int r = reel_sim_clip_load(s->o.clip, s->o.codec, &s->clip, &err);
    if (r < 0) {
        fprintf(stderr, "reel-sim: %s\n", err.msg);
        return r;
    }
    if (s->o.clip2 && (r = reel_sim_clip_load(s->o.clip2, s->o.codec, &s->clip2, &err)) < 0) {
        fprintf(stderr, "reel-sim: --clip2: %s\n", err.msg);
        return r;
    }
    size_t m = max_au_pkts(&s->clip);
    if (s->o.clip2 && max_au_pkts(&s->clip2) > m)
        m = max_au_pkts(&s->clip2);
    if (s->o.big_nal && (r = reel_sim_bignal_make(s->o.codec, s->o.big_nal, &s->big)) < 0) {
        fprintf(stderr, "reel-sim: --fault big-nal: %s\n", strerror(-r));
        return r;
    }
    /* At most frames_cap frames per tick (and BIG_TICK_PKTS packets of a big
     * NAL); every packet may be preceded by one garbage entry. */
    s->frames_cap = s->o.fps + 2;
    s->plan_cap = (m * s->frames_cap + (s->o.big_nal ? BIG_TICK_PKTS : 0)) * 2 + 4;
    s->plan = calloc(s->plan_cap, sizeof(*s->plan));
    s->perm = s->o.reorder ? calloc(s->plan_cap, sizeof(*s->perm)) : NULL;
    s->frames = calloc(s->frames_cap, sizeof(*s->frames));
    s->cams = calloc(s->o.cameras, sizeof(*s->cams));
    if (!s->plan || !s->frames || !s->cams || (s->o.reorder && !s->perm)) {
        fprintf(stderr, "reel-sim: out of memory\n");
        return -ENOMEM;
    }
    uint64_t seed;
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
    s->rng = seed | 1;
    for (size_t i = 0; i < sizeof(s->garbage); i++)
        s->garbage[i] = (uint8_t)(rnd(s) >> 40);
    for (unsigned i = 0; i < s->o.cameras; i++) {
        struct cam *c = &s->cams[i];
        c->idx = i;
        c->clip = &s->clip;
        c->au_off = (uint32_t)((uint64_t)i * 37 % s->clip.naus);   /* staggers key frames */
        c->ts0 = s->o.have_ts_start ? s->o.ts_start : (uint32_t)rnd(s);
        c->seq = s->o.have_seq_start ? s->o.seq_start : (uint16_t)rnd(s);
        c->ssrc = (uint32_t)rnd(s);
    }
    if (s->o.frame_log) {
        s->frame_log = fopen(s->o.frame_log, "we");
        if (!s->frame_log) {
            fprintf(stderr, "reel-sim: --frame-log %s: %s\n", s->o.frame_log, strerror(errno));
            return -errno;
        }
        setvbuf(s->frame_log, NULL, _IOFBF, 1 << 16);
    }

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if ((r = listen_on(s)) < 0)
        return r;

    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGUSR1);
    sigaddset(&ss, SIGUSR2);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    signal(SIGPIPE, SIG_IGN);
    s->sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
    s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->sfd < 0 || s->tfd < 0 || s->ep < 0) {
        fprintf(stderr, "reel-sim: signalfd/timerfd/epoll: %s\n", strerror(errno));
        return -errno;
    }
    struct itimerspec its = {.it_interval = {0, TICK_NS}, .it_value = {0, TICK_NS}};
    timerfd_settime(s->tfd, 0, &its, NULL);
    /* Listening socket, timer and signals are told apart by these tags. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->lfd};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev);
    ev.data.ptr = &s->tfd;
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->tfd, &ev);
    ev.data.ptr = &s->sfd;
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->sfd, &ev);
    s->start_ns = now_ns(s);

    if (s->o.ready_file && (r = write_ready(s)) < 0) {
        fprintf(stderr, "reel-sim: --ready-file %s: %s\n", s->o.ready_file, strerror(-r));
        return r;
    }
    reel_log(&s->lg, REEL_LOG_INFO, "serving %u camera(s) of %s (%zu AUs, %zu packets) on rtsp://%s:%u/cam/<i>",
             s->o.cameras, s->o.clip, s->clip.naus, s->clip.npkts, s->o.listen, s->port);
    if (s->o.big_nal)
        reel_log(&s->lg, REEL_LOG_INFO, "fault big-nal: a %zu-byte SEI NAL unit (%zu packets) every %" PRId64 " s",
                 s->big.len, s->big.npkts, s->o.big_nal_every);
    if (s->o.reorder)
        reel_log(&s->lg, REEL_LOG_INFO, "fault reorder: UDP packets shuffled in windows of %u", s->o.reorder);
    return 0;
}

static void on_signal(struct server *s)
{
    struct signalfd_siginfo si;
    while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGUSR1) {
            print_stats(s);
        } else if (si.ssi_signo == SIGUSR2) {
            /* Pause: no new frames for anyone; queued output still drains.
             * The benchmark uses it to end a measurement cleanly. */
            s->paused = true;
            reel_log(&s->lg, REEL_LOG_INFO, "paused: no more frames are sent");
            if (s->frame_log)
                fflush(s->frame_log);
        } else {
            s->quit = true;
        }
    }
}

static void on_tick(struct server *s)
{
    uint64_t exp;
    if (read(s->tfd, &exp, sizeof(exp)) != (ssize_t)sizeof(exp))
        return;
    int64_t now = now_ns(s);
    for (unsigned i = 0; i < s->o.cameras && !s->paused; i++)
        cam_tick(s, &s->cams[i], now);
    if (++s->ticks % SWEEP_EVERY == 0 || s->o.slow_describe)
        sweep(s, now);
}

static void shutdown_all(struct server *s)
{
    for (struct conn *c = s->conns; c; c = c->next)
        conn_kill(s, c);
    reap(s);
    if (s->frame_log)
        fclose(s->frame_log);
    free(s->plan);
    free(s->perm);
    free(s->frames);
    free(s->cams);
    reel_sim_clip_free(&s->clip);
    reel_sim_clip_free(&s->clip2);
    reel_sim_bignal_free(&s->big);
    int fds[] = {s->ep, s->lfd, s->tfd, s->sfd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int main(int argc, char **argv)
{
    struct server *s = calloc(1, sizeof(*s));
    if (!s)
        return 1;
    s->ep = s->lfd = s->tfd = s->sfd = -1;
    s->lg = (struct reel_logger){.fd = 2, .min = REEL_LOG_INFO};
    s->clk = reel_clock_system();
    int rc = 1;
    if (parse_args(argc, argv, &s->o) < 0)
        goto out;
    if (setup(s) < 0)
        goto out;
    struct epoll_event evs[256];
    while (!s->quit) {
        int n = epoll_wait(s->ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            reel_log(&s->lg, REEL_LOG_ERROR, "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &s->lfd) {
                do_accept(s);
            } else if (tag == &s->tfd) {
                on_tick(s);
            } else if (tag == &s->sfd) {
                on_signal(s);
            } else {
                struct conn *c = tag;
                if (c->dead)
                    continue;
                if (evs[i].events & EPOLLOUT)
                    conn_flush(s, c);
                if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                    conn_read(s, c);
            }
        }
        reap(s);
    }
    print_stats(s);
    rc = 0;
out:
    shutdown_all(s);
    free(s);
    return rc;
}

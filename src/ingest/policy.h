/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The camera policy: one camera's decisions, without I/O. It is told what
 * happened (started, name being resolved, TCP connected, connection failed,
 * the RTSP session's state after a feed or tick, an access unit arrived, a
 * UDP packet arrived, the timer fired, stopped) and acts through a table of
 * operations the caller implements (struct reel_ingest_ops): connect to a
 * URL, disconnect, open/close the run and write a frame, begin/end an outage
 * with its reason, arm the one timer, log a line, report a state change.
 * Time comes from the injectable clock only, so unit tests drive it with a
 * fake clock and fake operations (tests/unit/test_ingest.c). The streamer
 * (src/reel/camera.c) glues it to sockets, the RTSP client, the depacketiser
 * and the store.
 *
 * Rules it implements:
 * - Backoff: the first retry after a failure waits backoff_min, each further
 *   consecutive failure doubles the wait up to backoff_max; it resets to
 *   backoff_min when recording starts (a run is opened).
 * - Outages: "connecting" is opened at start; the first real cause replaces
 *   it (same outage, new reason); a different cause later ends the open
 *   outage and begins a new one; the outage ends when recording starts;
 *   stop begins "recorder stopped". At start, an outage left open by a
 *   previous process (its "recorder stopped") is ended first, so a clean
 *   restart's downtime keeps that reason and the reconnection after it is a
 *   separate short "connecting".
 * - Timestamps: a jump of more than 10 s forward or 0.5 s back starts a new
 *   run (at the next key frame). A repeated (or slightly backwards)
 *   timestamp gets last + the previous frame interval, and the frames after
 *   it are brought back onto the camera's clock by at most half of their own
 *   interval each, so every frame keeps a duration of at least half the
 *   nominal interval and the store never sees a non-increasing timestamp.
 *   A run that starts on a repeated timestamp (its key frame repeats the
 *   dropped frame before it) starts one interval later too.
 * - Parameter sets: a change is stored as a new sample entry; on a non-key
 *   frame the run ends and the next key frame starts a new one.
 * - Media timeout: no access unit for media_timeout while playing fails the
 *   connection with "stalled: no video for N s".
 * - Transports: UDP refused by the server (461) or silent for udp_silence
 *   while playing -> TCP for the rest of the camera's life (as before).
 *   TCP interleaved refused (461, as some cameras do) -> UDP at once, logged
 *   once; the camera remembers it and reconnects over UDP; after
 *   tcp_retry (default 1 h) since the refusal, the next reconnection after a
 *   failure tries TCP again (a silent fall back to UDP if still refused).
 *   A restart of the camera (new policy) forgets it. While TCP is known to
 *   be refused, UDP silence is a failure with backoff, not a switch to TCP.
 *
 * - Redirects: a 3xx Location on the configured URL's host (any port) is
 *   followed, up to 5 in a row; one to another host fails "redirect to
 *   another host refused: rtsp://HOST:PORT" unless cfg.allow_redirect.
 * - Log lines and failure reasons (last_error, outage reason) never show a
 *   URL's userinfo, path or query: every URL in them is cut to
 *   scheme://host:port (reel_rtsp_url_redact); last_error and the outage
 *   reason are also escaped (reel_log_escape), since they may quote text
 *   from the camera and reach the terminal and the API.
 *
 * Re-entrancy: operations must not call back into the policy, except
 * ops->disconnect, which may deliver access units still buffered (the
 * depacketiser's flush) through reel_ingest_au(); those go into the open
 * run, if any, but never open one. Failures met inside reel_ingest_au()
 * (storage) are deferred: the caller calls reel_ingest_settle() once the
 * call chain that delivered the access unit has returned.
 *
 * Ownership: the caller allocates struct reel_ingest_policy (fields are
 * private) and the cfg strings must outlive it (the policy copies the URL).
 */
#ifndef REEL_INGEST_POLICY_H
#define REEL_INGEST_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"
#include "rtsp/client.h"

#define REEL_INGEST_URL_MAX 1024
#define REEL_INGEST_REASON_MAX 256

enum reel_ingest_state {
    REEL_INGEST_IDLE,
    REEL_INGEST_CONNECTING,     /* resolving the name, then TCP connect */
    REEL_INGEST_SESSION,        /* RTSP requests, then playing */
    REEL_INGEST_BACKOFF,        /* waiting before the next attempt */
    REEL_INGEST_STOPPED,
};

struct reel_ingest_ops {
    /* Starts a connection: resolve the URL's host, open the TCP socket
     * (non-blocking connect) and, with udp, bind the UDP port pair. Returns
     * 0 when the TCP connect is under way, 1 when a name lookup is under way
     * (ret_host holds the name), or a negative errno with err (then nothing is
     * left open). The caller later reports reel_ingest_resolved(),
     * reel_ingest_connected() or reel_ingest_fail(). */
    int (*connect)(void *opaque, const char *url, bool udp, char *ret_host, size_t host_cap, struct reel_err *err);
    /* Closes everything connect opened (cancelling a lookup); may deliver
     * buffered access units (see Re-entrancy). Called in any state. */
    void (*disconnect)(void *opaque);
    /* The access unit being handled by reel_ingest_au(): store its
     * parameter sets as a sample entry; open a run; write it with ts90k.
     * run_frame: -EINVAL = this frame was refused (dropped, run goes on);
     * another negative errno = the store closed the run. */
    int (*sample_entry)(void *opaque, struct reel_err *err);
    int (*run_open)(void *opaque, struct reel_err *err);
    int (*run_frame)(void *opaque, int64_t ts90k, struct reel_err *err);
    void (*run_close)(void *opaque);
    /* Outages, at wall time in 90 kHz units. */
    void (*outage_begin)(void *opaque, int64_t wall90k, const char *reason);
    void (*outage_end)(void *opaque, int64_t wall90k);
    /* The single timer: (re)arms it at a monotonic deadline (negative errno
     * when it cannot), or cancels it. */
    int (*timer_set)(void *opaque, int64_t deadline_ns);
    void (*timer_cancel)(void *opaque);
    /* One log line, without the "camera NAME: " prefix. */
    void (*log)(void *opaque, enum reel_log_level level, const char *line);
    /* The state shown in reel_ingest_status() changed. May be NULL. */
    void (*state_changed)(void *opaque);
    void *opaque;
};

struct reel_ingest_cfg {
    const char *url;                /* the configured URL (redirects start from it again) */
    bool udp;                       /* configured transport */
    /* Follow a 3xx to another host than url's (same host, any port, is
     * always followed). The caller never sends credentials to another host
     * (see src/reel/camera.c); the RTSP client never follows another scheme. */
    bool allow_redirect;
    int64_t media_timeout_ns;       /* default 10 s */
    int64_t connect_timeout_ns;     /* TCP connect (default 10 s) */
    int64_t resolve_timeout_ns;     /* name lookup (default 5 s) */
    int64_t backoff_min_ns;         /* default 1 s */
    int64_t backoff_max_ns;         /* default 30 s */
    int64_t udp_silence_ns;         /* default 5 s */
    int64_t tcp_retry_ns;           /* retry TCP this long after a 461 (default 1 h) */
    const struct reel_clock *clock; /* NULL = system clock */
    const struct reel_ingest_ops *ops;
};

/* One access unit as the policy sees it (the data stays with the caller). */
struct reel_ingest_au {
    int64_t ts90k;                  /* unwrapped RTP timestamp */
    size_t len;
    bool key;
    bool params_new;                /* parameter sets differ from the sample entry in use (or none yet) */
    const char *codec;              /* for log lines */
    unsigned width, height;
};

struct reel_ingest_status {
    enum reel_ingest_state state;
    bool recording;                 /* a run is open */
    bool udp;                       /* current transport */
    char state_word[64];            /* "connecting", "starting", "recording (udp)", "retrying", ... */
    char last_error[REEL_INGEST_REASON_MAX];
    double fps, bitrate_bps;        /* over the last 5 to 10 s */
    uint64_t frames;                /* stored since start */
};

/* What a feed or tick of the RTSP client left it in. */
struct reel_ingest_rtsp {
    enum reel_rtsp_state state;
    bool failed;                    /* state FAILED or the call returned an error */
    enum reel_rtsp_errkind errkind;
    const char *error;              /* why, "" if unknown */
    const char *redirect_url;       /* state REDIRECT */
    int64_t deadline_ns;            /* reel_rtsp_client_deadline() */
};

struct reel_ingest_policy {         /* private: use the functions */
    struct reel_ingest_cfg cfg;
    struct reel_ingest_ops ops;
    const struct reel_clock *clock;
    enum reel_ingest_state state;
    char url[REEL_INGEST_URL_MAX];
    char host[256];
    bool resolving;
    bool udp;
    bool udp_refused;
    bool tcp_refused;
    int64_t tcp_refused_at;
    int redirects;
    int64_t backoff_ns;
    int64_t rtsp_deadline;
    bool run;
    bool closing;
    bool recording_logged;
    int retry_now_depth;
    int64_t playing_since;          /* 0 = not playing */
    int64_t last_frame_mono, last_udp_mono;
    bool have_last;                 /* of the run: last stored frame */
    int64_t last_raw, last_out, last_interval;
    bool have_seen, seen_repeat;    /* of the connection: every AU, stored or not */
    int64_t seen_raw, seen_interval;
    char fail_pending[REEL_INGEST_REASON_MAX];
    char last_error[REEL_INGEST_REASON_MAX];
    bool outage_open;
    char outage_reason[REEL_INGEST_REASON_MAX];
    int64_t win_start;
    uint64_t win_frames, win_bytes, prev_frames, prev_bytes;
    int64_t prev_len;
    uint64_t frames;
};

/* Fills in defaults; copies cfg (cfg->ops is copied too). Starts IDLE. */
void reel_ingest_init(struct reel_ingest_policy *p, const struct reel_ingest_cfg *cfg);

void reel_ingest_start(struct reel_ingest_policy *p);
/* Closes the connection and the run, begins "recorder stopped". Final. */
void reel_ingest_stop(struct reel_ingest_policy *p);

/* The name was resolved and the TCP connect is under way. */
void reel_ingest_resolved(struct reel_ingest_policy *p);
/* The TCP connection is up (the caller starts the RTSP client). */
void reel_ingest_connected(struct reel_ingest_policy *p);
/* The connection failed (reason is the whole line, e.g. "cannot connect to
 * h:554: Connection refused"): disconnect, close the run, outage, backoff. */
void reel_ingest_fail(struct reel_ingest_policy *p, const char *reason);
/* After each feed or tick of the RTSP client. */
void reel_ingest_rtsp(struct reel_ingest_policy *p, const struct reel_ingest_rtsp *ev);
/* An access unit. Returns 0, or a negative errno when the connection must
 * fail (deferred: call reel_ingest_settle() once the call chain returned). */
int reel_ingest_au(struct reel_ingest_policy *p, const struct reel_ingest_au *au);
/* Records a failure met inside a callback, acted on by reel_ingest_settle(). */
void reel_ingest_defer_fail(struct reel_ingest_policy *p, const char *reason);
/* Acts on a failure deferred by reel_ingest_au(). Returns true if it did. */
bool reel_ingest_settle(struct reel_ingest_policy *p);
/* A media packet arrived over UDP. */
static inline void reel_ingest_udp_packet(struct reel_ingest_policy *p, int64_t now_ns) { p->last_udp_mono = now_ns; }
/* The timer fired. Returns true when the caller must tick the RTSP client
 * (then report with reel_ingest_rtsp()). */
bool reel_ingest_timer(struct reel_ingest_policy *p);

void reel_ingest_status(struct reel_ingest_policy *p, struct reel_ingest_status *ret);
static inline enum reel_ingest_state reel_ingest_state(const struct reel_ingest_policy *p) { return p->state; }
static inline bool reel_ingest_udp(const struct reel_ingest_policy *p) { return p->udp; }
static inline const char *reel_ingest_url(const struct reel_ingest_policy *p) { return p->url; }

#endif

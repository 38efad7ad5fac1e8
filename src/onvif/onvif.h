/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ONVIF (issue 15): find cameras on the local network (WS-Discovery), read
 * a device's media profiles and their RTSP URIs (SOAP over HTTP with a
 * WS-UsernameToken digest), and take a camera's own motion events from a
 * PullPoint subscription (src/onvif/source.h).
 *
 * Library code: no logging, errors in struct reel_err, time from the
 * injectable clock. Every reply is capped (REEL_ONVIF_REPLY_MAX bytes,
 * REEL_ONVIF_DATAGRAM_MAX per datagram, REEL_ONVIF_DEVICES_MAX devices,
 * REEL_ONVIF_PROFILES_MAX profiles) and parsed by libxml2 without network
 * access, entity substitution or DTD loading (xml.c). Passwords are never
 * put in an error message.
 *
 * Files: discover.c (UDP multicast probe), wsse.c (the UsernameToken),
 * soap.c (one SOAP call over libcurl), xml.c (the replies' parsers, pure),
 * device.c (time, capabilities, profiles, stream URIs), pullpoint.c (the
 * events subscription), source.c (the motion source: a worker per camera).
 */
#ifndef REEL_ONVIF_ONVIF_H
#define REEL_ONVIF_ONVIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/log.h"

#define REEL_ONVIF_REPLY_MAX (1024 * 1024)  /* bytes of one SOAP reply */
#define REEL_ONVIF_DATAGRAM_MAX 65507       /* bytes of one ProbeMatches datagram */
#define REEL_ONVIF_DEVICES_MAX 64           /* devices one discovery keeps */
#define REEL_ONVIF_SCOPES_MAX 16            /* scopes kept per device */
#define REEL_ONVIF_PROFILES_MAX 16          /* profiles kept per device */
#define REEL_ONVIF_URL_MAX 512
#define REEL_ONVIF_USER_MAX 128
#define REEL_ONVIF_PASSWORD_MAX 128
#define REEL_ONVIF_PROFILES_DEADLINE_MS 15000  /* reel_onvif_profiles() in all */
#define REEL_ONVIF_TIMEOUT_MIN_MS 100
#define REEL_ONVIF_TIMEOUT_MAX_MS 5000

#define REEL_ONVIF_MCAST_ADDR "239.255.255.250"
#define REEL_ONVIF_MCAST_PORT 3702

struct reel_onvif_device {
    char xaddr[REEL_ONVIF_URL_MAX];   /* the first device service address, 0.0.0.0 rewritten to address */
    char address[64];                 /* the sender of the ProbeMatch */
    char name[128];                   /* onvif://www.onvif.org/name/... (percent-decoded) */
    char hardware[128];               /* onvif://www.onvif.org/hardware/... */
    char scopes[REEL_ONVIF_SCOPES_MAX][256];
    int nscopes;
};

/* Sends a Probe for dn:NetworkVideoTransmitter to the multicast group (port
 * 0 = REEL_ONVIF_MCAST_PORT, addr NULL = REEL_ONVIF_MCAST_ADDR) and collects
 * ProbeMatches for timeout_ms (clamped to the MIN..MAX above), keeping at
 * most cap devices (one per xaddr) in out[]. Replies that do not answer our
 * MessageID, or are not well-formed, are skipped. *ret_n is how many. */
int reel_onvif_discover(const struct reel_clock *clock, const char *addr, int port, int timeout_ms,
                        struct reel_onvif_device *out, size_t cap, size_t *ret_n, struct reel_err *err);

/* Credentials and limits of SOAP calls to one device. Strings borrowed. */
struct reel_onvif_auth {
    const char *user;        /* NULL or "" = no WS-Security header */
    const char *password;
    int64_t skew_ns;         /* the device's clock minus ours (reel_onvif_time) */
    int timeout_ms;          /* per call; 0 = 5000 */
    const struct reel_clock *clock;   /* NULL = system */
    /* Called from curl's progress callback: true aborts the call (-ECANCELED). */
    bool (*cancel)(void *opaque);
    void *cancel_opaque;
};

/* GetSystemDateAndTime (no credentials): *ret_skew_ns = device UTC - our wall clock. */
int reel_onvif_time(const char *xaddr, const struct reel_onvif_auth *a, int64_t *ret_skew_ns, struct reel_err *err);

/* GetCapabilities (GetServices when that fails): the media and events
 * service addresses (events "" when the device has none). */
int reel_onvif_services(const char *xaddr, const struct reel_onvif_auth *a, char media[REEL_ONVIF_URL_MAX],
                        char events[REEL_ONVIF_URL_MAX], struct reel_err *err);

struct reel_onvif_profile {
    char token[64];
    char name[64];
    char codec[16];          /* "H264", "H265", "JPEG", ... as the device says; "" unknown */
    int width, height;
    double fps;
    char uri[REEL_ONVIF_URL_MAX];  /* RTSP URI from GetStreamUri ("" if the device gave none) */
};

/* The whole path for the page: time (skew), services, GetProfiles, a
 * GetStreamUri (RTP-Unicast, RTSP) per profile, each call within
 * a->timeout_ms and all within REEL_ONVIF_PROFILES_DEADLINE_MS. *ret_n profiles in out[cap].
 * -EACCES with "not authorised" when the device refuses the credentials. */
int reel_onvif_profiles(const char *xaddr, const struct reel_onvif_auth *a, struct reel_onvif_profile *out,
                        size_t cap, size_t *ret_n, struct reel_err *err);

/* Main = the largest (width*height) profile with a URI, sub = the smallest
 * other with a different URI; -1 when none. Pure. */
void reel_onvif_suggest(const struct reel_onvif_profile *p, size_t n, int *ret_main, int *ret_sub);

/* ---- PullPoint (pullpoint.c) ---- */

struct reel_onvif_sub {
    char address[REEL_ONVIF_URL_MAX];  /* the subscription's endpoint */
    int64_t expires_mono_ns;           /* when it ends, on our monotonic clock */
};

/* One motion state change seen in a PullMessages reply. */
struct reel_onvif_motion {
    bool on;
    char topic[96];
    char source[64];     /* the VideoSource/rule token when given */
};
#define REEL_ONVIF_NOTES_MAX 64

int reel_onvif_subscribe(const char *events_xaddr, const struct reel_onvif_auth *a, int term_s,
                         struct reel_onvif_sub *ret, struct reel_err *err);
/* PullMessages with Timeout timeout_s; motion changes in order into out[cap]. */
int reel_onvif_pull(const struct reel_onvif_sub *s, const struct reel_onvif_auth *a, int timeout_s,
                    struct reel_onvif_motion *out, size_t cap, size_t *ret_n, struct reel_err *err);
int reel_onvif_renew(struct reel_onvif_sub *s, const struct reel_onvif_auth *a, int term_s, struct reel_err *err);
int reel_onvif_unsubscribe(const struct reel_onvif_sub *s, const struct reel_onvif_auth *a, struct reel_err *err);

/* ---- pure parts, for tests and fuzzing (xml.c, wsse.c) ---- */

/* The WS-Security header for user/password at wall time wall_ns with nonce. */
int reel_onvif_wsse(const char *user, const char *password, int64_t wall_ns, const uint8_t nonce[16], char *out,
                    size_t cap);
/* Base64(SHA1(nonce + created + password)) into out (29 bytes). */
void reel_onvif_digest(const uint8_t *nonce, size_t nonce_len, const char *created, const char *password,
                       char out[32]);
/* Appends the ProbeMatches of one datagram from sender (dotted address) to
 * out[*n..cap), skipping xaddrs already there; message_id: the Probe's (a
 * reply whose RelatesTo differs is ignored; NULL: any). -EBADMSG when not
 * a ProbeMatches envelope. */
int reel_onvif_parse_probe_matches(const char *xml, size_t len, const char *sender, const char *message_id,
                                   struct reel_onvif_device *out, size_t cap, size_t *n);
/* Replaces host 0.0.0.0 (or an empty host) of url with addr, in place. */
void reel_onvif_fix_xaddr(char *url, size_t cap, const char *addr);
/* The same with the host of the address we reached the device at
 * (service addresses, stream URIs and subscriptions some devices give on
 * 0.0.0.0). */
void reel_onvif_fix_host(char *url, size_t cap, const char *reached);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The device and media services (onvif.h): the clock skew, the service
 * addresses, the profiles with their RTSP URIs, and which two to suggest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onvif/parse.h"
#include "onvif/soap.h"

#define A_TDS "http://www.onvif.org/ver10/device/wsdl/"
#define A_TRT "http://www.onvif.org/ver10/media/wsdl/"

int reel_onvif_time(const char *xaddr, const struct reel_onvif_auth *a, int64_t *ret_skew_ns, struct reel_err *err)
{
    struct reel_onvif_auth anon = *a;
    anon.user = NULL;   /* GetSystemDateAndTime is answered without credentials (ONVIF Core 5.9.1) */
    char *b;
    size_t n;
    const struct reel_clock *clock = a->clock ? a->clock : reel_clock_system();
    int64_t before = reel_clock_wall(clock);
    int rc = reel_onvif_soap(xaddr, &anon, A_TDS "GetSystemDateAndTime", NULL, "<tds:GetSystemDateAndTime/>", &b, &n,
                             err);
    if (rc < 0)
        return rc;
    int64_t after = reel_clock_wall(clock), dev;
    rc = reel_onvif_parse_time(b, n, &dev, err);
    free(b);
    if (rc < 0)
        return rc;
    /* the device's second is truncated: assume its middle */
    *ret_skew_ns = dev + REEL_NS_PER_SEC / 2 - (before + (after - before) / 2);
    if (*ret_skew_ns > -REEL_NS_PER_SEC && *ret_skew_ns < REEL_NS_PER_SEC)
        *ret_skew_ns = 0;
    return 0;
}

static int services(const char *xaddr, const struct reel_onvif_auth *a, char media[REEL_ONVIF_URL_MAX],
                    char events[REEL_ONVIF_URL_MAX], struct reel_err *err);

int reel_onvif_services(const char *xaddr, const struct reel_onvif_auth *a, char media[REEL_ONVIF_URL_MAX],
                        char events[REEL_ONVIF_URL_MAX], struct reel_err *err)
{
    int rc = services(xaddr, a, media, events, err);
    if (rc == 0) {
        reel_onvif_fix_host(media, REEL_ONVIF_URL_MAX, xaddr);
        if (events[0])
            reel_onvif_fix_host(events, REEL_ONVIF_URL_MAX, xaddr);
    }
    return rc;
}

static int services(const char *xaddr, const struct reel_onvif_auth *a, char media[REEL_ONVIF_URL_MAX],
                    char events[REEL_ONVIF_URL_MAX], struct reel_err *err)
{
    char *b;
    size_t n;
    int rc = reel_onvif_soap(xaddr, a, A_TDS "GetCapabilities", NULL,
                             "<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>", &b, &n,
                             err);
    if (rc == 0) {
        rc = reel_onvif_parse_services(b, n, media, events, err);
        free(b);
    }
    if (rc == 0 || rc == -EACCES || rc == -ECANCELED || rc == -ETIMEDOUT || rc == -ECONNREFUSED)
        return rc;
    rc = reel_onvif_soap(xaddr, a, A_TDS "GetServices", NULL,
                         "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>", &b,
                         &n, err);
    if (rc < 0)
        return rc;
    rc = reel_onvif_parse_services(b, n, media, events, err);
    free(b);
    return rc;
}

/* The time left before deadline as au's timeout (at most a's): -ETIMEDOUT when none. */
static int budget(struct reel_onvif_auth *au, const struct reel_onvif_auth *a, const struct reel_clock *clock,
                  int64_t deadline, struct reel_err *err)
{
    int64_t left_ms = (deadline - reel_clock_mono(clock)) / 1000000;
    int per = a->timeout_ms > 0 ? a->timeout_ms : 5000;
    if (left_ms < 50)
        return reel_err_set(err, ETIMEDOUT, "the device did not answer everything within %d ms",
                            REEL_ONVIF_PROFILES_DEADLINE_MS);
    au->timeout_ms = left_ms < per ? (int)left_ms : per;
    return 0;
}

int reel_onvif_profiles(const char *xaddr, const struct reel_onvif_auth *a, struct reel_onvif_profile *out,
                        size_t cap, size_t *ret_n, struct reel_err *err)
{
    struct reel_onvif_auth au = *a;
    const struct reel_clock *clock = a->clock ? a->clock : reel_clock_system();
    int64_t deadline = reel_clock_mono(clock) + REEL_ONVIF_PROFILES_DEADLINE_MS * INT64_C(1000000);
    int rc = reel_onvif_time(xaddr, a, &au.skew_ns, err);
    if (rc < 0)
        au.skew_ns = a->skew_ns;   /* some devices want credentials even for the time: go on without */
    if (rc == -ECANCELED || rc == -ECONNREFUSED)
        return rc;
    char media[REEL_ONVIF_URL_MAX], events[REEL_ONVIF_URL_MAX];
    if ((rc = budget(&au, a, clock, deadline, err)) < 0)
        return rc;
    rc = reel_onvif_services(xaddr, &au, media, events, err);
    if (rc < 0)
        return rc;
    char *b;
    size_t n;
    if ((rc = budget(&au, a, clock, deadline, err)) < 0)
        return rc;
    rc = reel_onvif_soap(media, &au, A_TRT "GetProfiles", NULL, "<trt:GetProfiles/>", &b, &n, err);
    if (rc < 0)
        return rc;
    size_t np = 0;
    rc = reel_onvif_parse_profiles(b, n, out, cap, &np, err);
    free(b);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < np; i++) {
        char tok[sizeof(out[i].token) * 6], body[1024];
        if (!reel_onvif_xml_escape(out[i].token, tok, sizeof(tok)))
            continue;
        snprintf(body, sizeof(body),
                 "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>"
                 "RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>%s</trt:ProfileToken>"
                 "</trt:GetStreamUri>", tok);
        if ((rc = budget(&au, a, clock, deadline, err)) < 0)
            return rc;
        rc = reel_onvif_soap(media, &au, A_TRT "GetStreamUri", NULL, body, &b, &n, err);
        if (rc == 0) {
            rc = reel_onvif_parse_stream_uri(b, n, out[i].uri, err);
            free(b);
            if (rc == 0)
                reel_onvif_fix_host(out[i].uri, sizeof(out[i].uri), xaddr);
        }
        if (rc == -EACCES || rc == -ECANCELED || rc == -ETIMEDOUT)
            return rc;
        if (rc < 0 || (strncmp(out[i].uri, "rtsp://", 7) != 0 && strncmp(out[i].uri, "rtsps://", 8) != 0))
            out[i].uri[0] = '\0';   /* a profile without a usable URI stays listed, without one */
    }
    *ret_n = np;
    return 0;
}

void reel_onvif_suggest(const struct reel_onvif_profile *p, size_t n, int *ret_main, int *ret_sub)
{
    int m = -1, s = -1;
    for (size_t i = 0; i < n; i++)
        if (p[i].uri[0] && (m < 0 || (int64_t)p[i].width * p[i].height > (int64_t)p[m].width * p[m].height))
            m = (int)i;
    for (size_t i = 0; m >= 0 && i < n; i++)
        if ((int)i != m && p[i].uri[0] && strcmp(p[i].uri, p[m].uri) != 0 && p[i].width > 0 && p[i].height > 0 &&
            (int64_t)p[i].width * p[i].height < (int64_t)p[m].width * p[m].height &&
            (s < 0 || (int64_t)p[i].width * p[i].height < (int64_t)p[s].width * p[s].height))
            s = (int)i;
    *ret_main = m;
    *ret_sub = s;
}

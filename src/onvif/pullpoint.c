/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The events service's PullPoint (ONVIF Core 9.1, WS-BaseNotification):
 * CreatePullPointSubscription, PullMessages, Renew, Unsubscribe. The
 * subscription's lifetime is kept on our monotonic clock from the device's
 * TerminationTime - CurrentTime (both on its clock, so skew cancels out).
 * Calls to the subscription carry WS-Addressing Action and To (many devices
 * route by them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onvif/parse.h"
#include "onvif/soap.h"

#define A_TEV "http://www.onvif.org/ver10/events/wsdl/"

static const struct reel_clock *clock_of(const struct reel_onvif_auth *a)
{
    return a->clock ? a->clock : reel_clock_system();
}

int reel_onvif_subscribe(const char *events_xaddr, const struct reel_onvif_auth *a, int term_s,
                         struct reel_onvif_sub *ret, struct reel_err *err)
{
    char body[256];
    snprintf(body, sizeof(body),
             "<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT%dS</tev:InitialTerminationTime>"
             "</tev:CreatePullPointSubscription>", term_s);
    char *b;
    size_t n;
    int64_t t0 = reel_clock_mono(clock_of(a));
    int rc = reel_onvif_soap(events_xaddr, a, A_TEV "EventPortType/CreatePullPointSubscriptionRequest",
                             events_xaddr, body, &b, &n, err);
    if (rc < 0)
        return rc;
    int64_t term;
    struct reel_onvif_sub s;
    rc = reel_onvif_parse_subscription(b, n, s.address, &term, err);
    free(b);
    if (rc < 0)
        return rc;
    reel_onvif_fix_host(s.address, sizeof(s.address), events_xaddr);
    if (strncmp(s.address, "http://", 7) != 0 && strncmp(s.address, "https://", 8) != 0)
        return reel_err_set(err, EBADMSG, "subscription address is not http(s)");
    s.expires_mono_ns = t0 + term;
    *ret = s;
    return 0;
}

int reel_onvif_pull(const struct reel_onvif_sub *s, const struct reel_onvif_auth *a, int timeout_s,
                    struct reel_onvif_motion *out, size_t cap, size_t *ret_n, struct reel_err *err)
{
    char body[256];
    snprintf(body, sizeof(body),
             "<tev:PullMessages><tev:Timeout>PT%dS</tev:Timeout><tev:MessageLimit>%d</tev:MessageLimit>"
             "</tev:PullMessages>", timeout_s, REEL_ONVIF_NOTES_MAX);
    struct reel_onvif_auth au = *a;
    /* the device may hold the call for timeout_s: allow that and the usual margin */
    au.timeout_ms = timeout_s * 1000 + (a->timeout_ms > 0 ? a->timeout_ms : 5000);
    char *b;
    size_t n;
    int rc = reel_onvif_soap(s->address, &au, A_TEV "PullPointSubscription/PullMessagesRequest", s->address, body,
                             &b, &n, err);
    if (rc < 0)
        return rc;
    rc = reel_onvif_parse_pull(b, n, out, cap, ret_n, err);
    free(b);
    return rc;
}

int reel_onvif_renew(struct reel_onvif_sub *s, const struct reel_onvif_auth *a, int term_s, struct reel_err *err)
{
    char body[256];
    snprintf(body, sizeof(body), "<wsnt:Renew><wsnt:TerminationTime>PT%dS</wsnt:TerminationTime></wsnt:Renew>",
             term_s);
    char *b;
    size_t n;
    int64_t t0 = reel_clock_mono(clock_of(a));
    int rc = reel_onvif_soap(s->address, a, "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest",
                             s->address, body, &b, &n, err);
    if (rc < 0)
        return rc;
    int64_t term;
    rc = reel_onvif_parse_subscription(b, n, NULL, &term, err);
    free(b);
    if (rc < 0)
        return rc;
    s->expires_mono_ns = t0 + term;
    return 0;
}

int reel_onvif_unsubscribe(const struct reel_onvif_sub *s, const struct reel_onvif_auth *a, struct reel_err *err)
{
    char *b;
    size_t n;
    int rc = reel_onvif_soap(s->address, a,
                             "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest", s->address,
                             "<wsnt:Unsubscribe/>", &b, &n, err);
    if (rc < 0)
        return rc;
    rc = reel_onvif_parse_fault(b, n, err);
    free(b);
    return rc;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One SOAP 1.2 call over HTTP(S) with libcurl (internal to src/onvif): the
 * envelope (WS-Addressing Action and To when asked, the UsernameToken when
 * a->user is set, with the time corrected by a->skew_ns), no redirects,
 * http and https only, a->timeout_ms for the whole call, the reply capped
 * at REEL_ONVIF_REPLY_MAX bytes. HTTP Digest is answered when the device
 * asks for it (some want both). *ret_body (the caller's, free()) is the
 * reply for 2xx and for a 4xx/5xx that carries a SOAP body (a fault: the
 * parsers turn it into an error); other statuses are errors here.
 */
#ifndef REEL_ONVIF_SOAP_H
#define REEL_ONVIF_SOAP_H

#include "onvif/onvif.h"

/* body: the Body's inner XML (namespaces: s, tds, trt, tt, tev, wsnt, wsa
 * are declared on the envelope). wsa_to: NULL = no addressing headers. */
int reel_onvif_soap(const char *url, const struct reel_onvif_auth *a, const char *action, const char *wsa_to,
                    const char *body, char **ret_body, size_t *ret_len, struct reel_err *err);

/* XML-escapes s (& < > " ') into out; false when it does not fit. */
bool reel_onvif_xml_escape(const char *s, char *out, size_t cap);

#endif

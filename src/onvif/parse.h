/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The parsers of ONVIF replies (xml.c), internal to src/onvif and its unit
 * tests. Each takes one reply body (buf, len: at most REEL_ONVIF_REPLY_MAX)
 * and fills caller-owned structs; none keeps a pointer into buf. Elements
 * are matched by local name (vendors use every namespace prefix there is).
 * A SOAP Fault gives -EACCES for NotAuthorized / FailedAuthentication and
 * -EPROTO otherwise, with the fault's reason in err. A document with a DTD
 * is refused (-EBADMSG): libxml2 reads with XML_PARSE_NONET and without
 * XML_PARSE_NOENT or XML_PARSE_DTDLOAD, so no entity is ever expanded.
 */
#ifndef REEL_ONVIF_PARSE_H
#define REEL_ONVIF_PARSE_H

#include "onvif/onvif.h"

/* A fault, if the reply is one: 0 when not, else the negative errno above. */
int reel_onvif_parse_fault(const char *buf, size_t len, struct reel_err *err);
/* GetSystemDateAndTimeResponse: UTCDateTime -> ns since the epoch. */
int reel_onvif_parse_time(const char *buf, size_t len, int64_t *ret_ns, struct reel_err *err);
/* GetCapabilitiesResponse or GetServicesResponse: the media and events XAddr ("" when absent). */
int reel_onvif_parse_services(const char *buf, size_t len, char media[REEL_ONVIF_URL_MAX],
                              char events[REEL_ONVIF_URL_MAX], struct reel_err *err);
/* GetProfilesResponse: up to cap profiles (uri left ""). */
int reel_onvif_parse_profiles(const char *buf, size_t len, struct reel_onvif_profile *out, size_t cap,
                              size_t *ret_n, struct reel_err *err);
/* GetStreamUriResponse: MediaUri/Uri. */
int reel_onvif_parse_stream_uri(const char *buf, size_t len, char uri[REEL_ONVIF_URL_MAX], struct reel_err *err);
/* CreatePullPointSubscriptionResponse or RenewResponse: the address (Create
 * only; NULL to skip) and TerminationTime - CurrentTime in ns (60 s when
 * either is missing). */
int reel_onvif_parse_subscription(const char *buf, size_t len, char address[REEL_ONVIF_URL_MAX],
                                  int64_t *ret_term_ns, struct reel_err *err);
/* PullMessagesResponse: the motion notes (topics ending in
 * VideoSource/MotionAlarm with item State, RuleEngine/CellMotionDetector/Motion
 * with IsMotion), in order, at most cap. */
int reel_onvif_parse_pull(const char *buf, size_t len, struct reel_onvif_motion *out, size_t cap, size_t *ret_n,
                          struct reel_err *err);
/* An xs:dateTime ("2026-12-06T20:34:00Z", fraction and offset allowed) -> ns. */
int reel_onvif_parse_datetime(const char *s, int64_t *ret_ns);

#endif

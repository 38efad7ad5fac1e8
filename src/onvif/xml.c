/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The parsers of ONVIF replies (parse.h): libxml2 trees walked by local
 * name. Hardening: XML_PARSE_NONET (no network fetch), no XML_PARSE_NOENT
 * (entities are never substituted), no XML_PARSE_DTDLOAD, and a document
 * that carries a DTD at all is refused; errors are not printed
 * (XML_PARSE_NOERROR/NOWARNING); libxml2's own depth and size limits stay
 * on (no XML_PARSE_HUGE). Callers cap the bytes before they get here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "onvif/parse.h"

#define XML_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

static xmlDocPtr doc_read(const char *buf, size_t len, struct reel_err *err)
{
    if (!buf || len == 0 || len > REEL_ONVIF_REPLY_MAX) {
        reel_err_set(err, EBADMSG, "empty or over-long reply");
        return NULL;
    }
    xmlDocPtr d = xmlReadMemory(buf, (int)len, "reply.xml", NULL, XML_OPTS);
    if (!d) {
        reel_err_set(err, EBADMSG, "reply is not well-formed XML");
        return NULL;
    }
    if (d->intSubset || d->extSubset || !xmlDocGetRootElement(d)) {
        xmlFreeDoc(d);
        reel_err_set(err, EBADMSG, "reply carries a DTD (refused)");
        return NULL;
    }
    return d;
}

static bool is(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0;
}

/* The first element named local below n (depth first), or NULL. */
static xmlNode *find(xmlNode *n, const char *local)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is(c, local))
            return c;
        xmlNode *f = find(c, local);
        if (f)
            return f;
    }
    return NULL;
}

/* A direct child element named local. */
static xmlNode *child(xmlNode *n, const char *local)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is(c, local))
            return c;
    return NULL;
}

/* n's text, trimmed, into out (cut at cap). "" when n is NULL. */
static void text(xmlNode *n, char *out, size_t cap)
{
    out[0] = '\0';
    if (!n)
        return;
    xmlChar *t = xmlNodeGetContent(n);
    if (!t)
        return;
    const char *s = (const char *)t;
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t l = strlen(s);
    while (l > 0 && isspace((unsigned char)s[l - 1]))
        l--;
    if (l >= cap)
        l = cap - 1;
    memcpy(out, s, l);
    out[l] = '\0';
    xmlFree(t);
}

static void attr(xmlNode *n, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
    if (v) {
        snprintf(out, cap, "%s", (const char *)v);
        xmlFree(v);
    }
}

static xmlNode *body_of(xmlDocPtr d)
{
    xmlNode *root = xmlDocGetRootElement(d);
    return is(root, "Envelope") ? child(root, "Body") : NULL;
}

static int fault_of(xmlDocPtr d, struct reel_err *err)
{
    xmlNode *f = child(body_of(d), "Fault");
    if (!f)
        return 0;
    char code[128], reason[160];
    /* SOAP 1.2: Code/Subcode/Value, Reason/Text; SOAP 1.1: faultcode, faultstring */
    xmlNode *sub = find(f, "Subcode");
    xmlNode *v = sub ? find(sub, "Value") : NULL;
    text(v ? v : find(f, "Value"), code, sizeof(code));
    if (!code[0])
        text(find(f, "faultcode"), code, sizeof(code));
    text(find(f, "Text"), reason, sizeof(reason));
    if (!reason[0])
        text(find(f, "faultstring"), reason, sizeof(reason));
    /* a nested Subcode (ter:NotAuthorized under ter:InvalidArgVal...) */
    for (xmlNode *s = sub; s; s = find(s, "Subcode")) {
        char c[128];
        text(child(s, "Value"), c, sizeof(c));
        if (strstr(c, "NotAuthorized") || strstr(c, "FailedAuthentication"))
            snprintf(code, sizeof(code), "%s", c);
    }
    for (char *p = reason; *p; p++)
        if (!isprint((unsigned char)*p))
            *p = ' ';
    if (strstr(code, "NotAuthorized") || strstr(code, "FailedAuthentication") || strstr(reason, "ot authorized"))
        return reel_err_set(err, EACCES, "not authorised: the device refused the user name or password");
    return reel_err_set(err, EPROTO, "device answered a fault: %s%s%s", code[0] ? code : "?", reason[0] ? ": " : "",
                        reason);
}

int reel_onvif_parse_fault(const char *buf, size_t len, struct reel_err *err)
{
    xmlDocPtr d = doc_read(buf, len, err);
    if (!d)
        return -EBADMSG;
    int rc = fault_of(d, err);
    xmlFreeDoc(d);
    return rc;
}

/* Reads a reply whose Body must hold element want: 0 and *ret_doc, *ret_el. */
static int reply(const char *buf, size_t len, const char *want, xmlDocPtr *ret_doc, xmlNode **ret_el,
                 struct reel_err *err)
{
    xmlDocPtr d = doc_read(buf, len, err);
    if (!d)
        return -EBADMSG;
    int rc = fault_of(d, err);
    if (rc < 0) {
        xmlFreeDoc(d);
        return rc;
    }
    xmlNode *el = child(body_of(d), want);
    if (!el) {
        xmlFreeDoc(d);
        return reel_err_set(err, EBADMSG, "reply has no %s", want);
    }
    *ret_doc = d;
    *ret_el = el;
    return 0;
}

static int to_int(xmlNode *n)
{
    char t[32];
    text(n, t, sizeof(t));
    return atoi(t);
}

int reel_onvif_parse_datetime(const char *s, int64_t *ret_ns)
{
    int y, mo, d, h, mi;
    double sec;
    int used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
        return -EINVAL;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
        return -EINVAL;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };
    int64_t t = (int64_t)timegm(&tm);
    const char *z = s + used;
    if (*z == '+' || *z == '-') {
        int oh = 0, om = 0;
        if (sscanf(z + 1, "%2d:%2d", &oh, &om) != 2)
            return -EINVAL;
        int64_t off = (int64_t)oh * 3600 + om * 60;
        t -= *z == '+' ? off : -off;
    }
    *ret_ns = t * REEL_NS_PER_SEC + (int64_t)(sec * 1e9);
    return 0;
}

int reel_onvif_parse_time(const char *buf, size_t len, int64_t *ret_ns, struct reel_err *err)
{
    xmlDocPtr d;
    xmlNode *el;
    int rc = reply(buf, len, "GetSystemDateAndTimeResponse", &d, &el, err);
    if (rc < 0)
        return rc;
    xmlNode *utc = find(el, "UTCDateTime");
    xmlNode *date = utc ? child(utc, "Date") : NULL, *tim = utc ? child(utc, "Time") : NULL;
    if (!date || !tim) {
        xmlFreeDoc(d);
        return reel_err_set(err, EBADMSG, "GetSystemDateAndTime: no UTCDateTime");
    }
    struct tm tm = { .tm_year = to_int(child(date, "Year")) - 1900, .tm_mon = to_int(child(date, "Month")) - 1,
                     .tm_mday = to_int(child(date, "Day")), .tm_hour = to_int(child(tim, "Hour")),
                     .tm_min = to_int(child(tim, "Minute")), .tm_sec = to_int(child(tim, "Second")) };
    xmlFreeDoc(d);
    if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return reel_err_set(err, EBADMSG, "GetSystemDateAndTime: bad date");
    *ret_ns = (int64_t)timegm(&tm) * REEL_NS_PER_SEC;
    return 0;
}

int reel_onvif_parse_services(const char *buf, size_t len, char media[REEL_ONVIF_URL_MAX],
                              char events[REEL_ONVIF_URL_MAX], struct reel_err *err)
{
    media[0] = events[0] = '\0';
    xmlDocPtr d = doc_read(buf, len, err);
    if (!d)
        return -EBADMSG;
    int rc = fault_of(d, err);
    if (rc < 0) {
        xmlFreeDoc(d);
        return rc;
    }
    xmlNode *b = body_of(d);
    xmlNode *caps = child(b, "GetCapabilitiesResponse");
    xmlNode *svcs = child(b, "GetServicesResponse");
    if (caps) {
        xmlNode *c = find(caps, "Capabilities");
        text(find(child(c, "Media"), "XAddr"), media, REEL_ONVIF_URL_MAX);
        text(find(child(c, "Events"), "XAddr"), events, REEL_ONVIF_URL_MAX);
    } else if (svcs) {
        for (xmlNode *s = svcs->children; s; s = s->next) {
            if (!is(s, "Service"))
                continue;
            char ns[128];
            text(child(s, "Namespace"), ns, sizeof(ns));
            if (strcmp(ns, "http://www.onvif.org/ver10/media/wsdl") == 0)
                text(child(s, "XAddr"), media, REEL_ONVIF_URL_MAX);
            else if (strcmp(ns, "http://www.onvif.org/ver10/events/wsdl") == 0)
                text(child(s, "XAddr"), events, REEL_ONVIF_URL_MAX);
        }
    } else {
        xmlFreeDoc(d);
        return reel_err_set(err, EBADMSG, "reply has neither GetCapabilitiesResponse nor GetServicesResponse");
    }
    xmlFreeDoc(d);
    if (!media[0])
        return reel_err_set(err, ENOENT, "the device names no media service");
    return 0;
}

int reel_onvif_parse_profiles(const char *buf, size_t len, struct reel_onvif_profile *out, size_t cap,
                              size_t *ret_n, struct reel_err *err)
{
    xmlDocPtr d;
    xmlNode *el;
    int rc = reply(buf, len, "GetProfilesResponse", &d, &el, err);
    if (rc < 0)
        return rc;
    size_t n = 0;
    for (xmlNode *p = el->children; p && n < cap; p = p->next) {
        if (!is(p, "Profiles"))
            continue;
        struct reel_onvif_profile *o = &out[n];
        memset(o, 0, sizeof(*o));
        attr(p, "token", o->token, sizeof(o->token));
        if (!o->token[0])
            continue;
        text(child(p, "Name"), o->name, sizeof(o->name));
        xmlNode *vec = child(p, "VideoEncoderConfiguration");
        if (vec) {
            text(child(vec, "Encoding"), o->codec, sizeof(o->codec));
            xmlNode *res = child(vec, "Resolution");
            o->width = to_int(child(res, "Width"));
            o->height = to_int(child(res, "Height"));
            char f[32];
            text(find(vec, "FrameRateLimit"), f, sizeof(f));
            o->fps = atof(f);
            if (o->width < 0 || o->width > 16384 || o->height < 0 || o->height > 16384)
                o->width = o->height = 0;
            if (!(o->fps >= 0 && o->fps <= 1000))
                o->fps = 0;
        }
        n++;
    }
    xmlFreeDoc(d);
    *ret_n = n;
    return 0;
}

int reel_onvif_parse_stream_uri(const char *buf, size_t len, char uri[REEL_ONVIF_URL_MAX], struct reel_err *err)
{
    xmlDocPtr d;
    xmlNode *el;
    int rc = reply(buf, len, "GetStreamUriResponse", &d, &el, err);
    if (rc < 0)
        return rc;
    text(find(find(el, "MediaUri"), "Uri"), uri, REEL_ONVIF_URL_MAX);
    xmlFreeDoc(d);
    if (!uri[0])
        return reel_err_set(err, EBADMSG, "GetStreamUri: no Uri");
    return 0;
}

int reel_onvif_parse_subscription(const char *buf, size_t len, char address[REEL_ONVIF_URL_MAX],
                                  int64_t *ret_term_ns, struct reel_err *err)
{
    xmlDocPtr d = doc_read(buf, len, err);
    if (!d)
        return -EBADMSG;
    int rc = fault_of(d, err);
    if (rc < 0) {
        xmlFreeDoc(d);
        return rc;
    }
    xmlNode *b = body_of(d);
    xmlNode *el = child(b, "CreatePullPointSubscriptionResponse");
    if (!el)
        el = child(b, "RenewResponse");
    if (!el) {
        xmlFreeDoc(d);
        return reel_err_set(err, EBADMSG, "reply is neither CreatePullPointSubscriptionResponse nor RenewResponse");
    }
    if (address) {
        text(find(find(el, "SubscriptionReference"), "Address"), address, REEL_ONVIF_URL_MAX);
        if (!address[0]) {
            xmlFreeDoc(d);
            return reel_err_set(err, EBADMSG, "subscription without an address");
        }
    }
    char cur[64], term[64];
    text(find(el, "CurrentTime"), cur, sizeof(cur));
    text(find(el, "TerminationTime"), term, sizeof(term));
    xmlFreeDoc(d);
    int64_t c, t;
    *ret_term_ns = 60 * REEL_NS_PER_SEC;
    if (reel_onvif_parse_datetime(cur, &c) == 0 && reel_onvif_parse_datetime(term, &t) == 0 && t > c)
        *ret_term_ns = t - c;
    return 0;
}

/* True when the topic's text ends with suffix (any namespace prefix). */
static bool topic_is(const char *topic, const char *suffix)
{
    size_t a = strlen(topic), b = strlen(suffix);
    return a >= b && strcmp(topic + a - b, suffix) == 0 && (a == b || topic[a - b - 1] == ':' || topic[a - b - 1] == '/');
}

int reel_onvif_parse_pull(const char *buf, size_t len, struct reel_onvif_motion *out, size_t cap, size_t *ret_n,
                          struct reel_err *err)
{
    xmlDocPtr d;
    xmlNode *el;
    int rc = reply(buf, len, "PullMessagesResponse", &d, &el, err);
    if (rc < 0)
        return rc;
    size_t n = 0;
    for (xmlNode *m = el->children; m && n < cap; m = m->next) {
        if (!is(m, "NotificationMessage"))
            continue;
        char topic[96];
        text(child(m, "Topic"), topic, sizeof(topic));
        const char *item = NULL;
        if (topic_is(topic, "VideoSource/MotionAlarm"))
            item = "State";
        else if (topic_is(topic, "RuleEngine/CellMotionDetector/Motion"))
            item = "IsMotion";
        if (!item)
            continue;
        xmlNode *msg = find(child(m, "Message"), "Message");
        if (!msg)
            msg = child(m, "Message");
        xmlNode *data = find(msg, "Data");
        xmlNode *src = find(msg, "Source");
        char value[16] = "";
        for (xmlNode *s = data ? data->children : NULL; s; s = s->next) {
            char nm[32];
            attr(s, "Name", nm, sizeof(nm));
            if (is(s, "SimpleItem") && strcmp(nm, item) == 0)
                attr(s, "Value", value, sizeof(value));
        }
        if (!value[0])
            continue;
        struct reel_onvif_motion *o = &out[n++];
        memset(o, 0, sizeof(*o));
        o->on = strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
        snprintf(o->topic, sizeof(o->topic), "%s", topic);
        for (xmlNode *s = src ? src->children : NULL; s; s = s->next)
            if (is(s, "SimpleItem")) {
                attr(s, "Value", o->source, sizeof(o->source));
                break;
            }
    }
    xmlFreeDoc(d);
    *ret_n = n;
    return 0;
}

static void pct_decode(const char *s, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; s[i] && j + 1 < cap; i++) {
        unsigned v;
        if (s[i] == '%' && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2]) &&
            sscanf(s + i + 1, "%2x", &v) == 1) {
            out[j++] = isprint((int)v) ? (char)v : '?';
            i += 2;
        } else {
            out[j++] = isprint((unsigned char)s[i]) ? s[i] : '?';
        }
    }
    out[j] = '\0';
}

void reel_onvif_fix_xaddr(char *url, size_t cap, const char *addr)
{
    const char *p = strstr(url, "://");
    if (!p)
        return;
    p += 3;
    size_t hl = strcspn(p, ":/");
    bool zero = (hl == 7 && strncmp(p, "0.0.0.0", 7) == 0) || hl == 0;
    if (!zero)
        return;
    char tmp[REEL_ONVIF_URL_MAX];
    int w = snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)(p - url), url, addr, p + hl);
    if (w > 0 && (size_t)w < cap && (size_t)w < sizeof(tmp))
        memcpy(url, tmp, (size_t)w + 1);
}

/* The host of url (without brackets or port) into out; "" when none. */
static void host_of(const char *url, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = strstr(url, "://");
    if (!p)
        return;
    p += 3;
    size_t n = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":/?#");
    if (n < cap) {
        memcpy(out, p, n);
        out[n] = '\0';
    }
}

void reel_onvif_fix_host(char *url, size_t cap, const char *xaddr)
{
    char host[256];
    host_of(xaddr, host, sizeof(host));
    if (host[0])
        reel_onvif_fix_xaddr(url, cap, host);
}

int reel_onvif_parse_probe_matches(const char *xml, size_t len, const char *sender, const char *message_id,
                                   struct reel_onvif_device *out, size_t cap, size_t *n)
{
    struct reel_err err;
    xmlDocPtr d = doc_read(xml, len, &err);
    if (!d)
        return -EBADMSG;
    xmlNode *root = xmlDocGetRootElement(d);
    xmlNode *pm = child(body_of(d), "ProbeMatches");
    if (!pm) {
        xmlFreeDoc(d);
        return -EBADMSG;
    }
    if (message_id) {
        char rel[128];
        text(find(child(root, "Header"), "RelatesTo"), rel, sizeof(rel));
        if (strcmp(rel, message_id) != 0) {
            xmlFreeDoc(d);
            return -EBADMSG;
        }
    }
    for (xmlNode *m = pm->children; m && *n < cap; m = m->next) {
        if (!is(m, "ProbeMatch"))
            continue;
        struct reel_onvif_device dev;
        memset(&dev, 0, sizeof(dev));
        snprintf(dev.address, sizeof(dev.address), "%s", sender);
        char xaddrs[1024];
        text(child(m, "XAddrs"), xaddrs, sizeof(xaddrs));
        /* the first http(s) address */
        for (char *save = NULL, *t = strtok_r(xaddrs, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
            if ((strncmp(t, "http://", 7) == 0 || strncmp(t, "https://", 8) == 0) && strlen(t) < sizeof(dev.xaddr)) {
                snprintf(dev.xaddr, sizeof(dev.xaddr), "%s", t);
                break;
            }
        }
        if (!dev.xaddr[0])
            continue;
        for (char *c = dev.xaddr; *c; c++)
            if (!isprint((unsigned char)*c))
                *c = '?';
        reel_onvif_fix_xaddr(dev.xaddr, sizeof(dev.xaddr), sender);
        char scopes[4096];
        text(child(m, "Scopes"), scopes, sizeof(scopes));
        for (char *save = NULL, *t = strtok_r(scopes, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
            if (dev.nscopes < REEL_ONVIF_SCOPES_MAX && strlen(t) < sizeof(dev.scopes[0]))
                pct_decode(t, dev.scopes[dev.nscopes++], sizeof(dev.scopes[0]));
            static const char nm[] = "onvif://www.onvif.org/name/", hw[] = "onvif://www.onvif.org/hardware/";
            if (strncmp(t, nm, sizeof(nm) - 1) == 0)
                pct_decode(t + sizeof(nm) - 1, dev.name, sizeof(dev.name));
            else if (strncmp(t, hw, sizeof(hw) - 1) == 0)
                pct_decode(t + sizeof(hw) - 1, dev.hardware, sizeof(dev.hardware));
        }
        bool dup = false;
        for (size_t i = 0; i < *n; i++)
            dup |= strcmp(out[i].xaddr, dev.xaddr) == 0;
        if (!dup)
            out[(*n)++] = dev;
    }
    xmlFreeDoc(d);
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/onvif: the UsernameToken digest, the reply parsers
 * (ProbeMatches, profiles, stream URIs, subscriptions, notifications,
 * faults), XML hardening (DTDs and entities refused) and the SOAP client's
 * caps against a hostile local HTTP server (over-long and silent replies). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "onvif/onvif.h"
#include "onvif/parse.h"

#define ENV_OPEN "<?xml version=\"1.0\"?>" ENV_OPEN_NODECL
#define ENV_OPEN_NODECL "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" " \
                 "xmlns:tt=\"http://www.onvif.org/ver10/schema\" xmlns:x=\"urn:x\"><s:Body>"
#define ENV_CLOSE "</s:Body></s:Envelope>"

static void test_digest_vector(void **state)
{
    (void)state;
    uint8_t nonce[16];
    for (int i = 0; i < 16; i++)
        nonce[i] = (uint8_t)i;
    char d[32];
    /* python3: base64(sha1(bytes(range(16)) + created + "secret")) */
    reel_onvif_digest(nonce, 16, "2026-12-06T20:00:00.000Z", "secret", d);
    assert_string_equal(d, "iLdcVopnWL2AHVfCs9H/EId2rOc=");
    char hdr[2048];
    int64_t t = (int64_t)1796587200 * REEL_NS_PER_SEC;   /* 2026-12-06T20:00:00Z */
    assert_int_equal(reel_onvif_wsse("ad<min", "secret", t, nonce, hdr, sizeof(hdr)), 0);
    assert_non_null(strstr(hdr, "iLdcVopnWL2AHVfCs9H/EId2rOc="));
    assert_non_null(strstr(hdr, "<wsse:Username>ad&lt;min</wsse:Username>"));
    assert_non_null(strstr(hdr, "<wsu:Created>2026-12-06T20:00:00.000Z</wsu:Created>"));
    assert_null(strstr(hdr, "secret<"));
    assert_int_equal(reel_onvif_wsse("u", "secret", t, nonce, hdr, 100), -ENOSPC);
}

static const char probe_matches[] =
    "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
    "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\">"
    "<s:Header><a:RelatesTo>uuid:1</a:RelatesTo></s:Header><s:Body><d:ProbeMatches>"
    "<d:ProbeMatch><d:XAddrs>http://0.0.0.0:8080/onvif/device_service http://[fe80::1]/x</d:XAddrs>"
    "<d:Scopes>onvif://www.onvif.org/name/Front%20Door onvif://www.onvif.org/hardware/SIM-1 "
    "onvif://www.onvif.org/type/video_encoder</d:Scopes></d:ProbeMatch>"
    "<d:ProbeMatch><d:XAddrs>http://0.0.0.0:8080/onvif/device_service</d:XAddrs></d:ProbeMatch>"
    "<d:ProbeMatch><d:XAddrs>ftp://10.0.0.9/x</d:XAddrs></d:ProbeMatch>"
    "</d:ProbeMatches></s:Body></s:Envelope>";

static void test_probe_matches(void **state)
{
    (void)state;
    struct reel_onvif_device d[4];
    size_t n = 0;
    assert_int_equal(reel_onvif_parse_probe_matches(probe_matches, strlen(probe_matches), "10.1.2.3", "uuid:1", d, 4,
                                                    &n), 0);
    assert_int_equal(n, 1);   /* the duplicate and the ftp address are left out */
    assert_string_equal(d[0].xaddr, "http://10.1.2.3:8080/onvif/device_service");
    assert_string_equal(d[0].address, "10.1.2.3");
    assert_string_equal(d[0].name, "Front Door");
    assert_string_equal(d[0].hardware, "SIM-1");
    assert_int_equal(d[0].nscopes, 3);
    /* a reply to someone else's probe is ignored */
    n = 0;
    assert_int_equal(reel_onvif_parse_probe_matches(probe_matches, strlen(probe_matches), "10.1.2.3", "uuid:2", d, 4,
                                                    &n), -EBADMSG);
    assert_int_equal(n, 0);
    /* cap */
    n = 0;
    assert_int_equal(reel_onvif_parse_probe_matches(probe_matches, strlen(probe_matches), "10.1.2.3", NULL, d, 0, &n), 0);
    assert_int_equal(n, 0);
    char u[REEL_ONVIF_URL_MAX] = "http://192.168.1.5/onvif";
    reel_onvif_fix_xaddr(u, sizeof(u), "10.0.0.1");
    assert_string_equal(u, "http://192.168.1.5/onvif");
    char v[REEL_ONVIF_URL_MAX] = "rtsp://0.0.0.0:554/main";
    reel_onvif_fix_host(v, sizeof(v), "http://[fe80::1]:8080/onvif/device_service");
    assert_string_equal(v, "rtsp://[fe80::1]:554/main");
    snprintf(v, sizeof(v), "http://0.0.0.0/sub/1");
    reel_onvif_fix_host(v, sizeof(v), "http://cam.local:80/x");
    assert_string_equal(v, "http://cam.local/sub/1");
}

static void test_xml_hardening(void **state)
{
    (void)state;
    static const char xxe[] = "<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                              ENV_OPEN_NODECL "<x:GetStreamUriResponse><x:MediaUri><x:Uri>rtsp://a/&x;</x:Uri></x:MediaUri>"
                              "</x:GetStreamUriResponse>" ENV_CLOSE;
    char uri[REEL_ONVIF_URL_MAX];
    struct reel_err err = { "" };
    assert_int_equal(reel_onvif_parse_stream_uri(xxe, strlen(xxe), uri, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "DTD"));
    static const char lol[] = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;"
                              "&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><l>&c;</l>";
    assert_int_equal(reel_onvif_parse_fault(lol, strlen(lol), &err), -EBADMSG);
    assert_int_equal(reel_onvif_parse_fault("<a>", 3, &err), -EBADMSG);
    assert_int_equal(reel_onvif_parse_fault("", 0, &err), -EBADMSG);
    static const char ok[] = ENV_OPEN "<x:GetStreamUriResponse><x:MediaUri><x:Uri> rtsp://cam/1 </x:Uri></x:MediaUri>"
                             "</x:GetStreamUriResponse>" ENV_CLOSE;
    assert_int_equal(reel_onvif_parse_stream_uri(ok, strlen(ok), uri, &err), 0);
    assert_string_equal(uri, "rtsp://cam/1");
}

static void test_fault(void **state)
{
    (void)state;
    static const char f[] = ENV_OPEN "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized"
                            "</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en\">Sender not authorized"
                            "</s:Text></s:Reason></s:Fault>" ENV_CLOSE;
    struct reel_err err = { "" };
    assert_int_equal(reel_onvif_parse_fault(f, strlen(f), &err), -EACCES);
    assert_non_null(strstr(err.msg, "not authorised"));
    char uri[REEL_ONVIF_URL_MAX];
    assert_int_equal(reel_onvif_parse_stream_uri(f, strlen(f), uri, &err), -EACCES);
    static const char g[] = ENV_OPEN "<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text>boom"
                            "</s:Text></s:Reason></s:Fault>" ENV_CLOSE;
    assert_int_equal(reel_onvif_parse_fault(g, strlen(g), &err), -EPROTO);
    assert_non_null(strstr(err.msg, "boom"));
}

static void test_profiles_and_suggest(void **state)
{
    (void)state;
    static const char p[] = ENV_OPEN "<x:GetProfilesResponse>"
        "<x:Profiles token=\"main\"><tt:Name>Main</tt:Name><tt:VideoEncoderConfiguration token=\"v1\"><tt:Encoding>H264"
        "</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution>"
        "<tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit></tt:RateControl></tt:VideoEncoderConfiguration></x:Profiles>"
        "<x:Profiles token=\"sub\"><tt:Name>Sub</tt:Name><tt:VideoEncoderConfiguration><tt:Encoding>H264</tt:Encoding>"
        "<tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration>"
        "</x:Profiles><x:Profiles><tt:Name>no token</tt:Name></x:Profiles>"
        "<x:Profiles token=\"mid\"><tt:VideoEncoderConfiguration><tt:Resolution><tt:Width>99999</tt:Width>"
        "<tt:Height>720</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></x:Profiles>"
        "</x:GetProfilesResponse>" ENV_CLOSE;
    struct reel_onvif_profile pr[8];
    size_t n = 0;
    struct reel_err err = { "" };
    assert_int_equal(reel_onvif_parse_profiles(p, strlen(p), pr, 8, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(pr[0].token, "main");
    assert_string_equal(pr[0].codec, "H264");
    assert_int_equal(pr[0].width, 1920);
    assert_int_equal(pr[0].height, 1080);
    assert_true(pr[0].fps > 24.9 && pr[0].fps < 25.1);
    assert_int_equal(pr[1].width, 640);
    assert_int_equal(pr[2].width, 0);   /* absurd sizes dropped */
    int m, s;
    reel_onvif_suggest(pr, n, &m, &s);
    assert_int_equal(m, -1);   /* no URIs yet */
    strcpy(pr[0].uri, "rtsp://c/main");
    strcpy(pr[1].uri, "rtsp://c/sub");
    strcpy(pr[2].uri, "rtsp://c/mid");
    reel_onvif_suggest(pr, n, &m, &s);
    assert_int_equal(m, 0);
    assert_int_equal(s, 1);
    reel_onvif_suggest(pr, 1, &m, &s);
    assert_int_equal(m, 0);
    assert_int_equal(s, -1);
    n = 0;
    assert_int_equal(reel_onvif_parse_profiles(p, strlen(p), pr, 1, &n, &err), 0);
    assert_int_equal(n, 1);
}

static void test_services_and_time(void **state)
{
    (void)state;
    static const char caps[] = ENV_OPEN "<x:GetCapabilitiesResponse><x:Capabilities><tt:Events><tt:XAddr>http://c/ev"
        "</tt:XAddr></tt:Events><tt:Media><tt:XAddr>http://c/media</tt:XAddr></tt:Media></x:Capabilities>"
        "</x:GetCapabilitiesResponse>" ENV_CLOSE;
    char media[REEL_ONVIF_URL_MAX], events[REEL_ONVIF_URL_MAX];
    struct reel_err err = { "" };
    assert_int_equal(reel_onvif_parse_services(caps, strlen(caps), media, events, &err), 0);
    assert_string_equal(media, "http://c/media");
    assert_string_equal(events, "http://c/ev");
    static const char svcs[] = ENV_OPEN "<x:GetServicesResponse><x:Service><x:Namespace>"
        "http://www.onvif.org/ver10/media/wsdl</x:Namespace><x:XAddr>http://c/m2</x:XAddr></x:Service>"
        "</x:GetServicesResponse>" ENV_CLOSE;
    assert_int_equal(reel_onvif_parse_services(svcs, strlen(svcs), media, events, &err), 0);
    assert_string_equal(media, "http://c/m2");
    assert_string_equal(events, "");
    static const char t[] = ENV_OPEN "<x:GetSystemDateAndTimeResponse><x:SystemDateAndTime><tt:UTCDateTime><tt:Time>"
        "<tt:Hour>20</tt:Hour><tt:Minute>0</tt:Minute><tt:Second>5</tt:Second></tt:Time><tt:Date><tt:Year>2026</tt:Year>"
        "<tt:Month>12</tt:Month><tt:Day>6</tt:Day></tt:Date></tt:UTCDateTime></x:SystemDateAndTime>"
        "</x:GetSystemDateAndTimeResponse>" ENV_CLOSE;
    int64_t ns;
    assert_int_equal(reel_onvif_parse_time(t, strlen(t), &ns, &err), 0);
    assert_int_equal(ns, (int64_t)1796587205 * REEL_NS_PER_SEC);
    assert_int_equal(reel_onvif_parse_datetime("2026-12-06T21:00:05+01:00", &ns), 0);
    assert_int_equal(ns, (int64_t)1796587205 * REEL_NS_PER_SEC);
    assert_int_equal(reel_onvif_parse_datetime("yesterday", &ns), -EINVAL);
}

static void test_subscription_and_pull(void **state)
{
    (void)state;
    static const char sub[] = ENV_OPEN "<x:CreatePullPointSubscriptionResponse><x:SubscriptionReference><x:Address>"
        "http://c/sub/7</x:Address></x:SubscriptionReference><x:CurrentTime>2026-12-06T20:00:00Z</x:CurrentTime>"
        "<x:TerminationTime>2026-12-06T20:01:00Z</x:TerminationTime></x:CreatePullPointSubscriptionResponse>" ENV_CLOSE;
    char addr[REEL_ONVIF_URL_MAX];
    int64_t term;
    struct reel_err err = { "" };
    assert_int_equal(reel_onvif_parse_subscription(sub, strlen(sub), addr, &term, &err), 0);
    assert_string_equal(addr, "http://c/sub/7");
    assert_int_equal(term, 60 * REEL_NS_PER_SEC);
    static const char pull[] = ENV_OPEN "<x:PullMessagesResponse><x:CurrentTime>2026-12-06T20:00:00Z</x:CurrentTime>"
        "<x:NotificationMessage><x:Topic Dialect=\"d\">tns1:VideoSource/MotionAlarm</x:Topic><x:Message><tt:Message>"
        "<tt:Source><tt:SimpleItem Name=\"Source\" Value=\"vs0\"/></tt:Source><tt:Data><tt:SimpleItem Name=\"State\" "
        "Value=\"true\"/></tt:Data></tt:Message></x:Message></x:NotificationMessage>"
        "<x:NotificationMessage><x:Topic>tns1:Device/Trigger/DigitalInput</x:Topic><x:Message><tt:Message><tt:Data>"
        "<tt:SimpleItem Name=\"LogicalState\" Value=\"true\"/></tt:Data></tt:Message></x:Message></x:NotificationMessage>"
        "<x:NotificationMessage><x:Topic>tns1:RuleEngine/CellMotionDetector/Motion</x:Topic><x:Message><tt:Message>"
        "<tt:Data><tt:SimpleItem Name=\"IsMotion\" Value=\"false\"/></tt:Data></tt:Message></x:Message>"
        "</x:NotificationMessage>"
        "<x:NotificationMessage><x:Topic>tns1:VideoSource/NotMotionAlarm</x:Topic><x:Message><tt:Message><tt:Data>"
        "<tt:SimpleItem Name=\"State\" Value=\"true\"/></tt:Data></tt:Message></x:Message></x:NotificationMessage>"
        "</x:PullMessagesResponse>" ENV_CLOSE;
    struct reel_onvif_motion m[4];
    size_t n = 0;
    assert_int_equal(reel_onvif_parse_pull(pull, strlen(pull), m, 4, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_true(m[0].on);
    assert_string_equal(m[0].source, "vs0");
    assert_false(m[1].on);
    assert_string_equal(m[1].topic, "tns1:RuleEngine/CellMotionDetector/Motion");
}

/* ---- a hostile HTTP server on 127.0.0.1 ---- */
struct hostile {
    int lfd, port;
    int mode;   /* 0: a 2 MiB body; 1: never answers (closes after 2 s) */
};

static void *hostile_run(void *arg)
{
    struct hostile *h = arg;
    int c = accept(h->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    char req[8192];
    ssize_t r = read(c, req, sizeof(req));
    (void)r;
    if (h->mode == 0) {
        const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nConnection: close\r\n\r\n";
        if (write(c, hdr, sizeof(hdr) - 1) < 0) {
            close(c);
            return NULL;
        }
        char *junk = malloc(65536);
        memset(junk, 'a', 65536);
        for (int i = 0; i < 32; i++)
            if (write(c, junk, 65536) < 0)
                break;
        free(junk);
    } else {
        sleep(2);
    }
    close(c);
    return NULL;
}

static int hostile_start(struct hostile *h, pthread_t *t)
{
    h->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof(a);
    if (bind(h->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(h->lfd, 4) < 0 ||
        getsockname(h->lfd, (struct sockaddr *)&a, &l) < 0)
        return -1;
    h->port = ntohs(a.sin_port);
    return pthread_create(t, NULL, hostile_run, h);
}

static void test_soap_caps(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        struct hostile h = { .mode = mode };
        pthread_t t;
        assert_int_equal(hostile_start(&h, &t), 0);
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/onvif/device_service", h.port);
        struct reel_onvif_auth a = { .user = "u", .password = "p", .timeout_ms = 500 };
        int64_t skew;
        struct reel_err err = { "" };
        int rc = reel_onvif_time(url, &a, &skew, &err);
        assert_int_equal(rc, mode == 0 ? -EMSGSIZE : -ETIMEDOUT);
        pthread_join(t, NULL);
        close(h.lfd);
    }
    struct reel_onvif_auth a = { .timeout_ms = 500 };
    int64_t skew;
    struct reel_err err = { "" };
    assert_int_equal(reel_onvif_time("file:///etc/passwd", &a, &skew, &err), -EINVAL);
    assert_int_equal(reel_onvif_time("gopher://127.0.0.1/", &a, &skew, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_vector),
        cmocka_unit_test(test_probe_matches),
        cmocka_unit_test(test_xml_hardening),
        cmocka_unit_test(test_fault),
        cmocka_unit_test(test_profiles_and_suggest),
        cmocka_unit_test(test_services_and_time),
        cmocka_unit_test(test_subscription_and_pull),
        cmocka_unit_test(test_soap_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * WS-Discovery (2005/04, as ONVIF Core 7.3 uses it): one Probe for
 * dn:NetworkVideoTransmitter to 239.255.255.250:3702 (sent twice, UDP may
 * drop one), then ProbeMatches collected from unicast replies until the
 * deadline. Caps: REEL_ONVIF_DATAGRAM_MAX bytes per datagram (longer ones
 * are truncated by the kernel and then fail to parse), at most
 * DATAGRAMS_MAX datagrams looked at, the caller's cap on devices.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "onvif/onvif.h"

#define DATAGRAMS_MAX 4096
#define IFACES_MAX 16   /* IPv4 interfaces the Probe is sent on */
#define RESEND_NS (300 * 1000000LL)

static const char probe_fmt[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
    "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
    "xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" "
    "xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\">"
    "<s:Header><a:Action s:mustUnderstand=\"1\">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>"
    "<a:MessageID>%s</a:MessageID>"
    "<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
    "<a:To s:mustUnderstand=\"1\">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>"
    "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>";

static int make_uuid(char out[64])
{
    uint8_t r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        return -EIO;
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    snprintf(out, 64, "uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
    return 0;
}

/* The addresses of up to IFACES_MAX IPv4 interfaces that are up and
 * multicast-capable; 0 when none (or getifaddrs fails). */
static int multicast_ifaces(struct in_addr out[IFACES_MAX])
{
    struct ifaddrs *all;
    if (getifaddrs(&all) < 0)
        return 0;
    int n = 0;
    for (struct ifaddrs *i = all; i && n < IFACES_MAX; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
            !(i->ifa_flags & IFF_MULTICAST))
            continue;
        out[n++] = ((const struct sockaddr_in *)i->ifa_addr)->sin_addr;
    }
    freeifaddrs(all);
    return n;
}

/* The Probe on each interface (or by the default route): 0 when at least
 * one send worked, else -errno of the last. */
static int send_all(int fd, const char *msg, size_t len, const struct sockaddr_in *to, const struct in_addr *ifs,
                    int nifs)
{
    int ok = 0, last = -ENETUNREACH;
    for (int k = 0; k < (nifs ? nifs : 1); k++) {
        if (nifs && setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifs[k], sizeof(ifs[k])) < 0) {
            last = -errno;
            continue;
        }
        if (sendto(fd, msg, len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
            last = -errno;
        else
            ok++;
    }
    if (!ok)
        errno = -last;
    return ok ? 0 : last;
}

int reel_onvif_discover(const struct reel_clock *clock, const char *addr, int port, int timeout_ms,
                        struct reel_onvif_device *out, size_t cap, size_t *ret_n, struct reel_err *err)
{
    if (!clock)
        clock = reel_clock_system();
    if (timeout_ms < REEL_ONVIF_TIMEOUT_MIN_MS)
        timeout_ms = REEL_ONVIF_TIMEOUT_MIN_MS;
    if (timeout_ms > REEL_ONVIF_TIMEOUT_MAX_MS)
        timeout_ms = REEL_ONVIF_TIMEOUT_MAX_MS;
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port > 0 ? port : REEL_ONVIF_MCAST_PORT)) };
    if (inet_pton(AF_INET, addr ? addr : REEL_ONVIF_MCAST_ADDR, &to.sin_addr) != 1)
        return reel_err_set(err, EINVAL, "discovery: bad address");
    char id[64], msg[2048];
    if (make_uuid(id) < 0)
        return reel_err_set(err, EIO, "discovery: no random bytes");
    int mlen = snprintf(msg, sizeof(msg), probe_fmt, id);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return reel_err_set(err, errno, "discovery: socket: %s", strerror(errno));
    unsigned char ttl = 1;   /* the local network only (WS-Discovery's multicast scope) */
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
    char *dgram = malloc(REEL_ONVIF_DATAGRAM_MAX + 1);
    if (!dgram) {
        close(fd);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    struct in_addr ifs[IFACES_MAX];
    int nifs = multicast_ifaces(ifs);
    int64_t t0 = reel_clock_mono(clock), deadline = t0 + (int64_t)timeout_ms * 1000000;
    int sent = 0;
    size_t n = 0;
    int rc = 0;
    for (int looked = 0; looked < DATAGRAMS_MAX;) {
        int64_t now = reel_clock_mono(clock);
        if (sent < 2 && now >= t0 + sent * RESEND_NS) {
            if (send_all(fd, msg, (size_t)mlen, &to, ifs, nifs) < 0 && sent == 0) {
                rc = reel_err_set(err, errno, "discovery: cannot send the probe to %s:%d: %s",
                                  addr ? addr : REEL_ONVIF_MCAST_ADDR, port > 0 ? port : REEL_ONVIF_MCAST_PORT,
                                  strerror(errno));
                break;
            }
            sent++;
        }
        if (now >= deadline)
            break;
        int64_t wait = deadline - now;
        if (sent < 2 && t0 + sent * RESEND_NS - now < wait)
            wait = t0 + sent * RESEND_NS - now;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int pr = poll(&p, 1, (int)(wait / 1000000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t got = recvfrom(fd, dgram, REEL_ONVIF_DATAGRAM_MAX, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (got <= 0)
            continue;
        looked++;
        dgram[got] = '\0';
        char sender[64];
        inet_ntop(AF_INET, &from.sin_addr, sender, sizeof(sender));
        reel_onvif_parse_probe_matches(dgram, (size_t)got, sender, id, out, cap, &n);
    }
    free(dgram);
    close(fd);
    *ret_n = n;
    return rc;
}

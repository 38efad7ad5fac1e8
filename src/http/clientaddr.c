/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The client's address behind trusted proxies, and the limiter's key; see
 * clientaddr.h.
 */
#include "http/clientaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* One address (no prefix, no port) into 16 bytes. */
static bool addr_parse(const char *s, size_t n, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memcpy(out, v4_mapped, 12);
        memcpy(out + 12, &a4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out) == 1;
}

static bool is_v4(const uint8_t a[16]) { return memcmp(a, v4_mapped, 12) == 0; }

static void mask_bits(uint8_t a[16], unsigned prefix)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = prefix >= (i + 1) * 8 ? 8 : (prefix > i * 8 ? prefix - i * 8 : 0);
        a[i] &= (uint8_t)(keep == 8 ? 0xff : (0xff00 >> keep) & 0xff);
    }
}

int reel_netmask_parse(const char *s, struct reel_netmask *ret)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    uint8_t a[16];
    if (!addr_parse(s, n, a))
        return -EINVAL;
    unsigned max = is_v4(a) ? 32 : 128, prefix = max;
    if (slash) {
        char *end;
        errno = 0;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || errno || p > max || slash[1] == '-' || slash[1] == '+')
            return -EINVAL;
        prefix = (unsigned)p;
    }
    if (is_v4(a))
        prefix += 96;
    mask_bits(a, prefix);
    memcpy(ret->addr, a, 16);
    ret->prefix = prefix;
    return 0;
}

static bool trusted_match(const uint8_t a[16], const struct reel_netmask *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t m[16];
        memcpy(m, a, 16);
        mask_bits(m, t[i].prefix);
        if (memcmp(m, t[i].addr, 16) == 0)
            return true;
    }
    return false;
}

static void format(const uint8_t a[16], char addr[REEL_CLIENT_ADDR_MAX], char key[REEL_CLIENT_ADDR_MAX])
{
    if (is_v4(a)) {
        inet_ntop(AF_INET, a + 12, addr, REEL_CLIENT_ADDR_MAX);
        snprintf(key, REEL_CLIENT_ADDR_MAX, "%s", addr);
        return;
    }
    inet_ntop(AF_INET6, a, addr, REEL_CLIENT_ADDR_MAX);
    uint8_t net[16] = { 0 };
    memcpy(net, a, 8);
    char s[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, net, s, sizeof(s));
    snprintf(key, REEL_CLIENT_ADDR_MAX, "%s/64", s);
}

void reel_client_addr(const struct sockaddr *peer, const char *xff, const struct reel_netmask *trusted,
                      size_t ntrusted, char addr[REEL_CLIENT_ADDR_MAX], char key[REEL_CLIENT_ADDR_MAX])
{
    uint8_t a[16];
    if (peer && peer->sa_family == AF_INET) {
        memcpy(a, v4_mapped, 12);
        memcpy(a + 12, &((const struct sockaddr_in *)(const void *)peer)->sin_addr, 4);
    } else if (peer && peer->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr, 16);
    } else {
        snprintf(addr, REEL_CLIENT_ADDR_MAX, "?");
        snprintf(key, REEL_CLIENT_ADDR_MAX, "?");
        return;
    }
    /* Walk X-Forwarded-For from the right while the hop we stand at is a
     * trusted proxy: what it appended is the address it saw. */
    if (xff) {
        size_t end = strlen(xff);
        while (trusted_match(a, trusted, ntrusted) && end > 0) {
            size_t start = end;
            while (start > 0 && xff[start - 1] != ',')
                start--;
            size_t s = start, e = end;
            while (s < e && (xff[s] == ' ' || xff[s] == '\t'))
                s++;
            while (e > s && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
                e--;
            uint8_t next[16];
            if (!addr_parse(xff + s, e - s, next))
                break;
            memcpy(a, next, 16);
            end = start > 0 ? start - 1 : 0;
        }
    }
    format(a, addr, key);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Who is the client: the TCP peer's address, or, when the peer is one of
 * the configured trusted reverse proxies (`reel run --trusted-proxy
 * ADDR[/PREFIX]`), the right-most address of X-Forwarded-For that is not
 * itself a trusted proxy. X-Forwarded-For from any other peer is ignored:
 * a client can write anything there. Also the key the login limiter counts
 * an address under: an IPv4 address as is, an IPv6 address by its /64 (one
 * subscriber usually holds a whole /64, so counting single IPv6 addresses
 * would give an attacker 2^64 fresh addresses). IPv4 is handled as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) throughout. Pure functions, no state.
 */
#ifndef REEL_HTTP_CLIENTADDR_H
#define REEL_HTTP_CLIENTADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define REEL_TRUSTED_PROXY_MAX 16
/* Fits "ffff:...:ffff" and the "/64" of a key. */
#define REEL_CLIENT_ADDR_MAX 64

struct reel_netmask {
    uint8_t addr[16];       /* IPv6, or IPv4-mapped; bits past prefix are zero */
    unsigned prefix;        /* 0..128 (an IPv4 /N is 96 + N) */
};

/* "ADDR" or "ADDR/PREFIX", IPv4 or IPv6. -EINVAL. */
int reel_netmask_parse(const char *s, struct reel_netmask *ret);

/* The client's printable address into addr and its limiter key into key
 * (each REEL_CLIENT_ADDR_MAX bytes). peer may be NULL (then "?"); xff is the
 * X-Forwarded-For header or NULL; trusted/ntrusted the trusted proxies.
 * Entries of X-Forwarded-For that do not parse as an address end the walk:
 * the last address passed (the proxy that saw that client) is used. */
void reel_client_addr(const struct sockaddr *peer, const char *xff, const struct reel_netmask *trusted,
                      size_t ntrusted, char addr[REEL_CLIENT_ADDR_MAX], char key[REEL_CLIENT_ADDR_MAX]);

#endif

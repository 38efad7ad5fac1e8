/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Times as people type and read them: RFC 3339 ("2026-11-26T23:00:00Z",
 * fractional seconds and +hh:mm offsets accepted; no offset means UTC),
 * "@<unix seconds>", "now", and relative offsets from now ("-5m", "-1h30m",
 * "-90s", "-2d"). All results are 90 kHz units since the Unix epoch.
 */
#ifndef REEL_BASE_TIMEFMT_H
#define REEL_BASE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* 0 or -EINVAL (unparseable) / -ERANGE (out of range). */
int reel_time_parse(const char *s, int64_t now90k, int64_t *ret90k);
/* "2026-11-26T23:00:00.123Z" into buf (>= 32 bytes). */
void reel_time_format(int64_t t90k, char *buf, size_t cap);
/* Sizes like "10G", "500M", "1T", "12345" (bytes; binary multiples). */
int reel_size_parse(const char *s, int64_t *ret);

#endif

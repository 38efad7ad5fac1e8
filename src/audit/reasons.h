/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Remembered reasons: when the site requires a reason to watch live video
 * or recordings, the first request of a viewing session carries one
 * (X-Reel-Reason header or reason= query parameter) and the following
 * requests of the same caller (user, credentials, address) and kind ("live"
 * or "playback") within REEL_AUDIT_REASON_IDLE_NS reuse it. Pure; the sink
 * locks around it. At most REEL_AUDIT_REASONS callers; the least recently
 * used is forgotten first.
 */
#ifndef REEL_AUDIT_REASONS_H
#define REEL_AUDIT_REASONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/pbmerge.h"

#define REEL_AUDIT_REASONS 1024
#define REEL_AUDIT_REASON_IDLE_NS (30LL * 60 * 1000000000)   /* 30 min */

struct reel_audit_reasons;

int reel_audit_reasons_new(struct reel_audit_reasons **ret);
void reel_audit_reasons_free(struct reel_audit_reasons *rs);
/* given non-NULL and non-empty: remembers it and copies it to out; else
 * copies the remembered one (refreshing it). False when there is none. */
bool reel_audit_reasons_take(struct reel_audit_reasons *rs, const char *kind, const char *user, const char *via,
                             const char *addr, const char *given, int64_t now_ns, char *out, size_t cap);

#endif

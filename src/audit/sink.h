/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The HTTP server's audit writer: one reel.db connection (behind a mutex)
 * that appends rows, the open playback sessions (pbmerge.h) with a thread
 * that ends idle ones once a second, the remembered reasons (reasons.h) and
 * a 2-second cache of the reason settings. Never fails a request: an audit
 * row that cannot be written is logged ("audit: ...").
 *
 * Threads: any. Ownership: reel_audit_sink_open() -> reel_audit_sink_close()
 * (ends every playback session as a row, stops the thread, closes).
 */
#ifndef REEL_AUDIT_SINK_H
#define REEL_AUDIT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/log.h"

#define REEL_AUDIT_PB_IDLE_NS (60LL * 1000000000)  /* a playback session ends after 60 s without a request */

struct reel_audit_sink;

/* clock and log (NULL ok) must outlive the sink. pb_idle_ns <= 0: the
 * default REEL_AUDIT_PB_IDLE_NS. */
int reel_audit_sink_open(struct reel_audit_sink **ret, const char *datadir, const struct reel_clock *clock,
                         const struct reel_logger *log, int64_t pb_idle_ns, struct reel_err *err);
void reel_audit_sink_close(struct reel_audit_sink *s);

/* Appends rec (ts_ns 0: now); logs a failure. NULL s: nothing. */
void reel_audit_sink_append(struct reel_audit_sink *s, const struct reel_audit_rec *rec);
/* One playback request (see pbmerge.h); reason NULL ok. */
void reel_audit_sink_playback(struct reel_audit_sink *s, const char *user, const char *via, const char *addr,
                              const char *camera, const char *reason, int64_t start90k, int64_t end90k);
/* reel_audit_reasons_take() under the sink's lock. */
bool reel_audit_sink_reason(struct reel_audit_sink *s, const char *kind, const char *user, const char *via,
                            const char *addr, const char *given, char *out, size_t cap);
/* A setting's value (table setting), or def when unset; cached 2 s. */
void reel_audit_sink_setting(struct reel_audit_sink *s, const char *key, const char *def, char *out, size_t cap);
/* Forgets the cache (after a change of settings). */
void reel_audit_sink_settings_changed(struct reel_audit_sink *s);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The signature of a webhook delivery (docs/alerts.md): HMAC-SHA256 with
 * the webhook's secret over "<unix seconds>.<body>", sent as
 * X-Reel-Signature: sha256=<64 lowercase hex digits> next to
 * X-Reel-Timestamp: <unix seconds>. A receiver recomputes it and refuses
 * an old timestamp (replay). Pure; tests/unit/test_notify.c.
 */
#ifndef REEL_NOTIFY_SIGN_H
#define REEL_NOTIFY_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define REEL_NOTIFY_SIG_MAX 72 /* "sha256=" + 64 hex + NUL */

/* out (REEL_NOTIFY_SIG_MAX bytes) gets "sha256=<hex>". 0, -ENOMEM or -EIO. */
int reel_notify_sign(const char *secret, int64_t unix_s, const char *body, size_t len, char *out);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Issue 15: the store's trouble for the event bus (cfg.on_trouble), and
 * the per-camera pacing of the "locks hold footage past its age limit"
 * check that retention makes (store_int.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "store/store_int.h"

#define LOCK_RECHECK_NS (300 * REEL_NS_PER_SEC)   /* looked, nothing held: look again after 5 min */
#define LOCK_TOLD_NS (3600 * REEL_NS_PER_SEC)     /* told: not again for an hour */

void reel__trouble(struct reel_store *s, enum reel_store_trouble_kind kind, int64_t camera_id, const char *fmt, ...)
{
    if (!s->cfg.on_trouble)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    struct reel_store_trouble t = { .kind = kind, .camera_id = camera_id, .detail = line };
    s->cfg.on_trouble(s->cfg.opaque, &t);
}

bool reel__lock_check_due(struct reel_store *s, int64_t camera_id, int64_t now_ns)
{
    if (!s->cfg.on_trouble)
        return false;
    bool due = true;
    pthread_mutex_lock(&s->trouble_mu);
    for (size_t i = 0; i < sizeof(s->lock_said) / sizeof(s->lock_said[0]); i++)
        if (s->lock_said[i].camera_id == camera_id) {
            due = now_ns >= s->lock_said[i].next_ns;
            break;
        }
    pthread_mutex_unlock(&s->trouble_mu);
    return due;
}

void reel__lock_checked(struct reel_store *s, int64_t camera_id, int64_t now_ns, bool told)
{
    const size_t n = sizeof(s->lock_said) / sizeof(s->lock_said[0]);
    pthread_mutex_lock(&s->trouble_mu);
    size_t slot = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->lock_said[i].camera_id == camera_id) {
            slot = i;
            break;
        }
        if (s->lock_said[i].next_ns < s->lock_said[slot].next_ns)
            slot = i;   /* else the entry due soonest (free ones are 0) */
    }
    s->lock_said[slot].camera_id = camera_id;
    s->lock_said[slot].next_ns = now_ns + (told ? LOCK_TOLD_NS : LOCK_RECHECK_NS);
    pthread_mutex_unlock(&s->trouble_mu);
}

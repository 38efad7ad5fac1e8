/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Remembered reasons per caller and kind; see reasons.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/reasons.h"

struct reason {
    char key[REEL_AUDIT_USER_MAX + REEL_AUDIT_VIA_MAX + REEL_AUDIT_ADDR_MAX + 16];
    char text[REEL_AUDIT_REASON_MAX];
    int64_t last_ns;
};

struct reel_audit_reasons {
    size_t n;
    struct reason r[REEL_AUDIT_REASONS];
};

int reel_audit_reasons_new(struct reel_audit_reasons **ret)
{
    struct reel_audit_reasons *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return -ENOMEM;
    *ret = rs;
    return 0;
}

void reel_audit_reasons_free(struct reel_audit_reasons *rs) { free(rs); }

bool reel_audit_reasons_take(struct reel_audit_reasons *rs, const char *kind, const char *user, const char *via,
                             const char *addr, const char *given, int64_t now_ns, char *out, size_t cap)
{
    char key[sizeof(rs->r[0].key)];
    snprintf(key, sizeof(key), "%.15s\n%.63s\n%.95s\n%.63s", kind, user, via, addr);
    struct reason *hit = NULL;
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->r[i].key, key) == 0) {
            hit = &rs->r[i];
            break;
        }
    if (hit && now_ns - hit->last_ns >= REEL_AUDIT_REASON_IDLE_NS && !(given && *given)) {
        *hit = rs->r[--rs->n];
        hit = NULL;
    }
    if (given && *given) {
        if (!hit) {
            if (rs->n == REEL_AUDIT_REASONS) {
                size_t old = 0;
                for (size_t i = 1; i < rs->n; i++)
                    if (rs->r[i].last_ns < rs->r[old].last_ns)
                        old = i;
                rs->r[old] = rs->r[--rs->n];
            }
            hit = &rs->r[rs->n++];
            snprintf(hit->key, sizeof(hit->key), "%s", key);
        }
        snprintf(hit->text, sizeof(hit->text), "%s", given);
    }
    if (!hit) {
        if (cap)
            out[0] = '\0';
        return false;
    }
    hit->last_ns = now_ns;
    snprintf(out, cap, "%s", hit->text);
    return true;
}

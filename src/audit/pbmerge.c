/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Playback sessions for the audit log; see pbmerge.h for the merge rule.
 * A flat array searched linearly: at most REEL_AUDIT_PB_SESSIONS entries,
 * touched once per playback request.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/pbmerge.h"

struct reel_audit_pb {
    size_t n;
    struct reel_audit_pb_session s[REEL_AUDIT_PB_SESSIONS];
};

int reel_audit_pb_new(struct reel_audit_pb **ret)
{
    struct reel_audit_pb *pb = calloc(1, sizeof(*pb));
    if (!pb)
        return -ENOMEM;
    *ret = pb;
    return 0;
}

void reel_audit_pb_free(struct reel_audit_pb *pb) { free(pb); }

size_t reel_audit_pb_open(const struct reel_audit_pb *pb) { return pb->n; }

static void drop(struct reel_audit_pb *pb, size_t i)
{
    pb->s[i] = pb->s[--pb->n];
}

static void add_range(struct reel_audit_pb_session *s, int64_t a, int64_t b)
{
    /* insert sorted, then join neighbours that overlap or nearly touch */
    size_t i = 0;
    while (i < s->nranges && s->ranges[i][0] < a)
        i++;
    if (s->nranges == REEL_AUDIT_PB_RANGES) {
        /* full: join the two closest first (possibly with the new one below) */
        size_t best = 0;
        int64_t gap = INT64_MAX;
        for (size_t k = 0; k + 1 < s->nranges; k++) {
            int64_t g = s->ranges[k + 1][0] - s->ranges[k][1];
            if (g < gap) {
                gap = g;
                best = k;
            }
        }
        s->ranges[best][1] = s->ranges[best + 1][1] > s->ranges[best][1] ? s->ranges[best + 1][1] : s->ranges[best][1];
        memmove(&s->ranges[best + 1], &s->ranges[best + 2], (s->nranges - best - 2) * sizeof(s->ranges[0]));
        s->nranges--;
        s->coarse = true;
        i = 0;
        while (i < s->nranges && s->ranges[i][0] < a)
            i++;
    }
    memmove(&s->ranges[i + 1], &s->ranges[i], (s->nranges - i) * sizeof(s->ranges[0]));
    s->ranges[i][0] = a;
    s->ranges[i][1] = b;
    s->nranges++;
    size_t o = 0;
    for (size_t k = 1; k < s->nranges; k++) {
        if (s->ranges[k][0] <= s->ranges[o][1] + REEL_AUDIT_PB_JOIN90K) {
            if (s->ranges[k][1] > s->ranges[o][1])
                s->ranges[o][1] = s->ranges[k][1];
        } else {
            o++;
            s->ranges[o][0] = s->ranges[k][0];
            s->ranges[o][1] = s->ranges[k][1];
        }
    }
    s->nranges = o + 1;
}

void reel_audit_pb_add(struct reel_audit_pb *pb, const char *user, const char *via, const char *addr,
                       const char *camera, const char *reason, int64_t start90k, int64_t end90k, int64_t now_ns,
                       int64_t idle_ns, reel_audit_pb_emit *emit, void *arg)
{
    if (end90k < start90k)
        end90k = start90k;
    struct reel_audit_pb_session k = { 0 };
    snprintf(k.user, sizeof(k.user), "%s", user ? user : "");
    snprintf(k.via, sizeof(k.via), "%s", via ? via : "");
    snprintf(k.addr, sizeof(k.addr), "%s", addr ? addr : "");
    snprintf(k.camera, sizeof(k.camera), "%s", camera ? camera : "");
    struct reel_audit_pb_session *s = NULL;
    for (size_t i = 0; i < pb->n; i++) {
        struct reel_audit_pb_session *c = &pb->s[i];
        if (strcmp(c->user, k.user) == 0 && strcmp(c->via, k.via) == 0 && strcmp(c->addr, k.addr) == 0 &&
            strcmp(c->camera, k.camera) == 0) {
            if (now_ns - c->last_ns >= idle_ns) {
                emit(c, arg);
                drop(pb, i);
            } else {
                s = c;
            }
            break;
        }
    }
    if (!s) {
        if (pb->n == REEL_AUDIT_PB_SESSIONS) {
            size_t old = 0;
            for (size_t i = 1; i < pb->n; i++)
                if (pb->s[i].last_ns < pb->s[old].last_ns)
                    old = i;
            emit(&pb->s[old], arg);
            drop(pb, old);
        }
        s = &pb->s[pb->n++];
        *s = k;
        s->first_ns = now_ns;
    }
    if (!s->reason[0] && reason)
        snprintf(s->reason, sizeof(s->reason), "%s", reason);
    s->last_ns = now_ns;
    s->requests++;
    add_range(s, start90k, end90k);
}

void reel_audit_pb_flush(struct reel_audit_pb *pb, int64_t now_ns, int64_t idle_ns, reel_audit_pb_emit *emit,
                         void *arg)
{
    for (size_t i = 0; i < pb->n;) {
        if (idle_ns < 0 || now_ns - pb->s[i].last_ns >= idle_ns) {
            emit(&pb->s[i], arg);
            drop(pb, i);
        } else {
            i++;
        }
    }
}

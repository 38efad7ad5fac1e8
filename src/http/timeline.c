/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Spans and gaps of a camera's timeline; see timeline.h.
 */
#include "http/timeline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char not_recorded[] = "not recorded";

static int push_gap(struct reel_timeline *t, size_t *alloc, int64_t a, int64_t b, const char *reason)
{
    if (b <= a)
        return 0;
    if (t->ngaps > 0) {
        struct reel_tl_gap *last = &t->gaps[t->ngaps - 1];
        if (last->end90k == a && strcmp(last->reason, reason) == 0) {
            last->end90k = b;
            return 0;
        }
    }
    if (t->ngaps == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 8;
        void *p = realloc(t->gaps, na * sizeof(*t->gaps));
        if (!p)
            return -ENOMEM;
        t->gaps = p;
        *alloc = na;
    }
    t->gaps[t->ngaps++] = (struct reel_tl_gap){ a, b, reason };
    return 0;
}

/* The uncovered [a, b), split by the known reasons. */
static int explain(struct reel_timeline *t, size_t *alloc, int64_t a, int64_t b, const struct reel_gap **gaps,
                   size_t ngaps)
{
    int64_t cur = a;
    for (size_t i = 0; i < ngaps && cur < b; i++) {
        int64_t gs = gaps[i]->start90k, ge = gaps[i]->end90k < 0 ? INT64_MAX : gaps[i]->end90k;
        if (ge <= cur || gs >= b)
            continue;
        if (gs > cur) {
            if (push_gap(t, alloc, cur, gs, not_recorded) < 0)
                return -ENOMEM;
            cur = gs;
        }
        int64_t e = ge < b ? ge : b;
        if (push_gap(t, alloc, cur, e, gaps[i]->reason[0] ? gaps[i]->reason : not_recorded) < 0)
            return -ENOMEM;
        cur = e;
    }
    return push_gap(t, alloc, cur, b, not_recorded);
}

static int cmp_gap(const void *x, const void *y)
{
    const struct reel_gap *a = *(const struct reel_gap *const *)x, *b = *(const struct reel_gap *const *)y;
    return a->start90k < b->start90k ? -1 : a->start90k > b->start90k;
}

int reel_timeline_build(const struct reel_span *recs, size_t nrecs, const struct reel_gap *gaps,
                        size_t ngaps, int64_t from90k, int64_t to90k, struct reel_timeline *ret)
{
    struct reel_timeline t = { 0 };
    size_t galloc = 0;
    const struct reel_gap **sorted = NULL;
    if (ngaps) {
        sorted = malloc(ngaps * sizeof(*sorted));
        if (!sorted)
            return -ENOMEM;
        for (size_t i = 0; i < ngaps; i++)
            sorted[i] = &gaps[i];
        qsort(sorted, ngaps, sizeof(*sorted), cmp_gap);
    }
    t.spans = calloc(nrecs ? nrecs : 1, sizeof(*t.spans));
    if (!t.spans)
        goto nomem;
    int64_t last_run = -1;
    for (size_t i = 0; i < nrecs; i++) {
        int64_t s = recs[i].start90k, e = recs[i].start90k + recs[i].wall_duration90k;
        if (s < from90k)
            s = from90k;
        if (e > to90k)
            e = to90k;
        if (e <= s)
            continue;
        struct reel_tl_span *last = t.nspans ? &t.spans[t.nspans - 1] : NULL;
        if (last && ((recs[i].run_id == last_run && s - last->end90k <= REEL_TL_JOIN90K) || s <= last->end90k)) {
            if (e > last->end90k)
                last->end90k = e;
        } else {
            t.spans[t.nspans++] = (struct reel_tl_span){ s, e };
        }
        last_run = recs[i].run_id;
    }
    int64_t cur = from90k;
    for (size_t i = 0; i < t.nspans; i++) {
        if (t.spans[i].start90k > cur && explain(&t, &galloc, cur, t.spans[i].start90k, sorted, ngaps) < 0)
            goto nomem;
        cur = t.spans[i].end90k;
    }
    if (cur < to90k && explain(&t, &galloc, cur, to90k, sorted, ngaps) < 0)
        goto nomem;
    free(sorted);
    *ret = t;
    return 0;
nomem:
    free(sorted);
    reel_timeline_free(&t);
    return -ENOMEM;
}

void reel_timeline_free(struct reel_timeline *t)
{
    if (!t)
        return;
    free(t->spans);
    free(t->gaps);
    t->spans = NULL;
    t->gaps = NULL;
    t->nspans = t->ngaps = 0;
}

int reel_timeline_merge(struct reel_timeline *t, int64_t from90k, int64_t to90k, int64_t min_gap90k)
{
    if (min_gap90k <= 0 || t->nspans == 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < t->nspans; i++) {
        if (n > 0 && t->spans[i].start90k - t->spans[n - 1].end90k < min_gap90k) {
            if (t->spans[i].end90k > t->spans[n - 1].end90k)
                t->spans[n - 1].end90k = t->spans[i].end90k;
            continue;
        }
        t->spans[n++] = t->spans[i];
    }
    t->nspans = n;
    if (t->spans[0].start90k > from90k && t->spans[0].start90k - from90k < min_gap90k)
        t->spans[0].start90k = from90k;
    if (t->spans[n - 1].end90k < to90k && to90k - t->spans[n - 1].end90k < min_gap90k)
        t->spans[n - 1].end90k = to90k;
    /* keep the gaps outside every span (both sorted: one pass) */
    size_t k = 0, s = 0;
    for (size_t i = 0; i < t->ngaps; i++) {
        while (s < n && t->spans[s].end90k <= t->gaps[i].start90k)
            s++;
        if (s < n && t->spans[s].start90k < t->gaps[i].end90k)
            continue;
        t->gaps[k++] = t->gaps[i];
    }
    t->ngaps = k;
    return 0;
}

static bool has(const char *s, const char *what)
{
    return strstr(s, what) != NULL;
}

const char *reel_timeline_reason(const char *raw)
{
    if (!raw || !raw[0] || strcmp(raw, not_recorded) == 0)
        return not_recorded;
    if (strcmp(raw, "deleted by retention") == 0)
        return "deleted by retention";
    if (strncmp(raw, "deleted", 7) == 0)
        return "deleted: disk full";
    if (strcmp(raw, "recorder stopped") == 0)
        return "recorder stopped";
    if (has(raw, "write failed") || has(raw, "storage stalled") || has(raw, "write error") || has(raw, "No space"))
        return "write error";
    if (has(raw, "authentication failed") || has(raw, "401") || has(raw, "wrong password"))
        return "wrong password";
    if (strncmp(raw, "stalled", 7) == 0)
        return "stalled";
    if (has(raw, "refused"))
        return "refused";
    return "offline";
}

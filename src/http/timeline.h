/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The timeline of a camera over [from, to): spans of footage (adjacent
 * recordings of one run merged) and the gaps between them, each gap with the
 * reason the store knows (outages, deletions) or "not recorded". Pure: built
 * from the store's spans (reel_store_spans: recordings without their index)
 * and gaps, unit tested without a database.
 */
#ifndef REEL_HTTP_TIMELINE_H
#define REEL_HTTP_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct reel_tl_span {
    int64_t start90k, end90k;
};
struct reel_tl_gap {
    int64_t start90k, end90k;
    const char *reason;            /* points into the gaps passed in, or static */
};
struct reel_timeline {
    struct reel_tl_span *spans;    /* malloc'd */
    size_t nspans;
    struct reel_tl_gap *gaps;      /* malloc'd */
    size_t ngaps;
};

/* Recordings within one run whose ends are at most this far apart join. */
#define REEL_TL_JOIN90K (REEL_90K / 2)

/* spans oldest first (as reel_store_spans returns them), gaps as
 * reel_store_gaps returns them (end90k -1 = still open). Spans and gaps are
 * clipped to [from90k, to90k) and together cover it exactly. ret's reasons
 * point into gaps: keep gaps alive while ret is used. -ENOMEM. Free with
 * reel_timeline_free(). */
int reel_timeline_build(const struct reel_span *recs, size_t nrecs, const struct reel_gap *gaps,
                        size_t ngaps, int64_t from90k, int64_t to90k, struct reel_timeline *ret);
void reel_timeline_free(struct reel_timeline *t);

/* The timeline at a zoom level: spans closer than min_gap90k join (the
 * gaps between them dropped), and a gap shorter than min_gap90k at either
 * end of [from90k, to90k) joins the span next to it. Spans and gaps still
 * cover the range exactly. min_gap90k <= 0: nothing changes. 0. */
int reel_timeline_merge(struct reel_timeline *t, int64_t from90k, int64_t to90k, int64_t min_gap90k);

/* The kind of a gap from the store's reason text (an outage's or a
 * deletion's): one of "offline", "refused", "wrong password", "stalled",
 * "recorder stopped", "deleted by retention", "deleted: disk full",
 * "write error", "not recorded" (static strings). */
const char *reel_timeline_reason(const char *raw);

#endif

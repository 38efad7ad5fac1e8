/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Which frames of a recording one playback fragment holds; see fmp4_plan.h.
 */
#include "mp4/fmp4_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int reel_fmp4_plan(const struct reel_frame_info *f, size_t nf, int64_t from, int64_t to, bool keys,
                   struct reel_fmp4_plan *p)
{
    memset(p, 0, sizeof(*p));
    int64_t *t = malloc((nf + 1) * sizeof(*t));
    uint64_t *off = malloc((nf + 1) * sizeof(*off));
    if (!t || !off) {
        free(t);
        free(off);
        return -ENOMEM;
    }
    t[0] = 0;
    off[0] = 0;
    for (size_t i = 0; i < nf; i++) {
        t[i + 1] = t[i] + f[i].duration90k;
        off[i + 1] = off[i] + f[i].size;
    }
    int r = 0;
    if (nf == 0 || from >= t[nf]) {
        r = -ERANGE;
        goto out;
    }
    size_t first = 0;
    for (size_t i = 0; i < nf && t[i] <= from; i++)
        if (f[i].key)
            first = i;
    size_t end = first + 1;
    uint64_t bytes = f[first].size;
    while (end < nf) {
        if (f[end].key && (t[end] >= to || bytes >= REEL_FMP4_PLAN_CUT))
            break;
        if (bytes + f[end].size > REEL_FMP4_PLAN_MAX)
            break; /* a GOP past every sense: cut anywhere rather than hold it */
        if (!keys || f[end].key)
            bytes += f[end].size;
        end++;
    }
    p->samples = calloc(end - first, sizeof(*p->samples));
    p->offs = calloc(end - first, sizeof(*p->offs));
    if (!p->samples || !p->offs) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = first; i < end; i++) {
        if (keys && !f[i].key)
            continue;
        p->samples[p->n] = (struct reel_fmp4_sample){ f[i].size, (uint32_t)f[i].duration90k, f[i].key };
        p->offs[p->n] = off[i];
        p->n++;
    }
    if (keys) {
        /* each key frame lasts until the next one (or the fragment's end) */
        size_t k = 0;
        for (size_t i = first; i < end; i++)
            if (f[i].key) {
                size_t j = i + 1;
                while (j < end && !f[j].key)
                    j++;
                p->samples[k++].duration90k = (uint32_t)(t[j] - t[i]);
            }
    }
    p->first = first;
    p->end = end;
    p->from_off = t[first];
    p->to_off = t[end];
    p->bytes = bytes;
out:
    free(t);
    free(off);
    if (r < 0) {
        free(p->samples);
        free(p->offs);
        memset(p, 0, sizeof(*p));
    }
    return r;
}

void reel_fmp4_plan_free(struct reel_fmp4_plan *p)
{
    free(p->samples);
    free(p->offs);
    memset(p, 0, sizeof(*p));
}

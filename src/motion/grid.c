/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The motion grid codec (format: grid.h): encode a minute, check a blob
 * read back from reel.db (hostile: every length is checked before it is
 * read), decode one second, and match a region. The matcher is the search's
 * inner loop: it first tests the region against the minute's OR bitmap, then
 * walks the records without allocating.
 */
#include "motion/grid.h"

#include <errno.h>
#include <string.h>

#define HDR (2 + REEL_GRID_BITS_BYTES)          /* version, nsec, OR bits */
#define REC_HDR (1 + REEL_GRID_BITS_BYTES)      /* second, cell bits */

static unsigned popcount_bits(const uint8_t bits[REEL_GRID_BITS_BYTES])
{
    unsigned n = 0;
    for (unsigned i = 0; i < REEL_GRID_BITS_BYTES; i += 8) {
        uint64_t w;
        memcpy(&w, bits + i, 8);
        n += (unsigned)__builtin_popcountll(w);
    }
    return n;
}

void reel_grid_encode(const struct reel_grid_second *const sec[60], uint8_t *out, size_t *len)
{
    size_t pos = HDR;
    unsigned nsec = 0;
    uint8_t all[REEL_GRID_BITS_BYTES] = { 0 };
    for (unsigned s = 0; s < 60; s++) {
        if (!sec[s])
            continue;
        uint8_t bits[REEL_GRID_BITS_BYTES] = { 0 };
        unsigned n = 0;
        for (unsigned c = 0; c < REEL_GRID_CELLS; c++)
            if (sec[s]->level[c]) {
                bits[c / 8] |= (uint8_t)(1u << (c % 8));
                n++;
            }
        if (!n)
            continue;
        out[pos++] = (uint8_t)s;
        memcpy(out + pos, bits, REEL_GRID_BITS_BYTES);
        pos += REEL_GRID_BITS_BYTES;
        for (unsigned c = 0; c < REEL_GRID_CELLS; c++)
            if (sec[s]->level[c])
                out[pos++] = sec[s]->level[c];
        for (unsigned i = 0; i < REEL_GRID_BITS_BYTES; i++)
            all[i] |= bits[i];
        nsec++;
    }
    if (!nsec) {
        *len = 0;
        return;
    }
    out[0] = 1;
    out[1] = (uint8_t)nsec;
    memcpy(out + 2, all, REEL_GRID_BITS_BYTES);
    *len = pos;
}

int reel_grid_check(const uint8_t *blob, size_t len, struct reel_err *err)
{
    if (!blob || len < HDR)
        return reel_err_set(err, EINVAL, "motion grid: %zu bytes, shorter than its header", len);
    if (len > REEL_GRID_MINUTE_MAX)
        return reel_err_set(err, EINVAL, "motion grid: %zu bytes, longer than a minute can be", len);
    if (blob[0] != 1)
        return reel_err_set(err, EINVAL, "motion grid: version %u, not 1", blob[0]);
    unsigned nsec = blob[1];
    if (nsec < 1 || nsec > 60)
        return reel_err_set(err, EINVAL, "motion grid: %u second records (1..60)", nsec);
    uint8_t all[REEL_GRID_BITS_BYTES] = { 0 };
    size_t pos = HDR;
    int prev = -1;
    for (unsigned r = 0; r < nsec; r++) {
        if (len - pos < REC_HDR)
            return reel_err_set(err, EINVAL, "motion grid: record %u truncated", r);
        unsigned s = blob[pos];
        if (s > 59 || (int)s <= prev)
            return reel_err_set(err, EINVAL, "motion grid: record %u has second %u (after %d)", r, s, prev);
        prev = (int)s;
        const uint8_t *bits = blob + pos + 1;
        unsigned n = popcount_bits(bits);
        if (!n)
            return reel_err_set(err, EINVAL, "motion grid: record %u (second %u) has no cell set", r, s);
        pos += REC_HDR;
        if (len - pos < n)
            return reel_err_set(err, EINVAL, "motion grid: record %u (second %u) has %zu of %u levels", r, s,
                                len - pos, n);
        if (memchr(blob + pos, 0, n))
            return reel_err_set(err, EINVAL, "motion grid: record %u (second %u) has a level 0", r, s);
        pos += n;
        for (unsigned i = 0; i < REEL_GRID_BITS_BYTES; i++)
            all[i] |= bits[i];
    }
    if (pos != len)
        return reel_err_set(err, EINVAL, "motion grid: %zu bytes after the last record", len - pos);
    if (memcmp(all, blob + 2, REEL_GRID_BITS_BYTES) != 0)
        return reel_err_set(err, EINVAL, "motion grid: the OR bits do not match the records");
    return 0;
}

/* Walks the records of a (checked) blob; each step bounds-checks anyway so a
 * caller that skipped reel_grid_check() cannot read past the blob. Returns
 * false at the end. */
struct walk {
    const uint8_t *blob;
    size_t len, pos;
    unsigned left;
};

static bool walk_next(struct walk *w, unsigned *ret_s, const uint8_t **ret_bits, const uint8_t **ret_levels,
                      unsigned *ret_n)
{
    if (!w->left || w->len - w->pos < REC_HDR)
        return false;
    const uint8_t *bits = w->blob + w->pos + 1;
    unsigned n = popcount_bits(bits);
    if (w->len - w->pos - REC_HDR < n)
        return false;
    *ret_s = w->blob[w->pos];
    *ret_bits = bits;
    *ret_levels = w->blob + w->pos + REC_HDR;
    *ret_n = n;
    w->pos += REC_HDR + n;
    w->left--;
    return true;
}

static bool walk_init(struct walk *w, const uint8_t *blob, size_t len)
{
    if (!blob || len < HDR || len > REEL_GRID_MINUTE_MAX)
        return false;
    w->blob = blob;
    w->len = len;
    w->pos = HDR;
    w->left = blob[1] > 60 ? 60 : blob[1];
    return true;
}

void reel_grid_second_get(const uint8_t *blob, size_t len, unsigned s, struct reel_grid_second *out)
{
    memset(out, 0, sizeof(*out));
    struct walk w;
    if (!walk_init(&w, blob, len))
        return;
    unsigned rs, n;
    const uint8_t *bits, *levels;
    while (walk_next(&w, &rs, &bits, &levels, &n)) {
        if (rs != s)
            continue;
        unsigned k = 0;
        for (unsigned c = 0; c < REEL_GRID_CELLS; c++)
            if (bits[c / 8] & (1u << (c % 8)))
                out->level[c] = levels[k++];
        return;
    }
}

uint64_t reel_grid_match_cells(const uint8_t *blob, size_t len, const uint8_t region[REEL_GRID_BITS_BYTES],
                               unsigned min_cells, unsigned min_level, uint16_t ret_cells[60])
{
    if (ret_cells)
        memset(ret_cells, 0, 60 * sizeof(*ret_cells));
    struct walk w;
    if (!walk_init(&w, blob, len))
        return 0;
    if (min_cells < 1)
        min_cells = 1;
    if (min_level < 1)
        min_level = 1;
    if (min_cells > REEL_GRID_CELLS || min_level > 255)
        return 0;
    /* The minute's OR bitmap: fewer region cells ever moved than asked -> no second can match. */
    uint64_t reg[4], any[4];
    memcpy(reg, region, 32);
    memcpy(any, blob + 2, 32);
    unsigned reach = 0;
    for (unsigned i = 0; i < 4; i++)
        reach += (unsigned)__builtin_popcountll(reg[i] & any[i]);
    if (reach < min_cells)
        return 0;
    uint64_t secs = 0;
    unsigned rs, n;
    const uint8_t *bits, *levels;
    while (walk_next(&w, &rs, &bits, &levels, &n)) {
        if (rs > 59)
            break;
        uint64_t b[4];
        memcpy(b, bits, 32);
        unsigned count = 0;
        if (min_level <= 1) {
            for (unsigned i = 0; i < 4; i++)
                count += (unsigned)__builtin_popcountll(b[i] & reg[i]);
        } else {
            unsigned base = 0;   /* levels index of word i's first set bit */
            for (unsigned i = 0; i < 4; i++) {
                uint64_t hit = b[i] & reg[i];
                while (hit) {
                    unsigned bit = (unsigned)__builtin_ctzll(hit);
                    uint64_t below = bit ? (b[i] & ((UINT64_C(1) << bit) - 1)) : 0;
                    if (levels[base + (unsigned)__builtin_popcountll(below)] >= min_level)
                        count++;
                    hit &= hit - 1;
                }
                base += (unsigned)__builtin_popcountll(b[i]);
            }
        }
        if (count >= min_cells) {
            secs |= UINT64_C(1) << rs;
            if (ret_cells)
                ret_cells[rs] = (uint16_t)count;
        }
    }
    return secs;
}

int reel_grid_match(const uint8_t *blob, size_t len, const uint8_t region[REEL_GRID_BITS_BYTES],
                    unsigned min_cells, unsigned min_level, uint64_t *ret_seconds)
{
    uint64_t secs = reel_grid_match_cells(blob, len, region, min_cells, min_level, NULL);
    *ret_seconds = secs;
    return __builtin_popcountll(secs);
}

uint64_t reel_grid_seconds(const uint8_t *blob, size_t len)
{
    struct walk w;
    if (!walk_init(&w, blob, len))
        return 0;
    uint64_t secs = 0;
    unsigned rs, n;
    const uint8_t *bits, *levels;
    while (walk_next(&w, &rs, &bits, &levels, &n))
        if (rs <= 59)
            secs |= UINT64_C(1) << rs;
    return secs;
}

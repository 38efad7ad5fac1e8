/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the motion grid blob (src/motion/grid.c), as read back from
 * motion_minute. Input: 32 bytes of search region, min_cells, min_level, a
 * second, then the blob. The matcher and decoder must stay inside any blob
 * (checked or not); a blob the checker accepts must decode and re-encode to
 * exactly the same bytes (the format is canonical), and the match must be a
 * subset of the seconds that have a record, with the cells it counts.
 */
#include <string.h>

#include "fuzz.h"
#include "motion/grid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < REEL_GRID_BITS_BYTES + 3)
        return 0;
    const uint8_t *region = data;
    unsigned min_cells = data[32], min_level = data[33], s = data[34] % 60;
    const uint8_t *blob = data + 35;
    size_t len = size - 35;

    /* Unchecked: must not read out of bounds (ASan) whatever it returns. */
    struct reel_grid_second one;
    reel_grid_second_get(blob, len, s, &one);
    uint64_t secs;
    (void)reel_grid_match(blob, len, region, min_cells, min_level, &secs);
    (void)reel_grid_seconds(blob, len);

    struct reel_err err;
    if (reel_grid_check(blob, len, &err) < 0) {
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        return 0;
    }
    static struct reel_grid_second sec[60];
    const struct reel_grid_second *ptr[60];
    for (unsigned i = 0; i < 60; i++) {
        reel_grid_second_get(blob, len, i, &sec[i]);
        ptr[i] = &sec[i];
    }
    static uint8_t out[REEL_GRID_MINUTE_MAX];
    size_t olen = 0;
    reel_grid_encode(ptr, out, &olen);
    FUZZ_CHECK(olen == len && memcmp(out, blob, len) == 0);

    uint16_t cells[60];
    int n = reel_grid_match(blob, len, region, min_cells, min_level, &secs);
    FUZZ_CHECK(secs == reel_grid_match_cells(blob, len, region, min_cells, min_level, cells));
    FUZZ_CHECK(n == __builtin_popcountll(secs));
    FUZZ_CHECK((secs & ~reel_grid_seconds(blob, len)) == 0);
    for (unsigned i = 0; i < 60; i++) {
        unsigned want = 0;
        for (unsigned c = 0; c < REEL_GRID_CELLS; c++)
            if ((region[c / 8] >> (c % 8) & 1) && sec[i].level[c] && sec[i].level[c] >= (min_level ? min_level : 1))
                want++;
        bool hit = want >= (min_cells ? min_cells : 1);
        FUZZ_CHECK(hit == !!(secs >> i & 1));
        FUZZ_CHECK(cells[i] == (hit ? want : 0));
    }
    return 0;
}

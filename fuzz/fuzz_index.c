/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the on-disk frame index decoder (src/store/index.c). Input:
 * a 2-byte big-endian frame count (at most 4096 used), then the blob. A blob
 * the strict decoder accepts must re-encode to exactly the same bytes (the
 * encoding is canonical), which also exercises the encoder.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "store/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t n = ((uint32_t)data[0] << 8 | data[1]) % 4097;
    const uint8_t *blob = data + 2;
    size_t len = size - 2;
    struct reel_frame_info *f = malloc((n ? n : 1) * sizeof(*f));
    if (!f)
        return 0;
    struct reel_err err;
    if (reel_index_decode(blob, len, n, f, &err) == 0) {
        struct reel_index_enc e;
        reel_index_enc_init(&e, len + 64);
        for (uint32_t i = 0; i < n; i++)
            FUZZ_CHECK(reel_index_enc_add(&e, &f[i]) == 0);
        FUZZ_CHECK(e.out.len == len && (len == 0 || memcmp(e.out.data, blob, len) == 0));
        reel_index_enc_free(&e);
    } else {
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
    }
    free(f);
    return 0;
}

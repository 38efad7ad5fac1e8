/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shared by the fuzz targets: the libFuzzer entry point's prototype, a
 * reader for inputs made of length-prefixed records (a 2-byte big-endian
 * length, then that many bytes; a short last record takes what is left), and
 * FUZZ_CHECK, which aborts on a broken invariant so that both libFuzzer and
 * the replay driver report it as a crash. Header-only; no state.
 */
#ifndef REEL_FUZZ_FUZZ_H
#define REEL_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

struct fuzz_records {
    const uint8_t *p;
    size_t left;
};

/* Next record of the input; 1 and *ret / *ret_len set, or 0 at the end. */
static inline int fuzz_next_record(struct fuzz_records *r, const uint8_t **ret, size_t *ret_len)
{
    if (r->left < 2)
        return 0;
    size_t n = (size_t)r->p[0] << 8 | r->p[1];
    r->p += 2;
    r->left -= 2;
    if (n > r->left)
        n = r->left;
    *ret = r->p;
    *ret_len = n;
    r->p += n;
    r->left -= n;
    return 1;
}

/* Reads every byte of a buffer so that ASan checks the whole range. */
static inline unsigned fuzz_touch(const void *p, size_t n)
{
    const volatile uint8_t *b = p;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++)
        s += b[i];
    return s;
}

#endif

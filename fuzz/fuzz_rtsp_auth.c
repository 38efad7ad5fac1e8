/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: WWW-Authenticate parsing, the choice of challenge and the
 * Authorization header built from it (src/rtsp/auth.c), through
 * reel_auth_fuzz; then the input split at newlines as several headers of one
 * response, with the header built for every supported challenge checked to be
 * a clean, NUL-terminated single line.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "rtsp/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)reel_auth_fuzz(data, size);

    char line[4096];
    struct reel_auth_challenge ch[REEL_AUTH_CHALLENGES_MAX];
    size_t n = 0, off = 0;
    while (off < size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t l = nl ? (size_t)(nl - (data + off)) : size - off;
        size_t cl = l < sizeof(line) - 1 ? l : sizeof(line) - 1;
        memcpy(line, data + off, cl);
        line[cl] = '\0';
        int r = reel_auth_parse(line, ch, REEL_AUTH_CHALLENGES_MAX, &n);
        FUZZ_CHECK(r >= -EINVAL);
        FUZZ_CHECK(n <= REEL_AUTH_CHALLENGES_MAX);
        off += l + 1;
    }
    int best = reel_auth_choose(ch, n);
    FUZZ_CHECK(best < (int)n);
    for (size_t i = 0; i < n; i++) {
        if (ch[i].scheme == REEL_AUTH_NONE)
            continue;
        char out[REEL_AUTH_HEADER_MAX];
        struct reel_err err;
        int r = reel_auth_header(&ch[i], "admin", "pa\"ss", "DESCRIBE", "rtsp://h/cam/0", 1, NULL,
                                 out, sizeof(out), &err);
        if (r >= 0) {
            FUZZ_CHECK((size_t)r < sizeof(out) && strlen(out) == (size_t)r);
            FUZZ_CHECK(strpbrk(out, "\r\n") == NULL);
        }
    }
    return 0;
}

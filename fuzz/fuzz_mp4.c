/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: the virtual MP4 builder (src/mp4/mp4.c) given a random frame
 * list. Input: an 8-byte header (trim at the start and at the end, 16 bits
 * each, in 90 kHz units; creation time, 32 bits signed), then 6 bytes per
 * frame: size - 1 (24 bits), duration (16 bits), flags (bit 0 key, bit 1
 * the frame starts a new segment, bit 2 the segment uses the second sample
 * entry, bit 3 the segment starts 1 GiB further into its file). At most 4096
 * frames and 64 segments. The sample files are one sparse memfd.
 *
 * When the build succeeds, the top-level boxes of the output (ftyp, moov,
 * mdat) must add up to reel_mp4_size() and the whole header and the first
 * bytes of every segment must read back.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "mp4/mp4.h"

#define FRAMES_MAX 4096
#define SEGS_MAX 64
#define GIB ((uint64_t)1 << 30)

static uint64_t rd_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* An 'avc1'/'hvc1'-shaped sample entry: the builder treats it as opaque
 * beyond its size and type. */
static void make_entry(uint8_t *b, size_t len, const char *type)
{
    memset(b, 0, len);
    b[0] = (uint8_t)(len >> 24);
    b[1] = (uint8_t)(len >> 16);
    b[2] = (uint8_t)(len >> 8);
    b[3] = (uint8_t)len;
    memcpy(b + 4, type, 4);
}

/* Walks the top-level boxes of the head; returns the total size they claim. */
static uint64_t walk_boxes(const struct reel_mp4 *m)
{
    uint64_t off = 0, size = reel_mp4_size(m);
    while (off < size) {
        uint8_t h[16];
        ssize_t r = reel_mp4_read(m, off, h, sizeof(h));
        FUZZ_CHECK(r >= 8);
        uint64_t len = rd_be(h, 4);
        if (len == 1) {
            FUZZ_CHECK(r == 16);
            len = rd_be(h + 8, 8);
        }
        FUZZ_CHECK(len >= 8 && len <= size - off);
        off += len;
    }
    return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8 + 6)
        return 0;
    struct reel_mp4_opts opts = {
        .trim_start90k = (int64_t)rd_be(data, 2),
        .trim_end90k = (int64_t)rd_be(data + 2, 2),
        .creation_unix = (int32_t)(uint32_t)rd_be(data + 4, 4),
    };
    size_t nf = (size - 8) / 6;
    if (nf > FRAMES_MAX)
        nf = FRAMES_MAX;
    struct reel_frame_info *f = calloc(nf, sizeof(*f));
    struct reel_mp4_seg segs[SEGS_MAX];
    size_t nsegs = 0;
    uint64_t file_end = 0;
    if (!f)
        return 0;
    for (size_t i = 0; i < nf; i++) {
        const uint8_t *q = data + 8 + 6 * i;
        f[i].size = (uint32_t)rd_be(q, 3) + 1;
        f[i].duration90k = (int32_t)rd_be(q + 3, 2);
        f[i].key = q[5] & 1;
        if (i == 0 || ((q[5] & 2) && nsegs < SEGS_MAX)) {
            struct reel_mp4_seg *g = &segs[nsegs++];
            g->path = NULL;              /* set below, once the memfd exists */
            g->frames = &f[i];
            g->nframes = 0;
            g->entry = (q[5] & 4) ? 1 : 0;
            g->file_offset = file_end + ((q[5] & 8) ? GIB : 0);
        }
        segs[nsegs - 1].nframes++;
        file_end = segs[nsegs - 1].file_offset;
        for (uint32_t k = 0; k < segs[nsegs - 1].nframes; k++)
            file_end += segs[nsegs - 1].frames[k].size;
    }
    int fd = memfd_create("reel-fuzz-mp4", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)file_end) < 0) {
        if (fd >= 0)
            close(fd);
        free(f);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    for (size_t s = 0; s < nsegs; s++)
        segs[s].path = path;

    uint8_t e0[100], e1[120];
    make_entry(e0, sizeof(e0), "avc1");
    make_entry(e1, sizeof(e1), "hvc1");
    struct reel_mp4_entry entries[2] = {
        { .box = e0, .len = sizeof(e0), .width = 320, .height = 180 },
        { .box = e1, .len = sizeof(e1), .width = 1920, .height = 1080 },
    };
    struct reel_mp4 *m = NULL;
    struct reel_err err;
    if (reel_mp4_build(&m, entries, 2, segs, nsegs, &opts, &err) == 0) {
        uint64_t total = reel_mp4_size(m);
        FUZZ_CHECK(walk_boxes(m) == total);
        FUZZ_CHECK(reel_mp4_duration90k(m) > 0);
        uint64_t payload = 0;
        for (size_t s = 0; s < nsegs; s++)
            for (uint32_t k = 0; k < segs[s].nframes; k++)
                payload += segs[s].frames[k].size;
        uint64_t head = total - payload;
        uint8_t *buf = malloc(head);
        if (buf) {
            FUZZ_CHECK(reel_mp4_read(m, 0, buf, head) == (ssize_t)head);
            free(buf);
        }
        uint8_t tmp[4096];
        uint64_t at = head;
        for (size_t s = 0; s < nsegs; s++) {
            FUZZ_CHECK(reel_mp4_read(m, at, tmp, sizeof(tmp)) > 0);
            for (uint32_t k = 0; k < segs[s].nframes; k++)
                at += segs[s].frames[k].size;
        }
        FUZZ_CHECK(reel_mp4_read(m, total, tmp, sizeof(tmp)) == 0);
        reel_mp4_free(m);
    }
    close(fd);
    free(f);
    return 0;
}

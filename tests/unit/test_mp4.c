/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unit tests for src/mp4: the box writer, and the virtual MP4 parsed back by
 * a small box walker (sizes add up, moov before mdat, the sample tables agree
 * with the segments), read at every offset pattern, bad input and bad files,
 * 64-bit offsets, and the size and speed of a 24-hour moov.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/buf.h"
#include "mp4/box.h"
#include "mp4/mp4.h"

/* ---- helpers ---- */

static uint64_t rd64(const uint8_t *p) { return (uint64_t)reel_rd_be32(p) << 32 | reel_rd_be32(p + 4); }

struct tmpdir {
    char path[64];
};

static void tmpdir_make(struct tmpdir *t)
{
    snprintf(t->path, sizeof(t->path), "/tmp/reel-mp4-XXXXXX");
    assert_non_null(mkdtemp(t->path));
}

static void tmpdir_remove(struct tmpdir *t)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
    assert_int_equal(system(cmd), 0);
}

/* Writes n bytes of a position-dependent pattern, seeded, to path. */
static void write_file(const char *path, size_t n, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc((int)((i * 31 + seed * 7 + (i >> 8)) & 0xff), f);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *ret_len = (size_t)n;
    return p;
}

/* A minimal visual sample entry ('avc1' or 'hvc1') of 86 + extra bytes. */
static void make_entry(uint8_t *box, size_t len, const char *type, uint16_t w, uint16_t h, uint8_t tag)
{
    memset(box, 0, len);
    reel_wr_be32(box, (uint32_t)len);
    memcpy(box + 4, type, 4);
    reel_wr_be16(box + 14, 1);      /* data_reference_index */
    reel_wr_be16(box + 32, w);
    reel_wr_be16(box + 34, h);
    box[len - 1] = tag;
}

static uint8_t *read_all(const struct reel_mp4 *m)
{
    uint64_t n = reel_mp4_size(m);
    uint8_t *p = malloc((size_t)n);
    assert_non_null(p);
    assert_int_equal(reel_mp4_read(m, 0, p, (size_t)n), (ssize_t)n);
    return p;
}

/* ---- a small box walker ---- */

struct box {
    const uint8_t *p;       /* start of the box */
    uint64_t size;
    size_t hdr;             /* 8 or 16 */
    char type[5];
};

/* Parses the box at p (avail bytes there). false when malformed. */
static bool box_at(const uint8_t *p, uint64_t avail, struct box *b)
{
    if (avail < 8)
        return false;
    b->p = p;
    b->size = reel_rd_be32(p);
    b->hdr = 8;
    memcpy(b->type, p + 4, 4);
    b->type[4] = 0;
    if (b->size == 1) {
        if (avail < 16)
            return false;
        b->size = rd64(p + 8);
        b->hdr = 16;
    }
    return b->size >= b->hdr;
}

static bool is_container(const char *t)
{
    static const char *const c[] = { "moov", "trak", "edts", "mdia", "minf", "dinf", "stbl" };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        if (strcmp(t, c[i]) == 0)
            return true;
    return false;
}

/* Checks that the children of a container exactly fill it, recursively. */
static void check_tree(const uint8_t *p, uint64_t len, int depth)
{
    assert_true(depth < 10);
    uint64_t at = 0;
    while (at < len) {
        struct box b;
        assert_true(box_at(p + at, len - at, &b));
        assert_true(b.size <= len - at);
        if (is_container(b.type))
            check_tree(b.p + b.hdr, b.size - b.hdr, depth + 1);
        at += b.size;
    }
    assert_int_equal(at, len);
}

/* Finds a box by path ("moov/trak/mdia") within p[0..len). */
static bool find_box(const uint8_t *p, uint64_t len, const char *path, struct box *ret)
{
    size_t seg = strcspn(path, "/");
    uint64_t at = 0;
    while (at < len) {
        struct box b;
        if (!box_at(p + at, len - at, &b) || b.size > len - at)
            return false;
        if (strlen(b.type) == seg && memcmp(b.type, path, seg) == 0) {
            if (path[seg] == 0) {
                *ret = b;
                return true;
            }
            return find_box(b.p + b.hdr, b.size - b.hdr, path + seg + 1, ret);
        }
        at += b.size;
    }
    return false;
}

static const uint8_t *stbl_box(const uint8_t *file, uint64_t len, const char *name, struct box *ret)
{
    char path[64];
    snprintf(path, sizeof(path), "moov/trak/mdia/minf/stbl/%s", name);
    if (!find_box(file, len, path, ret))
        return NULL;
    return ret->p + ret->hdr;
}

/* ---- box writer ---- */

static void test_box_writer(void **state)
{
    (void)state;
    struct reel_boxw w;
    reel_boxw_init(&w, 1024);
    reel_box_open(&w, "moov");
    reel_box_open_full(&w, "mvhd", 1, 0x000203);
    reel_box_u64(&w, 0x0102030405060708ull);
    reel_box_close(&w);
    reel_box_open(&w, "trak");
    reel_box_u16(&w, 0xabcd);
    reel_box_u8(&w, 7);
    reel_box_close(&w);
    reel_box_close(&w);
    assert_int_equal(reel_boxw_finish(&w), 0);
    static const uint8_t want[] = {
        0, 0, 0, 43, 'm', 'o', 'o', 'v',
        0, 0, 0, 20, 'm', 'v', 'h', 'd', 1, 0, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8,
        0, 0, 0, 11, 't', 'r', 'a', 'k', 0xab, 0xcd, 7,
    };
    assert_int_equal(w.buf.len, 39);
    /* sizes: moov = 8 + 20 + 11 = 39 */
    assert_int_equal(reel_rd_be32(w.buf.data), 39);
    assert_memory_equal(w.buf.data + 4, want + 4, sizeof(want) - 4);

    /* uv: 32 bits for version 0, 64 for version 1, EFBIG when it does not fit. */
    reel_boxw_free(&w);
    reel_boxw_init(&w, 1024);
    reel_box_uv(&w, 0, 5);
    reel_box_uv(&w, 1, 5);
    assert_int_equal(w.buf.len, 12);
    reel_box_uv(&w, 0, UINT32_MAX + 1ull);
    assert_int_equal(reel_boxw_finish(&w), -EFBIG);
    reel_box_u32(&w, 1);                /* sticky: nothing more written */
    assert_int_equal(w.buf.len, 12);
    reel_boxw_free(&w);

    /* External payload headers. */
    reel_boxw_init(&w, 64);
    assert_int_equal(reel_box_header_ext(&w, "mdat", 100), 8);
    assert_int_equal(reel_rd_be32(w.buf.data), 108);
    assert_int_equal(reel_box_header_ext(&w, "mdat", UINT32_MAX), 16);
    assert_int_equal(reel_rd_be32(w.buf.data + 8), 1);
    assert_memory_equal(w.buf.data + 12, "mdat", 4);
    assert_int_equal(rd64(w.buf.data + 16), (uint64_t)UINT32_MAX + 16);
    assert_int_equal(reel_boxw_finish(&w), 0);
    reel_boxw_free(&w);
}

static void test_box_writer_errors(void **state)
{
    (void)state;
    struct reel_boxw w;
    /* Over the cap: -EMSGSIZE, sticky. */
    reel_boxw_init(&w, 16);
    reel_box_open(&w, "free");
    reel_box_zeros(&w, 8);
    assert_int_equal(reel_boxw_finish(&w), -EINVAL);     /* still open */
    reel_box_zeros(&w, 1);
    assert_int_equal(reel_boxw_finish(&w), -EMSGSIZE);
    reel_box_close(&w);
    assert_int_equal(reel_boxw_finish(&w), -EMSGSIZE);
    assert_int_equal(w.buf.len, 16);
    reel_boxw_free(&w);

    /* Close without open. */
    reel_boxw_init(&w, 64);
    reel_box_close(&w);
    assert_int_equal(reel_boxw_finish(&w), -EINVAL);
    reel_boxw_free(&w);

    /* Nesting deeper than the cap. */
    reel_boxw_init(&w, 4096);
    for (int i = 0; i <= REEL_BOX_DEPTH_MAX; i++)
        reel_box_open(&w, "moov");
    assert_int_equal(reel_boxw_finish(&w), -EINVAL);
    reel_boxw_free(&w);

    /* A bad fourcc. */
    reel_boxw_init(&w, 64);
    reel_box_open(&w, "abc");
    assert_int_equal(reel_boxw_finish(&w), -EINVAL);
    reel_boxw_free(&w);
    reel_boxw_free(NULL);
}

/* ---- the built MP4 ---- */

#define NF1 40
#define NF2 25
#define NF3 10

struct fixture {
    struct tmpdir dir;
    char path1[96], path2[96];
    struct reel_frame_info f1[NF1], f2[NF2], f3[NF3];
    uint8_t e_avc[100], e_avc2[110], e_hevc[120];
    struct reel_mp4_entry entries[3];
    struct reel_mp4_seg segs[3];
    uint64_t seg_bytes[3];
};

static void fill_frames(struct reel_frame_info *f, size_t n, unsigned seed, uint64_t *ret_bytes)
{
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++) {
        f[i].key = i % 10 == 0;
        f[i].size = (uint32_t)(f[i].key ? 300 + (i * 7 + seed) % 50 : 20 + (i * 13 + seed) % 90);
        f[i].duration90k = i % 7 == 3 ? 3001 : 3000;
        t += f[i].size;
    }
    *ret_bytes = t;
}

/* seg0: file1 from 0 (NF1 frames, entry 0), seg1: file2 at offset 17 (NF2,
 * entry 2 = hevc), seg2: file1 after seg0 (NF3, entry 0 again). entry 1 unused. */
static struct fixture *fixture_new(void)
{
    struct fixture *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    tmpdir_make(&x->dir);
    snprintf(x->path1, sizeof(x->path1), "%s/1.sample", x->dir.path);
    snprintf(x->path2, sizeof(x->path2), "%s/2.sample", x->dir.path);
    fill_frames(x->f1, NF1, 1, &x->seg_bytes[0]);
    fill_frames(x->f2, NF2, 2, &x->seg_bytes[1]);
    fill_frames(x->f3, NF3, 3, &x->seg_bytes[2]);
    write_file(x->path1, (size_t)(x->seg_bytes[0] + x->seg_bytes[2]), 1);
    write_file(x->path2, (size_t)(17 + x->seg_bytes[1] + 5), 2);
    make_entry(x->e_avc, sizeof(x->e_avc), "avc1", 320, 180, 0xa1);
    make_entry(x->e_avc2, sizeof(x->e_avc2), "avc1", 640, 360, 0xa2);
    make_entry(x->e_hevc, sizeof(x->e_hevc), "hvc1", 1280, 720, 0xb1);
    x->entries[0] = (struct reel_mp4_entry){ x->e_avc, sizeof(x->e_avc), 320, 180 };
    x->entries[1] = (struct reel_mp4_entry){ x->e_avc2, sizeof(x->e_avc2), 640, 360 };
    x->entries[2] = (struct reel_mp4_entry){ x->e_hevc, sizeof(x->e_hevc), 1280, 720 };
    x->segs[0] = (struct reel_mp4_seg){ x->path1, x->f1, NF1, 0, 0 };
    x->segs[1] = (struct reel_mp4_seg){ x->path2, x->f2, NF2, 17, 2 };
    x->segs[2] = (struct reel_mp4_seg){ x->path1, x->f3, NF3, x->seg_bytes[0], 0 };
    return x;
}

static void fixture_free(struct fixture *x)
{
    tmpdir_remove(&x->dir);
    free(x);
}

static int64_t sum_dur(const struct reel_frame_info *f, size_t n)
{
    int64_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += f[i].duration90k;
    return d;
}

static void test_build_structure(void **state)
{
    (void)state;
    struct fixture *x = fixture_new();
    struct reel_err err = { { 0 } };
    struct reel_mp4 *m = NULL;
    struct reel_mp4_opts opts = { .trim_start90k = 4500, .trim_end90k = 1000,
                                  .creation_unix = 1700000000 };
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &opts, &err), 0);
    int64_t media = sum_dur(x->f1, NF1) + sum_dur(x->f2, NF2) + sum_dur(x->f3, NF3);
    assert_int_equal(reel_mp4_duration90k(m), media - 5500);

    uint64_t size = reel_mp4_size(m);
    uint8_t *file = read_all(m);
    /* Top level: ftyp, moov, mdat; sizes add up to the file. */
    struct box ftyp, moov, mdat;
    assert_true(box_at(file, size, &ftyp));
    assert_string_equal(ftyp.type, "ftyp");
    assert_true(box_at(file + ftyp.size, size - ftyp.size, &moov));
    assert_string_equal(moov.type, "moov");
    assert_true(box_at(file + ftyp.size + moov.size, size - ftyp.size - moov.size, &mdat));
    assert_string_equal(mdat.type, "mdat");
    assert_int_equal(ftyp.size + moov.size + mdat.size, size);
    assert_int_equal(mdat.size - mdat.hdr, x->seg_bytes[0] + x->seg_bytes[1] + x->seg_bytes[2]);
    check_tree(file, size - mdat.size, 0);
    /* Brands: both codecs in use. */
    assert_memory_equal(file + 8, "isom", 4);
    assert_non_null(memmem(file + 16, ftyp.size - 16, "avc1", 4));
    assert_non_null(memmem(file + 16, ftyp.size - 16, "hvc1", 4));
    assert_non_null(memmem(file + 16, ftyp.size - 16, "mp41", 4));

    struct box b;
    /* Durations: mvhd/tkhd/elst = media - trims, mdhd = media (all 90 kHz). */
    assert_true(find_box(file, size, "moov/mvhd", &b));
    assert_int_equal(b.p[8], 0);
    assert_int_equal(reel_rd_be32(b.p + 12), 1700000000 + 2082844800u);
    assert_int_equal(reel_rd_be32(b.p + 20), 90000);
    assert_int_equal(reel_rd_be32(b.p + 24), media - 5500);
    assert_true(find_box(file, size, "moov/trak/tkhd", &b));
    assert_int_equal(reel_rd_be32(b.p + 28), media - 5500);
    assert_int_equal(reel_rd_be32(b.p + b.size - 8), 1280u << 16);
    assert_int_equal(reel_rd_be32(b.p + b.size - 4), 720u << 16);
    assert_true(find_box(file, size, "moov/trak/edts/elst", &b));
    assert_int_equal(reel_rd_be32(b.p + 12), 1);
    assert_int_equal(reel_rd_be32(b.p + 16), media - 5500);
    assert_int_equal(reel_rd_be32(b.p + 20), 4500);
    assert_int_equal(reel_rd_be32(b.p + 24), 0x10000);
    assert_true(find_box(file, size, "moov/trak/mdia/mdhd", &b));
    assert_int_equal(reel_rd_be32(b.p + 20), 90000);
    assert_int_equal(reel_rd_be32(b.p + 24), media);
    assert_true(find_box(file, size, "moov/trak/mdia/hdlr", &b));
    assert_memory_equal(b.p + 16, "vide", 4);
    assert_true(find_box(file, size, "moov/trak/mdia/minf/vmhd", &b));
    assert_true(find_box(file, size, "moov/trak/mdia/minf/dinf/dref", &b));

    /* stsd: the two entries in use, in order of first use, verbatim. */
    const uint8_t *p = stbl_box(file, size, "stsd", &b);
    assert_non_null(p);
    assert_int_equal(reel_rd_be32(p + 4), 2);
    assert_memory_equal(p + 8, x->e_avc, sizeof(x->e_avc));
    assert_memory_equal(p + 8 + sizeof(x->e_avc), x->e_hevc, sizeof(x->e_hevc));
    assert_int_equal(b.size, 16 + sizeof(x->e_avc) + sizeof(x->e_hevc));

    /* stsz: every frame's size. */
    p = stbl_box(file, size, "stsz", &b);
    assert_non_null(p);
    assert_int_equal(reel_rd_be32(p + 4), 0);
    assert_int_equal(reel_rd_be32(p + 8), NF1 + NF2 + NF3);
    const struct reel_frame_info *all[3] = { x->f1, x->f2, x->f3 };
    const uint32_t counts[3] = { NF1, NF2, NF3 };
    size_t k = 0;
    for (size_t s = 0; s < 3; s++)
        for (uint32_t i = 0; i < counts[s]; i++, k++)
            assert_int_equal(reel_rd_be32(p + 12 + 4 * k), all[s][i].size);

    /* stts expands to every frame's duration. */
    p = stbl_box(file, size, "stts", &b);
    assert_non_null(p);
    uint32_t runs = reel_rd_be32(p + 4);
    assert_int_equal(b.size, 16 + 8 * (uint64_t)runs);
    k = 0;
    size_t s = 0, i = 0;
    for (uint32_t r = 0; r < runs; r++) {
        uint32_t c = reel_rd_be32(p + 8 + 8 * r), d = reel_rd_be32(p + 12 + 8 * r);
        assert_true(c > 0);
        for (uint32_t j = 0; j < c; j++) {
            assert_true(s < 3);
            assert_int_equal(d, all[s][i].duration90k);
            if (++i == counts[s]) {
                s++;
                i = 0;
            }
        }
    }
    assert_int_equal(s, 3);

    /* stss: key frame numbers. */
    p = stbl_box(file, size, "stss", &b);
    assert_non_null(p);
    assert_int_equal(reel_rd_be32(p + 4), 4 + 3 + 1);
    assert_int_equal(reel_rd_be32(p + 8), 1);
    assert_int_equal(reel_rd_be32(p + 8 + 4 * 4), NF1 + 1);

    /* stsc: one chunk per segment with its description index. */
    p = stbl_box(file, size, "stsc", &b);
    assert_non_null(p);
    assert_int_equal(reel_rd_be32(p + 4), 3);
    const uint32_t want_stsc[3][3] = { { 1, NF1, 1 }, { 2, NF2, 2 }, { 3, NF3, 1 } };
    for (size_t r = 0; r < 3; r++)
        for (size_t c = 0; c < 3; c++)
            assert_int_equal(reel_rd_be32(p + 8 + 12 * r + 4 * c), want_stsc[r][c]);

    /* stco: each chunk points at its segment's bytes in the sample files. */
    p = stbl_box(file, size, "stco", &b);
    assert_non_null(p);
    assert_int_equal(reel_rd_be32(p + 4), 3);
    assert_int_equal(reel_rd_be32(p + 8), ftyp.size + moov.size + mdat.hdr);
    size_t l1, l2;
    uint8_t *d1 = slurp(x->path1, &l1), *d2 = slurp(x->path2, &l2);
    const uint8_t *src[3] = { d1, d2 + 17, d1 + x->seg_bytes[0] };
    for (size_t c = 0; c < 3; c++) {
        uint32_t off = reel_rd_be32(p + 8 + 4 * c);
        assert_true(off + x->seg_bytes[c] <= size);
        assert_memory_equal(file + off, src[c], x->seg_bytes[c]);
    }
    free(d1);
    free(d2);
    free(file);
    reel_mp4_free(m);
    fixture_free(x);
}

/* One segment, no options: the simplest file; one stsd entry, no trims. */
static void test_build_single(void **state)
{
    (void)state;
    struct fixture *x = fixture_new();
    struct reel_mp4 *m = NULL;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 1, NULL, NULL), 0);
    assert_int_equal(reel_mp4_duration90k(m), sum_dur(x->f1, NF1));
    uint8_t *file = read_all(m);
    uint64_t size = reel_mp4_size(m);
    struct box b;
    const uint8_t *p = stbl_box(file, size, "stsd", &b);
    assert_int_equal(reel_rd_be32(p + 4), 1);
    assert_false(memmem(file + 16, 16, "hvc1", 4));
    assert_true(find_box(file, size, "moov/trak/edts/elst", &b));
    assert_int_equal(reel_rd_be32(b.p + 20), 0);
    free(file);
    reel_mp4_free(m);
    fixture_free(x);
}

static void test_read_patterns(void **state)
{
    (void)state;
    struct fixture *x = fixture_new();
    struct reel_mp4 *m = NULL;
    struct reel_err err;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, NULL, &err), 0);
    uint64_t size = reel_mp4_size(m);
    uint8_t *whole = read_all(m);
    uint8_t *buf = malloc((size_t)size + 16);
    assert_non_null(buf);

    /* Byte by byte over the header and well into the payload. */
    for (uint64_t off = 0; off < size; off++) {
        assert_int_equal(reel_mp4_read(m, off, buf, 1), 1);
        assert_int_equal(buf[0], whole[off]);
    }
    /* Every length from every offset in the first 300 bytes of the payload
     * boundary area would be slow; instead slide windows of several sizes. */
    const size_t lens[] = { 2, 7, 64, 333, 4096 };
    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
        for (uint64_t off = 0; off < size; off += lens[li] / 2 + 1) {
            ssize_t n = reel_mp4_read(m, off, buf, lens[li]);
            size_t want = size - off < lens[li] ? (size_t)(size - off) : lens[li];
            assert_int_equal(n, (ssize_t)want);
            assert_memory_equal(buf, whole + off, want);
        }
    /* Random ranges. */
    unsigned seed = 12345;
    for (int r = 0; r < 2000; r++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t off = (seed >> 8) % size;
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 8) % (size_t)(size - off + 8) + 1;
        ssize_t n = reel_mp4_read(m, off, buf, len);
        size_t want = size - off < len ? (size_t)(size - off) : len;
        assert_int_equal(n, (ssize_t)want);
        assert_memory_equal(buf, whole + off, want);
    }
    /* At and past EOF, zero length. */
    assert_int_equal(reel_mp4_read(m, size, buf, 10), 0);
    assert_int_equal(reel_mp4_read(m, size + 100, buf, 10), 0);
    assert_int_equal(reel_mp4_read(m, 0, buf, 0), 0);
    assert_int_equal(reel_mp4_read(m, size - 1, buf, SIZE_MAX), 1);
    free(buf);
    free(whole);
    reel_mp4_free(m);
    fixture_free(x);
}

static void test_bad_files(void **state)
{
    (void)state;
    struct fixture *x = fixture_new();
    struct reel_mp4 *m = NULL;
    struct reel_err err = { { 0 } };

    /* Missing file: -ENOENT naming the file; *ret untouched. */
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/nope.sample", x->dir.path);
    struct reel_mp4_seg seg = x->segs[0];
    seg.path = missing;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, &seg, 1, NULL, &err), -ENOENT);
    assert_null(m);
    assert_non_null(strstr(err.msg, "nope.sample"));

    /* A file shorter than the index: -EIO at build. */
    seg = x->segs[1];
    assert_int_equal(truncate(x->path2, 17 + (off_t)x->seg_bytes[1] - 1), 0);
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, &seg, 1, NULL, &err), -EIO);
    assert_null(m);
    assert_non_null(strstr(err.msg, "2.sample"));

    /* Shortened after the build: the read fails with -EIO, the header still reads. */
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 1, NULL, &err), 0);
    uint64_t size = reel_mp4_size(m);
    assert_int_equal(truncate(x->path1, 100), 0);
    uint8_t *buf = malloc((size_t)size);
    assert_int_equal(reel_mp4_read(m, 0, buf, (size_t)size), -EIO);
    assert_int_equal(reel_mp4_read(m, 0, buf, 64), 64);
    free(buf);
    reel_mp4_free(m);
    reel_mp4_free(NULL);
    fixture_free(x);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct fixture *x = fixture_new();
    struct reel_mp4 *m = NULL;
    struct reel_err err = { { 0 } };
    struct reel_mp4_seg seg = x->segs[0];
    struct reel_mp4_opts o = { 0 };

    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 0, NULL, &err), -EINVAL);
    assert_int_equal(reel_mp4_build(&m, x->entries, 0, x->segs, 1, NULL, &err), -EINVAL);
    seg.entry = 3;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, &seg, 1, NULL, &err), -EINVAL);
    seg = x->segs[0];
    seg.nframes = 0;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, &seg, 1, NULL, &err), -EINVAL);
    seg = x->segs[0];
    seg.frames = x->f1 + 1;       /* not a key frame */
    seg.nframes = 5;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, &seg, 1, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "key frame"));

    /* Entries: too short, size field disagreeing with len. */
    struct reel_mp4_entry e = x->entries[0];
    e.len = 40;
    assert_int_equal(reel_mp4_build(&m, &e, 1, x->segs, 1, NULL, &err), -EINVAL);
    e = x->entries[0];
    e.len -= 1;
    assert_int_equal(reel_mp4_build(&m, &e, 1, x->segs, 1, NULL, &err), -EINVAL);
    e.box = NULL;
    assert_int_equal(reel_mp4_build(&m, &e, 1, x->segs, 1, NULL, &err), -EINVAL);

    /* Trims: negative, or leaving nothing. */
    int64_t d = sum_dur(x->f1, NF1);
    o.trim_start90k = -1;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 1, &o, &err), -EINVAL);
    o.trim_start90k = d;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 1, &o, &err), -EINVAL);
    o.trim_start90k = d / 2;
    o.trim_end90k = d - d / 2;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 1, &o, &err), -EINVAL);
    o.trim_end90k = d - d / 2 - 1;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 1, &o, &err), 0);
    assert_int_equal(reel_mp4_duration90k(m), 1);
    reel_mp4_free(m);
    m = NULL;

    /* Bad frames: negative duration, empty frame. */
    struct reel_frame_info f[2] = { { 10, 3000, true }, { 10, -1, false } };
    seg = (struct reel_mp4_seg){ x->path1, f, 2, 0, 0 };
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, &seg, 1, NULL, &err), -EINVAL);
    f[1].duration90k = 3000;
    f[1].size = 0;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, &seg, 1, NULL, &err), -EINVAL);
    /* Offsets that would pass 2^63. */
    f[1].size = 10;
    seg.file_offset = UINT64_MAX - 5;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, &seg, 1, NULL, &err), -EFBIG);
    assert_null(m);
    fixture_free(x);
}

/* Payload over 4 GiB (sparse files): co64, a 64-bit mdat, version 1 where needed. */
static void test_large_offsets(void **state)
{
    (void)state;
    struct tmpdir d;
    tmpdir_make(&d);
    char path[96];
    snprintf(path, sizeof(path), "%s/big.sample", d.path);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    /* The second frame starts past 2^32 and the payload passes 2^32. */
    const uint64_t big = UINT64_C(4290000000), small = 10000000;
    if (ftruncate(fd, (off_t)(big + 2 * small)) < 0) {
        close(fd);
        tmpdir_remove(&d);
        skip();
    }
    /* Marks at the start of each frame, to find them through the MP4. */
    assert_int_equal(pwrite(fd, "FRAME-A", 7, 0), 7);
    assert_int_equal(pwrite(fd, "FRAME-B", 7, (off_t)(big + small)), 7);
    assert_int_equal(pwrite(fd, "TAIL", 4, (off_t)(big + small - 4)), 4);
    close(fd);
    struct reel_frame_info fa[2] = { { (uint32_t)big, 3000, true }, { (uint32_t)small, 3000, false } };
    struct reel_frame_info fb = { (uint32_t)small, 3000, true };
    uint8_t eb[90];
    make_entry(eb, sizeof(eb), "avc1", 320, 180, 1);
    struct reel_mp4_entry e = { eb, sizeof(eb), 320, 180 };
    struct reel_mp4_seg segs[2] = { { path, fa, 2, 0, 0 }, { path, &fb, 1, big + small, 0 } };
    struct reel_mp4 *m = NULL;
    struct reel_err err;
    assert_int_equal(reel_mp4_build(&m, &e, 1, segs, 2, NULL, &err), 0);
    uint8_t head[4096];
    ssize_t n = reel_mp4_read(m, 0, head, sizeof(head));
    assert_int_equal(n, (ssize_t)sizeof(head));
    struct box ftyp, moov, mdat, b;
    assert_true(box_at(head, sizeof(head), &ftyp));
    assert_true(box_at(head + ftyp.size, sizeof(head) - ftyp.size, &moov));
    assert_true(box_at(head + ftyp.size + moov.size, 16, &mdat));
    assert_string_equal(mdat.type, "mdat");
    assert_int_equal(mdat.hdr, 16);
    assert_int_equal(mdat.size, big + 2 * small + 16);
    assert_int_equal(ftyp.size + moov.size + mdat.size, reel_mp4_size(m));
    const uint8_t *p = stbl_box(head, ftyp.size + moov.size, "co64", &b);
    assert_non_null(p);
    assert_int_equal(reel_rd_be32(p + 4), 2);
    uint64_t o1 = rd64(p + 8), o2 = rd64(p + 16);
    assert_int_equal(o1, ftyp.size + moov.size + 16);
    assert_int_equal(o2, o1 + big + small);
    assert_true(o2 > UINT32_MAX);
    char mark[8] = { 0 };
    assert_int_equal(reel_mp4_read(m, o1, mark, 7), 7);
    assert_string_equal(mark, "FRAME-A");
    assert_int_equal(reel_mp4_read(m, o2, mark, 7), 7);
    assert_string_equal(mark, "FRAME-B");
    /* A read across the two parts. */
    uint8_t across[8];
    assert_int_equal(reel_mp4_read(m, o2 - 4, across, 8), 8);
    assert_memory_equal(across, "TAILFRAM", 8);
    reel_mp4_free(m);
    tmpdir_remove(&d);
}

/* 24 hours at 30 fps in 60 s recordings: 2.6 M frames, 1440 segments (more
 * than the descriptors kept open), built fast with a compact stts. */
static void test_day_scale(void **state)
{
    (void)state;
    struct tmpdir d;
    tmpdir_make(&d);
    char path[96];
    snprintf(path, sizeof(path), "%s/day.sample", d.path);
    const uint32_t per_seg = 1800, nsegs = 1440;
    const uint32_t fsize = 50;
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)per_seg * fsize * nsegs), 0);
    uint32_t v = 0xdeadbeef;
    /* A mark at the last segment's first frame (opened per read). */
    assert_int_equal(pwrite(fd, &v, 4, (off_t)per_seg * fsize * (nsegs - 1)), 4);
    close(fd);
    struct reel_frame_info *f = calloc(per_seg, sizeof(*f));
    struct reel_mp4_seg *segs = calloc(nsegs, sizeof(*segs));
    assert_non_null(f);
    assert_non_null(segs);
    for (uint32_t i = 0; i < per_seg; i++)
        f[i] = (struct reel_frame_info){ fsize, 3000, i % 30 == 0 };
    for (uint32_t s = 0; s < nsegs; s++)
        segs[s] = (struct reel_mp4_seg){ path, f, per_seg, (uint64_t)s * per_seg * fsize, 0 };
    uint8_t eb[90];
    make_entry(eb, sizeof(eb), "avc1", 1920, 1080, 1);
    struct reel_mp4_entry e = { eb, sizeof(eb), 1920, 1080 };
    struct reel_mp4 *m = NULL;
    struct reel_err err;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(reel_mp4_build(&m, &e, 1, segs, nsegs, NULL, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("24 h moov (%u frames) built in %.3f s\n", per_seg * nsegs, secs);
    /* well under 1 s without sanitizers; not timed under valgrind (REEL_SLOW_TESTS) */
    assert_true(secs < 3.0 || getenv("REEL_SLOW_TESTS") != NULL);
    assert_int_equal(reel_mp4_duration90k(m), (int64_t)per_seg * nsegs * 3000);

    uint8_t hdr[64];
    assert_int_equal(reel_mp4_read(m, 0, hdr, sizeof(hdr)), sizeof(hdr));
    struct box ftyp, moov;
    assert_true(box_at(hdr, sizeof(hdr), &ftyp));
    uint64_t size = reel_mp4_size(m);
    uint8_t *head = malloc(ftyp.size + 16);
    assert_int_equal(reel_mp4_read(m, ftyp.size, head, 16), 16);
    assert_true(box_at(head, 16, &moov));
    free(head);
    uint64_t hl = ftyp.size + moov.size + 8;
    assert_int_equal(size, hl + (uint64_t)per_seg * fsize * nsegs);
    /* stsz (4 bytes a frame) and stss (4 a key frame) dominate; stts is a
     * single run and the rest is small. */
    assert_true(moov.size < (uint64_t)per_seg * nsegs * 4 + (uint64_t)nsegs * 60 * 4 + 64 * 1024);
    /* mvhd version 1: 7.8e9 ticks does not fit in 32 bits. */
    uint8_t mv[40];
    assert_int_equal(reel_mp4_read(m, ftyp.size + 8, mv, sizeof(mv)), sizeof(mv));
    assert_memory_equal(mv + 4, "mvhd", 4);
    assert_int_equal(mv[8], 1);
    assert_int_equal(rd64(mv + 32), (uint64_t)per_seg * nsegs * 3000);
    uint32_t got = 0;
    assert_int_equal(reel_mp4_read(m, size - (uint64_t)per_seg * fsize, &got, 4), 4);
    assert_int_equal(got, v);
    reel_mp4_free(m);
    free(f);
    free(segs);
    tmpdir_remove(&d);
}

/* ---- the audio track ---- */

/* The n-th trak (0-based) of moov. */
static bool nth_trak(const uint8_t *file, uint64_t len, int n, struct box *ret)
{
    struct box moov;
    if (!find_box(file, len, "moov", &moov))
        return false;
    uint64_t at = moov.hdr;
    while (at < moov.size) {
        struct box b;
        if (!box_at(moov.p + at, moov.size - at, &b) || b.size > moov.size - at)
            return false;
        if (strcmp(b.type, "trak") == 0 && n-- == 0) {
            *ret = b;
            return true;
        }
        at += b.size;
    }
    return false;
}

static const uint8_t *in_trak(const struct box *t, const char *path, struct box *ret)
{
    if (!find_box(t->p + t->hdr, t->size - t->hdr, path, ret))
        return NULL;
    return ret->p + ret->hdr;
}

/* Checks every chunk of a trak against the source bytes: chunk c of the
 * track holds segs[c]'s bytes from its file. Returns the bytes checked. */
static uint64_t check_chunks(const uint8_t *file, uint64_t len, const struct box *trak,
                             const struct reel_mp4_seg *segs, size_t nsegs)
{
    struct box b;
    const uint8_t *stco = in_trak(trak, "mdia/minf/stbl/stco", &b);
    bool co64 = false;
    if (!stco) {
        stco = in_trak(trak, "mdia/minf/stbl/co64", &b);
        co64 = true;
    }
    assert_non_null(stco);
    assert_int_equal(reel_rd_be32(stco + 4), nsegs);
    uint64_t total = 0;
    for (size_t c = 0; c < nsegs; c++) {
        uint64_t off = co64 ? rd64(stco + 8 + 8 * c) : reel_rd_be32(stco + 8 + 4 * c);
        uint64_t n = 0;
        for (uint32_t i = 0; i < segs[c].nframes; i++)
            n += segs[c].frames[i].size;
        assert_true(off + n <= len);
        size_t flen;
        uint8_t *src = slurp(segs[c].path, &flen);
        assert_true(segs[c].file_offset + n <= flen);
        assert_memory_equal(file + off, src + segs[c].file_offset, (size_t)n);
        free(src);
        total += n;
    }
    return total;
}

static void test_audio_track(void **state)
{
    (void)state;
    struct fixture *x = fixture_new();
    /* Audio: 100 µ-law packets of 160 bytes, 20 ms each, in two 1 s
     * segments of one file (the second at an offset). */
    char apath[96];
    snprintf(apath, sizeof(apath), "%s/a.sample", x->dir.path);
    write_file(apath, 100 * 160 + 33, 9);
    struct reel_frame_info af[100];
    for (int i = 0; i < 100; i++)
        af[i] = (struct reel_frame_info){ 160, 1800, true };
    uint8_t ulaw[36] = { 0 };
    reel_wr_be32(ulaw, sizeof(ulaw));
    memcpy(ulaw + 4, "ulaw", 4);
    reel_wr_be16(ulaw + 14, 1);
    reel_wr_be16(ulaw + 24, 1);             /* channels */
    reel_wr_be16(ulaw + 26, 16);
    reel_wr_be32(ulaw + 32, 8000u << 16);
    struct reel_mp4_entry aent = { ulaw, sizeof(ulaw), 1, 0 };
    struct reel_mp4_seg asegs[2] = { { apath, af, 50, 0, 0 }, { apath, af + 50, 50, 50 * 160 + 33, 0 } };
    struct reel_mp4_audio audio = { .entries = &aent, .nentries = 1, .segs = asegs, .nsegs = 2,
                                    .delay90k = 9000 };
    struct reel_mp4_opts o = { .creation_unix = 1700000000, .audio = &audio };
    struct reel_err err = { { 0 } };
    struct reel_mp4 *m = NULL, *v = NULL;
    if (reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err) != 0)
        fail_msg("build: %s", err.msg);
    struct reel_mp4_opts ov = { .creation_unix = 1700000000 };
    assert_int_equal(reel_mp4_build(&v, x->entries, 3, x->segs, 3, &ov, &err), 0);
    int64_t vdur = sum_dur(x->f1, NF1) + sum_dur(x->f2, NF2) + sum_dur(x->f3, NF3);
    assert_int_equal(reel_mp4_duration90k(m), vdur);
    assert_int_equal(reel_mp4_audio_duration90k(m), 9000 + 180000);
    assert_int_equal(reel_mp4_audio_duration90k(v), 0);
    uint64_t len = reel_mp4_size(m), vlen = reel_mp4_size(v);
    uint8_t *file = read_all(m), *vfile = read_all(v);
    check_tree(file, len, 0);
    struct box b, vt, at;
    assert_true(find_box(file, len, "moov/mvhd", &b));
    assert_int_equal(reel_rd_be32(b.p + b.hdr + 96), 3);    /* next_track_ID (v0 mvhd) */
    assert_true(nth_trak(file, len, 0, &vt));
    assert_true(nth_trak(file, len, 1, &at));
    assert_false(nth_trak(file, len, 2, &b));
    /* The video's tables are those of the video-only file. */
    const char *same[] = { "mdia/minf/stbl/stsd", "mdia/minf/stbl/stts", "mdia/minf/stbl/stss",
                           "mdia/minf/stbl/stsc", "mdia/minf/stbl/stsz", "edts/elst", "tkhd" };
    struct box vv;
    assert_true(nth_trak(vfile, vlen, 0, &vv));
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        struct box b1, b2;
        assert_non_null(in_trak(&vt, same[i], &b1));
        assert_non_null(in_trak(&vv, same[i], &b2));
        assert_int_equal(b1.size, b2.size);
        assert_memory_equal(b1.p, b2.p, (size_t)b1.size);
    }
    /* The audio trak. */
    const uint8_t *p = in_trak(&at, "mdia/hdlr", &b);
    assert_memory_equal(p + 8, "soun", 4);
    p = in_trak(&at, "mdia/mdhd", &b);
    assert_int_equal(reel_rd_be32(p + 12), 8000);
    assert_int_equal(reel_rd_be32(p + 16), 100 * 160);      /* media duration */
    assert_non_null(in_trak(&at, "mdia/minf/smhd", &b));
    p = in_trak(&at, "mdia/minf/stbl/stsd", &b);
    assert_int_equal(reel_rd_be32(p + 4), 1);
    assert_memory_equal(p + 8, ulaw, sizeof(ulaw));
    p = in_trak(&at, "mdia/minf/stbl/stts", &b);
    assert_int_equal(reel_rd_be32(p + 4), 1);
    assert_int_equal(reel_rd_be32(p + 8), 100);
    assert_int_equal(reel_rd_be32(p + 12), 160);
    p = in_trak(&at, "mdia/minf/stbl/stsz", &b);
    assert_int_equal(reel_rd_be32(p + 4), 160);             /* one size for all */
    assert_int_equal(reel_rd_be32(p + 8), 100);
    assert_int_equal(b.size, 20);
    assert_null(in_trak(&at, "mdia/minf/stbl/stss", &b));
    p = in_trak(&at, "edts/elst", &b);
    assert_int_equal(reel_rd_be32(p + 4), 2);
    assert_int_equal(reel_rd_be32(p + 8), 9000);
    assert_int_equal(reel_rd_be32(p + 12), UINT32_MAX);
    assert_int_equal(reel_rd_be32(p + 20), 180000);
    assert_int_equal(reel_rd_be32(p + 24), 0);
    /* Chunks of both tracks hold the right bytes and fill mdat exactly. */
    uint64_t covered = check_chunks(file, len, &vt, x->segs, 3) + check_chunks(file, len, &at, asegs, 2);
    assert_true(find_box(file, len, "mdat", &b));
    assert_int_equal(covered, b.size - b.hdr);
    /* Interleaved by time: V0 (0 s), A0 (0.1 s), A1 (1.1 s), V1 (1.33 s), V2. */
    struct box s1, s2;
    const uint8_t *vco = in_trak(&vt, "mdia/minf/stbl/stco", &s1), *aco = in_trak(&at, "mdia/minf/stbl/stco", &s2);
    assert_int_equal(reel_rd_be32(aco + 8), reel_rd_be32(vco + 8) + x->seg_bytes[0]);
    assert_int_equal(reel_rd_be32(aco + 12), reel_rd_be32(aco + 8) + 50 * 160);
    assert_int_equal(reel_rd_be32(vco + 12), reel_rd_be32(aco + 12) + 50 * 160);
    /* Reads at every offset around the part boundaries agree with the whole. */
    uint8_t buf[700];
    for (uint64_t off = b.p - file; off < len; off += 499) {
        size_t n = (size_t)(len - off < sizeof(buf) ? len - off : sizeof(buf));
        assert_int_equal(reel_mp4_read(m, off, buf, n), (ssize_t)n);
        assert_memory_equal(buf, file + off, n);
    }
    free(file);
    free(vfile);
    reel_mp4_free(m);
    reel_mp4_free(v);

    /* An edit list: 0.5 s of audio from 0.2 s, 0.3 s of silence, then from
     * 1.5 s on (cut where the audio ends). */
    struct reel_mp4_edit edits[3] = { { 45000, 18000 }, { 27000, -1 }, { 900000, 135000 } };
    audio.edits = edits;
    audio.nedits = 3;
    audio.delay90k = 0;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err), 0);
    assert_int_equal(reel_mp4_audio_duration90k(m), 45000 + 27000 + 45000);
    len = reel_mp4_size(m);
    file = read_all(m);
    assert_true(nth_trak(file, len, 1, &at));
    p = in_trak(&at, "edts/elst", &b);
    assert_int_equal(reel_rd_be32(p + 4), 3);
    assert_int_equal(reel_rd_be32(p + 8), 45000);
    assert_int_equal(reel_rd_be32(p + 12), 1600);           /* 0.2 s at 8 kHz */
    assert_int_equal(reel_rd_be32(p + 20), 27000);
    assert_int_equal(reel_rd_be32(p + 24), UINT32_MAX);
    assert_int_equal(reel_rd_be32(p + 32), 45000);
    assert_int_equal(reel_rd_be32(p + 36), 12000);
    free(file);
    reel_mp4_free(m);

    /* Bad audio input. */
    audio.nedits = 0;
    audio.delay90k = 900;
    audio.trim_start90k = 900;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err), -EINVAL);
    audio.delay90k = vdur;                                  /* starts when the video ends */
    audio.trim_start90k = 0;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err), -EINVAL);
    audio.delay90k = 0;
    struct reel_mp4_edit silent = { 9000, -1 }, zero = { 0, 0 };
    audio.edits = &silent;
    audio.nedits = 1;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err), -EINVAL);
    audio.edits = &zero;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err), -EINVAL);
    audio.nedits = 0;
    aent.len = 20;                                          /* not an audio sample entry */
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err), -EINVAL);
    aent.len = sizeof(ulaw);
    audio.nsegs = 0;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err), -EINVAL);
    audio.nsegs = 2;
    af[3].size = 0;
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err), -EINVAL);
    af[3].size = 160;
    af[53].size = 161;                                      /* one byte past the file's end */
    assert_int_equal(reel_mp4_build(&m, x->entries, 3, x->segs, 3, &o, &err), -EIO);
    fixture_free(x);
}

/* Audio after 4 GiB of video: offsets patched once the header is known,
 * 64-bit for the track whose last chunk may pass 2^32, pointing at the
 * right bytes. */
static void test_audio_large_offsets(void **state)
{
    (void)state;
    struct tmpdir d;
    tmpdir_make(&d);
    char path[96], apath[96];
    snprintf(path, sizeof(path), "%s/big.sample", d.path);
    snprintf(apath, sizeof(apath), "%s/a.sample", d.path);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    const uint64_t big = UINT64_C(4300000000);
    if (ftruncate(fd, (off_t)big) < 0) {
        close(fd);
        tmpdir_remove(&d);
        skip();
    }
    assert_int_equal(pwrite(fd, "VIDEO-A", 7, 0), 7);
    assert_int_equal(pwrite(fd, "VIDEO-B", 7, (off_t)(big / 2)), 7);
    close(fd);
    FILE *f = fopen(apath, "wb");
    assert_non_null(f);
    for (int i = 0; i < 100; i++)
        fprintf(f, "AUDIO%03d", i);         /* 8 bytes a packet */
    assert_int_equal(fclose(f), 0);
    /* Two 2 s video frames of 2.15 GB; 100 audio packets of 40 ms in two
     * segments: the second audio segment lands after the second video one. */
    struct reel_frame_info fv[2] = { { (uint32_t)(big / 2), 180000, true }, { (uint32_t)(big / 2), 180000, true } };
    struct reel_frame_info fa[100];
    for (int i = 0; i < 100; i++)
        fa[i] = (struct reel_frame_info){ 8, 3600, true };
    uint8_t eb[90];
    make_entry(eb, sizeof(eb), "avc1", 320, 180, 1);
    struct reel_mp4_entry e = { eb, sizeof(eb), 320, 180 };
    uint8_t ab[36] = { 0 };
    reel_wr_be32(ab, sizeof(ab));
    memcpy(ab + 4, "alaw", 4);
    reel_wr_be16(ab + 14, 1);
    reel_wr_be32(ab + 32, 8000u << 16);
    struct reel_mp4_entry ae = { ab, sizeof(ab), 1, 0 };
    struct reel_mp4_seg segs[2] = { { path, fv, 1, 0, 0 }, { path, fv + 1, 1, big / 2, 0 } };
    struct reel_mp4_seg asegs[2] = { { apath, fa, 50, 0, 0 }, { apath, fa + 50, 50, 400, 0 } };
    struct reel_mp4_audio audio = { .entries = &ae, .nentries = 1, .segs = asegs, .nsegs = 2 };
    struct reel_mp4_opts o = { .audio = &audio };
    struct reel_mp4 *m = NULL;
    struct reel_err err;
    if (reel_mp4_build(&m, &e, 1, segs, 2, &o, &err) != 0)
        fail_msg("build: %s", err.msg);
    uint8_t head[8192];
    assert_int_equal(reel_mp4_read(m, 0, head, sizeof(head)), (ssize_t)sizeof(head));
    struct box ftyp, moov, vt, at, b;
    assert_true(box_at(head, sizeof(head), &ftyp));
    assert_true(box_at(head + ftyp.size, sizeof(head) - ftyp.size, &moov));
    uint64_t hl = ftyp.size + moov.size + 16;
    assert_int_equal(hl + big + 800, reel_mp4_size(m));
    assert_true(nth_trak(head, ftyp.size + moov.size, 0, &vt));
    assert_true(nth_trak(head, ftyp.size + moov.size, 1, &at));
    /* The video's last chunk starts below 2^32 (stco); the audio's past it
     * (co64). */
    const uint8_t *vco = in_trak(&vt, "mdia/minf/stbl/stco", &b);
    const uint8_t *aco = in_trak(&at, "mdia/minf/stbl/co64", &b);
    assert_non_null(vco);
    assert_non_null(aco);
    /* mdat: V0 (0 s), A0 (0 s), V1 (2 s), A1 (2 s). */
    assert_int_equal(reel_rd_be32(vco + 8), hl);
    assert_int_equal(rd64(aco + 8), hl + big / 2);
    assert_int_equal(reel_rd_be32(vco + 12), hl + big / 2 + 400);
    assert_int_equal(rd64(aco + 16), hl + big + 400);
    assert_true(rd64(aco + 16) > UINT32_MAX);
    char mark[9] = { 0 };
    assert_int_equal(reel_mp4_read(m, reel_rd_be32(vco + 8), mark, 7), 7);
    assert_string_equal(mark, "VIDEO-A");
    assert_int_equal(reel_mp4_read(m, reel_rd_be32(vco + 12), mark, 7), 7);
    assert_string_equal(mark, "VIDEO-B");
    assert_int_equal(reel_mp4_read(m, rd64(aco + 8), mark, 8), 8);
    assert_string_equal(mark, "AUDIO000");
    assert_int_equal(reel_mp4_read(m, rd64(aco + 16), mark, 8), 8);
    assert_string_equal(mark, "AUDIO050");
    /* The last bytes of the file are the last packet. */
    assert_int_equal(reel_mp4_read(m, reel_mp4_size(m) - 8, mark, 8), 8);
    assert_string_equal(mark, "AUDIO099");
    reel_mp4_free(m);
    tmpdir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_box_writer),
        cmocka_unit_test(test_box_writer_errors),
        cmocka_unit_test(test_build_structure),
        cmocka_unit_test(test_build_single),
        cmocka_unit_test(test_read_patterns),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_large_offsets),
        cmocka_unit_test(test_day_scale),
        cmocka_unit_test(test_audio_track),
        cmocka_unit_test(test_audio_large_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

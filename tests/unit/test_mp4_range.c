/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unit tests for src/mp4/range.c, the time range -> MP4 walker, against a
 * stub store defined here (struct reel_store is opaque to the mp4 module, so
 * the test supplies its own, with reel_store_recordings, the sample entry
 * lookup and an index "codec" that is a raw array of reel_frame_info). Each
 * frame's bytes in the sample file start with its recording and frame number,
 * so the test can see exactly which frames the MP4 holds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "mp4/mp4.h"
#include "mp4/range.h"
#include "store/index.h"
#include "store/store.h"

#define T0 (INT64_C(1700000000) * 90000)
#define MAX_RECS 4

/* ---- the stub store ---- */

struct reel_store {
    struct reel_recording recs[MAX_RECS];
    struct reel_frame_info *frames[MAX_RECS];
    size_t nrecs;
    int fail;               /* reel_store_recordings returns this if < 0 */
    int64_t last_from, last_to;
    uint8_t entry_avc[90], entry_hevc[95];
};

int reel_store_recordings(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                          struct reel_recording **ret, size_t *ret_n, struct reel_err *err)
{
    if (s->fail < 0)
        return reel_err_set(err, -s->fail, "stub store: failing on purpose");
    s->last_from = from90k;
    s->last_to = to90k;
    struct reel_recording *r = calloc(MAX_RECS, sizeof(*r));
    assert_non_null(r);
    size_t n = 0;
    for (size_t i = 0; i < s->nrecs; i++) {
        const struct reel_recording *x = &s->recs[i];
        if (x->camera_id != camera_id || x->start90k >= to90k ||
            x->start90k + x->wall_duration90k <= from90k)
            continue;
        r[n] = *x;
        r[n].index = malloc(x->index_len ? x->index_len : 1);
        assert_non_null(r[n].index);
        memcpy(r[n].index, x->index, x->index_len);
        n++;
    }
    *ret = r;
    *ret_n = n;
    return 0;
}

void reel_recordings_free(struct reel_recording *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        free(r[i].index);
    free(r);
}

int reel_store_sample_entry_get(struct reel_store *s, int64_t id, struct reel_sample_entry *ret,
                                struct reel_err *err)
{
    const uint8_t *box = id == 1 ? s->entry_avc : id == 2 ? s->entry_hevc : NULL;
    size_t len = id == 1 ? sizeof(s->entry_avc) : sizeof(s->entry_hevc);
    if (!box)
        return reel_err_set(err, ENOENT, "stub store: no sample entry %lld", (long long)id);
    memset(ret, 0, sizeof(*ret));
    ret->id = id;
    ret->width = id == 1 ? 320 : 640;
    ret->height = id == 1 ? 180 : 360;
    ret->data = malloc(len);
    assert_non_null(ret->data);
    memcpy(ret->data, box, len);
    ret->len = len;
    return 0;
}

/* The stub store has no "~audio" rows: reel_mp4_for_range_opts with audio
 * asks, finds none, and builds the video-only file. */
int reel_store_camera_list(struct reel_store *s, struct reel_camera **ret, size_t *ret_n,
                           struct reel_err *err)
{
    (void)s;
    (void)err;
    *ret = NULL;
    *ret_n = 0;
    return 0;
}

int reel_index_decode(const uint8_t *blob, size_t len, uint32_t n, struct reel_frame_info *out,
                      struct reel_err *err)
{
    if (len != n * sizeof(*out))
        return reel_err_set(err, EBADMSG, "stub index: %zu bytes for %u frames", len, n);
    memcpy(out, blob, len);
    return 0;
}

/* ---- fixtures ---- */

struct env {
    char dir[64];
    struct reel_store st;
};

static void make_entry(uint8_t *box, size_t len, const char *type)
{
    memset(box, 0, len);
    reel_wr_be32(box, (uint32_t)len);
    memcpy(box + 4, type, 4);
    reel_wr_be16(box + 14, 1);
}

/* Adds recording number idx: n frames of dur ticks (media), key every
 * `gop`, wall duration = media * wall_num / wall_den. */
static void add_rec(struct env *e, int64_t start, uint32_t n, int32_t dur, uint32_t gop,
                    int64_t wall_num, int64_t wall_den, int64_t entry)
{
    size_t idx = e->st.nrecs++;
    assert_true(idx < MAX_RECS);
    struct reel_frame_info *f = calloc(n, sizeof(*f));
    assert_non_null(f);
    struct reel_recording *r = &e->st.recs[idx];
    memset(r, 0, sizeof(*r));
    r->id = (int64_t)idx + 100;
    r->camera_id = 7;
    r->start90k = start;
    r->sample_entry_id = entry;
    r->frames = n;
    char path[96];
    snprintf(path, sizeof(path), "%s/%zu.sample", e->dir, idx);
    memcpy(r->path, path, sizeof(path));
    FILE *fp = fopen(r->path, "wb");
    assert_non_null(fp);
    int64_t media = 0;
    for (uint32_t i = 0; i < n; i++) {
        f[i] = (struct reel_frame_info){ .size = 16 + (i % 5), .duration90k = dur, .key = i % gop == 0 };
        media += dur;
        uint8_t b[32] = { 0 };
        reel_wr_be32(b, (uint32_t)idx);
        reel_wr_be32(b + 4, i);
        assert_int_equal(fwrite(b, 1, f[i].size, fp), f[i].size);
        r->bytes += f[i].size;
    }
    assert_int_equal(fclose(fp), 0);
    r->media_duration90k = media;
    r->wall_duration90k = media * wall_num / wall_den;
    r->index = (uint8_t *)f;
    r->index_len = n * sizeof(*f);
    e->st.frames[idx] = f;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/reel-mp4r-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    make_entry(e->st.entry_avc, sizeof(e->st.entry_avc), "avc1");
    make_entry(e->st.entry_hevc, sizeof(e->st.entry_hevc), "hvc1");
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    for (size_t i = 0; i < e->st.nrecs; i++)
        free(e->st.frames[i]);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
    return 0;
}

/* ---- reading the result back ---- */

struct parsed {
    uint8_t *file;
    uint64_t size;
    uint32_t nsamples, nchunks, nstsd;
    int64_t media_time, edit_dur;
};

static const uint8_t *find(const uint8_t *p, size_t len, const char *path, uint32_t *ret_size)
{
    size_t seg = strcspn(path, "/");
    size_t at = 0;
    while (at + 8 <= len) {
        uint32_t sz = reel_rd_be32(p + at);
        if (sz < 8 || sz > len - at)
            return NULL;
        if (seg == 4 && memcmp(p + at + 4, path, 4) == 0) {
            if (!path[seg]) {
                *ret_size = sz;
                return p + at;
            }
            return find(p + at + 8, sz - 8, path + seg + 1, ret_size);
        }
        at += sz;
    }
    return NULL;
}

static void parse(const struct reel_mp4 *m, struct parsed *ret)
{
    ret->size = reel_mp4_size(m);
    ret->file = malloc((size_t)ret->size);
    assert_non_null(ret->file);
    assert_int_equal(reel_mp4_read(m, 0, ret->file, (size_t)ret->size), (ssize_t)ret->size);
    uint32_t sz;
    const uint8_t *b = find(ret->file, (size_t)ret->size, "moov/trak/mdia/minf/stbl/stsz", &sz);
    assert_non_null(b);
    ret->nsamples = reel_rd_be32(b + 16);
    b = find(ret->file, (size_t)ret->size, "moov/trak/mdia/minf/stbl/stco", &sz);
    assert_non_null(b);
    ret->nchunks = reel_rd_be32(b + 12);
    b = find(ret->file, (size_t)ret->size, "moov/trak/mdia/minf/stbl/stsd", &sz);
    assert_non_null(b);
    ret->nstsd = reel_rd_be32(b + 12);
    b = find(ret->file, (size_t)ret->size, "moov/trak/edts/elst", &sz);
    assert_non_null(b);
    assert_int_equal(b[8], 0);
    ret->edit_dur = reel_rd_be32(b + 16);
    ret->media_time = reel_rd_be32(b + 20);
}

/* Recording and frame number of the first sample of chunk c. */
static void chunk_first(const struct parsed *p, uint32_t c, uint32_t *ret_rec, uint32_t *ret_frame)
{
    uint32_t sz;
    const uint8_t *b = find(p->file, (size_t)p->size, "moov/trak/mdia/minf/stbl/stco", &sz);
    uint32_t off = reel_rd_be32(b + 16 + 4 * c);
    assert_true(off + 8 <= p->size);
    *ret_rec = reel_rd_be32(p->file + off);
    *ret_frame = reel_rd_be32(p->file + off + 4);
}

/* ---- tests ---- */

/* Inside one recording: starts at the key frame before `from`, ends with the
 * frame covering `to`, trims make the duration exactly to - from. */
static void test_within_recording(void **state)
{
    struct env *e = *state;
    add_rec(e, T0, 60, 3000, 15, 1, 1, 1);
    int64_t from = T0 + 20 * 3000 + 1000, to = T0 + 50 * 3000 + 500;
    struct reel_mp4 *m = NULL;
    struct reel_err err = { { 0 } };
    assert_int_equal(reel_mp4_for_range(&e->st, 7, from, to, &m, &err), 0);
    assert_int_equal(e->st.last_from, from);
    assert_int_equal(e->st.last_to, to);
    assert_int_equal(reel_mp4_duration90k(m), to - from);
    struct parsed p;
    parse(m, &p);
    assert_int_equal(p.nsamples, 36);           /* frames 15..50 */
    assert_int_equal(p.nchunks, 1);
    assert_int_equal(p.nstsd, 1);
    assert_int_equal(p.media_time, 5 * 3000 + 1000);
    assert_int_equal(p.edit_dur, to - from);
    uint32_t rec, frame;
    chunk_first(&p, 0, &rec, &frame);
    assert_int_equal(rec, 0);
    assert_int_equal(frame, 15);
    /* The last sample is frame 50. */
    uint32_t sz;
    const uint8_t *b = find(p.file, (size_t)p.size, "moov/trak/mdia/minf/stbl/stco", &sz);
    uint64_t off = reel_rd_be32(b + 16);
    for (uint32_t i = 15; i < 50; i++)
        off += e->st.frames[0][i].size;
    assert_int_equal(reel_rd_be32(p.file + off + 4), 50);
    assert_int_equal(off + e->st.frames[0][50].size, p.size);
    reel_mp4_free(m);

    /* With audio asked for but no "~audio" row: the same bytes. */
    struct reel_mp4_range_opts ao = { .audio = true };
    assert_int_equal(reel_mp4_for_range_opts(&e->st, 7, from, to, &ao, &m, &err), 0);
    assert_int_equal(reel_mp4_size(m), p.size);
    uint8_t *again = malloc((size_t)p.size);
    assert_non_null(again);
    assert_int_equal(reel_mp4_read(m, 0, again, (size_t)p.size), (ssize_t)p.size);
    assert_memory_equal(again, p.file, (size_t)p.size);
    assert_int_equal(reel_mp4_audio_duration90k(m), 0);
    free(again);
    free(p.file);
    reel_mp4_free(m);

    /* `from` exactly on a key frame and `to` exactly on a frame boundary: no trims. */
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0 + 30 * 3000, T0 + 45 * 3000, &m, &err), 0);
    parse(m, &p);
    assert_int_equal(p.nsamples, 15);
    assert_int_equal(p.media_time, 0);
    assert_int_equal(p.edit_dur, 15 * 3000);
    free(p.file);
    reel_mp4_free(m);

    /* A range inside one frame still yields a playable tick or more. */
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0 + 3000 * 16 + 5, T0 + 3000 * 16 + 6, &m, &err), 0);
    assert_int_equal(reel_mp4_duration90k(m), 1);
    reel_mp4_free(m);
}

/* A range across a gap concatenates the recordings on either side, one
 * chunk each, with their own sample entries. */
static void test_across_gap(void **state)
{
    struct env *e = *state;
    add_rec(e, T0, 60, 3000, 15, 1, 1, 1);                 /* [T0, T0+2 s) */
    add_rec(e, T0 + 5 * 90000, 60, 3000, 15, 1, 1, 2);     /* [T0+5 s, T0+7 s) */
    struct reel_mp4 *m = NULL;
    struct reel_err err;
    int64_t from = T0 + 90000 + 100, to = T0 + 6 * 90000 + 200;
    assert_int_equal(reel_mp4_for_range(&e->st, 7, from, to, &m, &err), 0);
    struct parsed p;
    parse(m, &p);
    assert_int_equal(p.nchunks, 2);
    assert_int_equal(p.nstsd, 2);
    /* A: frames 30..59 (key 30 at 1 s); B: frames 0..30 (30 starts at 6 s). */
    assert_int_equal(p.nsamples, 30 + 31);
    uint32_t rec, frame;
    chunk_first(&p, 0, &rec, &frame);
    assert_int_equal(rec, 0);
    assert_int_equal(frame, 30);
    chunk_first(&p, 1, &rec, &frame);
    assert_int_equal(rec, 1);
    assert_int_equal(frame, 0);
    assert_int_equal(p.media_time, 100);
    assert_int_equal(reel_mp4_duration90k(m), 61 * 3000 - 100 - (3000 - 200));
    /* hvc1 brand from the second recording's entry. */
    assert_non_null(memmem(p.file, 48, "hvc1", 4));
    free(p.file);
    reel_mp4_free(m);

    /* Starting in the gap: B from its first frame, no start trim. */
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0 + 3 * 90000, T0 + 6 * 90000, &m, &err), 0);
    parse(m, &p);
    assert_int_equal(p.nchunks, 1);
    assert_int_equal(p.nsamples, 30);
    assert_int_equal(p.media_time, 0);
    chunk_first(&p, 0, &rec, &frame);
    assert_int_equal(rec, 1);
    assert_int_equal(frame, 0);
    free(p.file);
    reel_mp4_free(m);

    /* Ending past the last footage: no end trim. */
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0 + 6 * 90000, T0 + 20 * 90000, &m, &err), 0);
    assert_int_equal(reel_mp4_duration90k(m), 90000);
    reel_mp4_free(m);

    /* Entirely in the gap: nothing. */
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0 + 3 * 90000, T0 + 4 * 90000, &m, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "no footage for camera 7 between"));
    assert_non_null(strstr(err.msg, "2023-11-14T22:13:23Z"));
}

/* Wall time differs from media time: frames map through the ratio and the
 * trims are converted back to media time. */
static void test_wall_scaling(void **state)
{
    struct env *e = *state;
    add_rec(e, T0, 60, 3000, 15, 2, 1, 1);      /* wall runs twice as long */
    struct reel_mp4 *m = NULL;
    struct reel_err err;
    /* Frame i starts at wall T0 + 6000 i. from: inside frame 20; key 15 at 90000. */
    int64_t from = T0 + 2 * 60000 + 2000, to = T0 + 2 * 150000 + 1000;
    assert_int_equal(reel_mp4_for_range(&e->st, 7, from, to, &m, &err), 0);
    struct parsed p;
    parse(m, &p);
    assert_int_equal(p.media_time, (from - (T0 + 90000)) / 2);
    assert_int_equal(p.nsamples, 51 - 15);      /* frame 50 starts at 300000 < to */
    assert_int_equal(reel_mp4_duration90k(m), (to - from) / 2);
    free(p.file);
    reel_mp4_free(m);
}

static void test_errors(void **state)
{
    struct env *e = *state;
    struct reel_mp4 *m = NULL;
    struct reel_err err = { { 0 } };
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0, &m, &err), -EINVAL);
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 - 1, &m, &err), -EINVAL);
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 + REEL_MP4_RANGE_MAX90K + 1, &m, &err),
                     -EFBIG);
    assert_int_equal(reel_mp4_for_range(&e->st, 7, INT64_MIN, INT64_MAX, &m, &err), -EFBIG);
    /* No recordings at all. */
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 + 90000, &m, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "camera 7"));
    /* The store failing. */
    e->st.fail = -EIO;
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 + 90000, &m, &err), -EIO);
    e->st.fail = 0;

    add_rec(e, T0, 30, 3000, 10, 1, 1, 1);
    /* Another camera has nothing. */
    assert_int_equal(reel_mp4_for_range(&e->st, 8, T0, T0 + 90000, &m, &err), -ENOENT);
    /* Corrupt index: the decoder's -EBADMSG comes through. */
    e->st.recs[0].index_len -= 1;
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 + 90000, &m, &err), -EBADMSG);
    e->st.recs[0].index_len += 1;
    /* A recording that does not start with a key frame. */
    e->st.frames[0][0].key = false;
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 + 90000, &m, &err), -EBADMSG);
    e->st.frames[0][0].key = true;
    /* Negative duration in the index. */
    e->st.frames[0][3].duration90k = -5;
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 + 90000, &m, &err), -EBADMSG);
    e->st.frames[0][3].duration90k = 3000;
    /* Unknown sample entry. */
    e->st.recs[0].sample_entry_id = 9;
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 + 90000, &m, &err), -ENOENT);
    e->st.recs[0].sample_entry_id = 1;
    /* Implausible frame count. */
    e->st.recs[0].frames = UINT32_MAX;
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 + 90000, &m, &err), -EFBIG);
    e->st.recs[0].frames = 30;
    /* Sample file gone: the build's -ENOENT, naming the file. */
    assert_int_equal(remove(e->st.recs[0].path), 0);
    assert_int_equal(reel_mp4_for_range(&e->st, 7, T0, T0 + 90000, &m, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "0.sample"));
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_within_recording, setup, teardown),
        cmocka_unit_test_setup_teardown(test_across_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wall_scaling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

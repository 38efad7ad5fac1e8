/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The virtual fast-start MP4: ftyp, moov (generated here from the frame
 * indexes of the segments) and the mdat header live in one memory block; the
 * mdat payload is the segments' bytes, read from the sample files with
 * pread() when the file is read. See docs/mp4.md for the box tree.
 */
#include "mp4/mp4.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mp4/box.h"

#define TIMESCALE 90000u
/* Seconds from 1904-01-01 (ISO BMFF epoch) to 1970-01-01. */
#define EPOCH_1904 INT64_C(2082844800)
/* Caps: the in-memory header (stsz is 4 bytes a frame: 7 days at 30 fps is
 * about 73 MB), frames, segments and sample entries. */
#define HEAD_MAX ((size_t)128 << 20)
#define FRAMES_MAX (UINT32_C(1) << 25)
#define SEGS_MAX 65536u
#define ENTRIES_MAX 1024u
#define ENTRY_LEN_MAX 65536u
/* Minimum VisualSampleEntry: header 8, reserved 6, data ref 2, fields 70. */
#define VISUAL_ENTRY_MIN 86u
/* Minimum AudioSampleEntry: header 8, reserved 6, data ref 2, fields 20;
 * the sample rate (16.16) is at byte 32. */
#define AUDIO_ENTRY_MIN 36u
#define AUDIO_RATE_OFF 32u

__extension__ typedef __int128 i128;

/* A source of mdat bytes before it is opened: a segment of either track. */
struct src {
    const char *path;
    uint64_t file_off, len;
};

struct part {
    uint64_t start;         /* offset in the virtual file */
    uint64_t len;
    uint64_t file_off;
    int fd;                 /* -1: open by path at read time */
    char *path;
};

struct reel_mp4 {
    uint8_t *head;          /* ftyp + moov + mdat header */
    size_t head_len;
    struct part *parts;
    size_t nparts;
    uint64_t size;
    int64_t duration90k;
    int64_t audio_duration90k;
    uint32_t frames;        /* video samples */
};

static const int32_t unity_matrix[9] = { 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000 };

static void put_matrix(struct reel_boxw *w)
{
    for (size_t i = 0; i < 9; i++)
        reel_box_u32(w, (uint32_t)unity_matrix[i]);
}

static uint8_t version_for(uint64_t a, uint64_t b)
{
    return a > UINT32_MAX || b > UINT32_MAX ? 1 : 0;
}

static bool entry_is(const struct reel_mp4_entry *e, const char *a, const char *b)
{
    return memcmp(e->box + 4, a, 4) == 0 || memcmp(e->box + 4, b, 4) == 0;
}

/* Everything the moov needs, computed before any byte is written. */
struct plan {
    uint32_t nframes;
    uint64_t payload;
    int64_t media_dur;          /* sum of sample durations */
    int64_t edit_dur;           /* media_dur minus trims */
    uint64_t created;           /* seconds since 1904 */
    uint16_t width, height;
    uint32_t *sdi;              /* entry index -> 1-based stsd index; 0 unused */
    uint32_t nused;
    uint64_t *seg_bytes;
};

static int check_input(struct plan *p, const struct reel_mp4_entry *entries, size_t nentries,
                       const struct reel_mp4_seg *segs, size_t nsegs,
                       const struct reel_mp4_opts *opts, struct reel_err *err)
{
    if (nentries == 0 || nsegs == 0)
        return reel_err_set(err, EINVAL, "mp4: nothing to build (%zu sample entries, %zu segments)",
                            nentries, nsegs);
    if (nentries > ENTRIES_MAX || nsegs > SEGS_MAX)
        return reel_err_set(err, EFBIG, "mp4: too many sample entries (%zu) or segments (%zu)",
                            nentries, nsegs);
    for (size_t i = 0; i < nentries; i++) {
        const struct reel_mp4_entry *e = &entries[i];
        if (!e->box || e->len < VISUAL_ENTRY_MIN || e->len > ENTRY_LEN_MAX ||
            reel_rd_be32(e->box) != e->len)
            return reel_err_set(err, EINVAL, "mp4: sample entry %zu is not a visual sample entry box "
                                "(%zu bytes)", i, e->len);
    }
    p->sdi = calloc(nentries, sizeof(*p->sdi));
    p->seg_bytes = calloc(nsegs, sizeof(*p->seg_bytes));
    if (!p->sdi || !p->seg_bytes)
        return reel_err_set(err, ENOMEM, "mp4: out of memory planning %zu segments", nsegs);

    uint64_t frames = 0;
    for (size_t s = 0; s < nsegs; s++) {
        const struct reel_mp4_seg *g = &segs[s];
        if (!g->path || !g->frames || g->nframes == 0)
            return reel_err_set(err, EINVAL, "mp4: segment %zu is empty", s);
        if (g->entry >= nentries)
            return reel_err_set(err, EINVAL, "mp4: segment %zu uses sample entry %u of %zu",
                                s, g->entry, nentries);
        if (!g->frames[0].key)
            return reel_err_set(err, EINVAL, "mp4: segment %zu (%s) does not start with a key frame",
                                s, g->path);
        frames += g->nframes;
        if (frames > FRAMES_MAX)
            return reel_err_set(err, EFBIG, "mp4: more than %u frames", FRAMES_MAX);
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < g->nframes; i++) {
            const struct reel_frame_info *f = &g->frames[i];
            if (f->duration90k < 0)
                return reel_err_set(err, EINVAL, "mp4: segment %zu frame %u has negative duration %d",
                                    s, i, f->duration90k);
            if (f->size == 0)
                return reel_err_set(err, EINVAL, "mp4: segment %zu frame %u is empty", s, i);
            bytes += f->size;   /* <= 2^25 frames * 2^32: no overflow */
            p->media_dur += f->duration90k;
        }
        if (g->file_offset > UINT64_MAX - bytes || g->file_offset + bytes > (uint64_t)INT64_MAX)
            return reel_err_set(err, EFBIG, "mp4: segment %zu (%s) extends past 2^63", s, g->path);
        p->seg_bytes[s] = bytes;
        p->payload += bytes;
        if (p->sdi[g->entry] == 0)
            p->sdi[g->entry] = ++p->nused;
        const struct reel_mp4_entry *e = &entries[g->entry];
        if (e->width > p->width)
            p->width = e->width;
        if (e->height > p->height)
            p->height = e->height;
    }
    p->nframes = (uint32_t)frames;

    int64_t ts = opts ? opts->trim_start90k : 0, te = opts ? opts->trim_end90k : 0;
    if (ts < 0 || te < 0 || ts >= p->media_dur || te >= p->media_dur - ts)
        return reel_err_set(err, EINVAL, "mp4: trims %lld + %lld leave nothing of %lld (90 kHz)",
                            (long long)ts, (long long)te, (long long)p->media_dur);
    p->edit_dur = p->media_dur - ts - te;
    int64_t c = opts ? opts->creation_unix : 0;
    p->created = c > -EPOCH_1904 && c < INT64_MAX - EPOCH_1904 ? (uint64_t)(c + EPOCH_1904) : 0;
    return 0;
}

static void put_ftyp(struct reel_boxw *w, const struct reel_mp4_entry *entries, size_t nentries,
                     const struct plan *p)
{
    bool avc = false, hevc = false;
    for (size_t i = 0; i < nentries; i++) {
        if (!p->sdi[i])
            continue;
        avc |= entry_is(&entries[i], "avc1", "avc3");
        hevc |= entry_is(&entries[i], "hvc1", "hev1");
    }
    reel_box_open(w, "ftyp");
    reel_box_fourcc(w, "isom");
    reel_box_u32(w, 0x200);
    reel_box_fourcc(w, "isom");
    reel_box_fourcc(w, "iso2");
    if (hevc)
        reel_box_fourcc(w, "iso6");
    if (avc)
        reel_box_fourcc(w, "avc1");
    if (hevc)
        reel_box_fourcc(w, "hvc1");
    reel_box_fourcc(w, "mp41");
    reel_box_close(w);
}

static void put_mvhd(struct reel_boxw *w, const struct plan *p, uint32_t next_track)
{
    uint8_t v = version_for(p->created, (uint64_t)p->edit_dur);
    reel_box_open_full(w, "mvhd", v, 0);
    reel_box_uv(w, v, p->created);
    reel_box_uv(w, v, p->created);
    reel_box_u32(w, TIMESCALE);
    reel_box_uv(w, v, (uint64_t)p->edit_dur);
    reel_box_u32(w, 0x00010000);        /* rate 1.0 */
    reel_box_u16(w, 0x0100);            /* volume 1.0 */
    reel_box_zeros(w, 10);
    put_matrix(w);
    reel_box_zeros(w, 24);              /* pre_defined */
    reel_box_u32(w, next_track);        /* next_track_ID */
    reel_box_close(w);
}

static void put_tkhd(struct reel_boxw *w, const struct plan *p)
{
    uint8_t v = version_for(p->created, (uint64_t)p->edit_dur);
    reel_box_open_full(w, "tkhd", v, 0x7);  /* enabled, in movie, in preview */
    reel_box_uv(w, v, p->created);
    reel_box_uv(w, v, p->created);
    reel_box_u32(w, 1);                 /* track_ID */
    reel_box_u32(w, 0);
    reel_box_uv(w, v, (uint64_t)p->edit_dur);
    reel_box_zeros(w, 8);
    reel_box_u16(w, 0);                 /* layer */
    reel_box_u16(w, 0);                 /* alternate_group */
    reel_box_u16(w, 0);                 /* volume: video */
    reel_box_u16(w, 0);
    put_matrix(w);
    reel_box_u32(w, (uint32_t)p->width << 16);
    reel_box_u32(w, (uint32_t)p->height << 16);
    reel_box_close(w);
}

static void put_edts(struct reel_boxw *w, const struct plan *p, int64_t trim_start)
{
    uint8_t v = version_for((uint64_t)p->edit_dur, (uint64_t)trim_start);
    reel_box_open(w, "edts");
    reel_box_open_full(w, "elst", v, 0);
    reel_box_u32(w, 1);
    reel_box_uv(w, v, (uint64_t)p->edit_dur);   /* segment_duration, movie timescale */
    reel_box_uv(w, v, (uint64_t)trim_start);    /* media_time, media timescale */
    reel_box_u32(w, 0x00010000);                /* media_rate 1.0 */
    reel_box_close(w);
    reel_box_close(w);
}

static void put_mdhd_hdlr(struct reel_boxw *w, const struct plan *p)
{
    uint8_t v = version_for(p->created, (uint64_t)p->media_dur);
    reel_box_open_full(w, "mdhd", v, 0);
    reel_box_uv(w, v, p->created);
    reel_box_uv(w, v, p->created);
    reel_box_u32(w, TIMESCALE);
    reel_box_uv(w, v, (uint64_t)p->media_dur);
    reel_box_u16(w, (21 << 10) | (14 << 5) | 4);    /* "und" */
    reel_box_u16(w, 0);
    reel_box_close(w);

    static const char name[] = "VideoHandler";
    reel_box_open_full(w, "hdlr", 0, 0);
    reel_box_u32(w, 0);
    reel_box_fourcc(w, "vide");
    reel_box_zeros(w, 12);
    reel_box_bytes(w, name, sizeof(name));
    reel_box_close(w);
}

static void put_stbl_tables(struct reel_boxw *w, const struct reel_mp4_entry *entries,
                            size_t nentries, const struct reel_mp4_seg *segs, size_t nsegs,
                            const struct plan *p)
{
    reel_box_open_full(w, "stsd", 0, 0);
    reel_box_u32(w, p->nused);
    for (uint32_t k = 1; k <= p->nused; k++)
        for (size_t i = 0; i < nentries; i++)
            if (p->sdi[i] == k)
                reel_box_bytes(w, entries[i].box, entries[i].len);
    reel_box_close(w);

    /* stts: run-length (count, delta) over all frames. Count runs first. */
    uint32_t runs = 0;
    int32_t prev = -1;
    for (size_t s = 0; s < nsegs; s++)
        for (uint32_t i = 0; i < segs[s].nframes; i++) {
            if (segs[s].frames[i].duration90k != prev)
                runs++;
            prev = segs[s].frames[i].duration90k;
        }
    reel_box_open_full(w, "stts", 0, 0);
    reel_box_u32(w, runs);
    uint32_t count = 0;
    prev = -1;
    for (size_t s = 0; s < nsegs; s++)
        for (uint32_t i = 0; i < segs[s].nframes; i++) {
            int32_t d = segs[s].frames[i].duration90k;
            if (d != prev && count > 0) {
                reel_box_u32(w, count);
                reel_box_u32(w, (uint32_t)prev);
                count = 0;
            }
            prev = d;
            count++;
        }
    reel_box_u32(w, count);
    reel_box_u32(w, (uint32_t)prev);
    reel_box_close(w);

    uint32_t keys = 0;
    for (size_t s = 0; s < nsegs; s++)
        for (uint32_t i = 0; i < segs[s].nframes; i++)
            keys += segs[s].frames[i].key;
    reel_box_open_full(w, "stss", 0, 0);
    reel_box_u32(w, keys);
    reel_box_reserve(w, (size_t)keys * 4);
    uint32_t n = 0;
    for (size_t s = 0; s < nsegs; s++)
        for (uint32_t i = 0; i < segs[s].nframes; i++) {
            n++;
            if (segs[s].frames[i].key)
                reel_box_u32(w, n);
        }
    reel_box_close(w);

    /* stsc: one chunk per segment; a new entry only when the count or the
     * sample description changes. */
    uint32_t nstsc = 0;
    for (size_t s = 0; s < nsegs; s++)
        if (s == 0 || segs[s].nframes != segs[s - 1].nframes || segs[s].entry != segs[s - 1].entry)
            nstsc++;
    reel_box_open_full(w, "stsc", 0, 0);
    reel_box_u32(w, nstsc);
    for (size_t s = 0; s < nsegs; s++)
        if (s == 0 || segs[s].nframes != segs[s - 1].nframes || segs[s].entry != segs[s - 1].entry) {
            reel_box_u32(w, (uint32_t)s + 1);
            reel_box_u32(w, segs[s].nframes);
            reel_box_u32(w, p->sdi[segs[s].entry]);
        }
    reel_box_close(w);

    reel_box_open_full(w, "stsz", 0, 0);
    reel_box_u32(w, 0);
    reel_box_u32(w, p->nframes);
    reel_box_reserve(w, (size_t)p->nframes * 4);
    for (size_t s = 0; s < nsegs; s++)
        for (uint32_t i = 0; i < segs[s].nframes; i++)
            reel_box_u32(w, segs[s].frames[i].size);
    reel_box_close(w);
}

/* The chunk offset box comes last in stbl and nothing follows it in moov, so
 * the header length is known here: what is written so far, this box and the
 * mdat header. Picks stco, or co64 when an offset passes 32 bits. */
static void put_chunk_offsets(struct reel_boxw *w, size_t nsegs, const struct plan *p)
{
    size_t mdat_hdr = p->payload <= UINT32_MAX - 8 ? 8 : 16;
    uint64_t last_start = p->payload - p->seg_bytes[nsegs - 1];
    uint64_t head = w->buf.len + 16 + 4 * (uint64_t)nsegs + mdat_hdr;
    bool co64 = head + last_start > UINT32_MAX;
    if (co64)
        head += 4 * (uint64_t)nsegs;
    reel_box_open_full(w, co64 ? "co64" : "stco", 0, 0);
    reel_box_u32(w, (uint32_t)nsegs);
    uint64_t off = head;
    for (size_t s = 0; s < nsegs; s++) {
        reel_box_uv(w, co64, off);
        off += p->seg_bytes[s];
    }
    reel_box_close(w);
}

static void close_parts(struct part *parts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (parts[i].fd >= 0)
            close(parts[i].fd);
        free(parts[i].path);
    }
    free(parts);
}

static int open_parts(struct reel_mp4 *m, const struct src *srcs, size_t nsegs, struct reel_err *err)
{
    m->parts = calloc(nsegs, sizeof(*m->parts));
    if (!m->parts)
        return reel_err_set(err, ENOMEM, "mp4: out of memory for %zu segments", nsegs);
    uint64_t at = m->head_len;
    for (size_t s = 0; s < nsegs; s++) {
        struct part *q = &m->parts[m->nparts];
        q->fd = -1;
        q->path = strdup(srcs[s].path);
        if (!q->path)
            return reel_err_set(err, ENOMEM, "mp4: out of memory");
        m->nparts++;
        q->start = at;
        q->len = srcs[s].len;
        q->file_off = srcs[s].file_off;
        at += q->len;
        int fd = open(q->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            return reel_err_set(err, e, "mp4: cannot open sample file %s: %s", q->path, strerror(e));
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
            int e = errno;
            close(fd);
            return reel_err_set(err, e, "mp4: cannot stat sample file %s: %s", q->path, strerror(e));
        }
        if (st.st_size < 0 || (uint64_t)st.st_size < q->file_off + q->len) {
            close(fd);
            return reel_err_set(err, EIO, "mp4: sample file %s is %lld bytes; the index needs %llu",
                                q->path, (long long)st.st_size,
                                (unsigned long long)(q->file_off + q->len));
        }
        /* Not kept: each read opens the file it needs, preads and closes
         * it, so that a response held by a slow client (or a long export)
         * holds no descriptor between reads and slow downloads cannot
         * exhaust the descriptors the recorder needs (issue 11). */
        close(fd);
    }
    return 0;
}

/* ---- the audio track ---- */

/* Converts 90 kHz durations to the audio timescale by rounding the running
 * sum, so that no error accumulates and durations that were rounded from an
 * exact sample count come back exact. */
struct conv {
    int64_t cum90, cumr;
    uint32_t rate;
};

static int64_t to_rate(int64_t t90, uint32_t rate)
{
    i128 v = (i128)t90 * rate;
    return (int64_t)(v >= 0 ? (v + 45000) / 90000 : -((-v + 45000) / 90000));
}

static int64_t from_rate(int64_t t, uint32_t rate)
{
    return (int64_t)((i128)t * 90000 / rate);
}

static uint32_t conv_next(struct conv *c, int32_t d90)
{
    c->cum90 += d90;
    int64_t t = to_rate(c->cum90, c->rate);
    uint32_t d = (uint32_t)(t - c->cumr);
    c->cumr = t;
    return d;
}

struct aplan {
    uint32_t rate;              /* media timescale */
    uint32_t nframes;
    uint64_t payload;
    int64_t media_dur;          /* sum of sample durations, audio timescale */
    struct reel_mp4_edit *edits; /* dur 90 kHz, media time in the audio timescale (-1: empty) */
    size_t nedits;
    int64_t edit_dur;           /* sum of the edits, 90 kHz */
    uint32_t const_size;        /* every sample this size (stsz sample_size), or 0 */
    uint32_t *sdi;
    uint32_t nused;
    uint64_t *seg_bytes;
    int64_t *seg_pres;          /* presentation start of each segment, 90 kHz (for interleaving) */
};

static int check_audio(struct aplan *ap, const struct reel_mp4_audio *a, const struct plan *p,
                       struct reel_err *err)
{
    if (a->nentries == 0 || a->nsegs == 0)
        return reel_err_set(err, EINVAL, "mp4: no audio to add (%zu sample entries, %zu segments)",
                            a->nentries, a->nsegs);
    if (a->nentries > ENTRIES_MAX || a->nsegs > SEGS_MAX)
        return reel_err_set(err, EFBIG, "mp4: too many audio sample entries (%zu) or segments (%zu)",
                            a->nentries, a->nsegs);
    for (size_t i = 0; i < a->nentries; i++) {
        const struct reel_mp4_entry *e = &a->entries[i];
        if (!e->box || e->len < AUDIO_ENTRY_MIN || e->len > ENTRY_LEN_MAX || reel_rd_be32(e->box) != e->len)
            return reel_err_set(err, EINVAL, "mp4: audio sample entry %zu is not an audio sample entry box "
                                "(%zu bytes)", i, e->len);
    }
    ap->sdi = calloc(a->nentries, sizeof(*ap->sdi));
    ap->seg_bytes = calloc(a->nsegs, sizeof(*ap->seg_bytes));
    ap->seg_pres = calloc(a->nsegs, sizeof(*ap->seg_pres));
    if (!ap->sdi || !ap->seg_bytes || !ap->seg_pres)
        return reel_err_set(err, ENOMEM, "mp4: out of memory planning %zu audio segments", a->nsegs);
    uint64_t frames = 0;
    uint32_t rate = 0;
    bool same_rate = true, same_size = true;
    uint32_t size0 = 0;
    for (size_t s = 0; s < a->nsegs; s++) {
        const struct reel_mp4_seg *g = &a->segs[s];
        if (!g->path || !g->frames || g->nframes == 0)
            return reel_err_set(err, EINVAL, "mp4: audio segment %zu is empty", s);
        if (g->entry >= a->nentries)
            return reel_err_set(err, EINVAL, "mp4: audio segment %zu uses sample entry %u of %zu",
                                s, g->entry, a->nentries);
        frames += g->nframes;
        if (frames > FRAMES_MAX)
            return reel_err_set(err, EFBIG, "mp4: more than %u audio frames", FRAMES_MAX);
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < g->nframes; i++) {
            const struct reel_frame_info *f = &g->frames[i];
            if (f->duration90k < 0 || f->size == 0)
                return reel_err_set(err, EINVAL, "mp4: audio segment %zu frame %u: size %u, duration %d",
                                    s, i, f->size, f->duration90k);
            if (s == 0 && i == 0)
                size0 = f->size;
            same_size &= f->size == size0;
            bytes += f->size;
        }
        if (g->file_offset > UINT64_MAX - bytes || g->file_offset + bytes > (uint64_t)INT64_MAX)
            return reel_err_set(err, EFBIG, "mp4: audio segment %zu (%s) extends past 2^63", s, g->path);
        ap->seg_bytes[s] = bytes;
        ap->payload += bytes;
        if (ap->sdi[g->entry] == 0) {
            ap->sdi[g->entry] = ++ap->nused;
            uint32_t r = reel_rd_be32(a->entries[g->entry].box + AUDIO_RATE_OFF) >> 16;
            if (rate == 0)
                rate = r;
            same_rate &= r == rate;
        }
    }
    ap->nframes = (uint32_t)frames;
    ap->const_size = same_size ? size0 : 0;
    /* The sample rate is the timescale when every entry used agrees on one
     * the 90 kHz movie clock can express; otherwise 90 kHz itself. */
    ap->rate = same_rate && rate > 0 && rate <= TIMESCALE ? rate : TIMESCALE;

    struct conv c = { .rate = ap->rate };
    for (size_t s = 0; s < a->nsegs; s++) {
        ap->seg_pres[s] = c.cumr;   /* media time at the start, fixed below */
        for (uint32_t i = 0; i < a->segs[s].nframes; i++)
            conv_next(&c, a->segs[s].frames[i].duration90k);
    }
    ap->media_dur = c.cumr;
    struct reel_mp4_edit simple[2] = { { a->delay90k, -1 }, { INT64_MAX, a->trim_start90k } };
    const struct reel_mp4_edit *in = a->nedits ? a->edits : simple + (a->delay90k > 0 ? 0 : 1);
    size_t nin = a->nedits ? a->nedits : a->delay90k > 0 ? 2 : 1;
    if (!a->nedits && (a->delay90k < 0 || a->trim_start90k < 0 || (a->delay90k > 0 && a->trim_start90k > 0)))
        return reel_err_set(err, EINVAL, "mp4: audio delay %lld and trim %lld (90 kHz): at most one, "
                            "neither negative", (long long)a->delay90k, (long long)a->trim_start90k);
    if (nin > SEGS_MAX * 4)
        return reel_err_set(err, EFBIG, "mp4: %zu audio edits", nin);
    ap->edits = calloc(nin, sizeof(*ap->edits));
    if (!ap->edits)
        return reel_err_set(err, ENOMEM, "mp4: out of memory for %zu audio edits", nin);
    /* Each edit cut to the audio there is and to the video's end; in the
     * audio timescale for media times. */
    int64_t media90 = from_rate(ap->media_dur, ap->rate), total = 0;
    bool any = false;
    for (size_t i = 0; i < nin && total < p->edit_dur; i++) {
        int64_t d = in[i].dur90k, m = in[i].media90k;
        if (d <= 0 || m < -1)
            return reel_err_set(err, EINVAL, "mp4: audio edit %zu: duration %lld, media time %lld", i,
                                (long long)d, (long long)m);
        if (m >= 0 && d > media90 - m)
            d = media90 - m;
        if (d > p->edit_dur - total)
            d = p->edit_dur - total;
        if (d <= 0)
            continue;
        ap->edits[ap->nedits++] = (struct reel_mp4_edit){ d, m < 0 ? -1 : to_rate(m, ap->rate) };
        total += d;
        any |= m >= 0;
    }
    /* Trailing silence says nothing. */
    while (ap->nedits > 0 && ap->edits[ap->nedits - 1].media90k < 0)
        total -= ap->edits[--ap->nedits].dur90k;
    ap->edit_dur = total;
    if (!any || total <= 0)
        return reel_err_set(err, EINVAL, "mp4: the audio's edits do not overlap the %lld-tick video (90 kHz)",
                            (long long)p->edit_dur);
    /* Presentation time of each segment's start, for interleaving: the
     * edit showing it (edits run forward in media time), else the last. */
    size_t e = 0;
    int64_t epres = 0, last = 0;
    for (size_t s = 0; s < a->nsegs; s++) {
        int64_t m = ap->seg_pres[s];
        while (e < ap->nedits && (ap->edits[e].media90k < 0 ||
                                  ap->edits[e].media90k + to_rate(ap->edits[e].dur90k, ap->rate) <= m)) {
            epres += ap->edits[e].dur90k;
            e++;
        }
        if (e < ap->nedits && ap->edits[e].media90k <= m)
            last = epres + from_rate(m - ap->edits[e].media90k, ap->rate);
        else if (e < ap->nedits)
            last = epres;
        ap->seg_pres[s] = last;
    }
    return 0;
}

/* Interleaves the two tracks' segments in mdat by presentation time (video
 * first on a tie), so that a player reading in time order reads the file
 * mostly forward. Fills srcs (nv + na entries, in file order) and each
 * segment's offset within the mdat payload. */
static void layout(const struct reel_mp4_seg *vs, size_t nv, const struct plan *p, int64_t vtrim,
                   const struct reel_mp4_audio *a, const struct aplan *ap, struct src *srcs,
                   uint64_t *vrel, uint64_t *arel)
{
    size_t i = 0, j = 0, n = 0;
    int64_t pv = -vtrim;
    uint64_t at = 0;
    while (i < nv || j < a->nsegs) {
        if (i < nv && (j == a->nsegs || pv <= ap->seg_pres[j])) {
            srcs[n++] = (struct src){ vs[i].path, vs[i].file_offset, p->seg_bytes[i] };
            vrel[i] = at;
            at += p->seg_bytes[i];
            for (uint32_t k = 0; k < vs[i].nframes; k++)
                pv += vs[i].frames[k].duration90k;
            i++;
        } else {
            srcs[n++] = (struct src){ a->segs[j].path, a->segs[j].file_offset, ap->seg_bytes[j] };
            arel[j] = at;
            at += ap->seg_bytes[j];
            j++;
        }
    }
}

/* A chunk offset box holding offsets relative to the mdat payload; the
 * header length is added by patch_offsets() once it is known. co64 when the
 * last chunk could pass 2^32 with the largest header allowed. Returns the
 * position of the first entry. */
static size_t put_offsets_rel(struct reel_boxw *w, const uint64_t *rel, size_t n, bool *co64)
{
    *co64 = (uint64_t)HEAD_MAX + rel[n - 1] > UINT32_MAX;
    reel_box_open_full(w, *co64 ? "co64" : "stco", 0, 0);
    reel_box_u32(w, (uint32_t)n);
    size_t at = w->buf.len;
    for (size_t s = 0; s < n; s++)
        reel_box_uv(w, *co64, rel[s]);
    reel_box_close(w);
    return at;
}

static void patch_offsets(uint8_t *head, size_t at, size_t n, bool co64, uint64_t add)
{
    for (size_t s = 0; s < n; s++) {
        uint8_t *q = head + at + s * (co64 ? 8 : 4);
        uint64_t v = co64 ? ((uint64_t)reel_rd_be32(q) << 32 | reel_rd_be32(q + 4)) : reel_rd_be32(q);
        v += add;
        for (int b = (co64 ? 7 : 3); b >= 0; b--, v >>= 8)
            q[b] = (uint8_t)v;
    }
}

/* Writes (or only counts) the audio stts entries; returns the count. */
static uint32_t audio_stts(struct reel_boxw *w, const struct reel_mp4_audio *a, uint32_t rate, bool write)
{
    struct conv c = { .rate = rate };
    uint32_t runs = 0, count = 0, prev = 0;
    for (size_t s = 0; s < a->nsegs; s++)
        for (uint32_t i = 0; i < a->segs[s].nframes; i++) {
            uint32_t d = conv_next(&c, a->segs[s].frames[i].duration90k);
            if (count > 0 && d != prev) {
                if (write) {
                    reel_box_u32(w, count);
                    reel_box_u32(w, prev);
                }
                runs++;
                count = 0;
            }
            prev = d;
            count++;
        }
    if (write) {
        reel_box_u32(w, count);
        reel_box_u32(w, prev);
    }
    return runs + 1;
}

static void put_audio_trak(struct reel_boxw *w, const struct reel_mp4_audio *a, const struct aplan *ap,
                           const struct plan *p, const uint64_t *arel, size_t *ret_off_at, bool *ret_co64)
{
    uint64_t tdur = (uint64_t)ap->edit_dur;
    reel_box_open(w, "trak");
    uint8_t v = version_for(p->created, tdur);
    reel_box_open_full(w, "tkhd", v, 0x7);
    reel_box_uv(w, v, p->created);
    reel_box_uv(w, v, p->created);
    reel_box_u32(w, 2);                 /* track_ID */
    reel_box_u32(w, 0);
    reel_box_uv(w, v, tdur);
    reel_box_zeros(w, 8);
    reel_box_u16(w, 0);                 /* layer */
    reel_box_u16(w, 1);                 /* alternate_group */
    reel_box_u16(w, 0x0100);            /* volume 1.0 */
    reel_box_u16(w, 0);
    put_matrix(w);
    reel_box_u32(w, 0);                 /* width, height */
    reel_box_u32(w, 0);
    reel_box_close(w);

    /* Edit list: empty edits where there is no audio for the video shown
     * (before it starts, across a gap), media edits elsewhere. */
    v = version_for(tdur, 0);
    for (size_t i = 0; i < ap->nedits; i++)
        if (ap->edits[i].media90k > (int64_t)UINT32_MAX - 1)
            v = 1;
    reel_box_open(w, "edts");
    reel_box_open_full(w, "elst", v, 0);
    reel_box_u32(w, (uint32_t)ap->nedits);
    for (size_t i = 0; i < ap->nedits; i++) {
        reel_box_uv(w, v, (uint64_t)ap->edits[i].dur90k);
        if (ap->edits[i].media90k < 0)
            reel_box_uv(w, v, v ? UINT64_MAX : UINT32_MAX);    /* media_time -1: empty */
        else
            reel_box_uv(w, v, (uint64_t)ap->edits[i].media90k);
        reel_box_u32(w, 0x00010000);
    }
    reel_box_close(w);
    reel_box_close(w);

    reel_box_open(w, "mdia");
    v = version_for(p->created, (uint64_t)ap->media_dur);
    reel_box_open_full(w, "mdhd", v, 0);
    reel_box_uv(w, v, p->created);
    reel_box_uv(w, v, p->created);
    reel_box_u32(w, ap->rate);
    reel_box_uv(w, v, (uint64_t)ap->media_dur);
    reel_box_u16(w, (21 << 10) | (14 << 5) | 4);    /* "und" */
    reel_box_u16(w, 0);
    reel_box_close(w);
    static const char name[] = "SoundHandler";
    reel_box_open_full(w, "hdlr", 0, 0);
    reel_box_u32(w, 0);
    reel_box_fourcc(w, "soun");
    reel_box_zeros(w, 12);
    reel_box_bytes(w, name, sizeof(name));
    reel_box_close(w);

    reel_box_open(w, "minf");
    reel_box_open_full(w, "smhd", 0, 0);
    reel_box_zeros(w, 4);               /* balance, reserved */
    reel_box_close(w);
    reel_box_open(w, "dinf");
    reel_box_open_full(w, "dref", 0, 0);
    reel_box_u32(w, 1);
    reel_box_open_full(w, "url ", 0, 1);
    reel_box_close(w);
    reel_box_close(w);
    reel_box_close(w);

    reel_box_open(w, "stbl");
    reel_box_open_full(w, "stsd", 0, 0);
    reel_box_u32(w, ap->nused);
    for (uint32_t k = 1; k <= ap->nused; k++)
        for (size_t i = 0; i < a->nentries; i++)
            if (ap->sdi[i] == k)
                reel_box_bytes(w, a->entries[i].box, a->entries[i].len);
    reel_box_close(w);

    uint32_t runs = audio_stts(w, a, ap->rate, false);
    reel_box_open_full(w, "stts", 0, 0);
    reel_box_u32(w, runs);
    audio_stts(w, a, ap->rate, true);
    reel_box_close(w);

    uint32_t nstsc = 0;
    for (size_t s = 0; s < a->nsegs; s++)
        if (s == 0 || a->segs[s].nframes != a->segs[s - 1].nframes || a->segs[s].entry != a->segs[s - 1].entry)
            nstsc++;
    reel_box_open_full(w, "stsc", 0, 0);
    reel_box_u32(w, nstsc);
    for (size_t s = 0; s < a->nsegs; s++)
        if (s == 0 || a->segs[s].nframes != a->segs[s - 1].nframes || a->segs[s].entry != a->segs[s - 1].entry) {
            reel_box_u32(w, (uint32_t)s + 1);
            reel_box_u32(w, a->segs[s].nframes);
            reel_box_u32(w, ap->sdi[a->segs[s].entry]);
        }
    reel_box_close(w);

    /* stsz: one size for all when they agree (G.711 at a fixed packet
     * time), else a table. No stss: every audio sample is a sync sample. */
    reel_box_open_full(w, "stsz", 0, 0);
    reel_box_u32(w, ap->const_size);
    reel_box_u32(w, ap->nframes);
    if (ap->const_size == 0) {
        reel_box_reserve(w, (size_t)ap->nframes * 4);
        for (size_t s = 0; s < a->nsegs; s++)
            for (uint32_t i = 0; i < a->segs[s].nframes; i++)
                reel_box_u32(w, a->segs[s].frames[i].size);
    }
    reel_box_close(w);
    *ret_off_at = put_offsets_rel(w, arel, a->nsegs, ret_co64);
    for (int i = 0; i < 4; i++)             /* stbl minf mdia trak */
        reel_box_close(w);
}

int reel_mp4_build(struct reel_mp4 **ret, const struct reel_mp4_entry *entries, size_t nentries,
                   const struct reel_mp4_seg *segs, size_t nsegs,
                   const struct reel_mp4_opts *opts, struct reel_err *err)
{
    struct plan p = { 0 };
    struct aplan ap = { 0 };
    const struct reel_mp4_audio *a = opts ? opts->audio : NULL;
    struct reel_boxw w;
    reel_boxw_init(&w, HEAD_MAX);
    struct reel_mp4 *m = NULL;
    struct src *srcs = NULL;
    uint64_t *vrel = NULL, *arel = NULL;
    size_t v_off_at = 0, a_off_at = 0;
    bool v_co64 = false, a_co64 = false;
    int r = check_input(&p, entries, nentries, segs, nsegs, opts, err);
    if (r < 0)
        goto out;
    int64_t vtrim = opts ? opts->trim_start90k : 0;
    size_t nsrcs = nsegs + (a ? a->nsegs : 0);
    if (a) {
        r = check_audio(&ap, a, &p, err);
        if (r < 0)
            goto out;
        vrel = calloc(nsegs, sizeof(*vrel));
        arel = calloc(a->nsegs, sizeof(*arel));
    }
    srcs = calloc(nsrcs, sizeof(*srcs));
    if (!srcs || (a && (!vrel || !arel))) {
        r = reel_err_set(err, ENOMEM, "mp4: out of memory for %zu segments", nsrcs);
        goto out;
    }
    if (a) {
        layout(segs, nsegs, &p, vtrim, a, &ap, srcs, vrel, arel);
    } else {
        for (size_t s = 0; s < nsegs; s++)
            srcs[s] = (struct src){ segs[s].path, segs[s].file_offset, p.seg_bytes[s] };
    }

    put_ftyp(&w, entries, nentries, &p);
    reel_box_open(&w, "moov");
    put_mvhd(&w, &p, a ? 3 : 2);
    reel_box_open(&w, "trak");
    put_tkhd(&w, &p);
    put_edts(&w, &p, vtrim);
    reel_box_open(&w, "mdia");
    put_mdhd_hdlr(&w, &p);
    reel_box_open(&w, "minf");
    reel_box_open_full(&w, "vmhd", 0, 1);
    reel_box_zeros(&w, 8);
    reel_box_close(&w);
    reel_box_open(&w, "dinf");
    reel_box_open_full(&w, "dref", 0, 0);
    reel_box_u32(&w, 1);
    reel_box_open_full(&w, "url ", 0, 1);   /* media in this file */
    reel_box_close(&w);
    reel_box_close(&w);
    reel_box_close(&w);
    reel_box_open(&w, "stbl");
    put_stbl_tables(&w, entries, nentries, segs, nsegs, &p);
    if (!a) {
        put_chunk_offsets(&w, nsegs, &p);
    } else {
        /* Two tracks: offsets relative to the payload, patched below once
         * the header's length is known. */
        v_off_at = put_offsets_rel(&w, vrel, nsegs, &v_co64);
    }
    for (int i = 0; i < 4; i++)             /* stbl minf mdia trak */
        reel_box_close(&w);
    if (a)
        put_audio_trak(&w, a, &ap, &p, arel, &a_off_at, &a_co64);
    reel_box_close(&w);                     /* moov */
    reel_box_header_ext(&w, "mdat", p.payload + ap.payload);
    r = reel_boxw_finish(&w);
    if (r < 0) {
        r = reel_err_set(err, -r, "mp4: building the %u-frame header failed: %s", p.nframes + ap.nframes,
                         r == -EMSGSIZE ? "over the size cap" : strerror(-r));
        goto out;
    }
    if (a) {
        patch_offsets(w.buf.data, v_off_at, nsegs, v_co64, w.buf.len);
        patch_offsets(w.buf.data, a_off_at, a->nsegs, a_co64, w.buf.len);
    }

    m = calloc(1, sizeof(*m));
    if (!m) {
        r = reel_err_set(err, ENOMEM, "mp4: out of memory");
        goto out;
    }
    m->head = w.buf.data;
    m->head_len = w.buf.len;
    w.buf.data = NULL;
    m->size = m->head_len + p.payload + ap.payload;
    m->duration90k = p.edit_dur;
    m->frames = p.nframes;
    m->audio_duration90k = a ? ap.edit_dur : 0;
    r = open_parts(m, srcs, nsrcs, err);
    if (r < 0)
        goto out;
    *ret = m;
    m = NULL;
    r = 0;
out:
    reel_mp4_free(m);
    reel_boxw_free(&w);
    free(p.sdi);
    free(p.seg_bytes);
    free(ap.sdi);
    free(ap.seg_bytes);
    free(ap.seg_pres);
    free(ap.edits);
    free(srcs);
    free(vrel);
    free(arel);
    return r;
}

size_t reel_mp4_mem(const struct reel_mp4 *m)
{
    size_t n = sizeof(*m) + m->head_len + m->nparts * sizeof(*m->parts);
    for (size_t i = 0; i < m->nparts; i++)
        n += strlen(m->parts[i].path) + 1;
    return n;
}

uint64_t reel_mp4_size(const struct reel_mp4 *m) { return m->size; }

int64_t reel_mp4_duration90k(const struct reel_mp4 *m) { return m->duration90k; }

uint32_t reel_mp4_frames(const struct reel_mp4 *m) { return m->frames; }

int64_t reel_mp4_audio_duration90k(const struct reel_mp4 *m) { return m->audio_duration90k; }

/* Reads n bytes of part q starting at rel; all or -errno (-EIO when short). */
static ssize_t read_part(const struct part *q, uint64_t rel, uint8_t *buf, size_t n)
{
    int fd = q->fd;
    if (fd < 0) {
        fd = open(q->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
    }
    size_t done = 0;
    ssize_t r = 0;
    while (done < n) {
        ssize_t k = pread(fd, buf + done, n - done, (off_t)(q->file_off + rel + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r = -errno;
            break;
        }
        if (k == 0) {
            r = -EIO;       /* the file is shorter than its index says */
            break;
        }
        done += (size_t)k;
    }
    if (fd != q->fd)
        close(fd);
    return r < 0 ? r : (ssize_t)done;
}

ssize_t reel_mp4_read(const struct reel_mp4 *m, uint64_t off, void *buf, size_t len)
{
    if (off >= m->size || len == 0)
        return 0;
    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    if (len > m->size - off)
        len = (size_t)(m->size - off);
    uint8_t *out = buf;
    size_t done = 0;
    if (off < m->head_len) {
        size_t k = m->head_len - (size_t)off;
        if (k > len)
            k = len;
        memcpy(out, m->head + off, k);
        done = k;
    }
    if (done == len)
        return (ssize_t)done;
    /* Last part starting at or before the position. */
    uint64_t pos = off + done;
    size_t lo = 0, hi = m->nparts;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->parts[mid].start <= pos)
            lo = mid;
        else
            hi = mid;
    }
    for (size_t i = lo; i < m->nparts && done < len; i++) {
        const struct part *q = &m->parts[i];
        uint64_t rel = off + done - q->start;
        if (rel >= q->len)
            continue;
        size_t k = len - done;
        if (k > q->len - rel)
            k = (size_t)(q->len - rel);
        ssize_t r = read_part(q, rel, out + done, k);
        if (r < 0)
            return r;
        done += k;
    }
    return (ssize_t)done;
}

void reel_mp4_free(struct reel_mp4 *m)
{
    if (!m)
        return;
    close_parts(m->parts, m->nparts);
    free(m->head);
    free(m);
}

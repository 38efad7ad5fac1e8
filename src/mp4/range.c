/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Time range -> virtual MP4: asks the store for the recordings overlapping
 * the range, decodes their frame indexes, maps each frame to wall time and
 * cuts one segment per recording, from the key frame at or before `from` to
 * the frame covering `to`; the edit list trims the rest. See docs/mp4.md.
 */
#include "mp4/range.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/index.h"
#include "store/store.h"

/* Cap on the frames of one range (7 days at 55 fps) and of one recording. */
#define RANGE_FRAMES_MAX (UINT32_C(1) << 25)
#define REC_FRAMES_MAX (UINT32_C(1) << 22)

__extension__ typedef __int128 i128;

/* a * num / den, rounded down, saturating; den > 0. */
static int64_t scale(int64_t a, int64_t num, int64_t den)
{
    i128 v = (i128)a * num / den;
    if (v > INT64_MAX)
        return INT64_MAX;
    if (v < INT64_MIN)
        return INT64_MIN;
    return (int64_t)v;
}

static const char *fmt_time(int64_t t90k, char *buf, size_t cap)
{
    time_t sec = (time_t)(t90k / 90000 - (t90k % 90000 < 0));
    struct tm tm;
    if (!gmtime_r(&sec, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "%lld (90 kHz)", (long long)t90k);
    return buf;
}

struct walk {
    struct reel_frame_info **frames;    /* per recording, malloc'd */
    struct reel_mp4_seg *segs;
    size_t nsegs;
    struct reel_sample_entry *ents;     /* fetched from the store */
    int64_t *ent_ids;
    struct reel_mp4_entry *mp4ents;
    size_t nents;
    int64_t trim_start, trim_end;
    int64_t first_wall;
    int64_t last_end;                   /* wall time at the end of the last segment */
    struct seg_time *times;             /* per segment, for aligning audio to video */
};

/* Where a segment lies in wall time: the wall time of its first frame and
 * its recording's wall and media durations (wall = wall0 + media offset *
 * wall / media); its media duration (90 kHz). */
struct seg_time {
    int64_t wall0, wall, media, dur;
};

static int walk_alloc(struct walk *w, size_t nrecs)
{
    if (nrecs == 0)
        return 0;
    w->frames = calloc(nrecs, sizeof(*w->frames));
    w->segs = calloc(nrecs, sizeof(*w->segs));
    w->ents = calloc(nrecs, sizeof(*w->ents));
    w->ent_ids = calloc(nrecs, sizeof(*w->ent_ids));
    w->mp4ents = calloc(nrecs, sizeof(*w->mp4ents));
    w->times = calloc(nrecs, sizeof(*w->times));
    return w->frames && w->segs && w->ents && w->ent_ids && w->mp4ents && w->times ? 0 : -ENOMEM;
}

static void walk_free(struct walk *w, size_t nrecs)
{
    if (w->frames)
        for (size_t i = 0; i < nrecs; i++)
            free(w->frames[i]);
    for (size_t i = 0; i < w->nents; i++)
        free(w->ents[i].data);
    free(w->frames);
    free(w->segs);
    free(w->ents);
    free(w->ent_ids);
    free(w->mp4ents);
    free(w->times);
}

static void set_time(struct walk *w, int64_t wall0, int64_t wall, int64_t media)
{
    const struct reel_mp4_seg *g = &w->segs[w->nsegs - 1];
    int64_t dur = 0;
    for (uint32_t i = 0; i < g->nframes; i++)
        dur += g->frames[i].duration90k;
    w->times[w->nsegs - 1] = (struct seg_time){ wall0, wall, media, dur };
}

/* Index of the sample entry id in w->ents, fetching it on first use. */
static int entry_for(struct reel_store *s, struct walk *w, int64_t id, struct reel_err *err)
{
    for (size_t i = 0; i < w->nents; i++)
        if (w->ent_ids[i] == id)
            return (int)i;
    struct reel_sample_entry *e = &w->ents[w->nents];
    memset(e, 0, sizeof(*e));
    int r = reel_store_sample_entry_get(s, id, e, err);
    if (r < 0)
        return r;
    w->ent_ids[w->nents] = id;
    w->mp4ents[w->nents] = (struct reel_mp4_entry){
        .box = e->data, .len = e->len, .width = e->width, .height = e->height };
    return (int)w->nents++;
}

/* Decodes a recording's index into w->frames[ri] with its media duration. */
static int decode_rec(struct walk *w, const struct reel_recording *rec, size_t ri, int64_t *ret_media,
                      struct reel_err *err)
{
    uint32_t n = rec->frames;
    if (n > REC_FRAMES_MAX || rec->wall_duration90k < 0)
        return reel_err_set(err, EBADMSG, "recording %lld: implausible %u frames / %lld wall duration",
                            (long long)rec->id, n, (long long)rec->wall_duration90k);
    struct reel_frame_info *f = calloc(n, sizeof(*f));
    if (!f)
        return reel_err_set(err, ENOMEM, "recording %lld: out of memory for %u frames",
                            (long long)rec->id, n);
    w->frames[ri] = f;
    int r = reel_index_decode(rec->index, rec->index_len, n, f, err);
    if (r < 0)
        return r;
    int64_t media = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (f[i].duration90k < 0)
            return reel_err_set(err, EBADMSG, "recording %lld: frame %u has a negative duration",
                                (long long)rec->id, i);
        media += f[i].duration90k;
    }
    *ret_media = media;
    return 0;
}

/* Adds the part of recording rec that falls in [from, to), if any. */
static int walk_recording(struct reel_store *s, struct walk *w, const struct reel_recording *rec,
                          size_t ri, int64_t from, int64_t to, struct reel_err *err)
{
    uint32_t n = rec->frames;
    if (n == 0)
        return 0;
    int64_t media;
    int r = decode_rec(w, rec, ri, &media, err);
    if (r < 0)
        return r;
    const struct reel_frame_info *f = w->frames[ri];
    if (!f[0].key)
        return reel_err_set(err, EBADMSG, "recording %lld does not start with a key frame",
                            (long long)rec->id);
    int64_t wall = rec->wall_duration90k, start = rec->start90k;
    /* Wall time of the start of frame i (mo = media offset of frame i). */
#define WALL(mo) (media > 0 ? start + scale((mo), wall, media) : start)
    int64_t end = start + wall;
    bool first = w->nsegs == 0;
    if (end <= from || start >= to)
        return 0;

    uint32_t k = 0, j = 0;
    int64_t mo = 0, mo_k = 0;
    /* k: last key frame starting at or before from (only for the first
     * segment); j: last frame starting before to. */
    for (uint32_t i = 0; i < n; i++) {
        int64_t wi = WALL(mo);
        if (wi >= to)
            break;
        if (first && f[i].key && wi <= from) {
            k = i;
            mo_k = mo;
        }
        j = i;
        mo += f[i].duration90k;
    }
    int64_t mo_end = mo;                    /* media offset of the end of frame j */
    int64_t w_k = WALL(mo_k), w_end = j + 1 < n ? WALL(mo_end) : end;
#undef WALL

    int e = entry_for(s, w, rec->sample_entry_id, err);
    if (e < 0)
        return e;
    uint64_t off = 0;
    for (uint32_t i = 0; i < k; i++)
        off += f[i].size;
    w->segs[w->nsegs++] = (struct reel_mp4_seg){
        .path = rec->path, .frames = f + k, .nframes = j - k + 1, .file_offset = off,
        .entry = (uint32_t)e };
    set_time(w, w_k, wall, media);
    if (first) {
        w->first_wall = w_k;
        w->trim_start = from > w_k && wall > 0 ? scale(from - w_k, media, wall) : 0;
    }
    w->trim_end = to < w_end && wall > 0 ? scale(w_end - to, media, wall) : 0;
    w->last_end = w_end;
    return 0;
}

/* Adds the audio frames of recording rec that overlap [from, to) (wall
 * time) as one segment. Every audio frame is a sync sample, so the segment
 * starts with the frame playing at `from`; w->first_wall is the wall time
 * of the first frame taken, w->trim_start the media time from there to
 * `from` when it starts before. */
static int walk_audio(struct reel_store *s, struct walk *w, const struct reel_recording *rec, size_t ri,
                      int64_t from, int64_t to, struct reel_err *err)
{
    if (rec->frames == 0 || rec->start90k >= to || rec->start90k + rec->wall_duration90k <= from)
        return 0;
    int64_t media;
    int r = decode_rec(w, rec, ri, &media, err);
    if (r < 0)
        return r;
    const struct reel_frame_info *f = w->frames[ri];
    int64_t wall = rec->wall_duration90k, start = rec->start90k, end = start + wall;
    uint32_t n = rec->frames, k = n, j = 0;
    int64_t mo = 0, mo_k = 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t wi = media > 0 ? start + scale(mo, wall, media) : start;
        mo += f[i].duration90k;
        int64_t we = i + 1 < n && media > 0 ? start + scale(mo, wall, media) : end;
        if (wi >= to)
            break;
        if (we <= from)
            continue;
        if (k == n) {
            k = i;
            mo_k = mo - f[i].duration90k;
        }
        j = i;
    }
    if (k == n)
        return 0;
    int e = entry_for(s, w, rec->sample_entry_id, err);
    if (e < 0)
        return e;
    uint64_t off = 0;
    for (uint32_t i = 0; i < k; i++)
        off += f[i].size;
    int64_t w_k = media > 0 ? start + scale(mo_k, wall, media) : start;
    if (w->nsegs == 0) {
        w->first_wall = w_k;
        w->trim_start = from > w_k && wall > 0 ? scale(from - w_k, media, wall) : 0;
    }
    w->segs[w->nsegs++] = (struct reel_mp4_seg){
        .path = rec->path, .frames = f + k, .nframes = j - k + 1, .file_offset = off,
        .entry = (uint32_t)e };
    set_time(w, w_k, wall, media);
    return 0;
}

/* The id of camera_id's "~audio" row, or 0 when it has none. */
static int audio_row(struct reel_store *s, int64_t camera_id, int64_t *ret_id, struct reel_err *err)
{
    struct reel_camera *cams = NULL;
    size_t n = 0;
    int r = reel_store_camera_list(s, &cams, &n, err);
    if (r < 0)
        return r;
    *ret_id = 0;
    for (size_t i = 0; i < n; i++)
        if (cams[i].parent_id == camera_id && cams[i].kind == REEL_STREAM_AUDIO)
            *ret_id = cams[i].id;
    free(cams);
    return 0;
}

/* Appends an edit, merged into the previous one when both are silence or
 * when it continues the previous one's media within MERGE90K. */
#define MERGE90K 45
static void add_edit(struct reel_mp4_edit *e, size_t *n, int64_t dur, int64_t media)
{
    if (*n > 0) {
        struct reel_mp4_edit *p = &e[*n - 1];
        if ((p->media90k < 0 && media < 0) ||
            (p->media90k >= 0 && media >= 0 && llabs(p->media90k + p->dur90k - media) <= MERGE90K)) {
            p->dur90k += dur;
            return;
        }
    }
    e[(*n)++] = (struct reel_mp4_edit){ dur, media };
}

/* The audio track's edit list: each shown stretch of each video segment is
 * mapped through wall time to the audio playing then (or silence where
 * there is none), so that audio and video are re-aligned at every segment
 * (a gap squeezed out of the video is squeezed out of the audio too). */
static int audio_edits(const struct walk *vw, int64_t video_edit, const struct walk *aw,
                       struct reel_mp4_edit **ret, size_t *ret_n, struct reel_err *err)
{
    size_t cap = 2 * (vw->nsegs + aw->nsegs) + 2, n = 0;
    struct reel_mp4_edit *e = calloc(cap, sizeof(*e));
    int64_t *amedia = calloc(aw->nsegs, sizeof(*amedia));   /* media offset of each audio segment */
    if (!e || !amedia) {
        free(e);
        free(amedia);
        return reel_err_set(err, ENOMEM, "out of memory for %zu audio edits", cap);
    }
    for (size_t j = 1; j < aw->nsegs; j++)
        amedia[j] = amedia[j - 1] + aw->times[j - 1].dur;
    int64_t pstart = -vw->trim_start;       /* presentation time of the segment's first frame */
    size_t j = 0;
    for (size_t s = 0; s < vw->nsegs && n + 2 <= cap; s++) {
        const struct seg_time *v = &vw->times[s];
        int64_t p = pstart > 0 ? pstart : 0;
        int64_t pend = pstart + v->dur < video_edit ? pstart + v->dur : video_edit;
        while (p < pend && n + 2 <= cap) {
            int64_t wall = v->wall0 + (v->media > 0 ? scale(p - pstart, v->wall, v->media) : 0);
            /* Skip audio segments that end at or before this instant. */
            while (j < aw->nsegs) {
                const struct seg_time *a = &aw->times[j];
                int64_t aend = a->wall0 + (a->media > 0 ? scale(a->dur, a->wall, a->media) : 0);
                if (aend > wall)
                    break;
                j++;
            }
            int64_t len = pend - p;
            if (j < aw->nsegs && aw->times[j].wall0 <= wall) {
                const struct seg_time *a = &aw->times[j];
                int64_t off = a->wall > 0 ? scale(wall - a->wall0, a->media, a->wall) : 0;
                if (off >= a->dur) {
                    j++;
                    continue;
                }
                if (len > a->dur - off)
                    len = a->dur - off;
                add_edit(e, &n, len, amedia[j] + off);
            } else {
                if (j < aw->nsegs) {
                    int64_t until = aw->times[j].wall0 - wall;
                    if (v->wall > 0)
                        until = scale(until, v->media, v->wall);
                    if (until < 1)
                        until = 1;
                    if (len > until)
                        len = until;
                }
                add_edit(e, &n, len, -1);
            }
            p += len;
        }
        pstart += v->dur;
    }
    free(amedia);
    /* Silence only: no audio. */
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any |= e[i].media90k >= 0;
    if (!any)
        n = 0;
    *ret = e;
    *ret_n = n;
    return 0;
}

/* The audio of [vstart, vend) (wall time; vstart is the video's first shown
 * instant) from the camera's "~audio" row, into *a (segments in aw). 0 with
 * a->nsegs == 0 when there is none. */
static int audio_for(struct reel_store *s, int64_t camera_id, int64_t vstart, int64_t vend,
                     const struct walk *vw, int64_t video_edit, struct walk *aw, struct reel_recording **recs,
                     size_t *nrecs, struct reel_mp4_edit **edits, struct reel_mp4_audio *a, struct reel_err *err)
{
    char t1[48], t2[48];
    int64_t aid;
    int r = audio_row(s, camera_id, &aid, err);
    if (r < 0 || aid == 0 || vend <= vstart)
        return r;
    r = reel_store_recordings(s, aid, vstart, vend, recs, nrecs, err);
    if (r < 0)
        return r;
    uint64_t total = 0;
    for (size_t i = 0; i < *nrecs; i++)
        total += (*recs)[i].frames;
    if (total > RANGE_FRAMES_MAX)
        return reel_err_set(err, EFBIG, "camera %lld: %llu audio frames between %s and %s is over the cap "
                            "of %u", (long long)camera_id, (unsigned long long)total,
                            fmt_time(vstart, t1, sizeof(t1)), fmt_time(vend, t2, sizeof(t2)),
                            RANGE_FRAMES_MAX);
    if (walk_alloc(aw, *nrecs) < 0)
        return reel_err_set(err, ENOMEM, "camera %lld: out of memory for %zu audio recordings",
                            (long long)camera_id, *nrecs);
    for (size_t i = 0; i < *nrecs; i++) {
        r = walk_audio(s, aw, &(*recs)[i], i, vstart, vend, err);
        if (r < 0)
            return r;
    }
    if (aw->nsegs == 0)
        return 0;
    size_t nedits = 0;
    r = audio_edits(vw, video_edit, aw, edits, &nedits, err);
    if (r < 0 || nedits == 0)
        return r;                           /* no audio where the video is shown */
    *a = (struct reel_mp4_audio){
        .entries = aw->mp4ents, .nentries = aw->nents, .segs = aw->segs, .nsegs = aw->nsegs,
        .edits = *edits, .nedits = nedits };
    return 0;
}

int reel_mp4_for_range(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                       struct reel_mp4 **ret, struct reel_err *err)
{
    return reel_mp4_for_range_opts(s, camera_id, from90k, to90k, NULL, ret, err);
}

int reel_mp4_for_range_opts(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                            const struct reel_mp4_range_opts *o, struct reel_mp4 **ret,
                            struct reel_err *err)
{
    char t1[48], t2[48];
    if (to90k <= from90k)
        return reel_err_set(err, EINVAL, "camera %lld: empty range %s to %s", (long long)camera_id,
                            fmt_time(from90k, t1, sizeof(t1)), fmt_time(to90k, t2, sizeof(t2)));
    int64_t span;
    if (__builtin_sub_overflow(to90k, from90k, &span) || span > REEL_MP4_RANGE_MAX90K)
        return reel_err_set(err, EFBIG, "camera %lld: range %s to %s is longer than 7 days",
                            (long long)camera_id, fmt_time(from90k, t1, sizeof(t1)),
                            fmt_time(to90k, t2, sizeof(t2)));

    struct reel_recording *recs = NULL;
    size_t nrecs = 0;
    int r = reel_store_recordings(s, camera_id, from90k, to90k, &recs, &nrecs, err);
    if (r < 0)
        return r;
    struct walk w = { 0 }, aw = { 0 };
    struct reel_recording *arecs = NULL;
    size_t narecs = 0;
    struct reel_mp4_audio audio = { 0 };
    struct reel_mp4_edit *edits = NULL;
    uint64_t total = 0;
    for (size_t i = 0; i < nrecs; i++)
        total += recs[i].frames;
    if (total > RANGE_FRAMES_MAX) {
        r = reel_err_set(err, EFBIG, "camera %lld: %llu frames between %s and %s is over the cap of %u",
                         (long long)camera_id, (unsigned long long)total,
                         fmt_time(from90k, t1, sizeof(t1)), fmt_time(to90k, t2, sizeof(t2)),
                         RANGE_FRAMES_MAX);
        goto out;
    }
    if (walk_alloc(&w, nrecs) < 0) {
        r = reel_err_set(err, ENOMEM, "camera %lld: out of memory for %zu recordings",
                         (long long)camera_id, nrecs);
        goto out;
    }
    for (size_t i = 0; i < nrecs; i++) {
        r = walk_recording(s, &w, &recs[i], i, from90k, to90k, err);
        if (r < 0)
            goto out;
    }
    if (w.nsegs == 0) {
        r = reel_err_set(err, ENOENT, "no footage for camera %lld between %s and %s",
                         (long long)camera_id, fmt_time(from90k, t1, sizeof(t1)),
                         fmt_time(to90k, t2, sizeof(t2)));
        goto out;
    }
    /* Rounding may make the trims meet; keep at least one tick. */
    int64_t media = 0;
    for (size_t i = 0; i < w.nsegs; i++)
        for (uint32_t k = 0; k < w.segs[i].nframes; k++)
            media += w.segs[i].frames[k].duration90k;
    if (media > 0) {
        if (w.trim_start >= media)
            w.trim_start = media - 1;
        if (w.trim_end > media - w.trim_start - 1)
            w.trim_end = media - w.trim_start - 1;
    }
    struct reel_mp4_opts opts = {
        .trim_start90k = w.trim_start,
        .trim_end90k = w.trim_end,
        .creation_unix = (from90k > w.first_wall ? from90k : w.first_wall) / 90000,
    };
    if (o && o->audio) {
        /* The video is shown from vstart (from, or its first key frame
         * when that is later) to vend (to, or the end of its last frame). */
        int64_t vstart = from90k > w.first_wall ? from90k : w.first_wall;
        int64_t vend = to90k < w.last_end ? to90k : w.last_end;
        r = audio_for(s, camera_id, vstart, vend, &w, media - w.trim_start - w.trim_end, &aw, &arecs,
                      &narecs, &edits, &audio, err);
        if (r < 0)
            goto out;
        if (audio.nsegs > 0)
            opts.audio = &audio;
    }
    r = reel_mp4_build(ret, w.mp4ents, w.nents, w.segs, w.nsegs, &opts, err);
    if (r == -EMSGSIZE && opts.audio) {
        char t1b[48], t2b[48];
        r = reel_err_set(err, EFBIG, "camera %lld: the MP4 header of %s to %s with audio is over the cap; "
                         "ask for a shorter range or without audio", (long long)camera_id,
                         fmt_time(from90k, t1b, sizeof(t1b)), fmt_time(to90k, t2b, sizeof(t2b)));
    }
out:
    walk_free(&w, nrecs);
    walk_free(&aw, narecs);
    reel_recordings_free(recs, nrecs);
    reel_recordings_free(arecs, narecs);
    free(edits);
    return r;
}

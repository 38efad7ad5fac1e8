/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A virtual fast-start MP4 (ftyp, moov, then mdat) built from stored
 * recordings: the moov is generated in memory from the frame index; the mdat
 * payload is read from the sample files as it is read out, never copied into
 * a new file. The same object serves `reel export` (read it all to a file) and
 * HTTP playback (byte ranges).
 */
#ifndef REEL_MP4_MP4_H
#define REEL_MP4_MP4_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/log.h"
#include "store/index.h"

/* One contiguous run of frames from one sample file. */
struct reel_mp4_seg {
    const char *path;                       /* sample file; opened by reel_mp4_build */
    const struct reel_frame_info *frames;   /* the frames included, in order; frames[0].key */
    uint32_t nframes;
    uint64_t file_offset;                   /* byte offset of frames[0] in the file */
    uint32_t entry;                         /* index into reel_mp4_build's entries */
};

struct reel_mp4_entry {
    const uint8_t *box;                     /* whole 'avc1'/'hvc1' sample entry */
    size_t len;
    uint16_t width, height;
};

/* The optional second track: audio recorded as the camera's "~audio" row
 * (docs/mp4.md). Its segments' frames are audio access units (all key); their
 * durations are 90 kHz, converted to the track's timescale (the sample rate
 * of the first entry, read from the AudioSampleEntry) by cumulative rounding,
 * so that durations rounded from an exact sample count come back exact. */
/* One entry of the audio track's edit list: dur90k of presentation (the
 * movie's 90 kHz clock) showing the audio from media90k (audio media time
 * from the track's first sample, 90 kHz), or silence when media90k is -1. */
struct reel_mp4_edit {
    int64_t dur90k;
    int64_t media90k;
};

struct reel_mp4_audio {
    const struct reel_mp4_entry *entries;   /* whole 'mp4a'/'Opus'/'ulaw'/'alaw' boxes; width/height unused */
    size_t nentries;
    const struct reel_mp4_seg *segs;
    size_t nsegs;
    /* The edit list, when nedits > 0: presentation from the video's first
     * shown instant on; cut where it passes the video's end or the audio's.
     * Otherwise one edit made from these two (at most one non-zero): */
    const struct reel_mp4_edit *edits;
    size_t nedits;
    int64_t delay90k;        /* the audio starts this long after the video's first shown instant */
    int64_t trim_start90k;   /* audio media time to skip at the start */
};

struct reel_mp4_opts {
    int64_t trim_start90k;   /* media time to skip at the start (edit list) */
    int64_t trim_end90k;     /* media time to drop at the end (edit list) */
    int64_t creation_unix;   /* seconds since 1970, for mvhd/tkhd/mdhd */
    /* NULL: video only (the file is then exactly what it was before audio
     * existed). Otherwise a 'soun' track 2, cut to end with the video's
     * edit, its samples interleaved with the video's in mdat by time. */
    const struct reel_mp4_audio *audio;
};

struct reel_mp4;

/* Builds the virtual file. Copies what it needs from segs/entries (they may
 * be freed afterwards) and opens each sample file read-only. -EINVAL for an
 * empty or inconsistent input, -ENOENT/-EIO for a missing file, -EFBIG when
 * 32-bit fields would overflow and 64-bit ones are not handled, all with err.
 * *ret owned by the caller: reel_mp4_free(). */
int reel_mp4_build(struct reel_mp4 **ret, const struct reel_mp4_entry *entries, size_t nentries,
                   const struct reel_mp4_seg *segs, size_t nsegs,
                   const struct reel_mp4_opts *opts, struct reel_err *err);
uint64_t reel_mp4_size(const struct reel_mp4 *m);
/* The bytes the object holds in memory (header, parts table, paths): what a
 * live response costs until reel_mp4_free(). */
size_t reel_mp4_mem(const struct reel_mp4 *m);
/* Reads len bytes at off into buf. Returns bytes read (short only at EOF) or
 * a negative errno (a sample file shorter than the index says: -EIO). */
ssize_t reel_mp4_read(const struct reel_mp4 *m, uint64_t off, void *buf, size_t len);
/* Sum of sample durations minus trims, 90 kHz. */
int64_t reel_mp4_duration90k(const struct reel_mp4 *m);
/* Video samples in the file (including those before the edit list's start). */
uint32_t reel_mp4_frames(const struct reel_mp4 *m);
/* The audio track's duration (its edit list, from the video's first shown
 * instant, silence before the audio starts included), 90 kHz; 0 without
 * audio. */
int64_t reel_mp4_audio_duration90k(const struct reel_mp4 *m);
void reel_mp4_free(struct reel_mp4 *m);

#endif

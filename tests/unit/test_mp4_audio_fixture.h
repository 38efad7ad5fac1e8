/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A data directory with cameras that record audio (see
 * test_mp4_audio_fixture.c): used by test_mp4_audio.c and by the browser's
 * audio test through the mp4-audio-fixture program.
 */
#ifndef REEL_TEST_MP4_AUDIO_FIXTURE_H
#define REEL_TEST_MP4_AUDIO_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP4_AUDIO_FIXTURE_CAMS 6

struct mp4_audio_fixture_cam {
    char name[16];              /* aac, ulaw, alaw, opus, noaudio, gap */
    char codec[48];             /* the audio row's codec string; "" = no audio recorded */
    int64_t video_start90k;     /* wall time of the first video frame */
    int64_t video_end90k;       /* and of the end of the last (the gap camera: after its gap) */
    int64_t audio_offset90k;    /* audio start - video start (negative: before) */
};

/* Makes datadir (must not exist) with ffmpeg, using workdir (exists) for
 * the clips; the camera rows disabled when asked. 0, or -1 with msg. */
int mp4_audio_fixture(const char *ffmpeg, const char *datadir, const char *workdir, bool disabled,
                      struct mp4_audio_fixture_cam cams[MP4_AUDIO_FIXTURE_CAMS], char *msg, size_t cap);

#endif
